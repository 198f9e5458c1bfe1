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
from .stats import difference_interval, proportion_interval, seed_interval, summarize
from .verdicts import difference_of

SETTINGS = ("cifar10s", "cifar10s-reference", "celeba", "waterbirds")
ARMS = PAPER_ARMS
# the CIFAR-10S claim-2 experiment as the reference code runs it: ERM on the line stamped on the
# 100 hardest airplanes against ERM on the 100 easiest, beside a model without carriers
REFERENCE_SETTING = "cifar10s-reference"
REFERENCE_PLACEMENTS = ("hardest", "easiest")
# the reference code's probe: stamped automobiles (class 1) predicted airplane
PROBE_CLASS = 1
# each setting's default arms (the baseline, ERM, always runs): Waterbirds adds JTT beside them;
# the reference experiment prunes nothing (its code has no pruning script)
SETTING_ARMS = {"cifar10s": ARMS, REFERENCE_SETTING: (), "celeba": ARMS,
                "waterbirds": ARMS + ("jtt",)}
# the headline metric of each setting: CIFAR-10S the spurious misclassification rate; CelebA
# the test accuracy of females with glasses (group 2*male + glasses = 1), as the reference code;
# Waterbirds the worst-group test accuracy, the metric every Waterbirds paper reports
HEADLINE = {"cifar10s": "smr", REFERENCE_SETTING: "automobile_as_airplane",
            "celeba": "female_glasses_accuracy", "waterbirds": "worst_group_accuracy"}


def setting_config(setting, quick=False):
    """The protocol's config: the presets ``'cifar10s'``, ``'cifar10s-reference'``,
    ``'celeba'``, ``'waterbirds'`` and their ``'-quick'`` CPU-sized variants (see
    :data:`spurlab.config.PRESETS`, where every choice is explained)."""
    check_choice("setting", setting, SETTINGS)
    return preset(f"{setting}-quick" if quick else setting)


def protocol(setting, quick, config=None):
    """A plain-text statement of the protocol a run used (printed and saved)."""
    c = config or setting_config(setting, quick)
    mode = "QUICK variant (not the paper's scale)" if quick else "full protocol"
    recipe = (f"model {c.model}{' (ImageNet-pretrained)' if c.pretrained else ''}, {c.epochs} "
              f"epochs, SGD {'Nesterov' if c.nesterov else 'plain'} momentum {c.momentum} lr "
              f"{c.lr} ({c.schedule}), weight decay {c.weight_decay}, batch {c.batch_size}"
              f"{', pad-4 crop + flip' if c.augment == 'crop-flip' else ''}"
              f"{', CIFAR normalisation' if c.normalize == 'cifar' else ''}; EL2N at epoch "
              f"{c.score_epoch}")
    if setting == "waterbirds":
        return (f"Waterbirds, waterbird vs landbird, spurious = the background, {mode}: up to "
                f"{c.n_train} training and {c.n_test} test images of the official splits "
                f"(every group 2*bird + water keeping its share); {c.image_size}px (resize "
                f"{int(c.image_size * 256 / 224)}, centre crop); {recipe}; JTT upweights the "
                f"baseline's errors at epoch {c.score_epoch} x{c.jtt_upweight}; oracle pruning "
                f"within the spurious-aligned groups (landbirds on land, waterbirds on water), "
                f"per class; headline: worst-group test accuracy at the last epoch.")
    if setting == REFERENCE_SETTING:
        return (f"CIFAR-10S claim 2 as the reference code runs it, {mode}: {c.n_train} train / "
                f"{c.n_test} test images at {c.image_size}px; a {c.thickness}-pixel "
                f"{c.orientation} line of value {round(c.feature_value * 255)} on "
                f"{'the red channel only' if c.feature_channel == 0 else 'every channel'} "
                f"(column {c.image_size // 2}), stamped before augmentation on the "
                f"{c.n_carriers} hardest or the {c.n_carriers} easiest images of class "
                f"{c.target_class} (airplane) by EL2N of a model trained on the clean data "
                f"(epoch {c.score_epoch}, one augmented view); beside them a model without "
                f"carriers; {recipe}; probe: the line on the automobile test images, the share "
                f"predicted airplane (and the SMR over all other classes).")
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
    setting : {'cifar10s', 'cifar10s-reference', 'celeba', 'waterbirds'}
        ``'cifar10s-reference'`` trains ERM with the carriers placed on the hardest and on the
        easiest images of the class (and a model without carriers) for every seed, prunes
        nothing unless ``arms`` are given, and reports the automobile probe.
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
    placements = REFERENCE_PLACEMENTS if setting == REFERENCE_SETTING else (None,)
    for seed in range(seeds):
        t0 = time.perf_counter()
        for placement in placements:
            c = cfg.replace(seed=seed, **({} if placement is None else {"placement": placement}))
            sc = build_scenario(c, root=root, download=download)
            # the reference experiment's model without carriers, once per seed
            with_ref = setting == REFERENCE_SETTING and placement == placements[0]
            for i, p in enumerate(ratios if arms else ratios[:1]):
                todo = [a for a in arms if i == 0 or a != "jtt"]     # JTT prunes nothing: once
                r = run(c.replace(prune_ratio=p), scenario=sc, arms=todo,
                        reference=with_ref and i == 0, progress=progress, cache_dir=out)
                n = int((sc.stamped_test.labels == PROBE_CLASS).sum())
                if i == 0:
                    rows.append(_row(setting, r, "baseline", 0.0, placement, n))
                    if r.reference is not None:
                        rows.append(_row(setting, r, "reference", 0.0, "none", n))
                rows.extend(_row(setting, r, a, 0.0 if a == "jtt" else p, placement, n)
                            for a in todo)
        log(f"seed {seed} done in {time.perf_counter() - t0:.0f} s")
    summary = _summarise(rows, headline)
    doc = {"setting": setting, "mode": mode, "protocol": text, "config": cfg.to_string(),
           "seeds": seeds, "prune_ratios": ratios, "arms": list(arms), "headline": headline,
           "summary": summary, "runs": rows, "environment": environment(torch.device("cpu"))}
    atomic_write_text(os.path.join(out, "results.json"), json.dumps(doc, indent=1))
    log(_table(summary, headline))
    if setting == REFERENCE_SETTING:
        doc["verdict"] = reference_verdict(rows, cfg.n_carriers)
        log(doc["verdict"])
        atomic_write_text(os.path.join(out, "results.json"), json.dumps(doc, indent=1))
    _figure(summary, headline, text, os.path.join(out, "results.png"))
    return doc


