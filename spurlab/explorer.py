"""The hero explorable: the data on screen, moved by the sliders; click any cell; stamp any image.

Four views, each answered from shipped data except where it says it trains:

- **The data map** (:meth:`Explorer.data_map`): every training image of the target class ``c1``
  as a dot, its early-EL2N percentile within the class (what pruning ranks by) against its
  confidence (the baseline's mean probability of the true class over the epochs), carriers
  marked (coloured by their measured effect on the SMR where the drivers file holds the point).
  The prune-ratio slider moves the threshold: the hardest arm removes every image right of
  ``100 (1 - p)``; the removed carriers' images appear below; the atlas's SMR bars (5 seeds),
  its verdict and the carriers removed by difficulty update beside it. From
  :mod:`spurlab.explorable` (seed 0) and :mod:`spurlab.atlas`.
- **Clickable cells** (:meth:`Explorer.cell`): the salience x prevalence map of the chosen arm's
  effect as a grid of buttons; a click opens that point: every model's accuracy per group (seed
  0), the worst group named, the hardest removed images, and the atlas's verdicts.
- **You are the pruner** (:meth:`Explorer.play`): a gallery of c1's training images, scores
  hidden; remove a budget of them by hand, and a live retrain (over 3 training seeds, the time
  printed) scores the choice next to EL2N, random and oracle pruning of the same gallery under
  the same budget, with intervals over the seeds; a leaderboard of the rounds; then the reveal
  of what EL2N would have picked.
- **Stamp this image** (:meth:`Explorer.stamp`): a test image of another class, with the line
  toggled on and off, and the class probabilities of the baseline (ERM) and of the pruned
  model side by side: the paper's counterfactual probe one image at a time. The two models
  train here on first use (seed 0, the atlas's scale, a few seconds; the time is printed).
- **Export** (:func:`export`): a static page with the maps, the data map at every grid ratio and
  the galleries, images only (no server, no widget JavaScript).

Examples
--------
>>> ex = Explorer()                                  # in a notebook: the panel  # doctest: +SKIP
>>> ex.show(salience=1.0, prevalence=0.9, prune_ratio=0.2)                      # doctest: +SKIP
>>> ex.cell(0.7, 0.6)["worst_group"]["hardest"]                                 # doctest: +SKIP
"""

from __future__ import annotations

import html
import io
import time

import numpy as np

from ._validate import check_choice
from .arms import carriers_by_difficulty
from .charts import OKABE_ITO, model_color, model_label, model_name
from .explorable import (
    PRUNER_BUDGET,
    PRUNER_GALLERY,
    PRUNER_METHODS,
    PRUNER_SEEDS,
    pruner_gallery,
    pruner_picks,
    retrain_without,
)

# the carriers' colour where no drivers are shipped for the point; the others' grey
CARRIER, OTHER = OKABE_ITO[5], "#AAAAAA"
# arms whose removals follow a threshold on the data map's x axis (the score they rank by)
THRESHOLD_ARMS = {"hardest": "right", "easiest": "left"}
GALLERY = 16                    # removed carriers shown under the data map


def _png(fig, dpi=72):
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, pil_kwargs={"compress_level": 1})
    return buf.getvalue()


def tiles(images, columns=16, scale=3):
    """Images ``(N, C, H, W)`` in [0, 1] as one PNG of tiles (greyscale or RGB), upscaled
    ``scale`` times, 1 px white between tiles; fast (no matplotlib). None for no images."""
    from PIL import Image

    x = np.asarray(images, dtype=np.float32)
    if len(x) == 0:
        return None
    n, c, h, w = x.shape
    cols = min(columns, n)
    rows = -(-n // cols)
    canvas = np.ones((rows * (h + 1), cols * (w + 1), c), dtype=np.float32)
    for i in range(n):
        r, k = divmod(i, cols)
        canvas[r * (h + 1):r * (h + 1) + h, k * (w + 1):k * (w + 1) + w] = x[i].transpose(1, 2, 0)
    img = (np.clip(canvas, 0, 1) * 255).astype(np.uint8)
    img = img[:, :, 0] if c == 1 else img
    img = np.kron(img, np.ones((scale, scale) + ((1,) if img.ndim == 3 else ()), dtype=np.uint8))
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="PNG")
    return buf.getvalue()


