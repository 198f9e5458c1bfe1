"""The last-layer arms (DFR, AFR-style): their maths, their held-out split, their label-usage tags
in every table, and their refusals."""

import numpy as np
import pytest
import torch

import spurlab as sl
from spurlab import lastlayer as ll
from spurlab.arms import labels_used, parse_arm
from spurlab.build import held_out
from spurlab.report import seeds_table

SMOKE = sl.preset("smoke")


def _model():
    torch.manual_seed(0)
    return sl.TinyCNN(in_channels=1, num_classes=3, image_size=16).eval()


def test_a_head_written_back_from_standardised_features_predicts_the_same():
    m, x = _model(), torch.rand(40, 1, 16, 16)
    z, scale = ll.standardise(ll.penultimate(m, x))
    W, b = ll._standardised_head(ll.last_linear(m), *scale)
    new = ll._with_head(m, W, b, scale).eval()
    assert torch.allclose(m(x), new(x), atol=1e-5)
    assert new is not m and ll.last_linear(new) is not ll.last_linear(m)


def test_fit_linear_separates_separable_features_and_honours_weights():
    rng = np.random.default_rng(0)
    z = torch.tensor(rng.normal(size=(200, 4)))
    y = (z[:, 0] > 0).long()
    W, b = ll.fit_linear(z, y, 2, l2=1e-4)
    assert ((z @ W.T + b).argmax(1) == y).float().mean() > 0.97
    # all the weight on one class: the fit predicts that class almost everywhere
    w = (y == 1).double() + 1e-9
    W1, b1 = ll.fit_linear(z, y, 2, weights=w, l2=1e-2)
    assert ((z @ W1.T + b1).argmax(1) == 1).float().mean() > 0.9


def test_afr_weights_give_every_class_the_same_total_and_favour_the_unsure():
    m, x = _model(), torch.rand(60, 1, 16, 16)
    y = torch.arange(60) % 3
    w = ll.afr_weights(m, x, y, gamma=4.0)
    totals = [float(w[y == c].sum()) for c in range(3)]
    assert np.allclose(totals, 1 / 3)
    p = torch.softmax(m(x).double(), 1)[torch.arange(60), y]
    inside = y == 0
    order = torch.argsort(p[inside])
    assert (w[inside][order].diff() <= 1e-12).all()      # lower belief, larger weight


def test_dfr_balances_the_groups_of_its_split(monkeypatch):
    m, x = _model(), torch.rand(70, 1, 16, 16)
    y = torch.arange(70) % 3
    g = torch.cat([torch.zeros(50, dtype=torch.long), torch.ones(20, dtype=torch.long)])
    seen = []
    real = ll.fit_linear
    monkeypatch.setattr(ll, "fit_linear", lambda z, lab, k, **kw: seen.append(len(lab))
                        or real(z, lab, k, **kw))
    ll.dfr(m, x, y, g, seed=0)
    assert seen == [40] * ll.LAST_LAYER["dfr_subsets"]          # 20 of each group


def test_the_held_out_split_is_new_images_drawn_like_the_data():
    like, gv, groups = held_out(SMOKE)
    sc = sl.build_scenario(SMOKE)
    assert len(like) == max(SMOKE.n_train // 5, 60)
    assert not any(torch.equal(like.images[0], im) for im in sc.train.images)
    c1 = like.labels == sc.target_class
    stamped = groups % 2 == 1
    assert (groups // 2 == gv.labels).all() and stamped.float().mean() == 0.5
    assert 0 < like.labels[c1].numel()
    assert held_out(SMOKE) is held_out(SMOKE)                  # cached


@pytest.fixture(scope="module")
def runs():
    return sl.run_seeds(SMOKE, [0, 1], arms=["hardest", "hardest/oracle", "jtt", "dfr", "afr"])


def test_dfr_and_afr_run_through_the_engine_with_their_tags(runs):
    r = runs[0]
    assert r.arms["dfr"].labels_used == "validation" and r.arms["afr"].labels_used == "none"
    assert r.arms["hardest/oracle"].labels_used == "training"
    assert r.arms["dfr"].pruned == () and r.arms["dfr"].n_kept == SMOKE.n_train
    # a last-layer arm keeps ERM's features: its clean accuracy stays near ERM's
    assert abs(r.arms["afr"].metrics.clean_accuracy - r.baseline.clean_accuracy) < 0.2
    assert parse_arm("dfr") == ("dfr", "class") and labels_used("afr") == "none"


def test_every_table_carries_the_label_usage_tags(runs):
    table = runs[0].table()
    for line, tag in (("last layer dfr", "validation"), ("last layer afr", "none"),
                      ("prune hardest/oracle p=", "training"), ("baseline (ERM)", "none")):
        row = next(x for x in table.splitlines() if x.startswith(line))
        assert row[28:].split()[0] == tag, row
    many = seeds_table(runs, ["hardest", "dfr", "afr", "jtt"])
    for line, tag in (("last layer dfr", "validation"), ("upweight jtt", "none")):
        row = next(x for x in many.splitlines() if x.startswith(line))
        assert row.split()[len(line.split())] == tag, row
    assert "groups: the group labels" in table and "groups: the group labels" in many


def test_same_seed_same_last_layer():
    a = sl.arm(SMOKE, "dfr", cache=False).metrics
    b = sl.arm(SMOKE, "dfr", cache=False).metrics
    assert a == b


def test_last_layer_arms_without_a_held_out_split_are_refused_before_training(monkeypatch):
    import spurlab.recipe as recipe

    monkeypatch.setattr(recipe, "fit", lambda *a, **k: pytest.fail("trained before refusing"))
    with pytest.raises(ValueError, match="dataset must be generated .* got 'digits'"):
        sl.run(SMOKE.replace(dataset="digits", image_size=8), arms=["dfr"])
    sc = sl.build_scenario(SMOKE)
    with pytest.raises(ValueError, match="arm 'afr' needs a held-out split .* custom scenario"):
        sl.run(SMOKE, scenario=sc, arms=["afr"])
    with pytest.raises(ValueError, match="does not prune"):
        sl.prune_arm("dfr", np.zeros(10), np.zeros(10, int), 0.1)
