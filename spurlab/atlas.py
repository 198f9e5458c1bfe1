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

import gzip
import hashlib
import json
import math
from pathlib import Path

import numpy as np

from ._validate import check_choice, check_seeds
from .config import Config, preset
from .flatten import MECHANISM, cell_difference, cell_effect, cell_verdict, effects_count, key
from .stats import seed_interval

FORMAT = "spurlab-atlas/1"
ATLAS_PATH = Path(__file__).parent / "data" / "atlas.json.gz"

# The shipped grid. Salience spans invisible (0.1) to opaque (1.0) and prevalence rare (5% of
# c1) to nearly all of it (90%): the weak default (0.5, 0.3) and the strong corner (1.0, 0.9)
# are both on it. Six prune ratios cover the paper's range; five arms: label-free hardest, the
# random and easiest controls, oracle pruning within the carriers, and the carrier-sparing
# control (the hardest non-carriers, as many as 'hardest' removes).
ATLAS_GRID = {
    "salience": (0.1, 0.3, 0.5, 0.7, 1.0),
    "prevalence": (0.05, 0.1, 0.3, 0.6, 0.9),
    "prune_ratio": (0.05, 0.1, 0.2, 0.3, 0.4, 0.5),
}
ATLAS_ARMS = ("hardest", "random", "easiest", "hardest/oracle", "hardest/sparing")
ATLAS_SEEDS = (0, 1, 2, 3, 4)
# what the playground shows for each arm (row keys: spurlab.flatten.key(metric, arm))
ARM_METRICS = ("smr", "clean_accuracy", "worst_group", "carriers_pruned", "occupancy",
               "carrier_share_pruned", "excess_removed", *MECHANISM)


class AtlasError(ValueError):
    """The atlas file is missing, unreadable, or not the one this code would build."""


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
    path = Path(ATLAS_PATH if path is None else path)
    if not path.is_file():
        raise AtlasError(f"no atlas file at {path}: build it with `python scripts/build_atlas.py "
                         f"--out {path}` (about an hour on 2 cores), or run points live")
    try:
        with gzip.open(path, "rt") as f:
            data = json.load(f)
    except (OSError, EOFError, ValueError) as exc:
        raise AtlasError(f"atlas file {path} is corrupt (not gzipped JSON: {exc}); rebuild it "
                         "with `python scripts/build_atlas.py`") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        got = data.get("format") if isinstance(data, dict) else type(data).__name__
        raise AtlasError(f"{path} is not a spurlab atlas: format must be {FORMAT!r}; got {got!r}")
    missing = [k for k in ("config", "version", "grid", "arms", "seeds", "columns", "rows",
                           "provenance") if k not in data]
    if missing:
        raise AtlasError(f"atlas file {path} is incomplete: missing {missing}")
    if "checksum" in data and data["checksum"] != checksum(data):
        raise AtlasError(f"atlas file {path} fails its checksum: its rows were changed after it "
                         "was built; rebuild it with `python scripts/build_atlas.py`")
    check_atlas(data, path)
    return Atlas(data, path)


