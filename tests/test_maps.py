"""spurlab.maps (grid file, cell maps, phase and regime maps) and the plotting helpers of notebooks
04-06 (compare_models, seed_values, seeds_table, pruning_takeaway, rows_gallery): figures are
labelled, the numbers drawn and printed are the inputs', bad arguments are named."""

import pathlib

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

from spurlab import maps  # noqa: E402
from spurlab.plotting import (  # noqa: E402
    arm_differences,
    compare_models,
    occupancy_bars,
    pruning_takeaway,
    rows_gallery,
    seed_values,
    seeds_table,
    shortcut_summary,
)

from .stand_in import arm, result  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


LEARNED = {"excess_smr": 0.1, "excess_lo": 0.05, "excess_hi": 0.15, "n_test": 900}
NOT_LEARNED = {"excess_smr": 0.0, "excess_lo": -0.04, "excess_hi": 0.04, "n_test": 900}


def _phase_rows():
    """3 seeds. salience 0.1: no shortcut; 0.5: hardest beats random at both ratios; 1.0: it
    helps at p = 0.1 and backfires at p = 0.3."""
    rows = []
    for seed in (0, 1, 2):
        for s, p, h, r in ((0.1, 0.1, 0.03, 0.02), (0.1, 0.3, 0.05, 0.02),
                           (0.5, 0.1, 0.04, 0.08), (0.5, 0.3, 0.02, 0.07),
                           (1.0, 0.1, 0.20, 0.22), (1.0, 0.3, 0.30, 0.20)):
            rows.append({"salience": s, "prune_ratio": p, "seed": seed, "smr_baseline": 0.1 * s + seed,
                         "smr_hardest": h + 0.02 * seed, "smr_random": r + 0.02 * seed,
                         **(NOT_LEARNED if s == 0.1 else LEARNED)})
    return {"phase": {"rows": rows}}


def _regime_rows():
    rows = []
    for seed in (0, 1, 2):
        for s, q, h, c, g in ((0.1, 0.3, 0.09, 10, 50.0), (0.1, 0.6, 0.09, 25, 50.0),
                              (0.5, 0.3, 0.02, 14, 55.0), (0.5, 0.6, 0.03, 30, 50.0),
                              (1.0, 0.3, 0.09, 4, 40.0), (1.0, 0.6, 0.04, 20, 45.0)):
            rows.append({"salience": s, "prevalence": q, "seed": seed, "smr_hardest": h,
                         "smr_random": 0.05, "carriers_pruned_hardest": c, "carriers": 40,
                         "regime_percentile": g, **(NOT_LEARNED if s == 0.1 else LEARNED)})
    return {"regime": {"rows": rows, "fixed": {"prune_ratio": 0.25}}}


def _x_marks(ax):
    """(column, row) of the cells with a 'no shortcut' cross on ``ax`` (categorical axes: each
    cross sits in its cell, off its centre)."""
    return sorted(tuple(round(float(v)) for v in o) for c in ax.collections
                  if c.get_label() == "x: no shortcut learned" for o in c.get_offsets())


def _ticks(axis):
    return [t.get_text() for t in axis.get_ticklabels()]


def _texts(ax):
    return [t.get_text() for t in ax.texts]


# --------------------------------------------------------------------------- cell_map

def test_cell_map_labels_every_cell_with_its_value():
    fig, ax = plt.subplots()
    values = np.array([[0.1, 0.25], [np.nan, 0.5]])
    sc = maps.cell_map(ax, [0.1, 0.3], [0.5, 1.0], values, cmap=maps.SEQUENTIAL,
                       norm=plt.Normalize(0, 0.5), xlabel="p", ylabel="salience", title="SMR")
    assert _texts(ax) == ["0.10", "0.25", "nan", "0.50"]
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == ("p", "salience", "SMR")
    # categorical axes: one equal cell per grid value, ticked with the value
    np.testing.assert_allclose(sc.get_array().filled(np.nan), values)
    assert (_ticks(ax.xaxis), _ticks(ax.yaxis)) == (["0.1", "0.3"], ["0.5", "1"])
    assert [t.get_position() for t in ax.texts][1] == (1, 0)
    assert maps.grid_position([0.1, 0.3], 0.3) == 1 and maps.grid_position([0.1, 0.3], 0.2) == 0.5


