"""Auto-checks for notebook 04 (severing the shortcut by pruning): label-free pruning, the share
of the excess removed, and two interpretation exercises judged on the notebook's live run: the
control that separates "pruning the hardest removed the hard carriers" from "it removed hard
samples in general" and what the run says (:func:`check_which_control`), and which carriers the
hardest arm removed: the share of the hard carriers against the share of all carriers
(:func:`check_hard_carriers`); a hint
aimed at each mistake, in stages (a nudge, the idea, the answer).

Examples
--------
>>> from spurlab.exercises import nb04
>>> nb04.check_excess_removed(lambda base, pruned, ref: (base - pruned) / (base - ref))
... # doctest: +ELLIPSIS
hint for excess_removed: on test case 5 you returned -1.0..., expected nan.
  the excess is smr_base - smr_ref ...
False
"""

from __future__ import annotations

import numpy as np

from ..prune import prune
from . import NOT_DONE, call_answer, check
from .nb02 import _as_index_set, _np


def reference_prune_hardest_per_class(scores, labels, ratio):
    """Sorted indices to keep after removing the ``round(ratio * n_k)`` hardest samples of every
    class ``k``: :func:`spurlab.prune` with ``strategy='hardest'``."""
    return prune(_np(scores).astype(float), _np(labels), ratio, strategy="hardest")


def reference_excess_removed(smr_base, smr_pruned, smr_ref):
    """Share of the baseline's excess SMR (over the no-carrier reference) that pruning removed,
    as :meth:`spurlab.Result.excess_removed`; NaN when there is no excess."""
    excess = smr_base - smr_ref
    return float("nan") if excess <= 0 else (smr_base - smr_pruned) / excess


def _as_float(fn):
    def wrapped(*args):
        got = fn(*args)
        try:
            return float(got)
        except (TypeError, ValueError):
            raise TypeError(f"return one number (a float); got {got!r:.60}") from None

    return wrapped


def _cases_prune():
    rng = np.random.default_rng(5)
    s = rng.random(50)
    y = rng.integers(0, 4, 50)
    return [
        (np.array([0.1, 0.9, 0.5, 0.2]), np.array([0, 0, 1, 1]), 0.5),
        (s, y, 0.2),
        (s, y, 0.4),
        (s, y, 0.0),                                   # nothing removed
        (np.arange(7.0), np.zeros(7, dtype=int), 0.3),  # one class, round(2.1) = 2
        (s, np.where(y == 3, 3, 0), 0.1),              # two classes of different sizes
    ]


def _cases_excess():
    return [
        (0.20, 0.08, 0.02),   # most of the excess removed
        (0.20, 0.20, 0.02),   # nothing removed
        (0.20, 0.01, 0.02),   # below the reference: more than 100%
        (0.10, 0.14, 0.02),   # pruning made it worse: negative
        (0.02, 0.01, 0.03),   # no excess to remove: NaN
        (0.05, 0.03, 0.05),   # an excess of exactly 0: NaN too (excess <= 0, not < 0)
    ]


def check_prune_hardest_per_class(fn):
    """Check ``prune_hardest_per_class(scores, labels, ratio)`` (indices to keep) against
    ``spurlab.prune(scores, labels, ratio, strategy='hardest')``."""
    return check(_as_index_set(fn), reference_prune_hardest_per_class, _cases_prune(),
                 name="prune_hardest_per_class",
                 hint="for every class k remove the round(ratio * n_k) samples with the highest "
                      "scores, then return the sorted indices of the samples you KEEP "
                      "(e.g. np.flatnonzero(keep_mask)); ratio 0 keeps everything.")


def check_excess_removed(fn):
    """Check ``excess_removed(smr_base, smr_pruned, smr_ref)``."""
    return check(_as_float(fn), reference_excess_removed, _cases_excess(), name="excess_removed",
                 hint=("the excess is what the carriers added over a model that never saw the "
                       "feature; return the share of it that pruning took away, and NaN when "
                       "there is no excess.",
                       "the excess is smr_base - smr_ref (what the carriers added over a model "
                       "that never saw the feature). Return (smr_base - smr_pruned) / excess, or "
                       "float('nan') when there is no excess (excess <= 0)."))


