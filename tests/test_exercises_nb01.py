"""Notebook 01's exercise checkers: wrong answers get a hint (the rest: test_exercises.py)."""

import pytest
import torch

from spurlab.exercises import nb01

from .exercise_helpers import solutions


def test_numpy_style_answers_pass(capsys):
    def accuracy(pred, labels):
        return (pred.numpy() == labels.numpy()).mean()

    def spurious_rate(pred, labels, c1):
        m = labels != c1
        return (pred[m] == c1).sum().item() / m.sum().item()

    assert nb01.check_accuracy(accuracy) is True
    assert nb01.check_spurious_rate(spurious_rate) is True


def test_wrong_answers_get_a_hint(capsys):
    def error_rate(pred, labels):
        return float((pred != labels).float().mean())

    def count_correct(pred, labels):
        return int((pred == labels).sum())

    for fn in (error_rate, count_correct, lambda p, y: None):
        assert nb01.check_accuracy(fn) is False

    def counts_c1_too(pred, labels, c1):  # share of ALL samples predicted c1
        return float((pred == c1).float().mean())

    def wrong_denominator(pred, labels, c1):  # non-c1 predicted c1, over all samples
        return float(((pred == c1) & (labels != c1)).sum() / len(labels))

    def error_rate_on_non_c1(pred, labels, c1):  # any mistake, not only "predicted c1"
        m = labels != c1
        return float((pred[m] != labels[m]).float().mean())

    for fn in (counts_c1_too, wrong_denominator, error_rate_on_non_c1):
        assert nb01.check_spurious_rate(fn) is False
    out = capsys.readouterr().out
    assert out.count("hint") == 6 and "pass" not in out


def test_references_agree_with_the_definitions():
    pred, labels = torch.tensor([4, 4, 1, 4]), torch.tensor([4, 0, 1, 2])
    sol = solutions("nb01")
    assert sol.spurious_rate(pred, labels, 4) == pytest.approx(2 / 3)
    assert sol.accuracy(pred, labels) == 0.5
