"""The explorable's data: every training image of the target class on a data map, what every arm
removed of it, and every model's accuracy per group, at every scenario point of the atlas.

The atlas (:mod:`spurlab.atlas`) answers each slider with means and intervals over seeds; it holds
no image and no group. This file holds, for the atlas's data seed 0 at every (thickness,
salience, prevalence) of its grid, the one run the learner can look inside:

- **the data map** of the target class ``c1``: each training image's early-EL2N percentile within
  ``c1`` (the score pruning ranks by; 100 = hardest) against its **confidence** (the baseline's
  mean probability of the true class over the epochs, in eval mode after each, as Swayamdipta et
  al.'s data maps), and which images carry the feature;
- for every prune ratio of the grid and every atlas arm, **which images of c1 it removed** (the
  hardest arm removes those right of the threshold ``100 (1 - p)``) and the retrained model's
  **accuracy in every group** ``2 * class + stamped``, its SMR and clean accuracy; the
  baseline's likewise;
- the **pruner's methods** (EL2N, random, oracle) on its gallery of c1 under its budget, each
  retrained over its seeds: what a learner's hand-picked round is scored against.

Built by ``scripts/build_explorable.py`` (the engine, one scenario point per task, resumable from
``--state-dir``), read by :func:`load_explorable` (checksummed, a clear error for a missing or
foreign file); drawn by :mod:`spurlab.explorer`.

Examples
--------
>>> ex = load_explorable()                                        # doctest: +SKIP
>>> p = ex.point(1, 0.5, 0.3)                                     # doctest: +SKIP
>>> p.removed("hardest", 0.25).sum(), p.carrier.sum()             # doctest: +SKIP
"""

from __future__ import annotations

import datetime
import gzip
import hashlib
import json
import os
import platform
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

FORMAT = "spurlab-explorable/1"
EXPLORABLE_PATH = Path(__file__).resolve().parent / "data" / "explorable.json.gz"
BUILD = "scripts/build_explorable.py"
SEED = 0                         # the atlas's first data and training seed: one run to look into


# "You are the pruner" (spurlab.explorer): a gallery of c1's training images, the budget a learner
# removes by hand, and the training seeds every choice is retrained with (the learner's and the
# methods' alike); the methods' rounds are part of the file
PRUNER_GALLERY, PRUNER_BUDGET, PRUNER_SEEDS = 48, 12, (0, 1, 2)
PRUNER_METHODS = ("EL2N", "random", "oracle")


def pruner_gallery(n_c1):
    """Positions in c1 of the images the pruner shows: a fixed seeded sample of
    :data:`PRUNER_GALLERY` of the class's ``n_c1`` images, in index order."""
    rng = np.random.default_rng(1234)
    return np.sort(rng.choice(n_c1, size=min(PRUNER_GALLERY, n_c1), replace=False))


def pruner_picks(method, el2n_percentile, carrier):
    """What a method removes from the gallery under the budget: ``'EL2N'`` the hardest by early
    EL2N (label-free), ``'random'`` a seeded random draw, ``'oracle'`` the hardest carriers (all
    of them when fewer than the budget: it knows which images carry the line)."""
    from ._validate import check_choice

    check_choice("method", method, PRUNER_METHODS)
    pct, carrier = np.asarray(el2n_percentile), np.asarray(carrier, dtype=bool)
    g = pruner_gallery(len(pct))
    if method == "EL2N":
        return g[np.argsort(-pct[g], kind="stable")][:PRUNER_BUDGET]
    if method == "random":
        return np.random.default_rng(99).choice(g, size=PRUNER_BUDGET, replace=False)
    car = g[carrier[g]]
    return car[np.argsort(-pct[car], kind="stable")][:PRUNER_BUDGET]


