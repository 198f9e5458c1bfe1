"""Auto-checks for notebook 02 (a handful of hard samples drive the shortcut): the K hardest
samples of a class, a difficulty band, and a prediction checked on the notebook's band sweep
(from which difficulty band K carriers teach the shortcut most: :func:`check_worst_band`), with
hints aimed at each wrong pick that come in stages (a nudge, the idea, the answer).

Examples
--------
>>> import numpy as np
>>> from spurlab.exercises import nb02
>>> def hardest_k(scores, labels, c1, k):
...     raise NotImplementedError("Exercise: ...")
>>> nb02.check_hardest_k(hardest_k)  # doctest: +ELLIPSIS
not done yet: hardest_k still raises NotImplementedError; ...
False
"""

from __future__ import annotations

import numpy as np
import torch

from . import NOT_DONE, call_answer, check, staged_hint


def _np(x):
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


def _as_index_set(fn):
    """Call the learner's function and return its answer as a sorted int array (any order and
    any array type is accepted)."""

    def wrapped(*args):
        got = fn(*args)
        try:
            arr = _np(got)
            if arr.dtype == bool or not (np.issubdtype(arr.dtype, np.integer) or arr.size == 0):
                raise TypeError
            return np.sort(arr.astype(np.int64).ravel())
        except (TypeError, ValueError):
            raise TypeError(f"return an array of integer indices; got {got!r:.60}") from None

    return wrapped


def reference_hardest_k(scores, labels, c1, k):
    """Indices (sorted) of the ``k`` hardest samples of class ``c1`` (higher score = harder),
    ranked as :func:`spurlab.make_scenario` does for ``placement='hardest'``."""
    s, y = _np(scores).astype(float), _np(labels)
    c1_idx = np.flatnonzero(y == c1)
    order = np.argsort(s[c1_idx], kind="stable")
    return np.sort(c1_idx[order[len(c1_idx) - k:]]) if k > 0 else np.array([], dtype=np.int64)


def reference_band_pool(scores, labels, c1, lo, hi):
    """Indices (sorted) of the ``c1`` samples in the difficulty band ``[lo, hi)`` (fractions of
    ``c1`` ranked easiest first): the pool ``placement='band'`` draws carriers from."""
    s, y = _np(scores).astype(float), _np(labels)
    c1_idx = np.flatnonzero(y == c1)
    n = len(c1_idx)
    order = np.argsort(s[c1_idx], kind="stable")
    return np.sort(c1_idx[order[int(round(lo * n)):int(round(hi * n))]])


def _cases_hardest():
    rng = np.random.default_rng(3)
    s = rng.random(40)
    y = rng.integers(0, 3, 40)
    n1 = int((y == 1).sum())
    return [
        (np.array([0.1, 0.9, 0.5, 0.2, 0.7]), np.array([0, 0, 1, 0, 1]), 0, 2),
        (s, y, 1, 5),
        (s, y, 2, 1),
        (s, y, 1, n1),                      # every sample of the class
        (s, y, 0, 0),                       # none
        (torch.tensor(s), torch.tensor(y), 2, 3),  # torch tensors work too
    ]


def _cases_band():
    rng = np.random.default_rng(4)
    y = rng.integers(0, 3, 60)
    s = rng.random(60) + 0.5 * (y == 1)  # class 1 harder overall: rank within c1, not the set
    return [
        (np.array([0.3, 0.1, 0.4, 0.2, 0.9]), np.array([1, 1, 1, 1, 0]), 1, 0.5, 1.0),
        (s, y, 0, 0.0, 0.2),               # the easiest fifth
        (s, y, 0, 0.8, 1.0),               # the hardest fifth
        (s, y, 1, 0.4, 0.6),
        (s, y, 1, 0.0, 1.0),               # the whole class
        # 8 in c1: round(0.3 * 8) = 2, not where a percentile cut (np.percentile) starts
        (np.array([0.42, 0.11, 0.93, 0.27, 0.65, 0.08, 0.51, 0.74, 0.36, 0.19]),
         np.array([1, 1, 1, 0, 1, 1, 0, 1, 1, 1]), 1, 0.3, 0.6),
    ]


def check_hardest_k(fn):
    """Check ``hardest_k(scores, labels, c1, k)``: indices of the k hardest samples of class
    ``c1`` (any order)."""
    return check(_as_index_set(fn), reference_hardest_k, _cases_hardest(), name="hardest_k",
                 hint="take the indices of class c1 (np.flatnonzero(labels == c1)), sort them by "
                      "score (higher = harder) and keep the last k; k = 0 gives an empty array. "
                      "Return indices into the whole training set, not positions within c1.")


def check_band_pool(fn):
    """Check ``band_pool(scores, labels, c1, lo, hi)``: indices of the ``c1`` samples whose rank
    within ``c1`` (easiest first) lies in ``[round(lo * n), round(hi * n))``."""
    return check(_as_index_set(fn), reference_band_pool, _cases_band(), name="band_pool",
                 hint="rank the c1 samples easiest first (np.argsort(scores[c1_idx])), then keep "
                      "the ranks from round(lo * n) up to, not including, round(hi * n), where "
                      "n is the number of c1 samples; return indices into the whole set.")


# --- Exercise (predict, then check on the sweep): where do K carriers do the most damage?

