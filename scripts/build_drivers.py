"""Measure which carriers drive the shortcut: retrain on random halves of the carriers and on the
carriers without each EL2N decile, at the default and the strong point of the teaching scale,
and fit the linear datamodel; writes spurlab/data/drivers.json.gz (read by spurlab.load_drivers).

    python scripts/build_drivers.py --state-dir drivers-build   # 2 local workers (~1 hour on 2 cores)
    python scripts/build_drivers.py --dask                      # a local Dask cluster
    python scripts/build_drivers.py --scheduler tcp://HOST:8786 # an existing Dask cluster
    python scripts/build_drivers.py --smoke --out /tmp/drivers.json.gz   # a plumbing check

Every finished piece (100 retrainings) is written to --state-dir as it finishes: commit that
folder as the build goes, and a build on another machine resumes from it:

    git add drivers-build && git commit -m "drivers build: pieces so far"
"""

import argparse
import os
import sys
import time

import spurlab as sl
from spurlab.drivers import DRIVERS_PATH
from spurlab.driversbuild import build_drivers
from spurlab.sweeps import build_executor, check_executor_arguments, executor_arguments


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default=str(DRIVERS_PATH), help="output file (default: the shipped one)")
    executor_arguments(p)
    p.add_argument("--state-dir", default=None, help="folder of finished pieces (commit it)")
    p.add_argument("--points", nargs="+", default=None, help="default and/or strong (default both)")
    p.add_argument("--smoke", action="store_true",
                   help="the smoke scale, 1 subset per carrier, 1 subset seed, 2 group seeds")
    a = p.parse_args(argv)
    check_executor_arguments(p, a)
    command = "python " + " ".join([os.path.relpath(__file__)] + (argv or sys.argv[1:]))
    kw = dict(points=a.points, state_dir=a.state_dir, command=command)
    if a.smoke:
        kw.update(scale="smoke", subset_seeds=(0,), subsets_per_carrier=1, group_seeds=(0, 1),
                  reps=50)
    t = time.perf_counter()
    with build_executor(dask=a.dask, scheduler=a.scheduler, workers=a.workers) as client:
        doc = build_drivers(a.out, workers=a.workers, executor=client, **kw)
    n = sum(len(q["subsets"]["hits"]) + len(q["groups"]["hits"]) for q in doc["points"].values())
    print(f"wrote {a.out}: {n} retrainings, {os.path.getsize(a.out):,} bytes, "
          f"{time.perf_counter() - t:.0f} s (spurlab {sl.__version__})")
    for name, q in doc["points"].items():
        s = q["summary"]
        r = s["rank_correlation"]
        print(f"  {name}: {len(q['carriers'])} carriers; rho(EL2N, effect) = {r['rho']:+.2f} "
              f"[{r['ci95'][0]:+.2f}, {r['ci95'][1]:+.2f}]; held-out error (95%) "
              f"{s['heldout']['q95']:.3f}")


if __name__ == "__main__":
    main()
