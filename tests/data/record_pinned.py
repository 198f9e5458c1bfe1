"""Record the metrics of two quick configs that tests/test_engine.py pins, with one thread, and
the machine's fingerprint (spurlab.files.machine); first run on a checkout of main f2c0eed,
before the engine refactor, and again at bd5e345, before the typed record (which that checkout
reads as dicts; this version reads the typed record):
python3 tests/data/record_pinned.py OUT.json"""

import hashlib
import json
import sys

import spurlab as sl
import spurlab.device
import spurlab.files

# one thread; on main, configure_threads also keeps get_device from raising it to the core count
spurlab.device.configure_threads(1)

CASES = [
    ("quick", sl.preset("quick"), ["hardest", "random", "easiest", "hardest/oracle", "jtt"]),
    ("quick_placement", sl.preset("quick", placement="hardest", prevalence=0.2, seed=3, score="loss"),
     ["hardest/target", "random/global"]),
]


def _sha(indices):
    return hashlib.sha256(json.dumps(indices).encode()).hexdigest()[:16]


def main(path):
    out = {}
    for name, cfg, arms in CASES:
        r = sl.run(cfg, arms=arms, reference=True)
        out[name] = {
            "config": cfg.to_string(), "baseline": r.baseline.to_dict(),
            "reference": r.reference.to_dict(),
            "arms": {a: {"metrics": r.arms[a].metrics.to_dict(), "n_kept": r.arms[a].n_kept,
                         "carriers_pruned": r.arms[a].carriers_pruned,
                         "pruned_sha": _sha(list(r.arms[a].pruned))} for a in arms},
            "regime_percentile": r.regime_percentile, "scores_sum": float(sum(r.scores)),
            "carriers": r.carriers}
        print(name, r.table())
    out["machine"] = spurlab.files.machine()
    with open(path, "w") as f:
        json.dump(out, f, indent=1)


if __name__ == "__main__":
    main(sys.argv[1])
