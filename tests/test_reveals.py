"""No reveal states a result the data could contradict.

A "Predict, then reveal" answer is fixed text: a number in it that a run produced could go stale
when the library, the seeds or the scale change. Every number in a reveal (``<details>`` block)
must therefore be one of:

- a small count or reference (an integer up to 10: "notebook 03", "5 seeds", "digit 9");
- a setting the notebook writes in its code (a literal in a code cell, e.g. ``salience=1.0``);
- a bound the notebook asserts (it appears in an ``assert`` line of a code cell, so a run that
  contradicts the text fails);
- declared fixed in the reveal itself with an HTML comment ``<!-- fixed: 90 100 (why) -->``,
  for numbers that come from a worked example's inputs rather than from a run.

Anything else is a result, and belongs in the takeaway the notebook prints from its run.
"""

import json
import re
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("[0-9][0-9]_*.ipynb"))
NUMBER = re.compile(r"(?<![\w.])[-+]?\d+(?:\.\d+)?(?![\w.]*\w)")
FIXED = re.compile(r"<!--\s*fixed:([^>]*)-->")


def _numbers(text):
    return [m.group(0).lstrip("+-") for m in NUMBER.finditer(text)]


def _canon(tok):
    return float(tok)


def reveals(nb):
    """(cell index, reveal text) for every <details> block of the notebook's markdown cells."""
    cells = json.loads(nb.read_text())["cells"]
    for i, c in enumerate(cells):
        if c["cell_type"] == "markdown":
            for m in re.finditer(r"<details>(.*?)</details>", "".join(c["source"]), re.S):
                yield i, m.group(1)


def allowed(nb):
    """Numbers the notebook's code writes as literals, and those in its assert lines."""
    code = [("".join(c["source"])) for c in json.loads(nb.read_text())["cells"]
            if c["cell_type"] == "code"]
    literals, asserted = set(), set()
    for src in code:
        for line in src.splitlines():
            line = line.split("#")[0]
            nums = {_canon(t) for t in _numbers(line)}
            literals |= nums
            if line.strip().startswith("assert"):
                asserted |= nums
    return literals | asserted


def _stated(texts, ok):
    """(cell, number) of every number in ``texts`` ((cell, text) pairs) that is neither a small
    count, in ``ok``, nor declared fixed in its text."""
    out = []
    for i, text in texts:
        fixed = {_canon(t) for m in FIXED.finditer(text) for t in _numbers(m.group(1))}
        for tok in _numbers(FIXED.sub("", text)):
            v = _canon(tok)
            if not ((v.is_integer() and 0 <= v <= 10) or v in ok or v in fixed):
                out.append((i, tok))
    return out


def unexplained(nb):
    return _stated(reveals(nb), allowed(nb))


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_reveals_state_no_result(nb):
    bad = unexplained(nb)
    assert not bad, (f"{nb.name}: reveal numbers that are neither settings, asserted bounds nor "
                     f"declared fixed (cell, number): {bad}; print them from the run instead")


def test_the_scan_catches_a_stated_result(tmp_path):
    cell = {"cell_type": "markdown", "metadata": {}, "source": [
        "<details><summary>Reveal</summary>\nSMR falls from 18.0% to 3.5% in 5 seeds.\n</details>"]}
    code = {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
            "source": ["x = 3.5\n", "assert y < 18.0\n"]}
    nb = tmp_path / "99_x.ipynb"
    nb.write_text(json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    assert [t for _, t in unexplained(nb)] == ["18.0", "3.5"]
    nb.write_text(json.dumps({"cells": [cell, code], "metadata": {}, "nbformat": 4,
                              "nbformat_minor": 5}))
    assert unexplained(nb) == []       # 3.5 is a setting, 18.0 an asserted bound
    cell["source"] = ["<details>SMR 42 <!-- fixed: 42 (the example's input) --></details>"]
    nb.write_text(json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    assert unexplained(nb) == []


# --- the rest of the prose: every markdown cell, not only the reveals

def settings():
    """Numbers the package defines as settings a notebook's prose may name: the defaults, the
    presets, the strong signal and the atlas's grid, each also as a percentage; the explorer's
    pruner (its gallery, budget and number of seeds); the confidence level of every interval
    (95)."""
    import spurlab as sl
    from spurlab.atlas import ATLAS_GRID
    from spurlab.config import PRESETS
    from spurlab.explorable import PRUNER_BUDGET, PRUNER_GALLERY, PRUNER_SEEDS

    values = set()
    for d in (sl.DEFAULTS, sl.STRONG_SIGNAL, *(c.to_dict() for c in PRESETS.values())):
        for v in d.values():
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                values |= {float(v), round(float(v) * 100, 6)}
    for axis in ATLAS_GRID.values():
        values |= {float(v) for v in axis} | {round(float(v) * 100, 6) for v in axis}
    pruner = {float(PRUNER_GALLERY), float(PRUNER_BUDGET), float(len(PRUNER_SEEDS))}
    return values | pruner | {95.0}


YEAR_OR_ID = re.compile(r"\b(?:19|20)\d\d\b(?!\.\d)|\b\d{4}\.\d{4,5}\b")   # years, arXiv ids
MINUTES = re.compile(r"\b\d+\s*(?:minutes|min)\b")                        # time estimates
THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}\b)")
PLAN_ROW = re.compile(r"^\|.*\|\s*\d+\s*\|\s*$", re.M)                  # a plan's minutes


