"""Charts that only draw the data handed to them: bars with their spread over seeds, lines,
image galleries, stacked bars and histograms, in one colour-blind-safe palette (Okabe-Ito),
with one style per model (:data:`MODEL_STYLE`: the same colour and label in every figure,
through :func:`model_color` and :func:`model_label`) and tick labels that fit
(:func:`fit_xticks`).

Every figure a lesson shows (:mod:`spurlab.plotting`) is built from these; none of them runs a
model or reads a result.
"""

from __future__ import annotations

import math

from ._validate import check_fraction, check_int
from .stats import summarize

OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
             "#000000"]

# One style per model, the same in every figure (compare_models, the playground, the claim-5
# figure, the pruning figures): model name -> (tick label, Okabe-Ito colour). The colours carry
# a meaning: black is the baseline everything is compared with, green the no-carrier model (what
# the data teach without the feature), vermillion the paper's label-free arm (prune the hardest),
# blue and orange its random and easiest controls, reddish purple oracle pruning (the hardest
# within the carriers), yellow the carrier-sparing control, sky blue JTT (upweight, no pruning).
# The oracle's random and easiest controls share their strategy's colour (no lesson shows them
# beside it). Names not here: see model_color and model_label.
MODEL_STYLE = {
    "no carriers": ("no\ncarriers", "#009E73"),      # the no-carrier reference model
    "baseline": ("baseline", "#000000"),              # ERM on the data with the carriers
    "hardest": ("hardest", "#D55E00"),                # prune the hardest of every class
    "random": ("random", "#0072B2"),                  # the same share at random
    "easiest": ("easiest", "#E69F00"),                # the easiest instead
    "hardest/oracle": ("oracle", "#CC79A7"),          # the hardest within the carriers
    "hardest/sparing": ("sparing", "#F0E442"),        # as many of the hardest, no carrier
    "jtt": ("JTT", "#56B4E9"),                        # upweight the baseline's mistakes
    # past the eight Okabe-Ito colours: Paul Tol's colour-blind-safe wine and olive
    "dfr": ("DFR", "#882255"),                        # last layer on group-balanced validation
    "afr": ("AFR-style", "#999933"),                  # last layer, loss-reweighted, label-free
    "random/oracle": ("oracle\n(random)", "#0072B2"),  # carriers at random
    "easiest/oracle": ("oracle\n(easiest)", "#E69F00"),  # the easiest carriers
}
# other names of the same models: the record's and the claim-5 comparison's
MODEL_ALIASES = {"reference": "no carriers", "erm": "baseline"}


def _model_key(name):
    if not isinstance(name, str):
        raise TypeError(f"a model name must be a str such as 'baseline' or 'hardest/oracle'; got "
                        f"{name!r}")
    return MODEL_ALIASES.get(name, name)


def model_color(name):
    """The colour of a model in every figure (:data:`MODEL_STYLE`).

    Aliases (``'reference'``, ``'erm'``) read as the model they name. A name not in the table
    gets, deterministically: for an arm ``'strategy/scope'`` (``'hardest/global'``) its
    strategy's colour; for anything else an Okabe-Ito colour fixed by the name's CRC-32, so the
    same name has the same colour in every figure and every session.

    Examples
    --------
    >>> model_color("baseline"), model_color("reference"), model_color("hardest/global")
    ('#000000', '#009E73', '#D55E00')
    """
    import zlib

    key = _model_key(name)
    if key in MODEL_STYLE:
        return MODEL_STYLE[key][1]
    strategy = key.partition("/")[0]
    if strategy in MODEL_STYLE:
        return MODEL_STYLE[strategy][1]
    return OKABE_ITO[zlib.crc32(key.encode()) % len(OKABE_ITO)]


def model_label(name):
    r"""The tick label of a model in every figure (:data:`MODEL_STYLE`).

    Aliases read as the model they name; an arm ``'strategy/scope'`` not in the table is
    labelled ``'strategy\n(scope)'``; any other name is its own label.

    Examples
    --------
    >>> model_label("hardest/oracle"), model_label("erm"), model_label("hardest/global")
    ('oracle', 'baseline', 'hardest\n(global)')
    """
    key = _model_key(name)
    if key in MODEL_STYLE:
        return MODEL_STYLE[key][0]
    strategy, _, scope = key.partition("/")
    if scope and strategy in MODEL_STYLE:
        return f"{strategy}\n({scope})"
    return key


