"""Waterbirds (Sagawa et al. 2020): landbird vs waterbird, spurious feature the background.

Birds cut from CUB-200 are pasted on Places backgrounds: label ``y`` (0 landbird, 1 waterbird),
background ``place`` (0 land, 1 water). In the training split 95% of each class sits on its
"own" background, so groups are ``2 * y + place``: 0 landbird/land, 1 landbird/water,
2 waterbird/land, 3 waterbird/water. Groups 0 and 3 are the spurious-aligned groups (the
background agrees with the label; about 3,498 and 1,057 of the 4,795 training images); the worst
group of an ERM model is usually 1 or 2. The validation and test splits hold every class half on
land, half on water. The headline metric is the worst-group test accuracy.

Waterbirds
----------
There is no download: the public links have been broken for years, so the files are placed by
hand, once.

1. Get the archive ``waterbird_complete95_forest2water2.tar.gz``. It is the one linked from the
   README of the group_DRO repository (https://github.com/kohpangwei/group_DRO), whose link was
   https://nlp.stanford.edu/data/dro/waterbird_complete95_forest2water2.tar.gz. The WILDS copy
   is the same data under the name ``waterbirds_v1.0`` (the ``wilds`` package:
   ``wilds.get_dataset("waterbirds", root_dir=ROOT, download=True)``, while its mirror answers).
2. Unpack it into your data folder ``ROOT`` (``$SPURLAB_DATA`` by default):
   ``tar -xzf waterbird_complete95_forest2water2.tar.gz -C ROOT``, so that
   ``ROOT/waterbird_complete95_forest2water2/metadata.csv`` (or
   ``ROOT/waterbirds_v1.0/metadata.csv``) sits next to the 200 species folders
   (``001.Black_footed_Albatross/...``). ``ROOT`` may also be that folder itself.
3. Check: ``spurlab.fetch("waterbirds", root=ROOT)`` reads ``metadata.csv`` and checks that every
   image it names is there; otherwise its error says what is missing.

``metadata.csv`` has the columns ``img_id,img_filename,y,split,place,place_filename`` (split: 0
train, 1 val, 2 test; ``img_filename`` relative to the folder). Images are read with PIL and
resized as group_DRO does at evaluation: squashed to ``size * 256 / 224`` pixels a side, then the
centre ``size x size`` crop.

Examples
--------
>>> waterbirds_groups([0, 0, 1, 1], [0, 1, 0, 1]).tolist()
[0, 1, 2, 3]
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass, fields

import numpy as np
import torch

from ._validate import check_choice, check_int, check_seed
from .datasets import ImageSet, as_float, default_root
from .defaults import DEFAULTS
from .scenario import Scenario, attribute_scenario

CLASSES = ("landbird", "waterbird")
GROUP_NAMES = ("landbird/land", "landbird/water", "waterbird/land", "waterbird/water")
ALIGNED_GROUPS = (0, 3)          # the background agrees with the label
FOLDER_NAMES = ("waterbird_complete95_forest2water2", "waterbirds_v1.0")
ARCHIVE = "waterbird_complete95_forest2water2.tar.gz"
COLUMNS = ("img_id", "img_filename", "y", "split", "place", "place_filename")
REQUIRED_COLUMNS = ("img_filename", "y", "split", "place")     # the ones spurlab reads
SPLITS = ("train", "val", "test")                               # split codes 0, 1, 2
MANUAL_STEPS = (
    "Waterbirds has no download (its public links have been broken for years); place it by "
    "hand: (1) get the archive " + ARCHIVE + ", linked from the README of the group_DRO "
    "repository (https://github.com/kohpangwei/group_DRO; the link was "
    "https://nlp.stanford.edu/data/dro/" + ARCHIVE + "), or the WILDS copy waterbirds_v1.0 "
    "(pip install wilds; wilds.get_dataset('waterbirds', root_dir='{root}', download=True) while "
    "its mirror answers); (2) unpack it into {root} (tar -xzf " + ARCHIVE + " -C {root}) so that "
    "{root}/waterbird_complete95_forest2water2/metadata.csv or {root}/waterbirds_v1.0/metadata.csv "
    "exists next to the species folders (001.Black_footed_Albatross/...); a folder holding "
    "metadata.csv may also be given as the root itself."
)


def waterbirds_groups(y, place):
    """Group of each image: ``2 * y + place`` (0 landbird/land ... 3 waterbird/water)."""
    return 2 * np.asarray(y, dtype=np.int64) + np.asarray(place, dtype=np.int64)


def find_waterbirds(root=None):
    """The folder holding Waterbirds' ``metadata.csv`` under ``root``.

    Looks in ``root/waterbird_complete95_forest2water2``, ``root/waterbirds_v1.0`` and ``root``
    itself, in that order.

    Parameters
    ----------
    root : str, optional
        Data folder (default ``$SPURLAB_DATA``, else ``~/.spurlab/data``).

    Raises
    ------
    FileNotFoundError
        No ``metadata.csv`` in any of them: names the folders searched and the manual steps.

    Examples
    --------
    >>> import tempfile
    >>> try:
    ...     find_waterbirds(tempfile.mkdtemp())
    ... except FileNotFoundError as e:
    ...     "no download" in str(e)
    True
    """
    root = os.path.expanduser(os.fspath(root or default_root()))
    candidates = [os.path.join(root, f) for f in FOLDER_NAMES] + [root]
    for folder in candidates:
        if os.path.isfile(os.path.join(folder, "metadata.csv")):
            return folder
    state = "" if os.path.isdir(root) else f" (the folder {root} does not exist)"
    raise FileNotFoundError(f"Waterbirds not found{state}: no metadata.csv in "
                            f"{', '.join(candidates)}. " + MANUAL_STEPS.format(root=root))


def read_metadata(folder):
    """Waterbirds' ``metadata.csv`` in ``folder``, checked.

    Returns
    -------
    dict
        ``files`` (list of ``img_filename``, relative to ``folder``), ``y``, ``place``,
        ``split`` (int64 arrays, one entry per row, in file order).

    Raises
    ------
    ValueError
        A required column (``img_filename``, ``y``, ``split``, ``place``) is missing, the file
        has no rows, or a value is out of range (``y`` and ``place`` must be 0 or 1, ``split``
        0, 1 or 2): names the column, the first bad line and value, and how many are bad.
    """
    path = os.path.join(folder, "metadata.csv")
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        header = [c.strip() for c in (reader.fieldnames or [])]
        missing = [c for c in REQUIRED_COLUMNS if c not in header]
        if missing:
            raise ValueError(f"{path} lacks the column(s) {', '.join(missing)}; Waterbirds' "
                             f"metadata.csv has the columns {','.join(COLUMNS)}; got "
                             f"{','.join(header) or 'no header'}")
        reader.fieldnames = header
        rows = list(reader)
    if not rows:
        raise ValueError(f"{path} has a header but no rows; it should list Waterbirds' 11,788 "
                         "images")
    out = {"files": [(r["img_filename"] or "").strip() for r in rows]}
    # every image must lie inside the folder: an absolute path or a '..' would read (and train
    # on) files from anywhere on the machine
    outside = [i for i, f in enumerate(out["files"]) if f and not _inside(folder, f)]
    if outside:
        i = outside[0]
        raise ValueError(f"{path}: column img_filename must name images inside {folder!r} "
                         f"(relative paths, no '..'); {len(outside)} row(s) do not, the first on "
                         f"line {i + 2} ({out['files'][i]!r})")
    for col, allowed in (("y", (0, 1)), ("place", (0, 1)), ("split", (0, 1, 2))):
        vals = np.full(len(rows), -1, dtype=np.int64)
        bad = []
        for i, r in enumerate(rows):
            try:
                vals[i] = int((r[col] or "").strip())
            except ValueError:
                pass
            if vals[i] not in allowed:
                bad.append(i)
        if bad:
            raise ValueError(f"{path}: column {col} must be one of {', '.join(map(str, allowed))}; "
                             f"{len(bad)} row(s) are not, the first on line {bad[0] + 2} "
                             f"(value {rows[bad[0]][col]!r})")
        out[col] = vals
    return out


def _inside(folder, name):
    """Is ``name`` a relative path that stays inside ``folder`` once resolved (links too)?"""
    if os.path.isabs(name) or os.path.splitdrive(name)[0]:
        return False
    root = os.path.realpath(folder)
    full = os.path.realpath(os.path.join(root, name))
    return os.path.commonpath([root, full]) == root and full != root


def check_images(folder, files):
    """Raise ``FileNotFoundError`` naming the first missing image and how many are missing."""
    missing = [f for f in files if not f or not os.path.isfile(os.path.join(folder, f))]
    if missing:
        raise FileNotFoundError(
            f"{len(missing)} of the {len(files)} Waterbirds images needed are missing from "
            f"{folder}, the first {os.path.join(folder, missing[0])!r} (img_filename "
            f"{missing[0]!r} of metadata.csv). The archive must be unpacked whole, keeping its "
            f"species folders next to metadata.csv. " + MANUAL_STEPS.format(root=folder))


def waterbirds_folder(root=None, *, check_all=True):
    """The Waterbirds folder under ``root``, with ``metadata.csv`` checked and (``check_all``)
    every image it names present; used by :func:`spurlab.fetch` (which never downloads)."""
    folder = find_waterbirds(root)
    meta = read_metadata(folder)
    if check_all:
        check_images(folder, meta["files"])
    return folder


def _check_split_sizes(split_sizes):
    if split_sizes is None:
        return dict.fromkeys(SPLITS)
    if isinstance(split_sizes, dict):
        unknown = [k for k in split_sizes if k not in SPLITS]
        if unknown:
            raise ValueError(f"split_sizes keys must be among 'train', 'val', 'test'; got "
                             f"{unknown[0]!r}")
        sizes = {s: split_sizes.get(s) for s in SPLITS}
    elif isinstance(split_sizes, (list, tuple)) and len(split_sizes) == 3:
        sizes = dict(zip(SPLITS, split_sizes))
    else:
        raise TypeError(f"split_sizes must be None, a dict such as {{'train': 500}} or a "
                        f"(train, val, test) tuple of ints or None; got {split_sizes!r}")
    return {s: None if n is None else check_int(f"split_sizes[{s!r}]", n, low=1)
            for s, n in sizes.items()}


def stratified_subset(index, groups, n, rng):
    """At most ``n`` of ``index`` (sorted), drawn with ``rng``, every group keeping its share
    (largest remainder, so the counts add up to ``n``); all of ``index`` when ``n`` is ``None``
    or not smaller.

    Examples
    --------
    >>> g = np.array([0] * 60 + [1] * 30 + [3] * 10)
    >>> s = stratified_subset(np.arange(100), g, 10, np.random.default_rng(0))
    >>> np.bincount(g[s], minlength=4).tolist()
    [6, 3, 0, 1]
    """
    index = np.asarray(index, dtype=np.int64)
    if n is None or n >= len(index):
        return index
    g = np.asarray(groups)[index]
    counts = np.bincount(g, minlength=4)
    quota = counts * n / len(index)
    take = np.floor(quota).astype(np.int64)
    order = np.argsort(-(quota - take), kind="stable")
    take[order[:n - int(take.sum())]] += 1
    picks = [rng.permutation(index[g == k])[:take[k]] for k in range(len(counts))]
    return np.sort(np.concatenate(picks))


def _load_images(folder, files, size):
    from PIL import Image

    big = int(size * 256 / 224)   # group_DRO's evaluation transform: Resize(256), CenterCrop(224)
    off = int(round((big - size) / 2))
    out = torch.empty(len(files), 3, size, size, dtype=torch.uint8)
    for i, f in enumerate(files):
        path = os.path.join(folder, f)
        try:
            with Image.open(path) as im:
                im = im.convert("RGB").resize((big, big), Image.BILINEAR)
                im = im.crop((off, off, off + size, off + size))
                out[i] = torch.from_numpy(np.asarray(im, dtype=np.uint8).copy()).permute(2, 0, 1)
        except OSError as exc:
            raise RuntimeError(f"Waterbirds image {path} could not be read ({exc}); unpack "
                               f"{ARCHIVE} again") from None
    return out


def load_waterbirds(root=None, *, size=64, split_sizes=None, seed=DEFAULTS["seed"], dtype="float32",
                    val=True):
    """Waterbirds' official train / val / test splits, with the groups bird x background.

    Reads the files placed by hand (see the module's *Waterbirds* section; there is no
    download) and checks them first: a missing folder, column, out-of-range value or image
    raises an error that names it.

    Parameters
    ----------
    root : str, optional
        Data folder holding ``waterbird_complete95_forest2water2/`` or ``waterbirds_v1.0/``, or
        that folder itself; default ``$SPURLAB_DATA``, else ``~/.spurlab/data``.
    size : int
        Image side in pixels (the paper's protocol: 224), in [8, 512].
    split_sizes : dict or (int, int, int), optional
        At most this many images per split, e.g. ``{'train': 1000, 'test': 800}`` or
        ``(1000, None, 800)``: a seeded subset in which every group keeps its share of the split.
        ``None`` (default, or for a split): every image.
    seed : int
        Seeds the subsets.
    dtype : {'float32', 'uint8'}
        ``'float32'``: images in [0, 1] like every spurlab dataset; ``'uint8'``: the raw bytes
        (4x less memory; :func:`spurlab.train` and :func:`spurlab.predict` convert batch by
        batch).
    val : bool
        Load the validation images (``False``: ``val`` is ``None``).

    Returns
    -------
    (train, val, test) : ImageSet
        Labels 1 = waterbird; ``meta["groups"]`` holds ``2 * y + place`` per image and
        ``meta["index"]`` the image's row in ``metadata.csv``.

    Examples
    --------
    >>> train, _, test = load_waterbirds("/data", size=32, split_sizes={"train": 500})  # doctest: +SKIP
    >>> len(train), train.classes, train.meta["groups"].bincount().tolist()           # doctest: +SKIP
    (500, ('landbird', 'waterbird'), [365, 19, 6, 110])
    """
    size = check_int("size", size, low=8, high=512)
    check_choice("dtype", dtype, ("float32", "uint8"))
    check_choice("val", val, (True, False))
    sizes = _check_split_sizes(split_sizes)
    seed = check_seed(seed)
    folder = find_waterbirds(root)
    meta = read_metadata(folder)
    groups = waterbirds_groups(meta["y"], meta["place"])
    rng = np.random.default_rng(seed)
    picked = {}
    for code, part in enumerate(SPLITS):
        if part == "val" and not val:
            continue
        idx = np.flatnonzero(meta["split"] == code)
        if not len(idx):
            raise ValueError(f"{os.path.join(folder, 'metadata.csv')} has no {part} image "
                             f"(split == {code})")
        picked[part] = stratified_subset(idx, groups, sizes[part], rng)
    # every image needed is checked before any is read: a missing one fails in a second
    check_images(folder, [meta["files"][i] for idx in picked.values() for i in idx])
    sets = []
    for part in SPLITS:
        if part not in picked:
            sets.append(None)
            continue
        idx = picked[part]
        x = _load_images(folder, [meta["files"][i] for i in idx], size)
        x = x if dtype == "uint8" else as_float(x)
        sets.append(ImageSet(x, torch.as_tensor(meta["y"][idx], dtype=torch.long), CLASSES, None,
                             "waterbirds", {"groups": torch.as_tensor(groups[idx]),
                                            "index": idx.tolist()}))
    return tuple(sets)


# --------------------------------------------------------------------------- the protocol

@dataclass
class AlignedScenario(Scenario):
    """A :class:`~spurlab.scenario.Scenario` whose carriers (the oracle's pool) are the
    spurious-aligned images of every class, not only the target class's."""

    def describe(self):
        g = self.train_groups
        counts = [int((g == k).sum()) for k in range(4)]
        return (f"{self.feature.describe()}; training groups "
                + ", ".join(f"{n} {name}" for n, name in zip(counts, GROUP_NAMES))
                + f"; carriers: the {int(self.carrier.sum())} spurious-aligned images "
                  f"({GROUP_NAMES[0]}, {GROUP_NAMES[3]})")


def waterbirds_scenario(train, test, *, seed=DEFAULTS["seed"]):
    """The identifiable protocol's scenario on Waterbirds train and test sets.

    The natural attribute is the water background, which goes with class 1 (waterbird).
    The test groups are Waterbirds' own, ``2 * y + place``; the "stamped" test set is the
    landbirds on water (the spurious misclassification rate: their share predicted
    waterbird). The carriers, which oracle pruning draws from (``'hardest/oracle'``, per
    class), are the spurious-aligned training images, groups 0 and 3 (the background agrees
    with the label), as the reference code prunes CelebA's males with glasses. The no-carrier
    reference model trains on a group-balanced subset (as many of every group as the smallest
    non-empty one, seeded), where background and label are independent.

    Parameters
    ----------
    train, test : ImageSet
        From :func:`load_waterbirds` (``meta["groups"]`` = ``2 * y + place``).
    seed : int
        Seeds the group-balanced subset.

    Returns
    -------
    AlignedScenario
    """
    seed = check_seed(seed)
    water_tr = (train.meta["groups"] % 2).bool()
    water_te = (test.meta["groups"] % 2).bool()
    sc = attribute_scenario(train, test, water_tr, water_te, 1, name="water background")
    g = sc.train_groups.numpy()
    aligned = torch.as_tensor(np.isin(g, ALIGNED_GROUPS))
    counts = np.bincount(g, minlength=4)
    m = int(counts[counts > 0].min())
    rng = np.random.default_rng(seed)
    balanced = np.sort(np.concatenate([rng.permutation(np.flatnonzero(g == k))[:m]
                                       for k in range(4)]))
    kw = {f.name: getattr(sc, f.name) for f in fields(sc)}
    kw.update(carrier=aligned, clean_train=train.subset(balanced))
    return AlignedScenario(**kw)


def waterbirds_protocol_scenario(root=None, *, n_train, n_test, size, seed=DEFAULTS["seed"], download=False):
    """:func:`waterbirds_scenario` on at most ``n_train`` / ``n_test`` images of the official
    train and test splits, every group keeping its share, kept as uint8. The files are placed
    by hand: ``download`` has nothing to fetch."""
    train_set, _, test_set = load_waterbirds(root, size=size,
                                             split_sizes={"train": n_train, "test": n_test},
                                             seed=seed, dtype="uint8", val=False)
    return waterbirds_scenario(train_set, test_set, seed=seed)


__all__ = ["ALIGNED_GROUPS", "CLASSES", "COLUMNS", "FOLDER_NAMES", "GROUP_NAMES", "MANUAL_STEPS",
           "AlignedScenario", "check_images", "find_waterbirds", "load_waterbirds",
           "read_metadata", "stratified_subset", "waterbirds_folder", "waterbirds_groups",
           "waterbirds_protocol_scenario", "waterbirds_scenario"]
