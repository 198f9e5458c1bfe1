"""Auto-checks for notebook 01 (a shortcut the network loves): accuracy and the spurious
misclassification rate.

Examples
--------
>>> def accuracy(pred, labels):
...     return float((pred == labels).float().mean())
>>> check_accuracy(accuracy)
pass: accuracy is correct on all 5 test cases.
True
"""

from __future__ import annotations

import torch

from ..metrics import accuracy as _accuracy
from ..metrics import spurious_misclassification_rate as _smr
from . import check


def _accuracy_cases():
    g = torch.Generator().manual_seed(1)
    t = torch.tensor
    return [
        (t([0, 1, 1]), t([0, 1, 0])),                                  # 2 of 3
        (t([2, 2, 2, 2]), t([2, 2, 2, 2])),                            # all right
        (t([0, 1, 2]), t([1, 2, 0])),                                  # all wrong
        (t([5]), t([5])),                                              # one sample
        (torch.randint(0, 6, (500,), generator=g), torch.randint(0, 6, (500,), generator=g)),
    ]


def check_accuracy(fn):
    """Check ``accuracy(pred, labels)`` against :func:`spurlab.accuracy`."""
    return check(fn, _accuracy, _accuracy_cases(), name="accuracy",
                 hint="accuracy is the share of positions where the prediction equals the label: "
                      "(pred == labels).float().mean(), returned as a float.")


def _smr_cases():
    g = torch.Generator().manual_seed(2)
    t = torch.tensor
    return [
        (t([0, 0, 2, 0]), t([1, 2, 2, 0]), 0),         # 1 of the 3 non-c1 samples predicted c1
        (t([4, 4, 4]), t([0, 1, 2]), 4),               # every non-c1 sample predicted c1: 1
        (t([1, 2, 3]), t([1, 2, 3]), 4),               # none predicted c1: 0
        (t([4, 4, 4, 1]), t([4, 4, 0, 1]), 4),         # c1 samples do not count: 1 of 2
        (torch.randint(0, 6, (400,), generator=g), torch.randint(0, 6, (400,), generator=g), 3),
    ]


def check_spurious_rate(fn):
    """Check ``spurious_rate(pred, labels, c1)`` against
    :func:`spurlab.spurious_misclassification_rate`."""
    return check(fn, _smr, _smr_cases(), name="spurious_rate",
                 hint="look only at the samples whose true label is NOT c1 (labels != c1) and "
                      "return the fraction of them that are predicted c1: "
                      "(pred[labels != c1] == c1).float().mean(). Samples of class c1 itself "
                      "must not count, in the numerator or the denominator.")


__all__ = ["check_accuracy", "check_spurious_rate"]
