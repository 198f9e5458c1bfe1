"""The figures of the lessons: each takes results or data handed in by the engine, draws with
:mod:`spurlab.charts` and returns a one-line takeaway beside the figure. Nothing here trains,
predicts or builds a scenario; statements about a result come from :mod:`spurlab.verdicts`,
and the class, carriers and groups from each result's ``scenario``.

The general charts (:mod:`spurlab.charts`) and the text reports (:mod:`spurlab.report`) are
available from here too.
"""

from __future__ import annotations

import math

from ._validate import check_choice, check_fraction, check_int
from .charts import (
    MODEL_STYLE,
    OKABE_ITO,
    _check_colors,
    _check_labels,
    _fit_title,
    bars_with_spread,
    difficulty_grid,
    fit_xticks,
    gallery,
    lines_with_spread,
    model_color,
    model_label,
    overlaid_hist,
    rows_gallery,
    stacked_bars,
)
from .config import SPECIAL_ARMS
from .defaults import DEFAULTS
from .mechanism import BY, carriers_removed, mechanism_text
from .report import (
    METRIC_LABELS,
    _check_results,
    _is_model,
    arm_differences,
    pruning_takeaway,
    seed_values,
    seeds_table,
    shortcut_summary,
)
from .stats import RATE
from .verdicts import difference, shortcut

PERCENTILE = (0.0, 100.0)    # with stats.RATE: the ranges where sd bars are cut


def _tint(color, amount=0.55):
    """``color`` mixed with white (``amount`` of white): the same model, a paler bar."""
    from matplotlib.colors import to_hex, to_rgb

    return to_hex([c + (1 - c) * amount for c in to_rgb(color)])


def plot_result(result, ax=None):
    """Bar chart of the spurious misclassification rate and clean accuracy per model of one run.

    Returns ``(figure, takeaway)``; ``takeaway`` is the shortcut verdict, then what the lead
    arm did to the SMR (and, only when a shortcut was learned, the share of its excess).
    """
    import matplotlib.pyplot as plt

    sc = result.scenario
    models = (["reference"] if result.reference is not None else []) + ["baseline", *result.arms]
    names = [model_label(m) for m in models]
    smr = [result.metrics(m).smr for m in models]
    acc = [result.metrics(m).clean_accuracy for m in models]
    if ax is None:
        fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    else:
        axes, fig = ax, ax[0].figure
    colors = [model_color(m) for m in models]
    axes[0].bar(range(len(names)), smr, color=colors)
    axes[0].set_ylabel("spurious misclassification rate")
    axes[0].set_title(_fit_title(axes[0], f"Stamped test images of other classes predicted "
                                          f"{sc.target_name!r}"))
    axes[1].bar(range(len(names)), acc, color=colors)
    axes[1].set_ylabel("clean test accuracy")
    axes[1].set_ylim(max(0.0, min(acc) - 0.1), 1.0)
    axes[1].set_title("Accuracy on clean test images")
    for a in axes:
        a.set_xlabel("model")
        a.set_xticks(range(len(names)), names)
        fit_xticks(a)
    p = result.config.prune_ratio
    fig.suptitle(f"Pruning {p:.0%} of the training data by early {result.config.score.upper()}")
    fig.tight_layout()
    # lead with the paper's label-free arm when it was run, else the arm with the lowest SMR
    best = ("hardest" if "hardest" in result.arms else
            min(result.arms, key=lambda k: result.arms[k].metrics.smr) if result.arms else None)
    head = f"Takeaway: {result.verdict().text()}. " if result.reference is not None else "Takeaway: "
    if best is None:
        return fig, f"{head}Baseline SMR {result.baseline.smr:.1%}."
    ex = result.excess_removed(best)
    ex_s = "" if math.isnan(ex) else f", removing {ex:.0%} of the excess"
    return fig, (f"{head}The baseline sends {result.baseline.smr:.1%} of stamped images to "
                 f"{sc.target}; pruning '{best}' brings it to "
                 f"{result.arms[best].metrics.smr:.1%}{ex_s}.")


def shortcut_bars(values, *, class_name, title):
    """Notebook 01's figure: the SMR with its two baselines (left) and clean accuracy (right),
    each bar the mean over seeds with the seeds as dots, in the models' colours
    (:func:`spurlab.charts.model_color`; the baseline on clean images paler).

    Parameters
    ----------
    values : dict of str -> list of float
        Per-seed ``smr``, ``smr_clean``, ``smr_reference``, ``clean_accuracy`` and
        ``clean_accuracy_reference``.
    class_name : str
        The target class, for the axis label.
    title : str

    Returns
    -------
    matplotlib Figure
    """
    import matplotlib.pyplot as plt

    need = ("smr", "smr_clean", "smr_reference", "clean_accuracy", "clean_accuracy_reference")
    missing = [k for k in need if k not in values]
    if missing:
        raise ValueError(f"values must hold per-seed lists for {list(need)}; missing {missing}")
    base, ref = model_color("baseline"), model_color("no carriers")
    fig, axes = plt.subplots(1, 2, figsize=(11.5, 3.9), gridspec_kw={"width_ratios": [3, 2]})
    bars_with_spread(axes[0], ["baseline,\nwith line", "baseline,\nclean",
                               "no-carrier model,\nwith line"],
                     [values["smr"], values["smr_clean"], values["smr_reference"]],
                     xlabel="model, test images", ylabel=f"other test images\npredicted {class_name!r}",
                     title="Spurious misclassification rate", colors=[base, _tint(base), ref],
                     bounds=RATE)
    bars_with_spread(axes[1], ["baseline", "no-carrier model"],
                     [values["clean_accuracy"], values["clean_accuracy_reference"]],
                     xlabel="model", ylim=(0, 1), ylabel="clean test accuracy",
                     title="Clean accuracy (all classes)", colors=[base, ref], bounds=RATE)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def compare_models(results, arms=None, *, metrics=("smr", "clean_accuracy", "worst_group_accuracy"),
                   reference=True, labels=None, colors=None, axes=None, title=None):
    """One panel per metric, one bar per model (the no-carrier reference, the baseline, each
    arm): the mean over seeds, the sd as an error bar (cut at the metric's range, [0, 1]), and
    each seed as a dot.

    Parameters
    ----------
    results : list of Result
        One per seed (:func:`spurlab.run_seeds`), with the same arms.
    arms : list of str, optional
        Arms to show (default: those of the first result).
    metrics : sequence of str
        Keys of :data:`METRIC_LABELS`: ``'smr'``, ``'smr_clean'``, ``'clean_accuracy'``,
        ``'group_balanced_accuracy'``, ``'worst_group_accuracy'``, or ``'carriers_cut'`` (arms
        only, with the prune ratio as a dashed line).
    reference : bool
        Show the no-carrier reference model (the results must have it).
    labels, colors : dict, optional
        Model name (``'no carriers'``, ``'baseline'``, an arm) -> bar label / colour, overriding
        the defaults: every model's own label and colour in every figure
        (:data:`spurlab.charts.MODEL_STYLE`; JTT's label also gives its upweight, ``'JTT
        x5'``); models not shown are ignored, so one dict can serve several figures.
    axes : sequence of matplotlib Axes, optional
        Draw into these (one per metric) instead of a new figure.
    title : str, optional
        Figure title (default: the number of seeds and how to read the bars).

    Returns
    -------
    fig, values
        The figure and :func:`seed_values` (``values[model][metric]``, lists over seeds).

    Examples
    --------
    >>> rs = run_seeds("n_train=600 n_test=120 epochs=2 score_epoch=1", [0, 1],
    ...                arms=["hardest", "random"])                                 # doctest: +SKIP
    >>> fig, v = compare_models(rs, metrics=("smr", "carriers_cut"))              # doctest: +SKIP
    >>> sorted(v["hardest"])                                                       # doctest: +SKIP
    ['carriers_cut', 'smr']
    """
    import matplotlib.pyplot as plt
    import numpy as np

    values = seed_values(results, arms, metrics=metrics, reference=reference)
    results, arms = _check_results(results, arms, reference)
    models = list(values)
    for name, d in (("labels", labels), ("colors", colors)):
        if d is not None and (not isinstance(d, dict) or not all(_is_model(k) for k in d)):
            raise ValueError(f"{name} must be a dict keyed by 'no carriers', 'baseline' or arm names "
                             f"(models shown: {models}); got {d!r}")
    jtt = f"{model_label('jtt')} x{results[0].config.jtt_upweight}"
    lab = {m: jtt if m == "jtt" else model_label(m) for m in models} | (labels or {})
    col = {m: model_color(m) for m in models} | (colors or {})
    if axes is None:
        fig, axes = plt.subplots(1, len(metrics), figsize=(4.4 * len(metrics) + 0.6, 3.9),
                                 squeeze=False)
        axes, own = list(axes[0]), True
    else:
        axes, own = list(np.atleast_1d(axes)), False
        if len(axes) != len(metrics):
            raise ValueError(f"axes must hold one Axes per metric ({len(metrics)}); got {len(axes)}")
    p = results[0].config.prune_ratio
    c1 = repr(results[0].scenario.target_name)        # the class the run's carriers are in
    for ax, k in zip(axes, metrics):
        ms = [m for m in models if k in values[m]]
        bars_with_spread(ax, [lab[m] for m in ms], [values[m][k] for m in ms],
                         ylabel=METRIC_LABELS[k][0].replace("c1", c1),
                         title=METRIC_LABELS[k][1].replace("c1", c1), colors=[col[m] for m in ms],
                         bounds=RATE)
        ax.set_xlabel("pruning arm" if k == "carriers_cut" else "model (each trained from scratch)")
        if k.endswith("accuracy"):
            lowest = min(v for m in ms for v in values[m][k])
            ax.set_ylim(max(0.0, min(0.5, lowest - 0.1)), 1.0)
        if k == "carriers_cut":
            ax.axhline(p, ls="--", color=OKABE_ITO[7], lw=1, label=f"p = {p:g}")
            ax.legend(fontsize=8)
    fig = axes[0].figure
    if title is not None or own:
        fig.suptitle(title if title is not None else
                     f"{len(results)} seeds: dots; bars: mean and sd")
    if own:
        fig.tight_layout()
    return fig, values


