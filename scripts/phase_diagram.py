"""Phase diagram and regime map of hardest-sample pruning, for notebook 04.

    python scripts/phase_diagram.py --mode quick --seeds 2 --out results/phase_diagram.json

Two grids around the notebooks' ``quick`` preset (``--mode full``: the default setting):

1. **phase diagram**: salience x prune ratio (prevalence fixed at the preset's 0.3) -> SMR and
   excess SMR removed by pruning the hardest (and, for comparison, a random) fraction of every
   class by early EL2N, over ``--seeds`` seeds;
2. **regime map**: salience x prevalence at the preset's prune ratio -> does pruning the
   hardest help? (hardest minus random SMR, excess removed, and the regime indicator: the
   carriers' mean difficulty percentile within c1), over ``--regime-seeds`` seeds.

The baseline of each setting is trained once and reused across prune ratios, and the no-carrier
reference model once per seed (``spurlab.sweeps``), so the default grids take about 110
trainings (a few minutes on a 2-core CPU). Each row of the output holds one setting and seed;
the JSON is written atomically at the end (and after each grid, so an interrupted run keeps
the first grid).

Scale out: ``--workers N`` runs the grid's tasks in N local processes (threads split between
them); ``--dask tcp://HOST:PORT`` sends them to a running Dask scheduler, e.g. a paper-scale grid
on a cluster (``--mode full --seeds 5``). The rows are the same wherever the tasks run (same
thread count per task).
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from spurlab import configure_threads, get_device, preset
from spurlab.results import atomic_write_text, environment
from spurlab.sweeps import grid

ARMS = ["hardest", "random"]


def _floats(text):
    return [float(v) for v in text.split(",") if v.strip()]


def _row(r, keys):
    ex = r.get("excess_removed_hardest")
    ex_s = "  n/a" if ex is None else f"{ex:+.0%}"
    return (" ".join(f"{k}={r[k]:g}" for k in keys) + f" seed={r['seed']}: SMR base "
            f"{r['smr_baseline']:.3f} ref {r['smr_reference']:.3f} hardest {r['smr_hardest']:.3f} "
            f"random {r['smr_random']:.3f} | excess removed (hardest) {ex_s} | regime "
            f"{r['regime_percentile']:.0f}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mode", choices=["quick", "full"], default="quick",
                    help="starting preset (default: quick, as the notebooks)")
    ap.add_argument("--seeds", type=int, default=2, help="seeds 0..N-1 for the phase diagram")
    ap.add_argument("--regime-seeds", type=int, default=2, help="seeds 0..N-1 for the regime map")
    ap.add_argument("--saliences", default="0.3,0.5,0.7,1.0", help="phase diagram saliences")
    ap.add_argument("--ratios", default="0.1,0.25,0.4", help="phase diagram prune ratios")
    ap.add_argument("--regime-saliences", default="0.3,0.5,1.0", help="regime map saliences")
    ap.add_argument("--prevalences", default="0.1,0.3,0.6,0.9", help="regime map prevalences")
    ap.add_argument("--threads", type=int, default=None,
                    help="torch CPU threads (default: one per usable core)")
    ap.add_argument("--workers", type=int, default=1,
                    help="local worker processes (default 1: run in this process)")
    ap.add_argument("--dask", default=None, metavar="ADDRESS",
                    help="address of a Dask scheduler to run the grid on (needs dask.distributed)")
    ap.add_argument("--out", default="results/phase_diagram.json", help="JSON output path")
    args = ap.parse_args(argv)
    if args.workers == 1 and args.dask is None:
        configure_threads(args.threads)
    executor = None
    if args.dask is not None:
        from distributed import Client

        executor = Client(args.dask)
    scale = {"workers": args.workers, "executor": executor, "threads": args.threads}
    cfg = preset(args.mode)
    t0 = time.perf_counter()
    out = {
        "description": "salience x prune ratio -> pruning outcome (phase); salience x prevalence "
                       "-> does hardest pruning help (regime). One row per setting and seed.",
        "command": "python scripts/phase_diagram.py " + " ".join(argv if argv is not None
                                                                 else sys.argv[1:]),
        "mode": args.mode, "config": cfg.to_string(), "arms": ARMS,
        "environment": environment(get_device()),
    }
    def run_grid(key, title, axes, fixed, n_seeds):
        """One grid: print each row, store it under ``out[key]``, write the JSON (so an
        interrupted run keeps the grids already done)."""
        fixed_text = " ".join(f"{k}={v}" for k, v in fixed.items())
        print(f"{title}: {axes} at {fixed_text} x seeds 0..{n_seeds - 1} on '{cfg.to_string()}'",
              flush=True)
        rows = grid(cfg, axes, range(n_seeds), ARMS, **scale,
                    on_row=lambda r: print(_row(r, axes), flush=True))
        out[key] = {"axes": axes, "fixed": fixed, "seeds": list(range(n_seeds)), "rows": rows}
        out["seconds"] = time.perf_counter() - t0
        atomic_write_text(args.out, json.dumps(out, indent=1))

    run_grid("phase", "phase diagram",
             {"salience": _floats(args.saliences), "prune_ratio": _floats(args.ratios)},
             {"prevalence": cfg.prevalence}, args.seeds)
    run_grid("regime", "regime map",
             {"salience": _floats(args.regime_saliences), "prevalence": _floats(args.prevalences)},
             {"prune_ratio": cfg.prune_ratio}, args.regime_seeds)
    print(f"wrote {args.out} in {out['seconds']:.0f} s", flush=True)
    if executor is not None:
        executor.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
