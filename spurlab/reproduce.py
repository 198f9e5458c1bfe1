"""``spurlab reproduce``: the paper's protocols on CIFAR-10S, CelebA-Eyeglasses and Waterbirds.

For each seed: train the baseline (ERM) and record EL2N at the preset's early epoch; then for
each prune ratio ``p`` and arm, prune and retrain a fresh model with the same recipe (all
through the engine, :func:`spurlab.run`; the settings are the presets ``'cifar10s'``,
``'celeba'`` and ``'waterbirds'``):

- ``hardest``: the top ``p`` of every class by early EL2N (label-free, the paper's method);
- ``hardest/oracle``: the hardest ``p`` of the group that carries the spurious feature only
  (CIFAR-10S: the carriers; CelebA: males with glasses; Waterbirds: per class, the
  spurious-aligned groups, landbirds on land and waterbirds on water), the identifiable setting;
- ``random`` and ``easiest`` at the same ratio: controls;
- ``jtt`` (Waterbirds, once, no ratio): JTT, the baseline's early errors upweighted.

Waterbirds has no download: its files are placed by hand (see :mod:`spurlab.waterbirds`).

Every finished step is one checksummed JSON file in ``out`` (the engine's disk cache): a rerun
skips it (resumable), and an interrupted run leaves no half-written file. ``results.json`` and
``results.png`` summarise.
"""

from __future__ import annotations

import json
import os
import time

import torch

from ._validate import check_choice, check_fraction, check_int
from .arms import check_arms
from .build import build_scenario
from .config import PAPER_ARMS, preset
from .files import atomic_write_text, environment, save_figure
from .pipeline import run
from .stats import summarize

SETTINGS = ("cifar10s", "celeba", "waterbirds")
ARMS = PAPER_ARMS
# each setting's default arms (the baseline, ERM, always runs): Waterbirds adds JTT beside them
SETTING_ARMS = {"cifar10s": ARMS, "celeba": ARMS, "waterbirds": ARMS + ("jtt",)}
# the headline metric of each setting: CIFAR-10S the spurious misclassification rate; CelebA
# the test accuracy of females with glasses (group 2*male + glasses = 1), as the reference code;
# Waterbirds the worst-group test accuracy, the metric every Waterbirds paper reports
HEADLINE = {"cifar10s": "smr", "celeba": "female_glasses_accuracy",
            "waterbirds": "worst_group_accuracy"}


def setting_config(setting, quick=False):
    """The protocol's config: the presets ``'cifar10s'``, ``'celeba'`` and their ``'-quick'``
    CPU-sized variants (see :data:`spurlab.config.PRESETS`, where every choice is explained)."""
    check_choice("setting", setting, SETTINGS)
    return preset(f"{setting}-quick" if quick else setting)


def protocol(setting, quick, config=None):
    """A plain-text statement of the protocol a run used (printed and saved)."""
    c = config or setting_config(setting, quick)
    mode = "QUICK variant (not the paper's scale)" if quick else "full protocol"
    recipe = (f"model {c.model}{' (ImageNet-pretrained)' if c.pretrained else ''}, {c.epochs} "
              f"epochs, SGD Nesterov momentum {c.momentum} lr {c.lr} ({c.schedule}), weight decay "
              f"{c.weight_decay}, batch {c.batch_size}; EL2N at epoch {c.score_epoch}")
    if setting == "waterbirds":
        return (f"Waterbirds, waterbird vs landbird, spurious = the background, {mode}: up to "
                f"{c.n_train} training and {c.n_test} test images of the official splits "
                f"(every group 2*bird + water keeping its share); {c.image_size}px (resize "
                f"{int(c.image_size * 256 / 224)}, centre crop); {recipe}; JTT upweights the "
                f"baseline's errors at epoch {c.score_epoch} x{c.jtt_upweight}; oracle pruning "
                f"within the spurious-aligned groups (landbirds on land, waterbirds on water), "
                f"per class; headline: worst-group test accuracy at the last epoch.")
    if setting == "cifar10s":
        return (f"CIFAR-10S, {mode}: {c.n_train} train / {c.n_test} test images at "
                f"{c.image_size}px; a {c.orientation} line (value 1.0 white, salience "
                f"{c.salience}) through the centre on {c.prevalence:.0%} of class {c.target_class} "
                f"(airplane), placed at random; test: the line stamped on the other classes; "
                f"{recipe}; prune per class, retrain fresh.")
    q = c.n_train // 4
    return (f"CelebA Male vs Female, spurious = Eyeglasses, {mode}: train {q} males w/o glasses, "
            f"{q} with, {c.n_train - 2 * q} females w/o, 0 with (official train partition, file "
            f"order); females with glasses of that partition split half to val, half to test; up "
            f"to {c.n_test // 4} test images per group; {c.image_size}px after a 178 centre crop; "
            f"{recipe}; headline: test accuracy of females with glasses at the last epoch.")