def _row(setting, result, model, p, placement=None, probe_count=None):
    """One model of one run as a row of ``results.json``: its metrics and, for Waterbirds, the
    worst group by name (from the result's scenario); for CelebA, the paper's headline group;
    for the CIFAR-10S reference experiment, where the carriers were placed and the probe."""
    m = result.metrics(model)
    row = {"seed": result.config.seed, "arm": model, "prune_ratio": p, **m.to_dict()}
    if placement is not None:
        row["placement"] = placement
    if setting == "waterbirds":
        row["worst_group"] = None if m.worst_group is None else result.worst_group_name(model)
    elif setting == REFERENCE_SETTING:
        row["automobile_as_airplane"] = m.probe(PROBE_CLASS)
        row["automobile_count"] = probe_count
    else:
        # CelebA's headline: females (class 0) with glasses, group 2*0 + 1
        row["female_glasses_accuracy"] = m.group_accuracy[1]
    if model not in ("baseline", "reference"):
        a = result.arms[model]
        row.update(n_kept=a.n_kept, carriers_pruned=a.carriers_pruned)
    return row


def reference_verdict(rows, n_carriers):
    """What the CIFAR-10S reference experiment says, in a few lines: per placement of the
    carriers (hardest, easiest, none) the share of stamped automobiles predicted airplane
    with its 95% interval over seeds (one seed: over the test images), then whether the
    hardest carriers teach the shortcut more than the easiest (claim 2), by the one rule
    (:mod:`spurlab.verdicts`: an interval that excludes 0)."""
    by = {}
    for r in rows:
        if r["arm"] in ("baseline", "reference") and r.get("placement"):
            by.setdefault(r["placement"], {})[r["seed"]] = (r["automobile_as_airplane"],
                                                            r["automobile_count"])
    lines = []
    for pl, label in (("hardest", f"the {n_carriers} hardest"),
                      ("easiest", f"the {n_carriers} easiest"), ("none", "none")):
        if pl not in by:
            continue
        vals = [v for v, _ in by[pl].values()]
        n = next(iter(by[pl].values()))[1]
        if len(vals) > 1:
            s = seed_interval(vals, bounds=(0, 1))
            lo, hi = s["ci95"]
            where = f"95% interval over {len(vals)} seeds"
        else:
            lo, hi = proportion_interval(round(vals[0] * n), n)["ci95"]
            where = f"95% interval over {n} test images, one seed"
        mean = sum(vals) / len(vals)
        lines.append(f"carriers = {label}: {mean:.1%} of {n} stamped "
                     f"automobiles predicted airplane ({mean * n:.0f}) [{lo:.1%}, {hi:.1%}], "
                     f"{where}")
    if "hardest" in by and "easiest" in by:
        if "none" in by:
            above = [_probe_difference(by, p, "none") for p in REFERENCE_PLACEMENTS]
            learned = [d for d in above if d[1] and d[2] > 0]
            if not learned:
                lines.append("no shortcut learned: neither placement's probe is shown above the "
                              "model without carriers, so hardest vs easiest compares noise")
        head, differs, mean = _probe_difference(by, "hardest", "easiest")
        if not differs:
            tail = "not shown to differ"
        elif mean > 0:
            tail = "the hard carriers teach the shortcut more: claim 2 holds here"
        else:
            tail = "the easy carriers teach the shortcut more: claim 2 fails here"
        lines.append(f"{head}: {tail}")
    return "\n".join(lines)


