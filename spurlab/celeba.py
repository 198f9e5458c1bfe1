"""CelebA, Male vs Female, spurious attribute Eyeglasses: the paper's split and loader.

The split follows the reference code (JEKimLab/ICLR2025_SpuriousDataPruning): from the official
**train** partition, in file order, the first 2,500 males without glasses, the first 2,500 males
with glasses and the first 5,000 females without glasses (10,000 training images, no female with
glasses); the train partition's females with glasses move to validation and test, half each
(the reference flips a coin per image; we shuffle with the seed and split exactly in half). The
official validation and test partitions are kept whole. Label: 1 = male. Groups:
``2 * male + eyeglasses`` (0 female, 1 female with glasses, 2 male, 3 male with glasses). The
headline metric is the test accuracy of group 1, females with glasses.
"""

from __future__ import annotations

import os

import numpy as np
import torch

from ._validate import check_choice, check_int, check_seed
from .datasets import ImageSet, as_float, default_root
from .defaults import DEFAULTS

PAPER_COUNTS = (2500, 2500, 5000)  # males w/o glasses, males with glasses, females w/o glasses
GROUP_NAMES = ("female", "female+glasses", "male", "male+glasses")
CELEBA_FILES = ("list_attr_celeba.txt", "list_eval_partition.txt")
MANUAL_STEPS = (
    "CelebA's download from Google Drive often fails on its quota. Download by hand from "
    "https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html (Align&Cropped images): "
    "img_align_celeba.zip, list_attr_celeba.txt, list_eval_partition.txt, identity_CelebA.txt, "
    "list_bbox_celeba.txt, list_landmarks_align_celeba.txt; put them in {folder} and unzip the "
    "images there (giving {folder}/img_align_celeba/000001.jpg ...)."
)


def celeba_split(male, glasses, partition, *, counts=PAPER_COUNTS, seed=DEFAULTS["seed"]):
    """Indices of the paper's train / val / test sets.

    Parameters
    ----------
    male, glasses : bool array-like (N,)
        Attributes in file order.
    partition : int array-like (N,)
        Official partition: 0 train, 1 validation, 2 test.
    counts : (int, int, int)
        Training images taken from the train partition, in file order: males without glasses,
        males with glasses, females without glasses.
    seed : int
        Seeds the val/test split of the train partition's females with glasses.

    Returns
    -------
    dict with 'train', 'val', 'test': sorted int64 index arrays.

    Examples
    --------
    >>> m = [1, 1, 1, 0, 0, 0, 0, 1]; g = [0, 1, 0, 0, 1, 1, 0, 0]; p = [0, 0, 0, 0, 0, 0, 2, 1]
    >>> s = celeba_split(m, g, p, counts=(1, 1, 1))
    >>> s["train"].tolist(), sorted(s["val"].tolist() + s["test"].tolist())
    ([0, 1, 3], [4, 5, 6, 7])
    """
    male = np.asarray(male).astype(bool)
    glasses = np.asarray(glasses).astype(bool)
    partition = np.asarray(partition).astype(np.int64)
    if not (male.shape == glasses.shape == partition.shape) or male.ndim != 1:
        raise ValueError("male, glasses and partition must be 1-D arrays of equal length")
    counts = [check_int(f"counts[{i}]", c, low=0) for i, c in enumerate(counts)]
    seed = check_seed(seed)
    tr = partition == 0
    picks = []
    for want, mask in zip(counts, (male & ~glasses, male & glasses, ~male & ~glasses)):
        idx = np.flatnonzero(tr & mask)
        if len(idx) < want:
            raise ValueError(f"the train partition has only {len(idx)} such images; counts asks "
                             f"for {want}")
        picks.append(idx[:want])
    moved = np.flatnonzero(tr & ~male & glasses)
    moved = moved[np.random.default_rng(seed).permutation(len(moved))]
    half = len(moved) // 2
    val = np.concatenate([np.flatnonzero(partition == 1), moved[:half]])
    test = np.concatenate([np.flatnonzero(partition == 2), moved[half:]])
    return {"train": np.sort(np.concatenate(picks)), "val": np.sort(val), "test": np.sort(test)}


def read_attributes(folder):
    """``(filenames, attr_names, attrs (N, 40) in {0, 1}, partition (N,))`` from CelebA's
    ``list_attr_celeba.txt`` and ``list_eval_partition.txt``."""
    for f in CELEBA_FILES:
        if not os.path.exists(os.path.join(folder, f)):
            raise FileNotFoundError(f"CelebA file {f} not found in {folder}. "
                                    + MANUAL_STEPS.format(folder=folder))
    with open(os.path.join(folder, "list_attr_celeba.txt")) as fh:
        lines = fh.read().splitlines()
    try:
        n = int(lines[0])
        names = lines[1].split()
        rows = [ln.split() for ln in lines[2:2 + n]]
        files = [r[0] for r in rows]
        attrs = np.array([[int(v) for v in r[1:]] for r in rows], dtype=np.int64)
    except (ValueError, IndexError) as exc:
        raise RuntimeError(f"list_attr_celeba.txt in {folder} is corrupt: {exc}") from None
    if attrs.shape != (n, len(names)):
        raise RuntimeError(f"list_attr_celeba.txt in {folder} is corrupt: expected {n} rows of "
                           f"{len(names)} attributes")
    part = {}
    with open(os.path.join(folder, "list_eval_partition.txt")) as fh:
        for ln in fh:
            if ln.strip():
                f, p = ln.split()
                part[f] = int(p)
    missing = [f for f in files if f not in part]
    if missing:
        raise RuntimeError(f"list_eval_partition.txt in {folder} lacks {len(missing)} images "
                           f"(e.g. {missing[0]})")
    return files, names, (attrs > 0).astype(np.int64), np.array([part[f] for f in files])


