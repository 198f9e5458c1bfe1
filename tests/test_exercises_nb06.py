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



# --- Exercise 3: design a study on a budget; each missing piece gets its own hint

def _design(**changes):
    d = {"seeds": [0, 1, 2], "arms": ["hardest", "random"], "reference": True, "decide by": "interval"}
    return lambda: {**d, **changes}


@pytest.mark.parametrize("changes, said", [
    ({"arms": ["random", "easiest"]}, "the arm 'hardest' must run"),
    ({"arms": ["hardest"]}, "without the random control"),
    ({"reference": False}, "without the no-carrier model (reference=True) there is no verdict"),
    ({"seeds": [0, 1]}, "with 2 seeds the 95% interval reaches 12.7 standard errors"),
    ({"seeds": [7]}, "with one seed there is no spread at all"),
    ({"decide by": "mean"}, "a lower mean over a few seeds can be luck"),
    ({"decide by": "lower in every seed"}, "'lower in every seed' is a weaker claim"),
    ({"decide by": "vibes"}, "'decide by' is one of 'interval', 'mean', 'every seed'"),
    # free text that names the interval only to reject it, or names two rules, is never read as
    # "interval" (it once passed)
    ({"decide by": "no interval, just the mean"}, "'decide by' is one of"),
    ({"decide by": "the mean, not the interval"}, "'decide by' is one of"),
    ({"decide by": "without an interval"}, "'decide by' is one of"),
    ({"decide by": "interval or mean"}, "'decide by' is one of"),
    ({"arms": ["hardest", "random", "easiest"]}, "trains 15 networks (3 seeds x (baseline + 3 arm(s) "
                                                 "+ reference)); the budget is 12: drop the arms "
                                                 "that do not answer this question (easiest)"),
    ({"seeds": [0, 1, 2, 3]}, "trains 16 networks"),
])
def test_each_missing_piece_gets_its_hint(changes, said, capsys):
    assert nb06.check_design_study(_design(**changes)) is False
    out = capsys.readouterr().out
    assert out.startswith("hint: 1 thing to fix: (1) ") and said in out


def test_every_problem_is_listed_and_hints_stage(capsys):
    nb06._TRIES["n"] = 0
    bad = _design(seeds=[0, 1], arms=["hardest", "easiest"], reference=False, **{"decide by": "mean"})
    assert nb06.check_design_study(bad) is False
    first = capsys.readouterr().out
    assert "4 things to fix" in first and "(4) a lower mean" in first and nb06.NUDGE in first
    assert nb06.check_design_study(bad) is False
    assert nb06.IDEA in capsys.readouterr().out
    assert nb06.check_design_study(bad) is False
    assert "a design that fits: {'seeds': [0, 1, 2]" in capsys.readouterr().out
    assert nb06.check_design_study(_design(**{"decide by": "the 95% confidence interval"})) is True
    assert capsys.readouterr().out.startswith("pass: 12 of 12 trainings")
    assert nb06._TRIES["n"] == 0


def test_the_budget_and_the_cost_come_from_the_design(capsys):
    assert nb06.trainings({"seeds": [0, 1, 2, 3], "arms": ["hardest", "random", "easiest"],
                           "reference": True}) == 20
    four = _design(seeds=[0, 1, 2, 3], arms=["hardest", "random", "hardest/sparing"])
    assert nb06.check_design_study(four, budget=20) is True     # a bigger budget: more fits
    assert nb06.check_design_study(four) is False
    assert "(hardest/sparing)" in capsys.readouterr().out


def test_bad_designs_are_named(capsys):
    for bad, said in [(lambda: ["hardest", "random"], "return a dict with the keys"),
                      (_design(seeds=[0, 0, 1]), "must be distinct"),
                      (_design(arms=["hardest", "rand"]), "'rand'"),
                      (_design(arms="hardest"), "arms must be a list"),
                      (_design(reference="yes"), "'reference' is True or False"),
                      (lambda: {}.pop("seeds"), "KeyError")]:
        assert nb06.check_design_study(bad) is False
        assert said in capsys.readouterr().out