# --- Exercise 3 (interpretation): the control that separates two explanations

ARMS = ("hardest", "random", "easiest", "hardest/sparing")
EXPLANATIONS = ("hard carriers", "hard samples")
_EXPLAIN = {"hardcarriers": "hard carriers", "carriers": "hard carriers",
            "thehardcarriers": "hard carriers", "hardsamples": "hard samples",
            "samples": "hard samples", "hardsamplesingeneral": "hard samples",
            "thehardsamples": "hard samples"}
_TRIES = {"control": 0, "hard": 0}

CONTROL_NUDGE = ("a control changes one thing only. Which arm removes as many of the hardest "
                 "samples of every class as 'hardest' does, and differs from it in the carriers "
                 "alone?")
CONTROL_IDEA = ("the two explanations disagree about one experiment: prune as many hard samples, "
                "but spare every carrier. If the hard carriers mattered, the SMR stays high; if "
                "hard samples in general did, it falls as far as with 'hardest'. Read that arm's "
                "SMR against 'hardest' over the seeds (the live run prints the interval).")
CONTROL_MISTAKE = {
    "random": "random pruning answers another question: does it matter *which* samples are "
              "pruned? Both explanations predict that pruning the hardest beats it, so it cannot "
              "tell them apart.",
    "easiest": "pruning the easiest changes two things at once (which samples, and which "
               "carriers), and both explanations predict that it does little: it cannot tell "
               "them apart.",
    "hardest": "that is the arm whose effect you want to explain, not a control for it.",
}


def _words(x):
    return "".join(ch for ch in str(x).lower() if ch.isalnum())


def control_reading(results, lead="hardest", control="hardest/sparing"):
    """What the run says: ``'hard carriers'`` when ``control`` (the carrier-sparing arm) leaves a
    higher SMR than ``lead`` with a 95% interval over seeds above 0, else ``'hard samples'``
    (sparing the carriers did not keep the shortcut: the run cannot credit them); with the
    interval (:func:`spurlab.verdicts.difference`, ``control`` minus ``lead``)."""
    from ..verdicts import difference

    d = difference(results, control, lead)
    return ("hard carriers" if d.differs and d.mean > 0 else "hard samples"), d


def check_which_control(answer, results=None, *, arms=ARMS):
    """Check ``answer()``: a pair ``(control, explanation)``: the arm of ``arms`` that separates
    "pruning the hardest removed the hard carriers" from "it removed hard samples in general"
    (the carrier-sparing arm), and which explanation the run supports (one of
    :data:`EXPLANATIONS`), judged on ``results`` (the live run, one Result per seed) by
    :func:`control_reading`; without results, by the paper's mechanism (the hard carriers).
    Prints pass or a hint aimed at the mistake (a nudge first, then the idea, then the answer);
    returns True on pass."""
    got = call_answer(
            answer,
            "not done yet: which_control still raises NotImplementedError; return a pair such "
            "as ('random', 'hard samples').")
    if got is NOT_DONE:
        return False
    try:
        arm, explanation = got
    except (TypeError, ValueError):
        print(f"hint: return a pair (control, explanation), e.g. ('random', 'hard samples'); "
              f"got {got!r}.")
        return False
    if not isinstance(arm, str) or arm not in arms:
        print(f"hint: the control is one of the notebook's arms {', '.join(map(repr, arms))}; "
              f"got {arm!r}.")
        return False
    if not isinstance(explanation, str) or _words(explanation) not in _EXPLAIN:
        print(f"hint: the explanation is one of {', '.join(map(repr, EXPLANATIONS))}; got "
              f"{explanation!r}.")
        return False
    explanation = _EXPLAIN[_words(explanation)]
    sparing = next((a for a in arms if a.endswith("/sparing")), "hardest/sparing")
    reading, d = ("hard carriers", None) if results is None else control_reading(results, control=sparing)
    said = "" if d is None else d.text()
    if arm == sparing and explanation == reading:
        _TRIES["control"] = 0
        if d is None:
            print(f"pass: {sparing!r} is the control: in the paper's mechanism, sparing the "
                  "carriers keeps the shortcut, so the hard carriers are what pruning the hardest "
                  "removes. Check it on a run: pass its results.")
        elif reading == "hard carriers":
            print(f"pass: {sparing!r} is the control; {said}: sparing the carriers kept the "
                  "shortcut, so the hard carriers are what pruning the hardest removed.")
        else:
            print(f"pass: {sparing!r} is the control; {said}: sparing the carriers lowered the "
                  "SMR about as much, so this run cannot credit the carriers.")
        return True
    _TRIES["control"] += 1
    if arm != sparing:
        mistake = CONTROL_MISTAKE[arm]
    elif d is None:
        mistake = ("the right control, but what does it do in the paper's mechanism? The "
                   "carriers it spares are the samples that taught the shortcut.")
    elif reading == "hard carriers":
        mistake = (f"the right control, but read what it did: {said}, above 0 all along: the "
                   "carrier-sparing arm kept the SMR higher, so pruning as many hard samples "
                   "without the carriers does not do it.")
    else:
        mistake = (f"the right control, but read what it did: {said}; the interval does not lie "
                   "above 0, so sparing the carriers did not keep the shortcut in this run.")
    n = _TRIES["control"]
    staged = (CONTROL_NUDGE, CONTROL_IDEA)[n - 1] if n <= 2 else \
        f"the answer: ({sparing!r}, {reading!r}){': ' + said if said else ''}."
    print(f"hint: {mistake} {staged}")
    return False


