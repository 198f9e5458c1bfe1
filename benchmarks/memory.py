"""Memory of a long-lived kernel: one process verifies many playground points live, as a class
server's kernel would, and its resident memory is read after each point.

    python benchmarks/memory.py --json benchmarks/memory.json          # 100 points, one seed
    python benchmarks/memory.py --points 30 --cache-mb 64              # a smaller budget

Goal (issue "Runs right anywhere"): the peak stays within 1.5 GB, and memory is flat after a
warm-up: the engine's memory cache holds at most ``$SPURLAB_CACHE_MEMORY_MB`` (default 256 MB)
of tensors, models and scores, forgetting the least recently used entries first, and keeps a
trained model only when asked. Printed: the peak, the memory after the warm-up and at the end,
the growth per point over the second half, and the cache's own bytes.
"""

import argparse
import os
import random
import resource
import sys
import time

import matplotlib

matplotlib.use("Agg")

from record import write  # noqa: E402

from spurlab.cache import CACHE  # noqa: E402
from spurlab.playground import Playground  # noqa: E402


def cache_mb():
    """The memory cache's own bytes, in MB (None for a spurlab whose cache is not bounded)."""
    return round(CACHE.nbytes() / 2 ** 20, 1) if hasattr(CACHE, "nbytes") else None


def rss_mb():
    """Resident memory of this process now, in MB (from /proc; 0 where it cannot be read)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=100, help="live points to verify (default 100)")
    ap.add_argument("--warmup", type=int, default=20, help="points before memory should be flat")
    ap.add_argument("--cache-mb", type=float, default=None,
                    help="the memory cache's budget (default: $SPURLAB_CACHE_MEMORY_MB or 256)")
    ap.add_argument("--seed", type=int, default=0, help="seeds the order of the points")
    ap.add_argument("--json", help="write the measurements here")
    args = ap.parse_args(argv)
    if args.cache_mb is not None:
        CACHE.max_mb = args.cache_mb
    os.environ.pop("SPURLAB_CACHE_DIR", None)                  # memory only: what is measured
    pg = Playground(seeds=[0])
    grid = pg.atlas.grid
    rng = random.Random(args.seed)
    points = [(rng.choice(grid["salience"]), rng.choice(grid["prevalence"]),
               rng.choice(grid["prune_ratio"])) for _ in range(args.points)]
    trace, t0 = [], time.perf_counter()
    for i, (s, q, p) in enumerate(points, 1):
        pg.run_live(s, q, p)
        trace.append({"point": i, "rss_mb": round(rss_mb(), 1), "cache_mb": cache_mb()})
        if i % 10 == 0:
            print(f"{i:4d} points, {time.perf_counter() - t0:6.0f} s: rss {trace[-1]['rss_mb']:.0f} MB,"
                  f" cache {trace[-1]['cache_mb']} MB", flush=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    half = trace[len(trace) // 2:]
    slope = (half[-1]["rss_mb"] - half[0]["rss_mb"]) / max(len(half) - 1, 1)
    warm = trace[min(args.warmup, len(trace)) - 1]["rss_mb"]
    budget = CACHE.budget() / 2 ** 20 if hasattr(CACHE, "budget") else None
    out = {"points": args.points, "warmup": args.warmup, "cache_budget_mb": budget,
           "peak_rss_mb": round(peak, 1), "rss_after_warmup_mb": warm,
           "rss_end_mb": trace[-1]["rss_mb"], "growth_per_point_second_half_mb": round(slope, 3),
           "cache_end_mb": trace[-1]["cache_mb"], "seconds": round(time.perf_counter() - t0, 1),
           "goal": "peak <= 1.5 GB, flat after warm-up", "trace": trace}
    print(f"peak {peak:.0f} MB (goal <= 1536); after {args.warmup} points {warm:.0f} MB, at the end "
          f"{trace[-1]['rss_mb']:.0f} MB; growth over the second half {slope:+.2f} MB per point; "
          f"cache {trace[-1]['cache_mb']} MB of a {budget} MB budget")
    write(out, args.json, argv)
    return 0


if __name__ == "__main__":
    sys.exit(main())