def flip_gallery(scenario, predictions, class_names, *, n=10, seed=DEFAULTS["seed"], title=None):
    """What the spurious feature does to one network's predictions, image by image.

    The test images of the classes other than ``c1 = scenario.target_class``, clean and with the
    feature stamped, as :func:`spurlab.stamp_predictions` predicted them. ``n`` of them are drawn
    in two rows (clean on top, stamped below), each titled with its prediction, framed orange
    when predicted ``c1`` (blue otherwise) and labelled with its true class: first up to
    ``n // 2`` whose prediction the feature flips to ``c1``, then images drawn at random from the
    rest (more flipped ones when too few did not flip).

    Parameters
    ----------
    scenario : Scenario
        The scenario the predictions were made on (its stamped test set is the other classes'
        test images with the feature, in the same order).
    predictions : dict
        :func:`spurlab.stamp_predictions` of a trained network on ``scenario``: ``clean``,
        ``stamped`` and ``truth``.
    class_names : list of str
    n : int
        Images per row (at least 2).
    seed : int
        Seeds the random choice of the images that did not flip.
    title : str, optional

    Returns
    -------
    (matplotlib.figure.Figure, dict)
        The figure and ``flipped`` (how many images the feature flips to ``c1``), ``n_other``
        (how many images of the other classes there are), ``clean_pred``, ``lined_pred`` and
        ``truth`` (numpy arrays over those images).

    Examples
    --------
    >>> import spurlab as sl
    >>> cfg = sl.preset("smoke", epochs=1, score_epoch=1)
    >>> sc, model = sl.build_scenario(cfg), sl.baseline(cfg, keep_model=True).model
    >>> fig, info = flip_gallery(sc, sl.stamp_predictions(model, sc), sl.class_names("shapes"))
    >>> 0 <= info["flipped"] <= int((info["lined_pred"] == 4).sum()) <= info["n_other"]
    True
    """
    import numpy as np
    import torch

    c1 = scenario.target_class
    names = _check_labels("class_names", class_names, scenario.train.num_classes)
    n = check_int("n", n, low=2)
    other = (scenario.test.labels != c1).nonzero().flatten()
    stamped = scenario.stamped_test
    if not isinstance(predictions, dict) or not {"clean", "stamped", "truth"} <= set(predictions):
        raise TypeError("predictions must be the dict spurlab.stamp_predictions(model, scenario) "
                        f"returns (clean, stamped, truth); got {type(predictions).__name__}")
    clean_pred = np.asarray(predictions["clean"])
    lined_pred = np.asarray(predictions["stamped"])
    truth = np.asarray(predictions["truth"])
    if not (len(clean_pred) == len(lined_pred) == len(truth) == len(other) == len(stamped)):
        raise ValueError(f"predictions must hold one prediction per test image of the other "
                         f"classes of this scenario ({len(other)}); got {len(clean_pred)}")
    if len(other) < n:
        raise ValueError(f"n must be at most the {len(other)} test images of the other classes; got {n}")
    flipped = np.flatnonzero((clean_pred != c1) & (lined_pred == c1))
    rest = np.setdiff1d(np.arange(len(truth)), flipped)
    n_rest = min(n - min(n // 2, len(flipped)), len(rest))    # more flipped ones if few did not
    pick = np.concatenate([flipped[:n - n_rest],
                           np.random.default_rng(seed).choice(rest, size=n_rest, replace=False)])
    preds = np.concatenate([clean_pred[pick], lined_pred[pick]])
    fig = gallery(torch.cat([scenario.test.images[other][pick], stamped.images[pick]]), ncols=n,
                  size=1.4, titles=[names[p] for p in preds],
                  edge_colors=[OKABE_ITO[1] if p == c1 else OKABE_ITO[0] for p in preds],
                  row_labels=["clean", "with line"],
                  col_labels=[f"true: {names[t]}" for t in truth[pick]],
                  title=title or (f"Test images of other classes: title = prediction, orange frame = "
                                  f"predicted {names[c1]!r}"))
    return fig, {"flipped": int(len(flipped)), "n_other": int(len(truth)), "clean_pred": clean_pred,
                 "lined_pred": lined_pred, "truth": truth}


def separation_bars(axes, labels, measures, *, colors=None, xlabel=None, class_name="c1"):
    """Can a difficulty score single out the carriers? Two bar panels over seeds, one bar per
    setting: the carriers' mean difficulty percentile within their class (the regime
    percentile) against 50 (spread evenly) and its floor (every carrier among the easiest), and
    the Kolmogorov-Smirnov statistic of carriers vs the rest of the class against the KS that
    95% of random splits of the class stay below.

    Parameters
    ----------
    axes : two matplotlib Axes
        Regime percentile (left), KS (right).
    labels : list of str
        One label per setting (bar).
    measures : list of dict
        One per setting, each with per-seed lists ``'regime'`` (0-100), ``'floor'`` (0-100),
        ``'ks'`` and ``'ks_chance'`` (0-1).
    colors : list, optional
        One colour per setting (default: the Okabe-Ito palette in order).
    xlabel : str, optional
        Default: how many seeds the dots are (``'3 seeds'``).
    class_name : str
        The class that carries the feature, for the labels.

    Returns
    -------
    dict of str -> list of float
        The bar heights: ``'regime'`` and ``'ks'``, one mean per setting.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig, axes = plt.subplots(1, 2)
    >>> m = {"regime": [48, 52], "floor": [15, 15], "ks": [0.05, 0.07], "ks_chance": [0.1, 0.1]}
    >>> separation_bars(axes, ["weak"], [m], class_name="ring")["regime"]
    [50.0]
    """
    if not hasattr(axes, "__len__") or len(axes) != 2:
        raise ValueError(f"axes must be two Axes (regime percentile, KS); got {axes!r}")
    if isinstance(measures, dict) or not hasattr(measures, "__len__"):
        raise TypeError(f"measures must be a list of dicts, one per label; got {measures!r:.80}")
    for i, m in enumerate(measures):
        missing = [k for k in ("regime", "floor", "ks", "ks_chance") if not isinstance(m, dict) or k not in m]
        if missing:
            raise ValueError(f"measures[{i}] must be a dict with per-seed lists 'regime', 'floor', 'ks' "
                             f"and 'ks_chance'; missing {missing}")

    def means(key):
        return [float(sum(m[key]) / len(m[key])) for m in measures]

    if xlabel is None:
        n = sorted({len(m["regime"]) for m in measures})
        xlabel = f"{'-'.join(map(str, n))} seed{'s' if n != [1] else ''}"

    regime = bars_with_spread(axes[0], labels, [m["regime"] for m in measures], title="Regime percentile",
                              ylabel=f"carriers' mean percentile in {class_name!r}", colors=colors,
                              xlabel=xlabel, ylim=(0, 100), bounds=PERCENTILE,
                              marks={"50: spread evenly": 50, "floor: all easiest": means("floor")})
    ks = bars_with_spread(axes[1], labels, [m["ks"] for m in measures], ylabel="KS statistic",
                          title=f"Carriers vs other {class_name!r} (KS)", colors=colors, xlabel=xlabel,
                          ylim=(0, 1), bounds=RATE,
                          marks={"95% of random splits": means("ks_chance")})
    return {"regime": regime, "ks": ks}


# --- notebooks 04-06: models compared over seeds (figure and table)

def occupancy_bars(results, arms=None, *, labels=None, ax=None, title=None):
    """Who each arm pruned from the target class: the carriers' share among the target-class
    samples it removed (bars: mean over seeds, sd, each seed a dot) against their share of the
    class (dashed line). Above the line the pruned set is richer in carriers than the class,
    below it poorer; it counts carriers, not which ones (hard or easy) an arm removed.

    Parameters
    ----------
    results : list of Result
        One per seed, with the same arms; the arms must record occupancy
        (``carrier_share_pruned``, ``carrier_share_target``, ``occupancy``: spurlab >= 0.2).
    arms : list of str, optional
        Arms to show (default: those of the first result, JTT excluded: it prunes nothing).
    labels : dict, optional
        Arm -> bar label (default: the arm's own, :func:`spurlab.charts.model_label`; the bars
        in the arm's colour, :func:`spurlab.charts.model_color`).
    ax : matplotlib Axes, optional
    title : str, optional

    Returns
    -------
    fig, takeaway : matplotlib Figure, str
        ``takeaway`` starts with ``'Takeaway: '`` and gives each arm's mean share and occupancy.

    Examples
    --------
    >>> rs = run_seeds("n_train=600 n_test=120 epochs=2 score_epoch=1", [0, 1],
    ...                arms=["hardest", "random"])                                 # doctest: +SKIP
    >>> fig, take = occupancy_bars(rs)                                             # doctest: +SKIP
    """
    import matplotlib.pyplot as plt
    import numpy as np

    results, arms = _pruning_arms(results, arms, "it has no occupancy")
    if labels is not None and (not isinstance(labels, dict) or not all(_is_model(k) for k in labels)):
        raise ValueError(f"labels must be a dict keyed by arm names; got {labels!r}")
    lab = {a: model_label(a) for a in arms} | (labels or {})

    def per_seed(a, field):
        return [math.nan if getattr(r.arms[a], field) is None else getattr(r.arms[a], field)
                for r in results]

    share = {a: per_seed(a, "carrier_share_pruned") for a in arms}
    occ = {a: float(np.nanmean(per_seed(a, "occupancy"))) for a in arms}
    base = float(np.nanmean(per_seed(arms[0], "carrier_share_target")))
    if ax is None:
        fig, ax = plt.subplots(figsize=(1.6 * len(arms) + 3.2, 3.9))
    fig = ax.figure
    c1 = results[0].scenario.target_name
    bars_with_spread(ax, [lab[a] for a in arms], [share[a] for a in arms], xlabel="pruning arm",
                     colors=[model_color(a) for a in arms], bounds=RATE,
                     ylabel=f"carriers' share of the\n{c1!r} samples pruned",
                     title=title or f"Who was pruned from class {c1!r} ({len(results)} seeds)",
                     marks={f"carriers' share of class {c1!r}": base})
    take = (f"Takeaway: carriers are {base:.0%} of class {c1!r}; among the {c1!r} samples each "
            "arm pruned they are " + ", ".join(
                f"{a} {np.nanmean(share[a]):.0%} (occupancy {occ[a]:.2f})" for a in arms)
            + " (occupancy counts carriers: above 1 the pruned set is richer in them than the "
              "class, below 1 poorer).")
    return fig, take


def composition_bars(results, arms=None, *, colors=None, title=None):
    """What each arm pruned, per seed: the target class's carriers, its non-carriers and the
    other classes (three panels: mean over seeds, sd, each seed a dot), each against the count
    that removing the prune ratio of every group uniformly would take (dashed).

    Parameters
    ----------
    results : list of Result
        One per seed (:func:`spurlab.run_seeds`), with the same arms.
    arms : list of str, optional
        Arms to show (default: those of the first result).
    colors : list of str, optional
        One colour per arm (default: each arm's own, :func:`spurlab.charts.model_color`).
    title : str, optional

    Returns
    -------
    fig, takeaway : matplotlib Figure, str
        ``takeaway`` gives the share of the carriers each arm removed.

    Examples
    --------
    >>> rs = run_seeds("n_train=600 n_test=120 epochs=2 score_epoch=1", [0, 1],
    ...                arms=["hardest", "random"])                                 # doctest: +SKIP
    >>> fig, take = composition_bars(rs)                                           # doctest: +SKIP
    """
    import matplotlib.pyplot as plt
    import numpy as np

    results, arms = _check_results(results, arms, False)
    if colors is not None:
        _check_colors("colors", colors, len(arms))
    colors = colors or [model_color(a) for a in arms]
    labels = [model_label(a) for a in arms]
    sc = results[0].scenario
    c1 = sc.target_class

    def split(counts):          # group counts (2 * class + carrier) -> the three panels
        g = np.asarray(counts)
        return np.array([g[2 * c1 + 1], g[2 * c1], g.sum() - g[2 * c1 + 1] - g[2 * c1]])

    comp = {a: np.array([split(r.arms[a].pruned_by_group) for r in results]) for a in arms}
    sizes = np.mean([split(r.scenario.group_sizes) for r in results], axis=0)
    p = results[0].config.prune_ratio
    groups = [f"{sc.target_name!r} carriers", f"{sc.target_name!r} non-carriers", "other classes"]
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    for j, (ax, grp) in enumerate(zip(axes, groups)):
        bars_with_spread(ax, labels, [comp[a][:, j] for a in arms], colors=colors,
                         ylabel="samples pruned", title=f"{grp} pruned", xlabel="pruning arm",
                         bounds=(0, math.inf))
        ax.axhline(p * sizes[j], ls="--", color=OKABE_ITO[7], lw=1, label=f"uniform {p:.0%}")
        ax.legend(fontsize=8)
    fig.suptitle(title or f"Composition of the pruned set at p = {p:.0%} ({len(results)} seeds)")
    fig.tight_layout()
    cut = {a: np.mean([r.arms[a].carriers_pruned / r.carriers if r.carriers else math.nan
                       for r in results]) for a in arms}
    take = (f"Takeaway: each arm removes about {p:.0%} of every class; of the carriers of "
            f"{sc.target}, " + ", ".join(f"{a} removes {cut[a]:.0%}" for a in arms)
            + f" (mean over {len(results)} seeds).")
    return fig, take


def _pruning_arms(results, arms, why):
    """The results and the pruning arms to draw (default: every arm but JTT's); an upweighting
    arm is refused with ``why`` it cannot be drawn."""
    if arms is None:
        arms = [a for a in _check_results(results, None, False)[1] if a not in SPECIAL_ARMS]
    results, arms = _check_results(results, arms, False)
    if not arms:
        raise ValueError("arms must name at least one pruning arm; got none")
    for a in arms:
        if results[0].arms[a].strategy in SPECIAL_ARMS:
            raise ValueError(f"arm {a!r} prunes nothing (JTT upweights, DFR and AFR retrain the "
                             f"last layer): {why}")
    return results, arms


def difficulty_of_removed(results, arms=None, *, colors=None, title=None):
    """Which carriers each arm removed, by difficulty (:mod:`spurlab.mechanism`), per seed: the
    share of the hard carriers (the hardest quarter by the early scores the arms prune by) it
    removed against the share of all carriers (a short line over each bar); the same by the
    dataset's latent difficulty where it has one; and the mean difficulty percentile within
    the target class of the carriers it removed against those it kept.

    Parameters
    ----------
    results : list of Result
        One per seed (:func:`spurlab.run_seeds`), with the same arms.
    arms : list of str, optional
        Arms to show (default: those of the first result that prune).
    colors : list of str, optional
        One colour per arm (default: each arm's own, as :func:`composition_bars`).
    title : str, optional

    Returns
    -------
    fig, takeaway : matplotlib Figure, str
        ``takeaway`` is :func:`spurlab.mechanism.mechanism_text`.

    Examples
    --------
    >>> rs = run_seeds("n_train=600 n_test=120 epochs=2 score_epoch=1", [0, 1],
    ...                arms=["hardest", "random"])                                 # doctest: +SKIP
    >>> fig, take = difficulty_of_removed(rs)                                      # doctest: +SKIP
    """
    import matplotlib.pyplot as plt

    results, arms = _pruning_arms(results, arms, "it removed no carriers")
    if colors is not None:
        _check_colors("colors", colors, len(arms))
    colors = colors or [model_color(a) for a in arms]
    labels = [model_label(a) for a in arms]
    cuts = {by: {a: carriers_removed(results, a, by) for a in arms} for by in ("score", "latent")}
    if not all(c.defined for c in cuts["score"].values()):
        raise ValueError("which carriers an arm removed needs carriers in every seed; these "
                         "results have none")
    panels = ["score"] + (["latent"] if all(c.defined for c in cuts["latent"].values()) else [])

    def per_seed(field, pre=""):
        return [[getattr(r.arms[a], pre + field) for r in results] for a in arms]

    fig, axes = plt.subplots(1, len(panels) + 1, figsize=(4.6 * (len(panels) + 1), 3.8))
    for ax, by in zip(axes, panels):
        c0 = cuts[by][arms[0]]
        bars_with_spread(ax, labels, per_seed("hard_removed", BY[by]), colors=colors,
                         ylabel="share of the hard carriers removed", xlabel="pruning arm",
                         title=f"Hard carriers removed\n(hardest quarter by {c0.score_name})",
                         ylim=(0, 1.05), bounds=RATE,
                         marks={"all carriers removed": [cuts["score"][a].all["mean"] for a in arms]})
    bars_with_spread(axes[-1], labels, per_seed("removed_percentile"), colors=colors,
                     ylabel="difficulty percentile in the class", xlabel="pruning arm",
                     title="Difficulty of the carriers removed\n(early score; line: those kept)",
                     ylim=(0, 100), bounds=PERCENTILE,
                     marks={"carriers kept": [float(sum(v) / len(v)) if None not in v
                                              else math.nan
                                              for v in per_seed("kept_percentile")]})
    sc = results[0].scenario
    fig.suptitle(title or f"Which carriers of {sc.target} each arm removed, by difficulty "
                 f"(p = {results[0].config.prune_ratio:.0%}, {len(results)} seeds)")
    fig.tight_layout()
    return fig, mechanism_text(results, arms)


# --- notebook 03: training dynamics (spurlab.dynamics), data maps and the carriers' ranks

# carriers, c1 non-carriers, other classes: the colours notebook 03 has always used for them
GROUP_COLORS = (OKABE_ITO[1], OKABE_ITO[0], OKABE_ITO[2])


def _group_masks(groups, target_class, n=None):
    """Masks (carriers, target-class non-carriers, other classes) from ``2 * class + carrier``."""
    import numpy as np

    g = np.asarray(groups)
    if g.ndim != 1 or (n is not None and len(g) != n) or not np.issubdtype(g.dtype, np.integer):
        want = f"({n},)" if n is not None else "(N,)"
        raise ValueError(f"groups must be a 1-D integer array shaped {want} (2 * class + carrier); "
                         f"got {g.dtype} {g.shape}")
    c = check_int("target_class", target_class, low=0)
    if not (g // 2 == c).any():
        raise ValueError(f"target_class {c} has no samples in groups (classes present: "
                         f"{sorted(set((g // 2).tolist()))})")
    return g == 2 * c + 1, g == 2 * c, g // 2 != c


def _as_mask(name, value, n):
    """A boolean mask (N,) from a mask or from indices (what spurlab.prune returns)."""
    import numpy as np

    from ._validate import as_index_array

    arr = np.asarray(value.cpu() if hasattr(value, "cpu") else value)
    if arr.dtype == bool:
        if arr.shape != (n,):
            raise ValueError(f"{name} must be a boolean mask shaped ({n},) or indices; got shape "
                             f"{arr.shape}")
        return arr
    mask = np.zeros(n, dtype=bool)
    mask[as_index_array(name, arr, n)] = True
    return mask


def _class_label(target_class, class_name):
    return repr(class_name) if class_name is not None else f"class {target_class}"


def data_map_plot(ax, dmap, groups, target_class, *, pruned=None, boundary=None,
                  boundary_label=None, class_name=None, title=None):
    """A data map (Swayamdipta et al., 2020): each training sample's mean confidence in its
    label (y) against its variability over epochs (x); the carriers, the other samples of the
    target class and the other classes in three Okabe-Ito colours, the samples ``pruned``
    circled in black and, if given, a boundary drawn as a dashed line.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    dmap : spurlab.dynamics.DataMap
        From :func:`spurlab.data_map`.
    groups : array-like (N,) int
        ``2 * class + carrier`` (``Dynamics.groups``).
    target_class : int
        The class ``c1`` that carries the feature.
    pruned : array-like, optional
        The samples that would be pruned: a boolean mask (N,) or indices.
    boundary : float or True, optional
        A confidence level drawn as a dashed horizontal line; ``True`` (with ``pruned``): the
        level below which lie as many samples of the target class as are marked pruned from it,
        i.e. where pruning the *least confident* samples on this map would cut.
    boundary_label : str, optional
        Its legend entry (default ``'prune boundary'``; with ``boundary=True``, ``'as many least
        confident below (k)'``).
    class_name : str, optional
        Name of the target class for the labels (default ``'class <target_class>'``).
    title : str, optional

    Returns
    -------
    str
        A one-line takeaway: the mean confidence of the carriers and of the other samples of
        the class and, with ``pruned``, the carriers' share among the class's pruned samples
        against their share of the class.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from spurlab.dynamics import DataMap
    >>> m = DataMap(confidence=[0.9, 0.5, 0.4, 0.8], variability=[0.05, 0.2, 0.1, 0.1],
    ...             correctness=[1, 0.5, 0.5, 1], epochs=2)
    >>> fig, ax = plt.subplots()
    >>> print(data_map_plot(ax, m, [9, 8, 8, 2], 4, pruned=[False, True, False, False]))
    ... # doctest: +NORMALIZE_WHITESPACE
    Takeaway: the carriers of class 4 have a mean confidence of 0.90, its other samples 0.45;
    among the class 4 samples marked pruned 0% are carriers (33% of class 4).
    """
    import numpy as np

    from .dynamics import DataMap

    if not isinstance(dmap, DataMap):
        raise TypeError(f"dmap must be a DataMap (see spurlab.data_map); got {type(dmap).__name__}")
    conf, var = np.asarray(dmap.confidence, dtype=float), np.asarray(dmap.variability, dtype=float)
    if conf.ndim != 1 or var.shape != conf.shape:
        raise ValueError(f"dmap.confidence and dmap.variability must be 1-D of the same length; got "
                         f"{conf.shape} and {var.shape}")
    n = len(conf)
    car, non, other = _group_masks(groups, target_class, n)
    cls = _class_label(target_class, class_name)
    cut = None if pruned is None else _as_mask("pruned", pruned, n)
    if boundary is True:
        if cut is None or not (cut & (car | non)).any():
            raise ValueError("boundary=True needs pruned to mark samples of the target class")
        k = int((cut & (car | non)).sum())
        boundary = float(np.sort(conf[car | non])[k - 1])
        boundary_label = boundary_label or f"as many least confident below ({k})"
    elif boundary is not None:
        boundary = check_fraction("boundary", boundary)
    for mask, color, label, size in ((other, GROUP_COLORS[2], "other classes", 4),
                                     (non, GROUP_COLORS[1], f"{cls} without the feature", 7),
                                     (car, GROUP_COLORS[0], f"{cls} carriers", 7)):
        ax.scatter(var[mask], conf[mask], s=size, color=color, alpha=0.45 if mask is other else 0.7,
                   linewidths=0, label=f"{label} (n={int(mask.sum())})")
    if cut is not None:
        ax.scatter(var[cut], conf[cut], s=28, facecolors="none", edgecolors=OKABE_ITO[7],
                   linewidths=0.7, label=f"would be pruned (n={int(cut.sum())})")
    if boundary is not None:
        ax.axhline(boundary, color=OKABE_ITO[7], ls="--", lw=1, label=boundary_label or "prune boundary")
    ax.set_xlabel(f"variability (sd of the confidence over epochs 1-{dmap.epochs})")
    ax.set_ylabel("confidence in the true label (mean over epochs)")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlim(left=0)
    ax.set_title(title or f"Data map, epochs 1-{dmap.epochs}")
    ax.legend(fontsize=7, markerscale=1.5, loc="lower right")
    take = (f"Takeaway: the carriers of {cls} have a mean confidence of {conf[car].mean():.2f}, its "
            f"other samples {conf[non].mean():.2f}")
    if cut is not None:
        in_class = cut & (car | non)
        share = car[in_class].mean() if in_class.any() else math.nan
        take += (f"; among the {cls} samples marked pruned {share:.0%} are carriers "
                 f"({car.sum() / (car | non).sum():.0%} of {cls})")
    return take + "."


def group_trajectories(ax, dynamics, target_class=None, *, score="el2n", score_epoch=None,
                       class_name=None, title=None):
    """Mean EL2N (or confidence) of three groups after each recorded epoch: the carriers, the
    other samples of the target class and the other classes; the mean over seeds with a band of
    one standard deviation (:func:`lines_with_spread`) and the score epoch marked.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    dynamics : Dynamics or list of Dynamics
        One recording per seed (:func:`spurlab.training_dynamics`), the same epochs each.
    target_class : int, optional
        Default: the recordings' ``target_class``.
    score : {'el2n', 'confidence'}
    score_epoch : int, optional
        The epoch marked (dotted) and summarised in the takeaway, in ``[1, epochs recorded]``;
        default the config's ``score_epoch`` (the last epoch recorded if that is later).
    class_name : str, optional
    title : str, optional

    Returns
    -------
    str
        A one-line takeaway: each group's mean at ``score_epoch``.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from spurlab import Config
    >>> from spurlab.dynamics import Dynamics
    >>> d = Dynamics(epochs=[1, 2], confidence=[[0.2, 0.9, 0.5], [0.6, 0.9, 0.5]],
    ...              correct=[[0, 1, 1], [1, 1, 1]], el2n=[[1.0, 0.1, 0.6], [0.5, 0.1, 0.6]],
    ...              groups=[8, 9, 2], config=Config(score_epoch=2))
    >>> fig, ax = plt.subplots()
    >>> print(group_trajectories(ax, [d, d]))                   # doctest: +NORMALIZE_WHITESPACE
    Takeaway: after epoch 2, mean EL2N: class 4 carriers 0.100, its other samples 0.500,
    other classes 0.600 (2 seeds).
    """
    import numpy as np

    from .dynamics import Dynamics

    runs = dynamics
    if isinstance(dynamics, Dynamics):
        runs = [dynamics]
    elif hasattr(dynamics, "__iter__") and not isinstance(dynamics, (str, dict)):
        runs = list(dynamics)
    if not isinstance(runs, list) or not runs or not all(isinstance(d, Dynamics) for d in runs):
        raise TypeError("dynamics must be a Dynamics or a non-empty list of them (one per seed; "
                        f"see spurlab.training_dynamics); got {dynamics!r:.80}")
    epochs = runs[0].epochs
    if any(not np.array_equal(d.epochs, epochs) for d in runs):
        raise ValueError("dynamics must all record the same epochs; got "
                         f"{sorted({len(d.epochs) for d in runs})} epochs")
    check_choice("score", score, ("el2n", "confidence"))
    target_class = runs[0].target_class if target_class is None else target_class
    if score_epoch is None:
        score_epoch = min(runs[0].config.score_epoch, len(epochs))
    score_epoch = check_int("score_epoch", score_epoch, low=1, high=len(epochs))
    names = (f"{_class_label(target_class, class_name)} carriers", "its other samples",
             "other classes")
    curves = {name: [] for name in names}
    for d in runs:
        values = getattr(d, score)
        for name, mask in zip(names, _group_masks(d.groups, target_class, values.shape[1])):
            curves[name].append(values[:, mask].mean(1) if mask.any() else np.full(len(epochs), np.nan))
    label = "EL2N" if score == "el2n" else "confidence in the true label"
    better = "higher = harder" if score == "el2n" else "higher = easier"
    means = lines_with_spread(ax, epochs, curves, xlabel="epoch", colors=list(GROUP_COLORS),
                              bounds=(0, math.sqrt(2)) if score == "el2n" else RATE,
                              ylabel=f"mean {label}", vlines={"scored": score_epoch},
                              title=title or f"Mean {label} per group ({better})")
    at = ", ".join(f"{name} {means[name][score_epoch - 1]:.3f}" for name in names)
    return (f"Takeaway: after epoch {score_epoch}, mean {label}: {at} ({len(runs)} "
            f"seed{'s' if len(runs) != 1 else ''}).")


def band_curve(percentiles, smr, *, class_name, k, ax=None):
    """Notebook 02's sweep: SMR against the carriers' difficulty band, with a straight line from
    the easiest band to the hardest for reference, and how the rise splits over the band steps.

    Parameters
    ----------
    percentiles : array-like (B,)
        The carriers' mean difficulty percentile in each band, easiest band first.
    smr : array-like (B, S)
        SMR per band and seed.
    class_name : str
    k : int
        Carriers per band.
    ax : matplotlib Axes, optional

    Returns
    -------
    fig, rise, takeaway : matplotlib Figure, dict, str
        ``rise``: ``mean`` (per band), ``upper_share`` (the share of the rise, first band to last,
        made in the upper half of the band steps; a straight line gives 0.5, super-linear growth
        more; NaN when SMR does not rise) and ``last_share`` (the last step's share; a straight
        line gives 1 / steps).

    Examples
    --------
    >>> import numpy as np
    >>> _, rise, _ = band_curve([10, 30, 50, 70, 90], np.array([[.1], [.1], [.12], [.15], [.3]]),
    ...                         class_name="ring", k=50)
    >>> round(rise["upper_share"], 2), round(rise["last_share"], 2)
    (0.9, 0.75)
    """
    import matplotlib.pyplot as plt
    import numpy as np

    pct = np.asarray(percentiles, dtype=float)
    smr = np.asarray(smr, dtype=float)
    if pct.ndim != 1 or smr.ndim != 2 or smr.shape[0] != len(pct) or len(pct) < 2:
        raise ValueError(f"percentiles must be (bands,) and smr (bands, seeds), with at least two "
                         f"bands; got shapes {pct.shape} and {smr.shape}")
    mean, steps = smr.mean(1), np.diff(smr.mean(1))
    rise = steps.sum()
    upper = float(steps[len(steps) // 2:].sum() / rise) if rise > 0 else float("nan")
    last = float(steps[-1] / rise) if rise > 0 else float("nan")
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    lines_with_spread(ax, pct, {f"mean ± sd ({smr.shape[1]} seeds, dots)": smr.T},
                      colors=[OKABE_ITO[5]], errorbars=True, dots=True, bounds=RATE,
                      xlabel=f"carriers' mean difficulty percentile within class {class_name!r}",
                      ylabel="spurious misclassification rate",
                      title=f"{k} carriers per band: reliance vs difficulty")
    ax.plot(pct[[0, -1]], mean[[0, -1]], "--", color=OKABE_ITO[0], label="straight line (linear growth)")
    ax.legend()
    take = (f"Takeaway: SMR goes from {mean[0]:.1%} (carriers around the {pct[0]:.0f}th percentile) "
            f"to {mean[-1]:.1%} (around the {pct[-1]:.0f}th); {upper:.0%} of that rise comes in the "
            f"upper half of the band steps and {last:.0%} in the last one alone (a straight line: 50% "
            f"and {1 / len(steps):.0%}), so the growth is "
            f"{'super-linear' if upper > 0.5 else 'not super-linear'} in this run.")
    return ax.figure, {"mean": mean, "upper_share": upper, "last_share": last}, take


def carrier_share_bars(ax, shares, *, prune_ratio, title="Which samples pruning removes",
                       colors=None):
    """The share of the carriers each arm pruned (bars: mean over seeds, sd, each seed a dot),
    against the prune ratio ``p`` (dashed): what pruning the same share at random takes on
    average.

    Parameters
    ----------
    ax : matplotlib Axes
    shares : dict of str -> list of float
        Bar label -> per-seed share of the carriers pruned (:func:`spurlab.carrier_cut`). A
        label's first line names the arm (``'hardest'``, ``'hardest\\n(strong line)'``).
    prune_ratio : float
    title : str
    colors : list, optional
        One colour per bar (default: the colour of the arm each label names,
        :func:`spurlab.charts.model_color`).

    Returns
    -------
    list of float
        The mean share per bar.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> _, ax = plt.subplots()
    >>> carrier_share_bars(ax, {"hardest": [0.1, 0.2], "random": [0.3, 0.3]}, prune_ratio=0.25)
    [0.15000000000000002, 0.3]
    """
    if not isinstance(shares, dict) or not shares:
        raise TypeError(f"shares must be a non-empty dict of label -> per-seed shares; got {shares!r:.80}")
    prune_ratio = check_fraction("prune_ratio", prune_ratio, low=0, high=1)
    if colors is None:
        colors = [model_color(str(k).split("\n")[0]) for k in shares]
    means = bars_with_spread(ax, list(shares), list(shares.values()), colors=colors, bounds=RATE,
                             ylabel="share of the carriers pruned", xlabel="pruning arm",
                             title=title)
    ax.axhline(prune_ratio, ls="--", color=OKABE_ITO[7], lw=1, label=f"p = {prune_ratio:g}")
    ax.legend(fontsize=8)
    return [float(m) for m in means]


def group_accuracy_bars(results, class_names=None, *, model="baseline", ax=None, title=None):
    """Accuracy in every group (class x clean or with the feature) of the test set, one bar per
    group: the mean over seeds with one dot per seed.

    Parameters
    ----------
    results : list of Result
        One per seed.
    class_names : list of str, optional
        One per class, in class order (default: the results' own, ``scenario.class_names``).
    model : str
        ``'baseline'``, ``'reference'`` or an arm (:meth:`spurlab.Result.metrics`).
    ax : matplotlib Axes, optional
    title : str, optional

    Returns
    -------
    fig, takeaway : matplotlib Figure, str
        ``takeaway`` names the worst group and compares the target class with and without the
        feature.

    Examples
    --------
    >>> rs = run_seeds("n_train=600 n_test=120 epochs=2 score_epoch=1", [0, 1])     # doctest: +SKIP
    >>> fig, take = group_accuracy_bars(rs, SHAPE_CLASSES)                          # doctest: +SKIP
    """
    import matplotlib.pyplot as plt
    import numpy as np

    results, _ = _check_results(results, [], False)
    sc = results[0].scenario
    names = _check_labels("class_names", sc.class_names if class_names is None else class_names,
                          len(sc.class_names))
    acc = np.array([[np.nan if a is None else a for a in r.metrics(model).group_accuracy]
                    for r in results], dtype=float)                      # seeds x groups
    feature = sc.feature
    labels = [f"{n}\n{'+ ' + feature if g else 'clean'}" for n in names for g in (0, 1)]
    if ax is None:
        _, ax = plt.subplots(figsize=(12, 3.6))
    bars_with_spread(ax, labels, acc.T, ylabel="accuracy in the group", xlabel="group", ylim=(0, 1),
                     bounds=RATE,
                     colors=[OKABE_ITO[0], OKABE_ITO[1]] * len(names),
                     title=title or f"{model} accuracy per group (class, clean or with the {feature}); "
                                    f"{len(results)} seeds")
    ax.figure.tight_layout()
    mean = np.nanmean(acc, axis=0)
    c1 = sc.target_class
    clean = float(np.mean([r.metrics(model).clean_accuracy for r in results]))
    with_f, without = mean[2 * c1 + 1], mean[2 * c1]
    take = (f"Takeaway: the worst group is {labels[int(np.nanargmin(mean))].replace(chr(10), ' ')} at "
            f"{np.nanmin(mean):.1%} (mean over seeds) while clean accuracy averages {clean:.1%}; "
            f"{names[c1]!r} images with the {feature} score {with_f:.1%}, "
            f"{'above' if with_f > without else 'not above'} clean ones ({without:.1%}).")
    return ax.figure, take


def carrier_gallery(scenario, class_names, *, n=6):
    """``n`` training images of the target class that carry the feature (top row, orange) and
    ``n`` that do not (bottom row, blue), the first of each in the training order.

    Returns
    -------
    fig, takeaway : matplotlib Figure, str
        ``takeaway`` counts the carriers in the target class and elsewhere.

    Examples
    --------
    >>> fig, take = carrier_gallery(build_scenario(preset("smoke")), SHAPE_CLASSES)  # doctest: +SKIP
    """
    import numpy as np

    n = check_int("n", n, low=1)
    c1, feature = scenario.target_class, scenario.feature.short_name()
    names = _check_labels("class_names", class_names, scenario.train.num_classes)
    labels, carrier = scenario.train.labels.numpy(), scenario.carrier.numpy()
    target = np.flatnonzero(labels == c1)
    show = np.concatenate([target[carrier[target]][:n], target[~carrier[target]][:n]])
    fig = gallery(scenario.train.images[show], ncols=n, size=1.4,
                  row_labels=[f"with {feature}", f"no {feature}"],
                  titles=["carrier" if carrier[i] else f"no {feature}" for i in show],
                  edge_colors=[OKABE_ITO[1] if carrier[i] else OKABE_ITO[0] for i in show],
                  title=f"Training images of class {names[c1]!r}: with the {feature} (orange frame, "
                        f"top) and without (blue, bottom)")
    k, in_c1 = int(carrier.sum()), int(carrier[target].sum())
    take = (f"Takeaway: {in_c1} of {len(target)} {names[c1]!r} images ({in_c1 / len(target):.0%}) "
            f"carry the {feature} and {k - in_c1} images of other classes do: in training, the "
            f"{feature} always means {names[c1]!r}, but most {names[c1]!r} images have no {feature}.")
    return fig, take


def carrier_counts(scenario, class_names, *, ax=None, title=None):
    """Per class, the training images without and with the feature, stacked.

    Returns
    -------
    fig, takeaway : matplotlib Figure, str

    Examples
    --------
    >>> fig, take = carrier_counts(build_scenario(preset("smoke")), SHAPE_CLASSES)   # doctest: +SKIP
    """
    import matplotlib.pyplot as plt
    import numpy as np

    k, feature = scenario.train.num_classes, scenario.feature.short_name()
    names = _check_labels("class_names", class_names, k)
    counts = np.bincount(scenario.train_groups.numpy(), minlength=2 * k).reshape(k, 2)
    own = ax is None
    if own:
        _, ax = plt.subplots(figsize=(7, 3))
    stacked_bars(ax, names, {f"no {feature}": counts[:, 0], f"carries the {feature}": counts[:, 1]},
                 xlabel="class", ylabel="training images", title=title or f"Who carries the {feature}")
    if own:
        ax.figure.tight_layout()            # the legend right of the axes stays in the figure
    c1, carriers, totals = scenario.target_class, counts[:, 1], counts.sum(1)
    take = (f"Takeaway: {carriers[c1]} of {totals[c1]} {names[c1]}s ({carriers[c1] / totals[c1]:.0%}) "
            f"carry the {feature}; {carriers.sum() - carriers[c1]} images of the other classes do.")
    return ax.figure, take


def pruned_gallery(result, scenario, arm="hardest", *, n_target=20, n_other=10, seed=DEFAULTS["seed"]):
    """What an arm pruned, seen: ``n_target`` pruned images of the target class (vermillion frame:
    carries the feature, blue: does not) and ``n_other`` pruned images of the other classes
    (black frame), drawn at random (``seed``).

    Parameters
    ----------
    result : Result
        The run whose arm ``arm`` pruned the images.
    scenario : Scenario
        The scenario it ran on (``sl.build_scenario(result.config)``, or the one given to
        ``run(scenario=...)``): its training images are drawn; its carriers must be the run's.

    Returns
    -------
    fig, takeaway : matplotlib.figure.Figure, str
        The figure, and how many of the pruned target-class images carried the feature against
        the carriers' share of that class.

    Examples
    --------
    >>> r = run("n_train=300 n_test=100 epochs=2 score_epoch=1", arms=["hardest"])  # doctest: +SKIP
    >>> fig, take = pruned_gallery(r, build_scenario(r.config), "hardest")          # doctest: +SKIP
    """
    import numpy as np

    (result,), _ = _check_results(result, [arm], False)
    n_target = check_int("n_target", n_target, low=0)
    n_other = check_int("n_other", n_other, low=0)
    if n_target + n_other == 0:
        raise ValueError("n_target + n_other must be at least 1; got 0 and 0")
    facts = result.scenario
    if (len(scenario.train) != facts.n_train or scenario.target_class != facts.target_class
            or tuple(scenario.carrier_indices.tolist()) != facts.carrier_indices):
        raise ValueError("scenario must be the one the result ran on (same training set, target "
                         "class and carriers): sl.build_scenario(result.config), or the scenario "
                         "given to sl.run(scenario=...)")
    c1, names = facts.target_class, facts.class_names
    pruned = np.asarray(result.arms[arm].pruned, dtype=int)
    labels, carrier = scenario.train.labels.numpy(), scenario.carrier.numpy()
    rng = np.random.default_rng(seed)
    target, others = pruned[labels[pruned] == c1], pruned[labels[pruned] != c1]
    show = np.concatenate([rng.choice(target, min(n_target, len(target)), replace=False),
                           rng.choice(others, min(n_other, len(others)), replace=False)]).astype(int)
    colors = [OKABE_ITO[5] if carrier[i] else OKABE_ITO[0] if labels[i] == c1 else OKABE_ITO[7]
              for i in show]
    fig = gallery(scenario.train.images[show], ncols=10, edge_colors=colors,
                  titles=[names[labels[i]] + (f" +{facts.feature}" if carrier[i] else "")
                          for i in show],
                  title=f"Pruned by {arm!r} at p = {result.config.prune_ratio:.0%} (seed "
                        f"{result.config.seed}): vermillion = {names[c1]!r} with the "
                        f"{facts.feature}, blue = {names[c1]!r} without, black = other class")
    n_car = int(carrier[target].sum())
    share = n_car / len(target) if len(target) else float("nan")
    take = (f"Takeaway: of the {len(target)} {names[c1]!r} images pruned, {n_car} carried the "
            f"{facts.feature} ({share:.0%}; carriers are {carrier[labels == c1].mean():.0%} of "
            f"class {names[c1]!r}); the other {len(others)} pruned samples are hard images of the "
            f"other classes.")
    return fig, take


def carrier_ranking(ax, scores, carrier, labels, target_class, *, kept_by, class_name=None,
                    title=None):
    """The carriers ranked by their early score, one row per pruning arm: each carrier at its
    difficulty percentile within the target class (0 = easiest, 100 = hardest), a filled blue
    dot where the arm keeps it and a vermillion cross where it cuts it.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    scores : array-like (N,)
        Early difficulty scores (higher = harder), e.g. EL2N after the score epoch.
    carrier : array-like (N,) bool
    labels : array-like (N,) int
    target_class : int
    kept_by : dict of str -> array-like
        Arm label -> what it keeps: a boolean mask (N,) or indices (as :func:`spurlab.prune`
        returns), e.g. ``{"label-free hardest": keep, "oracle": keep_oracle}``.
    class_name : str, optional
    title : str, optional

    Returns
    -------
    str
        A one-line takeaway: how many carriers each arm cuts, and the lowest percentile it cuts.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import numpy as np
    >>> fig, ax = plt.subplots()
    >>> s, y = np.array([0.1, 0.9, 0.5, 0.7, 0.3]), np.array([4, 4, 4, 4, 0])
    >>> car = np.array([True, False, True, True, False])
    >>> print(carrier_ranking(ax, s, car, y, 4, kept_by={"hardest": [0, 1, 2, 4]}))
    Takeaway: of the 3 carriers of class 4, hardest cuts 1 (33%), from percentile 67 up.
    """
    import numpy as np

    from ._validate import as_score_array

    lab = np.asarray(labels.cpu() if hasattr(labels, "cpu") else labels)
    if lab.ndim != 1:
        raise ValueError(f"labels must be 1-D; got shape {lab.shape}")
    n = len(lab)
    s = as_score_array("scores", scores, n)
    car = np.asarray(carrier.cpu() if hasattr(carrier, "cpu") else carrier)
    if car.shape != (n,) or car.dtype != bool:
        raise ValueError(f"carrier must be a boolean mask shaped ({n},); got {car.dtype} {car.shape}")
    c = check_int("target_class", target_class, low=0)
    in_class = lab == c
    if not (car & in_class).any():
        raise ValueError(f"class {c} has no carriers: nothing to rank")
    if not isinstance(kept_by, dict) or not kept_by:
        raise TypeError(f"kept_by must be a non-empty dict of arm label -> kept mask or indices; got "
                        f"{kept_by!r:.80}")
    kept = {str(k): _as_mask(f"kept_by[{k!r}]", v, n) for k, v in kept_by.items()}
    cs = s[in_class]
    order = np.argsort(np.argsort(cs, kind="stable"), kind="stable")       # ranks within the class
    pct = np.full(n, np.nan)
    pct[in_class] = 100.0 * order / max(len(cs) - 1, 1)
    idx = np.flatnonzero(car & in_class)
    idx = idx[np.argsort(pct[idx], kind="stable")]
    cls = _class_label(c, class_name)
    parts = []
    for row, (arm, mask) in enumerate(kept.items()):
        keep, cut = idx[mask[idx]], idx[~mask[idx]]
        ax.scatter(pct[keep], np.full(len(keep), row), s=14, color=OKABE_ITO[0],
                   label="kept" if row == 0 else None)
        ax.scatter(pct[cut], np.full(len(cut), row), s=22, marker="x", color=OKABE_ITO[5],
                   label="cut" if row == 0 else None)
        parts.append(f"{arm} cuts {len(cut)} ({len(cut) / len(idx):.0%})"
                     + (f", from percentile {pct[cut].min():.0f} up" if len(cut) else ""))
    ax.set_yticks(range(len(kept)), list(kept))
    ax.set_ylim(-0.6, len(kept) - 0.4)
    ax.set_xlim(-2, 102)
    ax.set_xlabel(f"carrier's percentile of the early score within {cls} (higher = harder)")
    ax.set_ylabel("pruning arm")
    ax.set_title(title or f"The {len(idx)} carriers of {cls}: kept or cut")
    ax.legend(fontsize=8, loc="upper left")
    return f"Takeaway: of the {len(idx)} carriers of {cls}, " + "; ".join(parts) + "."


def show(figure_and_takeaway):
    """Show a lesson figure and print its takeaway beside it, in one call:
    ``show(drivers_figure(point))`` for ``fig, take = drivers_figure(point); plt.show();
    print(take)`` (the takeaway is the last item of what the figure function returned)."""
    import matplotlib.pyplot as plt

    take = figure_and_takeaway[-1]
    if not isinstance(take, str):
        raise TypeError(f"figure_and_takeaway must end with the takeaway (a str), as the lesson "
                        f"figures return it; got {type(take).__name__}")
    plt.show()
    print(take)


def drivers_figure(point):
    """Notebook 02's counterfactual: each carrier's measured effect on the SMR against its early
    EL2N percentile (left), and removing each EL2N decile of the carriers as a group, measured
    over seeds and predicted by the datamodel (right).

    Parameters
    ----------
    point : spurlab.DriverPoint
        One point of :func:`spurlab.load_drivers`.

    Returns
    -------
    fig, takeaway : matplotlib Figure, str
        ``takeaway`` is :meth:`spurlab.DriverPoint.text`.

    Examples
    --------
    >>> fig, take = drivers_figure(load_drivers()["default"])  # doctest: +SKIP
    """
    import matplotlib.pyplot as plt
    import numpy as np

    x, eff, ci = point.el2n_percentile, 100 * point.effect, 100 * point.effect_ci95
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 4.2))
    ok = point.resolved()
    for mask, color, marker, label in ((~ok, OKABE_ITO[0], "o", "interval includes 0"),
                                       (ok, OKABE_ITO[5], "s", "interval excludes 0")):
        ax.errorbar(x[mask], eff[mask], yerr=np.abs(ci[mask].T - eff[mask]), fmt=marker,
                    color=color, ms=4, lw=0.8, alpha=0.8,
                    label=f"{label} ({int(mask.sum())})")
    ax.axhline(0, color="0.4", lw=0.8)
    ax.set(xlabel=f"carrier's early EL2N percentile within class {point.class_name!r}",
           ylabel="SMR drop when removed (points, 95% CI)", xlim=(0, 100))
    _fit_title(ax, f"{len(x)} carriers, {point.n_retrainings} retrainings")
    ax.legend(loc="upper left", fontsize=8)
    d = point.deciles
    pos = np.arange(len(d))
    meas = np.array([100 * q["measured"]["mean"] for q in d])
    mci = np.array([[100 * v for v in q["measured"]["ci95"]] for q in d])
    pred = np.array([100 * q["predicted"]["mean"] for q in d])
    pci = np.array([[100 * v for v in q["predicted"]["ci95"]] for q in d])
    n_seeds = d[0]["measured"]["n"]
    bx.bar(pos - 0.2, meas, 0.4, yerr=np.abs(mci.T - meas), color=OKABE_ITO[5], capsize=2,
           label=f"measured ({n_seeds} seeds, 95% CI)")
    bx.errorbar(pos + 0.2, pred, yerr=np.abs(pci.T - pred), fmt="D", color=OKABE_ITO[0], ms=4,
                capsize=2, label="datamodel (sum of effects)")
    bx.axhline(0, color="0.4", lw=0.8)
    bx.set_xticks(pos, [str(q["decile"]) for q in d])
    bx.set(xlabel="EL2N decile of the carriers removed (1 = easiest)",
           ylabel="SMR drop (points)")
    _fit_title(bx, "Removing a tenth of the carriers")
    bx.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    return fig, "Takeaway: " + point.text()


def drivers_gallery(point, scenario, *, n=8):
    """The ``n`` carriers whose removal lowers the SMR most (top row) and the ``n`` with the
    smallest effect (bottom row), titled with their EL2N percentile and effect.

    ``scenario`` is the point's (``build_scenario(Config.from_string(point.config))``); one of
    another config is refused.

    Returns
    -------
    fig, takeaway : matplotlib Figure, str
    """
    import numpy as np

    n = check_int("n", n, low=1, high=len(point.carriers) // 2)
    if not np.array_equal(scenario.carrier_indices.numpy(), point.carriers):
        raise ValueError("scenario must be the drivers point's own (build_scenario("
                         "Config.from_string(point.config))): its carriers differ")
    name = point.class_name
    order = np.argsort(-point.effect, kind="mergesort")
    show = np.concatenate([order[:n], order[::-1][:n]])
    fig = gallery(scenario.train.images[point.carriers[show]], ncols=n, size=1.3,
                  row_labels=["top drivers", "least"],
                  titles=[f"EL2N {point.el2n_percentile[i]:.0f}th\n{100 * point.effect[i]:+.2f} pts"
                          for i in show],
                  edge_colors=[OKABE_ITO[5]] * n + [OKABE_ITO[0]] * n,
                  title=f"Carriers of {name!r} by measured effect on the SMR")
    top, low = point.el2n_percentile[order[:n]], point.el2n_percentile[order[::-1][:n]]
    take = (f"Takeaway: the {n} top drivers sit at a median early-EL2N percentile of "
            f"{np.median(top):.0f} within {name!r}, the {n} least at "
            f"{np.median(low):.0f}.")
    return fig, take


def lead_vs_control(results, lead, control, *, metrics=("smr", "clean_accuracy"), title=None):
    """A pruning arm against its control over seeds: :func:`compare_models` for the two arms
    (with the baseline and the no-carrier model), and a one-line takeaway that names the
    difficulty score, its epoch and the class (from the results' scenario): the shortcut
    verdict first (:func:`spurlab.verdicts.shortcut`), then, only when one was learned,
    ``lead`` minus ``control`` on SMR with its 95% interval over seeds and its direction in
    words (:func:`spurlab.verdicts.difference`).

    Parameters
    ----------
    results : list of Result
        One per seed, each with both arms and the reference model.
    lead, control : str
        Arm names, e.g. ``'hardest/global'`` and ``'random/global'``.
    metrics, title
        As for :func:`compare_models` (a default title names the setting).

    Returns
    -------
    fig, takeaway : matplotlib Figure, str

    Examples
    --------
    >>> rs = run_seeds("n_train=600 n_test=120 epochs=2 score_epoch=1 score=margin", [0, 1, 2],
    ...                arms=["hardest", "random"])                                 # doctest: +SKIP
    >>> fig, take = lead_vs_control(rs, "hardest", "random")                      # doctest: +SKIP
    """
    import numpy as np

    results, _ = _check_results(results, [lead, control], True)
    cfg, sc = results[0].config, results[0].scenario
    setting = (f"{cfg.score.upper()} at epoch {cfg.score_epoch}, c1 = {sc.target}, "
               f"p = {cfg.prune_ratio:g}, {len(results)} seed{'s' if len(results) > 1 else ''}")
    fig, _ = compare_models(results, [lead, control], metrics=metrics,
                            title=title or f"{lead} vs {control} ({setting})")
    verdict = shortcut(results)
    if not verdict.learned:
        return fig, f"Takeaway ({setting}): {verdict.text()}."
    smr = {m: float(np.mean([r.metrics(m).smr for r in results]))
           for m in ("baseline", lead, control)}
    return fig, (f"Takeaway ({setting}): {verdict.text()}. SMR baseline {smr['baseline']:.1%}, "
                 f"after {lead} {smr[lead]:.1%}, after {control} {smr[control]:.1%}; "
                 f"{difference(results, lead, control).text()}.")


__all__ = ["GROUP_COLORS", "METRIC_LABELS", "MODEL_STYLE", "OKABE_ITO", "arm_differences",
           "band_curve", "bars_with_spread", "carrier_counts", "carrier_gallery",
           "carrier_ranking", "carrier_share_bars", "compare_models", "composition_bars",
           "data_map_plot", "difficulty_grid", "drivers_figure", "drivers_gallery",
           "difficulty_of_removed", "flip_gallery", "gallery",
           "group_accuracy_bars", "group_trajectories", "lead_vs_control", "lines_with_spread",
           "model_color", "model_label", "occupancy_bars", "overlaid_hist", "plot_result",
           "pruned_gallery", "pruning_takeaway", "rows_gallery", "seed_values", "seeds_table",
           "separation_bars", "shortcut_bars", "show", "shortcut_summary", "stacked_bars"]
