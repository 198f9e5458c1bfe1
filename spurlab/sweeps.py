"""Grids of experiments that share work: sweep the prune ratio, the salience or the prevalence
without retraining what does not change.

:func:`spurlab.run` trains everything for one config. Over a grid most of that is repeated:

- the **baseline** (ERM model and its early scores) does not depend on the prune ratio, so it is
  trained once per setting and every ratio only retrains the pruned arms;
- the **reference** model (trained without any carrier) does not depend on the spurious feature
  at all (salience, prevalence, placement, target class), so it is trained once per seed and
  evaluated on each setting's stamped test set;
- every pruned arm is kept, so asking for the same setting again is instant.

The numbers are the same as :func:`spurlab.run` gives for the same config (same seeds, same
recipe); only repeated trainings are skipped. The cache lives in memory for the session
(:func:`clear_cache` empties it).

Examples
--------
>>> from spurlab import preset
>>> cfg = preset("quick", n_train=600, n_test=120, epochs=2, score_epoch=1)
>>> rs = [run(cfg.replace(prune_ratio=p), ["hardest"], reference=False) for p in (0.1, 0.3)]
>>> [r.config.prune_ratio for r in rs], rs[0].baseline == rs[1].baseline
([0.1, 0.3], True)
"""

from __future__ import annotations

import itertools
import math
import time

import numpy as np

from .device import get_device
from .experiment import Config, Result, _fit, build_scenario, early_scores, environment, evaluate, parse_arm
from .prune import prune
from .scores import percentile_within

# knobs that only change what happens after the baseline is trained
_PRUNE_KNOBS = ("prune_ratio", "strategy", "scope", "jtt_upweight")
# knobs that only change the spurious feature and its placement: the reference model, trained
# on the clean data, does not see them (nor the score used for pruning)
_FEATURE_KNOBS = ("feature", "salience", "target_class", "prevalence", "placement", "band_low",
                  "band_high", "score", "score_epoch", "score_seeds")

_BASELINES = {}
_REFERENCES = {}
_ARMS = {}


def _key(config, knobs):
    return tuple((k, v) for k, v in config.to_dict().items() if k not in knobs)


def clear_cache():
    """Forget every cached baseline, reference model and pruned arm."""
    _BASELINES.clear()
    _REFERENCES.clear()
    _ARMS.clear()


def cache_info():
    """How many baselines, reference models and pruned arms are cached, as a dict."""
    return {"baselines": len(_BASELINES), "references": len(_REFERENCES), "arms": len(_ARMS)}


def _as_config(config):
    if isinstance(config, str):
        return Config.from_string(config)
    if not isinstance(config, Config):
        raise TypeError(f"config must be a Config or a config string; got {type(config).__name__}")
    return config


def baseline(config, *, device=None, progress=False):
    """The baseline of ``config`` (cached; the prune knobs are ignored).

    Returns
    -------
    dict
        ``scenario``, ``clean_train``, ``metrics`` (see :func:`spurlab.evaluate`), ``scores``
        (early score of every training sample, numpy), ``regime_percentile``, ``history`` and
        ``seconds`` (time it took to train, 0 when cached).
    """
    config = _as_config(config)
    key = _key(config, _PRUNE_KNOBS)
    if key in _BASELINES:
        return {**_BASELINES[key], "seconds": 0.0}
    dev = get_device(device)
    t = time.perf_counter()
    sc, clean_train = build_scenario(config, device=dev, progress=progress)
    model, scores, hist, _ = early_scores(config, sc, device=dev, progress=progress)
    s_np = scores.numpy().astype(np.float64)
    c1_idx = np.flatnonzero(sc.train.labels.numpy() == config.target_class)
    carriers = sc.carrier.numpy()
    regime = (float(np.mean(percentile_within(s_np, np.flatnonzero(carriers), c1_idx)))
              if carriers.any() else float("nan"))
    out = {"scenario": sc, "clean_train": clean_train, "metrics": evaluate(model, sc, device=dev),
           "scores": s_np, "regime_percentile": regime, "history": hist,
           "seconds": time.perf_counter() - t}
    _BASELINES[key] = out
    return out


