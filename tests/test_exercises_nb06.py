"""Notebook 06's exercise checkers: the solutions pass, an unfilled stub and wrong answers do not."""

import importlib.util
import pathlib

import numpy as np
import pytest
import torch

from spurlab.exercises import nb06

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _solutions():
    spec = importlib.util.spec_from_file_location("nb06_solutions",
                                                  ROOT / "notebooks" / "solutions" / "nb06.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


SOL = _solutions()
CHECKERS = {
    "make_corner_mask": nb06.check_make_corner_mask,
    "regime_percentile": nb06.check_regime_percentile,
}


@pytest.mark.parametrize("name", sorted(CHECKERS))
def test_solution_passes(name, capsys):
    assert CHECKERS[name](getattr(SOL, name)) is True
    assert "pass" in capsys.readouterr().out


def test_torch_answer_to_the_mask_passes(capsys):
    def as_tensor(h, w, size):
        return torch.from_numpy(SOL.make_corner_mask(h, w, size))

    assert nb06.check_make_corner_mask(as_tensor) is True


@pytest.mark.parametrize("name", sorted(CHECKERS))
def test_stub_is_not_done_yet(name, capsys):
    def stub(*args):
        raise NotImplementedError("Exercise: fill me in")

    assert CHECKERS[name](stub) is False
    assert "not done yet" in capsys.readouterr().out


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

