"""spurlab.dynamics (per-sample training dynamics, data maps) and notebook 03's figures built on
them: shapes, determinism, the engine's cache, exact data-map values, argument checks."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import spurlab as sl  # noqa: E402
from spurlab.cache import CACHE  # noqa: E402
from spurlab.dynamics import (  # noqa: E402
    DataMap,
    Dynamics,
    carrier_gap,
    carrier_separation,
    data_map,
    hardest_of_class,
    pooled_p,
)
from spurlab.exercises.nb03 import ks_reference  # noqa: E402
from spurlab.plotting import carrier_ranking, data_map_plot, group_trajectories  # noqa: E402

from .conftest import patch_fit, real_fit  # noqa: E402

CFG = sl.preset("smoke", n_train=120, n_test=60)          # 3 epochs, scored after epoch 2


@pytest.fixture
def count_fits(monkeypatch):
    """Count the trainings: spurlab.recipe.fit, wrapped wherever the engine calls it."""
    calls = []
    real = real_fit()

    def counted(*args, **kwargs):
        calls.append(kwargs.get("desc"))
        return real(*args, **kwargs)

    patch_fit(monkeypatch, counted)
    return calls


@pytest.fixture
def fresh_memory(monkeypatch):
    """An empty engine memory for this test (restored afterwards)."""
    monkeypatch.setattr(CACHE, "memory", {})


def _hand_made(**changes):
    kw = dict(epochs=[1, 2, 3], confidence=[[0.2, 0.9, 0.5, 0.1], [0.6, 0.9, 0.5, 0.4],
                                            [0.7, 0.9, 0.8, 0.1]],
              correct=[[0, 1, 1, 0], [1, 1, 0, 0], [1, 1, 1, 0]],
              el2n=[[1.0, 0.1, 0.6, 1.2], [0.5, 0.1, 0.6, 0.8], [0.4, 0.1, 0.3, 1.2]],
              groups=[8, 9, 8, 2], config=sl.Config(score_epoch=2))
    return Dynamics(**(kw | changes))


def test_recording_has_one_row_per_epoch_and_is_read_only(fresh_memory):
    d = sl.training_dynamics(CFG, epochs=2)
    n = CFG.n_train
    assert d.epochs.tolist() == [1, 2]
    assert d.confidence.shape == d.correct.shape == d.el2n.shape == (2, n)
    assert d.confidence.dtype == d.el2n.dtype == np.float32 and d.correct.dtype == bool
    assert d.groups.shape == (n,) and d.groups.dtype == np.int64 and d.target_class == CFG.target_class
    assert d.config == CFG and d.carrier.sum() > 0 and set(d.labels.tolist()) == set(range(6))
    assert ((d.confidence >= 0) & (d.confidence <= 1)).all()
    # EL2N >= 1 - p(true label), and a sample above one half is classified correctly
    assert (d.el2n >= 1 - d.confidence - 1e-5).all()
    assert d.correct[d.confidence > 0.5].all()
    with pytest.raises(ValueError):
        d.el2n[0, 0] = 1.0
    assert "2 epochs x 120 samples" in repr(d)
    assert sl.training_dynamics(CFG).epochs.tolist() == [1, 2, 3]     # default: min(epochs, max(5, 2))


@pytest.mark.filterwarnings("ignore:the scoring model is degenerate:RuntimeWarning")
def test_el2n_at_the_score_epoch_is_the_baselines(fresh_memory):
    d = sl.training_dynamics(CFG)
    base = sl.baseline(CFG)
    np.testing.assert_allclose(d.el2n[CFG.score_epoch - 1], base.scores, atol=1e-5)
    np.testing.assert_array_equal(~d.correct[CFG.score_epoch - 1], base.errors)
    np.testing.assert_array_equal(d.groups, sl.build_scenario(CFG).train_groups.numpy())


def test_same_seed_same_numbers_another_seed_others(monkeypatch):
    a = sl.training_dynamics(CFG, epochs=2)
    monkeypatch.setattr(CACHE, "memory", {})                   # forget it: train again
    b = sl.training_dynamics(CFG, epochs=2)
    assert a is not b
    for name in ("confidence", "correct", "el2n", "groups"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    c = sl.training_dynamics(CFG.replace(seed=1), epochs=2)
    assert not np.array_equal(a.el2n, c.el2n)


def test_a_second_call_reads_the_cache(fresh_memory, count_fits):
    d = sl.training_dynamics(CFG, epochs=2)
    assert count_fits == ["dynamics"]
    assert sl.training_dynamics(CFG, epochs=2) is d
    # knobs the recording does not depend on: the same arrays, the caller's config
    other = sl.training_dynamics(CFG.replace(prune_ratio=0.4, score_epoch=1), epochs=2)
    assert other.config.prune_ratio == 0.4 and other.el2n is not None
    np.testing.assert_array_equal(other.el2n, d.el2n)
    assert count_fits == ["dynamics"]
    sl.training_dynamics(CFG, epochs=1)                        # another length: recorded anew
    sl.training_dynamics(CFG.replace(salience=0.9), epochs=2)  # other data: recorded anew
    assert count_fits == ["dynamics"] * 3
    assert sl.cache_info()["dynamics"] == 3


def test_the_disk_cache_returns_the_same_arrays_without_training(tmp_path, monkeypatch,
                                                                 count_fits):
    monkeypatch.setattr(CACHE, "memory", {})
    d = sl.training_dynamics(CFG, epochs=2, cache_dir=tmp_path)
    files = list(tmp_path.glob("dynamics-*.json"))
    assert len(files) == 1
    monkeypatch.setattr(CACHE, "memory", {})                   # a new session
    again = sl.training_dynamics(CFG, epochs=2, cache_dir=tmp_path)
    assert count_fits == ["dynamics"]
    for name in ("confidence", "correct", "el2n", "groups", "epochs"):
        np.testing.assert_array_equal(getattr(again, name), getattr(d, name))
    assert again.target_class == d.target_class and again.config == CFG
    import json
    assert json.loads(files[0].read_text())["payload"]["config"]["n_train"] == CFG.n_train


def test_a_custom_scenario_is_keyed_by_its_content(fresh_memory, count_fits):
    sc = sl.build_scenario(CFG)
    d = sl.training_dynamics(CFG, scenario=sc, epochs=1)
    np.testing.assert_array_equal(d.groups, sc.train_groups.numpy())
    sl.training_dynamics(CFG, scenario=sc, epochs=1)
    assert count_fits == ["dynamics"]


def test_data_map_values_are_exact():
    d = _hand_made()
    m = data_map(d)
    conf = np.array([[0.2, 0.9, 0.5, 0.1], [0.6, 0.9, 0.5, 0.4], [0.7, 0.9, 0.8, 0.1]])
    np.testing.assert_allclose(m.confidence, conf.mean(0), rtol=1e-6)
    np.testing.assert_allclose(m.variability, conf.std(0), rtol=1e-5, atol=1e-7)   # ddof = 0
    np.testing.assert_allclose(m.correctness, [2 / 3, 1.0, 2 / 3, 0.0])
    assert m.epochs == 3
    m2 = data_map(d, upto=2)
    np.testing.assert_allclose(m2.confidence, [0.4, 0.9, 0.5, 0.25], rtol=1e-6)
    np.testing.assert_allclose(m2.variability, [0.2, 0.0, 0.0, 0.15], atol=1e-6)
    np.testing.assert_allclose(m2.correctness, [0.5, 1.0, 0.5, 0.0])


def test_carrier_gap_and_hardest_of_class():
    d = _hand_made()
    # class 4: samples 0 and 2 without the feature, sample 1 with it; sample 3 is class 1
    assert carrier_gap(d) == pytest.approx(0.9 - (0.5 + 0.6) / 2, abs=1e-6)
    assert carrier_gap(d, "correctness") == pytest.approx(1 - 2 / 3)
    assert np.isnan(carrier_gap(_hand_made(groups=[8, 8, 8, 2])))          # no carriers
    # at the score epoch (2) the EL2N of class 4 is 0.5, 0.1, 0.6: the hardest third is sample 2
    assert hardest_of_class(d, 0.34).tolist() == [False, False, True, False]
    assert hardest_of_class(d, 0.34, epoch=3).tolist() == [True, False, False, False]
    keep = sl.prune(d.el2n[1].astype(float), d.labels, 0.34, classes=[4])
    assert set(np.flatnonzero(hardest_of_class(d, 0.34))) == set(range(4)) - set(keep.tolist())


@pytest.mark.parametrize("kw,err,match", [
    ({"epochs": 0}, ValueError, r"epochs must be an integer in \[1, 3\], got 0"),
    ({"epochs": 4}, ValueError, r"epochs must be an integer in \[1, 3\], got 4"),
    ({"epochs": 2.0}, TypeError, "epochs must be an integer"),
    ({"scenario": "shapes"}, TypeError, "scenario must be a spurlab Scenario"),
])
def test_training_dynamics_refuses_bad_arguments_before_training(kw, err, match, count_fits):
    with pytest.raises(err, match=match):
        sl.training_dynamics(CFG, **kw)
    assert count_fits == []


def test_bad_recordings_and_arguments_are_named():
    d = _hand_made()
    with pytest.raises(ValueError, match=r"upto must be an integer in \[1, 3\], got 4"):
        data_map(d, upto=4)
    with pytest.raises(TypeError, match="dynamics must be a Dynamics"):
        data_map({"confidence": [[0.5]]})
    with pytest.raises(ValueError, match=r"el2n must be shaped \(epochs, samples\) = \(3, 4\)"):
        _hand_made(el2n=[[0.1] * 4])
    with pytest.raises(ValueError, match=r"confidence must be probabilities in \[0, 1\]"):
        _hand_made(confidence=[[1.5] * 4] * 3)
    with pytest.raises(ValueError, match="epochs must be 1, 2, ..., E"):
        _hand_made(epochs=[2, 3, 4])
    with pytest.raises(TypeError, match="config must be a spurlab Config"):
        _hand_made(config="smoke")
    with pytest.raises(ValueError, match="measure must be one of"):
        carrier_gap(d, "loss")
    with pytest.raises(ValueError, match=r"ratio must be in \[0, 1\)"):
        hardest_of_class(d, 1.0)
    with pytest.raises(ValueError, match=r"epoch must be an integer in \[1, 3\], got 5"):
        hardest_of_class(d, 0.2, epoch=5)


def test_carrier_separation_is_a_permutation_test():
    rng = np.random.default_rng(0)
    s, car = rng.normal(size=300), np.arange(300) < 90
    out = carrier_separation(s, car, permutations=100, seed=3)
    assert out["ks"] == pytest.approx(ks_reference(s[car], s[~car]))
    assert out["null"].shape == (100,) and 0 < out["p"] <= 1
    assert out["p"] == (1 + np.sum(out["null"] >= out["ks"])) / 101
    assert out["ks_chance"] == pytest.approx(np.quantile(out["null"], 0.95))
    np.testing.assert_array_equal(out["null"], carrier_separation(s, car, permutations=100, seed=3)["null"])
    shifted = carrier_separation(s + 1.5 * car, car, permutations=100, seed=3)
    assert shifted["p"] == 1 / 101 and shifted["ks"] > shifted["ks_chance"]
    for kw, match in [({"carrier": car[:10]}, "same length"),
                      ({"carrier": np.ones(300, bool)}, "at least one"),
                      ({"permutations": 0}, r"permutations must be an integer in \[1, inf\]")]:
        with pytest.raises(ValueError, match=match):
            carrier_separation(**({"scores": s, "carrier": car} | kw))


def test_pooled_p_averages_the_seeds_nulls_draw_by_draw():
    assert pooled_p([0.5, 0.6], [[0.1, 0.2, 0.7], [0.2, 0.1, 0.5]]) == 0.5
    assert pooled_p([0.5, 0.6], [[0.1, 0.2, 0.7], [0.2, 0.1, 0.3]]) == 0.25
    with pytest.raises(ValueError, match="one value per seed"):
        pooled_p([0.5], [[0.1], [0.2]])
    with pytest.raises(ValueError, match="all of the same length"):
        pooled_p([0.5, 0.6], [[0.1, 0.2], [0.2]])


def _labelled(ax):
    return ax.get_xlabel() and ax.get_ylabel() and ax.get_title()


def test_figures_return_a_takeaway_and_label_their_axes():
    d = _hand_made()
    fig, axes = plt.subplots(1, 3)
    take = data_map_plot(axes[0], data_map(d), d.groups, 4, pruned=hardest_of_class(d, 0.34),
                         boundary=0.5, class_name="ring")
    assert take.startswith("Takeaway:") and "'ring'" in take and "\n" not in take
    assert "0.90" in take and "0% are carriers (33% of 'ring')" in take
    # boundary=True: as many class-4 samples below it as are pruned (1): the least confident, 0.5
    data_map_plot(axes[0], data_map(d), d.groups, 4, pruned=hardest_of_class(d, 0.34), boundary=True)
    assert axes[0].get_lines()[-1].get_ydata()[0] == pytest.approx(0.5)
    assert axes[0].get_lines()[-1].get_label() == "as many least confident below (1)"
    take = group_trajectories(axes[1], [d, d], score="confidence")
    assert take.startswith("Takeaway: after epoch 2, mean confidence") and "(2 seeds)" in take
    assert len(axes[1].get_lines()) >= 4                                   # 3 groups + the score epoch
    take = carrier_ranking(axes[2], d.el2n[1], d.carrier, d.labels, 4,
                           kept_by={"label-free": [0, 1, 3], "oracle": np.array([1, 0, 1, 1], bool)})
    assert take == "Takeaway: of the 1 carriers of class 4, label-free cuts 0 (0%); oracle cuts 1 " \
                   "(100%), from percentile 0 up."
    assert all(_labelled(ax) for ax in axes)
    plt.close(fig)


def test_figures_refuse_bad_arguments():
    d = _hand_made()
    fig, ax = plt.subplots()
    with pytest.raises(TypeError, match="dmap must be a DataMap"):
        data_map_plot(ax, {"confidence": [0.5]}, d.groups, 4)
    with pytest.raises(ValueError, match=r"groups must be a 1-D integer array shaped \(4,\)"):
        data_map_plot(ax, data_map(d), [8, 9], 4)
    with pytest.raises(ValueError, match="target_class 3 has no samples"):
        data_map_plot(ax, data_map(d), d.groups, 3)
    with pytest.raises(ValueError, match=r"pruned must be a boolean mask shaped \(4,\)"):
        data_map_plot(ax, data_map(d), d.groups, 4, pruned=np.ones(3, bool))
    with pytest.raises(ValueError, match=r"boundary must be in \[0, 1\]"):
        data_map_plot(ax, data_map(d), d.groups, 4, boundary=2.0)
    with pytest.raises(ValueError, match="boundary=True needs pruned"):
        data_map_plot(ax, data_map(d), d.groups, 4, boundary=True)
    with pytest.raises(ValueError, match="score must be one of"):
        group_trajectories(ax, d, score="loss")
    with pytest.raises(ValueError, match=r"score_epoch must be an integer in \[1, 3\]"):
        group_trajectories(ax, d, score_epoch=4)
    with pytest.raises(TypeError, match="dynamics must be a Dynamics or a non-empty list"):
        group_trajectories(ax, [])
    with pytest.raises(ValueError, match="must all record the same epochs"):
        group_trajectories(ax, [d, _hand_made(epochs=[1], confidence=[[0.5] * 4],
                                              correct=[[1] * 4], el2n=[[0.5] * 4])])
    with pytest.raises(ValueError, match="class 1 has no carriers"):
        carrier_ranking(ax, d.el2n[1], d.carrier, d.labels, 1, kept_by={"a": [0]})
    with pytest.raises(TypeError, match="kept_by must be a non-empty dict"):
        carrier_ranking(ax, d.el2n[1], d.carrier, d.labels, 4, kept_by=[0, 1])
    with pytest.raises(ValueError, match=r"kept_by\['a'\] must index 0..3"):
        carrier_ranking(ax, d.el2n[1], d.carrier, d.labels, 4, kept_by={"a": [7]})
    plt.close(fig)


def test_datamap_is_what_data_map_returns():
    assert isinstance(data_map(_hand_made()), DataMap)
