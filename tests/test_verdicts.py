"""One rule for every verdict (spurlab.verdicts): whether a shortcut was learned over one seed or
many, how two models compare, which share of the excess an arm removed, and whether pruning
helps; and every table, takeaway, summary and the playground say the same thing."""

import math

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

from spurlab import verdicts  # noqa: E402
from spurlab.atlas import FORMAT, Atlas  # noqa: E402
from spurlab.flatten import rows  # noqa: E402
from spurlab.playground import Playground  # noqa: E402
from spurlab.plotting import lead_vs_control, seeds_table, shortcut_summary  # noqa: E402
from spurlab.stats import seed_interval  # noqa: E402

from .stand_in import result  # noqa: E402


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def _heterogeneous():
    """Five seeds that each learned the shortcut over their 1,500 stamped test images, with
    excess SMRs from +0.015 to +0.157: the t-interval over seeds of their mean crosses 0."""
    excess = [0.015, 0.02, 0.03, 0.05, 0.157]
    return [result(s, 0.02 + e, {"hardest": 0.03, "random": 0.02 + e}) for s, e in enumerate(excess)], excess


# --------------------------------------------------------------------------- the rule

def test_five_significant_but_heterogeneous_seeds_are_learned_not_noise():
    rs, excess = _heterogeneous()
    assert all(r.shortcut.learned for r in rs)                   # each seed on its own
    assert seed_interval(excess)["ci95"][0] < 0                  # the mean's interval crosses 0
    v = verdicts.shortcut(rs)
    assert v.learned and v.learned_in == 5 and v.n == 5 and v.over == "seeds"
    assert v.z == pytest.approx(sum(r.shortcut.z for r in rs) / math.sqrt(5))
    text = v.text()
    assert text.startswith("shortcut learned in 5 of 5 seeds") and "noise" not in text
    assert "95% interval over 5 seeds [-" in text                # the size is still said
    # every reader of the results says the same
    assert seeds_table(rs).splitlines()[0] == text
    assert shortcut_summary(rs, "hardest")[1].splitlines()[0] == text
    assert text in lead_vs_control(rs, "hardest", "random")[1]


def test_one_seed_gets_one_verdict_from_every_function():
    r = result(0, 0.05, {"hardest": 0.02, "random": 0.05})
    text = r.verdict().text()
    assert text.startswith("shortcut learned (excess SMR +0.030") and "1500 stamped test images" in text
    assert verdicts.shortcut([r]) == r.shortcut == verdicts.combine([r.shortcut])
    assert r.table().splitlines()[0] == text
    assert seeds_table([r]).splitlines()[0] == text
    assert shortcut_summary([r], "hardest")[1].splitlines()[0] == text
    assert text in lead_vs_control([r], "hardest", "random")[1]
    assert "inf" not in lead_vs_control([r], "hardest", "random")[1]
    # the playground reads the same rows from an atlas of that one seed
    row = {"thickness": 1, "salience": 0.5, "prevalence": 0.3, "prune_ratio": 0.25, **rows(r)}
    atlas = Atlas({"format": FORMAT, "config": "default", "version": "test", "arms": ["hardest"],
                   "grid": {"thickness": [1], "salience": [0.5], "prevalence": [0.3],
                            "prune_ratio": [0.25]},
                   "seeds": [0], "columns": list(row), "rows": [list(row.values())],
                   "provenance": {}})
    point = atlas.point(0.5, 0.3, 0.25)
    assert point["verdict_text"] == text
    assert Playground(atlas).takeaway(point).startswith(f"Takeaway: {text}")


def test_one_seed_not_learned_is_said_the_same_everywhere():
    r = result(0, 0.021, {"hardest": 0.02, "random": 0.02})
    text = r.verdict().text()
    assert text.startswith("no shortcut learned (excess SMR +0.001") and text.endswith("noise")
    assert r.table().splitlines()[0] == seeds_table([r]).splitlines()[0] == text
    assert lead_vs_control([r], "hardest", "random")[1] == (
        "Takeaway (EL2N at epoch 3, c1 = class 4 ('ring'), p = 0.25, 1 seed): " + text + ".")
    assert math.isnan(r.excess_removed("hardest"))


def test_seeds_that_disagree_are_named_and_the_mean_says_over_which():
    rs = [result(0, 0.15, {"hardest": 0.05}), result(1, 0.021, {"hardest": 0.02}),
          result(2, 0.12, {"hardest": 0.04}), result(3, 0.02, {"hardest": 0.02})]
    v = verdicts.shortcut(rs)
    assert v.learned and v.learned_in == 2 and v.disagreeing == (1, 3)
    assert "shortcut learned in 2 of 4 seeds" in v.text() and "not learned in seeds 1, 3" in v.text()
    s = verdicts.share_removed(rs, "hardest")
    assert s.seeds_used == (0, 2) and s.per_seed[1] is None and s.per_seed[3] is None
    assert s.mean == pytest.approx(np.mean([(0.15 - 0.05) / 0.13, (0.12 - 0.04) / 0.10]))
    assert "over the 2 of 4 seeds that learned it on their own (seeds 0, 2)" in s.text()
    # not learned overall, though one seed did: that seed is named too
    quiet = [result(0, 0.04, {"hardest": 0.02})] + [result(s, 0.02, {"hardest": 0.02})
                                                    for s in (1, 2, 3, 4, 5)]
    q = verdicts.shortcut(quiet)
    assert not q.learned and q.learned_in == 1 and "learned on its own in seed 0" in q.text()
    assert verdicts.share_removed(quiet, "hardest").mean is None


