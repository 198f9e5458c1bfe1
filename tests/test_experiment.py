import json
import math
import os

import pytest

from spurlab import Config, Result, run
from spurlab.arms import parse_arm
from spurlab.results import atomic_write_text

TINY = "n_train=600 n_test=120 epochs=3 score_epoch=1"


def test_config_round_trips_through_its_string():
    cfg = Config(salience=0.3, prevalence=0.2, target_class=2, strategy="random", seed=7)
    s = cfg.to_string()
    assert "salience=0.3" in s and "seed=7" in s and "dataset" not in s
    assert Config.from_string(s) == cfg
    assert Config.from_string(Config().to_string()) == Config()
    assert Config().to_string() == "default"


@pytest.mark.parametrize("text,match", [
    ("salience=2", "salience"),
    ("prevalence=-1", "prevalence"),
    ("prune_ratio=1", "prune_ratio"),
    ("strategy=middle", "strategy"),
    ("placement=middle", "placement"),
    ("dataset=imagenet", "dataset"),
    ("epochs=abc", "epochs"),
    ("colour=red", "key=value"),
    ("score_epoch=20", "score_epoch"),
    ("band_low=0.8 band_high=0.2", "band_low"),
])
def test_config_string_errors_name_the_parameter(text, match):
    with pytest.raises(ValueError, match=match):
        Config.from_string(text)


def test_arm_names():
    assert parse_arm("hardest") == ("hardest", "class")
    assert parse_arm("random/oracle") == ("random", "oracle")
    with pytest.raises(ValueError, match="scope"):
        parse_arm("hardest/everyone")


@pytest.fixture(scope="module")
def tiny_result():
    return run(TINY, arms=["hardest", "random", "hardest/target", "hardest/oracle"])


def test_run_produces_all_metrics(tiny_result):
    r = tiny_result
    for m in [r.baseline, r.reference] + [a.metrics for a in r.arms.values()]:
        assert 0 <= m.clean_accuracy <= 1 and 0 <= m.smr <= 1
        assert 0 <= m.worst_group_accuracy <= m.group_balanced_accuracy <= 1
        assert len(m.group_accuracy) == 12
    from spurlab import load_dataset
    counts = load_dataset("shapes", n_train=600, n_test=120)[0].class_counts()
    c1 = r.config.target_class
    assert r.carriers == round(0.3 * counts[c1]) and 0 <= r.regime_percentile <= 100
    # each arm removed 25 % of its pool
    n_cut = sum(round(0.25 * n) for n in counts)
    assert r.arms["hardest"].n_kept == 600 - n_cut
    assert r.arms["hardest/target"].n_kept == 600 - round(0.25 * counts[c1])
    assert r.arms["hardest/oracle"].n_kept == 600 - round(0.25 * r.carriers)
    assert r.arms["hardest/oracle"].carriers_pruned == round(0.25 * r.carriers)
    assert sum(r.arms["hardest"].pruned_by_group) == n_cut
    assert len(r.scores) == 600
    assert "baseline (ERM)" in r.table() and "regime" in r.table()


def test_run_same_seed_identical(tiny_result):
    again = run(TINY, arms=["hardest", "random", "hardest/target", "hardest/oracle"])
    assert again.baseline == tiny_result.baseline
    assert again.scores == tiny_result.scores
    assert again.arms["hardest"].pruned == tiny_result.arms["hardest"].pruned
    assert again.arms["random"].metrics == tiny_result.arms["random"].metrics


def test_result_json_round_trip(tiny_result, tmp_path):
    p = tmp_path / "r.json"
    tiny_result.save(p)
    d = json.loads(p.read_text())
    assert d["config_string"] == tiny_result.config.to_string()
    assert set(d["environment"]) >= {"spurlab", "torch", "device"}
    back = Result.load(p)
    assert back.config == tiny_result.config
    assert back.baseline == tiny_result.baseline
    ex = tiny_result.excess_removed("hardest")
    assert (d["excess_removed"]["hardest"] is None) == math.isnan(ex)


def test_atomic_write_leaves_no_partial_file(tmp_path):
    p = tmp_path / "out.json"
    atomic_write_text(p, "first")

    with pytest.raises(TypeError):
        atomic_write_text(p, 12345)  # not text: the write fails
    assert p.read_text() == "first"
    assert [f for f in os.listdir(tmp_path) if f.startswith(".tmp")] == []


def test_run_on_digits_ranks_carriers_with_a_clean_model():
    r = run("dataset=digits target_class=8 placement=hardest prevalence=0.3 epochs=3 "
            "score_epoch=1", arms=["hardest"], reference=False)
    from spurlab import load_dataset
    tr, _ = load_dataset("digits", seed=0)
    assert r.carriers == round(0.3 * int((tr.labels == 8).sum()))
    assert r.config.dataset == "digits" and len(r.scores) == len(tr)


def test_run_rejects_wrong_target_class():
    with pytest.raises(ValueError, match="target_class"):
        run("dataset=digits target_class=12 epochs=1 score_epoch=1")
    with pytest.raises(TypeError, match="config"):
        run(42)


def test_jtt_arm_upweights_the_error_set():
    r = run(TINY, arms=["jtt", "random/oracle"], reference=False)
    jtt = r.arms["jtt"]
    assert jtt.n_kept == 600 + 4 * jtt.upweighted and jtt.upweighted > 0
    assert 0 <= jtt.upweighted_carriers <= r.carriers and jtt.pruned == ()
    assert jtt.occupancy is None and jtt.labels_used == "none"
    assert "upweight jtt x5" in r.table()
    assert r.arms["random/oracle"].carriers_pruned == round(0.25 * r.carriers)


def test_upweight_indices():
    import numpy as np

    from spurlab import upweight_indices
    assert upweight_indices(np.array([True, False, True]), 2).tolist() == [0, 1, 2, 0, 2]
    with pytest.raises(ValueError, match="factor"):
        upweight_indices(np.array([True]), 0)
    with pytest.raises(ValueError, match="error_mask"):
        upweight_indices(np.array([1, 0]), 2)


def test_presets_and_summarize():
    from spurlab import preset, summarize
    assert preset("quick").n_train < preset("full").n_train == Config().n_train
    assert preset("quick", seed=3).seed == 3
    with pytest.raises(ValueError, match="preset"):
        preset("fast")
    s = summarize([1.0, 3.0, float("nan"), None])
    assert s == {"mean": 2.0, "sd": pytest.approx(2 ** 0.5), "n": 2}
    assert summarize([])["n"] == 0
