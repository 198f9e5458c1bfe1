"""Solutions to the exercises of notebook 05 (*When you know the spurious attribute*).

Examples
--------
>>> import numpy as np
>>> worst_group_accuracy(np.array([0, 1, 1]), np.array([0, 1, 0]), np.array([0, 2, 1]))
0.0
>>> upweight(np.array([False, True, False]), 3).tolist()
[0, 1, 2, 1, 1]
"""

import numpy as np


def _group_accuracies(pred, labels, groups):
    """Accuracy of each group that has samples (groups without samples are left out)."""
    pred, labels, groups = np.asarray(pred), np.asarray(labels), np.asarray(groups)
    return np.array([np.mean(pred[groups == g] == labels[groups == g])
                     for g in np.unique(groups)])


def worst_group_accuracy(pred, labels, groups):
    """Minimum accuracy over the groups that have samples."""
    return float(np.min(_group_accuracies(pred, labels, groups)))


def group_balanced_accuracy(pred, labels, groups):
    """Unweighted mean of the accuracies of the groups that have samples."""
    return float(np.mean(_group_accuracies(pred, labels, groups)))


def upweight(error_mask, factor):
    """Indices 0..N-1 once, plus ``factor - 1`` extra copies of every misclassified index."""
    error_mask = np.asarray(error_mask, dtype=bool)
    extra = np.repeat(np.flatnonzero(error_mask), factor - 1)
    return np.concatenate([np.arange(len(error_mask)), extra])