# --- Exercise 4 (estimate): which carriers did the hardest arm remove? Hard ones, or any?

HARD_NUDGE = ("the figure 'Which carriers ... each arm removed, by difficulty' draws both numbers "
              "for each arm in its left panel: the bar (a dot per seed) and the short dotted line "
              "over it. Read the 'hardest' arm.")
HARD_IDEA = ("two shares of the carriers: of the hard carriers (the hardest quarter of the "
             "carriers by early EL2N, what the arms prune by), the share the arm removed (the "
             "bar); of all carriers, the share it removed (the short line).")


def hard_carrier_shares(results, arm="hardest"):
    """Means over seeds: the share of the hard carriers ``arm`` removed and the share of all
    carriers it removed (:mod:`spurlab.mechanism`), and, for the hints, the same hard share by
    latent difficulty, the carriers' share among the target-class samples it pruned and the
    prune ratio."""
    from ..mechanism import carriers_removed

    def mean(fn):
        values = [fn(r) for r in results]
        return float(np.nanmean([np.nan if v is None else v for v in values]))

    cut, latent = carriers_removed(results, arm), carriers_removed(results, arm, "latent")
    return {"hard": cut.hard["mean"], "all": cut.all["mean"], "latent": latent.hard["mean"],
            "among_pruned": mean(lambda r: r.arms[arm].carrier_share_pruned),
            "prune_ratio": mean(lambda r: r.config.prune_ratio)}