def _probe_difference(by, a, b):
    """``(text, differs, mean)`` of probe ``a`` minus probe ``b``: paired over the seeds both
    have (a t-interval), or with one seed over the test images (a Wald interval)."""
    seeds = sorted(set(by[a]) & set(by[b]))
    if len(seeds) > 1:
        d = difference_of([by[a][k][0] - by[b][k][0] for k in seeds], a, b)
        lo, hi = d.ci95
        return (f"{a} minus {b}: {d.mean:+.1%} [{lo:+.1%}, {hi:+.1%}] over {d.n} seeds",
                d.differs, d.mean)
    n = by[a][seeds[0]][1]
    ka, kb = (round(by[p][seeds[0]][0] * n) for p in (a, b))
    d = difference_interval([1] * ka + [0] * (n - ka), [1] * kb + [0] * (n - kb))
    lo, hi = d["ci95"]
    return (f"{a} minus {b}: {d['mean']:+.1%} [{lo:+.1%}, {hi:+.1%}] over {n} test images, one "
            "seed", lo > 0 or hi < 0, d["mean"])


def _summarise(rows, headline):
    out = {}
    for r in rows:
        where = f"{r['placement']}:" if r.get("placement") else ""
        k = f"{where}{r['arm']}@{r['prune_ratio']:g}"
        out.setdefault(k, {"arm": r["arm"], "prune_ratio": r["prune_ratio"], "values": [],
                           "placement": r.get("placement")})
        out[k]["values"].append(r[headline])
    for v in out.values():
        s = summarize(v["values"])
        v["mean"], v["sd"] = s["mean"], s["sd"]
    return out


def _table(summary, headline):
    lines = [f"{'arm':<16} {'p':>5} {headline + ' (mean +- sd over seeds)':>44}"]
    for v in summary.values():
        name = "baseline (ERM)" if v["arm"] == "baseline" else v["arm"]
        if v.get("placement") == "none":
            name = "no carriers"
        elif v.get("placement"):
            name = f"{v['placement']} carriers" + ("" if v["arm"] == "baseline" else f" {name}")
        lines.append(f"{name:<16} {v['prune_ratio']:>5g} {v['mean']:>30.3f} +- {v['sd']:.3f}")
    return "\n".join(lines)


def _figure(summary, headline, text, path):
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from .charts import model_color, model_label

    fig, ax = plt.subplots(figsize=(7, 4))          # each model in its colour in every figure
    placed = [v for v in summary.values() if v.get("placement") and v["arm"] in ("baseline",
                                                                                  "reference")]
    if placed:                 # the reference experiment: ERM per placement of the carriers
        names = {"hardest": "hardest", "easiest": "easiest", "none": "reference"}
        ax.bar([f"{v['placement']} carriers" if v["placement"] != "none" else "no carriers"
                for v in placed], [v["mean"] for v in placed], yerr=[v["sd"] for v in placed],
               capsize=4, color=[model_color(names[v["placement"]]) for v in placed])
        ax.set_xlabel("which training images carry the line (ERM, error bars: sd over seeds)")
        ax.set_ylabel(headline.replace("_", " "))
        ax.set_title(text.split(":")[0])
        fig.tight_layout()
        save_figure(fig, path, dpi=110)
        plt.close(fig)
        return
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
