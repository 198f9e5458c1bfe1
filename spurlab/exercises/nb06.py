"""Auto-checks for notebook 06 (*Your turn: bring your own data or pattern*).

Three exercises:

- :func:`check_make_corner_mask`: ``make_corner_mask(h, w, size)``, an ``(h, w)`` mask that is 1
  on a right triangle in the top-left corner (pixel ``(r, c)`` is inside when
  ``r + c < size``) and 0 elsewhere: the shape of a custom :class:`spurlab.Pattern`;
- :func:`check_regime_percentile`: ``regime_percentile(scores, carrier, labels, c1)``, the
  carriers' mean difficulty percentile within class ``c1`` (the regime indicator), compared with
  :func:`spurlab.scores.percentile_within`;
- :func:`check_design_study`: a design exercise for the mini-project: ``design_study()`` returns
  a study (seeds, arms, the no-carrier model, a decision rule) that can answer "does pruning the
  hardest beat random pruning here?" within a budget of trainings; each missing piece gets its
  own hint, and the hints come in stages (a nudge, the idea, an answer).

:func:`corner_mask` and :func:`regime_percentile` are the references; the notebook falls back on
them when an exercise is not done yet, so it always runs top to bottom.

Examples
--------
>>> corner_mask(3, 4, 2).tolist()
[[1.0, 1.0, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]]
"""

from __future__ import annotations

import re

import numpy as np
import torch

from ..scores import percentile_within
from . import NOT_DONE, call_answer, check, staged_hint


def corner_mask(h, w, size):
    """Reference: float32 tensor ``(h, w)``, 1 where ``row + col < size`` (top-left triangle).

    Parameters
    ----------
    h, w : int
        Image height and width.
    size : int >= 0
        Length of the triangle's two legs in pixels (0: empty mask).
    """
    r = torch.arange(h)[:, None]
    c = torch.arange(w)[None, :]
    return ((r + c) < size).float()


def regime_percentile(scores, carrier, labels, c1):
    """Reference: mean percentile (0-100) of the carriers' scores among all class-``c1``
    scores, ties counted half (NaN when there is no carrier).

    Parameters
    ----------
    scores : array-like (N,)
        Difficulty per training sample (higher = harder), e.g. early EL2N.
    carrier : bool array-like (N,)
        Sample carries the spurious feature.
    labels : int array-like (N,)
    c1 : int
        The class the feature was put on.

    Examples
    --------
    >>> regime_percentile([0.1, 0.2, 0.3, 0.4], [False, False, False, True], [0, 0, 0, 0], 0)
    87.5
    """
    carrier = np.asarray(carrier, dtype=bool)
    if not carrier.any():
        return float("nan")
    among = np.flatnonzero(np.asarray(labels) == c1)
    return float(np.mean(percentile_within(scores, np.flatnonzero(carrier), among)))


def check_make_corner_mask(fn):
    """Check ``fn(h, w, size)`` against :func:`corner_mask` (numpy arrays or tensors accepted).

    Parameters
    ----------
    fn : callable
        The learner's ``make_corner_mask(h, w, size)``.

    Returns
    -------
    bool
        ``True`` when every case matches.
    """
    cases = [(4, 4, 2), (16, 16, 5), (5, 8, 3), (8, 5, 3), (3, 3, 0), (2, 2, 1), (4, 6, 20)]

    def learner(h, w, size):
        out = fn(h, w, size)
        out = out.detach().cpu().numpy() if isinstance(out, torch.Tensor) else np.asarray(out)
        return out.astype(np.float32)

    return check(learner, lambda h, w, s: corner_mask(h, w, s).numpy(), cases,
                 name="make_corner_mask",
                 hint="return an (h, w) array of 0s and 1s with 1 where row + col < size; rows "
                      "run over h, columns over w; size=0 gives all zeros and a size larger "
                      "than the image just fills more of it (no error).")


