"""Solutions to notebook 03 (weak signals hide in plain sight)."""

import numpy as np
import torch.nn.functional as F


def el2n_from_logits(logits, labels):
    """EL2N per sample: ``|| softmax(logits) - onehot(label) ||_2``.

    Examples
    --------
    >>> import torch
    >>> el2n_from_logits(torch.tensor([[0.0, 0.0]]), torch.tensor([0]))
    tensor([0.7071])
    """
    p = logits.softmax(dim=1)
    onehot = F.one_hot(labels, num_classes=logits.shape[1]).to(p.dtype)
    return (p - onehot).norm(dim=1)


def ks_statistic(a, b):
    """Two-sample Kolmogorov-Smirnov statistic: the largest vertical gap between the empirical
    CDFs of ``a`` and ``b`` (0 = same distribution of values, 1 = no overlap).

    Examples
    --------
    >>> ks_statistic(np.array([0.1, 0.2]), np.array([0.8, 0.9]))
    1.0
    """
    a, b = np.sort(np.asarray(a, dtype=float)), np.sort(np.asarray(b, dtype=float))
    grid = np.concatenate([a, b])
    fa = np.searchsorted(a, grid, side="right") / len(a)
    fb = np.searchsorted(b, grid, side="right") / len(b)
    return float(np.max(np.abs(fa - fb)))


def pruned_most():
    """Under the strong signal, pruning the hardest p of every class thins out the c1 samples
    *without* the line most: the bold line makes its carriers easy (high on the data map), so
    the hard tail of c1 holds the non-carriers, the counter-examples.

    Examples
    --------
    >>> pruned_most()
    'non-carriers'
    """
    return "non-carriers"
