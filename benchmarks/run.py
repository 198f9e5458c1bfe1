"""spurlab benchmarks: each prints a measured ratio against its goal, measured side by side in one
run on this machine.

    python3 benchmarks/run.py            # all benchmarks, about 3 minutes on 2 cores
    python3 benchmarks/run.py --only cycle,scoring

1. cycle     one train -> score -> prune -> retrain -> evaluate cycle in quick mode (the
             notebooks' setting): median and spread over 5 runs; goal median <= 5 s.
2. flops     achieved training FLOP/s of the tiny CNN / FLOP/s of a large 3x3 convolution (and of
             sgemm) measured in the same run; goal >= 0.5 of the convolution.
3. scoring   batched EL2N vs one evaluation pass (goal: <= 1.1x) and vs a per-sample loop;
             vectorised GraNd vs a per-sample backward loop (goal >= 10x); same results.
4. memory    peak RSS of one quick cycle in a fresh process; goal <= 1 GB.
5. seeds     S = 5 seeds of the tiny CNN in one packed pass (spurlab.multiseed.train_seeds) vs 5 sequential
             runs of spurlab.train (quick data, 5 epochs; benchmarks/multiseed.py has the full
             version with the equality checks): goal >= 2x.
6. cache     re-displaying a computed setting (same config, same seed): goal <= 0.5 s and
             identical numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import torch
import torch.nn.functional as F

import spurlab as sl
from spurlab import preset

ROWS = []


def report(name, value, goal, ok, detail=""):
    ROWS.append({"benchmark": name, "value": value, "goal": goal, "met": bool(ok), "detail": detail})
    print(f"{name:<34} {value:<22} goal {goal:<14} {'MET' if ok else 'MISSED'}  {detail}", flush=True)


def cycle(config):
    """One notebook cycle: baseline with early EL2N, hardest pruning, retrain, evaluate."""
    return sl.run(config, arms=["hardest"], reference=False)


def bench_cycle(n=5):
    cfg = preset("quick")
    cycle(cfg.replace(seed=99))  # warm-up
    times = []
    for s in range(n):
        t = time.perf_counter()
        cycle(cfg.replace(seed=s))
        times.append(time.perf_counter() - t)
    med = statistics.median(times)
    report("cycle latency (quick, median)", f"{med:.2f} s", "<= 5 s", med <= 5,
           f"min {min(times):.2f} max {max(times):.2f} over {n} runs")


def _time(fn, reps=3):
    fn()
    best = float("inf")
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def conv_flops_per_image(model, image_shape):
    """Forward multiply-add FLOPs (2 per MAC) of the conv and linear layers for one image."""
    flops = []

    def hook(mod, inp, out):
        if isinstance(mod, torch.nn.Conv2d):
            k = mod.kernel_size[0] * mod.kernel_size[1] * mod.in_channels // mod.groups
            flops.append(2 * k * out[0].numel())
        elif isinstance(mod, torch.nn.Linear):
            flops.append(2 * mod.in_features * mod.out_features)

    hs = [m.register_forward_hook(hook) for m in model.modules()
          if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, *image_shape))
    for h in hs:
        h.remove()
    return sum(flops)


def bench_flops():
    cfg = preset("quick")
    train, _ = sl.load_dataset("shapes", n_train=cfg.n_train, n_test=60)
    model = sl.make_model()
    fwd = conv_flops_per_image(model, train.images.shape[1:])
    t = _time(lambda: sl.train(sl.make_model(), train.images, train.labels, epochs=2,
                               progress=False), reps=2)
    imgs = 2 * len(train) / t
    achieved = 3 * fwd * imgs  # forward + backward (about 2x forward)
    x = torch.randn(64, 64, 32, 32).contiguous(memory_format=torch.channels_last)
    conv = torch.nn.Conv2d(64, 64, 3, padding=1, bias=False).to(memory_format=torch.channels_last)
    with torch.no_grad():
        tc = _time(lambda: conv(x), reps=5)
    conv_peak = 2 * 64 * 9 * 64 * 32 * 32 * 64 / tc
    a, b = torch.randn(2048, 2048), torch.randn(2048, 2048)
    tg = _time(lambda: a @ b, reps=5)
    gemm_peak = 2 * 2048 ** 3 / tg
    r = achieved / conv_peak
    report("training FLOP/s / 3x3 conv peak", f"{r:.2f}", ">= 0.5", r >= 0.5,
           f"tiny CNN {achieved / 1e9:.0f} GFLOP/s ({imgs:,.0f} img/s); conv {conv_peak / 1e9:.0f}, "
           f"sgemm {gemm_peak / 1e9:.0f} GFLOP/s; / sgemm {achieved / gemm_peak:.2f}")


def bench_scoring():
    cfg = preset("quick")
    train, _ = sl.load_dataset("shapes", n_train=cfg.n_train, n_test=60)
    x, y = train.images, train.labels
    model = sl.make_model()
    sl.train(model, x, y, epochs=2, progress=False)
    t_eval = _time(lambda: sl.predict(model, x))
    t_el2n = _time(lambda: sl.el2n(model, x, y))
    r = t_el2n / t_eval
    report("EL2N / one evaluation pass", f"{r:.2f}x", "<= 1.1x", r <= 1.1,
           f"{t_el2n * 1e3:.0f} ms vs {t_eval * 1e3:.0f} ms for {len(x)} images")
    n = 300
    ref = torch.stack([(F.softmax(model(x[i:i + 1])[0].detach(), 0)
                        - F.one_hot(y[i], 6).float()).norm() for i in range(n)])
    t_loop = _time(lambda: [model(x[i:i + 1]) for i in range(n)], reps=1)
    t_batch = _time(lambda: sl.el2n(model, x[:n], y[:n]))
    same = torch.allclose(sl.el2n(model, x[:n], y[:n]), ref, atol=1e-5)
    report("EL2N batched vs per-sample loop", f"{t_loop / t_batch:.1f}x", "(CPU: info)", same,
           f"same results: {same}")

    def grand_loop():
        out = []
        for i in range(n):
            model.zero_grad()
            F.cross_entropy(model(x[i:i + 1]), y[i:i + 1]).backward()
            out.append(torch.sqrt(sum(p.grad.pow(2).sum() for p in model.parameters())))
        return torch.stack(out)

    model.eval()
    t_gl = _time(grand_loop, reps=1)
    t_gv = _time(lambda: sl.grand(model, x[:n], y[:n]), reps=2)
    same = torch.allclose(sl.grand(model, x[:n], y[:n]), grand_loop(), rtol=1e-4, atol=1e-6)
    r = t_gl / t_gv
    report("GraNd vectorised vs per-sample loop", f"{r:.1f}x", ">= 10x", r >= 10 and same,
           f"{t_gv * 1e3:.0f} ms vs {t_gl * 1e3:.0f} ms for {n} images; same results: {same}")


def bench_memory():
    code = ("import resource, spurlab as sl; from spurlab import preset; "
            "sl.run(preset('quick'), arms=['hardest'], reference=False); "
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    gb = int(out.stdout.strip().splitlines()[-1]) / 1024 ** 2
    report("peak RSS of a quick cycle", f"{gb:.2f} GB", "<= 1 GB", gb <= 1.0, "fresh process")


def bench_cache():
    from spurlab.widgets import cached_run

    cfg = preset("quick", seed=7)
    first = cached_run(cfg, ["hardest"], reference=False, progress=False)
    t = time.perf_counter()
    again = cached_run(cfg, ["hardest"], reference=False, progress=False)
    dt = time.perf_counter() - t
    same = again.arms["hardest"].metrics == first.arms["hardest"].metrics
    report("cache re-display", f"{dt * 1e3:.1f} ms", "<= 0.5 s", dt <= 0.5 and same,
           f"identical numbers: {same}")


def bench_seeds():
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import multiseed

    r = multiseed.main(["--seeds", "5", "--repeats", "3", "--epochs", "5"])
    report("5 seeds at once vs sequential", f"{r:.2f}x", ">= 2x", r >= 2.0,
           "train_seeds vs 5 x spurlab.train, median of 3")


BENCHES = {"cycle": bench_cycle, "flops": bench_flops, "scoring": bench_scoring,
           "memory": bench_memory, "seeds": bench_seeds, "cache": bench_cache}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default=",".join(BENCHES), help="comma-separated subset")
    ap.add_argument("--json", help="write the rows as JSON here")
    args = ap.parse_args(argv)
    sl.configure_threads()
    print(f"spurlab {sl.__version__}, torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"{os.cpu_count()} CPUs visible, device {sl.get_device()}")
    for name in args.only.split(","):
        BENCHES[name.strip()]()
    if args.json:
        from spurlab.files import atomic_write_text

        atomic_write_text(args.json, json.dumps(ROWS, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
