"""The atlas: every point the playground's sliders can reach, precomputed over seeds.

A Distill-style explorable answers a slider move at once because every reachable point was
computed beforehand by the same code: :func:`spurlab.builds.build_atlas` runs the protocol
through the engine over a salience x prevalence x prune-ratio grid, five arms and several
seeds, and writes one compact gzipped JSON file. The shipped file
(``spurlab/data/atlas.json.gz``, built by ``scripts/build_atlas.py`` through
:func:`spurlab.builds.build_atlas`) covers the grid in
:data:`ATLAS_GRID` at the ``'playground'`` preset's scale; :func:`load_atlas` reads it and
:class:`Atlas` answers questions about it: the summary over seeds of one point, the phase map
and the regime map, and whether the file was built by this version of the code.

Examples
--------
>>> atlas = load_atlas()                                     # doctest: +SKIP
>>> atlas.point(salience=0.5, prevalence=0.3, prune_ratio=0.2)["arms"]["hardest"]["smr"]["mean"]
... # doctest: +SKIP
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ._validate import check_choice
from .atlasfile import AXES, FORMAT, FORMATS, PLANE, AtlasError, check_atlas, checksum, upgrade
from .config import Config, preset
from .defaults import DEFAULTS
from .flatten import MECHANISM, cell_difference, cell_effect, cell_verdict, effects_count, key
from .stats import RATE, seed_interval

ATLAS_PATH = Path(__file__).parent / "data" / "atlas.json.gz"

# The shipped grid. The line's thickness is a second strength knob: one pixel (the default, as
# thin as the paper's line) and two (the notebooks' strong signal, sl.STRONG_SIGNAL). Salience
# spans invisible (0.1) to opaque (1.0) and prevalence rare (5% of c1) to nearly all of it
# (90%): the weak default (1 px, 0.5, 0.3) and the strong signal (2 px, 1.0, 0.6) are both on
# it. Seven prune ratios cover the paper's range and the default (0.25); five arms: label-free
# hardest, the random and easiest controls, oracle pruning within the carriers, and the
# carrier-sparing control (the hardest non-carriers, as many as 'hardest' removes).
ATLAS_GRID = {
    "thickness": (1, 2),
    "salience": (0.1, 0.3, 0.5, 0.7, 1.0),
    "prevalence": (0.05, 0.1, 0.3, 0.6, 0.9),
    "prune_ratio": (0.05, 0.1, 0.2, 0.25, 0.3, 0.4, 0.5),
}
ATLAS_ARMS = ("hardest", "random", "easiest", "hardest/oracle", "hardest/sparing")
ATLAS_SEEDS = (0, 1, 2, 3, 4)
# what the playground shows for each arm (row keys: spurlab.flatten.key(metric, arm))
ARM_METRICS = ("smr", "clean_accuracy", "worst_group", "carriers_pruned", "occupancy",
               "carrier_share_pruned", "excess_removed", *MECHANISM)
# the range of each metric: its interval over seeds is cut there (seed_interval(bounds=...)), so
# a rate's never leaves [0, 1]; a count of carriers is bounded by the point's carriers. Not
# listed, not cut: the share of the excess removed (it can pass 100% or go below 0).
METRIC_BOUNDS = {"smr": RATE, "clean_accuracy": RATE, "worst_group": RATE,
                 "carrier_share_pruned": RATE, "hard_removed": RATE, "latent_hard_removed": RATE,
                 "overlap_hardest_oracle": RATE, "occupancy": (0.0, math.inf),
                 **{m: (0.0, 100.0) for m in MECHANISM if m.endswith("percentile")}}


def load_atlas(path=None):
    """Read an atlas file (default: the one shipped with spurlab).

    Raises :class:`AtlasError` (a ``ValueError``) naming the file and what is wrong when it is
    missing, is not gzipped JSON, or is not an atlas; nothing is downloaded.

    Examples
    --------
    >>> atlas = load_atlas()                                     # doctest: +SKIP
    >>> atlas.grid["salience"]                                   # doctest: +SKIP
    [0.1, 0.3, 0.5, 0.7, 1.0]
    """
    from .files import read_gzip_json

    path = Path(ATLAS_PATH if path is None else path)
    data = read_gzip_json(path, what="atlas", formats=FORMATS, build="scripts/build_atlas.py",
                          error=AtlasError, hint=", or run points live")
    missing = [k for k in ("config", "version", "grid", "arms", "seeds", "columns", "rows",
                           "provenance") if k not in data]
    if missing:
        raise AtlasError(f"atlas file {path} is incomplete: missing {missing}")
    if "checksum" in data and data["checksum"] != checksum(data):
        raise AtlasError(f"atlas file {path} fails its checksum: its rows were changed after it "
                         "was built; rebuild it with `python scripts/build_atlas.py`")
    data = upgrade(data)
    check_atlas(data, path)
    return Atlas(data, path)


class Atlas:
    """The precomputed grid: per (thickness, salience, prevalence, prune_ratio) and seed, one
    row of :func:`spurlab.flatten.rows`. Read it with :meth:`point`, :meth:`map` and
    :meth:`current`; build it with :func:`spurlab.builds.build_atlas`.

    Every reader takes the line's ``thickness`` (in pixels) by keyword, default the one-pixel
    line of the default config; ``atlas.grid["thickness"]`` lists the thicknesses it holds.
    """

    def __init__(self, data, path=None):
        data = upgrade(data)
        self.data = data
        self.path = path
        self.grid = {k: [int(x) for x in v] if k == "thickness" else [float(x) for x in v]
                     for k, v in data["grid"].items()}
        self.arms = list(data["arms"])
        self.seeds = list(data["seeds"])
        self.version = data["version"]
        self.provenance = data["provenance"]
        self.config = Config.from_string(data["config"])
        cols = data["columns"]
        self._cells = {}
        for values in data["rows"]:
            if len(values) != len(cols):
                raise AtlasError(f"atlas file {path} is corrupt: a row has {len(values)} values "
                                 f"for {len(cols)} columns")
            row = dict(zip(cols, values))
            self._cells.setdefault(tuple(row[a] for a in AXES), []).append(row)
        self._points = {}

    # --- where the grid is
    def check_value(self, axis, value):
        """``value`` on ``axis``'s grid (within 1e-9), as the grid's float; ``ValueError``
        naming the axis, the value and the grid values otherwise."""
        check_choice("axis", axis, tuple(self.grid))
        if axis == "thickness":
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise TypeError(f"thickness must be a whole number of pixels; got {value!r}")
            if int(value) not in self.grid["thickness"]:
                raise ValueError(f"thickness={value!r} is not on the atlas grid; allowed: "
                                 f"{self.grid['thickness']} (run other values live)")
            return int(value)
        try:
            v = float(value)
        except (TypeError, ValueError):
            raise TypeError(f"{axis} must be a number; got {value!r}") from None
        for g in self.grid[axis]:
            if abs(g - v) <= 1e-9:
                return g
        raise ValueError(f"{axis}={value!r} is not on the atlas grid; allowed: "
                         f"{self.grid[axis]} (run other values live)")

    def _key(self, thickness, salience, prevalence, prune_ratio):
        return (self.check_value("thickness", thickness), self.check_value("salience", salience),
                self.check_value("prevalence", prevalence),
                self.check_value("prune_ratio", prune_ratio))

    def has(self, salience, prevalence, prune_ratio, *, thickness=DEFAULTS["thickness"]):
        """Is this point on the grid (so :meth:`point` can answer it without training)?"""
        try:
            key = self._key(thickness, salience, prevalence, prune_ratio)
        except (TypeError, ValueError):
            return False
        return key in self._cells

    def rows(self, salience, prevalence, prune_ratio, *, thickness=DEFAULTS["thickness"]):
        """The per-seed rows of one grid point (a list of dicts, one per seed)."""
        key = self._key(thickness, salience, prevalence, prune_ratio)
        if key not in self._cells:
            raise ValueError(f"the atlas has no rows at thickness={key[0]}, salience={key[1]:g}, "
                             f"prevalence={key[2]:g}, prune_ratio={key[3]:g}")
        return self._cells[key]

    # --- what it says
    def point(self, salience, prevalence, prune_ratio, *, thickness=DEFAULTS["thickness"]):
        """Summary over seeds of one grid point (of the ``thickness``-pixel line).

        Returns
        -------
        dict
            ``verdict`` (the shortcut over seeds, a :class:`spurlab.verdicts.Shortcut`, see
            :meth:`verdict_of`), ``verdict_text``, ``baseline`` and
            ``reference`` (``{"smr", "clean_accuracy", "worst_group"}`` ->
            :func:`~spurlab.stats.seed_interval`, cut at the metric's range:
            :data:`METRIC_BOUNDS`), ``arms`` (arm -> metric -> interval, or
            None where the arm could not run, e.g. sparing with too few non-carriers),
            ``vs_hardest`` (arm -> :class:`spurlab.verdicts.Difference` of SMR(hardest) -
            SMR(arm) over seeds), ``n_seeds``, ``carriers``, the point's axes and ``rows``.
        """
        rows = self.rows(salience, prevalence, prune_ratio, thickness=thickness)
        at = tuple(rows[0][a] for a in AXES)
        if at in self._points:
            return self._points[at]

        carriers = max(r["carriers"] for r in rows)

        def iv(col, metric=None):
            bounds = (0.0, carriers) if metric == "carriers_pruned" else METRIC_BOUNDS.get(metric)
            return seed_interval([r.get(col) for r in rows], bounds=bounds)

        verdict = self.verdict_of(rows)
        arms = {}
        for a in self.arms:
            if all(r.get(key("smr", a)) is None for r in rows):
                arms[a] = None
                continue
            arms[a] = {m: iv(key(m, a), m) for m in ARM_METRICS}
            if not verdict.learned:
                arms[a]["excess_removed"] = None         # a share of noise: not reported
        vs = {}
        for a in self.arms:
            if a == "hardest" or arms[a] is None or arms.get("hardest") is None:
                continue
            vs[a] = cell_difference(rows, "hardest", a)
        out = {**dict(zip(AXES, at)),
               "verdict": verdict, "verdict_text": verdict.text(),
               "baseline": {m: iv(key(m, "baseline"), m) for m in ("smr", "clean_accuracy",
                                                                 "worst_group")},
               "reference": {"smr": iv(key("smr", "reference"), "smr")},
               "arms": arms, "vs_hardest": vs, "n_seeds": len(rows),
               "carriers": rows[0]["carriers"],
               "overlap_hardest_oracle": iv("overlap_hardest_oracle", "overlap_hardest_oracle"),
               "rows": rows}
        self._points[at] = out
        return out

    @staticmethod
    def verdict_of(rows):
        """The shortcut verdict over a cell's seeds (:func:`spurlab.flatten.cell_verdict`)."""
        return cell_verdict(rows)

    def map(self, value, rows_axis, cols_axis, *, thickness=DEFAULTS["thickness"], **fixed):
        """Mean over seeds of ``value`` on a ``rows_axis`` x ``cols_axis`` grid of salience,
        prevalence and prune ratio, the third of them fixed by keyword (and the line's
        ``thickness``). ``value`` is a row key (``'smr_hardest'``) or ``fn(row) -> float``.

        Returns ``(row_values, col_values, mean)`` with NaN where the value is undefined.

        Examples
        --------
        >>> # phase map: SMR after pruning the hardest, salience x prune ratio at prevalence 0.3
        >>> # atlas.map("smr_hardest", "salience", "prune_ratio", prevalence=0.3)
        """
        axes = (rows_axis, cols_axis) + tuple(fixed)
        if sorted(axes) != sorted(PLANE) or len(fixed) != 1:
            raise ValueError(f"map needs two of the axes {sorted(PLANE)} and the third fixed "
                             f"by keyword; got rows_axis={rows_axis!r}, cols_axis={cols_axis!r}, "
                             f"fixed={fixed}")
        (fixed_axis, fixed_value), = fixed.items()
        fixed_value = self.check_value(fixed_axis, fixed_value)
        thickness = self.check_value("thickness", thickness)
        fn = value if callable(value) else (lambda r: r.get(value))
        rv, cv = self.grid[rows_axis], self.grid[cols_axis]
        out = np.full((len(rv), len(cv)), np.nan)
        for i, a in enumerate(rv):
            for j, b in enumerate(cv):
                key = {"thickness": thickness, rows_axis: a, cols_axis: b,
                       fixed_axis: fixed_value}
                cell = self._cells.get(tuple(key[x] for x in AXES))
                if cell:
                    vals = [fn(r) for r in cell]
                    vals = [v for v in vals if v is not None and not math.isnan(v)]
                    if vals:
                        out[i, j] = float(np.mean(vals))
        return rv, cv, out

    def learned_map(self, rows_axis, cols_axis, *, thickness=DEFAULTS["thickness"], **fixed):
        """:meth:`map` of the shortcut verdict over each cell's seeds: 1.0 where a shortcut
        was learned (:meth:`verdict_of`), 0.0 where not, NaN where the verdict is missing."""
        cells = {}
        for at, rows in self._cells.items():
            v = self.verdict_of(rows).learned
            cells[at] = float("nan") if v is None else float(v)
        return self.map(lambda r: cells[tuple(r[a] for a in AXES)], rows_axis, cols_axis,
                        thickness=thickness, **fixed)[2]

    def verdicts(self, prune_ratio, arm="hardest", versus="random", *, thickness=DEFAULTS["thickness"]):
        """For every (salience, prevalence) at ``prune_ratio``: ``'no shortcut'`` (the verdict
        over seeds), or how ``arm`` compares with ``versus`` on SMR over seeds: ``'helps'``
        (lower, interval of the difference excludes 0), ``'backfires'`` (higher, excludes 0),
        ``'no difference'``, or ``'n/a'`` where an arm could not run.

        Examples
        --------
        >>> # atlas.verdicts(0.2)[(1.0, 0.9)]
        """
        check_choice("arm", arm, tuple(self.arms))
        check_choice("versus", versus, tuple(self.arms))
        out = {}
        for s in self.grid["salience"]:
            for q in self.grid["prevalence"]:
                out[(s, q)] = cell_effect(self.rows(s, q, prune_ratio, thickness=thickness),
                                          arm, versus)
        return out

    def differences(self, salience, prevalence, prune_ratio, others=("random", "easiest"), *,
                    thickness=DEFAULTS["thickness"]):
        """SMR of the hardest arm minus each of ``others`` at one grid point, over the atlas's
        seeds: one :meth:`spurlab.verdicts.Difference.text` line each, as
        :func:`spurlab.plotting.arm_differences` prints a live run.

        Returns
        -------
        text, comparisons : str, dict
            The lines, and ``{other: point(...)["vs_hardest"][other]}``.

        Examples
        --------
        >>> # text, d = sl.load_atlas().differences(0.5, 0.3, 0.2); d["random"]["differs"]
        """
        if isinstance(others, str):
            raise TypeError(f"others must be a list of arm names, e.g. [{others!r}]; got {others!r}")
        for a in others:
            check_choice("others", a, tuple(x for x in self.arms if x != "hardest"))
        vs = self.point(salience, prevalence, prune_ratio, thickness=thickness)["vs_hardest"]
        missing = [a for a in others if a not in vs]
        if missing:
            raise ValueError(f"no seeds of {missing} at salience={salience:g}, "
                             f"prevalence={prevalence:g}, prune_ratio={prune_ratio:g}")
        comps = {a: vs[a] for a in others}
        return "\n".join(d.text() for d in comps.values()), comps

    def point_text(self, salience, prevalence, prune_ratio, *, thickness=DEFAULTS["thickness"],
                   others=("random", "easiest")):
        """What the atlas says at one setting, in words: the verdict over its seeds, then the
        hardest arm minus each of ``others`` (where a shortcut was learned); or, for a setting
        off the grid, that it has no such point and which values it holds.

        Examples
        --------
        >>> # print(sl.load_atlas().point_text(**{k: getattr(cfg, k) for k in sl.atlas.AXES}))
        """
        if not self.has(salience, prevalence, prune_ratio, thickness=thickness):
            return (f"the atlas has no point at thickness {thickness}, salience {salience:g}, "
                    f"prevalence {prevalence:g}, p = {prune_ratio:g} (its grid: "
                    + "; ".join(f"{a} {', '.join(f'{v:g}' for v in self.grid[a])}" for a in AXES)
                    + "): run it live")
        point = self.point(salience, prevalence, prune_ratio, thickness=thickness)
        head = (f"the atlas at thickness {thickness}, salience {salience:g}, prevalence "
                f"{prevalence:g}, p = {prune_ratio:g} ({point['n_seeds']} seeds): "
                f"{point['verdict_text']}")
        others = [a for a in others if a in point["vs_hardest"]]
        if not point["verdict"].learned or not others:
            return head
        return head + "\n" + self.differences(salience, prevalence, prune_ratio, others,
                                              thickness=thickness)[0]

    def verdicts_text(self, prune_ratio, arm="hardest", versus="random", *, thickness=DEFAULTS["thickness"]):
        """:meth:`verdicts` in one line: how many cells of each kind, and which backfire."""
        v = self.verdicts(prune_ratio, arm, versus, thickness=thickness)
        bad = [f"({s:g}, {q:g})" for (s, q), k in v.items() if k == "backfires"]
        line = f"{self.check_value('thickness', thickness)}-px line"
        return (f"Takeaway ({line}, p = {prune_ratio:g}, {len(self.seeds)} seeds per cell, {arm} vs "
                f"{versus} on SMR): {effects_count(v)}; backfires at (salience, "
                f"prevalence): {', '.join(bad) or 'none'}")

    def as_grid(self, *, prevalence, prune_ratio, thickness=DEFAULTS["thickness"]):
        """The atlas as a grid file's content for :func:`spurlab.maps.phase_map` (salience x
        prune ratio at ``prevalence``) and :func:`spurlab.maps.regime_map` (salience x
        prevalence at ``prune_ratio``), both of the ``thickness``-pixel line."""
        prevalence = self.check_value("prevalence", prevalence)
        prune_ratio = self.check_value("prune_ratio", prune_ratio)
        thickness = self.check_value("thickness", thickness)
        rows = [r for at, cell in self._cells.items() if at[0] == thickness for r in cell]
        return {"mode": "playground", "config": self.data["config"],
                "command": self.provenance.get("command"),
                "phase": {"rows": [r for r in rows if r["prevalence"] == prevalence],
                          "fixed": {"prevalence": prevalence, "thickness": thickness}},
                "regime": {"rows": [r for r in rows if r["prune_ratio"] == prune_ratio],
                           "fixed": {"prune_ratio": prune_ratio, "thickness": thickness}}}

    # --- where it came from
    def current(self):
        """``(ok, reason)``: was this atlas built by this version of spurlab with the
        playground preset as the code defines it today?"""
        from ._version import __version__

        if self.version != __version__:
            return False, (f"the atlas was built by spurlab {self.version}, this is "
                           f"{__version__}: rebuild it with `python scripts/build_atlas.py`")
        now = preset("playground").to_dict()
        built = self.data.get("config_full") or self.config.to_dict()
        diff = {k: (built.get(k), now[k]) for k in now if built.get(k) != now[k]}
        if diff:
            return False, ("the atlas was built with another playground config than the code's "
                           f"(knob: (atlas, code)) {diff}: rebuild it")
        return True, "built by this version with this config"

    def describe(self):
        """Provenance in a few lines (printed by the playground)."""
        p = self.provenance
        g = self.grid
        n = sum(len(v) for v in self._cells.values())
        return (f"atlas: line {' and '.join(f'{t} px' for t in g['thickness'])} x "
                f"{len(g['salience'])} saliences x {len(g['prevalence'])} prevalences x "
                f"{len(g['prune_ratio'])} prune ratios, {len(self.seeds)} seeds, arms "
                f"{', '.join(self.arms)}; {n} rows\n"
                f"scale: {self.data['config'] or 'the defaults'}"
                f"{' (the playground preset)' if self.config == preset('playground') else ''}\n"
                f"built by `{p.get('command')}` on {p.get('date')} in {p.get('wall_s')} s with "
                f"spurlab {self.version}, torch {p.get('torch')}, {p.get('device')}, "
                f"{p.get('cpus')} CPUs ({p.get('processor')}), {p.get('workers')} workers")


__all__ = ["ATLAS_ARMS", "ATLAS_GRID", "ATLAS_PATH", "ATLAS_SEEDS", "AXES", "FORMAT", "FORMATS",
           "METRIC_BOUNDS", "PLANE", "Atlas", "AtlasError", "check_atlas", "checksum", "load_atlas",
           "upgrade"]
