"""Phase and regime maps of a grid of runs (the atlas's slices, notebook 04).

A grid holds rows of :func:`spurlab.sweeps.grid` (one per setting and seed) under
``"phase"`` (salience x prune ratio) and ``"regime"`` (salience x prevalence at a fixed prune
ratio); :meth:`spurlab.atlas.Atlas.as_grid` gives the shipped atlas in that form (nothing is
downloaded). :func:`phase_map` and :func:`regime_map` draw it as coloured cells, each labelled with its value,
optionally with the live setting of a notebook marked, and return a one-line takeaway;
:func:`cell_map` is the drawing primitive (categorical axes: one equal cell per grid value,
however unevenly the values are spaced).

Colours come from the Okabe-Ito palette: :data:`SEQUENTIAL` (white to vermillion) for a rate,
:data:`DIVERGING` (blue, white, vermillion) for a difference centred on 0.

Examples
--------
>>> grid = spurlab.load_atlas().as_grid(prevalence=0.3, prune_ratio=0.2)  # doctest: +SKIP
>>> fig, takeaway = phase_map(grid, live={"prune_ratio": 0.25, "salience": 0.5,
...                                       "smr_hardest": [0.02, 0.03],
...                                       "smr_random": [0.05, 0.06]})  # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np
from matplotlib.colors import LinearSegmentedColormap
from matplotlib.patches import Rectangle

from ._validate import check_bool
from .charts import OKABE_ITO
from .flatten import cell_effect, effects_count, key, pivot

SEQUENTIAL = LinearSegmentedColormap.from_list("okabe_seq", ["#FFFFFF", OKABE_ITO[1], OKABE_ITO[5]])
DIVERGING = LinearSegmentedColormap.from_list("okabe_div", [OKABE_ITO[0], "#FFFFFF", OKABE_ITO[5]])


def cell_map(ax, xs, ys, values, *, cmap, norm, xlabel, ylabel, title, text=None, below=False):
    """A grid of coloured cells, one per ``(x, y)`` setting, each labelled with its text.

    The axes are categorical: column ``j`` (row ``i``) is drawn at position ``j`` (``i``) and
    ticked with ``xs[j]`` (``ys[i]``), so every cell has the same size however unevenly the
    grid's values are spaced (prune ratios 0.05, 0.1, 0.2, ... or prevalences 0.05, 0.1, 0.3,
    ...) and neither cells nor labels collide. Place a marker with :func:`grid_position`.

    Parameters
    ----------
    ax : matplotlib Axes
    xs, ys : sequence of float
        Column and row values, increasing.
    values : array (len(ys), len(xs))
        Colour of each cell (NaN: drawn without colour).
    cmap, norm : matplotlib colormap and normalisation
    xlabel, ylabel, title : str
    text : array of str (len(ys), len(xs)), optional
        Label of each cell (default: the value to 2 decimals); white on a dark cell.
    below : bool
        Put the labels in the lower part of each cell, leaving its upper part for a marker
        (:data:`MARK_UP`).

    Returns
    -------
    matplotlib QuadMesh
        The cells (pass it to ``fig.colorbar``).

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> cells = cell_map(ax, [0.1, 0.2], [1.0], np.array([[0.1, 0.3]]), cmap=SEQUENTIAL,
    ...                  norm=plt.Normalize(0, 0.3), xlabel="p", ylabel="salience", title="SMR")
    >>> [t.get_text() for t in ax.texts], [t.get_text() for t in ax.get_xticklabels()]
    (['0.10', '0.30'], ['0.1', '0.2'])
    """
    values = np.asarray(values, dtype=float)
    if values.shape != (len(ys), len(xs)):
        raise ValueError(f"values must have shape (len(ys), len(xs)) = ({len(ys)}, {len(xs)}); "
                         f"got {values.shape}")
    if text is None:
        text = np.vectorize(lambda v: f"{v:.2f}")(values)
    text = np.asarray(text, dtype=object)
    if text.shape != values.shape:
        raise ValueError(f"text must have the shape of values {values.shape}; got {text.shape}")
    for n, s in (("xlabel", xlabel), ("ylabel", ylabel), ("title", title)):
        if not isinstance(s, str) or not s:
            raise ValueError(f"{n} must be a non-empty string; got {s!r}")
    below = check_bool("below", below)
    nx, ny = len(xs), len(ys)
    cells = ax.pcolormesh(np.arange(nx + 1) - 0.5, np.arange(ny + 1) - 0.5,
                          np.ma.masked_invalid(values), cmap=cmap, norm=norm, edgecolors="white",
                          linewidth=1.5)
    for (i, j), t in np.ndenumerate(text):
        v = values[i, j]
        r, g, b, _ = cmap(norm(v)) if np.isfinite(v) else (1, 1, 1, 1)
        dark = 0.299 * r + 0.587 * g + 0.114 * b < 0.5
        ax.text(j, i - 0.44 if below else i, str(t), ha="center", va="bottom" if below else "center",
                fontsize=7, color="white" if dark else "black")
    ax.set_xticks(range(nx), [f"{x:g}" for x in xs])
    ax.set_yticks(range(ny), [f"{y:g}" for y in ys])
    ax.set_xlim(-0.5, nx - 0.5)
    ax.set_ylim(-0.5, ny - 0.5)
    ax.tick_params(length=0)
    for sp in ax.spines.values():
        sp.set_visible(False)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    return cells


MARK_UP = 0.18         # with cell_map(below=True): a marker this far above a cell's centre


def grid_position(grid_values, value):
    """Where ``value`` sits on a :func:`cell_map` axis ticked with ``grid_values``: the index of
    a grid value, in between for a value between two (a live setting off the grid), clamped to
    the grid's ends.

    Examples
    --------
    >>> grid_position([0.05, 0.1, 0.2], 0.1), grid_position([0.05, 0.1, 0.2], 0.15)
    (1.0, 1.5)
    """
    return float(np.interp(float(value), np.asarray(grid_values, dtype=float),
                           np.arange(len(grid_values), dtype=float)))


def _rows(grid, key):
    if not isinstance(grid, dict) or not isinstance(grid.get(key), dict) or not grid[key].get("rows"):
        raise ValueError(f"grid must be a grid (see spurlab.atlas.Atlas.as_grid) with rows under "
                         f"{key!r}; got {type(grid).__name__} with keys "
                         f"{sorted(grid) if isinstance(grid, dict) else 'none'}")
    return grid[key]["rows"]


def _mean(name, value):
    v = np.atleast_1d(np.asarray(value, dtype=float))
    if v.size == 0 or not np.all(np.isfinite(v)):
        raise ValueError(f"live[{name!r}] must be a number or a non-empty list of numbers (one per "
                         f"seed); got {value!r}")
    return float(v.mean()), int(v.size)


def _live(live, keys):
    if live is None:
        return None
    if not isinstance(live, dict) or set(keys) - set(live):
        raise ValueError(f"live must be None or a dict with keys {list(keys)}; got "
                         f"{live if not isinstance(live, dict) else sorted(live)!r}")
    return {k: _mean(k, live[k]) for k in keys}


def _effects(rows, row_axis, col_axis):
    """Each cell's effect (:func:`spurlab.flatten.cell_effect`: the verdict first, then hardest
    vs random over seeds); ``'no verdict'`` where the rows carry no shortcut verdict (no
    no-carrier model), so a map never reads a cell without one as 'no shortcut'."""
    cells = {}
    for r in rows:
        cells.setdefault((r[row_axis], r[col_axis]), []).append(r)
    return {c: ("no verdict" if any(r.get("excess_smr") is None for r in rs)
                else cell_effect(rs, "hardest", "random")) for c, rs in cells.items()}


def _mark_no_shortcut(ax, cells, xs, ys, *, extra_x=(), at=(0.0, MARK_UP)):
    """An ``x`` in every cell where no shortcut was learned (and at ``extra_x``, more columns
    of the same rows), ``at`` (dx, dy) from its centre, clear of its label, with a legend
    entry; nothing when there is none. ``cells`` is keyed by (row value, column value); ``xs``
    and ``ys`` are the map's values."""
    pts = [(c, r) for (r, c), e in cells.items() if e == "no shortcut"]
    pts += [(x, r) for x in extra_x for (r, _), e in cells.items() if e == "no shortcut"]
    if pts:
        pos = sorted({(grid_position(xs, c) + at[0], grid_position(ys, r) + at[1])
                      for c, r in pts})
        px, py = zip(*pos)
        ax.scatter(px, py, marker="x", s=90, color="black", linewidths=1.5, zorder=4,
                   label="x: no shortcut learned")