def test_cell_map_refuses_mismatched_shapes_and_missing_labels():
    fig, ax = plt.subplots()
    kw = dict(cmap=maps.SEQUENTIAL, norm=plt.Normalize(0, 1), xlabel="p", ylabel="s", title="t")
    with pytest.raises(ValueError, match=r"values must have shape .* = \(1, 2\); got \(2, 1\)"):
        maps.cell_map(ax, [0.1, 0.2], [1.0], np.zeros((2, 1)), **kw)
    with pytest.raises(ValueError, match="text must have the shape of values"):
        maps.cell_map(ax, [0.1, 0.2], [1.0], np.zeros((1, 2)), text=np.array([["a"]]), **kw)
    with pytest.raises(ValueError, match="xlabel must be a non-empty string"):
        maps.cell_map(ax, [0.1, 0.2], [1.0], np.zeros((1, 2)), **{**kw, "xlabel": ""})


# --------------------------------------------------------------------------- phase and regime

def test_phase_map_draws_the_grid_means_and_names_where_pruning_works():
    live = {"prune_ratio": 0.3, "salience": 0.5, "smr_hardest": [0.01, 0.03],
            "smr_random": [0.05, 0.07]}
    fig, take = maps.phase_map(_phase_rows(), live=live)
    left, right = fig.axes[:2]                         # two maps (then two colour bars)
    assert left.get_xlabel() == "prune ratio p (0 = baseline)"
    assert left.get_ylabel() == right.get_ylabel() == "salience of the line"
    assert "mean of 3 seeds" in left.get_title() and "hardest minus random" in right.get_title()
    # left, the salience-0.5 row: p = 0 is the baseline (mean of 0.05 + seed), then smr_hardest
    assert _texts(left)[3:6] == ["1.05", "0.06", "0.04"]
    # right: hardest - random (the seed offsets cancel)
    assert _texts(right)[:6] == ["+0.01", "+0.03", "-0.04", "-0.05", "-0.02", "+0.10"]
    for ax in (left, right):                    # the live star and the x, named under the map
        assert [t.get_text() for t in ax.get_legend().get_texts()] == ["live (2 seeds)",
                                                                      "x: no shortcut learned"]
    assert _ticks(left.xaxis) == ["0", "0.1", "0.3"] and _ticks(right.xaxis) == ["0.1", "0.3"]
    # no shortcut at salience 0.1 (row 0): an x on each of its cells (and on its baseline column)
    assert _x_marks(left) == [(0, 0), (1, 0), (2, 0)]
    assert _x_marks(right) == [(0, 0), (1, 0)]
    assert take.startswith(
        "Takeaway (3 seeds per cell, hardest vs random on SMR): no shortcut in 2, helps in 3, "
        "backfires in 1 of 6 cells; no shortcut at salience 0.1 (x); pruning the hardest helps at "
        "every ratio for salience 0.5; backfires at (salience, p): (1, 0.3).")
    assert "SMR 0.020, hardest minus random -0.040" in take


def test_a_map_never_reads_a_cell_without_a_verdict_as_no_shortcut():
    rows = [{k: v for k, v in r.items() if not k.startswith("excess")}
            for r in _phase_rows()["phase"]["rows"]]
    fig, take = maps.phase_map({"phase": {"rows": rows}})
    assert "no verdict in 6 of 6 cells" in take and _x_marks(fig.axes[0]) == []


def test_phase_map_without_live_marks_nothing_and_checks_its_inputs():
    fig, take = maps.phase_map(_phase_rows())
    assert not any("live" in t for ax in fig.axes for t in _texts(ax))
    assert "Live point" not in take
    with pytest.raises(ValueError, match="rows under 'phase'"):
        maps.phase_map({"regime": {}})
    with pytest.raises(ValueError, match=r"live must be None or a dict with keys"):
        maps.phase_map(_phase_rows(), live={"salience": 0.5})
    with pytest.raises(ValueError, match=r"live\['smr_hardest'\] must be a number"):
        maps.phase_map(_phase_rows(), live={"prune_ratio": 0.3, "salience": 0.5,
                                            "smr_hardest": [], "smr_random": 0.1})


