"""Check the paper's claims 1, 2 and 4 on the embedded default setting over several seeds.

    python scripts/check_claims.py --seeds 5 --out results/claims.json

For each seed it runs the default :class:`spurlab.Config` with the arms hardest / random /
easiest / hardest-oracle, the control hardest/sparing (as many hardest samples, no carrier) and
a no-carrier reference model (claims 1 and 4, whether a shortcut was learned, and which carriers
each arm removed by difficulty: spurlab.mechanism), and places the
feature on the K hardest vs the K easiest samples of c1 by latent difficulty (claim 2). It prints
one row per seed, the verdict of each acceptance check, and writes everything as JSON.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

import numpy as np

from spurlab import Config, run
from spurlab.config import PAPER_ARMS
from spurlab.files import atomic_write_text, environment
from spurlab.flatten import key, row_verdict
from spurlab.flatten import rows as result_rows
from spurlab.stats import RATE, seed_interval
from spurlab.verdicts import combine, difference_of

# the paper's four arms and the control that prunes as many hardest samples, sparing carriers
ARMS = list(PAPER_ARMS) + ["hardest/sparing"]


def claim2(config, k):
    """SMR with the feature on the k hardest vs the k easiest c1 samples (latent difficulty)."""
    return {placement: run(config.replace(placement=placement, n_carriers=k), arms=[],
                           reference=False).baseline.smr
            for placement in ("hardest", "easiest")}


def check(seeds, k=100, config=None):
    """Run the checks; return a JSON-able dict with per-seed rows and verdicts."""
    config = config or Config()
    rows = []
    for seed in seeds:
        t = time.perf_counter()
        cfg = config.replace(seed=seed)
        r = run(cfg, arms=ARMS, reference=True)
        c2 = claim2(cfg, k)
        rows.append({
            **result_rows(r, ARMS),
            "smr_k_hardest_carriers": c2["hardest"],
            "smr_k_easiest_carriers": c2["easiest"],
            "seconds": time.perf_counter() - t,
        })
        print(_row(rows[-1]), flush=True)
    return {"config": config.to_string(), "k": k, "seeds": list(seeds), "rows": rows,
            "verdicts": verdicts(rows), "environment": environment("cpu")}


def verdicts(rows):
    """The acceptance checks over the seeds' rows; the shortcut and the arm differences follow
    spurlab's one rule (:mod:`spurlab.verdicts`)."""
    ex = {a: [r[key("excess_removed", a)] for r in rows] for a in PAPER_ARMS}
    diff = {b: difference_of([r[key("smr", "hardest")] - r[key("smr", b)] for r in rows],
                             "hardest", b)
            for b in ("random", "easiest", "hardest/sparing")}
    shortcut = combine([row_verdict(r) for r in rows])
    acc_cost = [r[key("clean_accuracy", "baseline")] - r[key("clean_accuracy", "hardest")]
                for r in rows]
    n = len(rows)
    beats = sum(r[key("smr", "hardest")] < min(r[key("smr", "random")], r[key("smr", "easiest")])
                for r in rows)
    return {
        "claim1_smr_far_above_clean_baseline": all(
            r[key("smr", "baseline")] >= 3 * max(r[key("smr_clean", "baseline")], 0.01) for r in rows),
        "claim1_min_clean_accuracy": min(r[key("clean_accuracy", "baseline")] for r in rows),
        "claim2_hard_vs_easy_ratio": [r["smr_k_hardest_carriers"] / max(r["smr_k_easiest_carriers"], 1e-3)
                                      for r in rows],
        "claim2_at_least_2x_every_seed": all(
            r["smr_k_hardest_carriers"] >= 2 * r["smr_k_easiest_carriers"] for r in rows),
        "claim4_mean_excess_removed": {a: statistics.fmean(x for x in v if x is not None)
                                       for a, v in ex.items()},
        "claim4_hardest_removes_half_on_average":
            statistics.fmean(x for x in ex["hardest"] if x is not None) >= 0.5,
        "claim4_hardest_beats_random_and_easiest_seeds": f"{beats}/{n}",
        "claim4_beats_in_4_of_5": beats >= (4 * n + 4) // 5,
        "claim4_oracle_three_quarters_every_seed": all(v is not None and v >= 0.75
                                                       for v in ex["hardest/oracle"]),
        "claim4_mean_clean_accuracy_cost_hardest": statistics.fmean(acc_cost),
        "shortcut_learned_every_seed": all(r["learned"] for r in rows),
        "shortcut_learned_over_seeds": bool(shortcut.learned),
        "shortcut_text": shortcut.text(),
        "claim4_hardest_minus_random_smr_ci95": list(diff["random"].ci95),
        "claim4_hardest_minus_easiest_smr_ci95": list(diff["easiest"].ci95),
        "control_hardest_minus_sparing_smr_ci95": list(diff["hardest/sparing"].ci95),
        "differences_text": [d.text() for d in diff.values()],
        "claim4_hardest_below_random_and_easiest_over_seeds": (
            diff["random"].ci95[1] < 0 and diff["easiest"].ci95[1] < 0),
        "control_sparing_the_carriers_loses_the_effect": diff["hardest/sparing"].ci95[1] < 0,
        # the mechanism, measured (spurlab.mechanism): which carriers each arm removed
        "mechanism_hard_carriers_removed": {
            a: seed_interval([r[key("hard_removed", a)] for r in rows], bounds=RATE) for a in ARMS},
        "mechanism_all_carriers_removed": {
            a: seed_interval([r[key("carriers_pruned", a)] / r["carriers"] for r in rows],
                             bounds=RATE)
            for a in ARMS},
        "mechanism_latent_hard_carriers_removed": {
            a: seed_interval([r[key("latent_hard_removed", a)] for r in rows], bounds=RATE)
            for a in ARMS},
    }


def _row(r):
    def pct(x):
        return "n/a" if x is None else f"{x:+.0%}"

    return (f"seed {r['seed']}: SMR ref {r[key('smr', 'reference')]:.3f} base "
            f"{r[key('smr', 'baseline')]:.3f} (clean {r[key('smr_clean', 'baseline')]:.3f}, acc "
            f"{r[key('clean_accuracy', 'baseline')]:.3f}) | excess removed: "
            + ", ".join(f"{a} {pct(r[key('excess_removed', a)])}" for a in PAPER_ARMS)
            + f" | SMR sparing control {r[key('smr', 'hardest/sparing')]:.3f}"
            + f" | K hardest/easiest carriers SMR {r['smr_k_hardest_carriers']:.3f}/"
            f"{r['smr_k_easiest_carriers']:.3f} | regime {r['regime_percentile']:.0f} "
            f"| {r['seconds']:.0f} s")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=5, help="number of seeds (0..N-1)")
    ap.add_argument("--k", type=int, default=100, help="carriers for claim 2")
    ap.add_argument("--config", default="default", help="config string to start from")
    ap.add_argument("--out", help="write the results as JSON here")
    args = ap.parse_args(argv)
    res = check(range(args.seeds), args.k, Config.from_string(args.config))
    print(json.dumps(res["verdicts"], indent=1))
    if args.out:
        atomic_write_text(args.out, json.dumps(res, indent=1))
    ok = all(v for k, v in res["verdicts"].items() if isinstance(v, bool))
    print("all claims hold" if ok else "some claims do not hold (see verdicts)")
    return 0 if ok else 1


if __name__ == "__main__":
    np.set_printoptions(precision=3)
    sys.exit(main())
