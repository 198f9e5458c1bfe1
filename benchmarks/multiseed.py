"""Seeds at once: S seeds of the default model trained in one packed pass vs S sequential runs.

    python3 benchmarks/multiseed.py                 # S = 5, quick preset data, 3 repeats
    python3 benchmarks/multiseed.py --seeds 3 --repeats 5 --threads 1 --profile

Times ``S`` sequential :func:`spurlab.train` runs (each ``make_model(seed=s)``, the quick
preset's data and recipe) against one :func:`spurlab.multiseed.train_seeds` call on the same
data, interleaved (the order alternates every repeat, so a change of machine load hits both
alike), and reports the medians, their ratio (goal: S = 5 at >= 2x), the process CPU time of
each, the load average, and the largest per-seed difference between the two (weights, logits,
the final EL2N and the early EL2N at the preset's score epoch, recorded through the callbacks),
next to the same difference between two sequential runs that differ only in thread count (float32
training at lr 0.05 is chaotic, so any reordering of sums grows), and checks in float64 that the
two agree to rounding (tolerance 1e-7).
``--profile`` prints torch.profiler's top operations for a few steps of each.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import torch

import spurlab as sl
from spurlab.multiseed import el2n_seeds, train_seeds


def _state_diff(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    return max((sa[k].double() - sb[k].double()).abs().max().item() for k in sa)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=5, help="number of seeds S (default 5)")
    ap.add_argument("--repeats", type=int, default=3, help="timed repeats, median reported (>= 3)")
    ap.add_argument("--epochs", type=int, default=None, help="default: the quick preset's")
    ap.add_argument("--n-train", type=int, default=None, help="default: the quick preset's")
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: usable cores)")
    ap.add_argument("--profile", action="store_true", help="print the top operations of each")
    args = ap.parse_args(argv)
    if args.seeds < 1 or args.repeats < 1:
        ap.error(f"--seeds and --repeats must be >= 1; got {args.seeds} and {args.repeats}")
    threads = sl.configure_threads(args.threads)
    cfg = sl.preset("quick")
    epochs = args.epochs or cfg.epochs
    n_train = args.n_train or cfg.n_train
    train, _ = sl.load_dataset("shapes", n_train=n_train, n_test=60, seed=0)
    x, y, K = train.images, train.labels, train.num_classes
    seeds = list(range(args.seeds))
    score_epoch = min(cfg.score_epoch, epochs)
    kw = dict(epochs=epochs, batch_size=cfg.batch_size, lr=cfg.lr, weight_decay=cfg.weight_decay,
              device="cpu", progress=False)

    def sequential_one(s):
        m = sl.make_model(cfg.model, in_channels=x.shape[1], num_classes=K, image_size=x.shape[-1], seed=s)
        sl.train(m, x, y, seed=s, **kw)
        return m

    def sequential(record=None):
        models = []
        for s in seeds:
            m = sl.make_model(cfg.model, in_channels=x.shape[1], num_classes=K, image_size=x.shape[-1],
                              seed=s)
            cb = None
            if record is not None:
                def cb(epoch, model, s=s):
                    if epoch == score_epoch:
                        record[s] = sl.el2n(model, x, y)
            sl.train(m, x, y, seed=s, callback=cb, **kw)
            models.append(m)
        return models

    def packed(record=None):
        cb = None
        if record is not None:
            def cb(epoch, models):
                if epoch == score_epoch:
                    record["all"] = el2n_seeds(models, x, y)
        return train_seeds(x, y, seeds, model=cfg.model, num_classes=K, callback=cb, **kw)[0]

    print(f"S = {len(seeds)} seeds of the '{cfg.model}' CNN, {n_train} shapes images "
          f"{tuple(x.shape[1:])}, {epochs} epochs, batch {cfg.batch_size}; torch {torch.__version__}, "
          f"{threads} thread(s), {os.cpu_count()} CPU(s); load average before: "
          f"{' '.join(f'{v:.2f}' for v in os.getloadavg())}", flush=True)
    # warm-up: oneDNN builds its kernels on first use
    sl.train(sl.make_model(num_classes=K), x[:512], y[:512], epochs=1, progress=False, device="cpu")
    train_seeds(x[:512], y[:512], seeds, num_classes=K, epochs=1, progress=False, device="cpu")

    wall = {"sequential": [], "packed": []}
    cpu = {"sequential": [], "packed": []}
    fns = {"sequential": sequential, "packed": packed}
    for r in range(args.repeats):
        order = ["sequential", "packed"] if r % 2 == 0 else ["packed", "sequential"]
        for name in order:
            t, c = time.perf_counter(), time.process_time()
            fns[name]()
            wall[name].append(time.perf_counter() - t)
            cpu[name].append(time.process_time() - c)
        print(f"  repeat {r + 1}: sequential {wall['sequential'][-1]:.2f} s, "
              f"packed {wall['packed'][-1]:.2f} s", flush=True)
    ms, mp = statistics.median(wall["sequential"]), statistics.median(wall["packed"])

    rec_s, rec_p = {}, {}
    m_seq, m_pack = sequential(rec_s), packed(rec_p)
    w_diff = max(_state_diff(a, b) for a, b in zip(m_seq, m_pack))
    z_s = torch.stack([sl.predict_logits(m, x) for m in m_seq])
    z_p = torch.stack([sl.predict_logits(m, x) for m in m_pack])
    z_diff = (z_s - z_p).abs().max().item()
    agree = (z_s.argmax(2) == z_p.argmax(2)).float().mean().item()
    e_final = (torch.stack([sl.el2n(m, x, y) for m in m_seq]) - el2n_seeds(m_pack, x, y)).abs().max().item()
    e_early = (torch.stack([rec_s[s] for s in seeds]) - rec_p["all"]).abs().max().item()
    # float32 training at lr 0.05 is chaotic: rounding differences grow step by step. The yardstick
    # is spurlab.train itself run with another thread count (seed 0), which also reorders sums.
    other = 1 if threads > 1 else 2
    torch.set_num_threads(other)
    ref = sequential_one(0)
    torch.set_num_threads(threads)
    t_w = _state_diff(ref, m_seq[0])
    t_z = (sl.predict_logits(ref, x) - z_s[0]).abs().max().item()
    t_e = (sl.el2n(ref, x, y) - sl.el2n(m_seq[0], x, y)).abs().max().item()
    # the strict check: in float64 the same comparison must agree to rounding (2 seeds, 2 epochs)
    x64, y64 = x[:640], y[:640]
    kw64 = dict(kw, epochs=2)
    p64 = train_seeds(x64, y64, seeds[:2], num_classes=K, dtype=torch.float64, **kw64)[0]
    d64 = 0.0
    for s, m in zip(seeds[:2], p64):
        r64 = sl.make_model(num_classes=K, seed=s).double()
        sl.train(r64, x64.double(), y64, seed=s, **kw64)
        d64 = max(d64, _state_diff(r64, m))
    tol64 = 1e-7
    print(f"sequential (S x spurlab.train): median {ms:.2f} s (min {min(wall['sequential']):.2f}, "
          f"max {max(wall['sequential']):.2f}), process CPU {statistics.median(cpu['sequential']):.2f} s")
    print(f"packed (train_seeds):           median {mp:.2f} s (min {min(wall['packed']):.2f}, "
          f"max {max(wall['packed']):.2f}), process CPU {statistics.median(cpu['packed']):.2f} s")
    print(f"float32, {epochs} epochs, per-seed max |packed - sequential|: weights {w_diff:.2e}, "
          f"logits {z_diff:.2e}, EL2N final {e_final:.2e}, EL2N at epoch {score_epoch} {e_early:.2e}; "
          f"predictions agree on {100 * agree:.2f}%")
    print(f"  yardstick, spurlab.train seed 0 with {other} vs {threads} thread(s): weights {t_w:.2e}, "
          f"logits {t_z:.2e}, EL2N final {t_e:.2e} (chaotic float32 training, not a packing error)")
    print(f"float64, 2 seeds x 2 epochs on {len(x64)} images: max |packed - sequential| weights "
          f"{d64:.2e} (tolerance {tol64:g}: {'within' if d64 <= tol64 else 'EXCEEDED'})")
    print(f"load average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    r = ms / mp
    print(f"speedup = {r:.2f}x (goal >= 2.0x at S = 5): {'MET' if r >= 2 else 'MISSED'}; "
          f"CPU-time ratio {statistics.median(cpu['sequential']) / statistics.median(cpu['packed']):.2f}x",
          flush=True)

    if args.profile:
        from torch.profiler import ProfilerActivity, profile

        sub = dict(kw, epochs=1)
        for name, fn in [("sequential", lambda: [sl.train(sl.make_model(num_classes=K, seed=s), x, y,
                                                          seed=s, **sub) for s in seeds]),
                         ("packed", lambda: train_seeds(x, y, seeds, num_classes=K, **sub))]:
            with profile(activities=[ProfilerActivity.CPU]) as prof:
                fn()
            print(f"\n{name}, one epoch:")
            print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=14))
    return r


if __name__ == "__main__":
    main()