def reference(config, *, device=None, progress=False):
    """Metrics of the no-carrier reference model on ``config``'s scenario.

    The model is trained once per data/recipe/seed and re-evaluated for every feature setting.
    """
    config = _as_config(config)
    dev = get_device(device)
    key = _key(config, _PRUNE_KNOBS + _FEATURE_KNOBS)
    base = baseline(config, device=dev, progress=progress)
    if key not in _REFERENCES:
        clean = base["clean_train"]
        model, hist = _fit(config, clean.images, clean.labels, clean.num_classes,
                           seed=config.seed, device=dev, progress=progress, desc="reference")
        _REFERENCES[key] = (model, hist, {})
    model, hist, evaluated = _REFERENCES[key]
    skey = _key(config, _PRUNE_KNOBS)
    if skey not in evaluated:
        evaluated[skey] = evaluate(model, base["scenario"], device=dev)
    return evaluated[skey], hist


def _arm(config, name, base, dev, progress):
    strategy, scope = parse_arm(name)
    key = (_key(config, ("strategy", "scope", "jtt_upweight")), name)
    if key in _ARMS:
        return _ARMS[key]
    sc = base["scenario"]
    y = sc.train.labels
    carriers = sc.carrier.numpy()
    kw = {"per_class": scope in ("class", "target", "oracle")}
    if scope == "target":
        kw["classes"] = [config.target_class]
    if scope == "oracle":
        if not carriers.any():
            raise ValueError("scope='oracle' needs carriers; prevalence is 0")
        kw["within"] = carriers
    keep = prune(base["scores"], y.numpy(), config.prune_ratio, strategy=strategy,
                 seed=config.seed, **kw)
    t = time.perf_counter()
    model, hist = _fit(config, sc.train.images[keep], y[keep], sc.train.num_classes,
                       seed=config.seed, device=dev, progress=progress, desc=f"retrain {name}")
    pruned = np.setdiff1d(np.arange(len(y)), keep)
    g = sc.train_groups.numpy()
    out = {"metrics": evaluate(model, sc, device=dev), "n_kept": int(len(keep)),
           "carriers_pruned": int(carriers[pruned].sum()),
           "pruned_by_group": np.bincount(g[pruned], minlength=sc.num_groups).tolist(),
           "pruned": pruned.tolist(), "history": hist, "seconds": time.perf_counter() - t}
    _ARMS[key] = out
    return out


def _check_pruning_arms(arms):
    for name in arms:
        if parse_arm(name)[0] == "jtt":
            raise ValueError("arm 'jtt' is not a pruning arm; spurlab.sweeps runs pruning arms "
                             "(hardest, random, easiest, with /class, /global, /target or "
                             "/oracle); use spurlab.run for 'jtt'")