def _load_images(folder, files, size):
    from PIL import Image

    out = torch.empty(len(files), 3, size, size, dtype=torch.uint8)
    for i, f in enumerate(files):
        path = os.path.join(folder, "img_align_celeba", f)
        if not os.path.exists(path):
            raise FileNotFoundError(f"CelebA image {path} not found. "
                                    + MANUAL_STEPS.format(folder=folder))
        with Image.open(path) as im:
            im = im.convert("RGB")
            w, h = im.size
            c = min(178, w, h)  # the paper: centre crop 178, then resize
            left, top = (w - c) // 2, (h - c) // 2
            im = im.crop((left, top, left + c, top + c)).resize((size, size), Image.BILINEAR)
            out[i] = torch.from_numpy(np.asarray(im, dtype=np.uint8).copy()).permute(2, 0, 1)
    return out


def load_celeba(root=None, *, download=False, size=64, counts=PAPER_COUNTS, max_eval=None,
                seed=DEFAULTS["seed"], dtype="float32", val=True):
    """The paper's CelebA Male/Female sets with Eyeglasses as the spurious attribute.

    Parameters
    ----------
    root : str, optional
        Folder holding ``celeba/`` (torchvision's layout); default ``$SPURLAB_DATA``.
    download : bool
        Try torchvision's download (Google Drive); on failure the error lists manual steps.
    size : int
        Image side after the centre crop of 178 (the paper: 224).
    counts : (int, int, int)
        Training images per group, see :func:`celeba_split` (quick runs use fewer).
    max_eval : int, optional
        At most this many validation and test images *per group* (seeded), for quick runs.
    seed : int
    dtype : {'float32', 'uint8'}
        ``'float32'``: images in [0, 1] like every spurlab dataset. ``'uint8'``: the raw bytes,
        4x less memory (the paper's 10,000 training images at 224 px: 1.5 GB instead of 6.0 GB);
        :func:`spurlab.train` and :func:`spurlab.predict` convert them batch by batch to the
        same floats.
    val : bool
        Load the validation images (``False``: ``val`` is ``None``, e.g. when only train and
        test are used).

    Returns
    -------
    (train, val, test) : ImageSet
        Labels 1 = male; ``meta["groups"]`` holds ``2 * male + eyeglasses`` per image.
    """
    size = check_int("size", size, low=8, high=512)
    check_choice("dtype", dtype, ("float32", "uint8"))
    root = os.path.expanduser(os.fspath(root or default_root()))
    folder = os.path.join(root, "celeba")
    if download and not all(os.path.exists(os.path.join(folder, f)) for f in CELEBA_FILES):
        try:
            import torchvision.datasets as tvd

            tvd.CelebA(root, split="all", target_type="attr", download=True)
        except Exception as exc:  # Google Drive quota, no network, ...
            raise ConnectionError(f"CelebA download failed ({exc}). "
                                  + MANUAL_STEPS.format(folder=folder)) from exc
    files, names, attrs, partition = read_attributes(folder)
    male = attrs[:, names.index("Male")]
    glasses = attrs[:, names.index("Eyeglasses")]
    split = celeba_split(male, glasses, partition, counts=counts, seed=seed)
    rng = np.random.default_rng(seed + 1)
    sets = []
    for part in ("train", "val", "test"):
        if part == "val" and not val:
            sets.append(None)
            continue
        idx = split[part]
        if max_eval is not None and part != "train":
            g = 2 * male[idx] + glasses[idx]
            idx = np.sort(np.concatenate([rng.permutation(idx[g == k])[:max_eval]
                                          for k in range(4)]))
        x = _load_images(folder, [files[i] for i in idx], size)
        x = x if dtype == "uint8" else as_float(x)
        y = torch.as_tensor(male[idx], dtype=torch.long)
        groups = torch.as_tensor(2 * male[idx] + glasses[idx], dtype=torch.long)
        sets.append(ImageSet(x, y, ("female", "male"), None, "celeba",
                             {"groups": groups, "index": idx.tolist()}))
    return tuple(sets)


def celeba_scenario(root=None, *, n_train, n_test, size, seed=DEFAULTS["seed"], download=False):
    """The paper's Male vs Female scenario with the natural attribute Eyeglasses, scaled to
    ``n_train`` training images in the paper's proportions (1/4 males without glasses, 1/4
    with, 1/2 females without) and up to ``n_test // 4`` test images per group, kept as uint8
    (4x less memory; no validation set: 2.1 GB instead of 10.7 GB at the paper's 224 px).

    Returns
    -------
    Scenario
        :func:`spurlab.scenario.attribute_scenario` with ``target_class=1`` (male): the
        carriers are the males with eyeglasses.
    """
    from .scenario import attribute_scenario

    q = n_train // 4                 # the paper's 2,500 / 2,500 / 5,000 proportions
    train_set, _, test_set = load_celeba(root, download=download, size=size,
                                         counts=(q, q, n_train - 2 * q),
                                         max_eval=max(1, n_test // 4), seed=seed,
                                         dtype="uint8", val=False)
    glasses_train = (train_set.meta["groups"] % 2).bool()
    glasses_test = (test_set.meta["groups"] % 2).bool()
    return attribute_scenario(train_set, test_set, glasses_train, glasses_test, 1,
                              name="Eyeglasses")