def test_seeds_that_only_together_show_it_are_said_so():
    together = [verdicts.seed_verdict(0.03, (-0.01, 0.07), 900, seed=s) for s in range(4)]
    v = verdicts.combine(together)
    assert v.learned and v.learned_in == 0 and v.z == pytest.approx(2 * 0.03 / (0.04 / 1.96))
    assert v.text().startswith("shortcut learned over 4 seeds together, in none alone (combined z")


def test_no_carriers_means_nothing_to_learn():
    r = result(0, 0.05, {"hardest": 0.02}, carriers=0)
    assert r.shortcut.learned is False and r.shortcut.reason == "no carriers"
    assert r.verdict().text().startswith("no shortcut to learn: no training sample carries")
    assert "n/a" not in r.table().splitlines()[0] and math.isnan(r.excess_removed("hardest"))
    many = verdicts.shortcut([result(s, 0.05, {"hardest": 0.02}, carriers=0) for s in range(3)])
    assert many.learned is False and many.reason == "no carriers"
    none = verdicts.share_removed([r], "hardest").text()
    assert none == "hardest: no share of the excess is given (none learned)"


def test_without_a_reference_there_is_no_verdict():
    r = result(0, 0.2, {"hardest": 0.02}, reference=False)
    v = verdicts.shortcut([r])
    assert v.learned is None and "no verdict" in v.text() and "reference=True" in v.text()
    assert verdicts.effect(v, verdicts.difference_of([-0.1, -0.2], "hardest", "random")) == "no shortcut"


def test_the_one_seed_rule_is_the_many_seed_rule_with_one_seed():
    for excess, half in ((0.03, 0.02), (0.01, 0.02), (-0.02, 0.01)):
        one = verdicts.seed_verdict(excess, (excess - half, excess + half), 900, seed=7)
        assert verdicts.combine([one]) is one
        assert one.learned == (one.z > verdicts.Z95) == (excess - half > 0)


def test_verdict_from_hits_is_the_interval_over_stamped_images():
    v = verdicts.verdict_from_hits([1] * 30 + [0] * 70, [1] * 10 + [0] * 90, seed=3)
    assert v.learned and v.excess_smr == pytest.approx(0.2) and v.n == 100 and v.seeds == (3,)
    assert not verdicts.verdict_from_hits([0] * 10, [0] * 10).learned       # 0 of n vs 0 of n


# --------------------------------------------------------------------------- differences

def test_differences_say_which_way_in_words():
    d = verdicts.difference_of([-0.05, -0.07, -0.06], "hardest", "random")
    assert d.differs and d.direction == "lower" and d.better is True
    assert d.text().endswith("excludes 0: hardest leaves a lower SMR than random (better)")
    up = verdicts.difference_of([0.05, 0.07, 0.06], "hardest", "easiest")
    assert up.text().endswith("excludes 0: hardest leaves a higher SMR than easiest (worse)")
    acc = verdicts.difference_of([0.02, 0.03, 0.025], "oracle", "ERM", "worst_group_accuracy")
    assert acc.better and acc.words() == "oracle reaches a higher worst-group accuracy than ERM (better)"
    flat = verdicts.difference_of([0.1, -0.1], "a", "b")
    assert not flat.differs and flat.better is None
    assert flat.text().endswith("includes 0, not shown to differ")
    one = verdicts.difference_of([-0.3], "a", "b")
    assert not one.differs and "over 1 seed: no interval over seeds, so not tested" in one.text()


def test_effect_is_helps_backfires_no_difference_or_no_shortcut():
    rs, _ = _heterogeneous()
    v = verdicts.shortcut(rs)
    helps = verdicts.difference(rs, "hardest", "random")          # hardest is always 0.03
    assert verdicts.effect(v, verdicts.difference_of([-0.05, -0.06, -0.04], "h", "r")) == "helps"
    assert verdicts.effect(v, verdicts.difference_of([0.05, 0.06, 0.04], "h", "r")) == "backfires"
    assert verdicts.effect(v, verdicts.difference_of([0.05, -0.06, 0.01], "h", "r")) == "no difference"
    assert verdicts.effect(v, None) == "n/a"
    noise = verdicts.shortcut([result(s, 0.02, {"hardest": 0.02}) for s in range(3)])
    assert verdicts.effect(noise, helps) == "no shortcut"
    assert verdicts.effect_text(noise, helps) == noise.text()
    assert verdicts.effect_text(v, helps) == f"{v.text()}; {helps.text()}"


def test_bad_input_to_combine_is_named():
    with pytest.raises(ValueError, match="at least one seed"):
        verdicts.combine([])
    rs, _ = _heterogeneous()
    with pytest.raises(TypeError, match="one-seed Shortcut verdicts"):
        verdicts.combine([verdicts.shortcut(rs)])
