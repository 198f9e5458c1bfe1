"""A shared machine: ``spurlab demo`` alone and beside 1 and 2 busy processes, under each thread
policy (``$SPURLAB_THREADS``: ``all`` cores; ``free``, the default; and a fixed count of 1).

    python benchmarks/contention.py --json benchmarks/contention.json

Goal (issue "Runs right anywhere"): under contention within 1.2x of the best fixed thread count,
alone within 1.1x. Each run is a fresh process (the demo's own command, its disk cache off),
timed whole; the busy processes are plain Python loops, one core each. Printed: every time, and
each policy's ratio to the best of the fixed counts in the same condition. Timings drift ~30%
between runs and machines: read the ratios of one run.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time

from record import write

POLICIES = ("all", "free", "1")
BUSY = (0, 1, 2)


def timed(policy, busy, cwd):
    env = {k: v for k, v in os.environ.items()
           if k not in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "SPURLAB_CACHE_DIR")}
    env["SPURLAB_THREADS"] = policy
    loops = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(busy)]
    try:
        time.sleep(1.0 if busy else 0.0)            # let the load show before the demo looks
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "spurlab.cli", "demo", "--quiet"], env=env,
                       cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return time.perf_counter() - t
    finally:
        for p in loops:
            p.kill()
            p.wait()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", help="write the times and ratios here")
    args = ap.parse_args(argv)
    from spurlab.device import usable_cpus

    times = {}
    with tempfile.TemporaryDirectory() as cwd:
        for busy in BUSY:
            for policy in POLICIES:
                s = timed(policy, busy, cwd)
                times.setdefault(str(busy), {})[policy] = round(s, 1)
                print(f"{busy} busy, SPURLAB_THREADS={policy}: {s:.1f} s", flush=True)
    fixed = {b: min(t["1"], t["all"]) if usable_cpus() > 1 else t["1"] for b, t in times.items()}
    ratios = {b: {p: round(t[p] / fixed[b], 2) for p in POLICIES} for b, t in times.items()}
    for b, r in ratios.items():
        print(f"{b} busy: " + ", ".join(f"{p} {x:.2f}x" for p, x in r.items())
              + " of the best fixed count")
    out = {"times_s": times, "ratio_to_best_fixed": ratios, "cpus": usable_cpus(),
           "goal": "under contention <= 1.2x the best fixed count, alone <= 1.1x"}
    write(out, args.json, argv)
    return 0


if __name__ == "__main__":
    sys.exit(main())
