"""Record the metrics of two quick configs (see tests/test_engine.py), run on main f2c0eed
before the engine refactor: python3 tests/data/record_pinned.py OUT.json"""
import json, sys, hashlib, platform
import torch
torch.set_num_threads(2)  # what main (f2c0eed) used on 2 cores: get_device set one thread per core
import spurlab as sl
out = {}
for name, cfg, arms in [("quick", sl.preset("quick"), ["hardest", "random", "easiest", "hardest/oracle", "jtt"]),
                        ("quick_placement", sl.preset("quick", placement="hardest", prevalence=0.2, seed=3, score="loss"), ["hardest/target", "random/global"])]:
    r = sl.run(cfg, arms=arms, reference=True)
    d = {"config": cfg.to_string(), "baseline": r.baseline, "reference": r.reference,
         "arms": {a: {k: v for k, v in r.arms[a].items() if k != "pruned"} | {"pruned_sha": hashlib.sha256(json.dumps(r.arms[a]["pruned"]).encode()).hexdigest()[:16]} for a in arms},
         "regime_percentile": r.regime_percentile, "scores_sum": float(sum(r.scores)), "carriers": r.carriers}
    out[name] = d
    print(name, r.table())
out["machine"] = {"torch": torch.__version__, "cpu": platform.processor(), "threads": 2}
json.dump(out, open(sys.argv[1], "w"), indent=1)
