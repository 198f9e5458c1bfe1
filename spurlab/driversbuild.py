"""The drivers build: which carriers drive the shortcut, measured by retraining
(:mod:`spurlab.drivers` reads what it writes; ``scripts/build_drivers.py`` is its command line).

For each point of :data:`spurlab.drivers.POINTS`: the baseline's early EL2N of every carrier
(seed 0), models retrained on random halves of the carriers (a few per carrier, per training
seed) and on the carriers without each EL2N decile (and with all and none) for every group seed,
then the datamodel and its bootstrap (:func:`spurlab.drivers.analyse`). Every model is a task
for local worker processes (one pool for the whole build) or a Dask cluster; the scoring task
runs beside the first retrainings (the random halves do not depend on the scores), and every
finished piece of retrainings is written to ``state_dir`` as it arrives, so a build resumes on
any machine.
"""

from __future__ import annotations

import contextlib
import datetime
import gzip
import json
import os
import platform
import time

import numpy as np

from .builds import _load_piece
from .config import preset
from .files import atomic_write_bytes

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
    """The baseline's early scores and SMR at ``config_string`` (seed 0), scored in a worker
    like the retrainings (floats in a process that already ran a pool of workers can differ in
    the last bits)."""
    from .config import Config
    from .device import configure_threads
    from .steps import baseline

    if threads is not None:
        configure_threads(threads)
    base = baseline(Config.from_string(config_string), cache=False)
    return list(base.scores), base.metrics.smr


def _task(fn, args, threads=None):
    """One task of the build: ``fn(*args, threads)`` (a pool runs one function)."""
    return fn(*args, threads)


