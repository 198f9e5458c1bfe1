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