def retrain_without(config_string, positions, *, device=None):
    """The config's recipe retrained without the c1 images at ``positions`` (nothing else
    removed) for every seed of :data:`PRUNER_SEEDS` (the data: seed 0): the SMR per seed."""
    from .build import build_scenario
    from .config import Config
    from .measure import evaluate
    from .recipe import fit

    cfg = Config.from_string(config_string)
    sc = build_scenario(cfg)
    c1 = np.flatnonzero(sc.train.labels.numpy() == sc.target_class)
    keep = np.ones(len(sc.train), dtype=bool)
    keep[c1[np.asarray(positions, dtype=np.int64)]] = False
    x, y = sc.train.images[keep], sc.train.labels[keep]
    smr = []
    for seed in PRUNER_SEEDS:
        model, _ = fit(cfg, x, y, seed=seed, num_classes=sc.train.num_classes, device=device)
        smr.append(round(evaluate(model, sc).smr, 5))
    return smr


def _pruner_task(config_string, el2n_percentile, carrier, threads=None):
    """The pruner's methods at one point: each one's picks and its SMR per seed."""
    if threads:
        import torch

        torch.set_num_threads(int(threads))
    out = {}
    for m in PRUNER_METHODS:
        picks = pruner_picks(m, el2n_percentile, carrier)
        out[m] = {"picks": picks.tolist(), "smr": retrain_without(config_string, picks),
                  "carriers_removed": int(np.asarray(carrier, dtype=bool)[picks].sum())}
    return out


class ExplorableError(ValueError):
    """The explorable file is missing, corrupt or of another format."""


def point_name(thickness, salience, prevalence):
    """The key of one scenario point, e.g. ``'t1-s0.5-p0.3'``."""
    return f"t{int(thickness)}-s{float(salience):g}-p{float(prevalence):g}"


def _bits(mask):
    return np.packbits(np.asarray(mask, dtype=bool)).tobytes().hex()


def _unbits(text, n):
    return np.unpackbits(np.frombuffer(bytes.fromhex(text), dtype=np.uint8))[:n].astype(bool)


def _model(metrics, pruned=None):
    d = {"smr": round(metrics.smr, 5), "clean_accuracy": round(metrics.clean_accuracy, 5),
         "worst_group": metrics.worst_group,
         "group_accuracy": [None if a is None else round(a, 4) for a in metrics.group_accuracy]}
    if pruned is not None:
        d["pruned"] = _bits(pruned)
    return d


def _point_task(config_string, ratios, arms, threads=None):
    """One scenario point at seed 0: the baseline with its per-epoch confidence on c1, then every
    arm at every ratio, through the engine (the baseline trained once)."""
    import torch

    from .build import build_scenario
    from .builds import sparing_feasible
    from .config import Config
    from .pipeline import run
    from .scores import percentile_within
    from .train import predict_logits

    if threads:
        torch.set_num_threads(int(threads))
    cfg = Config.from_string(config_string)
    sc = build_scenario(cfg)
    labels = sc.train.labels.numpy()
    c1 = np.flatnonzero(labels == sc.target_class)
    x1 = sc.train.images[c1]
    probs = []

    def on_epoch(epoch, model):
        p = predict_logits(model, x1).softmax(1)[:, sc.target_class]
        probs.append(p.numpy())

    base = run(cfg.replace(prune_ratio=ratios[0]), arms=[], reference=False, on_epoch=on_epoch)
    if not probs:               # a cached baseline called no callback: train it again, uncached
        base = run(cfg.replace(prune_ratio=ratios[0]), arms=[], reference=False,
                   on_epoch=on_epoch, cache=False)
    scores = np.asarray(base.scores, dtype=float)
    pct = percentile_within(scores, c1, c1)
    conf = np.mean(probs, axis=0)
    out = {"config": config_string, "c1": c1.tolist(), "carrier": _bits(sc.carrier.numpy()[c1]),
           "el2n_percentile": [round(float(v), 2) for v in pct],
           "confidence": [round(float(v), 4) for v in conf],
           "epochs": len(probs), "baseline": _model(base.baseline), "ratios": {}}
    for p in ratios:
        # the sparing arm runs only where it can (as in the atlas); elsewhere it is None
        ok = [a for a in arms if a != "hardest/sparing" or sparing_feasible(cfg, p)]
        r = run(cfg.replace(prune_ratio=p), arms=ok, reference=False)
        out["ratios"][f"{p:g}"] = {
            a: _model(r.arms[a].metrics, np.isin(c1, np.asarray(r.arms[a].pruned)))
            if a in ok else None for a in arms}
    return out