def prose(nb):
    """(cell index, text) of every markdown cell outside its reveals, without code spans, link
    targets, time estimates, years and arXiv ids."""
    for i, c in enumerate(json.loads(nb.read_text())["cells"]):
        if c["cell_type"] != "markdown":
            continue
        text = re.sub(r"<details>.*?</details>", "", "".join(c["source"]), flags=re.S)
        text = PLAN_ROW.sub("", text)
        text = re.sub(r"`[^`]*`", "", text)
        text = re.sub(r"\]\([^)]*\)", "]", text)
        text = THOUSANDS.sub("", text)
        text = MINUTES.sub("", YEAR_OR_ID.sub("", text))
        yield i, text


def unexplained_prose(nb, known=None):
    return _stated(prose(nb), allowed(nb) | (settings() if known is None else known))


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_prose_states_no_result(nb):
    """A number in a notebook's prose is a setting (the package's or the notebook's code), an
    asserted bound, a time estimate, a citation or declared fixed; a result is printed from the
    run (or read from a shipped file) instead, so it cannot go stale when the data change."""
    bad = unexplained_prose(nb)
    assert not bad, (f"{nb.name}: prose numbers that are neither settings, asserted bounds nor "
                     f"declared fixed (cell, number): {bad}; print them from the run instead")


def test_the_prose_scan_catches_a_stated_result(tmp_path):
    cell = {"cell_type": "markdown", "metadata": {}, "source": [
        "The atlas holds 3,750 retrainings; SMR falls to 0.035 (about 45 minutes, Mulchandani & "
        "Kim 2025, arXiv 2503.18258), on 30% of the rings.\n"]}
    nb = tmp_path / "99_x.ipynb"
    nb.write_text(json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    assert [t for _, t in unexplained_prose(nb, known={30.0})] == ["3750", "0.035"]
    assert [t for _, t in unexplained_prose(nb, known=set())] == ["3750", "0.035", "30"]


# --- directions: a reveal that says which way a result goes is checked by the run

DIRECTION = re.compile(r"\b(lower|higher|fewer|more|less|helps|backfires?|worse|better|rises|"
                       r"falls|drops|increases|decreases)\b", re.I)
# the reveal hands the answer to the run's own output instead of stating it
DEFERS = re.compile(r"read (?:it |the answer |the table )?off|run the cell below|"
                    r"the numbers printed|printed (?:takeaway|under)|read the table", re.I)
ASSERTED = re.compile(r"<!--\s*asserted:\s*(.*?)\s*-->")


def asserts(nb):
    """The notebook's assert statements, each as one line of text (continuations joined)."""
    out = []
    for c in json.loads(nb.read_text())["cells"]:
        if c["cell_type"] != "code":
            continue
        lines = "".join(c["source"]).splitlines()
        for i, line in enumerate(lines):
            if line.strip().startswith("assert"):
                out.append(" ".join([line, *lines[i + 1:i + 3]]))
    return out


def unchecked_directions(nb):
    """Reveals that state a direction and neither defer to the run's output, declare a worked
    example (fixed numbers), nor name an assert of the notebook that checks it."""
    checks = asserts(nb)
    out = []
    for i, text in reveals(nb):
        if not DIRECTION.search(FIXED.sub("", ASSERTED.sub("", text))):
            continue
        if DEFERS.search(text) or FIXED.search(text):
            continue
        named = ASSERTED.findall(text)
        if not named or not all(any(n in a for a in checks) for n in named):
            out.append((i, named or sorted({w.lower() for w in DIRECTION.findall(text)})))
    return out


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_reveals_state_no_direction_the_run_does_not_check(nb):
    """'Fewer', 'lower', 'backfires': a direction in a reveal is a result. Either the reveal
    sends the reader to the printed output, or it names (``<!-- asserted: ... -->``) an assert of
    the notebook that fails when the run goes the other way (in claims mode, which nbval runs)."""
    bad = unchecked_directions(nb)
    assert not bad, (f"{nb.name}: reveals stating a direction no assert checks (cell, words or "
                     f"named asserts not found): {bad}")


def test_the_direction_scan_needs_a_real_assert(tmp_path):
    reveal = {"cell_type": "markdown", "metadata": {}, "source": [
        "<details>Fewer. <!-- asserted: hardest_cut < random_cut --></details>"]}
    code = {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
            "source": ["assert hardest_cut < random_cut, 'fewer'\n"]}
    nb = tmp_path / "99_x.ipynb"
    for cells, bad in (([reveal], True), ([reveal, code], False)):
        nb.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4,
                                  "nbformat_minor": 5}))
        assert bool(unchecked_directions(nb)) is bad
    reveal["source"] = ["<details>Fewer, and the SMR is lower.</details>"]
    nb.write_text(json.dumps({"cells": [reveal, code], "metadata": {}, "nbformat": 4,
                              "nbformat_minor": 5}))
    assert unchecked_directions(nb) == [(0, ["fewer", "lower"])]