def test_regime_map_cells_and_takeaway():
    fig, take = maps.regime_map(_regime_rows(), live={"salience": 0.5, "prevalence": 0.3})
    ax = fig.axes[0]
    assert _texts(ax)[2] == "-0.03\ncut 35%\nr=55" and _texts(ax)[4] == "+0.04\ncut 10%\nr=40"
    assert ax.get_xlabel().startswith("prevalence") and ax.get_ylabel() == "salience of the line"
    assert "p = 0.25" in ax.get_title()
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["the live setting",
                                                                  "x: no shortcut learned"]
    assert _x_marks(ax) == [(0, 0), (1, 0)]                # salience 0.1, prevalences 0.3 and 0.6
    frame, = [p for p in ax.patches if p.get_label() == "the live setting"]
    assert frame.get_xy() == (-0.5, 0.5)                   # prevalence 0.3, salience 0.5
    assert take == ("Takeaway (p = 0.25, 3 seeds per cell, hardest vs random on SMR): no shortcut in "
                    "2, helps in 3, backfires in 1 of 6 cells; backfires at (salience, prevalence): "
                    "(1, 0.3). The hardest arm cut 10% of the carriers where it backfires, 53% "
                    "where it helps (p = 25%).")
    with pytest.raises(ValueError, match="must give the prune_ratio"):
        maps.regime_map({"regime": {"rows": _regime_rows()["regime"]["rows"]}})


def test_no_carriers_cut_is_compared_when_nothing_backfires():
    rows = [r for r in _regime_rows()["regime"]["rows"] if (r["salience"], r["prevalence"]) != (1.0, 0.3)]
    _, take = maps.regime_map({"regime": {"rows": rows, "fixed": {"prune_ratio": 0.25}}})
    assert take.endswith("backfires at (salience, prevalence): none.") and "n/a" not in take


def test_the_atlas_slices_draw_as_phase_and_regime_maps_and_agree_with_the_playground(tiny_atlas):
    """Notebook 04 draws the atlas's slices with phase_map and regime_map; 07 prints
    Atlas.verdicts_text for the same ratio: the same cells, the same rule, the same counts."""
    from spurlab.atlas import load_atlas
    from spurlab.flatten import effects_count

    atlas = load_atlas(tiny_atlas)
    grid = atlas.as_grid(prevalence=0.3, prune_ratio=0.1)
    assert {r["prevalence"] for r in grid["phase"]["rows"]} == {0.3}
    assert {r["prune_ratio"] for r in grid["regime"]["rows"]} == {0.1}
    fig, take = maps.phase_map(grid)
    assert take.startswith("Takeaway (1-px line, prevalence 0.3, ")
    for t in (1, 2):                                  # each layer: its own cells, one rule
        grid = atlas.as_grid(prevalence=0.3, prune_ratio=0.1, thickness=t)
        assert {r["thickness"] for r in grid["regime"]["rows"]} == {t}
        fig, take = maps.regime_map(grid)
        counts = effects_count(atlas.verdicts(0.1, thickness=t))
        assert take.startswith(f"Takeaway ({t}-px line, p = 0.1, ")
        assert f"hardest vs random on SMR): {counts};" in take
        assert f"hardest vs random on SMR): {counts};" in atlas.verdicts_text(0.1, thickness=t)
        assert atlas.verdicts_text(0.1, thickness=t).startswith(f"Takeaway ({t}-px line, ")
    plt.close("all")


# --------------------------------------------------------------------------- models over seeds

def _result(seed, base, hard, rand, ref=0.02, carriers=40):
    return result(seed, base, {"hardest": arm("hardest", hard, 0.85, carriers_pruned=10 + seed),
                               "random": arm("random", rand, carriers_pruned=8)},
                  ref=ref, carriers=carriers)


RESULTS = [_result(0, 0.20, 0.04, 0.18), _result(1, 0.10, 0.02, 0.12)]