def checksum(data):
    """SHA-256 of an atlas's columns and rows (written by the build, checked at load)."""
    text = json.dumps([data["columns"], data["rows"]], separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


# what every row holds, whatever the arms
ROW_COLUMNS = ("salience", "prevalence", "prune_ratio", "seed", "carriers", "learned",
               "excess_smr", "excess_lo", "excess_hi")


def check_atlas(data, path=None):
    """Refuse, with what is wrong, an atlas whose grid, arms, seeds, columns or rows do not hold
    together: every grid point must have one row per seed, every row every column, every rate
    and accuracy a number in [0, 1] (or missing where an arm could not run)."""
    from .arms import check_arms

    where = f"atlas file {path}" if path else "atlas"

    def bad(what):
        raise AtlasError(f"{where} is malformed: {what}; rebuild it with "
                         "`python scripts/build_atlas.py`")

    grid = data["grid"]
    if not isinstance(grid, dict) or sorted(grid) != sorted(ATLAS_GRID):
        bad(f"grid must have the axes {sorted(ATLAS_GRID)}; got {grid!r:.80}")
    for axis, values in grid.items():
        if (not isinstance(values, list) or not values
                or not all(isinstance(v, (int, float)) and 0 <= v <= 1 for v in values)):
            bad(f"grid[{axis!r}] must be a non-empty list of numbers in [0, 1]; got {values!r:.80}")
    try:
        arms = check_arms(data["arms"])
        seeds = check_seeds(data["seeds"])
        Config.from_string(data["config"])
    except (TypeError, ValueError) as exc:
        bad(str(exc))
    cols = data["columns"]
    need = list(ROW_COLUMNS) + [key(m, "baseline") for m in ("smr", "clean_accuracy")] + [
        key("smr", a) for a in arms]
    if not isinstance(cols, list) or any(c not in cols for c in need):
        bad(f"columns must include {need}; missing "
            f"{[c for c in need if not isinstance(cols, list) or c not in cols]}")
    rates = [i for i, c in enumerate(cols)
             if c.startswith(("smr_", "clean_accuracy_", "worst_group_", "carrier_share_"))]
    cells = {}
    for n, row in enumerate(data["rows"]):
        if not isinstance(row, list) or len(row) != len(cols):
            bad(f"row {n} must hold {len(cols)} values, one per column")
        r = dict(zip(cols, row))
        point = tuple(r[a] for a in ("salience", "prevalence", "prune_ratio"))
        if any(p not in grid[a] for p, a in zip(point, ("salience", "prevalence", "prune_ratio"))):
            bad(f"row {n} is at {point}, off the grid")
        for i in rates:
            v = row[i]
            if v is not None and not (isinstance(v, (int, float)) and 0 <= v <= 1):
                bad(f"row {n}, column {cols[i]!r} must be a rate in [0, 1] or null; got {v!r}")
        cells.setdefault(point, []).append(r["seed"])
    want = sorted(seeds)
    for point, got in cells.items():
        if sorted(got) != want:
            bad(f"the point {point} has the seeds {sorted(got)}, not the atlas's {want}")
    n_points = len(grid["salience"]) * len(grid["prevalence"]) * len(grid["prune_ratio"])
    if len(cells) != n_points:
        bad(f"{n_points - len(cells)} of the {n_points} grid points have no rows")


class Atlas:
    """The precomputed grid: per (salience, prevalence, prune_ratio) and seed, one row of
    :func:`spurlab.flatten.rows`. Read it with :meth:`point`, :meth:`map` and
    :meth:`current`; build it with :func:`spurlab.builds.build_atlas`."""

    def __init__(self, data, path=None):
        self.data = data
        self.path = path
        self.grid = {k: [float(x) for x in v] for k, v in data["grid"].items()}
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
            key = (row["salience"], row["prevalence"], row["prune_ratio"])
            self._cells.setdefault(key, []).append(row)
        self._points = {}

    # --- where the grid is
    def check_value(self, axis, value):
        """``value`` on ``axis``'s grid (within 1e-9), as the grid's float; ``ValueError``
        naming the axis, the value and the grid values otherwise."""
        check_choice("axis", axis, tuple(self.grid))
        try:
            v = float(value)
        except (TypeError, ValueError):
            raise TypeError(f"{axis} must be a number; got {value!r}") from None
        for g in self.grid[axis]:
            if abs(g - v) <= 1e-9:
                return g
        raise ValueError(f"{axis}={value!r} is not on the atlas grid; allowed: "
                         f"{self.grid[axis]} (run other values live)")

    def has(self, salience, prevalence, prune_ratio):
        """Is this point on the grid (so :meth:`point` can answer it without training)?"""
        try:
            key = (self.check_value("salience", salience),
                   self.check_value("prevalence", prevalence),
                   self.check_value("prune_ratio", prune_ratio))
        except (TypeError, ValueError):
            return False
        return key in self._cells

    def rows(self, salience, prevalence, prune_ratio):
        """The per-seed rows of one grid point (a list of dicts, one per seed)."""
        key = (self.check_value("salience", salience), self.check_value("prevalence", prevalence),
               self.check_value("prune_ratio", prune_ratio))
        if key not in self._cells:
            raise ValueError(f"the atlas has no rows at salience={key[0]:g}, "
                             f"prevalence={key[1]:g}, prune_ratio={key[2]:g}")
        return self._cells[key]

    # --- what it says
    def point(self, salience, prevalence, prune_ratio):
        """Summary over seeds of one grid point.

        Returns
        -------
        dict
            ``verdict`` (the shortcut over seeds, a :class:`spurlab.verdicts.Shortcut`, see
            :meth:`verdict_of`), ``verdict_text``, ``baseline`` and
            ``reference`` (``{"smr", "clean_accuracy", "worst_group"}`` ->
            :func:`~spurlab.stats.seed_interval`), ``arms`` (arm -> metric -> interval, or
            None where the arm could not run, e.g. sparing with too few non-carriers),
            ``vs_hardest`` (arm -> :class:`spurlab.verdicts.Difference` of SMR(hardest) -
            SMR(arm) over seeds), ``n_seeds``, ``carriers`` and ``rows``.
        """
        rows = self.rows(salience, prevalence, prune_ratio)
        at = (rows[0]["salience"], rows[0]["prevalence"], rows[0]["prune_ratio"])
        if at in self._points:
            return self._points[at]

        def iv(col):
            return seed_interval([r.get(col) for r in rows])

        verdict = self.verdict_of(rows)
        arms = {}
        for a in self.arms:
            if all(r.get(key("smr", a)) is None for r in rows):
                arms[a] = None
                continue
            arms[a] = {m: iv(key(m, a)) for m in ARM_METRICS}
            if not verdict.learned:
                arms[a]["excess_removed"] = None         # a share of noise: not reported
        vs = {}
        for a in self.arms:
            if a == "hardest" or arms[a] is None or arms.get("hardest") is None:
                continue
            vs[a] = cell_difference(rows, "hardest", a)
        out = {"salience": at[0], "prevalence": at[1], "prune_ratio": at[2],
               "verdict": verdict, "verdict_text": verdict.text(),
               "baseline": {m: iv(key(m, "baseline")) for m in ("smr", "clean_accuracy",
                                                              "worst_group")},
               "reference": {"smr": iv(key("smr", "reference"))},
               "arms": arms, "vs_hardest": vs, "n_seeds": len(rows),
               "carriers": rows[0]["carriers"],
               "overlap_hardest_oracle": iv("overlap_hardest_oracle"),
               "rows": rows}
        self._points[at] = out
        return out

    @staticmethod
    def verdict_of(rows):
        """The shortcut verdict over a cell's seeds (:func:`spurlab.flatten.cell_verdict`)."""
        return cell_verdict(rows)

    def map(self, value, rows_axis, cols_axis, **fixed):
        """Mean over seeds of ``value`` on a ``rows_axis`` x ``cols_axis`` grid, the third axis
        fixed by keyword. ``value`` is a row key (``'smr_hardest'``) or ``fn(row) -> float``.

        Returns ``(row_values, col_values, mean)`` with NaN where the value is undefined.

        Examples
        --------
        >>> # phase map: SMR after pruning the hardest, salience x prune ratio at prevalence 0.3
        >>> # atlas.map("smr_hardest", "salience", "prune_ratio", prevalence=0.3)
        """
        axes = (rows_axis, cols_axis) + tuple(fixed)
        if sorted(axes) != sorted(self.grid) or len(fixed) != 1:
            raise ValueError(f"map needs two of the axes {sorted(self.grid)} and the third fixed "
                             f"by keyword; got rows_axis={rows_axis!r}, cols_axis={cols_axis!r}, "
                             f"fixed={fixed}")
        (fixed_axis, fixed_value), = fixed.items()
        fixed_value = self.check_value(fixed_axis, fixed_value)
        fn = value if callable(value) else (lambda r: r.get(value))
        rv, cv = self.grid[rows_axis], self.grid[cols_axis]
        out = np.full((len(rv), len(cv)), np.nan)
        for i, a in enumerate(rv):
            for j, b in enumerate(cv):
                key = {rows_axis: a, cols_axis: b, fixed_axis: fixed_value}
                cell = self._cells.get((key["salience"], key["prevalence"], key["prune_ratio"]))
                if cell:
                    vals = [fn(r) for r in cell]
                    vals = [v for v in vals if v is not None and not math.isnan(v)]
                    if vals:
                        out[i, j] = float(np.mean(vals))
        return rv, cv, out

    def learned_map(self, rows_axis, cols_axis, **fixed):
        """:meth:`map` of the shortcut verdict over each cell's seeds: 1.0 where a shortcut
        was learned (:meth:`verdict_of`), 0.0 where not, NaN where the verdict is missing."""
        cells = {}
        for (s, q, p), rows in self._cells.items():
            v = self.verdict_of(rows).learned
            cells[(s, q, p)] = float("nan") if v is None else float(v)
        return self.map(lambda r: cells[(r["salience"], r["prevalence"], r["prune_ratio"])],
                        rows_axis, cols_axis, **fixed)[2]

    def verdicts(self, prune_ratio, arm="hardest", versus="random"):
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
                out[(s, q)] = cell_effect(self.rows(s, q, prune_ratio), arm, versus)
        return out

    def differences(self, salience, prevalence, prune_ratio, others=("random", "easiest")):
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
        vs = self.point(salience, prevalence, prune_ratio)["vs_hardest"]
        missing = [a for a in others if a not in vs]
        if missing:
            raise ValueError(f"no seeds of {missing} at salience={salience:g}, "
                             f"prevalence={prevalence:g}, prune_ratio={prune_ratio:g}")
        comps = {a: vs[a] for a in others}
        return "\n".join(d.text() for d in comps.values()), comps

    def verdicts_text(self, prune_ratio, arm="hardest", versus="random"):
        """:meth:`verdicts` in one line: how many cells of each kind, and which backfire."""
        v = self.verdicts(prune_ratio, arm, versus)
        bad = [f"({s:g}, {q:g})" for (s, q), k in v.items() if k == "backfires"]
        return (f"Takeaway (p = {prune_ratio:g}, {len(self.seeds)} seeds per cell, {arm} vs "
                f"{versus} on SMR): {effects_count(v)}; backfires at (salience, "
                f"prevalence): {', '.join(bad) or 'none'}")

    def as_grid(self, *, prevalence, prune_ratio):
        """The atlas as a grid file's content for :func:`spurlab.maps.phase_map` (salience x
        prune ratio at ``prevalence``) and :func:`spurlab.maps.regime_map` (salience x
        prevalence at ``prune_ratio``)."""
        prevalence = self.check_value("prevalence", prevalence)
        prune_ratio = self.check_value("prune_ratio", prune_ratio)
        rows = [r for cell in self._cells.values() for r in cell]
        return {"mode": "playground", "config": self.data["config"],
                "command": self.provenance.get("command"),
                "phase": {"rows": [r for r in rows if r["prevalence"] == prevalence],
                          "fixed": {"prevalence": prevalence}},
                "regime": {"rows": [r for r in rows if r["prune_ratio"] == prune_ratio],
                           "fixed": {"prune_ratio": prune_ratio}}}

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
        return (f"atlas: {len(g['salience'])} saliences x {len(g['prevalence'])} prevalences x "
                f"{len(g['prune_ratio'])} prune ratios, {len(self.seeds)} seeds, arms "
                f"{', '.join(self.arms)}; {n} rows\n"
                f"scale: {self.data['config'] or 'the defaults'}"
                f"{' (the playground preset)' if self.config == preset('playground') else ''}\n"
                f"built by `{p.get('command')}` on {p.get('date')} in {p.get('wall_s')} s with "
                f"spurlab {self.version}, torch {p.get('torch')}, {p.get('device')}, "
                f"{p.get('cpus')} CPUs ({p.get('processor')}), {p.get('workers')} workers")


__all__ = ["ATLAS_ARMS", "ATLAS_GRID", "ATLAS_PATH", "ATLAS_SEEDS", "FORMAT", "Atlas", "AtlasError",
           "check_atlas", "checksum", "load_atlas"]