def model_name(name):
    """A model's label on one line, for texts (:func:`model_label` without its line breaks).

    Examples
    --------
    >>> model_name("hardest/global")
    'hardest (global)'
    """
    return model_label(name).replace("\n", " ")


def _halo():
    """A thin white edge round error bars: they stay visible on a dark bar (the baseline's)."""
    from matplotlib import patheffects

    return [patheffects.withStroke(linewidth=2.5, foreground="white")]


def _text_width(text, size):
    """Width in points of the widest line of ``text`` at ``size`` points (the default font)."""
    from matplotlib.textpath import TextPath

    return max((TextPath((0, 0), line, size=size).get_extents().width if line.strip() else 0.0)
               for line in str(text).split("\n"))


def _wrapped(text, width, size):
    """``text`` with each line broken at spaces and after '/' into lines of at most ``width``
    points at ``size`` (a word wider than that stays whole)."""
    import re

    out = []
    for line in str(text).split("\n"):
        words, cur = re.findall(r"[^ /]+/?|/", line), ""
        for w in words:
            trial = cur + ("" if not cur or cur.endswith("/") else " ") + w
            if cur and _text_width(trial, size) > width:
                out.append(cur)
                cur = w
            else:
                cur = trial
        out.append(cur)
    return "\n".join(out)


def fit_xticks(ax, *, smallest=7.0, margin=0.85, gap=4.0):
    r"""Make a categorical axis's tick labels fit side by side: the largest size from the
    current one down to ``smallest`` points at which the widest label fits the width of one
    category, else ``smallest`` with each label broken at spaces and after '/'.

    The width is the axes' share of the figure now, times ``margin`` (a layout usually shrinks
    the axes a little), minus ``gap`` points between neighbours. Returns the size chosen.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots(figsize=(3, 2))
    >>> ax.set_xticks(range(4), ["T-shirt/top", "Trouser", "Pullover", "Ankle boot"])[:0]
    []
    >>> fit_xticks(ax), [t.get_text() for t in ax.get_xticklabels()][::3]
    (7.0, ['T-shirt/\ntop', 'Ankle\nboot'])
    """
    labels = [t.get_text() for t in ax.get_xticklabels()]
    if not labels:
        return None
    width = ax.get_position().width * ax.figure.get_figwidth() * 72 * margin / len(labels) - gap
    size = ax.get_xticklabels()[0].get_fontsize()
    for s in sorted({size, *(x for x in (9.0, 8.0, smallest) if smallest <= x < size)},
                    reverse=True):
        if max(_text_width(t, s) for t in labels) <= width:
            ax.tick_params(axis="x", labelsize=s)
            return s
    ax.set_xticks(ax.get_xticks(), [_wrapped(t, width, smallest) for t in labels])
    ax.tick_params(axis="x", labelsize=smallest)
    return smallest


def _fit_title(ax, title, *, margin=0.85):
    """``title`` broken at spaces where one line would be wider than the axes."""
    from matplotlib import rcParams
    from matplotlib.font_manager import FontProperties

    size = FontProperties(size=rcParams["axes.titlesize"]).get_size_in_points()
    width = ax.get_position().width * ax.figure.get_figwidth() * 72 * margin
    return title if _text_width(title, size) <= width else _wrapped(title, width, size)


def _check_colors(name, colors, n):
    if colors is None:
        return [OKABE_ITO[i % len(OKABE_ITO)] for i in range(n)]
    if isinstance(colors, str) or not hasattr(colors, "__len__") or len(colors) < n:
        raise ValueError(f"{name} must give one colour per item ({n}); got {colors!r}")
    return list(colors)


def _check_labels(name, labels, n=None, *, at_most=False):
    if isinstance(labels, str) or not hasattr(labels, "__iter__"):
        raise TypeError(f"{name} must be a list of strings; got {labels!r}")
    labels = [str(v) for v in labels]
    if n is not None and (len(labels) > n if at_most else len(labels) != n):
        want = f"at most {n}" if at_most else f"exactly {n}"
        raise ValueError(f"{name} must hold {want} labels; got {len(labels)}: {labels!r}")
    return labels


