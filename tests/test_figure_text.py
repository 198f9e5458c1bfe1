"""Every figure a lesson shows is readable, in one visual language.

Each public figure-making function of :mod:`spurlab.charts`, :mod:`spurlab.plotting` and
:mod:`spurlab.maps`, the playground's figure and the claim-5 figure is drawn on the Agg canvas
from small stand-in data (no training; the shipped atlas and claim-5 results), with the
embedded shapes' class names and, where the figure names classes, Fashion-MNIST's long ones. The
window extent of every visible, non-empty text (titles, axis and tick labels, cell labels,
annotations, legends) is compared with every other's: no two may share more than :data:`TOL`
pixels both ways (a legend counts as one box, a multi-line text as one), neighbouring tick
labels must stand :data:`TICK_GAP` pixels apart, no text may lie on another panel, and none may
be cut off at the figure's edge. Then: the same model has the same colour and label in every
figure (:data:`spurlab.charts.MODEL_STYLE`).
"""

import matplotlib

matplotlib.use("Agg")

import dataclasses  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.text import Text  # noqa: E402

import spurlab as sl  # noqa: E402
from spurlab import charts, maps, plotting  # noqa: E402
from spurlab.dynamics import DataMap, Dynamics  # noqa: E402
from spurlab.parts import ScenarioFacts  # noqa: E402

from .stand_in import arm, metrics, result  # noqa: E402

TOL = 2          # pixels two texts may share (antialiasing, descenders) before they collide
TICK_GAP = 3     # pixels at least between two neighbouring tick labels of one axis


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


# --------------------------------------------------------------------------- the check

def _drawn_ticks(axis):
    """The ticks an axis draws (those inside its view), with their visible labels."""
    ticks = axis._update_ticks() if hasattr(axis, "_update_ticks") else axis.get_major_ticks()
    return [label for t in ticks for label in (t.label1, t.label2) if label.get_visible()]


def texts(fig):
    """``[(name, bbox)]``: every visible, non-empty text of a drawn figure; a legend counts as
    one box."""
    if not hasattr(fig.canvas, "get_renderer"):            # a bare Figure (the playground's)
        FigureCanvasAgg(fig)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    items, seen = [], set()

    def add(name, t):
        if isinstance(t, Text) and id(t) not in seen and t.get_visible() and t.get_text().strip():
            seen.add(id(t))
            items.append((f"{name}: {t.get_text()!r}", t.get_window_extent(renderer)))

    for attr in ("_suptitle", "_supxlabel", "_supylabel"):
        add(attr.strip("_"), getattr(fig, attr, None))
    for t in fig.texts:
        add("figure text", t)
    legends = list(fig.legends)
    for i, ax in enumerate(fig.axes):
        if not ax.get_visible():
            continue
        where = f"axes {i}"
        for t in (ax.title, ax._left_title, ax._right_title):
            add(f"{where} title", t)
        if ax.axison:
            for axis, nm in ((ax.xaxis, "x"), (ax.yaxis, "y")):
                if not axis.get_visible():
                    continue
                add(f"{where} {nm}label", axis.label)
                add(f"{where} {nm}offset", axis.offsetText)
                for t in _drawn_ticks(axis):
                    add(f"{where} {nm}tick", t)
        for t in ax.texts:
            add(f"{where} text", t)
        for tab in ax.tables:
            for cell in tab.get_celld().values():
                add(f"{where} cell", cell.get_text())
        if ax.get_legend() is not None:
            legends.append(ax.get_legend())
    for j, leg in enumerate(legends):
        if leg.get_visible() and any(t.get_text().strip() for t in leg.get_texts()):
            names = ", ".join(t.get_text() for t in leg.get_texts())
            items.append((f"legend {j} [{names}]", leg.get_window_extent(renderer)))
    return items


def overlaps(fig, tol=TOL):
    """The pairs of texts of ``fig`` whose boxes share more than ``tol`` pixels both ways."""
    items = texts(fig)
    out = []
    for i, (a, ba) in enumerate(items):
        for b, bb in items[i + 1:]:
            dx = min(ba.x1, bb.x1) - max(ba.x0, bb.x0)
            dy = min(ba.y1, bb.y1) - max(ba.y0, bb.y0)
            if dx > tol and dy > tol:
                out.append(f"{a} / {b} ({dx:.0f} x {dy:.0f} px)")
    return out


