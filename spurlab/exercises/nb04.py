"""Auto-checks for notebook 04 (severing the shortcut by pruning).

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
from . import check
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
                 hint="the excess is smr_base - smr_ref (what the carriers added over a model "
                      "that never saw the feature). Return (smr_base - smr_pruned) / excess, or "
                      "float('nan') when there is no excess (excess <= 0).")


__all__ = ["check_excess_removed", "check_prune_hardest_per_class",
           "reference_excess_removed", "reference_prune_hardest_per_class"]
