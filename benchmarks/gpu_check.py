#!/usr/bin/env python3
"""One-command GPU check: spurlab's CUDA path end to end, in at most 5 minutes on one GPU.

    python3 benchmarks/gpu_check.py                 # on a machine with a CUDA GPU
    python3 benchmarks/gpu_check.py --dry-run       # the same code on the CPU, tiny sizes (~30 s)
    python3 benchmarks/gpu_check.py --json out.json # also write every figure as JSON

Steps, each printing its figures:

1. a quick-mode run (``spurlab.run(spurlab.preset("quick"))``: baseline, hardest and random
   pruning, the no-carrier reference) with bf16 autocast and channels_last, verified on the
   convolutions it actually runs (a forward hook records their device, input memory format and
   output dtype); then the notebooks' claims at quick scale: pruning the hardest lowers the SMR
   more than random pruning, and the baseline's SMR is above the no-carrier reference's;
2. packed seeds (``spurlab.multiseed.train_seeds``) against the same seeds trained one by one:
   times, speedup, and agreement of every seed's final loss and accuracy;
3. EL2N and GraNd under bf16 against float32 on the same model: Spearman rank correlation, and
   the overlap of the hardest quarter (what pruning uses);
4. two epochs of a CIFAR-10-sized ResNet-18 (``make_model("resnet18")``, 50,000 synthetic 32x32
   images) with bf16 and channels_last: images per second and achieved TFLOP/s beside the
   airbench reference figures (see ``REFERENCE`` below);
5. one epoch of the CIFAR-10S reference recipe (``preset("cifar10s-reference")``: ResNet-20,
   the red line on 100 airplanes, pad-4 crop and flip, CIFAR normalisation, plain momentum,
   batch 64) on 50,000 synthetic images: its time and the projected time of the experiment.

Exit status: 0 when every check and claim holds, 1 when one fails, 2 when no CUDA device is
there (without ``--dry-run``). ``--dry-run`` forces the CPU and tiny sizes and runs the same
code, bf16 autocast included (torch runs it on the CPU); its claims are printed, not enforced
(at those sizes the numbers mean nothing), its checks are.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time

import numpy as np
import torch
from torch import nn

import spurlab as sl
from spurlab.multiseed import train_seeds
from spurlab.scores import el2n, grand
from spurlab.train import precision

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from record import write  # noqa: E402 - the benchmarks' JSON writer, beside this file

# Reference figures, from the airbench README (https://github.com/KellerJordan/cifar10-airbench,
# "Timings done using torch==2.4.1 on a 400W NVIDIA A100"): "Standard ResNet-18 training:
# 96.0% in 7 min, 32.3 PFLOPs", i.e. 32.3e15 FLOP / 420 s = 77 TFLOP/s achieved, which for the
# usual 200-epoch schedule is 50,000 x 200 / 420 s = 23,800 images/s; and airbench94.py (its
# own small network): 0.36 PFLOPs in 3.83 s = 94 TFLOP/s. An H200 has about 3x an A100's dense
# bf16 peak, so on one the ResNet-18 epoch should beat these; the check below only asks for a
# floor that a broken CUDA path (silently on the CPU, fp32 without tensor cores) would miss.
REFERENCE = {"resnet18_tflops_a100": 32.3e15 / 420 / 1e12,
             "resnet18_images_per_s_a100": 50_000 * 200 / 420,
             "airbench94_tflops_a100": 0.36e15 / 3.83 / 1e12}
RESNET_FLOOR_IMAGES_PER_S = 5_000
BUDGET_S = 300

FULL = dict(quick={}, arms=["hardest", "random"],
            seeds=[0, 1, 2, 3, 4], seeds_n=3000, seeds_epochs=5, seeds_batch=128,
            score_n=3000, score_epochs=2, grand_n=1000,
            resnet_n=50_000, resnet_batch=512, resnet_warmup=4096, reference_n=50_000)
DRY = dict(quick=dict(n_train=600, n_test=120, epochs=2, score_epoch=1), arms=["hardest", "random"],
           seeds=[0, 1], seeds_n=256, seeds_epochs=2, seeds_batch=32,
           score_n=300, score_epochs=1, grand_n=48,
           resnet_n=64, resnet_batch=32, resnet_warmup=32, reference_n=96)


class Report:
    """Figures, checks and claims, printed as they come; ``exit_code`` sums them up."""

    def __init__(self, enforce_claims=True):
        self.enforce_claims = enforce_claims
        self.figures, self.results = {}, []

    def figure(self, name, value, unit=""):
        self.figures[name] = value
        shown = f"{value:,.4g}" if isinstance(value, float) else f"{value}"
        print(f"  {name:<46} {shown} {unit}".rstrip(), flush=True)

    def check(self, name, ok, detail="", *, claim=False):
        enforced = self.enforce_claims or not claim
        tag = "PASS" if ok else ("FAIL" if enforced else "note")
        kind = "claim" if claim else "check"
        extra = "" if enforced else " (dry run: reported, not enforced)"
        print(f"  [{tag}] {kind}: {name}{': ' + detail if detail else ''}{extra}", flush=True)
        self.results.append({"name": name, "kind": kind, "ok": bool(ok), "enforced": enforced,
                             "detail": detail})
        return ok

    def failures(self):
        return [r for r in self.results if r["enforced"] and not r["ok"]]

    def exit_code(self):
        return 1 if self.failures() else 0


def _sync(dev):
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


def _rank(v):
    """Ranks 0..n-1 with ties averaged."""
    v = np.asarray(v, dtype=np.float64)
    order = np.argsort(v, kind="mergesort")
    ranks = np.empty(len(v))
    ranks[order] = np.arange(len(v))
    _, inv, counts = np.unique(v, return_inverse=True, return_counts=True)
    return (np.bincount(inv, weights=ranks) / counts)[inv]


def spearman(a, b):
    """Spearman rank correlation of two score vectors (ties averaged)."""
    ra, rb = _rank(a), _rank(b)
    if ra.std() == 0 or rb.std() == 0:
        return float("nan")
    return float(np.corrcoef(ra, rb)[0, 1])


def top_overlap(a, b, share=0.25):
    """Share of the top ``share`` of ``a`` that is also in the top ``share`` of ``b``."""
    k = max(1, int(round(len(a) * share)))
    ta = set(np.argsort(-np.asarray(a, dtype=np.float64), kind="mergesort")[:k].tolist())
    tb = set(np.argsort(-np.asarray(b, dtype=np.float64), kind="mergesort")[:k].tolist())
    return len(ta & tb) / k


class ConvProbe:
    """A global forward hook that records, for the first convolution with more than one input
    channel run in training mode, its device, whether its input is channels_last and its output
    dtype: what the CUDA path promises (bf16 autocast, channels_last) as it really ran."""

    def __init__(self):
        self.seen = None
        self._handle = None

    def _hook(self, module, inputs, output):
        if self.seen is None and isinstance(module, nn.Conv2d) and module.training \
                and module.in_channels > 1 and module.groups == 1:
            x = inputs[0]
            self.seen = {"device": x.device.type,
                         "channels_last": bool(x.is_contiguous(memory_format=torch.channels_last)
                                               and not x.is_contiguous()),
                         "output_dtype": str(output.dtype).replace("torch.", "")}

    def __enter__(self):
        self._handle = nn.modules.module.register_module_forward_hook(self._hook)
        return self

    def __exit__(self, *exc):
        self._handle.remove()


def forward_flops(model, shape):
    """FLOPs (2 per multiply-add) of one forward pass of ``model`` for one image of ``shape``
    (convolutions and linear layers; batch norm and activations are a few percent)."""
    total = [0]

    def hook(module, inputs, output):
        if isinstance(module, nn.Conv2d):
            k = module.kernel_size[0] * module.kernel_size[1] * module.in_channels // module.groups
            total[0] += 2 * k * output[0].numel()
        elif isinstance(module, nn.Linear):
            total[0] += 2 * module.in_features * module.out_features

    handles = [m.register_forward_hook(hook) for m in model.modules()
               if isinstance(m, (nn.Conv2d, nn.Linear))]
    was = model.training
    try:
        model.eval()
        p = next(model.parameters())
        with torch.no_grad():
            model(torch.zeros(1, *shape, device=p.device, dtype=p.dtype))
    finally:
        for h in handles:
            h.remove()
        model.train(was)
    return total[0]


def step_quick_run(report, dev, sizes):
    print("1. quick-mode run (spurlab.run(spurlab.preset('quick'))), bf16 autocast, channels_last",
          flush=True)
    cfg = sl.preset("quick", **sizes["quick"])
    t = time.perf_counter()
    with precision("bf16"), ConvProbe() as probe:
        result = sl.run(cfg, arms=sizes["arms"], reference=True, device=dev)
    _sync(dev)
    report.figure("quick run: wall time", time.perf_counter() - t, "s")
    report.figure("quick run: config", cfg.to_string())
    seen = probe.seen or {}
    report.check("the training convolutions ran on the device", seen.get("device") == dev.type,
                 f"{seen.get('device')} (want {dev.type})")
    report.check("bf16 autocast was active in training", seen.get("output_dtype") == "bfloat16",
                 f"a convolution's output dtype was {seen.get('output_dtype')}")
    fmt = "channels_last" if seen.get("channels_last") else "not channels_last"
    report.check("channels_last was used in training", seen.get("channels_last") is True,
                 f"a convolution's input was {fmt}")
    base, ref = result.baseline, result.reference
    smr = {name: result.arms[name].metrics.smr for name in sizes["arms"]}
    report.figure("baseline: clean accuracy", base.clean_accuracy)
    report.figure("baseline: SMR", base.smr)
    report.figure("no-carrier reference: SMR", ref.smr)
    for name, v in smr.items():
        report.figure(f"prune {name}: SMR", v)
    numbers = [base.smr, base.clean_accuracy, ref.smr, *smr.values()]
    report.check("every metric is a finite number in [0, 1]",
                 all(isinstance(v, float) and 0 <= v <= 1 for v in numbers))
    report.check("pruning the hardest lowers the SMR more than random pruning",
                 smr["hardest"] < smr["random"],
                 f"hardest {smr['hardest']:.3f} vs random {smr['random']:.3f}", claim=True)
    report.check("the baseline's SMR is above the no-carrier reference's",
                 base.smr > ref.smr, f"{base.smr:.3f} vs {ref.smr:.3f}", claim=True)
    return result


def step_packed_seeds(report, dev, sizes):
    print("2. packed seeds (spurlab.multiseed.train_seeds) vs the same seeds one by one", flush=True)
    tr, _ = sl.load_dataset("shapes", n_train=sizes["seeds_n"], n_test=60, seed=0)
    x, y, seeds, epochs = tr.images, tr.labels, sizes["seeds"], sizes["seeds_epochs"]
    kw = dict(epochs=epochs, batch_size=sizes["seeds_batch"], progress=False, device=dev)
    _sync(dev)
    t = time.perf_counter()
    models, hists = train_seeds(x, y, seeds, **kw)
    _sync(dev)
    t_packed = time.perf_counter() - t
    t = time.perf_counter()
    seq = [sl.train(sl.make_model(seed=s), x, y, seed=s, **kw) for s in seeds]
    _sync(dev)
    t_seq = time.perf_counter() - t
    report.figure(f"{len(seeds)} seeds packed: time", t_packed, "s")
    report.figure(f"{len(seeds)} seeds one by one: time", t_seq, "s")
    report.figure("packed speedup", t_seq / t_packed, "x")
    d_loss = max(abs(h[-1]["loss"] - s[-1]["loss"]) for h, s in zip(hists, seq))
    d_acc = max(abs(h[-1]["accuracy"] - s[-1]["accuracy"]) for h, s in zip(hists, seq))
    report.figure("largest final-loss difference packed vs one by one", d_loss)
    report.figure("largest final-accuracy difference packed vs one by one", d_acc)
    report.check("every packed seed trained (finite loss, falling when over one epoch)",
                 all(math.isfinite(h[-1]["loss"]) and (epochs == 1 or h[-1]["loss"] < h[0]["loss"])
                     for h in hists))
    report.check("packed seeds agree with their one-by-one runs (final loss within 0.05, "
                 "accuracy within 0.05)", d_loss <= 0.05 and d_acc <= 0.05,
                 f"{d_loss:.2g} and {d_acc:.2g}")
    return models


def step_scores(report, dev, sizes):
    print("3. EL2N and GraNd under bf16 vs float32 (rank agreement)", flush=True)
    tr, _ = sl.load_dataset("shapes", n_train=sizes["score_n"], n_test=60, seed=1)
    x, y = tr.images, tr.labels
    model = sl.make_model(seed=0)
    sl.train(model, x, y, epochs=sizes["score_epochs"], device=dev, progress=False)
    timings = {}
    t = time.perf_counter()
    with precision("fp32"):
        e32 = el2n(model, x, y)
    timings["el2n fp32"] = time.perf_counter() - t
    t = time.perf_counter()
    with precision("bf16"):
        e16 = el2n(model, x, y)
    timings["el2n bf16"] = time.perf_counter() - t
    g = sizes["grand_n"]
    t = time.perf_counter()
    g32 = grand(model, x[:g], y[:g])
    _sync(dev)
    timings["grand fp32"] = time.perf_counter() - t
    t = time.perf_counter()
    g16 = grand(model, x[:g], y[:g], precision="bf16")
    _sync(dev)
    timings["grand bf16"] = time.perf_counter() - t
    for k, v in timings.items():
        report.figure(f"{k}: time", v, "s")
    rho_e, rho_g = spearman(e32, e16), spearman(g32, g16)
    ov_e, ov_g = top_overlap(e32, e16), top_overlap(g32, g16)
    report.figure(f"EL2N Spearman bf16 vs fp32 ({len(x)} samples)", rho_e)
    report.figure("EL2N hardest-quarter overlap", ov_e)
    report.figure(f"GraNd Spearman bf16 vs fp32 ({g} samples)", rho_g)
    report.figure("GraNd hardest-quarter overlap", ov_g)
    report.check("EL2N ranks under bf16 match float32 (Spearman >= 0.95)", rho_e >= 0.95,
                 f"{rho_e:.4f}")
    report.check("GraNd ranks under bf16 match float32 (Spearman >= 0.90)", rho_g >= 0.90,
                 f"{rho_g:.4f}")
    report.check("all scores finite", bool(torch.isfinite(e16).all() and torch.isfinite(g16).all()))


def step_resnet(report, dev, sizes):
    print("4. CIFAR-10-sized ResNet-18 epochs (synthetic 32x32 images, bf16, channels_last)",
          flush=True)
    n, bs = sizes["resnet_n"], sizes["resnet_batch"]
    gen = torch.Generator().manual_seed(0)
    x = torch.randint(0, 256, (n, 3, 32, 32), dtype=torch.uint8, generator=gen)
    y = torch.randint(0, 10, (n,), generator=gen)
    model = sl.make_model("resnet18", in_channels=3, num_classes=10, image_size=32)
    flops = forward_flops(model, (3, 32, 32))
    if dev.type == "cuda":
        torch.backends.cudnn.benchmark = True
    with precision("bf16"):
        # kernels chosen and memory allocated for both batch shapes the timed epoch runs: the
        # full batch and the last, partial one (cudnn.benchmark tunes each new shape on first use)
        w = min(sizes["resnet_warmup"] // bs * bs + n % bs, n)
        sl.train(model, x[:w], y[:w], epochs=1, batch_size=bs, device=dev, progress=False)
        times = []
        for _ in range(2):                           # the first and a second, steady epoch
            _sync(dev)
            t = time.perf_counter()
            hist = sl.train(model, x, y, epochs=1, batch_size=bs, device=dev, progress=False)
            _sync(dev)
            times.append(time.perf_counter() - t)
    dt = min(times)
    ips = n / dt
    tflops = 3 * flops * n / dt / 1e12                # training ~ 3x the forward FLOPs
    report.figure("ResNet-18 forward FLOPs per 32x32 image", flops / 1e9, "GFLOP")
    report.figure(f"ResNet-18 epochs ({n:,} images, batch {bs}), first and second",
                  ", ".join(f"{t:.3g} s" for t in times))
    report.figure(f"ResNet-18 epoch ({n:,} images, batch {bs}), the faster", dt, "s")
    report.figure("ResNet-18 training throughput", ips, "images/s")
    report.figure("ResNet-18 achieved", tflops, "TFLOP/s")
    report.figure("reference: standard ResNet-18 on an A100 (airbench README)",
                  REFERENCE["resnet18_images_per_s_a100"], "images/s")
    report.figure("reference: same, achieved", REFERENCE["resnet18_tflops_a100"], "TFLOP/s")
    report.figure("reference: airbench94 on an A100", REFERENCE["airbench94_tflops_a100"], "TFLOP/s")
    report.figure("throughput / A100 ResNet-18 reference",
                  ips / REFERENCE["resnet18_images_per_s_a100"], "x")
    report.check("the ResNet-18 epoch trained (finite loss)", math.isfinite(hist[-1]["loss"]))
    if report.enforce_claims:
        report.check(f"ResNet-18 throughput >= {RESNET_FLOOR_IMAGES_PER_S:,} images/s "
                     "(a floor only a broken CUDA path misses)", ips >= RESNET_FLOOR_IMAGES_PER_S,
                     f"{ips:,.0f} images/s")


def step_reference(report, dev, sizes):
    print("5. one epoch of the CIFAR-10S reference recipe (preset 'cifar10s-reference': "
          "ResNet-20, red line, crop + flip, CIFAR normalisation, plain momentum; synthetic "
          "images)", flush=True)
    from spurlab.build import make_config_feature
    from spurlab.recipe import fit

    cfg = sl.preset("cifar10s-reference")
    n = sizes["reference_n"]
    gen = torch.Generator().manual_seed(1)
    x = torch.randint(0, 256, (n, 3, 32, 32), dtype=torch.uint8, generator=gen).float() / 255
    y = torch.randint(0, 10, (n,), generator=gen)
    carriers = (y == cfg.target_class).nonzero().flatten()[:cfg.n_carriers]
    x[carriers] = make_config_feature(cfg).apply(x[carriers])
    line = x[carriers][:, 0, :, 16] * 255
    report.check("the reference line: red channel, column 16, value 191",
                 bool(len(carriers)) and bool((line.round() == 191).all()),
                 f"{len(carriers)} stamped images")
    _sync(dev)
    t = time.perf_counter()
    model, hist = fit(cfg, x, y, num_classes=10, device=dev, stop_epoch=1)
    _sync(dev)
    dt = time.perf_counter() - t
    report.figure(f"reference recipe epoch ({n:,} images, batch {cfg.batch_size})", dt, "s")
    report.figure("reference recipe throughput", n / dt, "images/s")
    report.figure(f"projected {cfg.epochs} epochs x 3 models (hardest, easiest, no carriers) "
                  "+ 9 scoring epochs", (3 * cfg.epochs + cfg.score_epoch) * dt / 60, "min")
    report.check("the reference epoch trained (finite loss)", math.isfinite(hist[-1]["loss"]))
    report.check("the model is a ResNet-20 that normalises its input",
                 isinstance(model, sl.ResNet20) and model.norm is not None)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true",
                        help="the same code path on the CPU with tiny sizes (claims not enforced)")
    parser.add_argument("--json", metavar="PATH", help="write every figure and check as JSON")
    args = parser.parse_args(argv)
    if args.json:
        from spurlab._validate import check_output_path

        try:
            check_output_path("--json", args.json)
        except ValueError as exc:
            print(f"gpu_check: error: {exc}", file=sys.stderr)
            return 2
    if args.dry_run:
        dev, sizes = torch.device("cpu"), DRY
    else:
        if not torch.cuda.is_available():
            print("gpu_check: error: no CUDA device here; run it on a machine with a GPU, or use "
                  "--dry-run for the same code path on the CPU", file=sys.stderr)
            return 2
        dev, sizes = torch.device("cuda"), FULL
    report = Report(enforce_claims=not args.dry_run)
    t0 = time.perf_counter()
    name = torch.cuda.get_device_name(dev) if dev.type == "cuda" else platform.processor() or "cpu"
    print(f"gpu_check{' --dry-run' if args.dry_run else ''}: spurlab {sl.__version__}, torch "
          f"{torch.__version__}, device {dev} ({name}), {torch.get_num_threads()} CPU threads",
          flush=True)
    for step in (step_quick_run, step_packed_seeds, step_scores, step_resnet, step_reference):
        try:
            step(report, dev, sizes)
        except Exception as exc:  # noqa: BLE001 - a crashed step is a failed check, then go on
            report.check(f"{step.__name__} ran without an error", False,
                         f"{type(exc).__name__}: {exc}")
    total = time.perf_counter() - t0
    report.figure("total wall time", total, "s")
    if not args.dry_run:
        report.check(f"the whole check took at most {BUDGET_S} s", total <= BUDGET_S, f"{total:.0f} s")
    failed = report.failures()
    enforced = [r for r in report.results if r["enforced"]]
    notes = len(report.results) - len(enforced)
    print(f"gpu_check: {len(enforced) - len(failed)} of {len(enforced)} checks and claims passed"
          + (f", {notes} claim(s) reported only (dry run)" if notes else "")
          + (f"; FAILED: {'; '.join(r['name'] for r in failed)}" if failed else ""), flush=True)
    if args.json:
        doc = {"dry_run": args.dry_run, "device": str(dev), "device_name": name,
               "torch": torch.__version__, "spurlab": sl.__version__, "figures": report.figures,
               "results": report.results, "reference": REFERENCE}
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        write(json.loads(json.dumps(doc, default=str)), args.json, argv)
    return report.exit_code()


if __name__ == "__main__":
    sys.exit(main())