def build_explorable(path, *, workers=2, executor=None, state_dir=None, command=None,
                     progress=print, points=None, config=None, ratios=None, arms=None):
    """Compute the explorable's data (:mod:`spurlab.explorable`) and write the file.

    Parameters
    ----------
    path : str or Path
        The gzipped JSON to write (atomically).
    workers : int
        Local worker processes when no ``executor`` is given.
    executor : object with ``submit``, optional
        A Dask client (:func:`spurlab.sweeps.build_executor`).
    state_dir : str, optional
        Folder of finished points (one gzipped JSON each, written as it finishes): a build
        resumes from it, on this machine or another.
    command : str, optional
        The command line, recorded as provenance.
    points : sequence of (thickness, salience, prevalence), optional
        Default: every scenario point of the atlas's grid.
    config, ratios, arms : optional
        Default: the atlas's scale (data seed 0), its prune ratios and its arms (a smaller
        build, e.g. the smoke scale, for a test).
    """
    from ._version import __version__
    from .atlas import ATLAS_ARMS, load_atlas
    from .builds import _load_piece
    from .cache import fingerprint
    from .device import get_device, usable_cpus
    from .files import atomic_write_bytes, environment
    from .sweeps import run_tasks

    atlas = load_atlas()
    grid = atlas.grid
    arms = list(ATLAS_ARMS if arms is None else arms)
    ratios = [float(p) for p in (grid["prune_ratio"] if ratios is None else ratios)]
    base = (atlas.config if config is None else config).replace(seed=SEED)
    if points is None:
        points = [(t, s, q) for t in grid["thickness"] for s in grid["salience"]
                  for q in grid["prevalence"]]
    t0 = time.perf_counter()
    got, todo = {}, []
    for t, s, q in points:
        cfg = base.replace(thickness=int(t), salience=float(s), prevalence=float(q)).to_string()
        ident = {"config": cfg, "ratios": ratios, "arms": arms, "version": __version__}
        name = point_name(t, s, q)
        piece = f"{name}-{fingerprint(ident)[:10]}.json.gz"
        done = _load_piece(state_dir, ident, piece, key="point") if state_dir else None
        if done is not None:
            got[name] = done
        else:
            todo.append((name, cfg, ident, piece))
    resumed = len(got)
    if state_dir:
        os.makedirs(state_dir, exist_ok=True)
    tasks = [(cfg, ratios, arms) for _, cfg, _, _ in todo]
    for (name, _, ident, piece), doc in zip(todo, run_tasks(_point_task, tasks, workers=workers,
                                                             executor=executor)):
        got[name] = doc
        if state_dir:
            atomic_write_bytes(os.path.join(state_dir, piece), gzip.compress(
                json.dumps({"ident": ident, "point": doc}).encode(), mtime=0))
        if progress:
            progress(f"{name}: done ({len(got)} of {len(points)}, "
                     f"{time.perf_counter() - t0:.0f} s)")
    # the pruner's methods at every point: pieces of their own (a build made before them
    # resumes its points and runs only these)
    pr_todo = []
    for name in got:
        pt = got[name]
        ident = {"config": pt["config"], "pruner": [PRUNER_GALLERY, PRUNER_BUDGET,
                                                    list(PRUNER_SEEDS)], "version": __version__}
        piece = f"pruner-{name}-{fingerprint(ident)[:10]}.json.gz"
        done = _load_piece(state_dir, ident, piece, key="point") if state_dir else None
        if done is not None:
            pt["pruner"] = done
        else:
            carrier = _unbits(pt["carrier"], len(pt["c1"])).tolist()
            pr_todo.append((name, (pt["config"], pt["el2n_percentile"], carrier), ident, piece))
    for (name, _, ident, piece), doc in zip(pr_todo, run_tasks(
            _pruner_task, [args for _, args, _, _ in pr_todo], workers=workers,
            executor=executor)):
        got[name]["pruner"] = doc
        if state_dir:
            atomic_write_bytes(os.path.join(state_dir, piece), gzip.compress(
                json.dumps({"ident": ident, "point": doc}).encode(), mtime=0))
        if progress:
            progress(f"{name}: the pruner's methods done ({time.perf_counter() - t0:.0f} s)")
    from .catalog import class_names

    names = class_names(base.dataset)
    doc = {"format": FORMAT, "version": __version__, "config": base.to_string(),
           "seed": SEED, "ratios": ratios, "arms": arms, "class_names": list(names),
           "target_class": base.target_class,
           "provenance": {"command": command, "date": datetime.datetime.now(
                              datetime.timezone.utc).isoformat(timespec="seconds"),
                          "wall_s": round(time.perf_counter() - t0, 1), "workers": workers,
                          "points_resumed": resumed, "cpus": usable_cpus(),
                          "machine": platform.machine(), **environment(get_device())},
           "points": {k: got[k] for k in sorted(got)}}
    doc["checksum"] = checksum(doc)
    atomic_write_bytes(path, gzip.compress(json.dumps(doc, separators=(",", ":")).encode(),
                                           mtime=0))
    return doc