def run(config, arms=("hardest",), *, reference=True, device=None, progress=False):
    """:func:`spurlab.run` for pruning arms, reusing cached baselines, references and arms.

    Parameters
    ----------
    config : Config or str
    arms : sequence of str
        Pruning arms, e.g. ``['hardest', 'random', 'easiest', 'hardest/oracle']``.
    reference : bool
        Include the no-carrier reference model (needed for :meth:`Result.excess_removed`).
    device : str, optional
    progress : bool

    Returns
    -------
    spurlab.Result
        As from :func:`spurlab.run`; ``timings`` holds the seconds actually spent (0 for
        cached parts).

    Examples
    --------
    >>> r = run("n_train=600 n_test=120 epochs=2 score_epoch=1", ["random"], reference=False)
    >>> sorted(r.arms), r.reference is None
    (['random'], True)
    """
    config = _as_config(config)
    arms = list(arms)
    _check_pruning_arms(arms)  # every arm, before training anything
    dev = get_device(device)
    t0 = time.perf_counter()
    base = baseline(config, device=dev, progress=progress)
    timings = {"baseline": base["seconds"]}
    history = {"baseline": base["history"]}
    results = {}
    for name in arms:
        t = time.perf_counter()
        a = _arm(config, name, base, dev, progress)
        results[name] = {k: v for k, v in a.items() if k not in ("history", "seconds")}
        history[name] = a["history"]
        timings[f"retrain {name}"] = time.perf_counter() - t
    ref = None
    if reference:
        t = time.perf_counter()
        ref, history["reference"] = reference_metrics(config, device=dev, progress=progress)
        timings["reference"] = time.perf_counter() - t
    timings["total"] = time.perf_counter() - t0
    sc = base["scenario"]
    return Result(config, base["metrics"], results, ref, base["regime_percentile"],
                  int(sc.carrier.sum()), sc.describe(), timings, environment(dev), history,
                  base["scores"].tolist())


reference_metrics = reference  # ``run`` has an argument named ``reference``


def run_seeds(config, seeds, arms=("hardest",), *, reference=True, device=None, progress=False):
    """:func:`run` for each seed; returns the list of results."""
    config = _as_config(config)
    return [run(config.replace(seed=int(s)), arms, reference=reference, device=device,
                progress=progress) for s in seeds]


def summary_row(result, arms=None):
    """The headline numbers of one :class:`spurlab.Result` as a flat JSON-able dict.

    Keys: ``seed``, ``regime_percentile``, ``carriers``, ``smr_baseline``,
    ``smr_clean_baseline``, ``clean_accuracy_baseline``, ``worst_group_baseline``,
    ``smr_reference`` (or None) and, per arm ``a``: ``smr_a``, ``clean_accuracy_a``,
    ``worst_group_a``, ``carriers_pruned_a``, ``excess_removed_a`` (None when undefined).
    """
    def num(x):
        return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)

    b = result.baseline
    row = {"seed": result.config.seed, "regime_percentile": num(result.regime_percentile),
           "carriers": result.carriers, "smr_baseline": b["smr"],
           "smr_clean_baseline": b["smr_clean"], "clean_accuracy_baseline": b["clean_accuracy"],
           "worst_group_baseline": b["worst_group_accuracy"],
           "smr_reference": None if result.reference is None else result.reference["smr"]}
    for a in (result.arms if arms is None else arms):
        m = result.arms[a]["metrics"]
        row[f"smr_{a}"] = m["smr"]
        row[f"clean_accuracy_{a}"] = m["clean_accuracy"]
        row[f"worst_group_{a}"] = m["worst_group_accuracy"]
        row[f"carriers_pruned_{a}"] = result.arms[a]["carriers_pruned"]
        row[f"excess_removed_{a}"] = num(result.excess_removed(a))
    return row


def _check_axes(config, axes):
    if not isinstance(axes, dict) or not axes:
        raise ValueError("axes must name at least one config knob with its values, e.g. "
                         f"{{'prune_ratio': [0.1, 0.3]}}; got {axes!r}")
    unknown = [n for n in axes if not hasattr(config, n)]
    if unknown:
        raise ValueError(f"axes must be Config knobs; unknown: {unknown}")
    for n, values in axes.items():
        if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__") or not list(values):
            raise ValueError(f"axes[{n!r}] must be a non-empty sequence of values; got {values!r}")
    # build every config now: a bad value fails here, before anything trains
    for values in itertools.product(*axes.values()):
        config.replace(**dict(zip(axes, values)))


