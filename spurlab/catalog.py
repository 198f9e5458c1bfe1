"""The named datasets: which exist, their class names, fetching their files, loading them.

The one registry of datasets by name: the embedded ``'shapes'`` and scikit-learn's ``'digits'``
(:mod:`spurlab.datasets`), MNIST, Fashion-MNIST and CIFAR-10 through torchvision
(:mod:`spurlab.real_datasets`), CelebA (:mod:`spurlab.celeba`) and Waterbirds, whose files are
placed by hand (:mod:`spurlab.waterbirds`).
"""

from __future__ import annotations

import torch

from ._validate import check_choice, check_int, check_seed
from .celeba import load_celeba
from .datasets import SHAPE_CLASSES, default_root, load_digits, make_shapes, train_test_split
from .real_datasets import load_real
from .waterbirds import load_waterbirds, waterbirds_folder

DATASETS = ("shapes", "digits", "mnist", "fashion_mnist", "cifar10")

# class names as the loaders return them (torchvision's MNIST names "0 - zero" become "zero")
CLASS_NAMES = {
    "shapes": SHAPE_CLASSES,
    "digits": tuple(str(k) for k in range(10)),
    "mnist": ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"),
    "fashion_mnist": ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                      "Sneaker", "Bag", "Ankle boot"),
    "cifar10": ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
                "truck"),
    "celeba": ("female", "male"),
    "waterbirds": ("landbird", "waterbird"),
}


def class_names(name):
    """Class names of a named dataset, in label order, without loading it.

    Examples
    --------
    >>> class_names("cifar10")[0], class_names("shapes")[4]
    ('airplane', 'ring')
    """
    check_choice("dataset", name, tuple(CLASS_NAMES))
    return CLASS_NAMES[name]


def fetch(name, *, root=None):
    """Make sure a named dataset's files are on disk, downloading them once if not.

    A no-op for the datasets that need no files (``'shapes'``, ``'digits'``). The torchvision
    datasets keep their checksum checks; CelebA's Google Drive download often fails on quota, and
    the error then lists the manual steps. Waterbirds has no download at all (its public links
    are broken): ``fetch`` only checks the files placed by hand (``metadata.csv`` and every
    image it names) and otherwise raises the manual steps (see :mod:`spurlab.waterbirds`).
    Returns the data folder (``None`` for no-op datasets).

    Parameters
    ----------
    name : {'shapes', 'digits', 'mnist', 'fashion_mnist', 'cifar10', 'celeba', 'waterbirds'}
    root : str, optional
        Data folder (default ``$SPURLAB_DATA``, else ``~/.spurlab/data``).

    Raises
    ------
    ConnectionError
        Files missing and the download failed (no network, quota): says where to put them.
    FileNotFoundError
        Waterbirds' files missing: says what is missing and the manual steps.

    Examples
    --------
    >>> fetch("shapes") is None
    True
    """
    check_choice("dataset", name, DATASETS + ("celeba", "waterbirds"))
    if name in ("shapes", "digits"):
        return None
    root = root or default_root()
    if name == "waterbirds":
        waterbirds_folder(root)              # never downloads: checks the hand-placed files
    elif name == "celeba":
        load_celeba(root, download=True, size=8, counts=(1, 1, 1), max_eval=1)
    else:
        load_dataset(name, n_train=60, n_test=60, size=None, root=root, download=True)
    return root


def load_dataset(name="shapes", *, n_train=6000, n_test=1800, size=16, seed=0, root=None,
                 download=False):
    """Load a named dataset as ``(train, test)``.

    Parameters
    ----------
    name : {'shapes', 'digits', 'mnist', 'fashion_mnist', 'cifar10', 'waterbirds'}
        ``'shapes'`` (embedded, generated) and ``'digits'`` (scikit-learn, 1,797 images; a
        stratified 75/25 split, ``n_train``/``n_test`` ignored) need no download. The others
        come through torchvision (see :func:`spurlab.real_datasets.load_real`): files under
        ``root``, ``download=True`` to fetch them. ``'waterbirds'``: the official train and
        test splits from files placed by hand under ``root`` (no download; see
        :mod:`spurlab.waterbirds`), ``meta["groups"]`` = ``2 * bird + water``.
    n_train, n_test : int
        Sizes for generated data; random subsets of the real datasets (``None``: all; for
        Waterbirds, subsets in which every group keeps its share).
    size : int
        Image side in pixels (real datasets are resized to it; ``None`` keeps their own, or
        224 for Waterbirds, whose images differ in size).
    seed : int
        Same seed, same data.
    root : str, optional
        Data folder of the torchvision datasets and Waterbirds.
    download : bool
        Download missing torchvision files (Waterbirds has nothing to download).

    Examples
    --------
    >>> train, test = load_dataset("shapes", n_train=600, n_test=120)
    >>> len(train), len(test)
    (600, 120)
    """
    check_choice("dataset", name, DATASETS + ("waterbirds",))
    seed = check_seed(seed)
    if name == "waterbirds":
        sizes = {part: None if n is None else check_int(arg, n, low=1)
                 for part, arg, n in (("train", "n_train", n_train), ("test", "n_test", n_test))}
        train, _, test = load_waterbirds(root, size=224 if size is None else size,
                                         split_sizes=sizes, seed=seed, val=False)
        return train, test
    if name not in ("shapes", "digits"):
        return load_real(name, root=root, download=download, n_train=n_train, n_test=n_test,
                         size=size, seed=seed)
    size = 16 if size is None else size
    if name == "shapes":
        n_train = check_int("n_train", n_train, low=60)
        n_test = check_int("n_test", n_test, low=60)
        ds = make_shapes(n_train + n_test, size=size, seed=seed)
        idx = torch.arange(len(ds))
        return ds.subset(idx[:n_train]), ds.subset(idx[n_train:])
    return train_test_split(load_digits(size), 0.25, seed=seed)


__all__ = ["CLASS_NAMES", "DATASETS", "class_names", "fetch", "load_dataset"]