def reproduce(setting, *, out, quick=False, seeds=1, prune_ratios=(0.1, 0.25, 0.5),
              arms=None, root=None, download=False, progress=True, log=print, config=None):
    """Run (or resume) the paper's protocol for ``setting`` and return the summary dict.

    Every step runs through the engine (:func:`spurlab.run`) with its disk cache in ``out``:
    each finished baseline and arm is one checksummed JSON file there, so a rerun trains
    nothing that finished, and an interrupted run leaves no half-written file.

    Parameters
    ----------
    setting : {'cifar10s', 'celeba', 'waterbirds'}
    out : str
        Output folder (cache files, ``results.json``, ``results.png``).
    quick : bool
        The CPU-sized variant (labelled as such).
    seeds : int
    prune_ratios : sequence of float in [0, 1)
    arms : sequence of str, optional
        Default: the setting's (:data:`SETTING_ARMS`). ``'jtt'`` does not prune: it runs once
        and is reported at ratio 0.
    root, download
        Where the data lie, and whether to download missing files.
    config : Config, optional
        Use this config instead of the setting's preset (e.g. a smaller one for a test).
    """
    check_choice("setting", setting, SETTINGS)
    seeds = check_int("seeds", seeds, low=1)
    ratios = [check_fraction("prune_ratio", p, high_open=True) for p in prune_ratios]
    if not ratios:
        raise ValueError(f"prune_ratios must hold at least one ratio in [0, 1); got "
                         f"{list(prune_ratios)!r}")
    arms = check_arms(SETTING_ARMS[setting] if arms is None else arms)
    for a in arms:
        check_choice("arm", a, ARMS + ("jtt",))
    os.makedirs(out, exist_ok=True)
    mode = "quick" if quick else "full"
    cfg = config or setting_config(setting, quick)
    text = protocol(setting, quick, cfg)
    headline = HEADLINE[setting]
    log(f"protocol: {text}")
    rows = []
    for seed in range(seeds):
        t0 = time.perf_counter()
        c = cfg.replace(seed=seed)
        sc = build_scenario(c, root=root, download=download)
        for i, p in enumerate(ratios):
            todo = [a for a in arms if i == 0 or a != "jtt"]     # JTT prunes nothing: once
            r = run(c.replace(prune_ratio=p), scenario=sc, arms=todo, reference=False,
                    progress=progress, cache_dir=out)
            if i == 0:
                rows.append(_row(setting, r, "baseline", 0.0))
            rows.extend(_row(setting, r, a, 0.0 if a == "jtt" else p) for a in todo)
        log(f"seed {seed} done in {time.perf_counter() - t0:.0f} s")
    summary = _summarise(rows, headline)
    doc = {"setting": setting, "mode": mode, "protocol": text, "config": cfg.to_string(),
           "seeds": seeds, "prune_ratios": ratios, "arms": list(arms), "headline": headline,
           "summary": summary, "runs": rows, "environment": environment(torch.device("cpu"))}
    atomic_write_text(os.path.join(out, "results.json"), json.dumps(doc, indent=1))
    log(_table(summary, headline))
    _figure(summary, headline, text, os.path.join(out, "results.png"))
    return doc


def _row(setting, result, model, p):
    """One model of one run as a row of ``results.json``: its metrics and, for Waterbirds, the
    worst group by name (from the result's scenario); for CelebA, the paper's headline group."""
    m = result.metrics(model)
    row = {"seed": result.config.seed, "arm": model, "prune_ratio": p, **m.to_dict()}
    if setting == "waterbirds":
        row["worst_group"] = None if m.worst_group is None else result.worst_group_name(model)
    else:
        # CelebA's headline: females (class 0) with glasses, group 2*0 + 1
        row["female_glasses_accuracy"] = m.group_accuracy[1]
    if model != "baseline":
        a = result.arms[model]
        row.update(n_kept=a.n_kept, carriers_pruned=a.carriers_pruned)
    return row


def _summarise(rows, headline):
    out = {}
    for r in rows:
        k = f"{r['arm']}@{r['prune_ratio']:g}"
        out.setdefault(k, {"arm": r["arm"], "prune_ratio": r["prune_ratio"], "values": []})
        out[k]["values"].append(r[headline])
    for v in out.values():
        s = summarize(v["values"])
        v["mean"], v["sd"] = s["mean"], s["sd"]
    return out


def _table(summary, headline):
    lines = [f"{'arm':<16} {'p':>5} {headline + ' (mean +- sd over seeds)':>44}"]
    for v in summary.values():
        name = "baseline (ERM)" if v["arm"] == "baseline" else v["arm"]
        lines.append(f"{name:<16} {v['prune_ratio']:>5g} {v['mean']:>30.3f} +- {v['sd']:.3f}")
    return "\n".join(lines)


def _figure(summary, headline, text, path):
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from .charts import model_color, model_label

    fig, ax = plt.subplots(figsize=(7, 4))          # each model in its colour in every figure
    base = [v for v in summary.values() if v["arm"] == "baseline"]
    if base:
        ax.axhline(base[0]["mean"], color=model_color("baseline"), ls="--", label="baseline (ERM)")
    jtt = [v for v in summary.values() if v["arm"] == "jtt"]
    if jtt:
        ax.axhline(jtt[0]["mean"], color=model_color("jtt"), ls=":", label=model_label("jtt"))
    for arm in (a for a in ARMS if any(v["arm"] == a for v in summary.values())):
        vs = sorted((v for v in summary.values() if v["arm"] == arm), key=lambda v: v["prune_ratio"])
        ax.errorbar([v["prune_ratio"] for v in vs], [v["mean"] for v in vs],
                    yerr=[v["sd"] for v in vs], marker="o", capsize=3, label=arm,
                    color=model_color(arm))
    ax.set_xlabel("prune ratio p")
    ax.set_ylabel(headline.replace("_", " "))
    ax.set_title(text.split(":")[0])
    ax.legend(fontsize=8)
    fig.tight_layout()
    save_figure(fig, path, dpi=110)
    plt.close(fig)
