"""Grids of experiments: sweep the prune ratio, the salience or the prevalence over seeds,
here, in local worker processes or on a Dask cluster.

Every point runs through :func:`spurlab.run`, so the engine's cache is shared: the baseline
(ERM model and early scores) is trained once per setting and reused by every prune ratio and
arm, and the reference model (which never sees the feature) once per data, recipe and seed.

Examples
--------
>>> rows = grid("n_train=600 n_test=120 epochs=2 score_epoch=1",
...             {"prune_ratio": [0.1, 0.3]}, seeds=[0], arms=["hardest"], reference=False)
>>> [r["prune_ratio"] for r in rows], rows[0]["smr_baseline"] == rows[1]["smr_baseline"]
([0.1, 0.3], True)
"""

from __future__ import annotations

import contextlib
import itertools

from ._validate import check_seeds
from .arms import check_arms
from .config import PRUNE_KNOBS, Config, as_config
from .flatten import pivot
from .flatten import rows as result_rows
from .pipeline import run


def _check_axes(config, axes):
    if not isinstance(axes, dict) or not axes:
        raise ValueError("axes must name at least one config knob with its values, e.g. "
                         f"{{'prune_ratio': [0.1, 0.3]}}; got {axes!r}")
    if "seed" in axes:
        raise ValueError("axes must not hold 'seed': give the seeds with seeds= (an axis would "
                         "silently override them)")
    arm_axes = [n for n in ("strategy", "scope") if n in axes]
    if arm_axes:
        raise ValueError(f"axes must not hold {arm_axes[0]!r}: the arms say which samples are "
                         "pruned, so give them with arms=, e.g. arms=['hardest', "
                         "'random/global', 'hardest/oracle'] (an axis would be ignored)")
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
    outer = [n for n in axes if n not in PRUNE_KNOBS]
    inner = [n for n in axes if n in PRUNE_KNOBS]
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
        result = run(config.replace(**values), arms=arms, reference=reference, device=device,
                     progress=progress)
        rows.append({**values, **result_rows(result, arms)})
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
        Arms (see :func:`spurlab.run`).
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
        :func:`spurlab.flatten.rows` plus one key per axis; seed-major, and within a seed the axes that
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

    config = as_config(config)
    _check_axes(config, axes)
    seeds = check_seeds(seeds)
    arms = check_arms(arms)
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

    rows = []
    for task_rows in run_tasks(_run_task, [(c, p, arms, reference, device) for c, p in tasks],
                               workers=workers, executor=executor, threads=threads):
        rows.extend(task_rows)
        if on_row is not None:
            for row in task_rows:
                on_row(row)
    return rows