def check_regime_percentile(fn):
    """Check ``fn(scores, carrier, labels, c1)`` against :func:`regime_percentile`.

    Parameters
    ----------
    fn : callable
        The learner's ``regime_percentile(scores, carrier, labels, c1)`` on numpy arrays,
        returning a float in [0, 100] (NaN without carriers).

    Returns
    -------
    bool
        ``True`` when every case matches.
    """
    a = np.array
    rng = np.random.default_rng(0)
    big_scores = rng.random(60)
    big_labels = np.arange(60) % 3
    big_carrier = (big_labels == 1) & (rng.random(60) < 0.4)
    cases = [
        # one class; the single carrier is the hardest of four
        (a([0.1, 0.2, 0.3, 0.4]), a([False, False, False, True]), a([0, 0, 0, 0]), 0),
        # the carriers are the two easiest of class 1; class 0's scores must not count
        (a([0.9, 0.1, 0.05, 0.2, 0.8, 0.7]), a([False, True, False, True, False, False]),
         a([0, 1, 0, 1, 1, 1]), 1),
        # ties: a carrier tied with another sample counts half
        (a([0.5, 0.5, 0.2, 0.9]), a([True, False, False, False]), a([2, 2, 2, 2]), 2),
        # every sample of c1 carries the feature: exactly 50
        (a([0.3, 0.1, 0.7, 0.2]), a([True, True, True, True]), a([1, 1, 1, 1]), 1),
        # no carrier at all: NaN
        (a([0.3, 0.1, 0.7]), a([False, False, False]), a([0, 0, 0]), 0),
        # a larger random case
        (big_scores, big_carrier, big_labels, 1),
    ]
    return check(fn, regime_percentile, cases, name="regime_percentile",
                 hint="for each carrier, count the class-c1 samples with a lower score plus half "
                      "of those with an equal score (the carrier itself included), divide by the "
                      "number of class-c1 samples, times 100; then average over the carriers. "
                      "Return float('nan') when there is no carrier.")


# --- Exercise 3 (design): a study that can answer the question, on a budget

QUESTION = "does pruning the hardest beat random pruning here?"
BUDGET = 12
DECISIONS = ("interval", "mean", "every seed")
_TRIES = {"n": 0}
EXAMPLE = {"seeds": [0, 1, 2], "arms": ["hardest", "random"], "reference": True,
           "decide by": "interval"}

NUDGE = ("go through what the question needs: the arm it asks about, the arm it compares with, "
         "a way to tell whether there is a shortcut at all, and enough seeds to see the spread.")
IDEA = ("a study that can answer it has: 'hardest' and its control 'random' at the same p; the "
        "no-carrier model (reference=True) for the verdict; at least 3 seeds; a rule that looks "
        "at the 95% interval over seeds of SMR(hardest) - SMR(random) (it must exclude 0); and "
        "no more trainings than the budget: seeds x (baseline + one per arm + the reference).")


def trainings(design):
    """Networks a design trains from scratch: per seed the baseline (which also scores every
    sample), one per arm (each retrains on what it keeps) and the no-carrier model, as
    :func:`spurlab.run` does."""
    return len(design["seeds"]) * (1 + len(design["arms"]) + bool(design["reference"]))


# the words that name each rule; free text is read only when it names exactly one rule and
# negates nothing, so "no interval, just the mean" is never read as "interval"
_DECISION_WORDS = {"interval": ("interval", "ci95", "ci"), "mean": ("mean", "average"),
                   "every seed": ("every", "each", "all")}
_NEGATIONS = ("no", "not", "without", "instead", "just", "only", "rather", "never")
# comparing each arm's own interval ("do they overlap?") is not the interval of the difference
_SEPARATE = ("overlap", "overlaps", "overlapping", "separate", "separately")


def _separate(rule):
    """Whether ``rule`` compares two intervals (the arms' own) instead of naming one."""
    words = re.findall(r"[a-z0-9]+", str(rule).lower())
    return any(w in words for w in _SEPARATE) or words.count("interval") > 1


def _decision(rule):
    """The rule ``rule`` names (one of :data:`DECISIONS`), or None when it names none, several,
    negates one, or compares two intervals (:func:`_separate`)."""
    words = re.findall(r"[a-z0-9]+", str(rule).lower())
    named = {d for d, ws in _DECISION_WORDS.items() if any(w in words for w in ws)}
    if len(named) != 1 or any(w in words for w in _NEGATIONS) or _separate(rule):
        return None
    return named.pop()


