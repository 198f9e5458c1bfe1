"""What a result says about itself: whether a shortcut was learned (with an interval) before
how much pruning removed; whom each arm pruned (occupancy); the carrier-sparing control; a
warning when the scoring model is degenerate; intervals over seeds."""

import math
import warnings

import numpy as np
import pytest

import spurlab as sl
from spurlab import stats, verdicts
from spurlab.arms import occupancy

QUICK = sl.preset("quick")
# a line too faint and too rare to be learned: excess SMR ~0 (measured over 3 seeds: +0.000 to
# +0.001, every 95% interval including 0)
NOT_LEARNED = sl.preset("quick", salience=0.1, prevalence=0.05)


def test_the_default_quick_run_says_a_shortcut_was_learned():
    r = sl.run(QUICK, arms=["hardest", "random"])
    v = r.shortcut
    assert v.learned and v.ci95[0] > 0 and v.over == "images"
    assert v.n == len(sl.build_scenario(QUICK).stamped_test) == r.scenario.n_stamped_test
    assert v.excess_smr == pytest.approx(r.baseline.smr - r.reference.smr)
    table = r.table()
    rows = [ln for ln in table.splitlines() if ln.startswith("prune ")]
    assert table.startswith("shortcut learned (excess SMR") and all(ln.endswith("%") for ln in rows)
    assert not math.isnan(r.excess_removed("hardest"))


def test_a_feature_not_learned_prints_no_percentage():
    r = sl.run(NOT_LEARNED, arms=["hardest", "random"])
    assert not r.shortcut.learned and r.shortcut.ci95[0] <= 0
    assert math.isnan(r.excess_removed("hardest")) and math.isnan(r.excess_removed("random"))
    table = r.table()
    assert table.startswith("no shortcut learned (excess SMR") and "pruning figures are noise" in table
    rows = [ln for ln in table.splitlines() if ln.startswith("prune ")]
    assert rows and not any(ln.rstrip().endswith("%") for ln in rows)
    d = r.to_dict()
    assert d["excess_removed"]["hardest"] is None and "no shortcut learned" in d["verdict_text"]
    assert sl.Result.from_dict(d).shortcut == r.shortcut


def test_the_carrier_sparing_control_removes_as_many_but_no_carrier():
    r = sl.run(QUICK, arms=["hardest", "hardest/sparing"], reference=False)
    hard, spare = r.arms["hardest"], r.arms["hardest/sparing"]
    assert spare.carriers_pruned == 0 and hard.carriers_pruned > 0
    assert spare.n_kept == hard.n_kept
    per_class = np.add.reduceat(np.array(spare.pruned_by_group), np.arange(0, 12, 2))
    assert per_class.tolist() == np.add.reduceat(np.array(hard.pruned_by_group),
                                                 np.arange(0, 12, 2)).tolist()
    assert spare.occupancy == 0.0
    assert spare.labels_used == "training" and hard.labels_used == "none"


def test_occupancy_compares_shares():
    carrier = np.array([1, 1, 0, 0, 0, 0, 0, 0, 0, 0], bool)
    labels = np.array([0] * 8 + [1] * 2)
    o = occupancy([0, 2, 8], carrier, labels, 0)     # 1 of the 2 class-0 samples pruned carries
    assert o["target_pruned"] == 2 and o["carrier_share_pruned"] == 0.5
    assert o["carrier_share_target"] == 0.25 and o["occupancy"] == 2.0
    assert math.isnan(occupancy([8], carrier, labels, 0)["occupancy"])


def test_a_degenerate_scoring_model_is_warned_about_and_recorded():
    cfg = sl.preset("smoke", batch_size=128, score_epoch=1)   # 4 steps: eval mode predicts one class
    with pytest.warns(RuntimeWarning, match="scoring model is degenerate"):
        r = sl.run(cfg, arms=[], reference=False)
    assert r.score_model["degenerate"] and r.score_model["eval_accuracy"] < 1 / 6 + 0.1
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        ok = sl.run(sl.preset("smoke"), arms=[], reference=False)    # the preset is chosen not to
    assert not ok.score_model["degenerate"] and not sl.run(QUICK, arms=[]).score_model["degenerate"]


def test_intervals_over_seeds():
    s = stats.seed_interval([0.1, 0.2, 0.3])
    assert s["mean"] == pytest.approx(0.2) and s["ci95"][0] == pytest.approx(0.2 - 4.303 * 0.1 / 3 ** 0.5)
    assert stats.seed_interval([0.5])["ci95"] == [-math.inf, math.inf]
    assert stats.excludes_zero([0.1, 0.2]) and not stats.excludes_zero([-0.1, 0.2])
    rs = sl.run_seeds(sl.preset("smoke"), [0, 1, 2], arms=["hardest", "random"])
    c = verdicts.difference(rs, "hardest", "random")
    diffs = [r.arms["hardest"].metrics.smr - r.arms["random"].metrics.smr for r in rs]
    assert c.mean == pytest.approx(np.mean(diffs)) and c.n == 3
    assert c.differs == stats.excludes_zero(c.ci95)
    over = verdicts.shortcut(rs)
    assert over.n == 3 and over.over == "seeds" and len(over.per_seed) == 3
    assert "over 3 seeds" in over.text()
    assert verdicts.shortcut(sl.run_seeds(sl.preset("smoke"), [0], arms=[], reference=False)).learned is None
