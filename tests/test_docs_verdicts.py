"""docs/verdicts.md's worked example and sample lines are what the code prints."""

import contextlib
import io
import pathlib

from spurlab import load_atlas, verdicts

DOC = (pathlib.Path(__file__).resolve().parents[1] / "docs" / "verdicts.md").read_text()


def _blocks(kind):
    return [b.split("```", 1)[0] for b in DOC.split(f"```{kind}\n")[1:]]


def test_the_worked_example_prints_what_the_doc_shows():
    code, shown = _blocks("python")[0], _blocks("text")[0]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "docs/verdicts.md", "exec"), {})           # noqa: S102 - the doc's code
    assert out.getvalue() == shown


def test_the_sample_comparisons_are_what_the_code_says():
    lines = _blocks("text")[1].splitlines()
    point = load_atlas().point(1.0, 0.05, 0.2)
    assert lines == [verdicts.difference_of([-0.05, -0.07, -0.06], "hardest", "random").text(),
                     point["vs_hardest"]["random"].text(),
                     verdicts.difference_of([-0.3], "hardest", "random").text()]