class Explorer:
    """The data map with its threshold, clickable cells and the stamp probe (see the module).

    Parameters
    ----------
    explorable : Explorable, optional
        Default: the shipped file (:func:`spurlab.load_explorable`).
    atlas : Atlas, optional
        Default: the shipped atlas.
    drivers : Drivers or None, optional
        Default: the shipped drivers file, which colours the carriers by their measured effect
        where it holds the point; ``False``: never.
    device : str, optional
        For the stamp probe's two models (default: cuda, else mps, else cpu).
    """

    def __init__(self, explorable=None, atlas=None, *, drivers=None, device=None):
        from .atlas import load_atlas
        from .explorable import load_explorable

        self.ex = explorable if explorable is not None else load_explorable()
        self.atlas = atlas if atlas is not None else load_atlas()
        if drivers is None:
            from .drivers import DriversError, load_drivers

            try:
                drivers = load_drivers()
            except DriversError:
                drivers = False
        self.drivers = drivers or None
        self.device = device
        self.timings = {}           # what each interaction took, seconds (the benchmark reads it)
        self._models = {}           # what trained here, kept: the stamp probe's two models per
                                    # (config, arm, ratio); the pruner's methods where not shipped
        self._widgets = None
        self._dealt = None
        self.leaderboard = []       # the pruner's rounds, in order (play)
        self.grid = {k: sorted({float(v) for v in self.atlas.grid[k]}) for k in
                     ("salience", "prevalence", "prune_ratio")}
        self.grid["thickness"] = sorted({int(v) for v in self.atlas.grid["thickness"]})
        self.state = {"thickness": 1, "salience": 0.5, "prevalence": 0.3, "prune_ratio": 0.25,
                      "arm": "hardest", "test_image": 0, "stamped": False}

    # ------------------------------------------------------------------ what it shows
    def point(self, state=None):
        """The explorable's point at the current settings, changed by ``state`` (a dict of some
        of them)."""
        s = {**self.state, **(state or {})}
        return self.ex.point(s["thickness"], s["salience"], s["prevalence"])

    def _scenario(self, point):
        from .build import build_scenario

        return build_scenario(point.config)

    def _effects(self, point):
        """The drivers' measured effect of each carrier of ``point`` (NaN for others), or None."""
        if self.drivers is None:
            return None
        for dp in self.drivers.points.values():
            if dp.config == point.config:
                eff = np.full(len(point.c1), np.nan)
                where = {int(i): k for k, i in enumerate(point.c1)}
                for idx, e in zip(dp.carriers, dp.effect):
                    if int(idx) in where:
                        eff[where[int(idx)]] = e
                return eff
        return None

    def data_map(self, state=None):
        """The data map at the current settings: ``(figure, text, removed carriers' images)``.

        The figure holds the map (each image of c1 a dot; carriers coloured; the images the
        arm removed hollow; the threshold for the hardest and easiest arms) and the atlas's
        SMR bars for the baseline, the reference and the arm, with their intervals over seeds.
        """
        from matplotlib.figure import Figure

        s = {**self.state, **(state or {})}
        p = self.point(s)
        arm, ratio = s["arm"], s["prune_ratio"]
        ran = p.has(arm, ratio)
        removed = p.removed(arm, ratio) if ran else np.zeros(len(p.c1), dtype=bool)
        effects = self._effects(p)
        fig = Figure(figsize=(10, 3.9))
        ax, bx = fig.subplots(1, 2, gridspec_kw={"width_ratios": [2.2, 1], "wspace": 0.35,
                                                 "left": 0.07, "right": 0.97, "bottom": 0.14,
                                                 "top": 0.84})
        x, y, car = p.el2n_percentile, p.confidence, p.carrier
        for mask, face in ((~car, OTHER), (car, CARRIER)):
            keep, gone = mask & ~removed, mask & removed
            colour = face
            if effects is not None and face == CARRIER:
                colour = None
            kw = dict(s=22, lw=1.0)
            if colour is None:
                sc = ax.scatter(x[keep], y[keep], c=effects[keep] * 100, cmap="cividis",
                                vmin=np.nanmin(effects) * 100, vmax=np.nanmax(effects) * 100,
                                edgecolors="black", label="carrier (colour: effect)", **kw)
                ax.scatter(x[gone], y[gone], facecolors="none", edgecolors="black",
                           label="carrier, removed", **kw)
                fig.colorbar(sc, ax=ax, pad=0.01, fraction=0.05,
                             label="SMR drop when removed (points)")
            else:
                name = "carrier" if face == CARRIER else "no line"
                ax.scatter(x[keep], y[keep], color=colour, label=name, **kw)
                ax.scatter(x[gone], y[gone], facecolors="none", edgecolors=colour,
                           label=f"{name}, removed", **kw)
        side = THRESHOLD_ARMS.get(arm.split("/")[0]) if "/" not in arm else None
        if side:
            cut = 100 * (1 - ratio) if side == "right" else 100 * ratio
            ax.axvline(cut, color="black", ls="--", lw=1.2)
            ax.axvspan(cut, 100, color="black", alpha=0.06) if side == "right" else \
                ax.axvspan(0, cut, color="black", alpha=0.06)
        ax.set_xlim(0, 100)
        ax.set_ylim(-0.02, 1.02)
        ax.set_xlabel("early-EL2N percentile within c1 (100 = hardest)")
        ax.set_ylabel("confidence (mean p(true class))")
        ax.set_title(f"Data map of c1 ({self.ex.class_names[self.ex.target_class]}), seed 0: "
                     f"{model_name(arm)} at p = {ratio:g}", fontsize=10)
        ax.legend(fontsize=7, loc="lower left", ncol=2)
        a = self.atlas.point(s["salience"], s["prevalence"], ratio, thickness=s["thickness"])
        models = ["baseline", "reference", arm]
        ivs = [a["baseline"]["smr"], a["reference"]["smr"], (a["arms"].get(arm) or {}).get("smr")]
        ok = [i for i, iv in enumerate(ivs) if iv is not None]
        mean = np.array([ivs[i]["mean"] for i in ok])
        lo = np.array([ivs[i]["ci95"][0] for i in ok])
        hi = np.array([ivs[i]["ci95"][1] for i in ok])
        bx.bar(ok, mean, color=[model_color(models[i]) for i in ok], alpha=0.85)
        bx.errorbar(ok, mean, yerr=[mean - lo, hi - mean], fmt="none", ecolor="black", capsize=4)
        bx.set_xticks(range(3), [model_label(m) for m in models], fontsize=8)
        bx.set_ylim(0, max(0.05, float(hi.max()) * 1.15) if len(hi) else 1)
        bx.set_ylabel("SMR")
        bx.set_title(f"atlas: mean, 95% interval, {a['n_seeds']} seeds", fontsize=10)
        name = model_name(arm)
        if ran:
            got, n = p.carriers_removed(arm, ratio)
            # the hard carriers as spurlab.mechanism defines them: the hardest quarter of the
            # carriers by the early scores (here at seed 0; the atlas's share is over seeds)
            cut = carriers_by_difficulty(np.flatnonzero(removed), car, np.zeros(len(x), int), 0,
                                         x)
            hard = (a["arms"].get(arm) or {}).get("hard_removed")
            over = ("" if hard is None else
                    f"; over the atlas's {hard['n']} seeds it removed {hard['mean']:.0%} "
                    f"[{hard['ci95'][0]:.0%}, {hard['ci95'][1]:.0%}] of them")
            hard_now = ("" if cut["hard_removed"] is None else
                        f" and {round(cut['hard_removed'] * cut['n_hard'])} of the "
                        f"{cut['n_hard']} hard ones (the hardest quarter of the carriers by "
                        f"early EL2N)")
            text = (f"{a['verdict_text']}. {name} at p = {ratio:g} removes {int(removed.sum())} "
                    f"of the {len(x)} images of c1 at seed 0, {got} of its {n} carriers"
                    f"{hard_now}{over}; SMR after it {self._atlas_smr(a, arm)} against the "
                    f"baseline's {a['baseline']['smr']['mean']:.1%} (atlas, over seeds).")
        else:
            text = (f"{a['verdict_text']}. {name} did not run at p = {ratio:g}: c1 has too few "
                    "images without the line to remove that many and spare the carriers.")
        sc = self._scenario(p)
        gone_car = np.flatnonzero(removed & car)
        order = gone_car[np.argsort(-x[gone_car])][:GALLERY]
        images = sc.train.images[p.c1[order]].numpy() if len(order) else np.zeros((0, 1, 1, 1))
        return fig, text, images

    @staticmethod
    def _atlas_smr(a, arm):
        iv = (a["arms"].get(arm) or {}).get("smr")
        if iv is None:
            return "n/a"
        return f"{iv['mean']:.1%} [{iv['ci95'][0]:.1%}, {iv['ci95'][1]:.1%}]"

    def cells(self, state=None):
        """The salience x prevalence map of the arm's effect at the current thickness and ratio:
        ``{(salience, prevalence): (delta SMR arm - baseline over seeds, learned)}``."""
        s = {**self.state, **(state or {})}
        out = {}
        for sal in self.grid["salience"]:
            for q in self.grid["prevalence"]:
                a = self.atlas.point(sal, q, s["prune_ratio"], thickness=s["thickness"])
                arm = (a["arms"].get(s["arm"]) or {}).get("smr")
                delta = None if arm is None else arm["mean"] - a["baseline"]["smr"]["mean"]
                out[(sal, q)] = (delta, bool(a["verdict"].learned))
        return out

    def cell(self, salience, prevalence, state=None):
        """One point opened: per model (baseline and every arm at the current ratio) its
        accuracy in each group at seed 0 and its worst group by name, the hardest arm's top
        removed images (hardest first), and the atlas's verdicts over seeds."""
        s = {**self.state, **(state or {}), "salience": float(salience),
             "prevalence": float(prevalence)}
        p = self.point(s)
        ratio = s["prune_ratio"]
        models = ["baseline"] + [a for a in self.ex.arms if p.has(a, ratio)]
        acc = {m: p.model(m, ratio)["group_accuracy"] for m in models}
        worst = {m: (None if p.model(m, ratio)["worst_group"] is None
                     else self.ex.group_name(p.model(m, ratio)["worst_group"])) for m in models}
        a = self.atlas.point(salience, prevalence, ratio, thickness=s["thickness"])
        diffs = [d.text() for d in a["vs_hardest"].values() if d is not None]
        gone = np.flatnonzero(p.removed("hardest", ratio))
        top = gone[np.argsort(-p.el2n_percentile[gone])][:GALLERY]
        sc = self._scenario(p)
        return {"salience": float(salience), "prevalence": float(prevalence), "ratio": ratio,
                "thickness": s["thickness"], "group_accuracy": acc, "worst_group": worst,
                "groups": [self.ex.group_name(g) for g in range(len(acc["baseline"]))],
                "verdict": a["verdict_text"], "differences": diffs,
                "top_removed": sc.train.images[p.c1[top]].numpy(),
                "top_removed_carrier": p.carrier[top].tolist()}

    def cell_html(self, detail):
        """A cell's detail as an HTML table (groups x models) with the verdicts."""
        import base64

        models = list(detail["group_accuracy"])
        head = "".join(f"<th>{html.escape(model_name(m))}</th>"
                       for m in models)
        rows = []
        for g, name in enumerate(detail["groups"]):
            cells = []
            for m in models:
                v = detail["group_accuracy"][m][g]
                bold = detail["worst_group"][m] == name
                txt = "-" if v is None else f"{v:.2f}"
                cells.append(f"<td style='text-align:right'>{'<b>' if bold else ''}{txt}"
                             f"{'</b>' if bold else ''}</td>")
            rows.append(f"<tr><td>{html.escape(name)}</td>{''.join(cells)}</tr>")
        png = tiles(detail["top_removed"])
        img = ("" if png is None else f"<img src='data:image/png;base64,"
               f"{base64.b64encode(png).decode()}'>")
        diffs = "<br>".join(html.escape(d) for d in detail["differences"])
        return (f"<b>salience {detail['salience']:g}, prevalence {detail['prevalence']:g}, "
                f"p = {detail['ratio']:g}, {detail['thickness']}-px line</b><br>"
                f"{html.escape(detail['verdict'])}<br>{diffs}<br>"
                f"<table style='font-size:11px'><tr><th>group (seed 0; worst in bold)</th>{head}"
                f"</tr>{''.join(rows)}</table>"
                f"hardest arm's removed images of c1, hardest first (seed 0):<br>{img}")

    # ------------------------------------------------------------------ stamp this image
    def stamp_models(self, state=None):
        """The baseline and the arm's model at the current point (seed 0), trained here on first
        use and kept: ``(baseline, arm model, seconds it took)``."""
        from .config import Config
        from .pipeline import run

        s = {**self.state, **(state or {})}
        p = self.point(s)
        key = (p.config, s["arm"], s["prune_ratio"])
        if key not in self._models:
            t = time.perf_counter()
            cfg = Config.from_string(p.config).replace(prune_ratio=s["prune_ratio"])
            r = run(cfg, arms=[s["arm"]], reference=False, keep_models=True, cache=False,
                    device=self.device)
            self._models[key] = (r.models["baseline"], r.models[s["arm"]],
                                 time.perf_counter() - t)
        return self._models[key]

    def test_images(self, state=None, n=12):
        """Indices into the point's stamped test set of ``n`` test images of other classes (the
        first of each class in turn)."""
        sc = self._scenario(self.point(state))
        labels = sc.stamped_test.labels.numpy()
        order = [np.flatnonzero(labels == c) for c in np.unique(labels)]
        picks = [int(ix[i]) for i in range(max(len(o) for o in order)) for ix in order
                 if i < len(ix)]
        return picks[:n]

    def stamp(self, index, stamped, state=None):
        """One test image of another class (its index in the stamped test set), clean or with
        the line: the image and both models' class probabilities."""
        from .train import predict_logits

        s = {**self.state, **(state or {})}
        sc = self._scenario(self.point(s))
        if not 0 <= int(index) < len(sc.stamped_test):
            raise ValueError(f"index must be in [0, {len(sc.stamped_test) - 1}]; got {index!r}")
        other = (sc.test.labels != sc.target_class).nonzero().flatten()
        image = (sc.stamped_test.images if stamped else sc.test.images[other])[int(index)][None]
        base, pruned, seconds = self.stamp_models(s)
        probs = {m: predict_logits(model, image).softmax(1)[0].numpy()
                 for m, model in (("baseline", base), (s["arm"], pruned))}
        return {"image": image.numpy(), "truth": int(sc.stamped_test.labels[int(index)]),
                "stamped": bool(stamped), "probs": probs, "train_seconds": seconds}

    def stamp_figure(self, result):
        """The image and the two models' probabilities side by side, c1 highlighted."""
        from matplotlib.figure import Figure

        fig = Figure(figsize=(9, 2.6))
        ax, bx = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 3.2], "left": 0.03,
                                                 "right": 0.98, "bottom": 0.28, "top": 0.8})
        img = result["image"][0]
        ax.imshow(img[0] if img.shape[0] == 1 else img.transpose(1, 2, 0), cmap="gray",
                  vmin=0, vmax=1)
        ax.set_xticks([])
        ax.set_yticks([])             # the frame keeps a white line from reading as a gap
        truth = self.ex.class_names[result["truth"]]
        ax.set_title(f"a {truth}{', line stamped' if result['stamped'] else ''}", fontsize=9)
        names = self.ex.class_names
        k = len(names)
        for j, (m, pr) in enumerate(result["probs"].items()):
            bx.bar(np.arange(k) + (j - 0.5) * 0.4, pr, width=0.4, color=model_color(m),
                   label=f"{model_name(m)}: {names[int(pr.argmax())]}")
        bx.axvspan(self.ex.target_class - 0.5, self.ex.target_class + 0.5, color="#CC79A7",
                   alpha=0.15, label=f"c1 = {names[self.ex.target_class]}")
        bx.set_xticks(range(k), names, fontsize=8)
        bx.set_ylim(0, 1)
        bx.set_ylabel("probability")
        bx.set_xlabel("class")
        bx.set_title("class probabilities (seed 0)", fontsize=9)
        bx.legend(fontsize=7, loc="upper right")
        return fig

    def stamp_text(self, result):
        names = self.ex.class_names
        c1 = self.ex.target_class
        said = ", ".join(f"{model_name(m)} says {names[int(p.argmax())]} "
                         f"(p(c1) = {p[c1]:.2f})" for m, p in result["probs"].items())
        return (f"A {names[result['truth']]} {'with' if result['stamped'] else 'without'} the line: "
                f"{said}. Toggle the line and watch p(c1) (models trained here in "
                f"{result['train_seconds']:.1f} s, once per point).")

    # ------------------------------------------------------------------ you are the pruner
    def pruner_gallery(self, state=None):
        """Positions in c1 of the images the pruner shows (:func:`spurlab.explorable.
        pruner_gallery`)."""
        return pruner_gallery(len(self.point(state).c1))

    def pruner_picks(self, method, state=None):
        """What a method removes from the gallery under the budget
        (:func:`spurlab.explorable.pruner_picks`)."""
        p = self.point(state)
        return pruner_picks(method, p.el2n_percentile, p.carrier)

    def _retrain_without(self, positions, state=None):
        p = self.point(state)
        return {"smr": retrain_without(p.config, positions, device=self.device),
                "carriers_removed": int(p.carrier[np.asarray(positions, dtype=np.int64)].sum())}

    def pruner_methods(self, state=None):
        """Every method's picks and SMR per seed: from the explorable file where it holds them
        (0 s), else retrained here once per point and kept."""
        p = self.point(state)
        if p.pruner is not None:
            return p.pruner, 0.0
        key = ("pruner", p.config)
        if key not in self._models:
            t = time.perf_counter()
            got = {m: {**self._retrain_without(self.pruner_picks(m, state), state),
                       "picks": self.pruner_picks(m, state).tolist()} for m in PRUNER_METHODS}
            self._models[key] = (got, time.perf_counter() - t)
        return self._models[key]

    def play(self, positions, state=None):
        """One round: the learner removes exactly :data:`PRUNER_BUDGET` images of the gallery
        (positions in c1); retrain without them over :data:`PRUNER_SEEDS`, and score the choice
        next to EL2N, random and oracle pruning of the same gallery under the same budget. The
        round joins :attr:`leaderboard`; returns it."""
        from .stats import seed_interval
        from .verdicts import difference_of

        positions = sorted({int(i) for i in positions})
        allowed = set(self.pruner_gallery(state).tolist())
        if len(positions) != PRUNER_BUDGET or not set(positions) <= allowed:
            raise ValueError(f"positions must be exactly {PRUNER_BUDGET} images of the gallery; "
                             f"got {len(positions)} chosen"
                             + ("" if set(positions) <= allowed else ", some not in the gallery"))
        methods, methods_s = self.pruner_methods(state)
        t = time.perf_counter()
        mine = self._retrain_without(positions, state)
        seconds = time.perf_counter() - t
        rows = {"you": mine, **methods}
        s = {**self.state, **(state or {})}
        summary = {}
        for name, r in rows.items():
            iv = seed_interval(r["smr"], (0, 1))
            summary[name] = {"smr": iv["mean"], "ci95": iv["ci95"],
                             "carriers_removed": r["carriers_removed"]}
        vs = difference_of([a - b for a, b in zip(mine["smr"], methods["EL2N"]["smr"])],
                           "your choice", "EL2N")
        round_ = {"round": len(self.leaderboard) + 1,
                  "point": (s["thickness"], s["salience"], s["prevalence"]),
                  "removed": positions, "summary": summary, "vs_el2n": vs.text(),
                  "retrain_s": round(seconds, 1), "methods_s": round(methods_s, 1),
                  "el2n_picks": methods["EL2N"]["picks"]}
        self.leaderboard.append(round_)
        return round_

    def pruner_text(self, round_):
        """A round in words: each SMR with its interval over seeds, and yours against EL2N."""
        lines = [f"round {round_['round']}: SMR over {len(PRUNER_SEEDS)} training seeds (95% "
                 f"interval), carriers removed of the {PRUNER_BUDGET} images"]
        for name, v in round_["summary"].items():
            lines.append(f"  {name:<7} {v['smr']:6.1%} [{v['ci95'][0]:.1%}, {v['ci95'][1]:.1%}]"
                         f"  carriers removed {v['carriers_removed']}")
        lines.append(round_["vs_el2n"])
        lines.append(f"your retrain took {round_['retrain_s']} s ({len(PRUNER_SEEDS)} models); the "
                     + ("methods' come from the shipped file" if not round_["methods_s"] else
                        f"methods' {round_['methods_s']} s, once for this point"))
        return "\n".join(lines)

    # ------------------------------------------------------------------ the panel
    def show(self, **settings):
        """Set the controls (checked against the grid; nothing changes if one is wrong) and
        redraw the data map; returns its text."""
        checked = {}
        for k, v in settings.items():
            if k == "arm":
                checked[k] = check_choice("arm", v, tuple(self.ex.arms))
            elif k in self.grid:
                match = [g for g in self.grid[k] if isinstance(v, (int, float))
                         and not isinstance(v, bool) and abs(g - v) <= 1e-9]
                if not match:
                    raise ValueError(f"{k}={v!r} is not on the grid; allowed: {self.grid[k]}")
                checked[k] = match[0]
            else:
                raise KeyError(f"no setting named {k!r}; settings: "
                               f"{', '.join(list(self.grid) + ['arm'])}")
        self.state.update(checked)
        if self._widgets is not None:
            self._sync_controls()
        return self.redraw()

    def redraw(self):
        """Redraw the data map, its gallery and the cells (the widgets' update); returns the
        text. Its time goes to ``timings['move']``."""
        t = time.perf_counter()
        fig, text, images = self.data_map()
        if self._widgets is not None:
            W = self._widgets
            W["map"].value = _png(fig)
            png = tiles(images)
            W["gallery"].value = png or b""
            W["gallery"].layout.display = "" if png else "none"
            W["text"].value = f"<pre style='white-space:pre-wrap'>{html.escape(text)}</pre>"
            self._paint_cells()
        self.timings.setdefault("move", []).append(time.perf_counter() - t)
        return text

    def open_cell(self, salience, prevalence):
        """What a click on a cell does: move there and show its detail."""
        t = time.perf_counter()
        self.show(salience=salience, prevalence=prevalence)
        detail = self.cell(salience, prevalence)
        if self._widgets is not None:
            self._widgets["detail"].value = self.cell_html(detail)
        self.timings.setdefault("cell", []).append(time.perf_counter() - t)
        return detail

    def toggle_stamp(self, stamped=None):
        """What the stamp toggle does: flip the line on the chosen test image and redraw."""
        t = time.perf_counter()
        if stamped is not None:
            self.state["stamped"] = bool(stamped)
        picks = self.test_images()
        res = self.stamp(picks[self.state["test_image"] % len(picks)], self.state["stamped"])
        if self._widgets is not None:
            self._widgets["stamp_image"].value = _png(self.stamp_figure(res))
            self._widgets["stamp_text"].value = html.escape(self.stamp_text(res))
        self.timings.setdefault("stamp", []).append(time.perf_counter() - t)
        return res

    def deal(self):
        """What the pruner's deal button does: the gallery of the current point, scores hidden,
        nothing chosen."""
        import ipywidgets as w

        self._dealt = dict(self.state)
        p = self.point(self._dealt)
        g = self.pruner_gallery(self._dealt)
        x = self._scenario(p).train.images[p.c1[g]].numpy()
        W = self._widgets
        if W is None:
            return g
        toggles = []
        for k, pos in enumerate(g):
            t = w.ToggleButton(description=f"{k + 1}", layout=w.Layout(width="56px"))
            t.position = int(pos)
            t.observe(lambda _: self._count(), names="value")
            toggles.append(w.VBox([w.Image(value=tiles(x[k:k + 1], scale=3), format="png"), t]))
        W["tiles"].children = toggles
        self._count()
        return g

    def _chosen(self):
        return [b.children[1].position for b in self._widgets["tiles"].children
                if b.children[1].value]

    def _count(self):
        n = len(self._chosen())
        W = self._widgets
        W["play"].disabled = n != PRUNER_BUDGET
        W["count"].value = (f"chosen {n} of {PRUNER_BUDGET}"
                            + (" (remove some)" if n > PRUNER_BUDGET else ""))

    def play_round(self):
        """What the pruner's retrain button does: play the chosen images, show the leaderboard
        and reveal what EL2N would have picked."""
        t = time.perf_counter()
        r = self.play(self._chosen(), self._dealt)
        W = self._widgets
        board = "\n\n".join(self.pruner_text(x) for x in self.leaderboard[::-1])
        W["board"].value = f"<pre style='white-space:pre-wrap'>{html.escape(board)}</pre>"
        p = self.point(self._dealt)
        sc = self._scenario(p)
        for name, picks in (("mine", r["removed"]), ("el2n", r["el2n_picks"])):
            W[f"reveal_{name}"].value = tiles(sc.train.images[p.c1[np.asarray(picks)]].numpy(),
                                              columns=12, scale=3)
        self.timings.setdefault("pruner", []).append(time.perf_counter() - t)
        return r

    def _sync_controls(self):
        W = self._widgets
        W["holding"] = True
        try:
            for k in ("thickness", "salience", "prevalence", "prune_ratio"):
                W[k].value = self.state[k]
            W["arm"].value = self.state["arm"]
        finally:
            W["holding"] = False

    def _paint_cells(self):
        from matplotlib.colors import TwoSlopeNorm, to_hex

        from .maps import DIVERGING

        vals = self.cells()
        finite = [abs(d) for d, _ in vals.values() if d is not None]
        lim = max(0.02, max(finite) if finite else 0.02)
        norm = TwoSlopeNorm(0, -lim, lim)
        for (sal, q), (d, learned) in vals.items():
            b = self._widgets["cells"][(sal, q)]
            here = (sal, q) == (self.state["salience"], self.state["prevalence"])
            b.description = ("x " if not learned else "") + ("n/a" if d is None
                                                              else f"{d * 100:+.1f}")
            colour = "#FFFFFF" if d is None else to_hex(DIVERGING(norm(d)))
            b.style.button_color = colour
            b.style.font_weight = "bold" if here else "normal"
            b.tooltip = (f"salience {sal:g}, prevalence {q:g}: SMR change {d:+.3f}"
                         if d is not None else "no run") + ("" if learned else
                                                            " (no shortcut learned)")

    def widget(self):
        """The panel (ipywidgets): controls, data map, gallery, cells, detail, stamp probe."""
        import ipywidgets as w

        if self._widgets is not None:
            return self._widgets["box"]
        W = {"holding": False}
        lay = w.Layout(width="380px")
        style = {"description_width": "initial"}
        for k, desc in (("thickness", "line thickness (px)"), ("salience", "salience"),
                        ("prevalence", "prevalence"), ("prune_ratio", "prune ratio p")):
            W[k] = w.SelectionSlider(options=[(f"{v:g}", v) for v in self.grid[k]],
                                     value=self.state[k], description=desc, layout=lay,
                                     style=style)
        W["arm"] = w.Dropdown(options=[(model_name(a), a)
                                       for a in self.ex.arms], value=self.state["arm"],
                              description="arm")

        def moved(_):
            if W["holding"]:
                return
            self.state.update({k: W[k].value for k in ("thickness", "salience", "prevalence",
                                                       "prune_ratio", "arm")})
            self.redraw()

        for k in ("thickness", "salience", "prevalence", "prune_ratio", "arm"):
            W[k].observe(moved, names="value")
        W["map"] = w.Image(format="png", layout=w.Layout(width="100%"))
        W["gallery"] = w.Image(format="png")
        W["text"] = w.HTML()
        W["cells"] = {}
        buttons = []
        for sal in reversed(self.grid["salience"]):
            for q in self.grid["prevalence"]:
                b = w.Button(layout=w.Layout(width="76px", height="30px"))
                b.on_click(lambda _, s=sal, q=q: self.open_cell(s, q))
                W["cells"][(sal, q)] = b
                buttons.append(b)
        n = len(self.grid["prevalence"])
        grid = w.GridBox(buttons, layout=w.Layout(grid_template_columns=f"repeat({n}, 80px)"))
        W["detail"] = w.HTML()
        picks = len(self.test_images())
        W["test_image"] = w.IntSlider(value=0, min=0, max=picks - 1, description="test image",
                                      style=style)
        W["stamp"] = w.ToggleButton(value=False, description="stamp the line", icon="pencil")
        W["stamp_image"] = w.Image(format="png", layout=w.Layout(width="100%"))
        W["stamp_text"] = w.HTML()

        def stamp_changed(_):
            self.state.update(test_image=W["test_image"].value, stamped=W["stamp"].value)
            self.toggle_stamp()

        W["test_image"].observe(stamp_changed, names="value")
        W["stamp"].observe(stamp_changed, names="value")
        W["deal"] = w.Button(description="deal the gallery (this point)", icon="th",
                             layout=w.Layout(width="260px"))
        W["tiles"] = w.GridBox(layout=w.Layout(grid_template_columns="repeat(12, 62px)"))
        W["count"] = w.HTML()
        W["play"] = w.Button(description="retrain without my picks", button_style="primary",
                             disabled=True, layout=w.Layout(width="260px"))
        W["board"] = w.HTML()
        W["reveal_mine"], W["reveal_el2n"] = (w.Image(format="png"), w.Image(format="png"))
        W["deal"].on_click(lambda _: self.deal())
        W["play"].on_click(lambda _: self.play_round())
        W["box"] = w.VBox([
            w.HTML("<b>The data map: every ring a dot; the slider moves the threshold</b>"),
            w.HBox([w.VBox([W["thickness"], W["salience"], W["prevalence"]]),
                    w.VBox([W["prune_ratio"], W["arm"]])]),
            W["map"], w.HTML("removed carriers, hardest first:"), W["gallery"], W["text"],
            w.HTML(f"<b>Click a cell</b> (salience, top to bottom {self.grid['salience'][::-1]}; "
                   f"prevalence, left to right {self.grid['prevalence']}): the arm's SMR change "
                   "in points, x = no shortcut learned"), grid, W["detail"],
            w.HTML("<b>Stamp this image</b>: ERM and the pruned model, side by side "
                   "(trained here on first use)"),
            w.HBox([W["test_image"], W["stamp"]]), W["stamp_image"], W["stamp_text"],
            w.HTML(f"<b>You are the pruner</b>: remove {PRUNER_BUDGET} of these "
                   f"{PRUNER_GALLERY} images of c1 (scores hidden) so that the shortcut goes; "
                   f"the retrain ({len(PRUNER_SEEDS)} seeds) scores you against EL2N, random and "
                   "the oracle on the same gallery and budget"),
            w.HBox([W["deal"], W["play"], W["count"]]), W["tiles"], W["board"],
            w.HTML("you removed:"), W["reveal_mine"], w.HTML("EL2N would have removed:"),
            W["reveal_el2n"]])
        self._widgets = W
        self.redraw()
        return W["box"]

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget())


