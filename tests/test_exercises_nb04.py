"""Notebook 04's exercise checkers: the solutions pass, an unfilled stub and wrong answers don't."""

import importlib.util
import math
import pathlib

import numpy as np

from spurlab.exercises import nb04

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _solutions():
    spec = importlib.util.spec_from_file_location("sol_nb04", ROOT / "notebooks" / "solutions"
                                                  / "nb04.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _stub(*args):
    raise NotImplementedError("Exercise: ...")


def test_solutions_pass(capsys):
    sol = _solutions()
    assert nb04.check_prune_hardest_per_class(sol.prune_hardest_per_class) is True
    assert nb04.check_excess_removed(sol.excess_removed) is True
    out = capsys.readouterr().out
    assert out.count("pass") == 2 and "hint" not in out


def test_stubs_are_not_done_yet(capsys):
    assert nb04.check_prune_hardest_per_class(_stub) is False
    assert nb04.check_excess_removed(_stub) is False
    out = capsys.readouterr().out
    assert out.count("not done yet") == 2 and "pass" not in out


def test_wrong_answers_get_a_hint(capsys):
    def returns_pruned(scores, labels, ratio):  # the removed samples instead of the kept ones
        keep = _solutions().prune_hardest_per_class(scores, labels, ratio)
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
