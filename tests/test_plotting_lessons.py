"""The plotting helpers notebooks 00-03 share: what they draw equals what they were given, every
figure is labelled, and bad arguments are refused with a message naming them."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

import spurlab as sl  # noqa: E402
from spurlab.plotting import (  # noqa: E402
    OKABE_ITO,
    bars_with_spread,
    difficulty_grid,
    flip_gallery,
    gallery,
    lines_with_spread,
    overlaid_hist,
    separation_bars,
    stacked_bars,
)


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def _hex(color):
    return matplotlib.colors.to_hex(color)


# ------------------------------------------------------------------------------ bars_with_spread

def test_bars_are_the_means_with_one_dot_per_seed_and_the_labels():
    fig, ax = plt.subplots()
    means = bars_with_spread(ax, ["easiest", "hardest"], [[0.1, 0.3], [0.5, 0.7, 0.9]],
                             ylabel="SMR", title="Where the carriers sit", xlabel="carriers",
                             ylim=(0, 1))
    assert means == pytest.approx([0.2, 0.7])
    assert [p.get_height() for p in ax.patches] == pytest.approx([0.2, 0.7])
    scatters = [c for c in ax.collections if isinstance(c, matplotlib.collections.PathCollection)]
    dots = np.concatenate([c.get_offsets()[:, 1] for c in scatters])
    assert sorted(dots.tolist()) == pytest.approx([0.1, 0.3, 0.5, 0.7, 0.9])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["easiest", "hardest"]
    assert (ax.get_ylabel(), ax.get_xlabel(), ax.get_title()) == ("SMR", "carriers",
                                                                  "Where the carriers sit")
    assert ax.get_ylim() == (0, 1)
    assert [_hex(p.get_facecolor()) for p in ax.patches] == [OKABE_ITO[0].lower(), OKABE_ITO[1].lower()]


def test_bars_marks_draw_a_line_across_or_one_per_bar_with_a_legend():
    fig, ax = plt.subplots()
    bars_with_spread(ax, ["weak", "strong"], [[40, 50], [10, 12]], ylabel="percentile", title="T",
                     marks={"50: spread evenly": 50, "floor": [15, 35]})
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["50: spread evenly", "floor"]
    across = [ln for ln in ax.get_lines() if ln.get_label() == "50: spread evenly"][0]
    assert list(across.get_ydata()) == [50, 50]
    per_bar = [c for c in ax.collections if c.get_label() == "floor"][0]
    ys = sorted({round(float(y), 6) for seg in per_bar.get_segments() for y in seg[:, 1]})
    assert ys == [15, 35]


@pytest.mark.parametrize("kwargs,match", [
    ({"labels": ["a"], "per_label_values": [[1], [2]]}, "one list of values per label"),
    ({"labels": [], "per_label_values": []}, "at least one bar"),
    ({"labels": ["a"], "per_label_values": [[]]}, "at least one value per bar"),
    ({"labels": ["a", "b"], "per_label_values": [[1], [2]], "colors": ["red"]}, "colors must give"),
    ({"labels": ["a"], "per_label_values": [[1]], "ylim": (1, 0)}, "ylim must have low < high"),
    ({"labels": ["a"], "per_label_values": [[1]], "marks": {"floor": [1, 2]}}, "marks\\['floor'\\]"),
])
def test_bars_refuse_bad_arguments_naming_them(kwargs, match):
    fig, ax = plt.subplots()
    with pytest.raises(ValueError, match=match):
        bars_with_spread(ax, ylabel="y", title="t", **kwargs)


# ----------------------------------------------------------------------------- lines_with_spread

def test_lines_are_the_mean_over_seeds_with_a_band_of_one_sd():
    fig, ax = plt.subplots()
    runs = np.array([[0.2, 0.4, 0.9], [0.4, 0.6, 0.7]])
    means = lines_with_spread(ax, [1, 2, 3], {"carriers": runs, "one run": [0.1, 0.2, 0.3]},
                              xlabel="epoch", ylabel="EL2N", title="T", vlines={"scored here": 2})
    assert means["carriers"] == pytest.approx(runs.mean(0))
    line = [ln for ln in ax.get_lines() if ln.get_label() == "carriers"][0]
    assert list(line.get_ydata()) == pytest.approx(runs.mean(0).tolist())
    band = ax.collections[0].get_paths()[0].vertices[:, 1]
    sd = runs.std(0, ddof=1)
    assert band.max() == pytest.approx((runs.mean(0) + sd).max())
    assert band.min() == pytest.approx((runs.mean(0) - sd).min())
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["carriers", "one run", "scored here"]
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == ("epoch", "EL2N", "T")


def test_lines_errorbars_and_dots_show_every_seed():
    fig, ax = plt.subplots()
    runs = [[0.1, 0.5], [0.3, 0.9]]
    lines_with_spread(ax, [20, 80], {"SMR": runs}, xlabel="percentile", ylabel="SMR", title="T",
                      errorbars=True, dots=True, ylim=(0, 1))
    scatters = [c for c in ax.collections if isinstance(c, matplotlib.collections.PathCollection)]
    dots = scatters[0].get_offsets()
    assert sorted(map(tuple, dots.tolist())) == [(20, 0.1), (20, 0.3), (80, 0.5), (80, 0.9)]
    assert ax.get_ylim() == (0, 1)


@pytest.mark.parametrize("args,match", [
    (([], {"a": []}), "x must be a non-empty"),
    (([1, 2], {"a": [1, 2, 3]}), "series\\['a'\\] must be shaped"),
    (([1, 2], {}), "series must be a non-empty dict"),
])
def test_lines_refuse_bad_arguments_naming_them(args, match):
    fig, ax = plt.subplots()
    with pytest.raises((ValueError, TypeError), match=match):
        lines_with_spread(ax, *args, xlabel="x", ylabel="y", title="t")


# ----------------------------------------------------------------------- gallery, difficulty_grid

def test_gallery_labels_rows_and_columns():
    fig = gallery(torch.rand(6, 3, 8, 8), ncols=3, title="G", titles=list("abcdef"),
                  row_labels=["clean", "with line"], col_labels=["x", "", "z"])
    assert fig._suptitle.get_text() == "G"
    assert [fig.axes[i].get_ylabel() for i in (0, 3)] == ["clean", "with line"]
    assert [fig.axes[i].get_xlabel() for i in (3, 4, 5)] == ["x", "", "z"]
    assert [a.get_title() for a in fig.axes] == list("abcdef")


@pytest.mark.parametrize("kwargs,match", [
    ({"images": torch.rand(2, 8, 8)}, "images must be a \\(N, C, H, W\\)"),
    ({"titles": ["only one"]}, "titles must hold exactly 2"),
    ({"row_labels": ["a", "b"]}, "row_labels must hold at most 1"),
    ({"ncols": 0}, "ncols must be an integer"),
])
def test_gallery_refuses_bad_arguments_naming_them(kwargs, match):
    args = {"images": torch.rand(2, 1, 8, 8), "ncols": 2, **kwargs}
    with pytest.raises(ValueError, match=match):
        gallery(args.pop("images"), **args)


def test_difficulty_grid_orders_every_class_from_easiest_to_hardest():
    y = np.repeat([0, 1, 2], 10)
    scores = np.random.default_rng(0).random(30)
    fig, grid = difficulty_grid(torch.rand(30, 1, 8, 8), torch.as_tensor(y), scores,
                                ["disk", "ring", "cross"], ncols=4, title="T")
    assert grid.shape == (3, 4)
    for k in range(3):
        assert (y[grid[k]] == k).all()
        assert scores[grid[k, 0]] == scores[y == k].min()
        assert scores[grid[k, -1]] == scores[y == k].max()
        assert (np.diff(scores[grid[k]]) >= 0).all()
    assert [fig.axes[4 * k].get_ylabel() for k in range(3)] == ["disk", "ring", "cross"]
    assert fig.axes[0].get_title() == f"d={scores[grid[0, 0]]:.2f}"
    assert (fig.axes[8].get_xlabel(), fig.axes[11].get_xlabel()) == ("easier", "harder")


@pytest.mark.parametrize("kwargs,match", [
    ({"scores": np.ones(5)}, "scores must hold one finite number per image"),
    ({"labels": np.array([0, 0, 1, 1, 2, 2])}, "class_names must name every class"),
    ({"class_names": ["a", "b", "c"]}, "labels must hold every class"),
    ({"ncols": 1}, "ncols must be an integer in \\[2"),
])
def test_difficulty_grid_refuses_bad_arguments_naming_them(kwargs, match):
    args = {"images": torch.rand(6, 1, 8, 8), "labels": np.array([0, 0, 0, 1, 1, 1]),
            "scores": np.arange(6.0), "class_names": ["a", "b"], **kwargs}
    with pytest.raises(ValueError, match=match):
        difficulty_grid(args.pop("images"), args.pop("labels"), args.pop("scores"),
                        args.pop("class_names"), **args)


# ---------------------------------------------------------------------------------- stacked_bars

def test_stacked_bars_pile_the_parts_and_return_the_totals():
    fig, ax = plt.subplots()
    totals = stacked_bars(ax, ["disk", "ring"], {"no line": [10, 7], "carries the line": [0, 3]},
                          xlabel="class", ylabel="training images", title="Who carries the line")
    assert totals.tolist() == [10, 10]
    bars = ax.patches
    assert [b.get_height() for b in bars] == [10, 7, 0, 3]
    assert [b.get_y() for b in bars] == [0, 0, 10, 7]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["no line", "carries the line"]
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == ("class", "training images",
                                                                  "Who carries the line")


def test_stacked_bars_refuse_negative_or_misshaped_parts():
    fig, ax = plt.subplots()
    with pytest.raises(ValueError, match="parts\\['line'\\] must hold one finite non-negative"):
        stacked_bars(ax, ["a", "b"], {"line": [1, -1]}, xlabel="x", ylabel="y", title="t")
    with pytest.raises(ValueError, match="parts\\['line'\\]"):
        stacked_bars(ax, ["a", "b"], {"line": [1]}, xlabel="x", ylabel="y", title="t")


# ---------------------------------------------------------------------------------- flip_gallery

class _LineReader(torch.nn.Module):
    """Predicts class ``c1`` when the centre row is bright (the line), else the class whose
    number is written in the top-left pixel (x 10)."""

    def __init__(self, c1, k):
        super().__init__()
        self.c1, self.k = c1, k
        self.dummy = torch.nn.Parameter(torch.zeros(1))

    def forward(self, x):
        row = x.shape[-2] // 2
        line = x[:, 0, row].mean(1) > 0.95
        cls = torch.where(line, torch.full_like(line, self.c1, dtype=torch.long),
                          (x[:, 0, 0, 0] * 10).round().long())
        return torch.nn.functional.one_hot(cls, self.k).float() + 0 * self.dummy


def _scenario(n_per_class=6, k=3, c1=2):
    import spurlab as sl

    y = torch.arange(k).repeat_interleave(n_per_class)
    x = torch.rand(len(y), 1, 8, 8) * 0.5
    x[:, 0, 0, 0] = y / 10
    data = sl.from_tensors(x, y)
    return sl.make_scenario(data, data, sl.Line(salience=1.0), target_class=c1, prevalence=0.5)


def test_flip_gallery_counts_the_predictions_the_line_flips():
    sc = _scenario()
    model = _LineReader(2, 3)
    fig, info = flip_gallery(sc, sl.stamp_predictions(model, sc), ["a", "b", "c"], n=4, title="T")
    other = (sc.test.labels != 2).numpy()
    assert info["n_other"] == other.sum() == 12
    assert (info["clean_pred"] == sc.test.labels.numpy()[other]).all()     # the top-left pixel
    assert (info["lined_pred"] == 2).all() and info["flipped"] == 12     # the line flips them all
    assert [a.get_ylabel() for a in fig.axes[::4]] == ["clean", "with line"]
    titles = [a.get_title() for a in fig.axes]
    assert titles[4:] == ["c"] * 4 and all(t in ("a", "b") for t in titles[:4])
    assert all(a.get_xlabel().startswith("true: ") for a in fig.axes[4:])
    assert fig._suptitle.get_text() == "T"


def test_flip_gallery_refuses_bad_arguments_naming_them():
    sc = _scenario()
    pred = sl.stamp_predictions(_LineReader(2, 3), sc)
    with pytest.raises(ValueError, match="class_names must hold exactly 3"):
        flip_gallery(sc, pred, ["a", "b"])
    with pytest.raises(ValueError, match="n must be at most the 12"):
        flip_gallery(sc, pred, ["a", "b", "c"], n=20)
    with pytest.raises(ValueError, match="n must be an integer"):
        flip_gallery(sc, pred, ["a", "b", "c"], n=1)
    with pytest.raises(TypeError, match="predictions must be the dict spurlab.stamp_predictions"):
        flip_gallery(sc, [1, 2], ["a", "b", "c"])
    with pytest.raises(ValueError, match="one prediction per test image"):
        flip_gallery(sc, {k: v[:5] for k, v in pred.items()}, ["a", "b", "c"])


# ----------------------------------------------------------------- overlaid_hist, separation_bars

def test_overlaid_hist_shares_the_bins_and_gives_each_group_its_size():
    fig, ax = plt.subplots()
    a, b = [0.1, 0.2, 0.2, 0.9], [0.5, 1.0]
    edges = overlaid_hist(ax, {"carriers": a, "others": b}, xlabel="EL2N", ylabel="density",
                          title="T", bins=5, log=True)
    assert edges.tolist() == pytest.approx([0.0, 0.2, 0.4, 0.6, 0.8, 1.0])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["carriers (n=4)", "others (n=2)"]
    heights = [p.get_height() for p in ax.patches]
    # densities: each group integrates to 1 over the shared bins of width 0.2
    assert sum(heights[:5]) * 0.2 == pytest.approx(1) and sum(heights[5:]) * 0.2 == pytest.approx(1)
    assert ax.get_yscale() == "log" and (ax.get_xlabel(), ax.get_title()) == ("EL2N", "T")
    with pytest.raises(ValueError, match="groups\\['x'\\] must hold at least one value"):
        overlaid_hist(ax, {"x": []}, xlabel="x", ylabel="y", title="t")
    with pytest.raises(ValueError, match="bins must be an integer"):
        overlaid_hist(ax, {"x": [1.0]}, xlabel="x", ylabel="y", title="t", bins=0)


def test_separation_bars_draw_regime_and_ks_with_their_references():
    fig, axes = plt.subplots(1, 2)
    weak = {"regime": [48, 52, 50], "floor": [15, 15, 15], "ks": [0.05, 0.07, 0.06], "ks_chance": [0.1] * 3}
    strong = {"regime": [30, 32, 34], "floor": [35, 35, 35], "ks": [0.5, 0.6, 0.7], "ks_chance": [0.2] * 3}
    got = separation_bars(axes, ["weak", "strong"], [weak, strong], class_name="ring")
    assert got["regime"] == pytest.approx([50, 32]) and got["ks"] == pytest.approx([0.06, 0.6])
    assert [p.get_height() for p in axes[0].patches] == pytest.approx([50, 32])
    floor = [c for c in axes[0].collections if c.get_label() == "floor: all easiest"][0]
    assert sorted({round(float(y), 6) for seg in floor.get_segments() for y in seg[:, 1]}) == [15, 35]
    chance = [c for c in axes[1].collections if c.get_label() == "95% of random splits"][0]
    assert sorted({round(float(y), 6) for seg in chance.get_segments() for y in seg[:, 1]}) == [0.1, 0.2]
    assert "'ring'" in axes[0].get_ylabel() and "'ring'" in axes[1].get_title()
    assert axes[0].get_xlabel() == "3 seeds" and axes[0].get_ylim() == (0, 100)
    with pytest.raises(ValueError, match="measures\\[0\\] must be a dict .* missing \\['ks_chance'\\]"):
        separation_bars(axes, ["weak"], [{"regime": [1], "floor": [1], "ks": [1]}])
    with pytest.raises(ValueError, match="axes must be two Axes"):
        separation_bars(axes[:1], ["weak"], [weak])


def test_lines_tick_every_whole_number_x():
    fig, ax = plt.subplots()
    lines_with_spread(ax, [1, 2, 3], {"a": [1, 2, 3]}, xlabel="epoch", ylabel="y", title="t")
    assert list(ax.get_xticks()) == [1, 2, 3]


def test_pruned_gallery_and_the_result_views_of_one_run():
    """Notebook 04's gallery of what an arm pruned, and the per-model views notebook 05 tabulates
    (Result.worst_group, carriers_left, carrier_weight), against the run's own records."""
    import spurlab as sl
    from spurlab.plotting import pruned_gallery

    from .conftest import TINY

    r = sl.run(TINY + " prevalence=0.5", arms=["hardest", "jtt"], reference=False)
    sc = sl.build_scenario(r.config)
    labels, carrier, c1 = sc.train.labels.numpy(), sc.carrier.numpy(), r.config.target_class
    pruned = np.asarray(r.arms["hardest"].pruned)
    target = pruned[labels[pruned] == c1]
    fig, take = pruned_gallery(r, sc, "hardest", n_target=6, n_other=4)
    shown = [a for a in fig.axes if a.get_title()]
    assert len(shown) == min(6, len(target)) + min(4, len(pruned) - len(target))
    assert sum(a.get_title().endswith("+line") for a in shown) <= int(carrier[target].sum())
    assert (f"of the {len(target)} {sl.SHAPE_CLASSES[c1]!r} images pruned, "
            f"{int(carrier[target].sum())} carried the line") in take
    plt.close(fig)
    with pytest.raises(ValueError, match="arms"):
        pruned_gallery(r, sc, "easiest")
    with pytest.raises(ValueError, match="n_target"):
        pruned_gallery(r, sc, n_target=-1)
    with pytest.raises(ValueError, match="scenario must be the one the result ran on"):
        pruned_gallery(r, sl.build_scenario(r.config.replace(prevalence=0.2)), "hardest")

    acc = np.array([np.nan if a is None else a for a in r.baseline.group_accuracy])
    assert r.worst_group() == int(np.nanargmin(acc)) and acc[r.worst_group()] == np.nanmin(acc)
    assert r.carriers_left("baseline") == r.carriers == r.carriers_left("jtt")
    assert r.carriers_left("hardest") == r.carriers - r.arms["hardest"].carriers_pruned
    assert r.carrier_weight("baseline") == pytest.approx(r.carriers / len(r.scores))
    jtt = r.arms["jtt"]
    assert r.carrier_weight("jtt") == pytest.approx(
        (r.carriers + (r.config.jtt_upweight - 1) * jtt.upweighted_carriers) / jtt.n_kept)
    assert r.metrics("hardest") is r.arms["hardest"].metrics
    with pytest.raises(ValueError, match="model must be"):
        r.metrics("reference")                  # run without one