def crowded_ticks(fig, gap=TICK_GAP):
    """Neighbouring tick labels of one axis closer than ``gap`` pixels (they read as one)."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    out = []
    for i, ax in enumerate(fig.axes):
        if not (ax.get_visible() and ax.axison):
            continue
        for axis, nm in ((ax.xaxis, "x"), (ax.yaxis, "y")):
            labels = [t for t in _drawn_ticks(axis) if t.get_visible() and t.get_text().strip()]
            boxes = sorted(((t.get_window_extent(renderer), t.get_text()) for t in labels),
                           key=lambda b: b[0].x0 if nm == "x" else b[0].y0)
            for (a, ta), (b, tb) in zip(boxes, boxes[1:]):
                apart = b.x0 - a.x1 if nm == "x" else b.y0 - a.y1
                if apart < gap and min(a.y1, b.y1) > max(a.y0, b.y0) - gap and \
                        min(a.x1, b.x1) > max(a.x0, b.x0) - gap:
                    out.append(f"axes {i} {nm}ticks {ta!r} and {tb!r}: {apart:.0f} px apart")
    return out


def on_other_axes(fig, tol=TOL):
    """Texts of one axes (or of the figure) lying on another axes' drawing area: a title on the
    image above it, a tick label on the next panel. Legends are left out: one is placed in
    its own axes on purpose."""
    renderer = fig.canvas.get_renderer()
    items = [(a, b) for a, b in texts(fig) if not a.startswith("legend")]
    out = []
    for i, ax in enumerate(fig.axes):
        if not (ax.get_visible() and (ax.axison or ax.images)):
            continue
        box = ax.get_window_extent(renderer)
        for a, b in items:
            dx = min(box.x1, b.x1) - max(box.x0, b.x0)
            dy = min(box.y1, b.y1) - max(box.y0, b.y0)
            if not a.startswith(f"axes {i} ") and dx > tol and dy > tol:
                out.append(f"{a} on axes {i} ({dx:.0f} x {dy:.0f} px)")
    return out


def outside(fig, tol=TOL):
    """The texts of ``fig`` that do not fit in it (cut off at its edge)."""
    w, h = fig.canvas.get_width_height()
    return [f"{a} ({b.x0:.0f}, {b.y0:.0f}, {b.x1:.0f}, {b.y1:.0f} in {w} x {h})"
            for a, b in texts(fig) if b.x0 < -tol or b.y0 < -tol or b.x1 > w + tol or b.y1 > h + tol]


def test_the_check_sees_two_texts_on_top_of_each_other_and_not_two_apart():
    fig, ax = plt.subplots()
    ax.text(0.5, 0.5, "one label")
    ax.text(0.51, 0.5, "another label")
    assert len(overlaps(fig)) == 1
    fig, ax = plt.subplots()
    ax.text(0.1, 0.1, "one label")
    ax.text(0.6, 0.8, "another label")
    ax.legend(handles=[plt.Line2D([], [], label="a"), plt.Line2D([], [], label="b")])
    assert overlaps(fig) == [] and outside(fig) == []
    fig, ax = plt.subplots(figsize=(2, 2))
    ax.set_xticks([0, 0.5, 1], ["a long tick label", "another long one", "and a third"])
    ax.set_title("a title far too long for a figure two inches wide")
    assert crowded_ticks(fig) and outside(fig)
    fig, axes = plt.subplots(2, 1, figsize=(2, 1.2))
    axes[1].set_title("a title on the panel above")
    assert on_other_axes(fig)


# --------------------------------------------------------------------------- stand-in data

SHAPES = (tuple(sl.SHAPE_CLASSES), 4)                          # class names, target class
FASHION = (tuple(sl.class_names("fashion_mnist")), 9)          # long names: 'Ankle boot'


def _mech(name, seed, k, c1):
    """An arm with every measure a figure of notebooks 04-05 draws, for ``k`` classes."""
    hard = {"hardest": 0.9, "random": 0.25, "easiest": 0.0, "hardest/sparing": 0.0,
            "hardest/oracle": 1.0, "easiest/oracle": 0.0}.get(name, 0.3)
    share = {"hardest": 0.35, "random": 0.3, "easiest": 0.1, "hardest/sparing": 0.0}.get(name, 1.0)
    pruned = (15 + seed, 35 - seed) if name != "hardest/sparing" else (0, 50)
    by_group = [20, 0] * k
    by_group[2 * c1:2 * c1 + 2] = [pruned[1], pruned[0]]
    smr = {"hardest": 0.05, "random": 0.15, "easiest": 0.2}.get(name, 0.1) + 0.01 * seed
    return dataclasses.replace(
        arm(name, smr, 0.85, carriers_pruned=pruned[0]), pruned_by_group=tuple(by_group),
        target_pruned=sum(pruned), carrier_share_pruned=share, carrier_share_target=0.3,
        occupancy=share / 0.3, removed_percentile=80.0 if hard > 0.5 else 40.0,
        kept_percentile=45.0, hard_removed=hard, n_hard=10, latent_removed_percentile=70.0,
        latent_kept_percentile=48.0, latent_hard_removed=hard * 0.8)


def _results(setting=SHAPES, arms=("hardest", "random", "easiest", "hardest/sparing"),
             seeds=(0, 1, 2), reference=True):
    """Stand-in results over ``seeds``: notebook 04's arms by default, every measure filled."""
    names, c1 = setting
    out = []
    for s in seeds:
        a = {n: (arm("jtt", 0.12, carriers_pruned=0, n_kept=1300, upweighted=50,
                     upweighted_carriers=10) if n == "jtt" else _mech(n, s, len(names), c1))
             for n in arms}
        r = result(s, 0.2 + 0.02 * s, a, reference=reference, classes=names, target_class=c1)
        out.append(dataclasses.replace(r, baseline=metrics(0.2 + 0.02 * s, groups=2 * len(names))))
    return out


