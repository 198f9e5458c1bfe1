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


# --- forgetting per presentation (Toneva et al.) -------------------------------------------

def _feed(tracker, idx, pred, labels):
    tracker.batch_callback(torch.tensor(idx), torch.tensor(pred), torch.tensor(labels))


def test_presentation_forgetting_hand_computed():
    labels = [0, 1, 2]
    t = ForgettingTracker(torch.zeros(3, 1, 8, 8), torch.tensor(labels), per="presentation")
    # s0: right, wrong, right, wrong -> 2 events; s1: never right -> the maximum (4
    # presentations); s2: presented twice (right, right) -> 0
    _feed(t, [0, 1, 2], [0, 0, 2], labels)
    _feed(t, [1, 0], [2, 1], [1, 0])           # any order: indices say which sample is which
    _feed(t, [2, 0, 1], [2, 0, 0], [2, 0, 1])
    _feed(t, [0, 1], [2, 2], [0, 1])
    assert t.presentations.tolist() == [4, 4, 2]
    s = t.scores()
    assert s.dtype == torch.float32 and s.tolist() == [2.0, 4.0, 0.0]


def test_presentation_forgetting_from_logits_and_first_presentation():
    t = ForgettingTracker(torch.zeros(2, 1, 8, 8), torch.tensor([0, 1]), per="presentation")
    right = torch.tensor([[5.0, 0.0], [0.0, 5.0]])   # argmax = label
    t.batch_callback(torch.tensor([0, 1]), 1 - right, torch.tensor([0, 1]))   # both wrong
    t.batch_callback(torch.tensor([0, 1]), right, torch.tensor([0, 1]))       # both right
    # a first presentation that is wrong is no event; wrong -> right is no event
    assert t.scores().tolist() == [0.0, 0.0]
    t.batch_callback(torch.tensor([1]), torch.tensor([[5.0, 0.0]]), torch.tensor([1]))
    assert t.scores().tolist() == [0.0, 1.0]


def _toneva_reference(records, n):
    """Toneva et al.'s count from a list of (indices, predictions, labels) batches, by loops."""
    acc = [[] for _ in range(n)]
    for idx, pred, lab in records:
        for i, p, y in zip(idx.tolist(), pred.tolist(), lab.tolist()):
            acc[i].append(int(p == y))
    most = max(len(a) for a in acc)
    out = []
    for a in acc:
        if not any(a):
            out.append(float(most))
        else:
            out.append(float(sum(1 for u, v in zip(a, a[1:]) if u == 1 and v == 0)))
    return out


def test_presentation_tracker_on_a_real_training_run():
    _, x, y = _trained(3)
    tracker = ForgettingTracker(x, y, per="presentation")
    records = []

    def both(idx, logits, labels):
        records.append((idx.clone(), logits.argmax(1), labels.clone()))
        tracker.batch_callback(idx, logits, labels)

    train(make_model("tiny", num_classes=3), x, y, epochs=3, batch_size=32, batch_callback=both,
          progress=False)
    assert len(records) == 3 * 3                   # 96 samples / 32 per batch, 3 epochs
    for e in range(3):                             # each epoch presents every sample once ...
        idx = torch.cat([r[0] for r in records[3 * e:3 * e + 3]])
        assert sorted(idx.tolist()) == list(range(96))
    assert all(torch.equal(lab, y[idx]) for idx, _, lab in records)   # ... with its own label
    s = tracker.scores()
    assert s.shape == (96,) and s.dtype == torch.float32
    assert (s >= 0).all() and (s <= 3).all()
    assert tracker.presentations.tolist() == [3] * 96
    assert s.tolist() == _toneva_reference(records, 96)