def test_seed_values_are_the_results_numbers():
    v = seed_values(RESULTS, metrics=("smr", "carriers_cut"))
    assert list(v) == ["no carriers", "baseline", "hardest", "random"]
    assert v["baseline"]["smr"] == [0.20, 0.10] and v["no carriers"]["smr"] == [0.02, 0.02]
    assert v["hardest"] == {"smr": [0.04, 0.02], "carriers_cut": [10 / 40, 11 / 40]}
    assert "carriers_cut" not in v["baseline"]


def test_compare_models_draws_means_labels_and_the_prune_ratio():
    fig, v = compare_models(RESULTS, metrics=("smr", "clean_accuracy", "carriers_cut"),
                            labels={"baseline": "ERM"}, title="three panels")
    smr_ax, acc_ax, cut_ax = fig.axes
    assert [t.get_text() for t in smr_ax.get_xticklabels()] == ["no\ncarriers", "ERM",
                                                                "hardest", "random"]
    np.testing.assert_allclose([b.get_height() for b in smr_ax.patches], [0.02, 0.15, 0.03, 0.15])
    assert smr_ax.get_ylabel() == "spurious misclassification rate" and smr_ax.get_title()
    assert acc_ax.get_ylim()[1] == 1.0 and acc_ax.get_xlabel() == "model (each trained from scratch)"
    # the carriers panel shows the arms only, with p as a dashed line
    np.testing.assert_allclose([b.get_height() for b in cut_ax.patches], [0.2625, 0.2])
    assert cut_ax.get_lines()[-1].get_ydata()[0] == 0.25 and cut_ax.get_xlabel() == "pruning arm"
    assert fig._suptitle.get_text() == "three panels"
    assert v["random"]["clean_accuracy"] == [0.9, 0.9]


def test_compare_models_into_given_axes_and_jtt_label():
    res = result(0, 0.2, {"jtt": arm("jtt", 0.15, carriers_pruned=0, n_kept=120)})
    fig, ax = plt.subplots()
    got, _ = compare_models([res], ["jtt"], metrics=["smr"], reference=False, axes=[ax])
    assert got is fig and fig._suptitle is None
    assert [t.get_text() for t in ax.get_xticklabels()] == ["baseline", "JTT x5"]


def test_compare_models_names_bad_arguments():
    with pytest.raises(TypeError, match="results must be a non-empty list of spurlab Result"):
        compare_models([])
    with pytest.raises(ValueError, match=r"arms must be arms of every result; \['easiest'\]"):
        compare_models(RESULTS, ["easiest"])
    with pytest.raises(TypeError, match="arms must be a list of arm names"):
        compare_models(RESULTS, "hardest")
    with pytest.raises(ValueError, match="metrics must be a non-empty list of names among"):
        compare_models(RESULTS, metrics=("accuracy",))
    with pytest.raises(ValueError, match="labels must be a dict keyed by 'no carriers', 'baseline' or arm"):
        compare_models(RESULTS, labels={"ERM": "x"})
    with pytest.raises(ValueError, match="colors must be a dict"):
        compare_models(RESULTS, colors=["red"])
    # labels of models not shown are ignored (one dict for several figures)
    fig, _ = compare_models(RESULTS, ["hardest"], metrics=["smr"], labels={"hardest/oracle": "o"})
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()][-1] == "hardest"
    with pytest.raises(ValueError, match="axes must hold one Axes per metric"):
        compare_models(RESULTS, axes=[plt.subplots()[1]])
    no_ref = result(0, 0.2, {"hardest": 0.1}, reference=False)
    with pytest.raises(ValueError, match="reference=True needs results run with the no-carrier"):
        compare_models([no_ref])
    assert compare_models([no_ref], reference=False)[1]["baseline"]["smr"] == [0.2]


