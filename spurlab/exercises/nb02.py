"""Auto-checks for notebook 02 (a handful of hard samples drive the shortcut).

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

from . import check


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


__all__ = ["check_band_pool", "check_hardest_k", "reference_band_pool", "reference_hardest_k"]