def _check_ylim(ylim, name="ylim"):
    if ylim is None:
        return None
    if not hasattr(ylim, "__len__") or len(ylim) != 2:
        raise ValueError(f"{name} must be a (low, high) pair; got {ylim!r}")
    lo = check_fraction(f"{name}[0]", ylim[0], low=-math.inf, high=math.inf)
    hi = check_fraction(f"{name}[1]", ylim[1], low=-math.inf, high=math.inf)
    if not lo < hi:
        raise ValueError(f"{name} must have low < high; got {ylim!r}")
    return lo, hi


def _spread_within(mean, sd, bounds):
    """``(below, above)``: one sd each way, cut where it would leave ``bounds`` (None: not cut)."""
    import numpy as np

    mean, sd = np.asarray(mean, dtype=float), np.asarray(sd, dtype=float)
    if bounds is None:
        return sd, sd
    lo, hi = bounds
    return (np.clip(np.minimum(sd, mean - lo), 0, None), np.clip(np.minimum(sd, hi - mean), 0, None))


def bars_with_spread(ax, labels, per_label_values, *, ylabel, title, colors=None, xlabel=None,
                     ylim=None, marks=None, bounds=None):
    """Bars at the mean of each list of per-seed values, sd error bars, and each seed as a dot.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    labels : list of str
        One label per bar.
    per_label_values : list of lists of float
        The per-seed values behind each bar (NaN ignored).
    ylabel, title : str
    colors : list, optional
        One colour per bar (default: the Okabe-Ito palette in order).
    xlabel : str, optional
    ylim : (float, float), optional
    marks : dict of str -> float or list of float, optional
        Labelled reference lines, shown in a legend: one value draws a line across the axes
        (e.g. ``{"50: spread evenly": 50}``), one value per bar a short line over each bar
        (e.g. a floor that differs between the settings).
    bounds : (float, float), optional
        The range the metric cannot leave, e.g. ``(0, 1)`` for a rate or an accuracy. The sd bar
        is a spread over seeds, not an interval: without ``bounds`` it is drawn one sd each way
        even where that passes 0 (a rate of 0.02 with an sd of 0.05); with them it is cut at the
        range, so no bar points at a value no seed can take (the seeds, drawn as dots, show the
        rest).

    Returns
    -------
    list of float
        The bar heights (the means).

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> bars_with_spread(ax, ["weak", "strong"], [[1, 3], [2, 2]], ylabel="KS", title="Gap",
    ...                  marks={"chance": [0.5, 1.0]})
    [2.0, 2.0]
    """
    import numpy as np

    labels = _check_labels("labels", labels)
    if not labels:
        raise ValueError("labels must name at least one bar; got []")
    if isinstance(per_label_values, str) or len(per_label_values) != len(labels):
        raise ValueError(f"per_label_values must hold one list of values per label ({len(labels)}); "
                         f"got {per_label_values!r}")
    values = [np.asarray(v, dtype=float).ravel() for v in per_label_values]
    for lab, v in zip(labels, values):
        if len(v) == 0:
            raise ValueError(f"per_label_values must hold at least one value per bar; bar {lab!r} "
                             "has none")
    colors = _check_colors("colors", colors, len(labels))
    ylim = _check_ylim(ylim)
    bounds = _check_ylim(bounds, "bounds")
    if marks is not None and not isinstance(marks, dict):
        raise TypeError(f"marks must be a dict of label -> value(s); got {marks!r}")
    summaries = [summarize(v) for v in values]
    means, sds = [m["mean"] for m in summaries], [m["sd"] for m in summaries]
    x = np.arange(len(labels))
    ax.bar(x, means, yerr=np.vstack(_spread_within(means, sds, bounds)), color=colors, capsize=4,
           alpha=0.85, error_kw={"path_effects": _halo()})
    for i, v in enumerate(values):       # white-edged: seen on a dark bar too
        ax.scatter(np.full(len(v), x[i]) + np.linspace(-0.15, 0.15, len(v)), v, color="black",
                   edgecolors="white", linewidths=0.5, s=12, zorder=3)
    for j, (label, y) in enumerate((marks or {}).items()):
        style = (":", "--", "-.")[j % 3]
        if np.ndim(y) == 0:
            ax.axhline(check_fraction(f"marks[{label!r}]", y, low=-math.inf, high=math.inf),
                       color=OKABE_ITO[7], ls=style, label=label, zorder=4)
            continue
        y = np.asarray(y, dtype=float)
        if y.shape != (len(labels),):
            raise ValueError(f"marks[{label!r}] must be one number or one per bar ({len(labels)}); "
                             f"got {y.tolist()}")
        ax.hlines(y, x - 0.4, x + 0.4, colors=OKABE_ITO[7], linestyles=style, label=label, zorder=4)
    ax.set_xticks(x, labels)
    fit_xticks(ax)                   # many bars or long labels: smaller, then wrapped
    ax.set_ylabel(ylabel)
    ax.set_title(_fit_title(ax, title))
    if xlabel is not None:
        ax.set_xlabel(xlabel)
    if ylim is not None:
        ax.set_ylim(*ylim)
    if marks:
        ax.legend(fontsize=7)
    return means


