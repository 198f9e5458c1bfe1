"""The builds that precompute shipped data: the atlas behind the playground (the drivers build
is :mod:`spurlab.driversbuild`).

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

from .atlas import ATLAS_ARMS, ATLAS_GRID, ATLAS_SEEDS, FORMAT, check_atlas, checksum
from .config import PRESETS, as_config, preset


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


def _load_piece(state_dir, ident, name, key="rows"):
    """The ``key`` (rows) of a finished piece, or None when it is not there yet; a piece of
    another build under the same name is refused. The atlas, drivers and explorable builds
    share it."""
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
    return doc[key]


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


__all__ = ["build_atlas", "sparing_feasible", "write_atlas"]