def _scenario(setting=SHAPES, n_per_class=12, prevalence=0.5):
    names, c1 = setting
    g = torch.Generator().manual_seed(0)
    y = torch.arange(len(names)).repeat_interleave(n_per_class)
    x = torch.rand(len(y), 1, 16, 16, generator=g) * 0.6
    data = sl.from_tensors(x, y, classes=names, difficulty=torch.rand(len(y), generator=g))
    return sl.make_scenario(data, data, sl.Line(salience=1.0), target_class=c1,
                            prevalence=prevalence)


def _dynamics(k, n_per_group=20, epochs=(1, 2, 3, 4, 5)):
    rng = np.random.default_rng(0)
    groups = np.repeat(np.arange(2 * k), n_per_group)
    conf = np.clip(rng.random((len(epochs), len(groups))) * 0.5
                   + np.linspace(0.3, 0.5, len(epochs))[:, None], 0, 1)
    return Dynamics(epochs=np.array(epochs), confidence=conf, correct=conf > 0.5,
                    el2n=1 - conf, groups=groups, config=sl.Config(score_epoch=2))


# --------------------------------------------------------------------------- every figure
# each builder takes (class names, target class) and returns the figure as a lesson draws it;
# an axes-level helper is drawn into a constrained-layout figure, as its caller would

def _axes(figsize=None, n=1):
    fig, axes = plt.subplots(1, n, figsize=figsize, layout="constrained")
    return fig, axes


def _bars_with_spread(names, c1):
    fig, ax = _axes((5.5, 3.8))
    cls = names[c1]
    charts.bars_with_spread(ax, [f"20 easiest {cls!r}\ncarry the line", f"20 hardest {cls!r}\ncarry "
                                 "the line"], [[0.0, 0.03, 0.01], [0.3, 0.4, 0.35]],
                            ylabel="spurious misclassification rate", bounds=(0, 1),
                            xlabel=f"which {cls!r} images carry the line", marks={"chance": 0.2},
                            title="Where the 20 carriers sit decides the damage (3 seeds)")
    return fig


