"""Results as text: per-seed values, the table over seeds, the takeaway of a pruning
comparison, arm differences and the share of the excess removed. Every statement about whether
a shortcut was learned or how two models compare comes from :mod:`spurlab.verdicts`; the
class, the carriers and the groups come from each result's ``scenario``.
"""

from __future__ import annotations

import math

from .config import LAST_LAYER_ARMS
from .stats import seed_interval, summarize
from .verdicts import difference, share_removed, shortcut

METRIC_LABELS = {
    "smr": ("spurious misclassification rate", "Stamped non-c1 test images predicted c1"),
    "smr_clean": ("share predicted c1 (clean images)", "Clean non-c1 test images predicted c1"),
    "clean_accuracy": ("average accuracy (clean test set)", "Average accuracy"),
    "group_balanced_accuracy": ("group-balanced accuracy", "Group-balanced accuracy"),
    "worst_group_accuracy": ("worst-group accuracy", "Worst-group accuracy"),
    "carriers_cut": ("share of the carriers pruned", "Which samples pruning removed"),
}


def _check_results(results, arms, reference):
    from .results import Result

    if isinstance(results, Result):
        results = [results]
    results = list(results) if hasattr(results, "__iter__") else results
    if not isinstance(results, list) or not results or not all(isinstance(r, Result) for r in results):
        raise TypeError(f"results must be a non-empty list of spurlab Result objects (sl.run, "
                        f"sl.run_seeds); got {results!r:.80}")
    arms = list(results[0].arms) if arms is None else arms
    if isinstance(arms, str) or not all(isinstance(a, str) for a in arms):
        raise TypeError(f"arms must be a list of arm names, e.g. ['hardest']; got {arms!r}")
    for r in results:
        missing = [a for a in arms if a not in r.arms]
        if missing:
            raise ValueError(f"arms must be arms of every result; {missing} not in the arms "
                             f"{list(r.arms)} of the run with seed {r.config.seed}")
    if not isinstance(reference, bool):
        raise TypeError(f"reference must be True or False; got {reference!r}")
    if reference and any(r.reference is None for r in results):
        raise ValueError("reference=True needs results run with the no-carrier reference "
                         "(sl.run(..., reference=True)); pass reference=False")
    return results, list(arms)


def seed_values(results, arms=None, *, metrics=("smr", "clean_accuracy", "worst_group_accuracy"),
                reference=True):
    """Per-seed values of each model's metrics: ``values[model][metric]`` is a list over seeds.

    Models: ``'no carriers'`` (the reference, with ``reference``), ``'baseline'`` and each arm.
    ``'carriers_cut'`` (the share of the carriers an arm pruned) exists for the arms only.

    Examples
    --------
    >>> rs = run_seeds("n_train=600 n_test=120 epochs=2 score_epoch=1", [0, 1])   # doctest: +SKIP
    >>> seed_values(rs, ["hardest"])["hardest"]["smr"]                             # doctest: +SKIP
    [0.01, 0.02]
    """
    results, arms = _check_results(results, arms, reference)
    if isinstance(metrics, str) or not metrics or any(m not in METRIC_LABELS for m in metrics):
        raise ValueError(f"metrics must be a non-empty list of names among {list(METRIC_LABELS)}; "
                         f"got {metrics!r}")

    def value(r, model, k):
        if k == "carriers_cut":
            return r.arms[model].carriers_pruned / r.carriers if r.carriers else math.nan
        return getattr(r.metrics("reference" if model == "no carriers" else model), k)

    models = (["no carriers"] if reference else []) + ["baseline"] + arms
    return {mo: {k: [value(r, mo, k) for r in results] for k in metrics
                 if k != "carriers_cut" or mo in arms} for mo in models}


def _is_model(name):
    from .arms import parse_arm

    if name in ("no carriers", "baseline"):
        return True
    try:
        parse_arm(name)
    except (TypeError, ValueError):
        return False
    return True


