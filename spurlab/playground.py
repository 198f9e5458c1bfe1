"""The playground: move a slider, see the answer, from the shipped atlas; verify any point live.

Every point the sliders can reach was computed beforehand by the same engine over several seeds
(:mod:`spurlab.atlas`), so a move only looks up and redraws: the bars give each model's mean
and 95% interval over seeds, the carriers each arm removed, and two maps (salience x prune ratio,
salience x prevalence) with the current point marked. Nothing shown comes from anywhere but a
run. **Verify live** retrains the current point on this machine, seed by seed, through the
engine, and draws each seed over the atlas's interval as it arrives; a live value outside the
range the atlas predicts for a new seed is flagged in words. Typed settings off the grid go
through the same live path. Without an atlas (missing or unreadable file) the panel says so and
every point runs live.

Examples
--------
>>> pg = Playground()                                                   # doctest: +SKIP
>>> pg                                       # in a notebook: the panel  # doctest: +SKIP
>>> point = pg.show(salience=1.0, prevalence=0.9, prune_ratio=0.2)     # doctest: +SKIP
>>> rows = pg.verify()                      # retrain this point, 5 seeds # doctest: +SKIP
"""

from __future__ import annotations

import math
import time

import ipywidgets as w
import numpy as np
from IPython.display import display

from ._validate import check_choice, check_seeds
from .atlas import ATLAS_ARMS, ATLAS_GRID, ATLAS_SEEDS, AtlasError, load_atlas
from .charts import _halo, model_color, model_label, model_name
from .flatten import key
from .stats import RATE, seed_interval, t95

# what a typed (off-grid) value may be: the config's own bounds
TYPED_BOUNDS = {"salience": (0.0, 1.0), "prevalence": (0.0, 1.0), "prune_ratio": (0.0, 0.9)}
# the two maps: rows axis, columns axis, the axis held at the current value
MAPS = (("salience", "prune_ratio", "prevalence"), ("salience", "prevalence", "prune_ratio"))
# the atlas's arms as every figure names them (spurlab.charts.MODEL_STYLE)
ARM_LABELS = {a: model_label(a) for a in ATLAS_ARMS}


def prediction_range(values):
    """Where one more seed should fall (95%): mean +- t * sd * sqrt(1 + 1/n) over ``values``.

    The atlas's interval for the *mean* over seeds is narrower than the spread of single seeds,
    so a live seed is checked against this range instead.

    Examples
    --------
    >>> lo, hi = prediction_range([0.10, 0.12, 0.08, 0.11, 0.09])
    >>> round(lo, 3), round(hi, 3)
    (0.052, 0.148)
    """
    v = np.asarray([x for x in values if x is not None and not math.isnan(x)], dtype=float)
    if len(v) < 2:
        return (-math.inf, math.inf)
    half = t95(len(v) - 1) * v.std(ddof=1) * math.sqrt(1 + 1 / len(v))
    return (float(v.mean() - half), float(v.mean() + half))


def check_typed(name, value):
    """A typed setting, checked against what the engine allows (no silent clip)."""
    check_choice("setting", name, tuple(TYPED_BOUNDS))
    lo, hi = TYPED_BOUNDS[name]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{name} must be a number in [{lo:g}, {hi:g}]; got {value!r}")
    if not lo <= value <= hi or (name == "prevalence" and value == 0):
        allowed = f"(0, {hi:g}]" if name == "prevalence" else f"[{lo:g}, {hi:g}]"
        raise ValueError(f"{name} must be in {allowed}; got {value!r}")
    return float(value)


