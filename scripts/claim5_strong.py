"""Claim 5 in its regime: oracle pruning vs tuned JTT, ERM, random and label-free pruning.

Writes ``spurlab/data/claim5_strong.json`` (shipped with the package; notebook 05 reads it):
the strong, identifiable setting of :mod:`spurlab.identifiable` (two classes, an opaque line on
95% of one), every method at every setting of its grid over 5 seeds, scored on a
group-labelled validation split and on the test set, and the selection. About 30 minutes on 2
CPU cores (one thread per process is set here, as the atlas does, so a rerun on this machine
reproduces the file exactly).

Usage::

    python3 scripts/claim5_strong.py                 # the shipped file
    python3 scripts/claim5_strong.py --seeds 0 1 --out /tmp/c5.json
"""

import argparse
import sys
import time

import torch


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=None, help="default: 0 1 2 3 4")
    ap.add_argument("--out", default=None, help="default: spurlab/data/claim5_strong.json")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    args = ap.parse_args(argv)
    if args.threads < 1:
        ap.error(f"--threads must be >= 1; got {args.threads}")
    torch.set_num_threads(args.threads)
    from spurlab import identifiable as idf
    t0 = time.perf_counter()

    def progress(done, total, row):
        print(f"[{done}/{total}] {time.perf_counter() - t0:6.0f}s seed {row['seed']} "
              f"{row['method']:15s} {row['setting']} val wga "
              f"{row['val']['worst_group_accuracy']:.3f} test wga "
              f"{row['test']['worst_group_accuracy']:.3f}", flush=True)

    doc = idf.build(args.out or idf.RESULTS_PATH, seeds=args.seeds or idf.SEEDS, progress=progress)
    print(idf.table_text(doc["summary"]))
    for k, d in doc["summary"]["differences"].items():
        print(f"{k}: {d['mean']:+.3f} [{d['ci95'][0]:+.3f}, {d['ci95'][1]:+.3f}] over {d['n']} seeds")
    print(f"wrote {args.out or idf.RESULTS_PATH} in {doc['seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