def test_batch_callback_leaves_training_bit_identical(small_data):
    tr, _ = small_data
    x, y = tr.images[:250], tr.labels[:250]       # 250 = 7 x 32 + 26: a short last batch
    runs = []
    for with_cb in (False, True):
        m = make_model(seed=3)
        kw = {}
        if with_cb:
            tracker = ForgettingTracker(x, y, per="presentation")
            kw["batch_callback"] = tracker.batch_callback
        hist = train(m, x, y, epochs=2, batch_size=32, seed=3, progress=False, **kw)
        runs.append((hist, {k: v.clone() for k, v in m.state_dict().items()}))
    (h0, s0), (h1, s1) = runs
    assert h0 == h1
    assert s0.keys() == s1.keys() and all(torch.equal(s0[k], s1[k]) for k in s0)
    assert tracker.presentations.sum() > 0


def test_forgetting_tracker_argument_errors(small_data):
    tr, _ = small_data
    x, y = torch.zeros(3, 1, 8, 8), torch.tensor([0, 1, 2])
    with pytest.raises(ValueError, match=r"per must be one of 'epoch', 'presentation'; got 'batch'"):
        ForgettingTracker(x, y, per="batch")
    with pytest.raises(ValueError, match="batch_size"):
        ForgettingTracker(x, y, per="presentation", batch_size=0)
    with pytest.raises(TypeError, match="batch_callback must be callable"):
        train(make_model(), tr.images, tr.labels, epochs=1, batch_callback=3, progress=False)
    epoch = ForgettingTracker(x, y)
    with pytest.raises(ValueError, match="callback="):
        epoch.batch_callback(torch.tensor([0]), torch.tensor([0]), torch.tensor([0]))
    t = ForgettingTracker(x, y, per="presentation")
    with pytest.raises(ValueError, match="batch_callback="):
        t(1, make_model())
    with pytest.raises(ValueError, match="recorded no batch"):
        t.scores()
    bad = [
        ((torch.tensor([0, 3]), torch.tensor([0, 1]), torch.tensor([0, 1])), ValueError,
         r"indices must be positions .* 0\.\.2; got values from 0 to 3"),
        ((torch.tensor([1, 1]), torch.tensor([1, 1]), torch.tensor([1, 1])), ValueError,
         "must not repeat"),
        ((torch.tensor([0.0]), torch.tensor([0]), torch.tensor([0])), ValueError,
         "indices must be a 1-D integer tensor"),
        ((torch.tensor([0, 1]), torch.tensor([0, 1]), torch.tensor([1, 1])), ValueError,
         "labels do not match"),
        ((torch.tensor([0, 1]), torch.tensor([0, 1]), torch.tensor([0])), ValueError,
         r"labels must be an integer tensor of shape \(2,\)"),
        ((torch.tensor([0, 1]), torch.zeros(3, 2), torch.tensor([0, 1])), ValueError,
         r"outputs must be logits of shape \(2, num_classes\)"),
        ((torch.tensor([0, 1]), torch.tensor([0.0, 1.0]), torch.tensor([0, 1])), ValueError,
         "outputs must be logits"),
        (([0, 1], torch.tensor([0, 1]), torch.tensor([0, 1])), TypeError,
         "indices must be a torch.Tensor"),
    ]
    for args, exc, match in bad:
        with pytest.raises(exc, match=match):
            t.batch_callback(*args)
    assert t.presentations is None                 # nothing bad was recorded


def test_fit_passes_batch_callback_for_the_per_presentation_count(small_data):
    """The one training recipe (sl.fit) takes the per-presentation tracker: every sample is
    presented once per epoch, and the count is the same as through train() with that recipe."""
    import spurlab as sl

    cfg = sl.preset("smoke", epochs=2, score_epoch=1)
    x, y = small_data[0].images[:200], small_data[0].labels[:200]
    via_fit = ForgettingTracker(x, y, per="presentation")
    sl.fit(cfg, x, y, batch_callback=via_fit.batch_callback)
    assert via_fit.presentations.min() >= 1 and int(via_fit.presentations.max()) == 2
    again = ForgettingTracker(x, y, per="presentation")
    sl.fit(cfg, x, y, batch_callback=again.batch_callback)
    assert torch.equal(via_fit.scores(), again.scores())          # same seed, same count
