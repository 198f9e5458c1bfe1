"""The atlas file: its format, its checksum, and the checks that refuse a malformed one.

:mod:`spurlab.atlas` reads the file (:func:`spurlab.atlas.load_atlas`) and answers questions
about it; this module says what a well-formed atlas file is: ``spurlab-atlas/2`` (axes
thickness x salience x prevalence x prune ratio), or the older ``spurlab-atlas/1`` (no thickness
axis), which :func:`upgrade` reads as the one-pixel layer.
"""

from __future__ import annotations

import hashlib
import json
import math

from ._validate import check_seeds
from .config import Config
from .defaults import DEFAULTS
from .flatten import key

FORMAT = "spurlab-atlas/2"
# spurlab-atlas/1 files (no thickness axis; every row at the default one-pixel line) still load:
# they read as an atlas whose thickness axis holds only 1
FORMATS = ("spurlab-atlas/1", FORMAT)

# the three axes a map or a point reads at one thickness (the layer)
PLANE = ("salience", "prevalence", "prune_ratio")
# the key of a cell: every axis, the layer first
AXES = ("thickness", *PLANE)
THICKNESS = DEFAULTS["thickness"]


class AtlasError(ValueError):
    """The atlas file is missing, unreadable, or not the one this code would build."""




def upgrade(data):
    """A ``spurlab-atlas/1`` atlas (built before the thickness axis, every row at the default
    one-pixel line) as a ``spurlab-atlas/2`` one whose thickness axis holds only that line; a
    current atlas unchanged."""
    if data.get("format") == FORMAT or "thickness" in data.get("grid", {}):
        return data
    cols = data["columns"]
    return {**data, "format": FORMAT, "upgraded_from": data.get("format"),
            "grid": {"thickness": [THICKNESS], **data["grid"]},
            "columns": [cols[0], "thickness", *cols[1:]],
            "rows": [[r[0], THICKNESS, *r[1:]] if isinstance(r, list) else r
                     for r in data["rows"]]}


def checksum(data):
    """SHA-256 of an atlas's columns and rows (written by the build, checked at load)."""
    text = json.dumps([data["columns"], data["rows"]], separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


# what every row holds, whatever the arms
ROW_COLUMNS = ("thickness", "salience", "prevalence", "prune_ratio", "seed", "carriers", "learned",
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
    if not isinstance(grid, dict) or sorted(grid) != sorted(AXES):
        bad(f"grid must have the axes {sorted(AXES)}; got {grid!r:.80}")
    for axis, values in grid.items():
        if axis == "thickness":
            if (not isinstance(values, list) or not values
                    or not all(type(v) is int and v >= 1 for v in values)):
                bad(f"grid['thickness'] must be a non-empty list of whole pixels >= 1; got "
                    f"{values!r:.80}")
        elif (not isinstance(values, list) or not values
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
        point = tuple(r[a] for a in AXES)
        if any(p not in grid[a] for p, a in zip(point, AXES)):
            bad(f"row {n} is at {dict(zip(AXES, point))}, off the grid")
        for i in rates:
            v = row[i]
            if v is not None and not (isinstance(v, (int, float)) and 0 <= v <= 1):
                bad(f"row {n}, column {cols[i]!r} must be a rate in [0, 1] or null; got {v!r}")
        cells.setdefault(point, []).append(r["seed"])
    want = sorted(seeds)
    for point, got in cells.items():
        if sorted(got) != want:
            bad(f"the point {point} has the seeds {sorted(got)}, not the atlas's {want}")
    n_points = math.prod(len(grid[a]) for a in AXES)
    if len(cells) != n_points:
        bad(f"{n_points - len(cells)} of the {n_points} grid points have no rows")


__all__ = ["AXES", "FORMAT", "FORMATS", "PLANE", "ROW_COLUMNS", "THICKNESS", "AtlasError",
           "check_atlas", "checksum", "upgrade"]