def _tasks(config, axes, seeds):
    """Split a grid into independent tasks: one per seed and setting of the axes that change the
    baseline, each running every value of the prune axes (which reuse that baseline)."""
    outer = [n for n in axes if n not in _PRUNE_KNOBS]
    inner = [n for n in axes if n in _PRUNE_KNOBS]
    tasks = []
    for seed in seeds:
        for ov in itertools.product(*(axes[n] for n in outer)):
            points = []
            for iv in itertools.product(*(axes[n] for n in inner)):
                values = dict(zip(outer, ov), **dict(zip(inner, iv)))
                points.append({n: values[n] for n in axes})        # keep the caller's axis order
            tasks.append((config.replace(seed=int(seed)).to_string(), points))
    return tasks


def _run_task(config_string, points, arms, reference, device, threads, progress=False,
              on_row=None):
    """Run one task's points and return their rows (plain dicts); the worker side of
    :func:`grid`, also used in this process (``threads=None`` leaves the threads alone)."""
    from .device import configure_threads

    if threads is not None:
        configure_threads(threads)
    config = Config.from_string(config_string)
    rows = []
    for values in points:
        result = run(config.replace(**values), arms, reference=reference, device=device,
                     progress=progress)
        rows.append({**values, **summary_row(result, arms)})
        if on_row is not None:
            on_row(rows[-1])
    return rows


