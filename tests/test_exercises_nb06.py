"""Notebook 06's exercise checkers: wrong answers get a hint (the rest: test_exercises.py)."""

import numpy as np
import pytest
import torch

from spurlab.exercises import nb06

from .exercise_helpers import solutions

SOL = solutions("nb06")
CHECKERS = {
    "make_corner_mask": nb06.check_make_corner_mask,
    "regime_percentile": nb06.check_regime_percentile,
}


def test_torch_answer_to_the_mask_passes(capsys):
    def as_tensor(h, w, size):
        return torch.from_numpy(SOL.make_corner_mask(h, w, size))

    assert nb06.check_make_corner_mask(as_tensor) is True


def _strict_percentile(scores, carrier, labels, c1):
    """A classic slip: ties not counted half (strictly lower only)."""
    scores, carrier, labels = np.asarray(scores), np.asarray(carrier, bool), np.asarray(labels)
    if not carrier.any():
        return float("nan")
    ref = scores[labels == c1]
    return float(np.mean([100 * np.sum(ref < v) / len(ref) for v in scores[carrier]]))


def _all_classes_percentile(scores, carrier, labels, c1):
    """Another slip: ranking the carriers among every training sample, not class c1 only."""
    scores, carrier = np.asarray(scores), np.asarray(carrier, bool)
    return SOL.regime_percentile(scores, carrier, np.zeros(len(scores), int), 0)


@pytest.mark.parametrize("name, wrong", [
    ("make_corner_mask", lambda h, w, s: SOL.make_corner_mask(h, w, s).T),
    ("make_corner_mask", lambda h, w, s: SOL.make_corner_mask(h, w, s + 1)),
    ("make_corner_mask", lambda h, w, s: np.tril(np.ones((h, w)))[::-1]),
    ("regime_percentile", _strict_percentile),
    ("regime_percentile", _all_classes_percentile),
    ("regime_percentile", lambda s, c, y, c1: 50.0),
])
def test_wrong_answer_gets_a_hint(name, wrong, capsys):
    assert CHECKERS[name](wrong) is False
    assert "hint" in capsys.readouterr().out

