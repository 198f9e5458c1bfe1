"""Metrics that users confuse, each defined once.

- **accuracy** (average accuracy): share of correct predictions over the test set *as it is*.
- **spurious misclassification rate** (SMR): share of test images of classes other than ``c1``
  that are predicted ``c1`` once the spurious feature is stamped on them; its **clean baseline**
  is the same share on the unstamped images.
- **SMR by class**: the same share within each other class alone; the CIFAR-10S reference code
  reports one of them, the **automobile probe**: how many of the 1,000 stamped automobile test
  images are predicted airplane (class 1 of the SMR by class, times its count).
- **group accuracy**: accuracy within each group ``2 * class + has_feature``.
- **worst-group accuracy**: the minimum over non-empty groups.
- **group-balanced accuracy**: the unweighted mean over non-empty groups.

Empty groups have accuracy NaN and are left out of the worst-group and balanced figures.
"""

from __future__ import annotations

import numpy as np

from ._validate import as_class_array, check_finite_values, check_int


def _pair(pred, labels):
    """Predicted and true classes as 1-D int64 arrays of equal length (integers only)."""
    pred, labels = as_class_array("pred", pred), as_class_array("labels", labels)
    if pred.shape != labels.shape:
        raise ValueError(f"pred and labels must have equal length; got {len(pred)} predictions "
                         f"and {len(labels)} labels")
    return pred, labels


def accuracy(pred, labels):
    """Average accuracy over the samples given (NaN when there are none).

    Examples
    --------
    >>> accuracy([0, 1, 1], [0, 1, 0])
    0.6666666666666666
    """
    pred, labels = _pair(pred, labels)
    return float(np.mean(pred == labels)) if len(pred) else float("nan")


def spurious_misclassification_rate(pred, labels, target_class):
    """Share of samples whose label is not ``target_class`` that are predicted ``target_class``.

    Pass the predictions on the *stamped* non-c1 test images for the SMR, on the clean ones for
    its baseline.

    Examples
    --------
    >>> spurious_misclassification_rate([0, 0, 2, 0], [1, 2, 2, 0], target_class=0)
    0.6666666666666666
    """
    target_class = check_int("target_class", target_class, low=0)
    pred, labels = _pair(pred, labels)
    m = labels != target_class
    if not m.any():
        raise ValueError(f"no sample has a label other than target_class={target_class}")
    return float(np.mean(pred[m] == target_class))


def smr_by_class(pred, labels, target_class, num_classes):
    """The SMR within each class: the share of class ``k``'s samples predicted
    ``target_class``, for every ``k`` (``None`` for ``target_class`` itself and for classes
    without samples). Their mean weighted by the class counts is the SMR.

    Examples
    --------
    >>> smr_by_class([0, 0, 2, 0], [1, 2, 2, 0], target_class=0, num_classes=3)
    (None, 1.0, 0.5)
    """
    target_class = check_int("target_class", target_class, low=0)
    num_classes = check_int("num_classes", num_classes, low=target_class + 1)
    pred, labels = _pair(pred, labels)
    out = []
    for k in range(num_classes):
        m = labels == k
        out.append(None if k == target_class or not m.any()
                   else float(np.mean(pred[m] == target_class)))
    return tuple(out)


def group_accuracies(pred, labels, groups, num_groups=None):
    """Accuracy in each group ``0..num_groups-1`` as a float array (NaN for empty groups).

    Examples
    --------
    >>> group_accuracies([0, 1, 1], [0, 1, 0], [0, 2, 1], num_groups=4).tolist()
    [1.0, 0.0, 1.0, nan]
    """
    pred, labels = _pair(pred, labels)
    groups = as_class_array("groups", groups)
    if groups.shape != pred.shape:
        raise ValueError(f"groups must have one group id per prediction, shape {pred.shape}; "
                         f"got {groups.shape}")
    if num_groups is None:
        G = int(groups.max()) + 1 if len(groups) else 0
    else:
        G = check_int("num_groups", num_groups, low=1)
    if len(groups) and groups.max() >= G:
        raise ValueError(f"groups must be group ids in [0, {G - 1}] (num_groups={G}); got "
                         f"{int(groups.max())}")
    correct = np.bincount(groups, weights=(pred == labels).astype(float), minlength=G)
    count = np.bincount(groups, minlength=G).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, correct / np.maximum(count, 1), np.nan)


def worst_group_accuracy(pred, labels, groups, num_groups=None):
    """Minimum accuracy over non-empty groups."""
    acc = group_accuracies(pred, labels, groups, num_groups)
    return float(np.nanmin(acc)) if np.isfinite(acc).any() else float("nan")


def group_balanced_accuracy(pred, labels, groups, num_groups=None):
    """Unweighted mean of the accuracies of the non-empty groups."""
    acc = group_accuracies(pred, labels, groups, num_groups)
    return float(np.nanmean(acc)) if np.isfinite(acc).any() else float("nan")


def average_accuracy(pred, labels, groups=None, weights=None):
    """Average accuracy over the test set as it is, or, with ``weights`` (one per group, e.g.
    the training group proportions), the weighted mean of the group accuracies.

    Examples
    --------
    >>> average_accuracy([0, 1, 1, 1], [0, 1, 0, 0], groups=[0, 1, 1, 1], weights=[0.5, 0.5])
    0.6666666666666666
    """
    if weights is None:
        return accuracy(pred, labels)
    if groups is None:
        raise ValueError("groups must be given with weights= (one group id per prediction); got None")
    w = check_finite_values("weights", weights, low=0).double().numpy()
    if w.ndim != 1:
        raise ValueError(f"weights must be 1-D, one weight per group; got shape {w.shape}")
    acc = group_accuracies(pred, labels, groups, len(w))
    ok = np.isfinite(acc) & (w > 0)
    if not ok.any():
        return float("nan")
    return float(np.sum(acc[ok] * w[ok]) / np.sum(w[ok]))
