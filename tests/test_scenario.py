import numpy as np
import pytest
import torch

from spurlab import Line, make_scenario


def test_random_placement_counts_groups_and_test_sets(small_data):
    tr, te = small_data
    sc = make_scenario(tr, te, Line(salience=0.5), target_class=2, prevalence=0.3, seed=1)
    n_c1 = int((tr.labels == 2).sum())
    assert int(sc.carrier.sum()) == round(0.3 * n_c1)
    assert (tr.labels[sc.carrier] == 2).all()
    assert torch.equal(sc.train_groups, 2 * tr.labels + sc.carrier.long())
    # carriers are stamped, the rest untouched
    assert not torch.equal(sc.train.images[sc.carrier], tr.images[sc.carrier])
    assert torch.equal(sc.train.images[~sc.carrier], tr.images[~sc.carrier])
    # stamped test: every non-c1 test image, stamped
    assert len(sc.stamped_test) == int((te.labels != 2).sum())
    assert (sc.stamped_test.labels != 2).all()
    assert torch.allclose(sc.stamped_test.images[:, 0, 8], 0.5 * te.images[te.labels != 2][:, 0, 8] + 0.5)
    # group test: clean + stamped copies of all test images
    assert len(sc.group_test) == 2 * len(te)
    assert sorted(torch.unique(sc.group_test_groups).tolist()) == list(range(12))
    assert "class 2" in sc.describe()


def test_same_seed_same_carriers(small_data):
    tr, te = small_data
    a = make_scenario(tr, te, "line", 0, 0.4, seed=3).carrier
    b = make_scenario(tr, te, "line", 0, 0.4, seed=3).carrier
    c = make_scenario(tr, te, "line", 0, 0.4, seed=4).carrier
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_hardest_and_easiest_follow_the_scores(small_data):
    tr, te = small_data
    scores = np.random.default_rng(0).random(len(tr))
    c1 = np.flatnonzero(tr.labels.numpy() == 1)
    order = c1[np.argsort(scores[c1])]
    hard = make_scenario(tr, te, "line", 1, placement="hardest", scores=scores, n_carriers=10)
    easy = make_scenario(tr, te, "line", 1, placement="easiest", scores=scores, n_carriers=10)
    assert set(hard.carrier_indices.tolist()) == set(order[-10:].tolist())
    assert set(easy.carrier_indices.tolist()) == set(order[:10].tolist())


def test_default_scores_are_latent_difficulty(small_data):
    tr, te = small_data
    sc = make_scenario(tr, te, "line", 0, 0.2, placement="hardest")
    c1 = tr.labels == 0
    thr = tr.difficulty[sc.carrier].min()
    assert (tr.difficulty[c1 & ~sc.carrier] <= thr).all()


def test_band_placement_stays_in_band(small_data):
    tr, te = small_data
    d = tr.difficulty.numpy()
    c1 = np.flatnonzero(tr.labels.numpy() == 3)
    sc = make_scenario(tr, te, "line", 3, placement="band", band=(0.5, 0.8), n_carriers=15, seed=2)
    pct = np.array([np.mean(d[c1] < d[i]) for i in sc.carrier_indices.tolist()])
    assert len(pct) == 15 and (pct >= 0.49).all() and (pct < 0.81).all()


def test_explicit_indices(small_data):
    tr, te = small_data
    idx = np.flatnonzero(tr.labels.numpy() == 4)[:7]
    sc = make_scenario(tr, te, "patch", 4, placement="indices", indices=idx)
    assert sc.carrier_indices.tolist() == sorted(idx.tolist())


@pytest.mark.parametrize("kwargs,match", [
    (dict(prevalence=1.5), "prevalence"),
    (dict(prevalence=-0.1), "prevalence"),
    (dict(target_class=6), "target_class"),
    (dict(placement="middle"), "placement"),
    (dict(placement="band", band=(0.6, 0.2)), "band"),
    (dict(placement="band", band=(0.0, 0.01), n_carriers=50), "band"),
    (dict(n_carriers=10_000), "n_carriers"),
    (dict(placement="indices"), "indices"),
    (dict(placement="indices", indices=[0, 1, 2, 3, 4, 5, 6, 7]), "target_class"),
    (dict(placement="hardest", scores=np.zeros(3)), "scores"),
])
def test_scenario_errors_name_the_parameter(small_data, kwargs, match):
    tr, te = small_data
    kw = dict(feature="line", target_class=0, prevalence=0.3)
    kw.update(kwargs)
    with pytest.raises(ValueError, match=match):
        make_scenario(tr, te, **kw)


def test_hardest_needs_scores_without_latent_difficulty(small_data):
    tr, te = small_data
    tr2 = tr.subset(np.arange(len(tr)))
    tr2.difficulty = None
    with pytest.raises(ValueError, match="needs scores"):
        make_scenario(tr2, te, "line", 0, 0.3, placement="hardest")
