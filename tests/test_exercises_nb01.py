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
    assert out.count("hint for ") == 6 and "pass" not in out


def test_references_agree_with_the_definitions():
    pred, labels = torch.tensor([4, 4, 1, 4]), torch.tensor([4, 0, 1, 2])
    sol = solutions("nb01")
    assert sol.spurious_rate(pred, labels, 4) == pytest.approx(2 / 3)
    assert sol.accuracy(pred, labels) == 0.5


# --- Exercise 3: is it a shortcut? Judged on the atlas's verdict over seeds.

def _rows(excess, half=0.04):
    """Atlas rows of one point: baseline SMR 0.25, SMR clean 0.02, the no-carrier model
    0.25 - excess, each seed's excess with a 95% interval of +- ``half`` over its test images."""
    return [{"seed": i, "carriers": 40, "smr_baseline": 0.25, "smr_clean_baseline": 0.02,
             "smr_reference": 0.25 - e, "clean_accuracy_baseline": 0.9, "excess_smr": e,
             "excess_lo": e - half, "excess_hi": e + half} for i, e in enumerate(excess)]


class _Atlas:
    seeds = [0, 1, 2, 3, 4]
    grid = {"prune_ratio": [0.1]}

    def __init__(self, excess):
        from spurlab.atlas import Atlas

        self.rows = _rows(excess)
        self.verdict = Atlas.verdict_of(self.rows)

    def point(self, s, q, ratio):
        return {"rows": self.rows, "verdict": self.verdict}


# big SMR, but no seed's excess rises above its interval, and together they do not either
NOISE = _Atlas([0.02, -0.03, 0.01, 0.0, -0.01])
# each seed but one learned it, sizes differ (the t-interval of the mean over seeds includes 0)
REAL = _Atlas([0.18, 0.08, 0.12, -0.03, 0.10])


def test_evidence_is_read_from_the_atlas(capsys):
    e = nb01.evidence(NOISE)
    assert e["smr"]["mean"] == pytest.approx(0.25) and e["minus_clean"].mean == pytest.approx(0.23)
    assert e["minus_clean"].differs and not e["verdict"].learned
    assert [v.learned for v in e["per_seed"]] == [False] * 5
    real = nb01.evidence(REAL)
    assert real["verdict"].learned and real["verdict"].learned_in == 4 and real["verdict"].ci95[0] < 0
    nb01.show_evidence(NOISE)
    out = capsys.readouterr().out
    assert "baseline SMR minus SMR clean, per seed" in out and "learned" not in out   # no verdict
    assert "seed 4: SMR minus the no-carrier model's" in out and "[-0.050, +0.030]" in out


def test_each_mistake_gets_its_hint_in_stages(capsys):
    nb01._TRIES["n"] = 0
    assert nb01.check_is_it_a_shortcut(lambda: ("smr clean", True), atlas=NOISE) is False
    first = capsys.readouterr().out
    assert "a network that never saw a carrier can call" in first and nb01.NUDGE in first
    assert nb01.check_is_it_a_shortcut(lambda: ("no-carrier model", True), atlas=NOISE) is False
    second = capsys.readouterr().out
    assert "read it seed by seed: 0 of 5 seeds" in second and "do not rise above noise" in second
    assert nb01.IDEA in second
    assert nb01.check_is_it_a_shortcut(lambda: ("clean accuracy", False), atlas=NOISE) is False
    third = capsys.readouterr().out
    assert "cannot see the shortcut at all" in third and "the answer: ('no-carrier model', False)" in third
    assert nb01.check_is_it_a_shortcut(lambda: ("Reference", False), atlas=NOISE) is True
    out = capsys.readouterr().out
    assert out.startswith("pass: the no-carrier model decides; no shortcut learned") and "'ring' too" in out
    assert nb01._TRIES["n"] == 0


def test_the_verdict_comes_from_the_atlas_and_names_the_seeds(capsys):
    # every seed but one learned it: not noise, although the interval of the mean reaches 0
    assert nb01.check_is_it_a_shortcut(lambda: ("no-carrier model", False), atlas=REAL) is False
    out = capsys.readouterr().out
    assert "4 of 5 seeds' intervals over their test images lie above 0" in out
    assert nb01.check_is_it_a_shortcut(lambda: ("no-carrier model", True), atlas=REAL) is True
    out = capsys.readouterr().out
    assert "shortcut learned in 4 of 5 seeds" in out and "not learned in seed 3" in out
    assert "the carriers taught the excess, +0.090 on average" in out


def test_learned_said_in_words_is_read_as_the_bool(capsys):
    truth = nb01.evidence()["verdict"].learned
    said, other = ("learned", "not learned") if truth else ("not learned", "learned")
    assert nb01.check_is_it_a_shortcut(lambda: ("no-carrier model", said)) is True
    assert capsys.readouterr().out.startswith("pass")
    assert nb01.check_is_it_a_shortcut(lambda: ("no-carrier model", f"  {other.upper()} ")) is False
    assert capsys.readouterr().out.startswith("hint: the right comparison")


def test_bad_answers_are_named(capsys):
    assert nb01.check_is_it_a_shortcut(lambda: "no-carrier model") is False
    assert "return a pair (comparison, learned)" in capsys.readouterr().out
    assert nb01.check_is_it_a_shortcut(lambda: ("the test set", True)) is False
    out = capsys.readouterr().out
    assert "the comparison is one of 'smr clean', 'no-carrier model', 'clean accuracy'" in out
    assert nb01.check_is_it_a_shortcut(lambda: ("no-carrier model", "maybe")) is False
    assert "learned is True or False (or 'learned' / 'not learned'); got 'maybe'" in \
        capsys.readouterr().out
    assert nb01.check_is_it_a_shortcut(lambda: [][0]) is False
    assert "IndexError" in capsys.readouterr().out


def test_the_shipped_atlas_sets_up_the_lesson():
    # notebook 01's point: far above SMR clean, learned, but most of the SMR is there without carriers
    e = nb01.evidence()
    assert e["minus_clean"].differs and e["verdict"].learned
    assert e["smr_reference"]["mean"] > (e["smr"]["mean"] - e["smr_reference"]["mean"])
