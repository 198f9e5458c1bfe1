"""The attribution arm against EL2N, random and the oracle, and against the measured drivers.

At the default point of the teaching scale (the 'quick' preset), for 5 seeds and two prune
ratios: the SMR after pruning the hardest by early EL2N over all classes, as many at random, as
many blamed by the TRAK-style attribution (spurlab.attribution; scored on stamped validation
images), and oracle pruning within the carriers (p of the carriers); then, at seed 0, the rank
correlation between each carrier's blame and its measured effect on the SMR (the shipped
counterfactual drivers), beside early EL2N's. Writes results/attribution.json; about 3 minutes
on 2 cores (one torch thread, so a rerun on this machine reproduces it).

    python3 scripts/compare_attribution.py
"""

import argparse
import json
import os
import sys
import time

import numpy as np
import torch

ARMS = ("hardest/global", "random/global", "attribution", "hardest/oracle")
RATIOS = (0.05, 0.25)
SEEDS = (0, 1, 2, 3, 4)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="results/attribution.json")
    ap.add_argument("--seeds", type=int, nargs="+", default=list(SEEDS))
    a = ap.parse_args(argv)
    torch.set_num_threads(1)
    import spurlab as sl
    from spurlab.attribution import shortcut_attribution
    from spurlab.build import held_out
    from spurlab.datamodel import interval, spearman
    from spurlab.files import atomic_write_text
    from spurlab.recipe import fit
    from spurlab.stats import seed_interval

    t0 = time.perf_counter()
    drivers = sl.load_drivers()["default"]
    cfg = sl.Config.from_string(drivers.config)
    out = {"config": cfg.to_string() or "quick", "seeds": a.seeds, "arms": list(ARMS),
           "ratios": {}, "command": "python3 scripts/compare_attribution.py"}
    for p in RATIOS:
        rs = sl.run_seeds(cfg.replace(prune_ratio=p), a.seeds, arms=list(ARMS))
        row = {"baseline": seed_interval([r.baseline.smr for r in rs], bounds=(0, 1))}
        for arm in ARMS:
            row[arm] = {"smr": seed_interval([r.arms[arm].metrics.smr for r in rs], bounds=(0, 1)),
                        "removed": int(len(rs[0].arms[arm].pruned)),
                        "carriers_removed": float(np.mean([r.arms[arm].carriers_pruned
                                                           for r in rs])),
                        "labels_used": rs[0].arms[arm].labels_used}
        out["ratios"][str(p)] = row
        print(f"p = {p}: SMR baseline {row['baseline']['mean']:.3f}; " + "; ".join(
            f"{arm} {row[arm]['smr']['mean']:.3f} [{row[arm]['smr']['ci95'][0]:.3f}, "
            f"{row[arm]['smr']['ci95'][1]:.3f}] (removes {row[arm]['removed']}, carriers "
            f"{row[arm]['carriers_removed']:.1f}; labels {row[arm]['labels_used']})"
            for arm in ARMS), flush=True)
    # the blame of each carrier at seed 0 (the drivers' data) against its measured effect
    sc = sl.build_scenario(cfg)
    ckpt, _ = fit(cfg, sc.train.images, sc.train.labels, num_classes=sc.train.num_classes,
                  stop_epoch=cfg.score_epoch)
    _, gv, g = held_out(cfg)
    probe = gv.images[(g % 2 == 1) & (gv.labels != sc.target_class)]
    blame = shortcut_attribution(ckpt, sc.train.images, sc.train.labels, probe,
                                 sc.target_class, seed=cfg.seed).numpy()[drivers.carriers]
    rng = np.random.default_rng(0)
    k = len(drivers.carriers)
    boots = [rng.integers(0, k, k) for _ in range(1000)]
    for name, x in (("attribution", blame), ("el2n", drivers.el2n_percentile)):
        out[f"rho_{name}"] = {"rho": spearman(x, drivers.effect),
                              "ci95": interval([spearman(x[i], drivers.effect[i]) for i in boots]),
                              "n": k}
        r = out[f"rho_{name}"]
        print(f"rank correlation with the measured effect, {name}: {r['rho']:+.2f} "
              f"[{r['ci95'][0]:+.2f}, {r['ci95'][1]:+.2f}] over {k} carriers (seed 0)")
    out["wall_s"] = round(time.perf_counter() - t0, 1)
    os.makedirs(os.path.dirname(a.out) or ".", exist_ok=True)
    atomic_write_text(a.out, json.dumps(out, indent=1) + "\n")
    print(f"wrote {a.out} in {out['wall_s']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