def _legend_below(ax):
    """The map's marks (the live setting, the x) explained under it, if it has any."""
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="upper left", bbox_to_anchor=(0, -0.16), fontsize=8, frameon=False,
                  ncols=2)


def phase_map(grid, *, live=None):
    """The phase diagram: SMR after pruning the hardest, and hardest minus random, on the
    salience x prune ratio grid (mean over seeds).

    Parameters
    ----------
    grid : dict
        A grid (:meth:`spurlab.atlas.Atlas.as_grid`) with rows under ``"phase"`` holding
        ``salience``, ``prune_ratio``, ``smr_baseline``, ``smr_hardest`` and ``smr_random``.
    live : dict, optional
        A live setting to mark with a star (in its cell, or between two for a value off the
        grid; named in the legend under the map): ``prune_ratio``, ``salience``,
        ``smr_hardest`` and ``smr_random`` (numbers, or lists over seeds). Mark it only when it
        was run on the grid's data and recipe.

    Returns
    -------
    fig, takeaway : matplotlib Figure, str
        Left: SMR after pruning the hardest (column ``p = 0``: the baseline); right: hardest
        minus random at the same ratio (blue: pruning the hardest does better). ``takeaway``
        counts the cells of each kind (:func:`spurlab.flatten.cell_effect`: no shortcut, helps,
        no difference, backfires), names the saliences without a shortcut (an x on the maps)
        and those where pruning the hardest helps at every ratio.

    Examples
    --------
    >>> learned = {"excess_smr": 0.1, "excess_lo": 0.05, "excess_hi": 0.15, "n_test": 900}
    >>> rows = [{"salience": s, "prune_ratio": p, "seed": k, "smr_baseline": 0.1,
    ...          "smr_hardest": h + 0.001 * k, "smr_random": 0.08, **learned}
    ...         for s, h in ((0.5, 0.02), (1.0, 0.12)) for p in (0.1, 0.3) for k in (0, 1, 2)]
    >>> fig, takeaway = phase_map({"phase": {"rows": rows}})
    >>> takeaway.split(": ", 1)[1].split(";")[0]
    'helps in 2, backfires in 2 of 4 cells'
    """
    import matplotlib.pyplot as plt
    from matplotlib.colors import TwoSlopeNorm

    rows = _rows(grid, "phase")
    lv = _live(live, ("prune_ratio", "salience", key("smr", "hardest"), key("smr", "random")))
    sal, ratios, smr_h, _ = pivot(rows, "salience", "prune_ratio", key("smr", "hardest"))
    _, _, smr_base, _ = pivot(rows, "salience", "prune_ratio", key("smr", "baseline"))
    _, _, diff, _ = pivot(rows, "salience", "prune_ratio",
                          lambda r: r[key("smr", "hardest")] - r[key("smr", "random")])
    grid_smr = np.column_stack([np.nanmean(smr_base, axis=1), smr_h])     # p = 0: the baseline
    seq, div = SEQUENTIAL, DIVERGING
    live_smr = lv[key("smr", "hardest")][0] if lv else np.nan
    live_diff = live_smr - lv[key("smr", "random")][0] if lv else np.nan
    norm = plt.Normalize(0, np.nanmax(np.append(grid_smr, live_smr)))
    lim = np.nanmax(np.abs(np.append(diff, live_diff))) or 1.0
    dnorm = TwoSlopeNorm(0, -lim, lim)
    fig, axes = plt.subplots(1, 2, figsize=(13, 5.2))
    n = len({r.get("seed") for r in rows})
    s = cell_map(axes[0], [0.0, *ratios], sal, grid_smr, cmap=seq, norm=norm, below=True,
                 xlabel="prune ratio p (0 = baseline)", ylabel="salience of the line",
                 title=f"SMR after pruning the hardest (mean of {n} seeds)")
    fig.colorbar(s, ax=axes[0], label="spurious misclassification rate")
    s = cell_map(axes[1], ratios, sal, diff, cmap=div, norm=dnorm, below=True,
                 text=np.vectorize(lambda v: f"{v:+.2f}")(diff), xlabel="prune ratio p",
                 ylabel="salience of the line",
                 title="SMR: hardest minus random (< 0: hardest better)")
    fig.colorbar(s, ax=axes[1], label="SMR difference")
    if lv:
        p, sl_ = lv["prune_ratio"][0], lv["salience"][0]
        for ax, xs, v, cm, nm in ((axes[0], [0.0, *ratios], live_smr, seq, norm),
                                  (axes[1], ratios, live_diff, div, dnorm)):
            ax.scatter([grid_position(xs, p)], [grid_position(sal, sl_) + MARK_UP], c=[v],
                       cmap=cm, norm=nm, marker="*", s=300, edgecolors="black", zorder=3,
                       label=f"live ({lv[key('smr', 'hardest')][1]} seeds)")
    eff = _effects(rows, "salience", "prune_ratio")
    _mark_no_shortcut(axes[0], eff, [0.0, *ratios], sal, extra_x=(0.0,))
    _mark_no_shortcut(axes[1], eff, ratios, sal)
    for ax in axes:
        _legend_below(ax)
    fig.suptitle("Phase diagram (embedded shapes): where pruning the hardest severs the shortcut")
    fig.tight_layout()
    q = grid["phase"].get("fixed", {}).get("prevalence")
    line = _line(grid["phase"])
    none = sorted({s for (s, _), e in eff.items() if e == "no shortcut"})
    works = [s for s in sal if all(eff.get((s, p)) == "helps" for p in ratios)]
    bad = [f"({s:g}, {p:g})" for (s, p), e in sorted(eff.items()) if e == "backfires"]
    take = (f"Takeaway ({line}{'' if q is None else f'prevalence {q:g}, '}{n} seeds per cell, hardest "
            f"vs random on SMR): {effects_count(eff)}; no shortcut at salience "
            f"{', '.join(f'{s:g}' for s in none) or 'none'} (x); pruning the hardest helps at "
            f"every ratio for salience {', '.join(f'{s:g}' for s in works) or 'none'}; backfires "
            f"at (salience, p): {', '.join(bad) or 'none'}.")
    if lv:
        take += (f" Live point (salience {lv['salience'][0]:g}, p = {lv['prune_ratio'][0]:.2f}): "
                 f"SMR {live_smr:.3f}, hardest minus random {live_diff:+.3f}.")
    return fig, take


