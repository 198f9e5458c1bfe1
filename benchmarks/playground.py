"""Benchmark the playground headless: slider moves answered from the atlas, one live
verification, and the atlas build's wall time with 1 worker, 2 workers and a local Dask cluster.

    python benchmarks/playground.py --json benchmarks/playground.json
    python benchmarks/playground.py --moves 50 --no-build      # skip the build timings
    python benchmarks/playground.py --explorer --json benchmarks/playground.json   # only the
        # explorer's interactions, added to the file's other numbers

Goals (issue "An instant playground"): slider median <= 0.3 s and p95 <= 1 s including the redraw
(the figure rendered to PNG, as the panel sends it); live first seed <= 2 s and all seeds <= 10 s.
The build is timed on a small sub-grid (--build-grid) from an empty cache each time; the full
atlas's own build time is read from its provenance. Timings drift ~30% between runs and
machines: compare the ratios printed here, from one run.
"""

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time

import matplotlib

matplotlib.use("Agg")

import spurlab as sl  # noqa: E402
from spurlab.atlas import ATLAS_ARMS, ATLAS_PATH  # noqa: E402
from spurlab.builds import build_atlas  # noqa: E402
from spurlab.cache import clear_cache  # noqa: E402
from spurlab.playground import Playground  # noqa: E402

BUILD_GRID = {"thickness": [1], "salience": [0.5, 1.0], "prevalence": [0.3], "prune_ratio": [0.1, 0.3]}
BUILD_SEEDS = (0, 1, 2, 3)


def slider_moves(pg, n, seed):
    """Time ``n`` random moves (one slider or the strategy at a time), each redrawn."""
    rng = random.Random(seed)
    names = list(pg.sliders) + ["strategy"]
    times = []
    for _ in range(n):
        name = rng.choice(names)
        options = ([o[1] for o in pg.strategy.options] if name == "strategy"
                   else [o[1] for o in pg.sliders[name].options])
        current = pg.values()[name]
        value = rng.choice([o for o in options if o != current])
        t = time.perf_counter()
        pg.show(**{name: value})
        times.append(time.perf_counter() - t)
    return times


def live(pg):
    """One live verification of a point at the atlas's scale, from an empty cache."""
    clear_cache()
    os.environ.pop("SPURLAB_CACHE_DIR", None)
    g = pg.atlas.grid
    pg.show(salience=g["salience"][-2], prevalence=g["prevalence"][-2],
            prune_ratio=g["prune_ratio"][-1], strategy="hardest")
    stamps = []
    t = time.perf_counter()
    rows = pg.verify(on_seed=lambda row: stamps.append(time.perf_counter() - t))
    return stamps, rows


def _spread(times):
    q = statistics.quantiles(times, n=20) if len(times) > 1 else times * 19
    return {"n": len(times), "median_s": round(statistics.median(times), 3),
            "p95_s": round(q[18], 3), "max_s": round(max(times), 3)}