def checksum(doc):
    """The SHA-256 of an explorable file's points (what :func:`load_explorable` verifies)."""
    return hashlib.sha256(json.dumps(doc["points"], sort_keys=True).encode()).hexdigest()


# --------------------------------------------------------------------------- reading it

@dataclass(frozen=True)
class ExplorablePoint:
    """One scenario point at seed 0: its data map and what each model did.

    Attributes
    ----------
    thickness, salience, prevalence : the point
    config : str
        Its config string (the atlas's scale, data seed 0).
    c1 : ndarray
        Training-set indices of the target class's images, in order.
    carrier : ndarray of bool
        Which of them carry the feature.
    el2n_percentile : ndarray
        Each one's early-EL2N percentile within the class (100 = hardest).
    confidence : ndarray
        The baseline's mean probability of the true class over the epochs.
    """

    thickness: int
    salience: float
    prevalence: float
    config: str
    c1: np.ndarray
    carrier: np.ndarray
    el2n_percentile: np.ndarray
    confidence: np.ndarray
    baseline: dict
    ratios: dict
    pruner: dict | None = None

    def model(self, arm, ratio=None):
        """What a model scored: ``'baseline'``, or an arm at a ratio of the grid: ``smr``,
        ``clean_accuracy``, ``worst_group`` (index) and ``group_accuracy`` (one per group)."""
        if arm == "baseline":
            return self.baseline
        return self._arm(arm, ratio)

    def removed(self, arm, ratio):
        """Which images of c1 (in the order of :attr:`c1`) the arm removed at ``ratio``."""
        return _unbits(self._arm(arm, ratio)["pruned"], len(self.c1))

    def carriers_removed(self, arm, ratio):
        """``(removed, all)``: how many carriers the arm removed, of how many."""
        r = self.removed(arm, ratio)
        return int((r & self.carrier).sum()), int(self.carrier.sum())

    def _arm(self, arm, ratio):
        key = f"{float(ratio):g}"
        if key not in self.ratios:
            raise ValueError(f"ratio must be one of the grid's {sorted(self.ratios, key=float)}; "
                             f"got {ratio!r}")
        if arm not in self.ratios[key]:
            raise ValueError(f"arm must be one of {sorted(self.ratios[key])}; got {arm!r}")
        if self.ratios[key][arm] is None:
            raise ValueError(f"arm {arm!r} did not run at ratio {ratio:g} here (it cannot spare "
                             "the carriers and still remove that many); see has()")
        return self.ratios[key][arm]

    def has(self, arm, ratio):
        """Did ``arm`` run at ``ratio`` (the sparing arm cannot everywhere)?"""
        return self.ratios.get(f"{float(ratio):g}", {}).get(arm) is not None