def _line(part):
    """'2-px line, ' when a map's part names the line's thickness (an atlas slice), else ''."""
    t = part.get("fixed", {}).get("thickness")
    return f"{t}-px line, " if t is not None else ""


def regime_map(grid, *, live=None):
    """The regime map: hardest minus random SMR on the salience x prevalence grid at a fixed
    prune ratio, each cell also labelled with the share of the carriers the hardest arm cut and
    the regime indicator ``r`` (the carriers' mean early-difficulty percentile in c1).

    Parameters
    ----------
    grid : dict
        A grid file's content with rows under ``"regime"`` holding ``salience``,
        ``prevalence``, ``smr_hardest``, ``smr_random``, ``carriers_pruned_hardest``,
        ``carriers`` and ``regime_percentile`` (and ``grid["regime"]["fixed"]["prune_ratio"]``).
    live : dict, optional
        ``salience`` and ``prevalence`` of a live setting, its cell framed in black.

    Returns
    -------
    fig, takeaway : matplotlib Figure, str
        ``takeaway`` counts the cells of each kind (:func:`spurlab.flatten.cell_effect`, as
        :meth:`spurlab.atlas.Atlas.verdicts_text` does for the same slice), names those that
        backfire, and where some help and some backfire compares the carriers cut in each.
        Cells without a shortcut carry an x.

    Examples
    --------
    >>> learned = {"excess_smr": 0.1, "excess_lo": 0.05, "excess_hi": 0.15, "n_test": 900}
    >>> rows = [{"salience": s, "prevalence": q, "seed": k, key("smr", "hardest"): h + 0.001 * k,
    ...          key("smr", "random"): 0.05, key("carriers_pruned", "hardest"): c, "carriers": 40,
    ...          "regime_percentile": 50.0, **learned}
    ...         for s, h, c in ((0.5, 0.02, 14), (1.0, 0.09, 3)) for q in (0.3, 0.6) for k in (0, 1, 2)]
    >>> fig, takeaway = regime_map({"regime": {"rows": rows, "fixed": {"prune_ratio": 0.25}}})
    >>> takeaway.split(": ", 1)[1].split(";")[0]
    'helps in 2, backfires in 2 of 4 cells'
    """
    import matplotlib.pyplot as plt
    from matplotlib.colors import TwoSlopeNorm

    rows = _rows(grid, "regime")
    lv = _live(live, ("salience", "prevalence"))
    p_fixed = grid["regime"].get("fixed", {}).get("prune_ratio")
    if not isinstance(p_fixed, (int, float)):
        raise ValueError(f"grid['regime']['fixed'] must give the prune_ratio of the map; got "
                         f"{grid['regime'].get('fixed')!r}")
    sal, prev, rdiff, _ = pivot(rows, "salience", "prevalence",
                                lambda r: r[key("smr", "hardest")] - r[key("smr", "random")])
    _, _, cut, _ = pivot(rows, "salience", "prevalence",
                         lambda r: r[key("carriers_pruned", "hardest")] / r["carriers"])
    _, _, regime, _ = pivot(rows, "salience", "prevalence", "regime_percentile")
    text = np.array([[f"{d:+.2f}\ncut {c:.0%}\nr={g:.0f}" for d, c, g in zip(*t)]
                     for t in zip(rdiff, cut, regime)])
    n = len({r.get("seed") for r in rows})
    fig, ax = plt.subplots(figsize=(7.5, 4.6))
    lim = np.nanmax(np.abs(rdiff)) or 1.0
    s = cell_map(ax, prev, sal, rdiff, cmap=DIVERGING, norm=TwoSlopeNorm(0, -lim, lim),
                 text=text, xlabel="prevalence (share of c1 carrying the line)",
                 ylabel="salience of the line",
                 title=f"Hardest minus random SMR at {_line(grid['regime'])}p = {p_fixed:g}\n"
                       "(< 0: pruning the hardest helps)")
    fig.colorbar(s, ax=ax, label=f"SMR difference (mean of {n} seeds)")
    if lv:
        x, y = grid_position(prev, lv["prevalence"][0]), grid_position(sal, lv["salience"][0])
        ax.add_patch(Rectangle((x - 0.5, y - 0.5), 1, 1, fill=False, edgecolor="black",
                               linewidth=2.5, zorder=3, label="the live setting"))
    eff = _effects(rows, "salience", "prevalence")
    _mark_no_shortcut(ax, eff, prev, sal, at=(-0.34, 0.24))    # left of the three lines
    _legend_below(ax)
    fig.tight_layout()
    bad = [f"({s:g}, {q:g})" for (s, q), e in sorted(eff.items()) if e == "backfires"]
    take = (f"Takeaway ({_line(grid['regime'])}p = {p_fixed:g}, {n} seeds per cell, hardest vs "
            "random on SMR): "
            f"{effects_count(eff)}; backfires at (salience, prevalence): {', '.join(bad) or 'none'}.")

    def cut_where(kind):
        vals = [cut[i, j] for i, s in enumerate(sal) for j, q in enumerate(prev)
                if eff.get((s, q)) == kind]
        return float(np.nanmean(vals)) if vals else None

    helps, backfires = cut_where("helps"), cut_where("backfires")
    if helps is not None and backfires is not None:
        take += (f" The hardest arm cut {backfires:.0%} of the carriers where it backfires, "
                 f"{helps:.0%} where it helps (p = {p_fixed:.0%}).")
    return fig, take


__all__ = ["DIVERGING", "MARK_UP", "SEQUENTIAL", "cell_map", "grid_position", "phase_map",
           "regime_map"]