class Playground:
    """Sliders over the atlas grid, a strategy selector, the answer for every move, and live
    verification.

    Parameters
    ----------
    atlas : Atlas, str or Path, optional
        Default: the shipped atlas. If it cannot be loaded, the panel says why and runs live.
    device : str, optional
        For live runs (default: cuda, else mps, else cpu).
    seeds : sequence of int, optional
        Seeds of a live verification (default: the atlas's).

    Attributes
    ----------
    point : dict or None
        The atlas's summary of the current point (:meth:`spurlab.atlas.Atlas.point`).
    live : list of dict
        Rows of the last live verification (:func:`spurlab.flatten.rows` plus ``flag``).
    notice : str
        Why the panel runs live, when it has no atlas ("" otherwise).
    """

    def __init__(self, atlas=None, *, device=None, seeds=None):
        from .atlas import Atlas

        self.notice = ""
        try:
            self.atlas = atlas if isinstance(atlas, Atlas) else load_atlas(atlas)
            ok, why = self.atlas.current()
            if not ok:
                self.notice = f"note: {why}; its numbers may differ from a live run"
        except AtlasError as exc:
            self.atlas = None
            self.notice = f"no atlas: {exc}. Every point runs live (press Verify live)."
        grid = self.atlas.grid if self.atlas else {k: list(v) for k, v in ATLAS_GRID.items()}
        arms = self.atlas.arms if self.atlas else list(ATLAS_ARMS)
        self.seeds = check_seeds(seeds if seeds is not None else
                                 (self.atlas.seeds if self.atlas else ATLAS_SEEDS))
        self.device = device
        self.point = None
        self.live = []
        self.error = None
        self._holding = False       # show() sets several controls: one redraw, not one each
        self._drawn = None          # the settings last drawn
        self._frame = None          # the figure, made on the first draw and kept

        def sel(name, desc, default):
            values = grid[name]
            value = min(values, key=lambda v: abs(v - default))
            return w.SelectionSlider(options=[(f"{v:g}", v) for v in values], value=value,
                                     description=desc, continuous_update=self.atlas is not None,
                                     style={"description_width": "initial"},
                                     layout=w.Layout(width="420px"))

        from .config import preset

        base = self.atlas.config if self.atlas else preset("playground")
        self.sliders = {"thickness": sel("thickness", "line thickness (px)", base.thickness),
                        "salience": sel("salience", "salience (line opacity)", base.salience),
                        "prevalence": sel("prevalence", "prevalence (share of c1)",
                                          base.prevalence),
                        "prune_ratio": sel("prune_ratio", "prune ratio p", base.prune_ratio)}
        self.strategy = w.Dropdown(options=[(model_name(a), a) for a in arms],
                                   value="hardest" if "hardest" in arms else arms[0],
                                   description="strategy")
        self.typed = {k: w.FloatText(value=self.sliders[k].value, description=k,
                                     layout=w.Layout(width="180px")) for k in TYPED_BOUNDS}
        self.verify_button = w.Button(description="Verify live", icon="play",
                                      button_style="primary",
                                      tooltip="retrain this point here, seed by seed")
        self.typed_button = w.Button(description="Run typed point live", icon="keyboard-o")
        self.status = w.HTML()
        self.bars = w.HBox()
        self.image = w.Image(format="png", layout=w.Layout(width="100%"))
        self.text = w.HTML()
        for c in list(self.sliders.values()) + [self.strategy]:
            c.observe(lambda _: self._moved(), names="value")
        self.verify_button.on_click(lambda _: self._safe(self.verify))
        self.typed_button.on_click(lambda _: self._safe(self.run_typed))
        info = w.HTML(f"<pre style='font-size:11px'>{self.notice or self.atlas.describe()}</pre>")
        self.box = w.VBox([w.HTML("<b>Playground: the atlas answers every move; Verify live "
                                  "retrains the point here</b>"), info,
                           w.HBox([w.VBox(list(self.sliders.values())), self.strategy]),
                           w.HBox([self.verify_button, self.typed_button, self.status]),
                           w.HBox(list(self.typed.values())), self.bars, self.image, self.text])
        self._moved()

    # --- the answer from the atlas
    def values(self):
        """The current slider settings and strategy."""
        return {**{k: s.value for k, s in self.sliders.items()}, "strategy": self.strategy.value}

    def show(self, **settings):
        """Set sliders and/or the strategy (each checked against the grid and the arms; nothing
        is set if one is wrong) and redraw; returns the atlas's summary of the point."""
        checked = {}
        for k, v in settings.items():
            if k == "strategy":
                checked[k] = check_choice("strategy", v, tuple(o[1] for o in
                                                               self.strategy.options))
            elif k in self.sliders:
                allowed = [o[1] for o in self.sliders[k].options]
                match = [a for a in allowed if isinstance(v, (int, float))
                         and not isinstance(v, bool) and abs(a - v) <= 1e-9]
                if not match:
                    raise ValueError(f"{k}={v!r} is not on the atlas grid; allowed: {allowed}. "
                                     "Type it in the boxes and press 'Run typed point live'")
                checked[k] = match[0]
            else:
                raise KeyError(f"no setting named {k!r}; settings: "
                               f"{', '.join(list(self.sliders) + ['strategy'])}")
        self._holding = True
        try:
            for k, v in checked.items():
                (self.strategy if k == "strategy" else self.sliders[k]).value = v
        finally:
            self._holding = False
        self._moved(force=True)
        return self.point

    def _moved(self, force=False):
        if self._holding:
            return
        v = self.values()
        key = tuple(v.values())
        if not force and self._drawn == key:
            return
        self._drawn = key
        self.live = []
        for k in self.typed:
            self.typed[k].value = v[k]
        if self.atlas is None:
            self.point = None
            self._say(f"{self.notice} Settings: {_fmt(v)}", "#D55E00")
            self._draw(None, [])
            return
        t = time.perf_counter()
        self.point = self.atlas.point(v["salience"], v["prevalence"], v["prune_ratio"],
                                      thickness=v["thickness"])
        self._draw(self.point, [])
        self._say(f"from the atlas ({self.point['n_seeds']} seeds) in "
                  f"{time.perf_counter() - t:.2f} s", "#009E73")

    # --- live runs
    def verify(self, on_seed=None):
        """Retrain the current slider point here, seed by seed (see :meth:`run_live`)."""
        v = self.values()
        return self.run_live(v["salience"], v["prevalence"], v["prune_ratio"],
                             thickness=v["thickness"], on_seed=on_seed)

    def run_typed(self, on_seed=None):
        """Run the typed settings live (they need not be on the grid)."""
        vals = {k: check_typed(k, self.typed[k].value) for k in self.typed}
        return self.run_live(**vals, thickness=self.values()["thickness"], on_seed=on_seed)

    def run_live(self, salience, prevalence, prune_ratio, *, thickness=None, on_seed=None):
        """Train ``self.seeds`` seeds of one point through the engine (cached), redrawing after
        each; returns the rows, each with ``flag`` (text, or "" when the live value lies in
        the atlas's predicted range for a seed), ``drawn_s`` (when its baseline and arm were
        drawn, before the reference completed it) and ``seconds`` (when it was complete), both
        counted from the start.

        Values are checked first (:func:`check_typed`); ``thickness`` (whole pixels, default:
        the thickness slider's) is the line's. The strategy arm, the baseline and the
        no-carrier reference train for each seed.
        """
        from .config import preset
        from .flatten import rows
        from .pipeline import run
        from .steps import arm as arm_step
        from .steps import baseline

        s = check_typed("salience", salience)
        p = check_typed("prevalence", prevalence)
        r = check_typed("prune_ratio", prune_ratio)
        t = self.values()["thickness"] if thickness is None else thickness
        if isinstance(t, bool) or not isinstance(t, (int, np.integer)) or not 1 <= t <= 8:
            raise ValueError(f"thickness must be a whole number of pixels in [1, 8]; got "
                             f"{thickness!r}")
        t = int(t)
        arm = self.strategy.value
        base = self.atlas.config if self.atlas else preset("playground")
        on_grid = self.atlas is not None and self.atlas.has(s, p, r, thickness=t)
        point = self.atlas.point(s, p, r, thickness=t) if on_grid else None
        if on_grid and point["arms"].get(arm) is None:
            raise ValueError(f"arm {arm!r} cannot run at prevalence={p:g}, prune_ratio={r:g}: "
                             "the target class has too few non-carriers to spare")
        bars = [w.IntProgress(value=0, min=0, max=3, description=f"seed {sd}",
                              style={"description_width": "initial"},
                              layout=w.Layout(width="150px")) for sd in self.seeds]
        self.bars.children = bars
        self.live = []
        t0 = time.perf_counter()
        for i, sd in enumerate(self.seeds):
            self._say(f"live: seed {sd} ({i + 1} of {len(self.seeds)}) training...", "#0072B2")
            cfg = base.replace(salience=s, prevalence=p, prune_ratio=r, seed=sd, thickness=t)
            # baseline and arm first, drawn at once; then the no-carrier reference (trained
            # once per seed, shared by every point) completes the row (each step cached)
            b = baseline(cfg, device=self.device)
            bars[i].value = 1
            a = arm_step(cfg, arm, base=b, device=self.device)
            bars[i].value = 2
            partial = {"seed": sd, "arm": arm, key("smr", "baseline"): b.metrics.smr,
                       key("smr", arm): a.metrics.smr}
            self._draw(point, self.live + [partial])
            drawn = time.perf_counter() - t0
            res = run(cfg, arms=[arm], device=self.device)
            bars[i].value = 3
            row = rows(res, [arm])
            row.update(thickness=t, salience=s, prevalence=p, prune_ratio=r, drawn_s=drawn,
                       seconds=time.perf_counter() - t0, arm=arm)
            row["flag"] = self._flag(point, row, arm) if on_grid else ""
            self.live.append(row)
            self._draw(point, self.live)
            if on_seed is not None:
                on_seed(row)
        flags = [f"seed {x['seed']}: {x['flag']}" for x in self.live if x["flag"]]
        where = "" if on_grid else " (off the grid: no atlas values to compare)"
        self._say(f"live: {len(self.live)} seeds in {time.perf_counter() - t0:.1f} s{where}; "
                  + ("; ".join(flags) if flags else "every seed within the atlas's range"),
                  "#D55E00" if flags else "#009E73")
        return self.live

    def _flag(self, point, row, arm):
        out = []
        for model in ("baseline", arm):
            k = key("smr", model)
            lo, hi = prediction_range([x.get(k) for x in point["rows"]])
            if not lo <= row[k] <= hi:
                out.append(f"{model} SMR {row[k]:.3f} lies outside the range the atlas "
                           f"predicts for a seed [{lo:.3f}, {hi:.3f}]")
        return "; ".join(out)

    def _safe(self, fn):
        self.error = None
        try:
            fn()
        except Exception as exc:  # noqa: BLE001 - shown in the panel, which stays usable
            self.error = exc
            self._say(f"error: {exc}", "#D55E00")

    def _say(self, text, colour="#555"):
        self.status.value = f"<span style='color:{colour}'>{text}</span>"

    # --- drawing
    def _draw(self, point, live):
        import html
        import io

        if self._frame is None:                         # one figure for the panel's life:
            self._frame = self._new_frame()             # only its data change on a move
        self._update(self._frame, point, live)
        buf = io.BytesIO()
        self._frame["fig"].savefig(buf, format="png", pil_kwargs={"compress_level": 1})
        self.image.value = buf.getvalue()
        self.text.value = (f"<pre style='white-space:pre-wrap'>"
                           f"{html.escape(self.takeaway(point, live))}</pre>")

    def figure(self, point, live=()):
        """The four panels for one point (atlas summary or None) with live rows drawn over it:
        every model's SMR (mean, 95% interval over seeds, within [0, 1]; live seeds as
        diamonds), each model in its colour and label of every figure
        (:data:`spurlab.charts.MODEL_STYLE`), the share of
        the carriers each arm removed, and the two maps of the strategy's effect with the point
        circled. Returns a matplotlib ``Figure``."""
        frame = self._new_frame()
        self._update(frame, point, live)
        return frame["fig"]

    def _new_frame(self):
        """The figure and everything in it that does not change with a move (axes, labels,
        ticks, colour bars), drawn for speed: a bare ``Figure`` with a fixed layout."""
        from matplotlib.colors import TwoSlopeNorm
        from matplotlib.figure import Figure

        from .maps import DIVERGING

        fig = Figure(figsize=(17, 3.8), dpi=72)
        axes = fig.subplots(1, 4, gridspec_kw={"width_ratios": [1.3, 1, 1.05, 1.05],
                                               "left": 0.05, "right": 0.97, "bottom": 0.2,
                                               "top": 0.8, "wspace": 0.32})
        arms = list(self.atlas.arms) if self.atlas else [self.strategy.value]
        models = ["baseline", "reference"] + arms
        frame = {"fig": fig, "axes": axes, "models": models, "arms": arms, "dynamic": [],
                 "colours": [model_color(m) for m in models]}     # as in every figure
        for ax, names, ylabel in ((axes[0], models, "SMR (share of other classes'\nlined test "
                                   "images called c1)"),
                                  (axes[1], arms, "share of the carriers removed")):
            ax.set_ylim(0, 1.02)
            ax.set_xlim(-0.6, len(names) - 0.4)
            ax.set_xticks(range(len(names)), [model_label(m) for m in names], fontsize=8)
            ax.set_ylabel(ylabel)
        axes[1].set_yticks([0, 0.25, 0.5, 0.75, 1.0])   # a share of the carriers: all of it
        frame["titles"] = [ax.set_title("", fontsize=9) for ax in axes]
        for k, (ax, (rows_axis, cols_axis, _fixed)) in enumerate(zip(axes[2:], MAPS)):
            ax.set_xlabel(cols_axis.replace("_", " "))
            ax.set_ylabel(rows_axis)
            if self.atlas is None:
                ax.text(0.5, 0.5, "no atlas", ha="center", transform=ax.transAxes)
                continue
            rv, cv = self.atlas.grid[rows_axis], self.atlas.grid[cols_axis]
            im = ax.imshow(np.zeros((len(rv), len(cv))), cmap=DIVERGING,
                           norm=TwoSlopeNorm(0, -1, 1), origin="lower", aspect="auto")
            ax.set_xticks(range(len(cv)), [f"{x:g}" for x in cv], fontsize=8)
            ax.set_yticks(range(len(rv)), [f"{x:g}" for x in rv], fontsize=8)
            crosses, = ax.plot([], [], "x", color="#555555", ms=7, ls="none")
            circle, = ax.plot([], [], "o", ms=22, mfc="none", mec="black", mew=2)
            bar = fig.colorbar(im, ax=ax, fraction=0.08, pad=0.02)
            frame[f"map{k}"] = (im, crosses, circle, bar, rv, cv)
        return frame

    def _update(self, frame, point, live):
        """Draw one point (and live rows) into a frame made by :meth:`_new_frame`."""
        from matplotlib.colors import TwoSlopeNorm

        from .charts import OKABE_ITO

        for artist in frame["dynamic"]:
            artist.remove()
        dyn = frame["dynamic"] = []
        ax0, ax1 = frame["axes"][:2]
        ax0.containers.clear()
        ax1.containers.clear()
        models, arms, colours = frame["models"], frame["arms"], frame["colours"]
        arm, v = self.strategy.value, self.values()

        def bars(ax, ivs, cols, scale=1.0):
            # the atlas's intervals of rates are bounded ([0, 1]; see Atlas.point): drawn as
            # they are, none reaches below 0 or above 1
            ok = [i for i, iv in enumerate(ivs) if iv is not None]
            mean = np.array([ivs[i]["mean"] for i in ok]) * scale
            lo = np.array([ivs[i]["ci95"][0] for i in ok]) * scale
            hi = np.array([ivs[i]["ci95"][1] for i in ok]) * scale
            dyn.extend(ax.bar(ok, mean, color=[cols[i] for i in ok], alpha=0.85))
            eb = ax.errorbar(ok, mean, yerr=[mean - lo, hi - mean],
                             fmt="none", ecolor="black", capsize=4, path_effects=_halo())
            dyn.extend(eb.lines[1] + eb.lines[2])
            dyn.extend(ax.text(i, 0.01, "did not run", ha="center", va="bottom", fontsize=8,
                               rotation=90)
                       for i in set(range(len(ivs))) - set(ok))

        if point is not None:
            bars(ax0, [point[m]["smr"] if m in ("baseline", "reference")
                       else (point["arms"][m] or {}).get("smr") for m in models], colours)
            bars(ax1, [(point["arms"][a] or {}).get("carriers_pruned") for a in arms],
                 colours[2:], 1 / max(point["carriers"], 1))
            dyn.append(ax1.axhline(v["prune_ratio"], ls="--", color=OKABE_ITO[7], lw=1,
                                   label=f"p = {v['prune_ratio']:g}"))
            dyn.append(ax1.legend(fontsize=7, loc="upper right"))
        if live:
            xs, ys = [], []
            for row in live:
                for i, m in enumerate(models):
                    y = row.get(key("smr", m))
                    if y is not None:
                        xs.append(i)
                        ys.append(y)
            dyn.extend(ax0.plot(xs, ys, "D", color="black", ms=5, mfc="white", ls="none",
                                label="live seed"))
            dyn.append(ax0.legend(fontsize=7, loc="upper right"))
        # the SMR axis fits the point (a weak signal's bars are a few percent: on a 0-1 axis
        # they would not show), never beyond 1
        tops = [iv["ci95"][1] for iv in ([point[m]["smr"] for m in ("baseline", "reference")]
                                         + [(point["arms"][a] or {}).get("smr") for a in arms]
                                         if point is not None else []) if iv is not None]
        tops += [y for row in live for m in models
                 if (y := row.get(key("smr", m))) is not None]
        ax0.set_ylim(0, min(1.02, max(0.05, 1.2 * max(tops, default=1.0))))
        t = frame["titles"]
        t[0].set_text("SMR: mean and 95% interval over seeds" + (" (live: diamonds)" if live
                                                                 else ""))
        t[1].set_text("Carriers each arm removed (of "
                      f"{point['carriers'] if point else '?'})")
        for k, (rows_axis, cols_axis, fixed) in enumerate(MAPS):
            t[2 + k].set_text(f"SMR({model_name(arm)}) - SMR(baseline)\nat "
                              f"{fixed.replace('_', ' ')} {v[fixed]:g}, {v['thickness']}-px line"
                              "\n(blue: lower; x: no shortcut learned)")
            if self.atlas is None:
                continue
            im, crosses, circle, bar, rv, cv = frame[f"map{k}"]
            _, _, m = self.atlas.map(lambda r: _delta(r, arm), rows_axis, cols_axis,
                                     thickness=v["thickness"], **{fixed: v[fixed]})
            learned = self.atlas.learned_map(rows_axis, cols_axis, thickness=v["thickness"],
                                             **{fixed: v[fixed]})
            lim = max(0.02, float(np.nanmax(np.abs(m))) if np.isfinite(m).any() else 0.02)
            im.set_data(np.ma.masked_invalid(m))
            im.set_norm(TwoSlopeNorm(0, -lim, lim))
            bar.set_ticks([-lim, 0, lim], labels=[f"{-lim:+.2f}", "0", f"{lim:+.2f}"])
            no = np.argwhere(learned < 0.5)
            crosses.set_data(no[:, 1], no[:, 0])
            circle.set_data([cv.index(v[cols_axis])], [rv.index(v[rows_axis])])

    def takeaway(self, point, live=()):
        """The one-line reading of the current point (and of live seeds)."""
        arm = self.strategy.value
        if point is None:
            head = self.notice or "off the atlas grid"
        elif not point["verdict"].learned:
            head = point["verdict_text"]
        else:
            a = point["arms"].get(arm)
            if a is None:
                head = (f"{point['verdict_text']}; arm {model_name(arm)!r} cannot run "
                        "here (too few non-carriers to spare)")
            else:
                d = point["vs_hardest"].get("random") if arm == "hardest" else \
                    point["vs_hardest"].get(arm)
                vs = f"; {d.text()}" if d is not None else ""
                head = (f"{point['verdict_text']}. Pruning {point['prune_ratio']:g} by "
                        f"{model_name(arm)} takes SMR from "
                        f"{point['baseline']['smr']['mean']:.3f} to {a['smr']['mean']:.3f} "
                        f"(no-carrier model {point['reference']['smr']['mean']:.3f}){vs}")
                ov = point["overlap_hardest_oracle"]
                if arm in ("hardest", "hardest/oracle") and ov["n"]:
                    head += (f"; label-free pruning also removed {ov['mean']:.0%} of the "
                             "carriers oracle pruning removed")
                head += _mechanism(point, arm)
        live = [x for x in live if "flag" in x]              # complete rows only
        if live:
            iv = seed_interval([x[key("smr", x["arm"])] for x in live], bounds=RATE)
            head += (f"\nTakeaway (live, {iv['n']} of {len(self.seeds)} seeds): SMR after "
                     f"{model_name(live[0]['arm'])} {iv['mean']:.3f}"
                     + (f" [{iv['ci95'][0]:.3f}, {iv['ci95'][1]:.3f}]" if iv["n"] > 1 else ""))
            flags = [x for x in live if x["flag"]]
            head += (f"; {len(flags)} seed(s) outside the atlas's range" if flags
                     else ("; every seed within the atlas's range" if point else ""))
        else:
            head = "Takeaway: " + head
        return head

    def _ipython_display_(self):
        display(self.box)


def _mechanism(point, arm):
    """The mechanism at a point, over the atlas's seeds: the share of the hard carriers (the
    hardest quarter of the carriers by early EL2N) the arm removed, beside its share of all
    carriers and random's ("" where the atlas predates the measure)."""
    a, r = point["arms"].get(arm) or {}, point["arms"].get("random") or {}
    hard, every = a.get("hard_removed"), a.get("carrier_share_pruned")
    if not hard or not hard["n"] or not every or not every["n"]:
        return ""
    out = (f"; it removed {hard['mean']:.0%} of the hard carriers (the hardest quarter of the "
           f"carriers by early EL2N) and {every['mean']:.0%} of all carriers")
    rh = r.get("hard_removed")
    if arm != "random" and rh and rh["n"]:
        out += f" (random: {rh['mean']:.0%} of the hard ones)"
    return out


def _delta(row, arm):
    a = row.get(key("smr", arm))
    return float("nan") if a is None else a - row[key("smr", "baseline")]


def _fmt(values):
    return ", ".join(f"{k} {v:g}" if isinstance(v, float) else f"{k} {v}"
                     for k, v in values.items())


__all__ = ["Playground", "check_typed", "prediction_range"]