def lines_with_spread(ax, x, series, *, xlabel, ylabel, title, colors=None, errorbars=False,
                      dots=False, ylim=None, vlines=None, bounds=None):
    """One line per series at its mean over seeds, with the spread over seeds shown.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    x : list of float
        The x positions (epochs, percentiles, pixel columns, ...).
    series : dict of str -> array-like
        Label -> values, shaped ``(len(x),)`` (one run, drawn as it is) or
        ``(n_seeds, len(x))`` (the mean is drawn with a band of one standard deviation).
    xlabel, ylabel, title : str
    colors : list, optional
        One colour per series (default: the Okabe-Ito palette in order).
    errorbars : bool
        Draw the standard deviation as error bars instead of a band.
    dots : bool
        Also draw each seed's value as a black dot.
    ylim : (float, float), optional
    vlines : dict of str -> float, optional
        Labelled vertical reference lines, e.g. ``{"scored here": 3}``.
    bounds : (float, float), optional
        The range the values cannot leave (``(0, 1)`` for a rate): the sd band or bars are cut
        at it, as in :func:`bars_with_spread`.

    Returns
    -------
    dict of str -> numpy.ndarray
        The mean of each series at every x.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> means = lines_with_spread(ax, [1, 2], {"carriers": [[0.2, 0.4], [0.4, 0.6]]},
    ...                           xlabel="epoch", ylabel="EL2N", title="T", vlines={"scored": 2})
    >>> means["carriers"].tolist()
    [0.30000000000000004, 0.5]
    """
    import numpy as np

    x = np.asarray(x, dtype=float)
    if x.ndim != 1 or len(x) == 0:
        raise ValueError(f"x must be a non-empty 1-D list of positions; got shape {x.shape}")
    if not isinstance(series, dict) or not series:
        raise TypeError(f"series must be a non-empty dict of label -> values; got {series!r}")
    colors = _check_colors("colors", colors, len(series))
    ylim = _check_ylim(ylim)
    bounds = _check_ylim(bounds, "bounds")
    if vlines is not None and not isinstance(vlines, dict):
        raise TypeError(f"vlines must be a dict of label -> x; got {vlines!r}")
    means = {}
    for (label, values), color in zip(series.items(), colors):
        v = np.asarray(values, dtype=float)
        v = v[None] if v.ndim == 1 else v
        if v.ndim != 2 or v.shape[1] != len(x):
            raise ValueError(f"series[{label!r}] must be shaped ({len(x)},) or (n_seeds, {len(x)}) "
                             f"to match x; got {np.shape(values)}")
        mean = means[label] = v.mean(0)
        sd = v.std(0, ddof=1) if len(v) > 1 else np.zeros(len(x))
        below, above = _spread_within(mean, sd, bounds)
        if errorbars:
            ax.errorbar(x, mean, yerr=np.vstack([below, above]), marker="o", capsize=4,
                        color=color, label=label)
        else:
            ax.plot(x, mean, marker="o", color=color, label=label)
            ax.fill_between(x, mean - below, mean + above, color=color, alpha=0.2)
        if dots and len(v) > 1:
            ax.scatter(np.tile(x, len(v)), v.ravel(), color="black", s=10, zorder=3)
    for j, (label, pos) in enumerate((vlines or {}).items()):
        ax.axvline(check_fraction(f"vlines[{label!r}]", pos, low=-math.inf, high=math.inf),
                   color=OKABE_ITO[7], ls=(":", "--")[j % 2], label=label)
    if len(x) <= 20 and np.allclose(x, np.round(x)):      # a few whole numbers (epochs): tick each
        ax.set_xticks(x)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.legend(fontsize=8)
    return means


