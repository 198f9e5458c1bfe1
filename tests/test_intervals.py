"""Intervals stay inside a metric's range: a rate's or an accuracy's 95% interval over seeds is
cut at [0, 1] (``seed_interval(values, bounds=(0, 1))``) wherever one is drawn or printed (the
atlas's points, the playground's bars, the claim-5 table, the mechanism's shares), sd bars of a
rate are cut there too, and the default (unbounded) interval is unchanged."""

import dataclasses
import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import spurlab as sl  # noqa: E402
from spurlab import stats  # noqa: E402
from spurlab.atlas import ARM_METRICS, METRIC_BOUNDS  # noqa: E402
from spurlab.charts import bars_with_spread  # noqa: E402

SPREAD = [0.0, 0.0, 0.02, 0.9, 0.95]        # five seeds, two at 0 and two near 1: a wide spread


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def _t_interval(values):
    v = np.asarray(values, dtype=float)
    half = stats.t95(len(v) - 1) * v.std(ddof=1) / math.sqrt(len(v))
    return [v.mean() - half, v.mean() + half]


def test_the_default_interval_is_the_plain_t_interval_as_before():
    s = stats.seed_interval([0.1, 0.2, 0.3])
    assert s["mean"] == pytest.approx(0.2) and s["sd"] == pytest.approx(0.1) and s["n"] == 3
    assert s["ci95"] == pytest.approx([0.2 - 4.303 * 0.1 / 3 ** 0.5, 0.2 + 4.303 * 0.1 / 3 ** 0.5])
    wide = stats.seed_interval(SPREAD)
    assert wide["ci95"] == pytest.approx(_t_interval(SPREAD))
    assert wide["ci95"][0] == pytest.approx(-0.250915, abs=1e-6)      # below 0: a rate's cannot
    assert stats.seed_interval([0.5])["ci95"] == [-math.inf, math.inf]
    assert stats.seed_interval([None, float("nan")])["n"] == 0


def test_a_rates_interval_stays_within_0_and_1_and_contains_the_mean():
    for values in (SPREAD, [1.0, 1.0, 0.98, 0.1, 0.05], [0.0, 0.01], [0.3, 0.31, 0.29]):
        b = stats.seed_interval(values, bounds=(0, 1))
        lo, hi = b["ci95"]
        assert 0 <= lo <= b["mean"] <= hi <= 1, values
        # the same mean, sd and n; the t-interval itself where it fits, cut where it does not
        plain = stats.seed_interval(values)
        assert (b["mean"], b["sd"], b["n"]) == (plain["mean"], plain["sd"], plain["n"])
        assert b["ci95"] == pytest.approx([max(0, plain["ci95"][0]), min(1, plain["ci95"][1])])
    assert stats.seed_interval(SPREAD, bounds=(0, 1))["ci95"][0] == 0.0
    assert stats.seed_interval([1.0, 1.0, 0.98, 0.1, 0.05], bounds=(0, 1))["ci95"][1] == 1.0
    assert stats.seed_interval([0.4], bounds=(0, 1))["ci95"] == [0.0, 1.0]   # one seed: the range
    assert stats.seed_interval([50, 70, 90], bounds=(0, 100))["ci95"][1] == 100


def test_bad_bounds_and_values_outside_them_are_refused():
    with pytest.raises(ValueError, match=r"values must lie within bounds \[0, 1\]; got \[1.5\]"):
        stats.seed_interval([0.2, 1.5], bounds=(0, 1))
    with pytest.raises(ValueError, match="bounds must have low < high"):
        stats.seed_interval([0.2], bounds=(1, 0))
    with pytest.raises(ValueError, match="bounds must be a"):
        stats.seed_interval([0.2], bounds=0.5)


