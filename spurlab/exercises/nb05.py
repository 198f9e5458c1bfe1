"""Auto-checks for notebook 05 (*When you know the spurious attribute*).

Three exercises: the two group metrics of the identifiable setting and JTT-style upweighting.

- :func:`check_worst_group_accuracy`: ``worst_group_accuracy(pred, labels, groups)``, the
  minimum accuracy over the groups that have samples;
- :func:`check_group_balanced_accuracy`: ``group_balanced_accuracy(pred, labels, groups)``, the
  unweighted mean accuracy over the groups that have samples;
- :func:`check_upweight`: ``upweight(error_mask, factor)``, the training indices with every
  misclassified sample repeated ``factor`` times in total (the order does not matter).

Each checker compares with spurlab's own implementation (:mod:`spurlab.metrics`,
:func:`spurlab.reweight.upweight_indices`) on small cases, including a group with no samples,
prints ``pass`` or a hint, and returns ``True`` or ``False``; it never raises.

Examples
--------
>>> from spurlab.metrics import worst_group_accuracy
>>> ok = check_worst_group_accuracy(lambda p, y, g: worst_group_accuracy(p, y, g))
pass: worst_group_accuracy is correct on all 6 test cases.
"""

from __future__ import annotations

import numpy as np

from ..metrics import group_balanced_accuracy as _balanced
from ..metrics import worst_group_accuracy as _worst
from ..reweight import upweight_indices
from . import check


def _group_cases():
    """(pred, labels, groups) triples; groups follow ``2 * class + has_feature``."""
    a = np.array
    return [
        # two classes, all four groups present, one group entirely wrong
        (a([0, 0, 1, 1, 1, 0]), a([0, 0, 1, 1, 0, 1]), a([0, 1, 2, 3, 1, 3])),
        # a large easy group and a tiny hard group: average and worst differ a lot
        (a([0] * 8 + [1, 0]), a([0] * 8 + [0, 0]), a([0] * 8 + [1, 1])),
        # empty groups: 1 and 2 never occur (labels 0 and 1, only groups 0 and 3)
        (a([0, 1, 1, 0, 1]), a([0, 0, 1, 1, 1]), a([0, 0, 3, 3, 3])),
        # a single group
        (a([2, 2, 1]), a([2, 2, 2]), a([4, 4, 4])),
        # every prediction right
        (a([0, 1, 2, 0, 1, 2]), a([0, 1, 2, 0, 1, 2]), a([0, 2, 4, 1, 3, 5])),
        # three classes, stamped copies mostly sent to class 2 (the spurious class)
        (a([0, 2, 1, 2, 2, 2, 0, 1]), a([0, 0, 1, 1, 2, 2, 0, 1]), a([0, 1, 2, 3, 4, 5, 0, 2])),
    ]


def check_worst_group_accuracy(fn):
    """Check ``fn(pred, labels, groups)`` against :func:`spurlab.metrics.worst_group_accuracy`.

    Parameters
    ----------
    fn : callable
        The learner's ``worst_group_accuracy(pred, labels, groups)`` on 1-D integer numpy
        arrays, returning a float.

    Returns
    -------
    bool
        ``True`` when every case matches.
    """
    return check(fn, lambda p, y, g: _worst(p, y, g), _group_cases(), name="worst_group_accuracy",
                 hint="compute the accuracy inside each group that has samples (skip group ids "
                      "with no sample: 0/0 is not an accuracy), then take the minimum over "
                      "those groups, not over the samples.")


def check_group_balanced_accuracy(fn):
    """Check ``fn(pred, labels, groups)`` against
    :func:`spurlab.metrics.group_balanced_accuracy`.

    Parameters
    ----------
    fn : callable
        The learner's ``group_balanced_accuracy(pred, labels, groups)`` on 1-D integer numpy
        arrays, returning a float.

    Returns
    -------
    bool
        ``True`` when every case matches.
    """
    return check(fn, lambda p, y, g: _balanced(p, y, g), _group_cases(),
                 name="group_balanced_accuracy",
                 hint="average the per-group accuracies with equal weight per group (a group "
                      "of 2 samples counts as much as a group of 200), over the groups that have "
                      "samples only; the plain mean of pred == labels is the average accuracy, "
                      "a different number.")


def _sorted_ints(x):
    return np.sort(np.asarray(x).astype(np.int64))


def check_upweight(fn):
    """Check ``fn(error_mask, factor)`` against :func:`spurlab.reweight.upweight_indices`.

    The order of the returned indices does not matter (training shuffles them), so both
    answers are sorted before comparing.

    Parameters
    ----------
    fn : callable
        The learner's ``upweight(error_mask, factor)``: ``error_mask`` a 1-D boolean numpy
        array, ``factor`` an int >= 1; returns the integer indices of the upweighted
        training set.

    Returns
    -------
    bool
        ``True`` when every case matches.
    """
    a = np.array
    cases = [
        (a([False, True, False]), 3),
        (a([True, False, True, False]), 2),
        (a([False, False, False]), 5),       # nothing misclassified: plain ERM
        (a([True, True]), 4),                # everything misclassified
        (a([False, True, True, False, True]), 1),  # factor 1: no extra copies
    ]

    def learner(mask, factor):
        return _sorted_ints(fn(mask.copy(), factor))

    def reference(mask, factor):
        return _sorted_ints(upweight_indices(mask, factor))

    return check(learner, reference, cases, name="upweight",
                 hint="keep every index 0..N-1 once, then add factor - 1 extra copies of each "
                      "misclassified index (np.flatnonzero and np.repeat help); factor counts "
                      "the copies in total, so factor=1 means no extra copy.")