def gallery(images, *, titles=None, edge_colors=None, ncols=10, title="", size=1.1,
            row_labels=None, col_labels=None):
    """A grid of images with optional per-image titles, coloured frames (e.g. carrier or not)
    and labels for the rows (left) and the columns (under the last row).

    Parameters
    ----------
    images : torch.Tensor (N, C, H, W)
        Values in [0, 1]; one or three channels.
    titles : list of str, optional
        One per image.
    edge_colors : list, optional
        One frame colour per image.
    ncols : int
    title : str
    size : float
        Inches per image.
    row_labels : list of str, optional
        Up to one per row, written left of the row (e.g. ``["clean", "with line"]``).
    col_labels : list of str, optional
        Up to one per column, written under the last row (e.g. ``["easier", ..., "harder"]``).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import torch
    >>> fig = gallery(torch.rand(4, 1, 8, 8), ncols=2, title="T", row_labels=["clean", "line"])
    >>> fig.axes[2].get_ylabel()
    'line'
    """
    import matplotlib.pyplot as plt

    if not hasattr(images, "shape") or len(images.shape) != 4 or images.shape[1] not in (1, 3):
        raise ValueError(f"images must be a (N, C, H, W) tensor with 1 or 3 channels; got shape "
                         f"{tuple(getattr(images, 'shape', ()))}")
    n = len(images)
    ncols = check_int("ncols", ncols, low=1)
    nrows = max(1, -(-n // ncols))
    if titles is not None:
        titles = _check_labels("titles", titles, n)
    if edge_colors is not None:
        edge_colors = _check_colors("edge_colors", edge_colors, n)
    row_labels = _check_labels("row_labels", row_labels or [], nrows, at_most=True)
    col_labels = _check_labels("col_labels", col_labels or [], ncols, at_most=True)
    # room under each row's images for the next row's titles, and for the column labels
    height = nrows * (size * 1.15 + (0.2 if titles is not None else 0)) + (0.2 if col_labels else 0)
    fig, axes = plt.subplots(nrows, ncols, figsize=(ncols * size, height), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.set_xticks([])
        ax.set_yticks([])
        if i >= n:
            ax.axis("off")
            continue
        img = images[i].detach().cpu()
        if img.shape[0] == 1:
            ax.imshow(img[0].numpy(), cmap="gray", vmin=0, vmax=1)
        else:
            ax.imshow(img.permute(1, 2, 0).clamp(0, 1).numpy())
        if titles is not None:
            ax.set_title(titles[i], fontsize=7)
        if edge_colors is not None:
            for sp in ax.spines.values():
                sp.set_edgecolor(edge_colors[i])
                sp.set_linewidth(2.5)
    for r, label in enumerate(row_labels):
        axes[r, 0].set_ylabel(label)
    for c, label in enumerate(col_labels):
        axes[nrows - 1, c].set_xlabel(label, fontsize=7)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def difficulty_grid(images, labels, scores, class_names, *, ncols=8, title="", size=1.2):
    """One row per class, its images from the easiest (left) to the hardest (right).

    Column ``j`` shows the image of that class at difficulty quantile ``j / (ncols - 1)`` of
    ``scores``; each image is titled with its score (``d=0.42``).

    Parameters
    ----------
    images : torch.Tensor (N, C, H, W)
        Values in [0, 1].
    labels : array-like (N,) of int
    scores : array-like (N,) of float
        How hard each image is, higher = harder: a dataset's latent difficulty, early EL2N, ...
    class_names : list of str
        One name per class; the rows are labelled with them.
    ncols : int
        Images per class (at least 2: the easiest and the hardest).
    title : str
    size : float
        Inches per image.

    Returns
    -------
    (matplotlib.figure.Figure, numpy.ndarray)
        The figure and the index of the image in every cell, shaped ``(n_classes, ncols)``
        (column 0: each class's easiest image, column -1: its hardest).

    Examples
    --------
    >>> import torch
    >>> fig, idx = difficulty_grid(torch.rand(6, 1, 8, 8), [0, 0, 0, 1, 1, 1],
    ...                            [0.1, 0.9, 0.5, 0.3, 0.2, 0.8], ["a", "b"], ncols=3)
    >>> idx.tolist()
    [[0, 2, 1], [4, 3, 5]]
    """
    import numpy as np

    n = len(images) if hasattr(images, "__len__") else -1
    y = np.asarray(getattr(labels, "cpu", lambda: labels)())
    s = np.asarray(getattr(scores, "cpu", lambda: scores)(), dtype=float)
    if y.shape != (n,) or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"labels must hold one integer class per image ({n}); got shape {y.shape}, "
                         f"dtype {y.dtype}")
    if s.shape != (n,) or not np.isfinite(s).all():
        raise ValueError(f"scores must hold one finite number per image ({n}); got shape {s.shape}")
    names = _check_labels("class_names", class_names)
    if n == 0 or y.min() < 0 or y.max() >= len(names):
        raise ValueError(f"class_names must name every class in labels (0..{y.max() if n else '?'}); "
                         f"got {len(names)} names")
    ncols = check_int("ncols", ncols, low=2)
    classes = range(len(names))
    empty = [names[k] for k in classes if not (y == k).any()]
    if empty:
        raise ValueError(f"labels must hold every class of class_names; none of {empty}")
    grid = []
    for k in classes:
        idx = np.flatnonzero(y == k)
        ranked = idx[np.argsort(s[idx], kind="stable")]
        grid.append(ranked[np.round(np.linspace(0, 1, ncols) * (len(idx) - 1)).astype(int)])
    grid = np.array(grid)
    flat = grid.ravel()
    fig = gallery(images[flat], titles=[f"d={s[i]:.2f}" for i in flat], ncols=ncols, size=size,
                  row_labels=names, col_labels=["easier"] + [""] * (ncols - 2) + ["harder"],
                  title=title)
    return fig, grid


def stacked_bars(ax, labels, parts, *, xlabel, ylabel, title, colors=None):
    """Stacked bars: for every label, the parts piled up in order (e.g. per class, images without
    and with the spurious feature), with a legend.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    labels : list of str
        One label per bar.
    parts : dict of str -> list of float
        Part name -> one non-negative value per bar, stacked bottom to top in the dict's order.
    xlabel, ylabel, title : str
    colors : list, optional
        One colour per part (default: the Okabe-Ito palette in order).

    Returns
    -------
    numpy.ndarray
        The height of every bar (the sum of its parts).

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> stacked_bars(ax, ["disk", "ring"], {"no line": [10, 7], "line": [0, 3]}, xlabel="class",
    ...              ylabel="images", title="Who carries the line").tolist()
    [10.0, 10.0]
    """
    import numpy as np

    labels = _check_labels("labels", labels)
    if not labels:
        raise ValueError("labels must name at least one bar; got []")
    if not isinstance(parts, dict) or not parts:
        raise TypeError(f"parts must be a non-empty dict of part name -> values; got {parts!r}")
    colors = _check_colors("colors", colors, len(parts))
    bottom = np.zeros(len(labels))
    for (name, values), color in zip(parts.items(), colors):
        v = np.asarray(values, dtype=float)
        if v.shape != (len(labels),) or not np.isfinite(v).all() or (v < 0).any():
            raise ValueError(f"parts[{name!r}] must hold one finite non-negative value per label "
                             f"({len(labels)}); got {np.asarray(values).tolist()}")
        ax.bar(range(len(labels)), v, bottom=bottom, color=color, label=str(name))
        bottom = bottom + v
    ax.set_xticks(range(len(labels)), labels)
    fit_xticks(ax)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8)
    return bottom


def overlaid_hist(ax, groups, *, xlabel, ylabel, title, bins=30, log=False, colors=None):
    """Histograms of several groups of values on the same bins, as densities, half transparent,
    with a legend giving each group's size.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    groups : dict of str -> array-like
        Label -> values (e.g. the early EL2N of the carriers and of the other samples).
    xlabel, ylabel, title : str
    bins : int
        Number of equal bins from 0 (or the smallest value, if negative) to the largest value.
    log : bool
        Logarithmic density axis (shows sparse tails).
    colors : list, optional
        One colour per group (default: the Okabe-Ito palette in order).

    Returns
    -------
    numpy.ndarray
        The bin edges.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> overlaid_hist(ax, {"carriers": [0.1, 0.2], "others": [0.3, 0.5]}, xlabel="EL2N",
    ...               ylabel="density", title="T", bins=4).tolist()
    [0.0, 0.125, 0.25, 0.375, 0.5]
    """
    import numpy as np

    if not isinstance(groups, dict) or not groups:
        raise TypeError(f"groups must be a non-empty dict of label -> values; got {groups!r:.80}")
    values = {}
    for label, v in groups.items():
        v = np.asarray(v, dtype=float).ravel()
        if len(v) == 0 or not np.isfinite(v).all():
            raise ValueError(f"groups[{label!r}] must hold at least one value, all finite; got "
                             f"{len(v)} values")
        values[label] = v
    bins = check_int("bins", bins, low=1)
    colors = _check_colors("colors", colors, len(values))
    lo = min(0.0, min(v.min() for v in values.values()))
    hi = max(v.max() for v in values.values())
    edges = np.linspace(lo, hi if hi > lo else lo + 1.0, bins + 1)
    for (label, v), color in zip(values.items(), colors):
        ax.hist(v, bins=edges, density=True, alpha=0.55, color=color, label=f"{label} (n={len(v)})")
    if log:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=8)
    return edges