def test_every_interval_of_a_rate_the_atlas_gives_is_within_its_range():
    atlas = sl.load_atlas()
    cut = 0
    for t in atlas.grid["thickness"]:
        for s in atlas.grid["salience"]:
            for q in atlas.grid["prevalence"]:
                for p in atlas.grid["prune_ratio"]:
                    point = atlas.point(s, q, p, thickness=t)
                    ivs = [point["baseline"][m] for m in point["baseline"]]
                    ivs += [point["reference"]["smr"], point["overlap_hardest_oracle"]]
                    for arm in filter(None, point["arms"].values()):
                        ivs += [arm[m] for m in ARM_METRICS if m in METRIC_BOUNDS]
                        lo, hi = arm["carriers_pruned"]["ci95"]
                        assert 0 <= lo <= hi <= point["carriers"]
                    for iv in ivs:
                        if iv["n"] > 1:
                            lo, hi = iv["ci95"]
                            assert lo <= iv["mean"] <= hi
                            assert 0 <= lo and hi <= 100
                    smr = point["arms"]["hardest"]["smr"]
                    cut += stats.seed_interval([r["smr_hardest"] for r in point["rows"]])["ci95"][0] < 0
                    assert 0 <= smr["ci95"][0] <= smr["ci95"][1] <= 1
    assert cut > 0              # the shipped atlas has points whose t-interval passes 0


def test_the_playground_draws_the_atlas_bounded_intervals():
    """A point where a plain t-interval of an arm's SMR passes below 0 (five seeds of SMR near
    0): every error bar of the figure stays within [0, 1]."""
    from spurlab.playground import Playground

    pg = Playground(sl.load_atlas())
    point = pg.show(salience=1.0, prevalence=0.05, prune_ratio=0.4)
    assert stats.seed_interval([r["smr_hardest"] for r in point["rows"]])["ci95"][0] < 0
    fig = pg.figure(point)
    for ax in fig.axes[:2]:
        ys = np.concatenate([seg[:, 1] for c in ax.collections if hasattr(c, "get_segments")
                             for seg in c.get_segments()])
        assert len(ys) and ys.min() >= 0 and ys.max() <= 1
    text = pg.takeaway(point, [{"seed": 0, "arm": "hardest", "smr_hardest": 0.0, "flag": ""},
                               {"seed": 1, "arm": "hardest", "smr_hardest": 0.05, "flag": ""}])
    assert "SMR after hardest 0.025 [0.000, " in text          # the live interval, cut at 0


def test_sd_bars_of_a_rate_are_cut_at_its_range_and_drawn_in_full_otherwise():
    def whiskers(bounds):
        fig, ax = plt.subplots()
        bars_with_spread(ax, ["a"], [[0.0, 0.0, 0.1]], ylabel="SMR", title="t", bounds=bounds)
        return np.concatenate([seg[:, 1] for c in ax.collections if hasattr(c, "get_segments")
                               for seg in c.get_segments()])

    sd = np.std([0.0, 0.0, 0.1], ddof=1)
    assert whiskers(None).min() == pytest.approx(0.1 / 3 - sd)          # below 0: drawn in full
    assert whiskers((0, 1)).min() == pytest.approx(0.0)                  # cut at 0
    assert whiskers((0, 1)).max() == pytest.approx(0.1 / 3 + sd)         # the side that fits: full


def test_the_claim5_table_and_the_mechanism_print_intervals_within_0_and_1():
    from spurlab import identifiable
    from spurlab.mechanism import carriers_removed

    from .stand_in import arm, result

    summ = identifiable.summary(identifiable.load_results()["rows"])
    for s in summ["selected"].values():
        for k in ("worst_group", "smr"):
            assert 0 <= s[k]["ci95"][0] <= s[k]["mean"] <= s[k]["ci95"][1] <= 1
    runs = [result(seed, 0.2, {"hardest/oracle": dataclasses.replace(
        arm("hardest/oracle", 0.05, carriers_pruned=10), hard_removed=h, n_hard=10,
        removed_percentile=99.0 - seed, kept_percentile=40.0)})
        for seed, h in enumerate((1.0, 1.0, 0.9))]
    cut = carriers_removed(runs, "hardest/oracle")      # oracle pruning: nearly every hard one
    assert stats.seed_interval([1.0, 1.0, 0.9])["ci95"][1] > 1 and cut.hard["ci95"][1] == 1.0
    assert cut.removed_percentile["ci95"][1] <= 100
    assert "97% [" in cut.text() and "100%]" in cut.text()
