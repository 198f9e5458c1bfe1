"""The strong, identifiable comparison (claim 5): scenario, selection on validation, the shipped
result file."""

import json

import numpy as np
import pytest

import spurlab as sl
from spurlab import identifiable as idf

TINY = sl.Config(n_train=600, n_test=300, epochs=2, score_epoch=1, batch_size=32, salience=1.0,
                 prevalence=0.95)


def test_binary_scenario_is_two_classes_with_the_feature_on_95_percent_of_rings():
    sc = idf.binary_scenario(TINY)
    y = sc.train.labels.numpy()
    assert sc.train.classes == idf.CLASSES and set(np.unique(y)) == {0, 1}
    assert sc.target_class == 1 and sc.num_groups == 4
    share = sc.carrier.numpy()[y == 1].mean()
    assert abs(share - 0.95) < 0.01 and not sc.carrier.numpy()[y == 0].any()


def test_validation_split_is_an_independent_draw():
    sc = idf.binary_scenario(TINY)
    val = idf.binary_scenario(TINY, seed=TINY.seed + idf.VAL_SEED_OFFSET)
    assert not np.array_equal(sc.group_test.images.numpy(), val.group_test.images.numpy())
    again = idf.binary_scenario(TINY)          # same seed, same data
    assert np.array_equal(sc.train.images.numpy(), again.train.images.numpy())


def test_bad_inputs_are_refused_by_name():
    with pytest.raises(ValueError, match="dataset"):
        idf.binary_scenario(TINY.replace(dataset="digits"))
    with pytest.raises(ValueError, match="method"):
        idf.settings("dro")
    with pytest.raises(ValueError, match="method"):
        idf.compare(TINY, [0], methods=["erm", "dro"])


def _row(method, setting, seed, val, test):
    return {"method": method, "setting": setting, "seed": seed,
            "val": {"worst_group_accuracy": val},
            "test": {"worst_group_accuracy": test, "smr": 0.1}}


def test_selection_uses_the_mean_validation_score_never_the_test_score():
    rows = [_row("jtt", {"jtt_upweight": 5}, s, v, t) for s, v, t in ((0, 0.2, 0.9), (1, 0.3, 0.9))]
    rows += [_row("jtt", {"jtt_upweight": 20}, s, v, t) for s, v, t in ((0, 0.5, 0.4), (1, 0.4, 0.5))]
    sel = idf.select(rows)["jtt"]
    assert sel["setting"] == {"jtt_upweight": 20}          # best on validation, worse on test
    assert sel["test"]["worst_group_accuracy"] == [0.4, 0.5] and sel["seeds"] == [0, 1]
    assert sel["val_mean"] == pytest.approx(0.45)


def test_summary_differences_are_per_seed():
    rows = []
    for s, (o, j, h, e) in enumerate([(0.8, 0.6, 0.5, 0.4), (0.7, 0.6, 0.3, 0.4), (0.9, 0.7, 0.4, 0.5)]):
        rows += [_row("hardest/oracle", {}, s, o, o), _row("jtt", {}, s, j, j),
                 _row("hardest", {}, s, h, h), _row("erm", {}, s, e, e)]
    summ = idf.summary(rows)
    d = summ["differences"]["oracle-jtt"]
    assert d["mean"] == pytest.approx(np.mean([0.2, 0.1, 0.2])) and d["differs"]
    assert "oracle pruning" in idf.table_text(summ)
    take = idf.takeaway(summ)
    assert "oracle pruning reaches a higher worst-group accuracy than JTT (tuned) (better)" in take


def test_compare_runs_every_setting_and_scores_validation_and_test(monkeypatch):
    monkeypatch.setattr(idf, "RATIOS", (0.5,))
    monkeypatch.setattr(idf, "JTT_GRID", {"score_epoch": (1,), "jtt_upweight": (3,)})
    rows = idf.compare(TINY, [0], methods=["erm", "hardest/oracle", "jtt"])
    assert [(r["method"], r["setting"]) for r in rows] == [
        ("erm", {}), ("hardest/oracle", {"prune_ratio": 0.5}),
        ("jtt", {"score_epoch": 1, "jtt_upweight": 3})]
    for r in rows:
        for part in ("val", "test"):
            assert 0 <= r[part]["worst_group_accuracy"] <= 1 and len(r[part]["group_accuracy"]) == 4


def test_the_shipped_result_matches_the_code_that_reads_it():
    doc = idf.load_results()
    assert doc["config"] == idf.default_config().to_dict()
    assert doc["seeds"] == list(idf.SEEDS) and doc["classes"] == list(idf.CLASSES)
    assert doc["grids"] == {"ratios": list(idf.RATIOS),
                            "jtt": {k: list(v) for k, v in idf.JTT_GRID.items()}}
    n = len(idf.SEEDS) * sum(len(idf.settings(m)) for m in idf.METHODS)
    assert len(doc["rows"]) == n
    assert set(doc["summary"]["selected"]) == set(idf.METHODS)


def test_load_results_explains_a_missing_or_foreign_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="claim5_strong.py"):
        idf.load_results(tmp_path / "none.json")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"format": "other"}))
    with pytest.raises(ValueError, match="spurlab-claim5"):
        idf.load_results(bad)


def test_the_figure_is_labelled_and_says_its_takeaway():
    import matplotlib
    matplotlib.use("Agg")
    doc = idf.load_results()
    fig, text = idf.figure(doc)
    ax = fig.axes[0]
    assert ax.get_ylabel() and ax.get_xlabel() and ax.get_title()
    assert text.startswith("Takeaway:") and "JTT" in text
    assert "scripts/claim5_strong.py" in idf.provenance(doc)