def grid(config, axes, seeds, arms=("hardest", "random"), *, reference=True, device=None,
         progress=False, on_row=None, workers=1, executor=None, threads=None):
    """Run every combination of the ``axes`` values for every seed; one summary row each.

    Work is split into tasks, one per seed and setting of the axes that change the baseline
    (everything but ``prune_ratio``, ``strategy``, ``scope``, ``jtt_upweight``); a task trains
    its baseline once and runs every prune setting on it. Tasks run here (``workers=1``), in
    local worker processes (``workers > 1``), or on a distributed engine (``executor``). Every
    task is seeded, so the rows are the same wherever they run, in the same order.

    Parameters
    ----------
    config : Config or str
        The starting setting.
    axes : dict of str -> sequence
        Config knob -> values, e.g. ``{"salience": [0.3, 1.0], "prune_ratio": [0.1, 0.4]}``.
    seeds : sequence of int
    arms : sequence of str
        Pruning arms (see :func:`run`).
    reference : bool
        Include the no-carrier reference model. In one process it is trained once per seed;
        with workers, once per task.
    device : str, optional
    progress : bool
        Progress bars (only with ``workers=1`` and no executor).
    on_row : callable, optional
        Called with each row as it is produced (with workers: as each task finishes).
    workers : int
        Local worker processes (default 1: run here). Each gets ``threads`` torch threads,
        default ``max(1, usable_cpus() // workers)``, so workers x threads never exceeds the cores.
    executor : object with ``submit(fn, *args)``, optional
        A distributed engine, e.g. a ``dask.distributed.Client`` (or any
        ``concurrent.futures.Executor``); tasks are submitted to it and their rows gathered.
        ``threads`` then defaults to 1 per task: give each engine worker one task slot per
        thread you allow it. For Ray, use Ray's Dask scheduler or a ``concurrent.futures``-style
        executor backed by Ray.
    threads : int, optional
        torch threads per task (see ``workers`` and ``executor``); with ``workers=1``, the
        threads used here for the call (default: leave them as they are). Float sums can depend
        on the thread count, so compare runs made with the same ``threads``.

    Returns
    -------
    list of dict
        :func:`summary_row` plus one key per axis; seed-major, and within a seed the axes that
        change the baseline vary slowest. The order does not depend on where tasks run.

    Examples
    --------
    >>> rows = grid("n_train=600 n_test=120 epochs=2 score_epoch=1",
    ...             {"prune_ratio": [0.1, 0.3]}, seeds=[0], arms=["hardest"], reference=False)
    >>> [r["prune_ratio"] for r in rows]
    [0.1, 0.3]

    On a Dask cluster (a local one here)::

        from dask.distributed import Client, LocalCluster
        with LocalCluster(n_workers=2, threads_per_worker=1) as cluster, Client(cluster) as client:
            rows = grid(cfg, {"salience": [0.3, 0.6, 1.0], "prune_ratio": [0.1, 0.3]}, seeds=range(5),
                        executor=client)
    """
    from .device import usable_cpus

    config = _as_config(config)
    _check_axes(config, axes)
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ValueError("seeds must hold at least one seed; got an empty sequence")
    arms = list(arms)
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be an integer >= 1; got {workers!r}")
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int)
                                or threads < 1):
        raise ValueError(f"threads must be an integer >= 1 or None; got {threads!r}")
    if executor is not None and not callable(getattr(executor, "submit", None)):
        raise TypeError("executor must have a submit(fn, *args) method (a dask.distributed.Client "
                        f"or a concurrent.futures.Executor); got {type(executor).__name__}")
    if executor is not None and workers != 1:
        raise ValueError("give either workers (local processes) or executor, not both")
    _check_pruning_arms(arms)  # fail before anything is trained or submitted
    tasks = _tasks(config, axes, seeds)

    if executor is None and workers == 1:
        import torch

        from .device import configure_threads

        before = torch.get_num_threads()
        if threads is not None:
            configure_threads(threads)
        try:
            return [row for cfg_string, points in tasks
                    for row in _run_task(cfg_string, points, arms, reference, device, None,
                                         progress, on_row)]
        finally:
            if threads is not None:
                torch.set_num_threads(before)

    own = None
    if executor is None:
        import concurrent.futures
        import multiprocessing

        threads = threads or max(1, usable_cpus() // workers)
        # spawn, not fork: a forked copy of a process that already ran torch threads can hang
        own = executor = concurrent.futures.ProcessPoolExecutor(
            max_workers=workers, mp_context=multiprocessing.get_context("spawn"))
    else:
        threads = threads or 1
    try:
        futures = [executor.submit(_run_task, cfg_string, points, arms, reference, device, threads)
                   for cfg_string, points in tasks]
        rows = []
        for fut in futures:                   # in submission order: the same order as workers=1
            task_rows = fut.result()
            rows.extend(task_rows)
            if on_row is not None:
                for row in task_rows:
                    on_row(row)
        return rows
    finally:
        if own is not None:
            own.shutdown(wait=True, cancel_futures=True)


def pivot(rows, row_key, col_key, value):
    """Mean and standard deviation over seeds of ``value`` on a ``row_key`` x ``col_key`` grid.

    Parameters
    ----------
    rows : list of dict
        As returned by :func:`grid` (or read back from its JSON).
    row_key, col_key : str
        Two axis names.
    value : str or callable
        A row key (``'excess_removed_hardest'``) or ``fn(row) -> float``.

    Returns
    -------
    row_values, col_values, mean, sd
        Sorted axis values and two ``(len(row_values), len(col_values))`` arrays (NaN where no
        value was defined).

    Examples
    --------
    >>> rows = [{"a": 1, "b": 2, "v": 0.5}, {"a": 1, "b": 2, "v": 0.7}]
    >>> pivot(rows, "a", "b", "v")[2]
    array([[0.6]])
    """
    fn = value if callable(value) else (lambda r: r[value])
    rv = sorted({r[row_key] for r in rows})
    cv = sorted({r[col_key] for r in rows})
    cells = {}
    for r in rows:
        v = fn(r)
        if v is not None and not (isinstance(v, float) and math.isnan(v)):
            cells.setdefault((r[row_key], r[col_key]), []).append(float(v))
    mean = np.full((len(rv), len(cv)), np.nan)
    sd = np.full((len(rv), len(cv)), np.nan)
    for i, a in enumerate(rv):
        for j, b in enumerate(cv):
            v = cells.get((a, b))
            if v:
                mean[i, j] = np.mean(v)
                sd[i, j] = np.std(v, ddof=1) if len(v) > 1 else 0.0
    return rv, cv, mean, sd


__all__ = ["baseline", "cache_info", "clear_cache", "grid", "pivot", "reference", "run",
           "run_seeds", "summary_row"]