def _problems(design, budget):
    """Every missing piece of ``design``, each with its hint (an empty list: it can answer)."""
    from ..pipeline import check_arms, check_seeds
    from ..stats import t95

    out = []
    arms = design["arms"]
    if "hardest" not in arms:
        out.append("the question is about pruning the hardest: the arm 'hardest' must run.")
    if "random" not in arms:
        out.append("without the random control you cannot tell pruning the hardest from pruning "
                   "anything: fewer spurious predictions could come from removing any p of the "
                   "data and retraining.")
    if not design["reference"]:
        out.append("without the no-carrier model (reference=True) there is no verdict: you cannot "
                   "say whether a shortcut was learned at all, and a drop in SMR may be noise.")
    n = len(check_seeds(design["seeds"]))
    if n < 3:
        wide = ("with one seed there is no spread at all, so no interval" if n == 1 else
                f"with 2 seeds the 95% interval reaches {t95(1):.1f} standard errors either side "
                f"of the mean (3 seeds: {t95(2):.1f}; spurlab.stats.t95)")
        out.append(f"{wide}: use at least 3 seeds.")
    rule = _decision(design["decide by"])
    if rule == "mean":
        out.append("a lower mean over a few seeds can be luck, one good seed can carry it: decide "
                   "by the 95% interval over seeds of SMR(hardest) - SMR(random).")
    elif rule == "every seed":
        out.append("'lower in every seed' is a weaker claim than the question needs (notebook 04 "
                   "falls back on it only when the interval is too wide): decide by the 95% "
                   "interval over seeds, which must exclude 0.")
    elif rule is None and _separate(design["decide by"]):
        out.append("whether the two arms' own intervals overlap is not the test: they can overlap "
                   "while the 95% interval over seeds of SMR(hardest) - SMR(random), the same "
                   "seeds paired, excludes 0; decide by that one interval.")
    elif rule is None:
        out.append(f"'decide by' is one of {', '.join(map(repr, DECISIONS))}; got "
                   f"{design['decide by']!r}.")
    cost = trainings(design)
    if cost > budget:
        extra = [a for a in check_arms(arms) if a not in ("hardest", "random")]
        drop = (f" drop the arms that do not answer this question ({', '.join(extra)}) before "
                "dropping seeds" if extra else " keep 3 seeds and only what the question needs")
        out.append(f"your design trains {cost} networks ({n} seeds x (baseline + {len(arms)} "
                   f"arm(s){' + reference' if design['reference'] else ''})); the budget is "
                   f"{budget}:{drop}.")
    return out


def check_design_study(answer, *, budget=BUDGET):
    """Check ``answer()``: a dict ``{"seeds": [...], "arms": [...], "reference": bool,
    "decide by": one of DECISIONS}`` describing a study that can answer :data:`QUESTION`
    within ``budget`` trainings (:func:`trainings`): both arms, the no-carrier model, at least
    3 seeds, a decision by the interval over seeds. Every missing piece gets its own hint, then
    a nudge, the idea, and an example design over repeated tries; returns True on pass."""
    from ..pipeline import check_arms, check_seeds

    design = call_answer(
            answer,
            "not done yet: design_study still raises NotImplementedError; return a dict with "
            "the keys 'seeds', 'arms', 'reference' and 'decide by'.")
    if design is NOT_DONE:
        return False
    keys = ("seeds", "arms", "reference", "decide by")
    if not isinstance(design, dict) or any(k not in design for k in keys):
        print(f"hint: return a dict with the keys {', '.join(map(repr, keys))}, e.g. "
              f"{{'seeds': [0], 'arms': ['hardest'], 'reference': False, 'decide by': 'mean'}}; "
              f"got {design!r:.120}.")
        return False
    try:
        check_seeds(design["seeds"])
        check_arms(design["arms"])
        if not isinstance(design["reference"], bool):
            raise TypeError(f"'reference' is True or False; got {design['reference']!r}")
    except (TypeError, ValueError) as exc:
        print(f"hint: {exc}")
        return False
    problems = _problems(design, budget)
    cost = trainings(design)
    if not problems:
        _TRIES["n"] = 0
        print(f"pass: {cost} of {budget} trainings, and the design can answer {QUESTION!r}: "
              f"sl.run_seeds(CFG, {list(design['seeds'])}, arms={list(design['arms'])}) runs it; "
              "report the verdict first, then SMR(hardest) - SMR(random) with its 95% interval "
              "over the seeds.")
        return True
    _TRIES["n"] += 1
    n = _TRIES["n"]
    staged = staged_hint(n, NUDGE, IDEA,
                         f"a design that fits: {EXAMPLE} ({trainings(EXAMPLE)} trainings).")
    listed = " ".join(f"({i}) {p}" for i, p in enumerate(problems, 1))
    print(f"hint: {len(problems)} {'thing' if len(problems) == 1 else 'things'} to fix: {listed} "
          f"{staged}")
    return False


__all__ = ["BUDGET", "DECISIONS", "QUESTION", "check_design_study", "check_make_corner_mask",
           "check_regime_percentile", "corner_mask", "regime_percentile", "trainings"]