def test_scenario_pictures_count_the_carriers_they_show():
    """Notebook 00's carrier counts and 01's carrier gallery, against the scenario itself."""
    import spurlab as sl
    from spurlab.plotting import carrier_counts, carrier_gallery

    sc = sl.build_scenario(sl.preset("smoke", prevalence=0.4))
    labels, carrier = sc.train.labels.numpy(), sc.carrier.numpy()
    in_c1, n_c1 = int(carrier[labels == 4].sum()), int((labels == 4).sum())
    fig, take = carrier_counts(sc, sl.SHAPE_CLASSES)
    heights = sorted(round(p.get_height()) for p in fig.axes[0].patches)
    assert sum(heights) == len(labels) and in_c1 in heights
    assert take.startswith(f"Takeaway: {in_c1} of {n_c1} rings") and "carry the line" in take
    plt.close(fig)
    fig, take = carrier_gallery(sc, sl.SHAPE_CLASSES, n=3)
    assert [a.get_title() for a in fig.axes if a.get_title()] == ["carrier"] * 3 + ["no line"] * 3
    assert f"{in_c1} of {n_c1} 'ring' images" in take
    plt.close(fig)
    with pytest.raises(ValueError, match="class_names"):
        carrier_counts(sc, ["a", "b"])
    with pytest.raises(ValueError, match="n"):
        carrier_gallery(sc, sl.SHAPE_CLASSES, n=0)