class Explorable:
    """The explorable file: :meth:`point` per scenario point; ``class_names``, ``ratios``,
    ``arms``, ``config`` and ``provenance``."""

    def __init__(self, doc, path=None):
        self.data, self.path = doc, path
        self.class_names = tuple(doc["class_names"])
        self.target_class = int(doc["target_class"])
        self.ratios = [float(r) for r in doc["ratios"]]
        self.arms = list(doc["arms"])
        self.config = doc["config"]
        self.provenance = doc.get("provenance", {})
        self._points = {}

    def names(self):
        """The scenario points it holds, as keys ``'t1-s0.5-p0.3'``."""
        return list(self.data["points"])

    @staticmethod
    def point_key(name):
        """``(thickness, salience, prevalence)`` of a key such as ``'t1-s0.5-p0.3'``."""
        t, sal, q = name.split("-")
        return int(t[1:]), float(sal[1:]), float(q[1:])

    def has(self, thickness, salience, prevalence):
        return point_name(thickness, salience, prevalence) in self.data["points"]

    def point(self, thickness, salience, prevalence):
        """The :class:`ExplorablePoint` of one scenario point (decoded once, then kept)."""
        name = point_name(thickness, salience, prevalence)
        if name not in self.data["points"]:
            raise ValueError(f"no point {name!r} in the explorable file; points: "
                             f"{', '.join(self.names()[:6])} ...")
        if name not in self._points:
            d = self.data["points"][name]
            c1 = np.asarray(d["c1"], dtype=np.int64)
            self._points[name] = ExplorablePoint(
                int(thickness), float(salience), float(prevalence), d["config"], c1,
                _unbits(d["carrier"], len(c1)), np.asarray(d["el2n_percentile"]),
                np.asarray(d["confidence"]), d["baseline"], d["ratios"], d.get("pruner"))
        return self._points[name]

    def group_name(self, group):
        """``2 * class + stamped`` in words, e.g. ``'ring + line'``."""
        c, stamped = divmod(int(group), 2)
        return f"{self.class_names[c]}{' + line' if stamped else ''}"

    def describe(self):
        p = self.provenance
        return (f"explorable data: {len(self.data['points'])} scenario points x "
                f"{len(self.ratios)} prune ratios x {len(self.arms)} arms at seed {self.data['seed']}"
                f" ({self.config}); built by `{p.get('command')}` on {p.get('date')} with spurlab "
                f"{self.data['version']}")


def load_explorable(path=None):
    """Read the explorable file (default: the one shipped with spurlab).

    Raises :class:`ExplorableError` (a ``ValueError``) naming the file and what is wrong when it
    is missing, corrupt, of another format or fails its checksum; nothing is downloaded.
    """
    from .files import read_gzip_json

    path = EXPLORABLE_PATH if path is None else Path(path)
    doc = read_gzip_json(path, what="explorable", formats=(FORMAT,), build=BUILD,
                         error=ExplorableError)
    if doc.get("checksum") != checksum(doc):
        raise ExplorableError(f"explorable file {path} fails its checksum: it was changed or "
                              f"damaged; rebuild it with `python {BUILD}`")
    return Explorable(doc, path)


__all__ = ["EXPLORABLE_PATH", "Explorable", "ExplorableError", "ExplorablePoint", "FORMAT",
           "PRUNER_BUDGET", "PRUNER_GALLERY", "PRUNER_METHODS", "PRUNER_SEEDS",
           "build_explorable", "load_explorable", "point_name", "pruner_gallery", "pruner_picks",
           "retrain_without"]