def _lines_with_spread(names, c1):
    fig, ax = _axes()
    rng = np.random.default_rng(0)
    charts.lines_with_spread(ax, [1, 2, 3, 4, 5], {"carriers": rng.random((3, 5)),
                                                   "others": rng.random((3, 5))},
                             xlabel="epoch", ylabel="EL2N", title="Mean EL2N per group",
                             vlines={"scored": 2}, bounds=(0, 2 ** 0.5))
    return fig


def _gallery(names, c1):
    return charts.gallery(torch.rand(20, 1, 16, 16), ncols=10,
                          titles=[f"d={v:.2f}" for v in np.linspace(0, 1, 20)],
                          row_labels=["easy", "hard"], col_labels=["easier"] + [""] * 8 + ["harder"],
                          title="'ring' images carrying the line: easiest (blue) vs hardest (orange)")


def _difficulty_grid(names, c1):
    y = np.repeat(np.arange(len(names)), 10)
    return charts.difficulty_grid(torch.rand(len(y), 1, 16, 16), torch.as_tensor(y),
                                  np.random.default_rng(0).random(len(y)), list(names), ncols=8,
                                  title="Each class from its easiest image (left) to its hardest")[0]


def _stacked_bars(names, c1):
    fig, ax = _axes((7, 3))
    k = len(names)
    charts.stacked_bars(ax, list(names), {"no line": [100] * k, "carries the line": [0] * k},
                        xlabel="class", ylabel="training images", title="Who carries the line")
    return fig


def _overlaid_hist(names, c1):
    fig, ax = _axes((7, 3.8))
    rng = np.random.default_rng(0)
    cls = names[c1]
    charts.overlaid_hist(ax, {f"{cls!r} without the line": rng.random(200),
                              f"{cls!r} with the line": rng.random(60)}, log=True,
                         xlabel="early EL2N (after epoch 2; higher = harder)",
                         ylabel="density (log scale)", title=f"Early EL2N of class {cls!r}")
    return fig


def _rows_gallery(names, c1):
    return charts.rows_gallery({f"clean {names[c1]}": torch.rand(6, 1, 16, 16),
                                f"{names[c1]} + line": torch.rand(6, 1, 16, 16),
                                "other + line": torch.rand(6, 1, 16, 16)},
                               title="The centre line at salience 1")


def _plot_result(names, c1):
    return plotting.plot_result(_results((names, c1), seeds=(0,))[0])[0]


def _shortcut_bars(names, c1):
    v = {"smr": [0.2, 0.25, 0.22], "smr_clean": [0.01, 0.02, 0.01],
         "smr_reference": [0.03, 0.02, 0.04], "clean_accuracy": [0.9, 0.91, 0.92],
         "clean_accuracy_reference": [0.9, 0.9, 0.91]}
    return plotting.shortcut_bars(v, class_name=names[c1], title="The line on 30% of c1, 3 seeds")


def _compare_models(names, c1):
    return plotting.compare_models(_results((names, c1)), title="Pruning 25% of every class by "
                                   "early EL2N, then retraining (3 seeds)")[0]


def _compare_models_oracle(names, c1):
    """Notebook 05: oracle, its random control, JTT and label-free pruning, four metrics."""
    runs = _results((names, c1), ("hardest/oracle", "random/oracle", "jtt", "hardest"),
                    reference=False)
    return plotting.compare_models(runs, reference=False,
                                   metrics=("smr", "clean_accuracy", "group_balanced_accuracy",
                                            "worst_group_accuracy"),
                                   title="Prune ratio p = 0.25, JTT upweight x5: mean, sd and "
                                         "each of 3 seeds")[0]


def _flip_gallery(names, c1):
    sc = _scenario((names, c1))
    other = (sc.test.labels != c1).numpy()
    truth = sc.test.labels.numpy()[other]
    pred = {"clean": truth, "stamped": np.where(np.arange(len(truth)) % 2 == 0, c1, truth),
            "truth": truth}
    return plotting.flip_gallery(sc, pred, list(names))[0]