def explorer_latency(n, seed):
    """Each interaction of the explorer (spurlab.explorer) with its widgets built, as a learner
    has it (every answer rendered to PNG): ``n`` random moves of one control, ``n // 3`` cell
    clicks, the first stamp toggle (it trains the two models) and ``n // 3`` toggles after it,
    and two rounds of the pruner (the first trains the methods' models too)."""
    from spurlab.explorer import Explorer

    ex = Explorer()
    ex.widget()
    rng = random.Random(seed)
    out = {}

    def timed(fn, *args, **kw):
        t = time.perf_counter()
        fn(*args, **kw)
        return time.perf_counter() - t

    moves = []
    for _ in range(n):
        name = rng.choice(["prune_ratio", "prune_ratio", "salience", "prevalence", "thickness",
                           "arm"])
        options = ex.ex.arms if name == "arm" else ex.grid[name]
        value = rng.choice([o for o in options if o != ex.state[name]])
        moves.append(timed(ex.show, **{name: value}))
    out["move"] = _spread(moves)
    clicks = []
    for _ in range(max(2, n // 3)):
        s, q = rng.choice(ex.grid["salience"]), rng.choice(ex.grid["prevalence"])
        clicks.append(timed(ex.open_cell, s, q))
    out["cell_click"] = _spread(clicks)
    ex.show(arm="hardest")
    clear_cache()
    out["stamp_first_s"] = round(timed(ex.toggle_stamp, True), 2)
    toggles = []
    for i in range(max(2, n // 3)):
        ex.state["test_image"] = i
        toggles.append(timed(ex.toggle_stamp, not ex.state["stamped"]))
    out["stamp_toggle"] = _spread(toggles)
    from spurlab.explorable import PRUNER_BUDGET

    ex.show(thickness=1, salience=0.5, prevalence=0.3, prune_ratio=0.25)
    r = ex.play(ex.pruner_gallery()[:PRUNER_BUDGET])           # the methods, then the learner
    r2 = ex.play(ex.pruner_gallery()[-PRUNER_BUDGET:])         # a second round: the learner only
    out["pruner_methods_s"] = r["methods_s"]
    out["pruner_retrain_s"] = [r["retrain_s"], r2["retrain_s"]]
    print(f"explorer pruner: the methods {r['methods_s']} s (0: read from the shipped file), a "
          f"learner's retrain {r['retrain_s']} s and {r2['retrain_s']} s", flush=True)
    for k in ("move", "cell_click", "stamp_toggle"):
        print(f"explorer {k}: median {out[k]['median_s']} s, p95 {out[k]['p95_s']} s over "
              f"{out[k]['n']}", flush=True)
    print(f"explorer first stamp (trains ERM and the pruned model): {out['stamp_first_s']} s")
    return out


def build_times(workers_list, dask):
    out = {}
    for label, kw in [(f"{w}_workers", {"workers": w}) for w in workers_list] + (
            [("dask_local_2x1", "dask")] if dask else []):
        clear_cache()
        with tempfile.TemporaryDirectory() as tmp:
            t = time.perf_counter()
            if kw == "dask":
                from dask.distributed import Client, LocalCluster

                os.environ["SPURLAB_CACHE_DIR"] = tmp + "/cache"   # the workers inherit it

                with LocalCluster(n_workers=2, threads_per_worker=1, processes=True) as c, \
                        Client(c) as client:
                    t = time.perf_counter()         # cluster start-up not counted
                    build_atlas(os.path.join(tmp, "a.json.gz"), grid=BUILD_GRID,
                                seeds=BUILD_SEEDS, executor=client, cache_dir=tmp + "/cache",
                                progress=None)
            else:
                build_atlas(os.path.join(tmp, "a.json.gz"), grid=BUILD_GRID, seeds=BUILD_SEEDS,
                            cache_dir=tmp + "/cache", progress=None, **kw)
            out[label] = round(time.perf_counter() - t, 1)
        print(f"build {label}: {out[label]} s", flush=True)
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--json", help="write the numbers here")
    p.add_argument("--moves", type=int, default=60)
    p.add_argument("--seed", type=int, default=0, help="seed of the random moves")
    p.add_argument("--no-build", action="store_true", help="skip the build timings")
    p.add_argument("--no-dask", action="store_true", help="skip the Dask build timing")
    p.add_argument("--atlas", default=str(ATLAS_PATH), help="atlas file (default: the shipped one)")
    p.add_argument("--no-live", action="store_true", help="skip the live verification")
    p.add_argument("--explorer", action="store_true",
                   help="time only the explorer's interactions; with --json, update that key of "
                        "the file and keep its other numbers")
    a = p.parse_args(argv)
    if a.moves < 1:
        p.error(f"--moves must be >= 1; got {a.moves}")
    if a.explorer:
        import platform

        import torch

        res = json.load(open(a.json)) if a.json and os.path.exists(a.json) else {}
        res["explorer"] = {**explorer_latency(a.moves, a.seed), "machine": {
            "cpus": sl.usable_cpus(), "processor": platform.processor(),
            "torch": torch.__version__, "threads": torch.get_num_threads()}}
        if a.json:
            sl.results.atomic_write_text(a.json, json.dumps(res, indent=1) + "\n")
        return
    pg = Playground(a.atlas)
    if pg.atlas is None:
        sys.exit(f"no atlas: {pg.notice}")
    pg.show(salience=0.5)                          # warm matplotlib's font cache once
    moves = slider_moves(pg, a.moves, a.seed)
    q = statistics.quantiles(moves, n=20)
    res = {"slider_moves": len(moves), "slider_median_s": round(statistics.median(moves), 3),
           "slider_p95_s": round(q[18], 3), "slider_max_s": round(max(moves), 3)}
    print(f"slider: median {res['slider_median_s']} s, p95 {res['slider_p95_s']} s over "
          f"{len(moves)} moves", flush=True)
    if not a.no_live:
        stamps, rows = live(pg)
        res.update(live_first_seed_s=round(rows[0]["drawn_s"], 2),
                   live_first_seed_complete_s=round(stamps[0], 2),
                   live_all_seeds_s=round(stamps[-1], 2),
                   live_seeds=len(stamps), live_flags=sum(bool(r["flag"]) for r in rows))
        print(f"live: first seed {res['live_first_seed_s']} s, all {len(stamps)} seeds "
              f"{res['live_all_seeds_s']} s, {res['live_flags']} flagged", flush=True)
    atlas = pg.atlas
    res.update(atlas_bytes=os.path.getsize(a.atlas), atlas_cells=len(atlas._cells),
               atlas_seeds=len(atlas.seeds), atlas_arms=len(atlas.arms),
               atlas_build_wall_s=atlas.provenance.get("wall_s"),
               atlas_build_workers=atlas.provenance.get("workers"))
    if not a.no_build:
        bt = build_times([1, 2], not a.no_dask)
        res["build_subgrid"] = {"grid": BUILD_GRID, "seeds": list(BUILD_SEEDS),
                                "arms": list(ATLAS_ARMS), "wall_s": bt}
        if "1_workers" in bt and "2_workers" in bt:
            res["build_speedup_2_workers"] = round(bt["1_workers"] / bt["2_workers"], 2)
        if "dask_local_2x1" in bt:
            res["build_speedup_dask"] = round(bt["1_workers"] / bt["dask_local_2x1"], 2)
    import platform

    import torch

    res["machine"] = {"cpus": sl.usable_cpus(), "processor": platform.processor(),
                      "torch": torch.__version__, "threads": torch.get_num_threads(),
                      "spurlab": sl.__version__}
    print(json.dumps(res, indent=1))
    if a.json:
        sl.results.atomic_write_text(a.json, json.dumps(res, indent=1) + "\n")


if __name__ == "__main__":
    main()
