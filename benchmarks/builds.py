"""Benchmark the builds' parallel paths: one drivers build (smoke scale, the default point, 5 random
halves per carrier for 4 seeds) with 1 worker (this process, its torch threads), 2 local workers and
a local Dask cluster of 2 single-thread workers, each from an empty state folder; prints the
speedups over 1 worker.

    python benchmarks/builds.py --json benchmarks/builds.json

Goal (issue "Which samples drive it", part 5): the Dask cluster reaches >= 1.5x one worker on 2
cores. Timings drift ~30% between runs and machines: compare the ratios of one run.
"""

import argparse
import json
import os
import platform
import sys
import tempfile
import time

from spurlab.driversbuild import build_drivers

KW = dict(scale="smoke", points=["default"], subset_seeds=(0, 1, 2, 3), subsets_per_carrier=5,
          group_seeds=(0, 1), reps=20, progress=None)


def timed(**kw):
    with tempfile.TemporaryDirectory() as d:
        t = time.perf_counter()
        doc = build_drivers(os.path.join(d, "d.json.gz"), **KW, **kw)
        return time.perf_counter() - t, doc["points"]["default"]["subsets"]["hits"]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--json", default=None, help="write the measurements here")
    a = p.parse_args(argv)
    one, hits1 = timed(workers=1)
    two, hits2 = timed(workers=2)
    from spurlab.sweeps import local_cluster

    t = time.perf_counter()
    with local_cluster(2) as client:              # as scripts/build_drivers.py --dask
        start = time.perf_counter() - t
        dask_s, hits3 = timed(executor=client)
    # Dask's default worker set-up (MALLOC_TRIM_THRESHOLD_=65536), which every task undoes
    # (spurlab.device.undo_malloc_trim): what an existing cluster (--scheduler) gives
    from dask.distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        dask_default_s, _ = timed(executor=client)
    n = len(hits1) + 2 * 12
    out = {"retrainings": n, "one_worker_s": round(one, 1), "two_workers_s": round(two, 1),
           "dask_s": round(dask_s, 1), "dask_cluster_start_s": round(start, 1),
           "dask_default_environ_s": round(dask_default_s, 1),
           "speedup_dask_default_environ": round(one / dask_default_s, 2),
           "speedup_two_workers": round(one / two, 2), "speedup_dask": round(one / dask_s, 2),
           "same_rows": hits2 == hits3, "machine": platform.machine(),
           "cpus": os.cpu_count(), "date": time.strftime("%Y-%m-%d")}
    print(f"drivers build, {n} retrainings (smoke scale): 1 worker {one:.1f} s; 2 workers "
          f"{two:.1f} s ({one / two:.2f}x); local Dask 2 x 1 thread {dask_s:.1f} s "
          f"({one / dask_s:.2f}x, cluster start {start:.1f} s not counted; Dask's default worker "
          f"environment, undone by the tasks: {dask_default_s:.1f} s, "
          f"{one / dask_default_s:.2f}x); Dask "
          f"rows = 2 workers' "
          f"(both 1 thread per task): "
          f"{out['same_rows']}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(out, f, indent=1)
            f.write("\n")
    return 0 if out["same_rows"] else 1


if __name__ == "__main__":
    sys.exit(main())
