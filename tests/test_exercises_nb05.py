"""Notebook 05's exercise checkers: wrong answers get a hint (the rest: test_exercises.py)."""

import numpy as np
import pytest

from spurlab.exercises import nb05

from .exercise_helpers import solutions

SOL = solutions("nb05")
CHECKERS = {
    "worst_group_accuracy": nb05.check_worst_group_accuracy,
    "group_balanced_accuracy": nb05.check_group_balanced_accuracy,
    "upweight": nb05.check_upweight,
}


def _mean_over_samples(pred, labels, groups):
    return float(np.mean(np.asarray(pred) == np.asarray(labels)))


def _with_empty_groups_as_zero(pred, labels, groups):
    """A classic slip: bincount over all group ids, so empty groups count as accuracy 0."""
    pred, labels, groups = map(np.asarray, (pred, labels, groups))
    correct = np.bincount(groups, weights=(pred == labels).astype(float))
    count = np.bincount(groups)
    return float(np.min(correct / np.maximum(count, 1)))


def _balanced_with_empty_as_zero(pred, labels, groups):
    pred, labels, groups = map(np.asarray, (pred, labels, groups))
    correct = np.bincount(groups, weights=(pred == labels).astype(float))
    count = np.bincount(groups)
    return float(np.mean(correct / np.maximum(count, 1)))


@pytest.mark.parametrize("name, wrong", [
    ("worst_group_accuracy", _mean_over_samples),
    ("worst_group_accuracy", _with_empty_groups_as_zero),
    ("group_balanced_accuracy", _mean_over_samples),
    ("group_balanced_accuracy", _balanced_with_empty_as_zero),
    ("group_balanced_accuracy", lambda p, y, g: SOL.worst_group_accuracy(p, y, g)),
    ("upweight", lambda m, f: np.concatenate([np.arange(len(m)),
                                              np.repeat(np.flatnonzero(m), f)])),
    ("upweight", lambda m, f: np.repeat(np.flatnonzero(m), f)),
    ("upweight", lambda m, f: 1 / 0),
])
def test_wrong_answer_gets_a_hint(name, wrong, capsys):
    assert CHECKERS[name](wrong) is False
    assert "hint" in capsys.readouterr().out
