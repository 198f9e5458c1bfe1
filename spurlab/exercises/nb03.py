"""Auto-checks for notebook 03 (weak signals hide in plain sight): EL2N from logits, the
two-sample Kolmogorov-Smirnov statistic, and an interpretation exercise on the data map (which
group pruning the hardest samples of every class thins out most), judged on the notebook's own
recordings, with hints aimed at each wrong pick that come in stages (a nudge, the idea, the answer).

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
from . import NOT_DONE, check, picked, staged_hint


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


# --- the interpretation exercise: which group does pruning the hardest thin out most?

GROUPS = ("carriers", "non-carriers", "other classes")
_SPELLINGS = {"carriers": "carriers", "carrier": "carriers", "c1carriers": "carriers",
              "noncarriers": "non-carriers", "noncarrier": "non-carriers",
              "c1noncarriers": "non-carriers", "otherclasses": "other classes",
              "otherclass": "other classes", "others": "other classes"}
_TRIES = {"n": 0}

NUDGE = ("look at the strong-signal data map: the black rings are the samples that would be pruned. "
         "Which colour do they circle, compared with how many points of that colour there are?")
IDEA = ("pruning is per class, so every class as a whole loses the same share p; the question is how "
        "that share falls *inside* c1. The strong line makes its carriers easy (high on the map), "
        "and pruning takes the least confident, hardest samples.")
MISTAKE = {
    "carriers": "the carriers (orange) sit high on the strong-signal map: the line makes them easy "
                "from the first epochs, and pruning the hardest takes the samples at the bottom.",
    "other classes": "every class loses the same share p of its samples (pruning is per class), so "
                     "the other classes lose exactly p; inside c1 the cut is not shared evenly.",
    "non-carriers": "under this signal the c1 samples without the feature are not the group "
                    "pruning thins out most; compare each group's share pruned.",
}


def pruned_shares(dynamics, prune_ratio):
    """Share of each group's own members that pruning the hardest ``prune_ratio`` of every class
    by early EL2N removes, averaged over the recordings (one per seed): a dict over
    :data:`GROUPS`."""
    from ..dynamics import Dynamics
    from ..prune import prune

    runs = [dynamics] if isinstance(dynamics, Dynamics) else list(dynamics)
    shares = {g: [] for g in GROUPS}
    for d in runs:
        cut = np.ones(len(d.groups), dtype=bool)
        cut[prune(d.el2n[d.config.score_epoch - 1].astype(np.float64), d.labels, prune_ratio)] = False
        c1 = d.labels == d.target_class
        for g, mask in zip(GROUPS, (c1 & d.carrier, c1 & ~d.carrier, ~c1)):
            shares[g].append(float(cut[mask].mean()) if mask.any() else np.nan)
    return {g: float(np.nanmean(v)) for g, v in shares.items()}


def check_pruned_most(answer, dynamics=None, prune_ratio=0.25):
    """Check ``answer()``: the group (one of :data:`GROUPS`) of which pruning the hardest
    ``prune_ratio`` of every class removes the largest share of its own members.

    With ``dynamics`` (the strong-signal recordings, one per seed) the truth is read from them;
    without, it is the mechanism notebook 03 shows under a strong signal (the non-carriers).
    Prints pass or a hint (a nudge first, then the idea, then the answer); returns True on pass.
    """
    pick = picked(answer, "pruned_most", GROUPS, _SPELLINGS)
    if pick is NOT_DONE:
        return False
    shares = None if dynamics is None else pruned_shares(dynamics, prune_ratio)
    truth = "non-carriers" if shares is None else max(GROUPS, key=lambda g: shares[g])
    numbers = "" if shares is None else (" Pruning the hardest {:.0%} of every class removes ".format(
        prune_ratio) + ", ".join(f"{shares[g]:.0%} of the {g}" for g in GROUPS) + ".")
    if pick == truth:
        _TRIES["n"] = 0
        why = (" It removes a larger share of the counter-examples (c1 samples without the feature) "
               "than of the carriers: how pruning the hardest loses its grip under a strong signal "
               "(notebook 04)."
               if truth == "non-carriers" else "")
        print(f"pass: the {truth}.{numbers}{why}")
        return True
    _TRIES["n"] += 1
    staged = staged_hint(_TRIES["n"], NUDGE, IDEA, f"the answer: {truth!r}.{numbers}")
    print(f"hint: {MISTAKE[pick]} {staged}")
    return False


__all__ = ["GROUPS", "check_el2n_from_logits", "check_ks_statistic", "check_pruned_most",
           "el2n_reference", "ks_reference", "pruned_shares"]