def _separation_bars(names, c1):
    fig, axes = _axes((10, 3.6), 2)
    m = {"regime": [48, 52, 50], "floor": [15] * 3, "ks": [0.05, 0.07, 0.06], "ks_chance": [0.1] * 3}
    s = {"regime": [30, 32, 34], "floor": [35] * 3, "ks": [0.5, 0.6, 0.7], "ks_chance": [0.2] * 3}
    plotting.separation_bars(axes, ["weak\n(0.5, 1 px, 30%)", "strong\n(1, 2 px, 60%)"], [m, s],
                             class_name=names[c1], xlabel="signal (salience, thickness, prevalence)")
    fig.suptitle("Early EL2N (epoch 2) of the carriers, weak vs strong, 3 seeds")
    return fig


def _occupancy_bars(names, c1):
    return plotting.occupancy_bars(_results((names, c1)))[0]


def _composition_bars(names, c1):
    return plotting.composition_bars(_results((names, c1)))[0]


def _difficulty_of_removed(names, c1):
    return plotting.difficulty_of_removed(_results((names, c1)))[0]


def _data_map_plot(names, c1):
    rng = np.random.default_rng(0)
    groups = np.repeat(np.arange(2 * len(names)), 40)
    n = len(groups)
    dmap = DataMap(confidence=rng.random(n), variability=rng.random(n) * 0.3,
                   correctness=rng.random(n), epochs=5)
    fig, ax = _axes((7, 5))
    plotting.data_map_plot(ax, dmap, groups, c1, pruned=rng.random(n) < 0.25, boundary=True,
                           class_name=names[c1])
    return fig


def _group_trajectories(names, c1):
    fig, ax = _axes((7, 4))
    d = _dynamics(len(names))
    plotting.group_trajectories(ax, [d, d], c1, class_name=names[c1])
    return fig


def _band_curve(names, c1):
    smr = np.array([[0.05, 0.06], [0.07, 0.08], [0.1, 0.12], [0.15, 0.14], [0.3, 0.32]])
    return plotting.band_curve([10, 30, 50, 70, 90], smr, class_name=names[c1], k=50)[0]


def _carrier_share_bars(names, c1):
    fig, ax = _axes((6, 3.9))
    plotting.carrier_share_bars(ax, {"hardest\n(default line)": [0.3, 0.35],
                                     "hardest\n(strong line)": [0.05, 0.1],
                                     "random\n(strong line)": [0.25, 0.26]}, prune_ratio=0.25)
    return fig


def _group_accuracy_bars(names, c1):
    return plotting.group_accuracy_bars(_results((names, c1)))[0]


def _carrier_gallery(names, c1):
    return plotting.carrier_gallery(_scenario((names, c1)), list(names))[0]


def _carrier_counts(names, c1):
    return plotting.carrier_counts(_scenario((names, c1)), list(names))[0]


def _pruned_gallery(names, c1):
    sc = _scenario((names, c1), n_per_class=40)
    carrier = sc.carrier.numpy()
    pruned = tuple(int(i) for i in np.flatnonzero(np.arange(len(carrier)) % 4 == 0))
    a = dataclasses.replace(arm("hardest", 0.05, carriers_pruned=int(carrier[list(pruned)].sum())),
                            pruned=pruned)
    r = dataclasses.replace(result(0, 0.2, {"hardest": a}, classes=names, target_class=c1),
                            scenario=ScenarioFacts.of(sc, dataset="custom", scale="custom"))
    return plotting.pruned_gallery(r, sc, "hardest")[0]


def _carrier_ranking(names, c1):
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(len(names)), 50)
    carrier = (labels == c1) & (rng.random(len(labels)) < 0.3)
    scores = rng.random(len(labels))
    fig, ax = _axes((10, 2.6))
    plotting.carrier_ranking(ax, scores, carrier, labels, c1, class_name=names[c1],
                             kept_by={"label-free hardest": scores < 0.75,
                                      "oracle": ~(carrier & (scores > 0.5))})
    return fig


def _lead_vs_control(names, c1):
    return plotting.lead_vs_control(_results((names, c1)), "hardest", "random")[0]


def _cell_map(names, c1):
    fig, ax = _axes()
    cells = maps.cell_map(ax, [0.05, 0.1, 0.2, 0.3, 0.4, 0.5], [0.1, 0.3, 0.5, 0.7, 1.0],
                          np.random.default_rng(0).random((5, 6)), cmap=maps.SEQUENTIAL,
                          norm=plt.Normalize(0, 1), xlabel="prune ratio p",
                          ylabel="salience of the line", title="SMR after pruning the hardest")
    fig.colorbar(cells, ax=ax)
    return fig