def test_seeds_table_prints_the_verdict_means_and_spread_of_the_inputs():
    # two seeds, each far above its no-carrier model over 1,500 stamped images: learned in both,
    # though the t-interval over two seeds of the mean excess (0.18, 0.08) includes 0
    table = seeds_table(RESULTS)
    lines = table.splitlines()
    assert lines[0].startswith("shortcut learned in 2 of 2 seeds (combined z = ")
    assert "mean excess SMR +0.130, 95% interval over 2 seeds [-" in lines[0]
    assert lines[1].split()[:3] == ["model", "groups", "SMR"] and len(lines) == 9
    base = lines[3].split()
    assert base[:5] == ["baseline", "none", "0.150", "±", "0.071"]   # mean and sd of 0.20, 0.10
    assert lines[4].split()[:3] == ["prune", "hardest", "none"]     # the label-usage tag
    assert lines[-3].startswith("groups: the group labels")
    hard = lines[4]
    ex = [(b - h) / (b - 0.02) for b, h in ((0.20, 0.04), (0.10, 0.02))]
    assert f"{np.mean(ex):6.1%}" in hard and "10/40" in hard    # carriers: mean of 10 and 11 -> 10
    assert lines[-2] == "excess removed: mean ± sd over all 2 seeds"
    assert lines[-1].startswith("regime indicator") and "per seed: 50, 51" in lines[-1]
    # no seed above its no-carrier model: no shortcut, and no percentage of it
    noise = [_result(s, 0.02, 0.02, 0.03) for s in range(3)]
    lines = seeds_table(noise).splitlines()
    assert lines[0].startswith("no shortcut learned: learned in 0 of 3 seeds")
    assert "n/a" in lines[4] and "%" not in lines[4] and not any("excess removed:" in x for x in lines)
    # seeds that disagree: the mean is over the seeds that learned it, and the table says so
    mixed = [_result(0, 0.20, 0.04, 0.18), _result(1, 0.02, 0.02, 0.03), _result(2, 0.19, 0.03, 0.15)]
    lines = seeds_table(mixed).splitlines()
    assert lines[0].startswith("shortcut learned in 2 of 3 seeds") and "not learned in seed 1" in lines[0]
    assert lines[-2] == ("excess removed: mean ± sd over the 2 of 3 seeds that learned it on their own "
                         "(seeds 0, 2)")
    # a long arm name widens the first column instead of breaking the alignment
    long = [result(s, 0.2 + s / 100, {"hardest": 0.04, "hardest/sparing": 0.18}) for s in range(3)]
    lines = seeds_table(long).splitlines()
    assert len({ln.index("±") for ln in lines[2:-3]}) == 1           # the rows, not the notes


def test_pruning_takeaway_reports_the_inputs_numbers():
    take = pruning_takeaway(RESULTS)
    assert take.startswith("Takeaway: shortcut learned in 2 of 2 seeds (")
    assert ("ERM sends 15.0% of stamped test images of other classes to class 4 ('ring') "
            "(no-carrier model 2.0%). Pruning p = 0.25: hardest 3.0%, random 15.0% ") in take
    # 2 seeds: the interval over seeds of hardest minus ERM (-0.16, -0.08) includes 0
    assert ("(hardest and baseline are not shown to differ on SMR, lower in 2 of 2 seeds; "
            "hardest and random are not shown to differ on SMR, lower in 2 of 2 seeds)") in take
    assert "carriers pruned: hardest 26%, random 20%" in take              # (10 + 11) / 2 / 40
    assert "clean accuracy: ERM 0.900, hardest 0.850, random 0.900" in take
    assert "Regime indicator per seed: 50, 51 " in take
    # three consistent seeds: the direction in words
    three = RESULTS + [_result(2, 0.15, 0.03, 0.16)]
    take = pruning_takeaway(three)
    assert "hardest leaves a lower SMR than baseline (better), lower in 3 of 3 seeds" in take
    # the lead arm is the first one named; without the reference there is no verdict
    take = pruning_takeaway(RESULTS, ["random"], reference=False)
    assert "no-carrier" not in take and "shortcut" not in take
    assert "(random and baseline are not shown to differ on SMR, lower in 1 of 2 seeds)" in take
    with pytest.raises(ValueError, match="arms must name at least one arm"):
        pruning_takeaway(RESULTS, [])


