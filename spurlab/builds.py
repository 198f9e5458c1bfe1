"""The builds that precompute shipped data: the atlas behind the playground.

:func:`build_atlas` runs the protocol through the engine (:func:`spurlab.sweeps.grid`, so local
workers or a Dask cluster can share the work and the disk cache makes it resumable) over a
thickness x salience x prevalence x prune-ratio grid, several arms and seeds, and writes one compact gzipped
JSON file that :func:`spurlab.load_atlas` reads. ``scripts/build_atlas.py`` is its command line.
"""

from __future__ import annotations

import datetime
import gzip
import json
import math
import os
import platform
import time

import numpy as np

from .atlas import ATLAS_ARMS, ATLAS_GRID, ATLAS_SEEDS, FORMAT, check_atlas, checksum
from .config import PRESETS, as_config, preset
from .files import atomic_write_bytes


def sparing_feasible(config, prune_ratio):
    """Can the carrier-sparing arm remove as many target-class samples as ``'hardest'`` at
    ``prune_ratio`` without touching a carrier? Only when the target class has that many
    non-carriers (at prevalence 0.9 and ratio 0.2 it has not)."""
    from .build import build_scenario

    sc = build_scenario(config)
    labels = sc.train.labels.numpy()
    c1 = labels == sc.target_class
    non_carriers = int((c1 & ~sc.carrier.numpy()).sum())
    return non_carriers >= int(round(prune_ratio * c1.sum()))


def build_atlas(path, *, config="playground", grid=None, arms=ATLAS_ARMS, seeds=ATLAS_SEEDS,
                workers=1, executor=None, cache_dir=None, state_dir=None, command=None,
                progress=print):
    """Run the protocol over ``grid`` for every seed and write the atlas file to ``path``.

    Parameters
    ----------
    path : str or Path
        Where to write the gzipped JSON (written atomically: a partial file never replaces a
        good one).
    config : Config, str or preset name
        The scale every point runs at (default: the ``'playground'`` preset).
    grid : dict, optional
        ``{"thickness": [...], "salience": [...], "prevalence": [...], "prune_ratio": [...]}``
        (default :data:`ATLAS_GRID`; thickness in whole pixels).
    arms, seeds
        As in :func:`spurlab.sweeps.grid`. The sparing arm runs only where it is feasible
        (:func:`sparing_feasible`); elsewhere its values are None.
    workers, executor
        Local worker processes or a Dask client (see :func:`spurlab.sweeps.grid`).
    cache_dir : str, optional
        The engine's disk cache: an interrupted build resumes from it. Local workers inherit
        it; the workers of an ``executor`` must see the same folder through their own
        ``SPURLAB_CACHE_DIR`` (``scripts/build_atlas.py --dask`` sets it before starting its
        local cluster).
    state_dir : str or Path, optional
        A folder of finished pieces of the build (one gzipped JSON file of rows per thickness
        and prevalence, written atomically as each finishes): a build resumes from it, on this
        machine or another one, without the engine's cache. Commit it as a long build goes.
        Pieces of another build (another config, grid, arms, seeds or spurlab version) are
        refused with what to do.
    command : str, optional
        Recorded in the provenance.
    progress : callable or None
        Called with one line per finished group.

    Returns
    -------
    dict
        The atlas as written.
    """
    if isinstance(config, str) and config in PRESETS:
        config = preset(config)
    config = as_config(config)
    grid = {k: tuple(v) for k, v in (grid or ATLAS_GRID).items()}
    if set(grid) != set(ATLAS_GRID):
        raise ValueError(f"grid must have exactly the axes {sorted(ATLAS_GRID)}; got "
                         f"{sorted(grid)}")
    from ._validate import check_seeds
    from .arms import check_arms

    arms = tuple(check_arms(arms))
    seeds = tuple(check_seeds(seeds))
    for axis, values in grid.items():
        if not values:
            raise ValueError(f"grid[{axis!r}] must hold at least one value")
        for v in values:                                # a bad value fails before any training
            config.replace(**{axis: v})
    before = os.environ.get("SPURLAB_CACHE_DIR")
    if cache_dir is not None:
        os.environ["SPURLAB_CACHE_DIR"] = str(cache_dir)   # worker processes inherit it
    try:
        return _build(path, config, grid, arms, seeds, workers, executor, command, progress,
                      state_dir)
    finally:
        if cache_dir is not None:
            if before is None:
                os.environ.pop("SPURLAB_CACHE_DIR", None)
            else:
                os.environ["SPURLAB_CACHE_DIR"] = before