def run_tasks(fn, tasks, *, workers=2, executor=None, threads=None):
    """Run ``fn(*args, threads)`` for every ``args`` in ``tasks`` in local worker processes or
    on a distributed engine; yield the results in the order of ``tasks`` as they arrive.

    The machinery behind :func:`grid` and the drivers build
    (:func:`spurlab.driversbuild.build_drivers`): ``fn`` must be importable by the workers (a
    module-level function) and take the torch thread count as its last argument.

    Parameters
    ----------
    fn : callable
    tasks : sequence of tuple
    workers : int
        Local worker processes (:func:`worker_pool`), each with ``threads`` torch threads,
        default ``max(1, usable_cpus() // workers)``.
    executor : object with ``submit(fn, *args)``, optional
        A ``dask.distributed.Client``, a ``concurrent.futures.Executor`` or a
        :func:`worker_pool`; ``threads`` then defaults to 1 per task.
    threads : int, optional
    """
    from .device import usable_cpus

    if executor is None:
        with worker_pool(workers) as pool:
            yield from run_tasks(fn, tasks, executor=pool,
                                 threads=threads or max(1, usable_cpus() // workers))
        return
    futures = [executor.submit(_remote, fn, *args, threads or 1) for args in tasks]
    for fut in futures:                       # in submission order: the same order as workers=1
        yield fut.result()


def _remote(fn, *args):
    """A task on a worker: ``fn(*args)``, after undoing an allocator setting that slows
    training (:func:`spurlab.device.undo_malloc_trim`: Dask's workers set it)."""
    from .device import undo_malloc_trim

    undo_malloc_trim()
    return fn(*args)


@contextlib.contextmanager
def worker_pool(workers):
    """A pool of ``workers`` spawned worker processes (a ``concurrent.futures`` executor) for
    :func:`run_tasks`, whose idle OpenMP threads sleep instead of spinning
    (``OMP_WAIT_POLICY=PASSIVE``, unless the user set it), so that workers sharing the cores
    run side by side (the test suite's conftest sets the same). Spawn, not fork: a forked copy
    of a process that already ran torch threads can hang."""
    import concurrent.futures
    import multiprocessing
    import os

    saved = os.environ.get("OMP_WAIT_POLICY")
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")     # the workers inherit it at spawn
    pool = concurrent.futures.ProcessPoolExecutor(
        max_workers=workers, mp_context=multiprocessing.get_context("spawn"))
    try:
        yield pool
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        if saved is None:
            os.environ.pop("OMP_WAIT_POLICY", None)
        else:
            os.environ["OMP_WAIT_POLICY"] = saved


@contextlib.contextmanager
def build_executor(*, dask=False, scheduler=None, workers=2):
    """The executor a build's command line asked for, as a context: a client of the Dask
    cluster at ``scheduler``, a :func:`local_cluster` of ``workers`` workers (``dask=True``), or
    ``None`` (local worker processes; the build's ``workers=`` says how many)."""
    if dask and scheduler:
        raise ValueError("give dask=True (start a local cluster) or scheduler (use one), not both")
    if scheduler:
        from dask.distributed import Client

        with Client(scheduler) as client:
            yield client
    elif dask:
        with local_cluster(workers) as client:
            yield client
    else:
        yield None


def executor_arguments(parser, scheduler_note=""):
    """Add a build script's ``--workers``, ``--dask`` and ``--scheduler`` (what
    :func:`build_executor` takes) to an ``argparse`` parser; :func:`check_executor_arguments`
    refuses bad values."""
    parser.add_argument("--workers", type=int, default=2, help="local worker processes (default 2)")
    parser.add_argument("--dask", action="store_true", help="run on a local Dask cluster instead")
    parser.add_argument("--scheduler", default=None,
                        help="address of an existing Dask scheduler, e.g. tcp://10.0.0.5:8786"
                             + scheduler_note)


def check_executor_arguments(parser, args):
    """Refuse ``--workers`` below 1 and ``--dask`` with ``--scheduler``, by name (argparse's
    error: usage, the message, exit status 2)."""
    if args.workers < 1:
        parser.error(f"--workers must be >= 1; got {args.workers}")
    if args.dask and args.scheduler:
        parser.error("give --dask (start a local cluster) or --scheduler ADDRESS (use one), not "
                     "both")


@contextlib.contextmanager
def local_cluster(n_workers=None):
    """A local Dask cluster set up for spurlab's work, as a ``dask.distributed.Client``:
    ``n_workers`` worker processes (default: the usable cores) of one thread each, idle OpenMP
    threads asleep (``OMP_WAIT_POLICY=PASSIVE``), and without the ``MALLOC_TRIM_THRESHOLD_=65536``
    that Dask's nannies set by default: it returns freed memory to the system so eagerly that
    training the tiny CNN ran 1.47x slower (3.3 s -> 4.8 s for 15 smoke-scale models on this
    2-core machine), which kept a 2-worker cluster at one worker's speed.

    Examples
    --------
    >>> with local_cluster(2) as client:                          # doctest: +SKIP
    ...     rows = grid(cfg, {"salience": [0.3, 1.0]}, seeds=range(4), executor=client)
    """
    import dask
    from dask.distributed import Client, LocalCluster

    from .device import usable_cpus

    env = {k: v for k, v in dask.config.get("distributed.nanny.pre-spawn-environ", {}).items()
           if k != "MALLOC_TRIM_THRESHOLD_"}
    env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    with dask.config.set({"distributed.nanny.pre-spawn-environ": env}), \
            LocalCluster(n_workers=n_workers or usable_cpus(), threads_per_worker=1,
                         dashboard_address=None) as cluster, Client(cluster) as client:
        yield client


# pivot: spurlab.flatten's, here for the sweeps it reads
__all__ = ["build_executor", "grid", "local_cluster", "pivot", "run_tasks", "worker_pool"]