def test_rows_gallery_labels_and_frames_each_row():
    import torch

    rows = {"clean": torch.zeros(3, 1, 8, 8), "stamped": torch.ones(3, 1, 8, 8)}
    fig = rows_gallery(rows, title="clean and stamped", colors=["#000000", "#D55E00"])
    assert len(fig.axes) == 6 and fig._suptitle.get_text() == "clean and stamped"
    assert [fig.axes[i].get_ylabel() for i in (0, 3)] == ["clean", "stamped"]
    assert matplotlib.colors.to_hex(fig.axes[4].spines["left"].get_edgecolor()) == "#d55e00"
    np.testing.assert_array_equal(fig.axes[5].images[0].get_array(), np.ones((8, 8)))
    with pytest.raises(ValueError, match="same number of images in every row"):
        rows_gallery({"a": torch.zeros(2, 1, 8, 8), "b": torch.zeros(3, 1, 8, 8)}, title="t")
    with pytest.raises(ValueError, match="rows must be a non-empty dict"):
        rows_gallery({}, title="t")
    with pytest.raises(ValueError, match="title must be a non-empty string"):
        rows_gallery(rows, title="")
    with pytest.raises(ValueError, match="colors must give one colour per item"):
        rows_gallery(rows, title="t", colors=["#000000"])


# --------------------------------------------------------------------------- occupancy, arm differences

def _occupancy_results():
    """Two seeds; carriers are 30% of c1. hardest prunes 40%/20% carriers, random 30%/30%."""
    out = []
    for seed, (h, r) in enumerate(((0.4, 0.3), (0.2, 0.3))):
        smr = {"hardest": 0.04 + 0.01 * seed, "random": 0.18 - 0.02 * seed}
        out.append(result(seed, 0.2, {a: arm(a, smr[a], target_pruned=100, carrier_share_pruned=share,
                                             carrier_share_target=0.3, occupancy=share / 0.3)
                                      for a, share in (("hardest", h), ("random", r))}))
    return out


def test_occupancy_bars_draw_each_arms_share_against_the_class_share():
    fig, take = occupancy_bars(_occupancy_results(), labels={"random": "at random"})
    ax = fig.axes[0]
    np.testing.assert_allclose([b.get_height() for b in ax.patches], [0.3, 0.3])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["hardest", "at random"]
    assert any(np.allclose(line.get_ydata(), 0.3) for line in ax.get_lines())   # the class share
    assert ax.get_title() == "Who was pruned from class 'ring' (2 seeds)" and ax.get_ylabel()
    assert take.startswith("Takeaway: carriers are 30% of class 'ring'; ")
    assert "hardest 30% (occupancy 1.00), random 30% (occupancy 1.00)" in take


def test_occupancy_bars_name_bad_arguments():
    res = _occupancy_results()
    with pytest.raises(ValueError, match="arms must be arms of every result"):
        occupancy_bars(res, ["easiest"])
    with pytest.raises(ValueError, match="labels must be a dict keyed by arm names"):
        occupancy_bars(res, labels={"ERM": "x"})
    with pytest.raises(ValueError, match="prunes nothing"):
        occupancy_bars([result(0, 0.2, {"jtt": arm("jtt", 0.1, carriers_pruned=0)})], ["jtt"])
    with pytest.raises(ValueError, match="at least one pruning arm"):
        occupancy_bars(res, [])