def test_group_accuracy_bars_and_band_curve_draw_what_they_are_given():
    import spurlab as sl
    from spurlab.plotting import band_curve, group_accuracy_bars

    from .conftest import TINY

    rs = sl.run_seeds(TINY, [0, 1], arms=[], reference=False)
    acc = np.array([[np.nan if a is None else a for a in r.baseline.group_accuracy] for r in rs])
    fig, take = group_accuracy_bars(rs)             # the class names: the results' own
    assert fig.axes[0].get_xticklabels()[9].get_text() == "ring\n+ line"
    bars = [p.get_height() for p in fig.axes[0].patches][:12]
    assert np.allclose(bars, np.nanmean(acc, 0), equal_nan=True)
    worst = int(np.nanargmin(np.nanmean(acc, 0)))
    assert f"at {np.nanmin(np.nanmean(acc, 0)):.1%}" in take and sl.SHAPE_CLASSES[worst // 2] in take
    plt.close(fig)
    with pytest.raises(ValueError, match="class_names"):
        group_accuracy_bars(rs, ["a"])
    fig, rise, take = band_curve([10, 50, 90], np.array([[0.1, 0.1], [0.1, 0.2], [0.3, 0.4]]),
                                 class_name="ring", k=5)
    assert np.allclose(rise["mean"], [0.1, 0.15, 0.35]) and rise["upper_share"] == pytest.approx(0.8)
    assert "super-linear in this run" in take and "not super-linear" not in take
    plt.close(fig)
    with pytest.raises(ValueError, match="bands"):
        band_curve([10], np.array([[0.1]]), class_name="ring", k=5)