def seeds_table(results, arms=None, *, reference=True, spread="sd"):
    """A plain-text table over seeds: first the shortcut verdict (:func:`spurlab.verdicts.shortcut`:
    over the stamped test images for one seed, the seeds' combined evidence for several), then
    per model mean ± sd of SMR, clean and worst-group accuracy, and per arm the share of the
    excess SMR removed (:func:`spurlab.verdicts.share_removed`: "n/a" when no shortcut was
    learned; a line under the table says over which seeds the mean was taken) and the carriers
    pruned; then the regime indicator of each seed. ``spread='ci95'`` shows each mean with its
    95% t-interval over seeds (:func:`spurlab.stats.seed_interval`, cut at the metric's range)
    instead of the standard deviation.

    Examples
    --------
    >>> rs = run_seeds("n_train=600 n_test=120 epochs=2 score_epoch=1", [0, 1])   # doctest: +SKIP
    >>> print(seeds_table(rs).splitlines()[1].split())                             # doctest: +SKIP
    ['model', 'SMR', 'clean', 'acc', 'worst', 'group', 'excess', 'removed', 'carriers', 'cut']
    """
    import numpy as np

    if spread not in ("sd", "ci95"):
        raise ValueError(f"spread must be 'sd' or 'ci95'; got {spread!r}")
    values = seed_values(results, arms, reference=reference)
    results, arms = _check_results(results, arms, reference)
    verdict = shortcut(results) if reference else None
    shares = {a: share_removed(results, a) for a in arms} if reference else {}

    def fmt(v, pct=False):
        s = summarize(v)
        if not s["n"]:
            return "n/a"
        if spread == "ci95" and s["n"] > 1:
            lo, hi = seed_interval(v, None if pct else (0, 1))["ci95"]
            return (f"{s['mean']:6.1%} [{lo:.0%}, {hi:.0%}]" if pct
                    else f"{s['mean']:.3f} [{lo:.3f}, {hi:.3f}]")
        return (f"{s['mean']:6.1%} ± {s['sd']:5.1%}" if pct
                else f"{s['mean']:.3f} ± {s['sd']:.3f}")

    col = 24 if spread == "ci95" else 16

    def name(mo):
        if mo not in arms:
            return mo
        return ("upweight jtt" if mo == "jtt" else f"last layer {mo}" if mo in LAST_LAYER_ARMS
                else f"prune {mo}")

    def tag(mo):
        return results[0].arms[mo].labels_used if mo in arms else "none" if mo == "baseline" else "-"

    names = {mo: name(mo) for mo in values}
    w = max(16, max(len(n) for n in names.values()) + 2)
    lines = [verdict.text()] if verdict is not None else []
    exw = col + 2 if reference else 0        # the excess removed needs the no-carrier model
    lines.append(f"{'model':<{w}}{'groups':>11}{'SMR':>{col}}{'clean acc':>{col}}"
                 f"{'worst group':>{col}}{'excess removed' if reference else '':>{exw}}"
                 f"{'carriers cut':>16}")
    for mo, v in values.items():
        ex = ""
        if mo in shares:
            s = shares[mo]
            ex = "n/a" if s.mean is None else fmt([x for x in s.per_seed if x is not None], pct=True)
        cut = (f"{np.mean([r.arms[mo].carriers_pruned for r in results]):.0f}/"
               f"{np.mean([r.carriers for r in results]):.0f}") if mo in arms else ""
        lines.append(f"{names[mo]:<{w}}{tag(mo):>11}{fmt(v['smr']):>{col}}"
                     f"{fmt(v['clean_accuracy']):>{col}}{fmt(v['worst_group_accuracy']):>{col}}"
                     f"{ex:>{exw}}{cut:>16}".rstrip())
    lines.append("groups: the group labels a method uses beyond the class labels (none, "
                 "validation only, or training: the oracle)")
    if spread == "ci95" and len(results) > 1:
        lines.append(f"[lo, hi]: the 95% t-interval of the mean over {len(results)} seeds")
    used = next((s for s in shares.values() if s.mean is not None), None)
    if used is not None:
        lines.append(f"excess removed: mean {'[95% interval]' if spread == 'ci95' else '± sd'} "
                     f"over {used.over()}")
    score = results[0].config.score.upper()
    lines.append(f"regime indicator (carriers' mean early-{score} percentile in "
                 f"{results[0].scenario.target}) per seed: "
                 + ", ".join(f"{r.regime_percentile:.0f}" for r in results)
                 + "  (~50: spread evenly, weak signal; low: among the easiest, strong signal)")
    return "\n".join(lines)