def _phase_map(names, c1):                      # the shipped atlas: its whole grid
    grid = sl.load_atlas().as_grid(prevalence=0.3, prune_ratio=0.2)
    return maps.phase_map(grid, live={"prune_ratio": 0.25, "salience": 0.5,
                                      "smr_hardest": [0.02, 0.03], "smr_random": [0.05, 0.06]})[0]


def _regime_map(names, c1):
    grid = sl.load_atlas().as_grid(prevalence=0.3, prune_ratio=0.2)
    return maps.regime_map(grid, live={"salience": 0.5, "prevalence": 0.3})[0]


def _playground(names, c1, live=True):
    from spurlab.playground import Playground

    pg = Playground(sl.load_atlas())
    point = pg.show(salience=0.5, prevalence=0.3, prune_ratio=0.2)
    rows = [{"seed": 0, "arm": "hardest", "smr_baseline": 0.1, "smr_hardest": 0.05, "flag": ""}]
    return pg.figure(point, rows if live else ())


def _identifiable(names, c1):
    from spurlab import identifiable

    return identifiable.figure(identifiable.load_results())[0]


def _drivers_figure(names, c1):                 # the shipped drivers: both panels, every carrier
    return plotting.drivers_figure(sl.load_drivers()["default"])[0]


def _drivers_gallery(names, c1):
    p = sl.load_drivers()["strong"]
    return plotting.drivers_gallery(p, sl.build_scenario(sl.Config.from_string(p.config)))[0]


FIGURES = {
    "bars_with_spread": _bars_with_spread, "lines_with_spread": _lines_with_spread,
    "gallery": _gallery, "difficulty_grid": _difficulty_grid, "stacked_bars": _stacked_bars,
    "overlaid_hist": _overlaid_hist, "rows_gallery": _rows_gallery,
    "plot_result": _plot_result, "shortcut_bars": _shortcut_bars,
    "compare_models": _compare_models, "compare_models (oracle, JTT)": _compare_models_oracle,
    "flip_gallery": _flip_gallery, "separation_bars": _separation_bars,
    "occupancy_bars": _occupancy_bars, "composition_bars": _composition_bars,
    "difficulty_of_removed": _difficulty_of_removed, "data_map_plot": _data_map_plot,
    "group_trajectories": _group_trajectories, "band_curve": _band_curve,
    "carrier_share_bars": _carrier_share_bars, "group_accuracy_bars": _group_accuracy_bars,
    "carrier_gallery": _carrier_gallery, "carrier_counts": _carrier_counts,
    "pruned_gallery": _pruned_gallery, "carrier_ranking": _carrier_ranking,
    "lead_vs_control": _lead_vs_control, "cell_map": _cell_map, "phase_map": _phase_map,
    "regime_map": _regime_map, "Playground.figure": _playground,
    "identifiable.figure": _identifiable, "drivers_figure": _drivers_figure,
    "drivers_gallery": _drivers_gallery,
}
# the figures that name classes: drawn with the shapes' names and Fashion-MNIST's
NAMES_CLASSES = {"difficulty_grid", "stacked_bars", "overlaid_hist", "rows_gallery", "plot_result",
                 "shortcut_bars", "compare_models", "compare_models (oracle, JTT)",
                 "flip_gallery", "separation_bars", "occupancy_bars", "composition_bars",
                 "difficulty_of_removed", "data_map_plot", "group_trajectories", "band_curve",
                 "group_accuracy_bars", "carrier_gallery", "carrier_counts", "pruned_gallery",
                 "carrier_ranking", "lead_vs_control"}
# public names of the three modules that are not figures
NOT_FIGURES = {"GROUP_COLORS", "METRIC_LABELS", "MODEL_ALIASES", "MODEL_STYLE", "OKABE_ITO",
               "DIVERGING", "SEQUENTIAL", "MARK_UP", "arm_differences", "fit_xticks", "grid_position",
               "model_color", "model_label", "model_name", "pruning_takeaway", "seed_values",
               "seeds_table",
               "shortcut_summary", "show"}
