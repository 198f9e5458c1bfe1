"""Build the explorable's data: at every scenario point of the atlas (data seed 0), the target
class's data map and, for every prune ratio and arm, which images it removed and every model's
accuracy per group; writes spurlab/data/explorable.json.gz (read by spurlab.load_explorable).

    python scripts/build_explorable.py --state-dir explorable-build   # 2 local workers (~30 min)
    python scripts/build_explorable.py --dask                         # a local Dask cluster
    python scripts/build_explorable.py --scheduler tcp://HOST:8786    # an existing Dask cluster
    python scripts/build_explorable.py --points 1,0.5,0.3 --out /tmp/x.json.gz   # one point

Every finished point is written to --state-dir as it finishes: commit that folder as the build
goes, and a build on another machine resumes from it.
"""

import argparse
import os
import sys
import time

import spurlab as sl
from spurlab.explorable import EXPLORABLE_PATH, build_explorable
from spurlab.sweeps import build_executor, check_executor_arguments, executor_arguments


def _point(text):
    try:
        t, s, q = text.split(",")
        return int(t), float(s), float(q)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a point is THICKNESS,SALIENCE,PREVALENCE (e.g. "
                                         f"1,0.5,0.3); got {text!r}") from None


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default=str(EXPLORABLE_PATH), help="output file (default: the shipped one)")
    executor_arguments(p)
    p.add_argument("--state-dir", default=None, help="folder of finished points (commit it)")
    p.add_argument("--points", nargs="+", type=_point, default=None,
                   help="scenario points THICKNESS,SALIENCE,PREVALENCE (default: the atlas grid)")
    a = p.parse_args(argv)
    check_executor_arguments(p, a)
    command = "python " + " ".join([os.path.relpath(__file__)] + (argv or sys.argv[1:]))
    t = time.perf_counter()
    with build_executor(dask=a.dask, scheduler=a.scheduler, workers=a.workers) as client:
        doc = build_explorable(a.out, workers=a.workers, executor=client, state_dir=a.state_dir,
                               command=command, points=a.points)
    print(f"wrote {a.out}: {len(doc['points'])} points, {os.path.getsize(a.out):,} bytes, "
          f"{time.perf_counter() - t:.0f} s (spurlab {sl.__version__})")


if __name__ == "__main__":
    main()