def build_drivers(path, *, points=None, workers=2, executor=None, state_dir=None, command=None,
                  progress=print, subset_seeds=None, subsets_per_carrier=None, group_seeds=None,
                  scale=None, reps=None):
    """Measure which carriers drive the shortcut (:mod:`spurlab.drivers`) and write the file.

    Parameters
    ----------
    path : str or Path
        The gzipped JSON to write (atomically).
    points : sequence of str, optional
        Names in :data:`spurlab.drivers.POINTS` (default: all).
    workers, executor
        Local worker processes (one spawned pool for the whole build; ``workers=1`` runs
        here) or a Dask client, as in :func:`spurlab.sweeps.grid`.
    state_dir : str or Path, optional
        Folder of finished pieces (:data:`spurlab.drivers.CHUNK` retrainings each, written as
        each finishes): a build resumes from it on any machine. Commit it as the build goes.
    subset_seeds, subsets_per_carrier, group_seeds, scale, reps
        Smaller values for a smoke build (defaults: :mod:`spurlab.drivers`' constants).
    """
    from .device import usable_cpus
    from .drivers import (
        BOOTSTRAP,
        GROUP_SEEDS,
        POINTS,
        SCALE,
        SUBSET_SEEDS,
        SUBSETS_PER_CARRIER,
    )
    from .sweeps import worker_pool

    points = list(POINTS) if points is None else list(points)
    bad = [p for p in points if p not in POINTS]
    if bad or not points:
        raise ValueError(f"points must be among {list(POINTS)}; got {points!r}")
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be an integer >= 1; got {workers!r}")
    settings = {"subset_seeds": tuple(SUBSET_SEEDS if subset_seeds is None else subset_seeds),
                "group_seeds": tuple(GROUP_SEEDS if group_seeds is None else group_seeds),
                "per": SUBSETS_PER_CARRIER if subsets_per_carrier is None
                else int(subsets_per_carrier),
                "scale": SCALE if scale is None else scale,
                "reps": BOOTSTRAP if reps is None else int(reps)}
    if state_dir is not None:
        os.makedirs(state_dir, exist_ok=True)
    local = executor is None and workers > 1
    with (worker_pool(workers) if local else contextlib.nullcontext(executor)) as ex:
        threads = max(1, usable_cpus() // workers) if local else None
        return _build(path, points, settings, ex, threads, workers, state_dir, command,
                      progress, local)


def _run(ex, threads, tasks):
    """The results of ``tasks`` (``(fn, args)`` pairs) in order: here, or on ``ex``."""
    from .sweeps import run_tasks

    if ex is None:
        return (fn(*args) for fn, args in tasks)
    return run_tasks(_task, tasks, executor=ex, threads=threads)


def _pieces(name, config, jobs, state_dir):
    """Split ``jobs`` ``(kind, seed, masks, names, start)`` into finished pieces (read from
    ``state_dir``) and the ones to run, each with its identity and file name."""
    from ._version import __version__
    from .cache import fingerprint

    got, todo = {}, []
    for kind, seed, masks, _, c in jobs:
        ident = {"config": config.to_string(), "point": name, "kind": kind, "seed": seed,
                 "masks": fingerprint(masks), "version": __version__}
        piece = f"{name}-{kind}-seed{seed}-{c:05d}-{fingerprint(ident)[:10]}.json.gz"
        done = _load_piece(state_dir, ident, piece) if state_dir is not None else None
        if done is not None:
            got[(kind, seed, c)] = done
        else:
            todo.append((kind, seed, masks, c, ident, piece))
    return got, todo


def _build(path, points, settings, ex, threads, workers, state_dir, command, progress, local):
    from ._version import __version__
    from .build import build_scenario
    from .device import get_device, usable_cpus
    from .drivers import CHUNK, FORMAT, KEEP, POINTS, analyse, group_masks, pack, subset_masks, write_drivers
    from .files import environment
    from .scores import percentile_within

    t0 = time.perf_counter()
    doc_points, resumed = {}, 0

    def save(got, key, rows, ident, piece):
        got[key] = rows
        if state_dir is not None:
            atomic_write_bytes(os.path.join(state_dir, piece), gzip.compress(json.dumps(
                {"ident": ident, "rows": rows}).encode(), mtime=0))
        if progress:
            progress(f"{name}: {key[0]} seed {key[1]} from {key[2]}: done "
                     f"({time.perf_counter() - t0:.0f} s in all)")

    for name in points:
        config = preset(settings["scale"]).replace(**POINTS[name])
        cfg = config.to_string()
        sc = build_scenario(config)
        carriers = sc.carrier_indices.numpy()
        k = len(carriers)
        # the random halves do not depend on the scores: they run beside the scoring task
        jobs = []
        for seed in settings["subset_seeds"]:
            masks = subset_masks(k, seed, name)[: settings["per"] * k]
            jobs += [("subsets", seed, [pack(m) for m in masks[c:c + CHUNK]], None, c)
                     for c in range(0, len(masks), CHUNK)]
        got, todo = _pieces(name, config, jobs, state_dir)
        resumed += len(got)
        results = _run(ex, threads, [(_score_task, (cfg,))] + [
            (_retrain_task, (cfg, seed, masks, k)) for _, seed, masks, _, _, _ in todo])
        scores, base_smr = next(iter(results))
        scores = np.asarray(scores)
        for (kind, seed, _, c, ident, piece), rows in zip(todo, results):
            save(got, (kind, seed, c), rows, ident, piece)
        # the decile groups need the scores
        gm, gnames = group_masks(scores[carriers])
        gjobs = [("groups", seed, [pack(m) for m in gm], gnames, 0)
                 for seed in settings["group_seeds"]]
        ggot, gtodo = _pieces(name, config, gjobs, state_dir)
        resumed += len(ggot)
        got.update(ggot)
        for (kind, seed, _, c, ident, piece), rows in zip(gtodo, _run(ex, threads, [
                (_retrain_task, (cfg, seed, masks, k)) for _, seed, masks, _, _, _ in gtodo])):
            save(got, (kind, seed, c), rows, ident, piece)
        subsets = {"seed": [], "mask": [], "hits": [], "clean_accuracy": []}
        groups = {"seed": [], "name": [], "hits": [], "clean_accuracy": []}
        for kind, seed, masks, names, c in jobs + gjobs:
            table = subsets if kind == "subsets" else groups
            for i, (hits, acc) in enumerate(got[(kind, seed, c)]):
                table["seed"].append(seed)
                table["hits"].append(hits)
                table["clean_accuracy"].append(acc)
                table["mask" if kind == "subsets" else "name"].append(
                    masks[i] if kind == "subsets" else names[i])
        labels = sc.train.labels.numpy()
        latent = sc.train.difficulty
        point = {"config": cfg, "signal": dict(POINTS[name]), "carriers": carriers.tolist(),
                 "n_stamped": int(len(sc.stamped_test)),
                 "el2n": [round(float(v), 6) for v in scores[carriers]],
                 "el2n_percentile": [round(float(v), 4) for v in percentile_within(
                     scores, carriers, np.flatnonzero(labels == sc.target_class))],
                 "latent": None if latent is None else
                 [round(float(v), 5) for v in latent.numpy()[carriers]],
                 "baseline_smr": base_smr, "subsets": subsets, "groups": groups}
        point["summary"] = analyse(point, reps=settings["reps"])
        doc_points[name] = point
    doc = {"format": FORMAT, "version": __version__, "scale": settings["scale"],
           "settings": {"keep": KEEP, "subset_seeds": list(settings["subset_seeds"]),
                        "subsets_per_carrier": settings["per"],
                        "group_seeds": list(settings["group_seeds"]),
                        "bootstrap": settings["reps"], "data_seed": 0},
           "provenance": {"command": command, "date": datetime.datetime.now(
                              datetime.timezone.utc).isoformat(timespec="seconds"),
                          "wall_s": round(time.perf_counter() - t0, 1), "workers": workers,
                          "pieces_resumed": resumed,
                          "executor": None if ex is None or local else type(ex).__name__,
                          "cpus": usable_cpus(), "machine": platform.machine(),
                          **environment(get_device())},
           "points": doc_points}
    write_drivers(path, doc)
    return doc


__all__ = ["build_drivers"]