def check_hard_carriers(answer, results=None, *, arm="hardest", tol=0.05):
    """Check ``answer(results)``: a pair of fractions, means over the seeds of ``results`` (the
    live run): the share of the hard carriers ``arm`` removed and the share of all carriers it
    removed (:func:`hard_carrier_shares`), each within ``tol``. Prints pass, with what the two
    numbers say about each other, or a hint aimed at the mistake (a nudge first, then the idea,
    then the answer); returns True on pass."""
    got = call_answer(
            answer,
            "not done yet: hard_carriers still raises NotImplementedError; return two "
            "fractions, e.g. 0.5, 0.2.",
            results)
    if got is NOT_DONE:
        return False
    if results is None:
        print("cannot check without the run: pass the live run's results, "
              "nb04.check_hard_carriers(hard_carriers, live['results']).")
        return False
    try:
        a, b = (float(x) for x in got)
    except (TypeError, ValueError):
        print(f"hint: return two fractions (between 0 and 1), e.g. 0.5, 0.2; got {got!r}.")
        return False
    if a > 1 or b > 1:
        print(f"hint: return fractions between 0 and 1, not percentages; got {a:g}, {b:g}.")
        return False
    t = hard_carrier_shares(results, arm)
    answer_text = (f"the {arm!r} arm removed {t['hard']:.0%} of the hard carriers and "
                   f"{t['all']:.0%} of all carriers (means over {len(results)} seeds)")

    def near(x, y):
        return abs(x - y) <= tol

    if near(a, t["hard"]) and near(b, t["all"]):
        _TRIES["hard"] = 0
        how = ("more of the hard carriers than of the carriers as a whole: it reached the hard "
               "ones" if t["hard"] > t["all"] + tol else
               "fewer of the hard carriers than of the carriers as a whole" if t["hard"] < t["all"] - tol
               else "about as many of the hard carriers as of the carriers as a whole: no "
               "preference for the hard ones")
        print(f"pass: {answer_text}: {how}, without ever looking at the line.")
        return True
    _TRIES["hard"] += 1
    if near(a, t["all"]) and near(b, t["hard"]) and not near(a, t["hard"]):
        mistake = "the two numbers are swapped: first of the hard carriers, then of all carriers."
    elif not near(a, t["hard"]) and near(a, t["latent"]):
        mistake = ("your first number ranks the carriers by their latent difficulty (the middle "
                   "panel); the question ranks them by early EL2N, what the arm pruned by (left).")
    elif not near(a, t["hard"]) and near(a, t["among_pruned"]):
        mistake = ("your first number is the carriers' share among the c1 samples the arm "
                   "pruned; the question is the other way round: of the hard carriers, what "
                   "share did it remove?")
    elif not near(a, t["hard"]) and near(a, t["prune_ratio"]):
        mistake = ("your first number is the prune ratio p: every class loses p of its samples, "
                   "but the question is which carriers they were.")
    elif near(a, t["hard"]):
        mistake = ("your second number is off: the share of all carriers removed is the short "
                   "line over the bar (carriers pruned / carriers).")
    else:
        mistake = f"your first number is off by more than {tol:g}: read the {arm!r} bar again."
    n = _TRIES["hard"]
    staged = (HARD_NUDGE, HARD_IDEA)[n - 1] if n <= 2 else f"the answer: {answer_text}."
    print(f"hint: {mistake} {staged}")
    return False


# --- the section "Other knobs": a panel over the score, its epoch, the scope and the class

SCOPES = ("class", "global", "target")


def knobs_panel(config, seeds, class_names, *, budget_s=None):
    """A :class:`spurlab.widgets.Panel` over the recipe's other knobs: the difficulty score
    (:data:`spurlab.SCORES`), the epoch it is taken at, the scope of pruning (:data:`SCOPES`) and
    the class c1 that carries the feature. Run trains (through the engine, cached) the hardest
    and the random arm of that scope over ``seeds`` and draws them with
    :func:`spurlab.plotting.lead_vs_control`, printing its takeaway; the panel's result is the
    list of Results. Its defaults are ``config``'s, so a first Run reuses a live run of
    ``config`` with those arms."""
    import ipywidgets as w
    import matplotlib.pyplot as plt

    from ..arms import arm_name
    from ..pipeline import run_seeds
    from ..plotting import lead_vs_control
    from ..scores import SCORES
    from ..widgets import Panel

    def other_knobs(score, score_epoch, scope, target_class):
        arms = [arm_name(a, scope) for a in ("hardest", "random")]
        cfg = config.replace(score=score, score_epoch=score_epoch, target_class=target_class)
        results = run_seeds(cfg, seeds, arms=arms)
        _, take = lead_vs_control(results, *arms)
        plt.show()
        print(take)
        return results

    def dropdown(options, value, description):
        return w.Dropdown(options=options, value=value, description=description)

    return Panel({"score": dropdown(list(SCORES), config.score, "score"),
                  "score_epoch": w.IntSlider(value=config.score_epoch, min=1, max=config.epochs,
                                             description="score epoch", continuous_update=False),
                  "scope": dropdown(list(SCOPES), "class", "scope"),
                  "target_class": dropdown([(n, i) for i, n in enumerate(class_names)],
                                           config.target_class, "c1")},
                 other_knobs, budget_s=budget_s,
                 title="Pruning the hardest vs random: the score, its epoch, the scope, the class")


__all__ = ["ARMS", "EXPLANATIONS", "SCOPES", "check_hard_carriers", "check_excess_removed",
           "check_prune_hardest_per_class", "check_which_control", "control_reading", "knobs_panel",
           "reference_excess_removed", "reference_prune_hardest_per_class", "hard_carrier_shares"]
