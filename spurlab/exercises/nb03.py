"""Auto-checks for notebook 03 (weak signals hide in plain sight): EL2N from logits and the
two-sample Kolmogorov-Smirnov statistic.

Examples
--------
>>> import numpy as np
>>> def ks_statistic(a, b):
...     a, b = np.sort(a), np.sort(b)
...     grid = np.concatenate([a, b])
...     fa = np.searchsorted(a, grid, side="right") / len(a)
...     fb = np.searchsorted(b, grid, side="right") / len(b)
...     return float(np.max(np.abs(fa - fb)))
>>> check_ks_statistic(ks_statistic)
pass: ks_statistic is correct on all 7 test cases.
True
"""

from __future__ import annotations

import numpy as np
import torch

from ..scores import el2n
from . import check


class _FixedLogits(torch.nn.Module):
    """A stand-in "model" whose output for image ``i`` is row ``i`` of fixed logits, so that
    :func:`spurlab.el2n` (which takes a model and images) can score given logits."""

    def __init__(self, logits):
        super().__init__()
        self.register_buffer("logits", logits.float())
        self.dummy = torch.nn.Parameter(torch.zeros(1))  # el2n asks for the model's device

    def forward(self, x):
        return self.logits[x.reshape(len(x), -1)[:, 0].long()]


def el2n_reference(logits, labels):
    """EL2N of fixed logits through spurlab's own :func:`spurlab.el2n`."""
    logits = torch.as_tensor(logits)
    labels = torch.as_tensor(labels).long()
    index_images = torch.arange(len(logits), dtype=torch.float32).view(-1, 1, 1, 1)
    return el2n(_FixedLogits(logits), index_images, labels)


def _el2n_cases():
    g = torch.Generator().manual_seed(3)
    t = torch.tensor
    return [
        (torch.randn(5, 3, generator=g), t([0, 1, 2, 1, 0])),                # random logits
        (torch.randn(8, 6, generator=g) * 3, torch.randint(0, 6, (8,), generator=g)),
        (t([[20.0, 0.0, 0.0]]), t([0])),                                     # sure and right: ~0
        (t([[0.0, 20.0]]), t([0])),                                          # sure and wrong: ~sqrt(2)
        (t([[1.0, 1.0, 1.0, 1.0]]), t([2])),                                 # uniform output
        (t([[1000.0, 0.0, -1000.0], [0.0, 1000.0, 0.0]]), t([1, 1])),        # huge logits
    ]


def check_el2n_from_logits(fn):
    """Check ``el2n_from_logits(logits, labels)`` against :func:`spurlab.el2n`."""
    return check(lambda z, y: fn(z.clone(), y.clone()), el2n_reference, _el2n_cases(),
                 name="el2n_from_logits", atol=1e-4,
                 hint="turn logits into probabilities with logits.softmax(dim=1) (stable even "
                      "for huge logits, unlike a hand-written exp), subtract the one-hot label "
                      "(torch.nn.functional.one_hot(labels, num_classes=logits.shape[1])) and "
                      "take the L2 norm of each row: .norm(dim=1). Return one value per sample.")


def ks_reference(a, b):
    """Two-sample Kolmogorov-Smirnov statistic: the largest gap between the two empirical CDFs,
    evaluated at every observed value (ties handled)."""
    a = np.sort(np.asarray(a, dtype=float))
    b = np.sort(np.asarray(b, dtype=float))
    grid = np.concatenate([a, b])
    fa = np.searchsorted(a, grid, side="right") / len(a)
    fb = np.searchsorted(b, grid, side="right") / len(b)
    return float(np.max(np.abs(fa - fb)))


def _ks_cases():
    rng = np.random.default_rng(4)
    return [
        (np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 3.0])),           # identical: 0
        (np.array([0.1, 0.2, 0.3]), np.array([0.7, 0.8, 0.9, 1.0])),      # apart: 1
        (np.array([1.0, 2.0, 3.0, 4.0]), np.array([0.5, 2.5])),           # widest gap at b
        (np.array([1.0, 1.0, 2.0, 2.0]), np.array([1.0, 2.0, 2.0, 2.0])),  # ties across samples
        (np.array([0.0, 0.0, 0.0, 1.0]), np.array([0.0, 1.0, 1.0])),      # ties: 0.75 - 1/3
        (rng.normal(0, 1, 200), rng.normal(0.3, 1, 150)),                 # a shift, unequal sizes
        (rng.uniform(0, 1, 50), rng.uniform(0, 1, 80)),                   # same distribution
    ]


def check_ks_statistic(fn):
    """Check ``ks_statistic(a, b)`` against a reference equal to
    ``scipy.stats.ks_2samp(a, b).statistic``."""
    return check(lambda a, b: fn(a.copy(), b.copy()), ks_reference, _ks_cases(),
                 name="ks_statistic",
                 hint="the KS statistic is max |F_a(x) - F_b(x)| over x, where F_a(x) is the "
                      "share of a that is <= x. Evaluate both empirical CDFs at EVERY value of "
                      "a and b (e.g. np.searchsorted(np.sort(a), grid, side='right') / len(a)); "
                      "with ties, count all equal values (side='right'). Return a float in [0, 1].")


__all__ = ["check_el2n_from_logits", "check_ks_statistic", "el2n_reference", "ks_reference"]