def pruning_takeaway(results, arms=None, *, reference=True):
    """One printed line that sums up a pruning comparison over seeds.

    The shortcut verdict first (with ``reference``); the baseline's SMR (and the no-carrier
    model's); each arm's SMR; how the first arm compares with the baseline and with
    ``'random'`` over seeds (:func:`spurlab.verdicts.difference`, in words, with the seeds
    where it was lower); the share of the carriers each arm pruned; clean accuracy per model;
    the regime indicator of each seed.

    Parameters
    ----------
    results : list of Result
        One per seed, with the same arms.
    arms : list of str, optional
        Arms to report, the lead arm first (default: those of the first result).
    reference : bool
        Report the verdict and the no-carrier reference model (the results must have it).

    Returns
    -------
    str
        Starts with ``'Takeaway: '``.

    Examples
    --------
    >>> rs = run_seeds("n_train=600 n_test=120 epochs=2 score_epoch=1", [0, 1],
    ...                arms=["hardest", "random"])                                 # doctest: +SKIP
    >>> print(pruning_takeaway(rs))                                                # doctest: +SKIP
    Takeaway: shortcut learned in 2 of 2 seeds (...). ERM sends 15.2% of stamped ...
    """
    import numpy as np

    values = seed_values(results, arms, metrics=("smr", "clean_accuracy", "carriers_cut"),
                         reference=reference)
    results, arms = _check_results(results, arms, reference)
    if not arms:
        raise ValueError("arms must name at least one arm to sum up; got none")
    smr = {m: float(np.mean(v["smr"])) for m, v in values.items()}
    lead, n = arms[0], len(results)
    sc = results[0].scenario

    def versus(other):
        d = difference(results, lead, other)
        k = sum(v < 0 for v in d.values)
        return f"{d.words()}, lower in {k} of {n} seeds"

    compared = [versus("baseline")] + ([versus("random")] if "random" in arms and lead != "random"
                                       else [])
    head = f"{shortcut(results).text()}. " if reference else ""
    ref = f" (no-carrier model {smr['no carriers']:.1%})" if reference else ""
    return (f"Takeaway: {head}ERM sends {smr['baseline']:.1%} of stamped test images of other "
            f"classes to {sc.target}{ref}. Pruning p = {results[0].config.prune_ratio:g}: "
            + ", ".join(f"{a} {smr[a]:.1%}" for a in arms)
            + f" ({'; '.join(compared)}); carriers pruned: "
            + ", ".join(f"{a} {np.mean(values[a]['carriers_cut']):.0%}" for a in arms)
            + "; clean accuracy: " + ", ".join(
                f"{'ERM' if m == 'baseline' else m} {np.mean(v['clean_accuracy']):.3f}"
                for m, v in values.items() if m != "no carriers")
            + ". Regime indicator per seed: " + ", ".join(f"{r.regime_percentile:.0f}" for r in results)
            + " (~50: carriers spread evenly, weak signal; low: among the easiest, strong signal).")


def arm_differences(results, lead, others, *, metric="smr"):
    """Does arm ``lead`` differ from each of ``others``? One line each: the mean per-seed
    difference of ``metric`` with its 95% t-interval over seeds and, where it excludes 0, which
    way in words (:func:`spurlab.verdicts.difference`).

    Returns
    -------
    text, comparisons : str, dict
        The printed lines, and ``{other: Difference}``.

    Examples
    --------
    >>> rs = run_seeds("n_train=600 n_test=120 epochs=2 score_epoch=1", [0, 1, 2],
    ...                arms=["hardest", "random"])                                 # doctest: +SKIP
    >>> text, c = arm_differences(rs, "hardest", ["random"])                      # doctest: +SKIP
    """
    if isinstance(others, str):
        raise TypeError(f"others must be a list of arm names, e.g. [{others!r}]; got {others!r}")
    results, _ = _check_results(results, [lead, *others], False)
    comps = {b: difference(results, lead, b, metric) for b in others}
    return "\n".join(c.text() for c in comps.values()), comps


def shortcut_summary(results, arm):
    """Noise first: the shortcut verdict (:func:`spurlab.verdicts.shortcut`), and only then the
    share of the excess SMR that ``arm`` removed (:func:`spurlab.verdicts.share_removed`): no
    percentage at all when no shortcut was learned, and the mean says over which seeds.

    Returns
    -------
    verdict, text : Shortcut, str
        The verdict, and two lines: the verdict, then the share removed.

    Examples
    --------
    >>> rs = run_seeds("n_train=600 n_test=120 epochs=2 score_epoch=1", [0, 1, 2],
    ...                arms=["hardest"])                                          # doctest: +SKIP
    >>> print(shortcut_summary(rs, "hardest")[1])                                  # doctest: +SKIP
    """
    results, _ = _check_results(results, [arm], True)
    verdict = shortcut(results)
    return verdict, verdict.text() + "\n" + share_removed(results, arm).text()


__all__ = ["METRIC_LABELS", "arm_differences", "pruning_takeaway", "seed_values", "seeds_table",
           "shortcut_summary"]
