"""Each score is checked against a naive per-sample reference implementation."""

import pytest
import torch
import torch.nn.functional as F

from spurlab import ForgettingTracker, difficulty, el2n, grand, loss_scores, make_model, margin_scores, train
from spurlab.scores import percentile_within


def _trained(num_classes, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(96, 1, 16, 16, generator=g)
    y = torch.arange(96) % num_classes
    x[:, 0, :4] += (y[:, None, None] / num_classes)  # some learnable signal
    x = x.clamp(0, 1)
    m = make_model("tiny", num_classes=num_classes, seed=seed)
    train(m, x, y, epochs=2, batch_size=32, progress=False)
    return m, x, y


@pytest.fixture(scope="module", params=[3, 10])
def setup(request):
    return _trained(request.param)


def _naive_outputs(model, x, y):
    model.eval()
    with torch.no_grad():
        return [model(x[i:i + 1])[0] for i in range(len(x))]


def test_el2n_matches_naive(setup):
    m, x, y = setup
    naive = torch.stack([(F.softmax(z, 0) - F.one_hot(y[i], z.numel()).float()).norm()
                         for i, z in enumerate(_naive_outputs(m, x, y))])
    assert torch.allclose(el2n(m, x, y, batch_size=17), naive, atol=1e-5)


def test_loss_matches_naive(setup):
    m, x, y = setup
    naive = torch.stack([F.cross_entropy(z[None], y[i:i + 1])
                         for i, z in enumerate(_naive_outputs(m, x, y))])
    assert torch.allclose(loss_scores(m, x, y, batch_size=17), naive, atol=1e-5)


def test_margin_matches_naive(setup):
    m, x, y = setup
    naive = []
    for i, z in enumerate(_naive_outputs(m, x, y)):
        other = torch.cat([z[:y[i]], z[y[i] + 1:]])
        naive.append(z[y[i]] - other.max())
    assert torch.allclose(margin_scores(m, x, y), torch.stack(naive), atol=1e-5)
    assert torch.allclose(difficulty(m, x, y, "margin"), -torch.stack(naive), atol=1e-5)


def test_grand_matches_per_sample_backward(setup):
    m, x, y = setup
    m.eval()
    naive = []
    for i in range(len(x)):
        m.zero_grad()
        F.cross_entropy(m(x[i:i + 1]), y[i:i + 1]).backward()
        naive.append(torch.sqrt(sum(p.grad.pow(2).sum() for p in m.parameters())))
    got = grand(m, x, y, batch_size=25)
    assert torch.allclose(got, torch.stack(naive), rtol=1e-4, atol=1e-6)
    assert not m.training


def test_forgetting_events_hand_computed():
    tracker = ForgettingTracker(torch.zeros(4, 1, 8, 8), torch.zeros(4, dtype=torch.long))
    # epochs x samples correctness: s0 learned and kept, s1 forgotten twice, s2 never learned,
    # s3 learned late
    tracker.correct = [torch.tensor(c) for c in ([1, 1, 0, 0], [1, 0, 0, 0], [1, 1, 0, 0],
                                                 [1, 0, 0, 1])]
    tracker.correct = [c.bool() for c in tracker.correct]
    assert tracker.scores().tolist() == [0.0, 2.0, 4.0, 0.0]


def test_forgetting_tracker_records_each_epoch():
    m, x, y = _trained(3)
    tracker = ForgettingTracker(x, y)
    train(make_model("tiny", num_classes=3), x, y, epochs=3, batch_size=32, callback=tracker,
          progress=False)
    assert len(tracker.correct) == 3
    s = tracker.scores()
    assert s.shape == (96,) and (s >= 0).all() and (s <= 3).all()


def test_difficulty_dispatch_and_errors(setup):
    m, x, y = setup
    assert torch.allclose(difficulty(m, x, y, "el2n"), el2n(m, x, y))
    with pytest.raises(ValueError, match="score"):
        difficulty(m, x, y, "gradnorm")
    with pytest.raises(ValueError, match="ForgettingTracker"):
        difficulty(m, x, y, "forgetting")
    with pytest.raises(ValueError, match="labels"):
        el2n(m, x, y[:3])


def test_percentile_within():
    s = [0.0, 1.0, 2.0, 3.0, 10.0]
    assert percentile_within(s, [0, 3], [0, 1, 2, 3]).tolist() == [12.5, 87.5]
