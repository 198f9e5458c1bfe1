"""Expected ranges for the headline numbers of the notebooks' default setting, from the shipped
atlas (the notebooks' quick mode and the atlas run at one teaching scale).

    python scripts/expected_ranges.py            # print the table (markdown)
    python scripts/expected_ranges.py --write    # put it into docs/instructor.md

For the default point (salience 0.5, prevalence 0.3) at the grid ratios either side of the
notebooks' p = 0.25, each row gives the atlas's mean over its seeds and the range where one more
seed should fall (95%, :func:`spurlab.playground.prediction_range`), shown inside the metric's
range [0, 1]. A learner's live seed outside it is worth a look (quick mode? the shapes? the same
line?); inside it, a difference from the mean is seed noise.
"""

from __future__ import annotations

import argparse
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
GUIDE = ROOT / "docs" / "instructor.md"
START, END = "<!-- ranges:start -->", "<!-- ranges:end -->"
POINT = (0.5, 0.3)
RATIOS = (0.2, 0.3)
# (label, model, metric): what a notebook prints at the default setting
ROWS = (("baseline (ERM) SMR", "baseline", "smr"),
        ("reference (no-carrier model) SMR", "reference", "smr"),
        ("baseline clean accuracy", "baseline", "clean_accuracy"),
        ("baseline worst-group accuracy", "baseline", "worst_group"),
        ("hardest SMR", "hardest", "smr"),
        ("random SMR", "random", "smr"),
        ("easiest SMR", "easiest", "smr"),
        ("oracle (hardest carriers) SMR", "hardest/oracle", "smr"),
        ("hardest: share of the carriers cut", "hardest", "carrier_share"))


def table(atlas=None):
    """The markdown table of expected ranges (one seed) at :data:`POINT` for :data:`RATIOS`."""
    import spurlab as sl
    from spurlab.flatten import key
    from spurlab.playground import prediction_range

    atlas = atlas or sl.load_atlas()

    def values(rows, model, metric):
        if metric == "carrier_share":
            return [r[key("carriers_pruned", model)] / r["carriers"] for r in rows]
        return [r[key(metric, model)] for r in rows]

    def cell(v):
        lo, hi = prediction_range(v)
        mean = sum(v) / len(v)
        return f"{mean:.3f} ({max(lo, 0.0):.3f}-{min(hi, 1.0):.3f})"

    s, q = POINT
    head = ("| number | " + " | ".join(f"p = {p:g}: mean (one seed's range)" for p in RATIOS)
            + " |\n| --- | " + " | ".join("---" for _ in RATIOS) + " |")
    lines = [head]
    for label, model, metric in ROWS:
        lines.append(f"| {label} | " + " | ".join(
            cell(values(atlas.rows(s, q, p), model, metric)) for p in RATIOS) + " |")
    cfg = atlas.config
    return (f"Salience {s:g}, prevalence {q:g}, {cfg.n_train:,} training images, {cfg.epochs} "
            f"epochs ({len(atlas.seeds)} seeds of the shipped atlas, spurlab {atlas.version}; "
            "`python scripts/expected_ranges.py`):\n\n" + "\n".join(lines))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help=f"write the table into {GUIDE.name}")
    a = ap.parse_args(argv)
    text = table()
    if not a.write:
        print(text)
        return 0
    guide = GUIDE.read_text()
    if START not in guide or END not in guide:
        print(f"error: {GUIDE} has no {START} ... {END} block to fill", file=sys.stderr)
        return 1
    head, rest = guide.split(START, 1)
    _, tail = rest.split(END, 1)
    GUIDE.write_text(f"{head}{START}\n{text}\n{END}{tail}")
    print(f"wrote the table into {GUIDE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
