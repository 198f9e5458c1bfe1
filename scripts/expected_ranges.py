"""Expected ranges for the headline numbers of the notebooks' default setting and of their strong
signal, from the shipped atlas (the notebooks' quick mode and the atlas run at one teaching
scale).

    python scripts/expected_ranges.py            # print the table (markdown)
    python scripts/expected_ranges.py --write    # put it into docs/instructor.md

For the default point (a one-pixel line, salience 0.5, prevalence 0.3) and the strong signal of
notebooks 03-04 (``sl.STRONG_SIGNAL``, where the atlas holds its two-pixel layer), at the
notebooks' p = 0.25 (or the grid ratios either side of it on an atlas without it), each row
gives the atlas's mean over its seeds and the range where one more seed should fall (95%,
:func:`spurlab.playground.prediction_range`), shown inside the metric's range [0, 1]. A
learner's live seed outside it is worth a look (quick mode? the shapes? the same line?); inside
it, a difference from the mean is seed noise.
"""

from __future__ import annotations

import argparse
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
GUIDE = ROOT / "docs" / "instructor.md"
START, END = "<!-- ranges:start -->", "<!-- ranges:end -->"
POINT = (0.5, 0.3)              # the default setting (one-pixel line)
RATIO = 0.25                    # the notebooks' prune ratio (the default)
NEAR = (0.2, 0.3)               # the grid ratios either side of it on an atlas without it
# (label, model, metric): what a notebook prints at the default setting
ROWS = (("baseline (ERM) SMR", "baseline", "smr"),
        ("reference (no-carrier model) SMR", "reference", "smr"),
        ("baseline clean accuracy", "baseline", "clean_accuracy"),
        ("baseline worst-group accuracy", "baseline", "worst_group"),
        ("hardest SMR", "hardest", "smr"),
        ("random SMR", "random", "smr"),
        ("easiest SMR", "easiest", "smr"),
        ("oracle (hardest carriers) SMR", "hardest/oracle", "smr"),
        ("hardest worst-group accuracy", "hardest", "worst_group"),
        ("random worst-group accuracy", "random", "worst_group"),
        ("hardest: share of the hard carriers cut", "hardest", "hard_removed"),
        ("random: share of the hard carriers cut", "random", "hard_removed"),
        ("hardest: share of the carriers cut", "hardest", "carrier_share"))


def table(atlas=None):
    """The markdown tables of expected ranges (one seed): at :data:`POINT` and at the strong
    signal where the atlas has it, for :data:`RATIO` (or :data:`NEAR`)."""
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

    ratios = (RATIO,) if RATIO in atlas.grid["prune_ratio"] else NEAR
    strong = sl.STRONG_SIGNAL
    points = [("The default setting: a one-pixel line", 1, *POINT)]
    if atlas.has(strong["salience"], strong["prevalence"], ratios[0],
                 thickness=strong["thickness"]):
        points.append(("The strong signal of notebooks 03-04 (`sl.STRONG_SIGNAL`): a "
                       f"{strong['thickness']}-pixel line", strong["thickness"],
                       strong["salience"], strong["prevalence"]))
    cfg = atlas.config
    out = []
    for title, t, s, q in points:
        lines = ["| number | " + " | ".join(f"p = {p:g}: mean (one seed's range)" for p in ratios)
                 + " |", "| --- | " + " | ".join("---" for _ in ratios) + " |"]
        for label, model, metric in ROWS:
            rows = [atlas.rows(s, q, p, thickness=t) for p in ratios]
            if any(r.get(key(metric if metric != "carrier_share" else "carriers_pruned",
                                 model)) is None for rr in rows for r in rr):
                continue                                   # an arm that cannot run there
            lines.append(f"| {label} | " + " | ".join(
                cell(values(rr, model, metric)) for rr in rows) + " |")
        out.append(f"{title}, salience {s:g}, prevalence {q:g}, {cfg.n_train:,} training images, "
                   f"{cfg.epochs} epochs ({len(atlas.seeds)} seeds of the shipped atlas, spurlab "
                   f"{atlas.version}; `python scripts/expected_ranges.py`):\n\n" + "\n".join(lines))
    return "\n\n".join(out)


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