def export(path, *, explorer=None, points=None):
    """Write a static page of the explorable to the folder ``path``: ``index.html`` and its
    PNGs, for every point in ``points`` (default: the default and the strong corner of the
    atlas at both thicknesses it holds) the data map and the removed carriers at every ratio of
    the grid, the hardest arm's cells as a table, and every cell's detail at p = 0.25.
    Images only: no server, no widget JavaScript; a range input switches the ratio where
    JavaScript runs, and every image is also listed. Returns the page's path."""
    import os

    ex = explorer or Explorer(drivers=None)
    os.makedirs(path, exist_ok=True)
    if points is None:
        points = [(1, 0.5, 0.3), (2, 1.0, 0.6)]
    parts = ["<!doctype html><meta charset='utf-8'><title>spurlab playground (static)</title>",
             "<style>body{font-family:sans-serif;max-width:1100px;margin:auto}img{max-width:100%}"
             "td{padding:2px 6px}</style>",
             "<h1>spurlab playground: the data map at every prune ratio</h1>",
             f"<p>{html.escape(ex.ex.describe())}</p>"]
    for t, s, q in points:
        pid = f"t{t}-s{s:g}-p{q:g}"
        parts.append(f"<h2>line {t} px, salience {s:g}, prevalence {q:g}</h2>")
        files = []
        for r in ex.grid["prune_ratio"]:
            fig, text, images = ex.data_map({"thickness": t, "salience": s, "prevalence": q,
                                             "prune_ratio": r, "arm": "hardest"})
            name = f"map-{pid}-p{r:g}.png"
            with open(os.path.join(path, name), "wb") as f:
                f.write(_png(fig))
            gal = tiles(images)
            gname = f"removed-{pid}-p{r:g}.png"
            if gal:
                with open(os.path.join(path, gname), "wb") as f:
                    f.write(gal)
            files.append((r, name, gname if gal else None, text))
        parts.append(f"<input type='range' min='0' max='{len(files) - 1}' value='0' "
                     f"oninput=\"for(const e of document.querySelectorAll('.{pid}'))"
                     f"e.style.display=(e.dataset.i==this.value)?'':'none'\">")
        for i, (r, name, gname, text) in enumerate(files):
            hide = "" if i == 0 else " style='display:none'"
            parts.append(f"<div class='{pid}' data-i='{i}'{hide}><h3>p = {r:g}</h3>"
                         f"<img src='{name}' alt='data map at p = {r:g}'>"
                         + (f"<p>removed carriers:<br><img src='{gname}'></p>" if gname else "")
                         + f"<p>{html.escape(text)}</p></div>")
        parts.append("<noscript><p>Without JavaScript, every ratio: "
                     + " ".join(f"<a href='{n}'>p = {r:g}</a>" for r, n, _, _ in files)
                     + "</p></noscript>")
        vals = ex.cells({"thickness": t, "prune_ratio": 0.25, "arm": "hardest"})
        rows = []
        for sal in reversed(ex.grid["salience"]):
            cells = "".join(
                f"<td>{'x ' if not vals[(sal, qq)][1] else ''}"
                f"{'n/a' if vals[(sal, qq)][0] is None else f'{vals[(sal, qq)][0] * 100:+.1f}'}"
                "</td>" for qq in ex.grid["prevalence"])
            rows.append(f"<tr><th>{sal:g}</th>{cells}</tr>")
        parts.append("<p>Pruning the hardest at p = 0.25: SMR change in points (rows: salience; "
                     "columns: prevalence; x = no shortcut learned)</p><table><tr><th></th>"
                     + "".join(f"<th>{qq:g}</th>" for qq in ex.grid["prevalence"]) + "</tr>"
                     + "".join(rows) + "</table>")
        parts.append(ex.cell_html(ex.cell(s, q, {"thickness": t, "prune_ratio": 0.25})))
    page = os.path.join(path, "index.html")
    from .files import atomic_write_text

    atomic_write_text(page, "\n".join(parts))
    return page


__all__ = ["Explorer", "export", "tiles"]
