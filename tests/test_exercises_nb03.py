"""Notebook 03's exercise checkers: the solutions pass, an unfilled stub and wrong answers don't;
the references match spurlab and scipy."""

import numpy as np
import pytest
import torch

from spurlab.exercises import nb03


def test_wrong_answers_get_a_hint(capsys):
    def naive_softmax(logits, labels):  # overflows on huge logits
        e = torch.exp(logits)
        p = e / e.sum(1, keepdim=True)
        return (p - torch.nn.functional.one_hot(labels, logits.shape[1])).norm(dim=1)

    def on_logits(logits, labels):  # forgets the softmax
        return (logits - torch.nn.functional.one_hot(labels, logits.shape[1])).norm(dim=1)

    def squared(logits, labels):  # squared distance, not the norm
        p = logits.softmax(1)
        return (p - torch.nn.functional.one_hot(labels, logits.shape[1])).pow(2).sum(1)

    def mean_only(logits, labels):  # one number instead of one per sample
        p = logits.softmax(1)
        return (p - torch.nn.functional.one_hot(labels, logits.shape[1])).norm(dim=1).mean()

    for fn in (naive_softmax, on_logits, squared, mean_only):
        assert nb03.check_el2n_from_logits(fn) is False

    def gap_of_means(a, b):
        return float(abs(np.mean(a) - np.mean(b)))

    def only_at_a(a, b):  # CDFs evaluated at the values of a only
        a, b = np.sort(a), np.sort(b)
        return float(np.max(np.abs(np.searchsorted(a, a, side="right") / len(a)
                                   - np.searchsorted(b, a, side="right") / len(b))))

    def one_sided(a, b):  # max of F_a - F_b without the absolute value
        a, b = np.sort(a), np.sort(b)
        grid = np.concatenate([a, b])
        return float(np.max(np.searchsorted(a, grid, side="right") / len(a)
                            - np.searchsorted(b, grid, side="right") / len(b)))

    for fn in (gap_of_means, only_at_a, one_sided, lambda a, b: None):
        assert nb03.check_ks_statistic(fn) is False
    out = capsys.readouterr().out
    assert out.count("hint") == 8 and "pass" not in out


def test_el2n_reference_is_spurlab_el2n_of_a_model():
    from spurlab import el2n, make_model
    model = make_model("tiny", in_channels=1, num_classes=6, image_size=16, seed=0).eval()
    x, y = torch.rand(7, 1, 16, 16), torch.randint(0, 6, (7,))
    with torch.no_grad():
        logits = model(x)
    assert torch.allclose(nb03.el2n_reference(logits, y), el2n(model, x, y), atol=1e-5)


def test_ks_reference_matches_scipy():
    stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(0)
    for a, b in [(rng.normal(size=30), rng.normal(0.5, 1, 45)),
                 (rng.integers(0, 4, 20).astype(float), rng.integers(0, 4, 33).astype(float))]:
        assert nb03.ks_reference(a, b) == pytest.approx(stats.ks_2samp(a, b).statistic)


# --- the interpretation exercise: which group does pruning the hardest thin out most?

def _strong_like(seed=0):
    """A hand-made recording like the strong signal's: class 4's carriers are easy (low EL2N),
    its non-carriers hard; 10 samples in each of classes 0 and 4."""
    from spurlab import Config
    from spurlab.dynamics import Dynamics

    rng = np.random.default_rng(seed)
    groups = np.array([8] * 4 + [9] * 6 + [0] * 10)                 # 4 non-carriers, 6 carriers
    el2n = np.r_[rng.uniform(0.8, 1.2, 4), rng.uniform(0.0, 0.3, 6), rng.uniform(0, 1, 10)]
    return Dynamics(epochs=[1], confidence=[np.clip(1 - el2n, 0, 1)], correct=[el2n < 0.7],
                    el2n=[el2n], groups=groups, config=Config(score_epoch=1))


def test_pruned_shares_follow_the_hard_tail():
    shares = nb03.pruned_shares([_strong_like(0), _strong_like(1)], 0.3)
    # 30% of class 4 (3 of 10) are its 3 hardest: non-carriers; class 0 loses 3 of 10
    assert shares == {"carriers": 0.0, "non-carriers": 0.75, "other classes": 0.3}


def test_the_pick_is_judged_on_the_recordings_with_staged_hints(capsys):
    runs = [_strong_like(0), _strong_like(1)]
    nb03._TRIES["n"] = 0
    assert nb03.check_pruned_most(lambda: "carriers", runs, 0.3) is False
    first = capsys.readouterr().out
    assert "sit high on the strong-signal map" in first and nb03.NUDGE in first
    assert nb03.check_pruned_most(lambda: "other classes", runs, 0.3) is False
    second = capsys.readouterr().out
    assert "pruning is per class" in second and nb03.IDEA in second
    assert nb03.check_pruned_most(lambda: "carriers", runs, 0.3) is False
    third = capsys.readouterr().out
    assert "the answer: 'non-carriers'" in third and "75% of the non-carriers" in third
    assert nb03.check_pruned_most(lambda: "Non-Carriers", runs, 0.3) is True    # any spelling
    out = capsys.readouterr().out
    assert out.startswith("pass: the non-carriers.") and "0% of the carriers" in out
    assert nb03._TRIES["n"] == 0                                               # reset on a pass


def test_the_truth_comes_from_the_data_not_a_fixed_answer(capsys):
    # the same set with the roles swapped: the carriers are now the hard ones
    d = _strong_like(0)
    swapped = type(d)(epochs=d.epochs, confidence=d.confidence, correct=d.correct, el2n=d.el2n,
                      groups=np.where(d.groups // 2 == 4, 17 - d.groups, d.groups), config=d.config)
    nb03._TRIES["n"] = 0
    assert nb03.check_pruned_most(lambda: "non-carriers", swapped, 0.3) is False
    assert "not the group pruning thins out most" in capsys.readouterr().out
    assert nb03.check_pruned_most(lambda: "carriers", swapped, 0.3) is True


def test_bad_answers_are_named(capsys):
    assert nb03.check_pruned_most(lambda: "rings") is False
    assert "return one of 'carriers', 'non-carriers', 'other classes'; got 'rings'" in capsys.readouterr().out
    assert nb03.check_pruned_most(lambda: 2) is False
    assert "got 2" in capsys.readouterr().out
    assert nb03.check_pruned_most(lambda: 1 / 0) is False
    assert "ZeroDivisionError" in capsys.readouterr().out
    # without recordings: judged by the mechanism (the non-carriers), no numbers
    assert nb03.check_pruned_most(lambda: "non-carriers") is True
    assert "% of the" not in capsys.readouterr().out
