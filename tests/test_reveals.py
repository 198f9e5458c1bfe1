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


def unexplained(nb):
    ok = allowed(nb)
    out = []
    for i, text in reveals(nb):
        fixed = {_canon(t) for m in FIXED.finditer(text) for t in _numbers(m.group(1))}
        body = FIXED.sub("", text)
        for tok in _numbers(body):
            v = _canon(tok)
            if (v.is_integer() and 0 <= v <= 10) or v in ok or v in fixed:
                continue
            out.append((i, tok))
    return out


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