CASES = [(n, "shapes") for n in FIGURES] + [(n, "fashion_mnist") for n in FIGURES
                                            if n in NAMES_CLASSES]


def test_every_public_figure_is_drawn_here():
    public = set(charts.__all__) | set(plotting.__all__) | set(maps.__all__)
    assert public - NOT_FIGURES - set(FIGURES) == set()


@pytest.mark.parametrize("name, dataset", CASES)
def test_no_two_texts_overlap_none_crowds_its_neighbour_and_none_is_cut_off(name, dataset):
    fig = FIGURES[name](*(SHAPES if dataset == "shapes" else FASHION))
    assert texts(fig), "the figure draws no text at all"
    found = overlaps(fig)
    assert not found, f"{name}: overlapping texts:\n" + "\n".join(found)
    crowded = crowded_ticks(fig)
    assert not crowded, f"{name}: crowded tick labels:\n" + "\n".join(crowded)
    cut = outside(fig)
    assert not cut, f"{name}: texts outside the figure:\n" + "\n".join(cut)
    astray = on_other_axes(fig)
    assert not astray, f"{name}: texts on another panel:\n" + "\n".join(astray)


# --------------------------------------------------------------------------- one visual language

def _bar_styles(ax):
    """``{tick label: bar colour}`` of a bar chart with one bar per tick."""
    from matplotlib.colors import to_hex
    from matplotlib.patches import Rectangle

    bars = sorted((p for p in ax.patches if isinstance(p, Rectangle) and p.get_height() > 0),
                  key=lambda p: p.get_x())
    ticks = {round(float(x)): t.get_text() for x, t in zip(ax.get_xticks(), ax.get_xticklabels())}
    return {ticks[round(p.get_x() + p.get_width() / 2)]: to_hex(p.get_facecolor()[:3])
            for p in bars}


def test_the_same_model_has_the_same_colour_and_label_in_every_figure():
    from matplotlib.colors import to_hex

    from spurlab.charts import model_color, model_label

    runs = _results(arms=("hardest", "random", "hardest/oracle", "jtt"))
    seen = {"compare_models": _bar_styles(plotting.compare_models(runs, metrics=["smr"])[0].axes[0]),
            "playground": _bar_styles(_playground(*SHAPES, live=False).axes[0]),
            "identifiable": _bar_styles(_identifiable(*SHAPES).axes[0])}
    models = {"compare_models": ["no carriers", "baseline", "hardest", "random", "hardest/oracle"],
              "playground": ["baseline", "reference", "hardest", "random", "easiest",
                             "hardest/oracle", "hardest/sparing"],
              "identifiable": ["erm", "random", "hardest", "hardest/oracle", "jtt"]}
    for fig, names in models.items():
        want = {model_label(m): to_hex(model_color(m)) for m in names}
        assert {k: v for k, v in seen[fig].items() if k in want} == want, fig
    shared = set.intersection(*(set(s) for s in seen.values()))
    assert {"baseline", "hardest", "random", "oracle"} <= shared
    for label in shared:
        assert len({s[label] for s in seen.values()}) == 1, label
    # the playground's no-carrier model ('reference' in the record) is compare_models' one
    assert seen["playground"][model_label("reference")] == seen["compare_models"]["no\ncarriers"]
    # overrides still win
    fig, _ = plotting.compare_models(runs, ["hardest"], metrics=["smr"],
                                     labels={"baseline": "ERM"}, colors={"hardest": "#123456"})
    styles = _bar_styles(fig.axes[0])
    assert styles["ERM"] == to_hex(model_color("baseline")) and styles["hardest"] == "#123456"


def test_unknown_models_get_a_fixed_style():
    from spurlab.charts import OKABE_ITO, model_color, model_label

    assert model_color("hardest/global") == model_color("hardest")
    assert model_label("hardest/global") == "hardest\n(global)"
    assert model_color("my arm") == model_color("my arm") in OKABE_ITO
    assert model_label("my arm") == "my arm" and model_color("erm") == model_color("baseline")
    with pytest.raises(TypeError, match="model name must be a str"):
        model_color(3)
