"""The mechanism, measured per arm: which carriers each arm removed, by difficulty
(spurlab.carriers_by_difficulty at training time, spurlab.mechanism over seeds, the figure)."""

import math

import numpy as np
import pytest

import spurlab as sl
from spurlab.arms import carriers_by_difficulty
from spurlab.flatten import MECHANISM, key
from spurlab.mechanism import carriers_removed, mechanism_text
from tests import stand_in

TINY = "n_train=600 n_test=120 epochs=2 score_epoch=1"


# --------------------------------------------------------------------------- on arrays

def test_the_hard_carriers_are_the_hardest_quarter_rounded_up_ties_by_index():
    labels = np.zeros(12, int)
    carrier = np.zeros(12, bool)
    carrier[:5] = True                                   # 5 carriers: a quarter is 2 (rounded up)
    diff = np.array([1.0, 3.0, 3.0, 3.0, 0.0, 9, 9, 9, 9, 9, 9, 9])
    cut = carriers_by_difficulty([1], carrier, labels, 0, diff)
    assert cut["n_hard"] == 2                            # carriers 1 and 2 (tie at 3.0: lower index)
    assert cut["hard_removed"] == 0.5
    cut = carriers_by_difficulty([3], carrier, labels, 0, diff)
    assert cut["hard_removed"] == 0.0                    # carrier 3 ties but is not in the set


def test_percentiles_are_within_the_target_class_and_split_removed_from_kept():
    labels = np.array([0] * 4 + [1] * 4)
    carrier = np.array([0, 0, 0, 0, 1, 1, 0, 0], bool)
    diff = np.array([100.0, 100, 100, 100, 4, 1, 2, 3])  # class 0 is ignored: percentiles are in c1
    cut = carriers_by_difficulty([4], carrier, labels, 1, diff)
    assert cut["removed_percentile"] == pytest.approx(87.5)   # the hardest of 4
    assert cut["kept_percentile"] == pytest.approx(12.5)      # the easiest of 4
    assert cut["hard_removed"] == 1.0 and cut["n_hard"] == 1


def test_nothing_to_say_without_carriers_and_nothing_kept_when_all_are_removed():
    labels = np.zeros(6, int)
    none = carriers_by_difficulty([0, 1], np.zeros(6, bool), labels, 0, np.arange(6.0))
    assert none == {"removed_percentile": None, "kept_percentile": None, "hard_removed": None,
                    "n_hard": 0}
    carrier = np.array([1, 1, 0, 0, 0, 0], bool)
    allgone = carriers_by_difficulty([0, 1], carrier, labels, 0, np.arange(6.0))
    assert allgone["kept_percentile"] is None and allgone["hard_removed"] == 1.0
    nothing = carriers_by_difficulty([], carrier, labels, 0, np.arange(6.0))
    assert nothing["removed_percentile"] is None and nothing["hard_removed"] == 0.0


# --------------------------------------------------------------------------- in a real run

@pytest.fixture(scope="module")
def tiny():
    return sl.run(TINY, arms=["hardest/oracle", "easiest/oracle", "random", "jtt"],
                  reference=False)


def test_oracle_pruning_by_the_same_scores_takes_the_hard_carriers_first(tiny):
    # oracle pruning removes the hardest carriers by the very scores the hard set is ranked by:
    # it takes all the hard carriers it can before any other, so its share is fixed by the count
    hard = tiny.arms["hardest/oracle"]
    assert hard.hard_removed == pytest.approx(min(1.0, hard.carriers_pruned / hard.n_hard))
    easy = tiny.arms["easiest/oracle"]
    assert tiny.carriers - easy.carriers_pruned >= easy.n_hard     # it could spare them all
    assert easy.hard_removed == 0.0
    assert hard.removed_percentile > hard.kept_percentile
    assert easy.removed_percentile < easy.kept_percentile


def test_every_arm_records_it_latent_too_and_jtt_none(tiny):
    for name in ("hardest/oracle", "easiest/oracle", "random"):
        a = tiny.arms[name]
        assert a.n_hard == math.ceil(tiny.carriers / 4)
        for f in MECHANISM:
            v = getattr(a, f)
            assert v is not None and (0 <= v <= 1 if "hard" in f else 0 <= v <= 100), (name, f, v)
    jtt = tiny.arms["jtt"]
    assert all(getattr(jtt, f) is None for f in MECHANISM) and jtt.n_hard is None


def test_it_survives_save_and_load_and_reaches_the_rows(tiny, tmp_path):
    path = tmp_path / "r.json"
    tiny.save(path)
    back = sl.Result.load(path)
    assert back == tiny
    assert back.arms["random"].hard_removed == tiny.arms["random"].hard_removed
    row = sl.rows(tiny)
    for f in MECHANISM:
        assert row[key(f, "random")] == pytest.approx(getattr(tiny.arms["random"], f))
        assert row[key(f, "jtt")] is None


# --------------------------------------------------------------------------- over seeds, in words

def _arm(name, hard, share, removed=80.0, kept=40.0, n_hard=10, latent=None):
    return stand_in.arm(name, 0.1, carriers_pruned=round(share * 40), hard_removed=hard,
                        removed_percentile=removed, kept_percentile=kept, n_hard=n_hard,
                        latent_hard_removed=latent)