def _piece(config, grid, arms, seeds, thickness, prevalence):
    """The identity of one piece of a build (what its rows depend on) and its file name."""
    from ._version import __version__
    from .cache import fingerprint

    ident = {"config": config.to_dict(), "salience": list(grid["salience"]),
             "prune_ratio": list(grid["prune_ratio"]), "arms": list(arms), "seeds": list(seeds),
             "version": __version__, "thickness": thickness, "prevalence": prevalence}
    return ident, (f"thickness{thickness}-prevalence{prevalence:g}-"
                   f"{fingerprint(ident)[:12]}.json.gz")


def _load_piece(state_dir, ident, name):
    """The rows of a finished piece, or None when it is not there yet; a piece of another build
    under the same name is refused."""
    path = os.path.join(state_dir, name)
    if not os.path.exists(path):
        return None
    try:
        doc = json.loads(gzip.decompress(open(path, "rb").read()))
    except (OSError, ValueError) as exc:
        raise ValueError(f"state_dir piece {path!r} cannot be read ({exc}); delete it to run that "
                         "piece again") from None
    if doc.get("ident") != ident:
        raise ValueError(f"state_dir piece {path!r} belongs to another build (config, grid, arms, "
                         "seeds or spurlab version differ); use another state_dir or delete it")
    return doc["rows"]


