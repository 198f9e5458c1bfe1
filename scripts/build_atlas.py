"""Build the playground's atlas: the protocol over the line thickness x salience x prevalence x
prune-ratio grid, five arms and five seeds, at the 'playground' preset's scale; writes
spurlab/data/atlas.json.gz.

    python scripts/build_atlas.py                       # 2 local workers (2.5 hours on 2 cores)
    python scripts/build_atlas.py --workers 1
    python scripts/build_atlas.py --dask                # a local Dask cluster (pip install dask[distributed])
    python scripts/build_atlas.py --scheduler tcp://HOST:8786   # an existing Dask cluster
    python scripts/build_atlas.py --smoke --out /tmp/atlas.json.gz   # a tiny grid, in a minute

Every model goes through the engine's disk cache (--cache-dir, default .atlas-cache), so an
interrupted build resumes where it stopped; delete that folder to start afresh. A build longer
than one sitting also writes each finished (thickness, prevalence) piece to --state-dir (a few
hundred KB in all):
commit that folder as the build goes, and a fresh clone on another machine resumes from it
without the cache:

    python scripts/build_atlas.py --state-dir atlas-build   # then, now and then:
    git add atlas-build && git commit -m "atlas build: pieces so far"
"""

import argparse
import os
import sys
import time

import spurlab as sl
from spurlab.atlas import ATLAS_PATH
from spurlab.builds import build_atlas
from spurlab.sweeps import build_executor, check_executor_arguments, executor_arguments


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default=str(ATLAS_PATH), help="output file (default: the shipped atlas)")
    executor_arguments(p, " (its workers must see the same --cache-dir through "
                          "SPURLAB_CACHE_DIR to resume from it; --state-dir pieces are written "
                          "here)")
    p.add_argument("--cache-dir", default=".atlas-cache", help="disk cache (resume from it)")
    p.add_argument("--state-dir", default=None,
                   help="folder of finished pieces, one per (thickness, prevalence): commit it as "
                        "the build "
                        "goes; a build on another machine resumes from it")
    p.add_argument("--smoke", action="store_true",
                   help="a 2 x 2 x 2 x 2 grid, 2 arms, 2 seeds at the smoke scale (a plumbing "
                        "check)")
    a = p.parse_args(argv)
    check_executor_arguments(p, a)
    command = "python " + " ".join([os.path.relpath(__file__)] + (argv or sys.argv[1:]))
    kw = {}
    if a.smoke:
        kw = dict(config="smoke", grid={"thickness": [1, 2], "salience": [0.5, 1.0],
                                        "prevalence": [0.3, 0.9],
                                        "prune_ratio": [0.1, 0.3]},
                  arms=("hardest", "hardest/sparing"), seeds=(0, 1))
    t = time.perf_counter()
    if a.dask:
        # the local cluster's worker processes read the disk cache from their environment: set
        # it before they start, so that a Dask build resumes like a local one
        os.environ["SPURLAB_CACHE_DIR"] = os.path.abspath(a.cache_dir)
    with build_executor(dask=a.dask, scheduler=a.scheduler, workers=a.workers) as client:
        atlas = build_atlas(a.out, workers=a.workers if client is None else 1, executor=client,
                            cache_dir=a.cache_dir, command=command, state_dir=a.state_dir, **kw)
    print(f"wrote {a.out}: {len(atlas['rows'])} rows, {os.path.getsize(a.out):,} bytes, "
          f"{time.perf_counter() - t:.0f} s (spurlab {sl.__version__})")


if __name__ == "__main__":
    main()
