"""Notebook 04's exercise checkers: wrong answers get a hint (the rest: test_exercises.py)."""

import math

import numpy as np

from spurlab.exercises import nb04

from .exercise_helpers import solutions


def test_wrong_answers_get_a_hint(capsys):
    def returns_pruned(scores, labels, ratio):  # the removed samples instead of the kept ones
        keep = solutions("nb04").prune_hardest_per_class(scores, labels, ratio)
        return np.setdiff1d(np.arange(len(labels)), keep)

    def global_not_per_class(scores, labels, ratio):
        n = round(ratio * len(labels))
        order = np.argsort(-np.asarray(scores))
        return np.sort(order[n:])

    def ratio_of_excess(base, pruned, ref):  # forgets to subtract the reference
        return (base - pruned) / base

    def no_nan(base, pruned, ref):
        return (base - pruned) / (base - ref)

    assert nb04.check_prune_hardest_per_class(returns_pruned) is False
    assert nb04.check_prune_hardest_per_class(global_not_per_class) is False
    assert nb04.check_excess_removed(ratio_of_excess) is False
    assert nb04.check_excess_removed(no_nan) is False
    assert nb04.check_excess_removed(lambda *a: None) is False
    out = capsys.readouterr().out
    assert out.count("hint for") == 5 and "pass" not in out


def test_reference_excess_matches_result():
    assert math.isnan(nb04.reference_excess_removed(0.02, 0.01, 0.02))
    assert nb04.reference_excess_removed(0.2, 0.02, 0.02) == 1.0
