"""Notebook 05's exercise checkers: the solutions pass, an unfilled stub and wrong answers do not."""

import importlib.util
import pathlib

import numpy as np
import pytest

from spurlab.exercises import nb05

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _solutions():
    spec = importlib.util.spec_from_file_location("nb05_solutions",
                                                  ROOT / "notebooks" / "solutions" / "nb05.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


SOL = _solutions()
CHECKERS = {
    "worst_group_accuracy": nb05.check_worst_group_accuracy,
    "group_balanced_accuracy": nb05.check_group_balanced_accuracy,
    "upweight": nb05.check_upweight,
}


@pytest.mark.parametrize("name", sorted(CHECKERS))
def test_solution_passes(name, capsys):
    assert CHECKERS[name](getattr(SOL, name)) is True
    assert "pass" in capsys.readouterr().out


@pytest.mark.parametrize("name", sorted(CHECKERS))
def test_stub_is_not_done_yet(name, capsys):
    def stub(*args):
        raise NotImplementedError("Exercise: fill me in")

    assert CHECKERS[name](stub) is False
    assert "not done yet" in capsys.readouterr().out


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