def rows_gallery(rows, *, title, colors=None, size=1.3):
    """Images in labelled rows: one row per entry of ``rows``, each framed in its row's colour
    (e.g. the same images clean, then stamped with one feature or another).

    Parameters
    ----------
    rows : dict of str -> torch.Tensor (N, C, H, W)
        Row label -> images, the same number ``N`` in every row.
    title : str
    colors : list, optional
        One frame colour per row (default: Okabe-Ito in row order).
    size : float
        Inches per image.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import torch
    >>> fig = rows_gallery({"clean": torch.zeros(3, 1, 8, 8), "line": torch.ones(3, 1, 8, 8)},
    ...                    title="T")
    >>> fig.axes[3].get_ylabel(), len(fig.axes)
    ('line', 6)
    """
    import torch

    if not isinstance(rows, dict) or not rows or not all(isinstance(k, str) for k in rows):
        raise ValueError(f"rows must be a non-empty dict of row label -> images; got {rows!r:.80}")
    sizes = {k: len(v) if hasattr(v, "shape") else None for k, v in rows.items()}
    if None in sizes.values() or len(set(sizes.values())) != 1 or 0 in sizes.values():
        raise ValueError(f"rows must hold image tensors with the same number of images in every "
                         f"row; got {sizes}")
    if not isinstance(title, str) or not title:
        raise ValueError(f"title must be a non-empty string; got {title!r}")
    colors = _check_colors("colors", colors, len(rows))      # default: Okabe-Ito in row order
    n = next(iter(sizes.values()))
    return gallery(torch.cat([torch.as_tensor(v) for v in rows.values()]), ncols=n, size=size,
                   row_labels=list(rows), edge_colors=[c for c in colors for _ in range(n)],
                   title=title)



__all__ = ["MODEL_ALIASES", "MODEL_STYLE", "OKABE_ITO", "bars_with_spread", "difficulty_grid",
           "fit_xticks", "gallery", "lines_with_spread", "model_color", "model_label", "model_name",
           "overlaid_hist", "rows_gallery", "stacked_bars"]