def _build(path, config, grid, arms, seeds, workers, executor, command, progress, state_dir=None):
    from ._version import __version__
    from .device import get_device, usable_cpus
    from .files import atomic_write_bytes, environment
    from .sweeps import grid as run_grid

    t0 = time.perf_counter()
    if state_dir is not None:
        os.makedirs(state_dir, exist_ok=True)
    rows, resumed = [], 0
    # the thickest line first: its pieces hold what a one-pixel grid cannot show
    layers = [(t, q) for t in sorted(grid["thickness"], reverse=True) for q in grid["prevalence"]]
    for thickness, prevalence in layers:
        at = config.replace(thickness=thickness, prevalence=prevalence)
        sparing = "hardest/sparing" in arms
        ok = [r for r in grid["prune_ratio"] if not sparing or sparing_feasible(at, r)]
        groups = [(ok, arms), ([r for r in grid["prune_ratio"] if r not in ok],
                               tuple(a for a in arms if a != "hardest/sparing"))]
        ident, name = _piece(config, grid, arms, seeds, thickness, prevalence)
        done = _load_piece(state_dir, ident, name) if state_dir is not None else None
        if done is not None:
            rows += done
            resumed += 1
            continue
        t, piece = time.perf_counter(), []
        for ratios, group_arms in groups:
            if ratios:
                got = run_grid(at, {"salience": list(grid["salience"]), "prune_ratio": ratios},
                               seeds, group_arms, workers=workers, executor=executor)
                piece += [{**r, "thickness": thickness, "prevalence": prevalence} for r in got]
        if state_dir is not None:                      # this piece is done: a rerun skips it
            atomic_write_bytes(os.path.join(state_dir, name), gzip.compress(json.dumps(
                {"ident": ident, "rows": piece}).encode(), mtime=0))
        rows += piece
        if progress:
            progress(f"thickness={thickness}, prevalence={prevalence:g}: "
                     f"{time.perf_counter() - t:.0f} s (total "
                     f"{time.perf_counter() - t0:.0f} s)")
    if progress and resumed:
        progress(f"{resumed} piece(s) read from {state_dir}")
    columns = ["thickness", "salience", "prevalence", "prune_ratio", "seed"]
    columns += sorted({k for r in rows for k in r} - set(columns))
    env = environment(get_device())
    atlas = {
        "format": FORMAT,
        "config": config.to_string(),
        "config_full": config.to_dict(),
        "version": __version__,
        "grid": {k: list(v) for k, v in grid.items()},
        "arms": list(arms),
        "seeds": list(seeds),
        "provenance": {"command": command, "date": datetime.datetime.now(
                           datetime.timezone.utc).isoformat(timespec="seconds"),
                       "wall_s": round(time.perf_counter() - t0, 1), "workers": workers,
                       "threads_per_worker": (1 if executor is not None else
                                              max(1, usable_cpus() // workers) if workers > 1
                                              else None),
                       "executor": None if executor is None else type(executor).__name__,
                       "cpus": usable_cpus(), "machine": platform.machine(),
                       "processor": platform.processor() or platform.machine(), **env},
        "columns": columns,
        "rows": [[_compact(r.get(c)) for c in columns] for r in sorted(
            rows, key=lambda r: (r["thickness"], r["salience"], r["prevalence"], r["prune_ratio"],
                                 r["seed"]))],
    }
    write_atlas(path, atlas)
    return atlas


def write_atlas(path, atlas):
    """Write an atlas (a dict as :func:`build_atlas` makes it) as gzipped JSON, with the
    checksum of its rows that :func:`spurlab.load_atlas` verifies; atomically."""
    from .files import atomic_write_bytes

    check_atlas(atlas)
    atlas = {**atlas, "checksum": checksum(atlas)}
    atomic_write_bytes(path, gzip.compress(json.dumps(atlas, separators=(",", ":")).encode(),
                                           mtime=0))


def _compact(v):
    if isinstance(v, float):
        return None if math.isnan(v) else round(v, 5)
    return v


# ------------------------------------------------------------------------------ the drivers

_SCENARIOS = {}


def _retrain_task(config_string, seed, masks, k, threads=None):
    """Train one model per mask (a hex string over the ``k`` carriers: which are kept; every
    non-carrier always is) with training ``seed`` on the data of ``config_string``; return
    ``[[stamped hits, clean accuracy], ...]``. The worker side of :func:`build_drivers`."""
    from .build import build_scenario
    from .config import Config
    from .device import configure_threads, get_device
    from .drivers import unpack
    from .measure import _evaluate
    from .recipe import fit

    if threads is not None:
        configure_threads(threads)
    config = Config.from_string(config_string)
    if config_string not in _SCENARIOS:
        _SCENARIOS.clear()
        _SCENARIOS[config_string] = build_scenario(config)
    sc = _SCENARIOS[config_string]
    carriers = sc.carrier_indices.numpy()
    if len(carriers) != k:
        raise ValueError(f"the scenario of {config_string!r} has {len(carriers)} carriers, the "
                         f"build expected {k}")
    dev = get_device()
    out = []
    for text in masks:
        keep = np.ones(len(sc.train), dtype=bool)
        keep[carriers[~unpack(text, k)]] = False
        model, _ = fit(config, sc.train.images[keep], sc.train.labels[keep], seed=int(seed),
                       num_classes=sc.train.num_classes, device=dev)
        metrics, hits = _evaluate(model, sc, dev)
        out.append([int(sum(hits)), round(float(metrics.clean_accuracy), 5)])
    return out


def _score_task(config_string, threads=None):
    """The baseline's early scores and SMR at ``config_string`` (seed 0): the worker side of
    :func:`build_drivers`, so that a build scores in a fresh process like its retrainings
    (floats in a process that already ran a pool of workers can differ in the last bits)."""
    from .config import Config
    from .device import configure_threads
    from .steps import baseline

    if threads is not None:
        configure_threads(threads)
    base = baseline(Config.from_string(config_string), cache=False)
    return list(base.scores), base.metrics.smr


def build_drivers(path, *, points=None, workers=2, executor=None, state_dir=None, command=None,
                  progress=print, subset_seeds=None, subsets_per_carrier=None, group_seeds=None,
                  scale=None, reps=None):
    """Measure which carriers drive the shortcut (:mod:`spurlab.drivers`) and write the file.

    For each point: the baseline's early EL2N of every carrier (seed 0), then models retrained
    on random halves of the carriers (``subsets_per_carrier`` x carriers per training seed in
    ``subset_seeds``) and on the carriers without each EL2N decile (and with all and none) for
    every seed in ``group_seeds``; then the datamodel and its bootstrap
    (:func:`spurlab.drivers.analyse`).

    Parameters
    ----------
    path : str or Path
        The gzipped JSON to write (atomically).
    points : sequence of str, optional
        Names in :data:`spurlab.drivers.POINTS` (default: all).
    workers, executor
        Local worker processes or a Dask client, as in :func:`spurlab.sweeps.grid`.
    state_dir : str or Path, optional
        Folder of finished pieces (:data:`spurlab.drivers.CHUNK` retrainings each, written as
        each finishes): a build resumes from it on any machine. Commit it as the build goes.
    subset_seeds, subsets_per_carrier, group_seeds, scale, reps
        Smaller values for a smoke build (defaults: :mod:`spurlab.drivers`' constants).
    """
    from ._version import __version__
    from .build import build_scenario
    from .cache import fingerprint
    from .device import usable_cpus
    from .drivers import (
        BOOTSTRAP,
        CHUNK,
        FORMAT,
        GROUP_SEEDS,
        KEEP,
        POINTS,
        SCALE,
        SUBSET_SEEDS,
        SUBSETS_PER_CARRIER,
        analyse,
        group_masks,
        pack,
        subset_masks,
        write_drivers,
    )
    from .scores import percentile_within
    from .sweeps import run_tasks

    points = list(POINTS) if points is None else list(points)
    bad = [p for p in points if p not in POINTS]
    if bad or not points:
        raise ValueError(f"points must be among {list(POINTS)}; got {points!r}")
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be an integer >= 1; got {workers!r}")
    subset_seeds = tuple(SUBSET_SEEDS if subset_seeds is None else subset_seeds)
    group_seeds = tuple(GROUP_SEEDS if group_seeds is None else group_seeds)
    per = SUBSETS_PER_CARRIER if subsets_per_carrier is None else int(subsets_per_carrier)
    scale = SCALE if scale is None else scale
    reps = BOOTSTRAP if reps is None else int(reps)
    t0 = time.perf_counter()
    if state_dir is not None:
        os.makedirs(state_dir, exist_ok=True)
    doc_points, resumed = {}, 0
    for name in points:
        config = preset(scale).replace(**POINTS[name])
        sc = build_scenario(config)
        carriers = sc.carrier_indices.numpy()
        k = len(carriers)
        if workers == 1 and executor is None:
            scores, base_smr = _score_task(config.to_string())
        else:
            scores, base_smr = next(run_tasks(_score_task, [(config.to_string(),)],
                                              workers=1, executor=executor,
                                              threads=None if executor else
                                              max(1, usable_cpus() // workers)))
        scores = np.asarray(scores)
        labels = sc.train.labels.numpy()
        pct = percentile_within(scores, carriers, np.flatnonzero(labels == sc.target_class))
        latent = sc.train.difficulty
        # the tasks: random halves per subset seed, then the decile groups per group seed
        jobs = []
        for seed in subset_seeds:
            masks = subset_masks(k, seed, name)[: per * k]
            for c in range(0, len(masks), CHUNK):
                jobs.append(("subsets", seed, [pack(m) for m in masks[c:c + CHUNK]], None, c))
        gm, gnames = group_masks(scores[carriers])
        for seed in group_seeds:
            jobs.append(("groups", seed, [pack(m) for m in gm], gnames, 0))
        got, todo = {}, []
        for kind, seed, masks, _, c in jobs:
            ident = {"config": config.to_string(), "point": name, "kind": kind, "seed": seed,
                     "masks": fingerprint(masks), "version": __version__}
            piece = f"{name}-{kind}-seed{seed}-{c:05d}-{fingerprint(ident)[:10]}.json.gz"
            done = (_load_piece(state_dir, ident, piece) if state_dir is not None else None)
            if done is not None:
                got[(kind, seed, c)] = done
                resumed += 1
            else:
                todo.append((kind, seed, masks, c, ident, piece))
        if progress:
            progress(f"{name}: {k} carriers; {len(jobs) - len(todo)} of {len(jobs)} pieces "
                     "already done")
        args = [(config.to_string(), seed, masks, k) for _, seed, masks, _, _, _ in todo]
        if workers == 1 and executor is None:
            results = (_retrain_task(*a) for a in args)
        else:
            results = run_tasks(_retrain_task, args, workers=workers, executor=executor)
        for (kind, seed, _, c, ident, piece), rows in zip(todo, results):
            got[(kind, seed, c)] = rows
            if state_dir is not None:
                atomic_write_bytes(os.path.join(state_dir, piece), gzip.compress(json.dumps(
                    {"ident": ident, "rows": rows}).encode(), mtime=0))
            if progress:
                progress(f"{name}: {kind} seed {seed} from {c}: done ({time.perf_counter() - t0:.0f}"
                         " s in all)")
        subsets = {"seed": [], "mask": [], "hits": [], "clean_accuracy": []}
        groups = {"seed": [], "name": [], "hits": [], "clean_accuracy": []}
        for kind, seed, masks, names, c in jobs:
            for i, (hits, acc) in enumerate(got[(kind, seed, c)]):
                table = subsets if kind == "subsets" else groups
                table["seed"].append(seed)
                table["hits"].append(hits)
                table["clean_accuracy"].append(acc)
                if kind == "subsets":
                    table["mask"].append(masks[i])
                else:
                    table["name"].append(names[i])
        n_stamped = int(len(sc.stamped_test))
        point = {"config": config.to_string(), "signal": dict(POINTS[name]),
                 "carriers": carriers.tolist(), "n_stamped": n_stamped,
                 "el2n": [round(float(v), 6) for v in scores[carriers]],
                 "el2n_percentile": [round(float(v), 4) for v in pct],
                 "latent": None if latent is None else
                 [round(float(v), 5) for v in latent.numpy()[carriers]],
                 "baseline_smr": base_smr, "subsets": subsets, "groups": groups}
        point["summary"] = analyse(point, reps=reps)
        doc_points[name] = point
    from .device import get_device
    from .files import environment

    doc = {"format": FORMAT, "version": __version__, "scale": scale,
           "settings": {"keep": KEEP, "subset_seeds": list(subset_seeds),
                        "subsets_per_carrier": per, "group_seeds": list(group_seeds),
                        "bootstrap": reps, "data_seed": 0},
           "provenance": {"command": command, "date": datetime.datetime.now(
                              datetime.timezone.utc).isoformat(timespec="seconds"),
                          "wall_s": round(time.perf_counter() - t0, 1), "workers": workers,
                          "pieces_resumed": resumed,
                          "executor": None if executor is None else type(executor).__name__,
                          "cpus": usable_cpus(), "machine": platform.machine(),
                          **environment(get_device())},
           "points": doc_points}
    write_drivers(path, doc)
    return doc


__all__ = ["build_atlas", "build_drivers", "sparing_feasible", "write_atlas"]
