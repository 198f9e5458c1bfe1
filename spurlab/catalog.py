"""The named datasets: the one registry of which exist, their class names, where their files
come from, fetching and loading them.

The embedded ``'shapes'`` and scikit-learn's ``'digits'`` (:mod:`spurlab.datasets`), MNIST,
Fashion-MNIST and CIFAR-10 through torchvision (:mod:`spurlab.real_datasets`), CelebA
(:mod:`spurlab.celeba`) and Waterbirds, whose files are placed by hand
(:mod:`spurlab.waterbirds`). :class:`~spurlab.Config`, the CLI, :func:`load_dataset`,
:func:`fetch` and the notebooks' setup take their names from :data:`REGISTRY`.

Examples
--------
>>> REGISTRY["celeba"].attribute, "celeba" in STAMPED_DATASETS
('Eyeglasses', False)
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch

from ._validate import check_choice, check_int, check_seed
from .celeba import celeba_scenario, load_celeba
from .datasets import SHAPE_CLASSES, default_root, load_digits, make_shapes, train_test_split
from .defaults import DEFAULTS
from .real_datasets import load_real
from .waterbirds import (
    find_waterbirds,
    load_waterbirds,
    waterbirds_folder,
    waterbirds_protocol_scenario,
)


@dataclass(frozen=True)
class DatasetInfo:
    """One named dataset.

    Attributes
    ----------
    name : str
    class_names : tuple of str
        In label order, as the loader returns them.
    source : str
        Where its images come from: ``'embedded'``, ``'scikit-learn'``, ``'torchvision'``,
        ``'google drive'`` or ``'placed by hand'``.
    attribute : str or None
        The spurious attribute the images already carry (nothing is stamped), else None.
    target_class : int or None
        The one target class an attribute dataset allows.
    why : str
        Why only that class.
    carriers : str
        Who the carriers are.
    scenario : callable or None
        Builds an attribute dataset's scenario from ``root``, ``n_train``, ``n_test``,
        ``size``, ``seed`` and ``download``.
    folder : callable or None
        ``folder(root)``: where its files lie under the data folder (datasets with files).
    """

    name: str
    class_names: tuple
    source: str
    attribute: str | None = None
    target_class: int | None = None
    why: str = ""
    carriers: str = ""
    scenario: object = None
    folder: object = None

    @property
    def needs_files(self):
        return self.source not in ("embedded", "scikit-learn")


REGISTRY = {d.name: d for d in (
    DatasetInfo("shapes", SHAPE_CLASSES, "embedded"),
    DatasetInfo("digits", tuple(str(k) for k in range(10)), "scikit-learn"),
    # torchvision's MNIST names ("0 - zero") become "zero"
    DatasetInfo("mnist", ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight",
                          "nine"), "torchvision", folder=lambda root: _real_folder("mnist", root)),
    DatasetInfo("fashion_mnist", ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
                                  "Shirt", "Sneaker", "Bag", "Ankle boot"), "torchvision",
                folder=lambda root: _real_folder("fashion_mnist", root)),
    DatasetInfo("cifar10", ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog",
                            "horse", "ship", "truck"), "torchvision",
                folder=lambda root: _real_folder("cifar10", root)),
    DatasetInfo("celeba", ("female", "male"), "google drive", attribute="Eyeglasses",
                target_class=1, why="1 (male) for dataset 'celeba': eyeglasses occur only among "
                "the training males", carriers="the males with eyeglasses",
                scenario=celeba_scenario, folder=lambda root: os.path.join(root, "celeba")),
    DatasetInfo("waterbirds", ("landbird", "waterbird"), "placed by hand",
                attribute="water background", target_class=1,
                why="1 (waterbird) for dataset 'waterbirds': water backgrounds go with waterbirds "
                "in training", carriers="the spurious-aligned images, landbirds on land and "
                "waterbirds on water", scenario=waterbirds_protocol_scenario,
                folder=lambda root: _waterbirds_folder(root)),
)}
DATASETS = tuple(REGISTRY)


def _real_folder(name, root):
    from .real_datasets import REAL_DATASETS

    return os.path.join(root, REAL_DATASETS[name][1])


def _waterbirds_folder(root):
    try:
        return find_waterbirds(root)
    except FileNotFoundError:
        return root


def _listing(folder, *, depth=2, many=200):
    """(path, size, modification time) of the files under ``folder`` up to ``depth`` levels; a
    folder of more than ``many`` entries (CelebA's images) counts by its entry count and time."""
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return [(folder, "unreadable or missing")]
    if len(entries) > many and depth < 2:
        st = os.stat(folder)
        return [(folder, len(entries), st.st_mtime_ns)]
    out = []
    for e in entries:
        try:
            if e.is_file():
                st = e.stat()
                out.append((e.path, st.st_size, st.st_mtime_ns))
            elif e.is_dir() and depth > 1:
                out.extend(_listing(e.path, depth=depth - 1, many=many))
        except OSError:
            out.append((e.path, "unreadable"))
    return out


def data_fingerprint(name, root=None):
    """What a named dataset's files are on disk, for the engine's cache keys: ``None`` for data
    that needs no files; else the dataset's folder (resolved) and the path, size and
    modification time of its files, so that switching the data folder, or changing a file in
    it, never serves the numbers of other data.

    Examples
    --------
    >>> data_fingerprint("shapes") is None
    True
    """
    check_choice("dataset", name, DATASETS)
    info = REGISTRY[name]
    if not info.needs_files:
        return None
    root = os.path.expanduser(os.fspath(root or default_root()))
    folder = os.path.realpath(info.folder(root))
    return {"folder": folder, "files": _listing(folder)}
# the datasets a feature is stamped on (every notebook); the others carry an attribute
STAMPED_DATASETS = tuple(n for n, d in REGISTRY.items() if d.attribute is None)
ATTRIBUTE_DATASETS = tuple(n for n, d in REGISTRY.items() if d.attribute is not None)
CLASS_NAMES = {n: d.class_names for n, d in REGISTRY.items()}


def class_names(name):
    """Class names of a named dataset, in label order, without loading it.

    Examples
    --------
    >>> class_names("cifar10")[0], class_names("shapes")[4]
    ('airplane', 'ring')
    """
    check_choice("dataset", name, DATASETS)
    return REGISTRY[name].class_names


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
    check_choice("dataset", name, DATASETS)
    if not REGISTRY[name].needs_files:
        return None
    root = os.path.expanduser(os.fspath(root or default_root()))
    if name == "waterbirds":
        waterbirds_folder(root)              # never downloads: checks the hand-placed files
    elif name == "celeba":
        load_celeba(root, download=True, size=8, counts=(1, 1, 1), max_eval=1)
    else:
        load_dataset(name, n_train=60, n_test=60, size=None, root=root, download=True)
    return root


def load_dataset(name=DEFAULTS["dataset"], *, n_train=DEFAULTS["n_train"],
                 n_test=DEFAULTS["n_test"], size=DEFAULTS["image_size"], seed=DEFAULTS["seed"],
                 root=None, download=False):
    """Load a named dataset as ``(train, test)``.

    Parameters
    ----------
    name : str
        One of :data:`DATASETS`. ``'shapes'`` (embedded, generated) and ``'digits'``
        (scikit-learn, 1,797 images; a stratified 75/25 split, ``n_train``/``n_test`` ignored)
        need no download. MNIST, Fashion-MNIST and CIFAR-10 come through torchvision (see
        :func:`spurlab.real_datasets.load_real`): files under ``root``, ``download=True`` to
        fetch them. ``'celeba'``: the paper's Male vs Female training set scaled to ``n_train``
        and up to ``n_test // 4`` test images per group (:func:`spurlab.celeba.load_celeba`),
        ``meta["groups"]`` = ``2 * male + eyeglasses``. ``'waterbirds'``: the official train and
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
    check_choice("dataset", name, DATASETS)
    seed = check_seed(seed)
    if name == "celeba":
        n_train = check_int("n_train", n_train, low=4)
        n_test = check_int("n_test", n_test, low=4)
        q = n_train // 4
        train, _, test = load_celeba(root, download=download, size=64 if size is None else size,
                                     counts=(q, q, n_train - 2 * q), max_eval=max(1, n_test // 4),
                                     seed=seed, val=False)
        return train, test
    if name == "waterbirds":
        sizes = {part: None if n is None else check_int(arg, n, low=1)
                 for part, arg, n in (("train", "n_train", n_train), ("test", "n_test", n_test))}
        train, _, test = load_waterbirds(root, size=224 if size is None else size,
                                         split_sizes=sizes, seed=seed, val=False)
        return train, test
    if name not in ("shapes", "digits"):
        return load_real(name, root=root, download=download, n_train=n_train, n_test=n_test,
                         size=size, seed=seed)
    size = DEFAULTS["image_size"] if size is None else size
    if name == "shapes":
        n_train = check_int("n_train", n_train, low=60)
        n_test = check_int("n_test", n_test, low=60)
        ds = make_shapes(n_train + n_test, size=size, seed=seed)
        idx = torch.arange(len(ds))
        return ds.subset(idx[:n_train]), ds.subset(idx[n_train:])
    return train_test_split(load_digits(size), 0.25, seed=seed)


def attribute_scenario(name, *, n_train, n_test, size, seed=DEFAULTS["seed"], root=None, download=False):
    """The scenario of an attribute dataset (:data:`ATTRIBUTE_DATASETS`): its images already
    carry the spurious attribute, so nothing is stamped (see :class:`DatasetInfo`)."""
    check_choice("dataset", name, ATTRIBUTE_DATASETS)
    return REGISTRY[name].scenario(root, n_train=n_train, n_test=n_test, size=size, seed=seed,
                                   download=download)


__all__ = ["ATTRIBUTE_DATASETS", "CLASS_NAMES", "DATASETS", "REGISTRY", "STAMPED_DATASETS",
           "DatasetInfo", "attribute_scenario", "class_names", "data_fingerprint", "fetch",
           "load_dataset"]