BANDS = ((0.0, 0.2), (0.2, 0.4), (0.4, 0.6), (0.6, 0.8), (0.8, 1.0))
_TRIES = {"n": 0}

NUDGE = ("think about what a carrier gives the network to learn from. A ring it already "
         "classifies right from its shape: does the line lower its loss at all?")
IDEA = ("the network learns the line where the line pays: on rings it cannot yet fit from their "
        "shape. Easy carriers are fit in an epoch or two without the line; hard carriers (small, "
        "faint, cluttered) keep a high loss, and 'line means ring' is the cheapest way to fit "
        "them. So the same K carriers teach most where the rings are hardest.")


def _band(pick, bands):
    """``pick`` as one of ``bands`` (a pair of fractions, or percentages), else None."""
    try:
        lo, hi = (float(x) for x in pick)
    except (TypeError, ValueError):
        return None
    if hi > 1:                                  # percentiles, e.g. (80, 100)
        lo, hi = lo / 100, hi / 100
    return next((b for b in bands if abs(b[0] - lo) < 1e-9 and abs(b[1] - hi) < 1e-9), None)


def _name(b):
    return f"{b[0] * 100:.0f}-{b[1] * 100:.0f}th percentile"


TIE_SEEDS = 3      # seeds a tie between the two top bands needs before the runner-up passes


def check_worst_band(answer, band_smr=None, bands=BANDS):
    """Check ``answer()``: the difficulty band (one of ``bands``, fractions of c1 ranked easiest
    first) from which K carriers teach the network the shortcut most, judged on the sweep
    ``band_smr`` (bands x seeds, the SMR of each band's run): the band with the highest mean SMR,
    or the runner-up when the 95% interval over at least :data:`TIE_SEEDS` seeds of their
    difference includes 0 (the seeds cannot tell them apart; with fewer seeds the t-interval is
    too wide to tell anything apart, so the band the figure puts highest is the answer). Without
    a sweep, by the paper's claim (the hardest band). Prints
    pass or a hint aimed at the pick (a nudge first, then the idea, then the answer); returns
    True on pass."""
    from ..stats import seed_difference

    bands = [tuple(float(x) for x in b) for b in bands]
    pick = call_answer(
            answer,
            "not done yet: worst_band still raises NotImplementedError; return one of the "
            f"bands, e.g. {bands[0]}.")
    if pick is NOT_DONE:
        return False
    band = _band(pick, bands)
    if band is None:
        print(f"hint: return one of the bands {', '.join(map(str, bands))} (lo, hi as fractions "
              f"of the class, easiest first); got {pick!r}.")
        return False
    if band_smr is None:
        mean, best, said = None, len(bands) - 1, "the paper: the hardest band"
    else:
        smr = np.asarray(band_smr, dtype=float).reshape(len(bands), -1)
        mean = smr.mean(1)
        best = int(np.argmax(mean))
        said = ("mean SMR per band over " + f"{smr.shape[1]} seed(s): "
                + ", ".join(f"{b[0] * 100:.0f}-{b[1] * 100:.0f} {m:.1%}" for b, m in zip(bands, mean)))
    i = bands.index(band)
    # the runner-up passes too when enough seeds cannot tell it from the top band (with 2 seeds
    # the 95% t-interval is 12.7 sds wide: it would excuse any runner-up the figure shows lower)
    tied = (mean is not None and smr.shape[1] >= TIE_SEEDS
            and i == int(np.argsort(-mean, kind="stable")[1])
            and not seed_difference(smr[best] - smr[i])["differs"])
    if i == best or tied:
        _TRIES["n"] = 0
        ratio = "" if mean is None else (
            f"; the same K carriers there do {mean[i] / max(mean[0], 1e-3):.1f}x the damage of "
            "the easiest band's")
        caveat = (f" The {_name(bands[best])} band is higher on average ({mean[best]:.1%} against "
                  f"{mean[i]:.1%}), but the seeds "
                  "do not tell the two apart." if tied else "")
        print(f"pass: the {_name(band)} band ({said}){ratio}.{caveat}")
        return True
    _TRIES["n"] += 1
    if i == 0:
        mistake = ("the easiest rings are fit from their shape in the first epochs: the line "
                   "lowers their loss by almost nothing, so the network has little reason to "
                   "learn it from them.")
    elif i < best:
        mistake = ("harder than the easiest, but not where the line pays most: look for the rings "
                   "the network still cannot fit from their shape.")
    else:
        mistake = "the run put another band above this one."
    if mean is not None and i > 0:
        d = seed_difference(smr[best] - smr[i])
        close = ("" if d["differs"] else
                 f" (with {smr.shape[1]} seeds the figure's highest band is the answer)"
                 if smr.shape[1] < TIE_SEEDS else
                 " (the seeds do not tell the two apart: the interval includes 0)")
        mistake += (f" In this run the {_name(bands[best])} band is higher on "
                    f"average by {d['mean'] * 100:.1f} percentage points{close}.")
    n = _TRIES["n"]
    staged = staged_hint(n, NUDGE, IDEA, f"the answer: {bands[best]} ({said}).")
    print(f"hint: {mistake} {staged}")
    return False


__all__ = ["BANDS", "TIE_SEEDS", "check_band_pool", "check_hardest_k", "check_worst_band",
           "reference_band_pool", "reference_hardest_k"]