def test_arm_differences_give_the_seed_interval_of_each_difference():
    res = _occupancy_results()          # hardest - random SMR: -0.14, -0.11
    text, comps = arm_differences(res, "hardest", ["random"])
    c = comps["random"]
    np.testing.assert_allclose(c.mean, -0.125)
    half = 12.706 * np.std([-0.14, -0.11], ddof=1) / np.sqrt(2)
    np.testing.assert_allclose(c.ci95, [-0.125 - half, -0.125 + half])
    assert text == (f"hardest minus random, SMR: -0.125, 95% interval over 2 seeds "
                    f"[{-0.125 - half:+.3f}, {-0.125 + half:+.3f}]: includes 0, not shown to differ")
    three = res + [_result(2, 0.2, 0.05, 0.18)]
    text, comps = arm_differences(three, "hardest", ["random"], metric="smr")
    assert comps["random"].differs and text.endswith(
        "excludes 0: hardest leaves a lower SMR than random (better)")
    # which way, in words, for an accuracy too: higher is better there
    text, comps = arm_differences(RESULTS + [_result(2, 0.2, 0.05, 0.18)], "hardest", ["random"],
                                  metric="clean_accuracy")
    assert comps["random"].differs and comps["random"].better is False
    assert text.endswith("excludes 0: hardest reaches a lower clean accuracy than random (worse)")
    # one seed: no interval over seeds, so nothing is claimed
    text, comps = arm_differences(res[:1], "hardest", ["random"])
    assert not comps["random"].differs and "over 1 seed: no interval over seeds, so not tested" in text
    with pytest.raises(TypeError, match="others must be a list of arm names"):
        arm_differences(res, "hardest", "random")


def test_shortcut_summary_gives_the_verdict_first_and_no_percentage_without_a_shortcut():
    learned = [_result(s, 0.20 + 0.01 * s, 0.04, 0.18) for s in range(3)]
    verdict, text = shortcut_summary(learned, "hardest")
    first, second = text.splitlines()
    assert verdict.learned and first.startswith("shortcut learned in 3 of 3 seeds")
    assert "mean excess SMR +0.190" in first
    ex = [(0.20 + 0.01 * s - 0.04) / (0.18 + 0.01 * s) for s in range(3)]
    assert second == (f"hardest: {np.mean(ex):.0%} of the excess SMR removed (mean over all 3 seeds; "
                      f"per seed: {', '.join(f'{e:+.0%}' for e in ex)})")
    noise = [_result(s, 0.02 + 0.01 * (s - 1), 0.02, 0.02) for s in range(3)]   # baseline = ref on average
    verdict, text = shortcut_summary(noise, "hardest")
    assert not verdict.learned and text.startswith("no shortcut learned")
    assert text.splitlines()[1] == "hardest: no share of the excess is given (none learned)"
    with pytest.raises(ValueError, match="arms must be arms of every result"):
        shortcut_summary(learned, "easiest")


def test_composition_bars_count_what_each_arm_pruned():
    import spurlab as sl
    from spurlab.plotting import composition_bars

    cfg = sl.Config.from_string("n_train=600 n_test=120 epochs=2 score_epoch=1")
    rs = sl.run_seeds(cfg, [0, 1], arms=["hardest", "random", "hardest/sparing"], reference=False)
    fig, take = composition_bars(rs)
    axes = fig.axes
    assert [a.get_title() for a in axes] == ["'ring' carriers pruned", "'ring' non-carriers pruned",
                                             "other classes pruned"]
    assert all(a.get_xlabel() == "pruning arm" and a.get_ylabel() == "samples pruned" for a in axes)
    shares = [np.mean([r.arms[a].carriers_pruned / r.carriers for r in rs])
              for a in ("hardest", "random", "hardest/sparing")]
    assert take.startswith("Takeaway: each arm removes about 25% of every class")
    assert f"hardest removes {shares[0]:.0%}" in take and "hardest/sparing removes 0%" in take
    heights = [p.get_height() for p in axes[0].patches]
    assert heights[2] == 0 and heights[0] == np.mean([r.arms["hardest"].carriers_pruned for r in rs])


def test_seeds_table_can_show_intervals_instead_of_the_sd():
    from spurlab.stats import seed_interval

    lines = seeds_table(RESULTS, spread="ci95").splitlines()
    lo, hi = seed_interval([0.20, 0.10], (0, 1))["ci95"]
    assert f"0.150 [{lo:.3f}, {hi:.3f}]" in lines[3] and "±" not in lines[3]
    assert "[lo, hi]: the 95% t-interval of the mean over 2 seeds" in lines
    assert lines[-2] == "excess removed: mean [95% interval] over all 2 seeds"
    with pytest.raises(ValueError, match="spread must be 'sd' or 'ci95'; got 'iqr'"):
        seeds_table(RESULTS, spread="iqr")
