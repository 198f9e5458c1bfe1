"""Solutions to notebook 02's exercises (a handful of hard samples drive the shortcut)."""

import numpy as np


def hardest_k(scores, labels, c1, k):
    """Indices of the ``k`` hardest samples of class ``c1`` (higher score = harder).

    Examples
    --------
    >>> hardest_k(np.array([0.1, 0.9, 0.5, 0.2, 0.7]), np.array([0, 0, 1, 0, 1]), 0, 2)
    array([1, 3])
    """
    scores, labels = np.asarray(scores, dtype=float), np.asarray(labels)
    c1_idx = np.flatnonzero(labels == c1)
    if k <= 0:
        return np.array([], dtype=int)
    order = np.argsort(scores[c1_idx], kind="stable")  # easiest first
    return np.sort(c1_idx[order[-k:]])


def band_pool(scores, labels, c1, lo, hi):
    """Indices of the ``c1`` samples ranked (easiest first) from ``round(lo * n)`` up to, not
    including, ``round(hi * n)`` within ``c1``, where ``n`` is the size of ``c1``.

    Examples
    --------
    >>> band_pool(np.array([0.3, 0.1, 0.4, 0.2, 0.9]), np.array([1, 1, 1, 1, 0]), 1, 0.5, 1.0)
    array([0, 2])
    """
    scores, labels = np.asarray(scores, dtype=float), np.asarray(labels)
    c1_idx = np.flatnonzero(labels == c1)
    n = len(c1_idx)
    order = np.argsort(scores[c1_idx], kind="stable")
    return np.sort(c1_idx[order[round(lo * n):round(hi * n)]])


def worst_band():
    """From which difficulty band K carriers teach the shortcut most: the hardest. An easy ring
    is fit from its shape within an epoch or two, so the line lowers its loss by almost nothing;
    a hard ring (small, faint, cluttered) keeps a high loss, and "line means ring" is the
    cheapest way to fit it (the paper's claim 2; the notebook's sweep measures it).

    Examples
    --------
    >>> worst_band()
    (0.8, 1.0)
    """
    return (0.8, 1.0)
