"""Auto-checks for notebook 00 (start here): stamping the line and measuring prevalence.

Examples
--------
>>> import torch
>>> def stamp_line(images, salience):
...     out = images.clone()
...     row = images.shape[-2] // 2
...     out[:, :, row, :] = (1 - salience) * out[:, :, row, :] + salience * 1.0
...     return out
>>> check_stamp_line(stamp_line)
pass: stamp_line is correct on all 6 test cases.
True
"""

from __future__ import annotations

import functools

import numpy as np
import torch

from ..catalog import load_dataset
from ..features import Line
from ..scenario import make_scenario
from . import check


def _as_tensor(x):
    return x if isinstance(x, torch.Tensor) else torch.as_tensor(np.asarray(x))


def _stamp_cases():
    g = torch.Generator().manual_seed(0)
    return [
        (torch.zeros(2, 1, 16, 16), 0.5),                       # black images, half opacity
        (torch.rand(3, 1, 16, 16, generator=g), 0.3),           # random greyscale
        (torch.rand(2, 1, 16, 16, generator=g), 0.0),           # salience 0: unchanged
        (torch.rand(2, 1, 16, 16, generator=g), 1.0),           # salience 1: a white row
        (torch.rand(1, 1, 15, 15, generator=g), 0.7),           # odd size: row 15 // 2 = 7
        (torch.rand(2, 3, 8, 8, generator=g), 0.4),             # colour: every channel
    ]


def _stamp_reference(images, salience):
    return Line(salience=salience).apply(images)


def check_stamp_line(fn):
    """Check ``stamp_line(images, salience)`` against ``spurlab.Line(salience=s).apply``.

    The learner's function gets a copy of each test batch, so changing it in place does no harm
    (but the function must *return* the stamped images).
    """
    return check(lambda images, s: fn(images.clone(), s), _stamp_reference, _stamp_cases(),
                 name="stamp_line",
                 hint="blend only the centre row H // 2 (images.shape[-2] // 2) of every image and "
                      "every channel toward white: new = (1 - salience) * old + salience * 1.0; "
                      "leave the other rows as they are and return the new (N, C, H, W) tensor.")


def _prevalence_reference(labels, carrier, c1):
    labels, carrier = _as_tensor(labels), _as_tensor(carrier).bool()
    in_c1 = labels == c1
    if not bool(in_c1.any()):
        return float("nan")
    return float(carrier[in_c1].float().mean())


@functools.lru_cache(maxsize=1)
def _real_case():
    train, test = load_dataset("shapes", n_train=600, n_test=60, seed=0)
    sc = make_scenario(train, test, Line(salience=0.5), target_class=4, prevalence=0.3, seed=0)
    return sc.train.labels, sc.carrier


def _prevalence_cases():
    labels, carrier = _real_case()
    t = torch.tensor
    return [
        (t([0, 1, 1, 1, 2]), t([False, True, False, False, False]), 1),  # 1 of 3 -> 1/3
        (t([4, 4, 4, 4]), t([True, True, True, True]), 4),               # all carry: 1
        (t([4, 0, 4, 0]), t([False, False, False, False]), 4),           # none carry: 0
        (t([2, 3, 2, 3, 3]), t([True, True, False, False, False]), 3),   # a carrier of class 2
        (labels.clone(), carrier.clone(), 4),                            # a real scenario: 0.3
    ]


def check_prevalence_of(fn):
    """Check ``prevalence_of(labels, carrier, c1)``: the share of class-``c1`` samples that
    carry the feature (carriers of other classes do not count)."""
    return check(fn, _prevalence_reference, _prevalence_cases(), name="prevalence_of",
                 hint="keep only the samples whose label is c1 (labels == c1), then return the "
                      "fraction of those that carry the feature, as a float: "
                      "carrier[labels == c1].float().mean().")


__all__ = ["check_stamp_line", "check_prevalence_of"]