def test_over_seeds_a_mean_with_an_interval_and_the_share_of_all_beside_it():
    rs = [stand_in.result(s, 0.2, arms={"hardest": _arm("hardest", h, 0.25),
                                        "random": _arm("random", 0.2 + 0.1 * s, 0.25)})
          for s, h in enumerate([1.0, 0.9, 0.8])]
    cut = carriers_removed(rs, "hardest")
    assert cut.hard["mean"] == pytest.approx(0.9) and cut.hard["n"] == 3
    assert cut.all["mean"] == pytest.approx(0.25)
    text = cut.text()
    assert text.startswith("hardest removed 90% [") and "of the hard carriers (the hardest 10 of 40 " \
        "by early EL2N) and 25% (every seed) of all carriers" in text
    assert "percentile 80" in text and "kept at 40" in text and "(mean over 3 seeds)" in text
    take = mechanism_text(rs)
    assert take.startswith("Takeaway: share of the hard carriers (the hardest 10 of 40 by early "
                           "EL2N) removed: hardest 90% [")
    assert "random 30% [" in take and "share of all carriers removed: hardest 25%, random 25%" in take


def test_one_seed_says_so_and_an_interval_never_leaves_0_to_1():
    r = stand_in.result(0, 0.2, arms={"hardest": _arm("hardest", 1.0, 0.3)})
    assert carriers_removed(r, "hardest").text().endswith("(one seed)")
    rs = [stand_in.result(s, 0.2, arms={"hardest": _arm("hardest", h, 0.3)})
          for s, h in enumerate([1.0, 0.2])]
    text = carriers_removed(rs, "hardest").text()
    assert "60% [0%, 100%]" in text


def test_undefined_where_it_is_undefined():
    r = stand_in.result(0, 0.2, arms={"jtt": stand_in.arm("jtt", 0.1, carriers_pruned=0)})
    assert carriers_removed(r, "jtt").text() == \
        "jtt: which carriers it removed is not defined here (it prunes nothing)"
    r = stand_in.result(0, 0.2, arms={"hardest": _arm("hardest", 1.0, 0.3)})
    assert "no latent difficulty in these data" in carriers_removed(r, "hardest", "latent").text()
    assert "not defined here" in mechanism_text(r, by="latent")
    with pytest.raises(ValueError, match="by must be one of 'score', 'latent'; got 'height'"):
        carriers_removed(r, "hardest", by="height")
    with pytest.raises(ValueError, match="arm must be an arm of every result"):
        carriers_removed(r, "random")


def test_seeds_with_different_carrier_counts_are_named_as_a_range():
    rs = [stand_in.result(0, 0.2, carriers=29, arms={"hardest": _arm("hardest", 1.0, 0.3, n_hard=8)}),
          stand_in.result(1, 0.2, carriers=33, arms={"hardest": _arm("hardest", 1.0, 0.3, n_hard=9)})]
    assert "the hardest quarter of 29-33 carriers by early EL2N" in mechanism_text(rs)


def test_the_figure_draws_each_arm_and_prints_the_mechanism_takeaway(tiny):
    import matplotlib

    matplotlib.use("Agg")
    from spurlab.plotting import difficulty_of_removed

    arms = ["hardest/oracle", "easiest/oracle", "random"]
    fig, take = difficulty_of_removed([tiny], arms)
    assert take == mechanism_text([tiny], arms)
    assert len(fig.axes) == 3                         # early score, latent, percentiles
    assert all(ax.get_ylabel() and ax.get_title() for ax in fig.axes)
    with pytest.raises(ValueError, match="jtt"):
        difficulty_of_removed([tiny], ["random", "jtt"])


def test_the_readme_quotes_the_measured_mechanism_from_results_claims_json():
    import json
    import pathlib

    root = pathlib.Path(__file__).resolve().parents[1]
    v = json.loads((root / "results" / "claims.json").read_text())["verdicts"]

    def pct(iv):
        return f"{iv['mean']:.0%} [{iv['ci95'][0]:.0%}, {iv['ci95'][1]:.0%}]"

    hard, every = v["mechanism_hard_carriers_removed"], v["mechanism_all_carriers_removed"]
    latent = v["mechanism_latent_hard_carriers_removed"]
    readme = (root / "README.md").read_text()
    for quoted in (f"hardest {pct(hard['hardest'])} of the hard ones but {pct(every['hardest'])} of all",
                   f"random {pct(hard['random'])} and {pct(every['random'])}",
                   f"easiest {hard['easiest']['mean']:.0%} and {pct(every['easiest'])}",
                   f"hardest {pct(latent['hardest'])}, random {pct(latent['random'])}"):
        assert quoted in readme, quoted


def test_the_results_table_counts_the_hard_carriers_each_arm_cut(tiny):
    table = tiny.table()
    assert "hard cut" in table.splitlines()[1] and "occupancy" not in table.splitlines()[1]
    for name in ("random", "hardest/oracle"):
        a = tiny.arms[name]
        line = next(x for x in table.splitlines() if x.startswith(f"prune {name} "))
        assert f"{round(a.hard_removed * a.n_hard)}/{a.n_hard}" in line.split()
    assert "hard cut: of the hard carriers (the hardest quarter of the carriers by early EL2N)" in table
