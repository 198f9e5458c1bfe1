"""scripts/make_course.py: student and instructor sets kept apart, solutions that pass their
checkers, refusals and clean failures; the extended tests execute notebooks with nbclient."""

import importlib
import importlib.util
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from .test_exercises import DATA

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "make_course.py"
NOTEBOOKS = ROOT / "notebooks"
# the session's disk cache (the root conftest sets one per run unless the caller did, as .ci/run
# does for all its stages), read before the autouse fixture hides it from each test
SHARED_CACHE = os.environ.get("SPURLAB_CACHE_DIR")


def _load_script():
    spec = importlib.util.spec_from_file_location("make_course", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


mc = _load_script()


def _normalised(text):
    """Non-blank, non-comment lines, stripped: how a body is compared with a notebook's text."""
    return "\n".join(ln.strip() for ln in text.splitlines()
                     if ln.strip() and not ln.strip().startswith("#"))


def _sources(path):
    return [cell.source for cell in nbformat.read(str(path), as_version=4).cells]


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    out = tmp_path_factory.mktemp("build") / "course"
    assert mc.main(["--no-execute", "--out", str(out)]) == 0
    return out


def test_student_set_has_every_notebook_as_it_is_and_no_solutions(course):
    student = course / "student"
    names = sorted(p.name for p in mc.notebook_files(NOTEBOOKS))
    assert len(names) >= 8
    assert sorted(p.name for p in student.iterdir()) == names
    assert not list(course.rglob("student/**/solutions")) and not list(student.rglob("*.py"))
    for name in names:
        nb = nbformat.read(str(student / name), as_version=4)
        assert _sources(student / name) == _sources(NOTEBOOKS / name), name   # stubs as they are
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, name


def test_solutions_cannot_be_imported_from_the_student_folder(course):
    code = textwrap.dedent("""
        for name in ("solutions", "notebooks.solutions"):
            try:
                __import__(name)
                print("imported", name)
            except ImportError:
                print("no", name)
    """)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    out = subprocess.run([sys.executable, "-c", code], cwd=course / "student", env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[:2] == ["no solutions", "no notebooks.solutions"], out.stdout


def test_no_solution_body_appears_in_a_student_notebook(course):
    bodies = {f"{module.name}:{name}": _normalised(fn["body"])
              for module in sorted((NOTEBOOKS / "solutions").glob("nb*.py"))
              for name, fn in mc.solution_functions(module).items()}
    assert len(bodies) >= 16 and all(bodies.values())
    for path in sorted((course / "student").iterdir()):
        text = _normalised("\n".join(_sources(path)))
        raw = path.read_text(encoding="utf-8")
        for where, body in bodies.items():
            assert body not in text, f"{path.name} holds the body of {where}"
            longest = max(body.splitlines(), key=len)
            assert json.dumps(longest)[1:-1] not in raw or len(longest) < 30, (path.name, where)


def test_instructor_set_fills_every_stub_with_a_solution_that_passes_its_checker(course, capsys):
    manifest = json.loads((course / "course.json").read_text())
    filled = {e["notebook"]: e["exercises_filled"] for e in manifest["notebooks"]}
    checked = 0
    for source in mc.notebook_files(NOTEBOOKS):
        number = mc.notebook_number(source)
        stubs = [s[0] for cell in nbformat.read(str(source), as_version=4).cells
                 if cell.cell_type == "code" for s in mc.find_stubs(cell.source)]
        assert filled[source.name] == stubs
        nb = nbformat.read(str(course / "instructor" / source.name), as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert not mc.STUB_TEXT.search(cell.source), (source.name, cell.source)
        if stubs:
            assert (course / "instructor" / "solutions" / f"nb{number}.py").is_file()
            checkers = importlib.import_module(f"spurlab.exercises.nb{number}")
        solution_cells = [c for c in nb.cells if "solution" in c.metadata.get("tags", [])]
        assert [n for c in solution_cells for n in c.metadata["spurlab"]["functions"]] == stubs
        for cell in solution_cells:
            namespace = {}
            exec(compile(cell.source, f"{source.name}:solution", "exec"), namespace)
            for name in cell.metadata["spurlab"]["functions"]:
                data = DATA.get((f"nb{number}", name))          # a checker judged on a run
                args = data() if data else ()
                assert getattr(checkers, f"check_{name}")(namespace[name], *args) is True, (source.name, name)
                checked += 1
    assert checked == sum(len(v) for v in filled.values()) >= 16
    out = capsys.readouterr().out
    assert "hint" not in out and "not done yet" not in out


def test_manifest_says_what_was_built(course):
    import spurlab

    manifest = json.loads((course / "course.json").read_text())
    assert manifest["spurlab_version"] == spurlab.__version__
    assert manifest["mode"] == "quick" and manifest["executed"] is False
    assert "--no-execute" in manifest["command"]
    assert all(e["seconds"] is None and e["status"] == "not executed" for e in manifest["notebooks"])
    assert not (course / "html").exists()
    assert not [p for p in course.parent.iterdir() if p.name.startswith(".course.")]


def test_only_builds_the_notebooks_asked_for(tmp_path):
    assert mc.main(["--no-execute", "--only", "0,04", "--out", str(tmp_path / "c")]) == 0
    names = sorted(p.name for p in (tmp_path / "c" / "student").iterdir())
    assert [n[:2] for n in names] == ["00", "04"]
    assert sorted(p.name for p in (tmp_path / "c" / "instructor" / "solutions").iterdir()) == [
        "__init__.py", "nb00.py", "nb04.py"]


def test_a_non_empty_out_folder_is_refused_unless_force(tmp_path, capsys):
    out = tmp_path / "course"
    out.mkdir()
    (out / "mine.txt").write_text("keep me")
    assert mc.main(["--no-execute", "--only", "00", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "--out" in err and "not empty" in err and "--force" in err
    assert [p.name for p in out.iterdir()] == ["mine.txt"]
    # --force replaces only a course this script built: not a folder of someone's files
    assert mc.main(["--no-execute", "--only", "00", "--out", str(out), "--force"]) == 1
    assert "not a course this script built" in capsys.readouterr().err
    assert [p.name for p in out.iterdir()] == ["mine.txt"]
    built = tmp_path / "built"
    assert mc.main(["--no-execute", "--only", "00", "--out", str(built)]) == 0
    assert mc.main(["--no-execute", "--only", "00", "--out", str(built), "--force"]) == 0
    assert sorted(p.name for p in built.iterdir()) == ["course.json", "instructor", "student"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["built", "course"]   # nothing beside
    (tmp_path / "empty").mkdir()                                           # an empty folder is fine
    assert mc.main(["--no-execute", "--only", "00", "--out", str(tmp_path / "empty")]) == 0


def test_the_notebooks_folder_is_never_an_out_folder(tmp_path, capsys):
    """--out X --force on the notebooks' own folder (or a folder holding it) would delete them."""
    src = _source_folder(tmp_path / "nbs", {"00_a.ipynb": [_stub("triple")]}, {"nb00.py": SOLUTION})
    before = sorted(p.name for p in src.iterdir())
    for out in (src, tmp_path):
        assert mc.main(["--no-execute", "--force", "--notebooks", str(src), "--out", str(out)]) == 1
        assert "is or holds the notebooks folder" in capsys.readouterr().err
    assert sorted(p.name for p in src.iterdir()) == before


def test_an_interrupt_is_reported_as_an_interrupt(tmp_path, capsys, monkeypatch):
    """Ctrl-C while a notebook runs: whatever the notebook client turned it into, the build says
    it was interrupted, exits 130 and leaves no course and no partial folder."""
    src = _source_folder(tmp_path / "nbs", {"00_a.ipynb": [_stub("triple")]}, {"nb00.py": SOLUTION})

    class Client:
        def __init__(self, *a, **k):
            pass

        def execute(self, env=None):
            mc._INTERRUPTED["flag"] = True          # what the SIGINT handler records
            raise AssertionError("the client's own state check, tripped by the interrupt")

    monkeypatch.setattr(importlib.import_module("nbclient"), "NotebookClient", Client)
    out = tmp_path / "out"
    assert mc.main(["--notebooks", str(src), "--out", str(out), "--mode", "smoke"]) == 130
    err = capsys.readouterr().err
    assert "interrupted (Ctrl-C)" in err and "AssertionError" not in err
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["nbs"]


@pytest.mark.parametrize("args,expected", [
    (["--only", "0x"], ["--only", "'0x'", "00, 01"]),
    (["--only", "00,,04"], ["--only", "''", "00, 01"]),
    (["--only", "42"], ["--only", "no notebook 42", "00, 01"]),
    (["--mode", "fast"], ["--mode", "'fast'", "'smoke'", "'quick'", "'full'"]),
    (["--timeout", "-5"], ["--timeout", "'-5'", "positive"]),
    (["--timeout", "soon"], ["--timeout", "'soon'", "positive"]),
    (["--timeout", "nan"], ["--timeout", "'nan'", "positive"]),
])
def test_bad_arguments_are_refused_by_name(tmp_path, capsys, args, expected):
    with pytest.raises(SystemExit) as info:
        mc.main(["--no-execute", "--out", str(tmp_path / "c"), *args])
    assert info.value.code == 2
    err = capsys.readouterr().err
    for text in expected:
        assert text in err, (text, err)
    assert not list(tmp_path.iterdir())


def test_a_bad_argument_from_the_command_line(tmp_path):
    out = subprocess.run([sys.executable, str(SCRIPT), "--mode", "fast", "--out", str(tmp_path / "c")],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "--mode" in out.stderr and "'fast'" in out.stderr
    assert not list(tmp_path.iterdir())


def _stub(name, args="x"):
    return (f"def {name}({args}):\n    \"\"\"What {name} does.\"\"\"\n"
            f"    raise NotImplementedError(\"Exercise: write {name}\")")


def _source_folder(folder, notebooks, solutions):
    """A notebooks folder: ``{file name: [cell source, ...]}`` and ``{module: text}``."""
    folder.mkdir()
    for name, cells in notebooks.items():
        nb = new_notebook(cells=[new_markdown_cell(f"# {name}")] + [new_code_cell(c) for c in cells])
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                     "language": "python"}
        nbformat.write(nb, str(folder / name))
    (folder / "solutions").mkdir()
    for name, text in solutions.items():
        (folder / "solutions" / name).write_text(textwrap.dedent(text))
    return folder


SOLUTION = """
    \"\"\"Solutions.\"\"\"
    import math
    import os

    SCALE = 3


    def _helper(x):
        return math.floor(x) * SCALE


    def triple(x):
        \"\"\"Three times floor(x).\"\"\"
        return _helper(x)


    def unused():
        return os.getcwd()
"""


def test_a_stub_with_its_helpers_and_imports_is_filled_in(tmp_path):
    src = _source_folder(tmp_path / "nbs", {"00_a.ipynb": ["%matplotlib inline\nimport math",
                                                           "# before\n" + _stub("triple") + "\nZ = 1"]},
                         {"nb00.py": SOLUTION})
    assert mc.main(["--no-execute", "--notebooks", str(src), "--out", str(tmp_path / "c")]) == 0
    nb = nbformat.read(str(tmp_path / "c" / "instructor" / "00_a.ipynb"), as_version=4)
    cell = nb.cells[2].source
    assert cell.startswith("# before\n# solution, from solutions/nb00.py") and cell.endswith("\nZ = 1")
    assert "import math" in cell and "SCALE = 3" in cell and "def _helper" in cell
    assert "import os" not in cell and "unused" not in cell
    namespace = {}
    exec(cell, namespace)
    assert namespace["triple"](2.5) == 6 and namespace["Z"] == 1


def test_a_failure_mid_build_leaves_no_course_and_keeps_the_old_one(tmp_path, capsys):
    src = _source_folder(tmp_path / "nbs", {"00_a.ipynb": [_stub("triple")],
                                            "01_b.ipynb": [_stub("mystery")]},
                         {"nb00.py": SOLUTION, "nb01.py": SOLUTION})
    out = tmp_path / "out" / "course"
    assert mc.main(["--no-execute", "--notebooks", str(src), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "01_b.ipynb, cell 1" in err and "'mystery'" in err and "nb01.py" in err
    assert not out.exists() and not list(out.parent.iterdir())
    out.mkdir()
    (out / "old.txt").write_text("the previous course")
    (out / "course.json").write_text(json.dumps({"made_by": mc.MADE_BY}))     # built by this script
    assert mc.main(["--no-execute", "--force", "--notebooks", str(src), "--out", str(out)]) == 1
    assert "'mystery'" in capsys.readouterr().err                     # the build failed, not --out
    assert [p.name for p in out.parent.iterdir()] == ["course"]
    assert sorted(p.name for p in out.iterdir()) == ["course.json", "old.txt"]


# ----------------------------------------------------------------------------- execution


def _need_nbclient():
    try:
        import nbclient  # noqa: F401
        import nbconvert  # noqa: F401
    except ImportError as exc:
        pytest.fail(f"executing notebooks needs nbclient and nbconvert ({exc}): nbconvert belongs "
                    "in pyproject's test extra")


ENV_CELL = ("import os, sys\nprint('mode', os.environ['SPURLAB_MODE'])\n"
            "print('backend', os.environ['MPLBACKEND'])\nprint('cwd', os.getcwd())\n"
            "print('python', sys.executable)\nprint('cache', os.environ.get('SPURLAB_CACHE_DIR'))")


@pytest.mark.extended
def test_failing_and_stalling_notebooks_are_named_after_the_others_ran(tmp_path, capsys):
    _need_nbclient()
    src = _source_folder(tmp_path / "nbs", {
        "00_ok.ipynb": ["x = 1", ENV_CELL],
        "01_raises.ipynb": ["x = 1", "1 / 0"],
        "02_stalls.ipynb": ["import time\ntime.sleep(120)"],
        "03_ok.ipynb": ["print('three')"]}, {})
    out = tmp_path / "course"
    assert mc.main(["--notebooks", str(src), "--out", str(out), "--timeout", "5"]) == 1
    captured = capsys.readouterr()
    assert "01_raises.ipynb, cell 2" in captured.err and "ZeroDivisionError" in captured.err
    assert "02_stalls.ipynb, cell 1" in captured.err and "timed out after 5 s" in captured.err
    assert "00_ok.ipynb" not in captured.err and "03_ok.ipynb: ok" in captured.out
    assert not out.exists() and not list(tmp_path.glob(".course*"))


@pytest.mark.extended
def test_an_executed_course_has_outputs_html_and_times(tmp_path, monkeypatch):
    _need_nbclient()
    monkeypatch.chdir(tmp_path)
    src = _source_folder(tmp_path / "nbs", {"00_ok.ipynb": [ENV_CELL, _stub("triple"), "triple(2)"],
                                            "01_two.ipynb": ["print(2)"]},
                         {"nb00.py": SOLUTION})
    out = tmp_path / "course"
    assert mc.main(["--notebooks", str(src), "--out", str(out), "--mode", "smoke",
                    "--cache-dir", "rel-cache"]) == 0
    nb = nbformat.read(str(out / "instructor" / "00_ok.ipynb"), as_version=4)
    printed = nb.cells[1].outputs[0]["text"]
    assert "mode smoke" in printed and f"backend {mc.MPLBACKEND}" in printed
    assert f"cache {Path('rel-cache').absolute()}" in printed
    assert re.search(r"cwd \S*/instructor$", printed, re.M)
    assert f"python {sys.executable}" in printed
    assert nb.cells[3].outputs[0]["data"]["text/plain"] == "6"
    manifest = json.loads((out / "course.json").read_text())
    assert [e["status"] for e in manifest["notebooks"]] == ["ok", "ok"]
    assert all(e["seconds"] > 0 for e in manifest["notebooks"])
    index = (out / "html" / "index.html").read_text()
    assert '<a href="00_ok.html">' in index and "01_two.html" in index
    assert (out / "html" / "00_ok.html").stat().st_size > 1000
    # the static playground is part of the course, linked from its index
    assert 'href="playground/index.html"' in index
    page = (out / "html" / "playground" / "index.html").read_text()
    assert all((out / "html" / "playground" / f).is_file() for f in re.findall(r"src='([^'d][^']*)'",
                                                                                 page))
    student = nbformat.read(str(out / "student" / "00_ok.ipynb"), as_version=4)
    assert all(c.outputs == [] for c in student.cells if c.cell_type == "code")


@pytest.mark.extended
@pytest.mark.slow
def test_every_notebook_executes_under_nbclient_in_quick_mode(tmp_path):
    """The course build runs every notebook the way nbconvert --execute, papermill and Voila do
    (nbclient, default TCP transport), with the solutions filled in. The kernels share the
    session's disk cache (SHARED_CACHE): after the README's test run in the same CI job, whose
    notebooks filled it under nbval, what is left to train here is mostly the solutions' own
    runs; cold, the build took over an hour on a busy 2-core machine.

    Notebook 04 used to stall here until the cell timeout in 5 of 6 tries: its panel drew through
    ``with output:``, which nbclient answers by echoing every captured output back over the
    shell socket while it waits on that socket for the cell's reply (spurlab.widgets._OutputSink)."""
    _need_nbclient()
    out = tmp_path / "course"
    status = mc.main(["--out", str(out), "--mode", "quick", "--timeout", "900",
                      "--cache-dir", SHARED_CACHE or str(tmp_path / "cache")])
    manifest = json.loads((out / "course.json").read_text()) if out.exists() else None
    assert status == 0, "a notebook failed: see the captured stderr"
    names = [p.name for p in mc.notebook_files(NOTEBOOKS)]
    assert [e["notebook"] for e in manifest["notebooks"]] == names
    assert all(e["status"] == "ok" and e["seconds"] > 0 for e in manifest["notebooks"]), manifest
    for name in names:
        nb = nbformat.read(str(out / "instructor" / name), as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code" and c.source.strip()]
        assert all(c.execution_count is not None for c in code), name
        assert not [o for c in code for o in c.outputs if o.output_type == "error"], name
        assert (out / "html" / name.replace(".ipynb", ".html")).stat().st_size > 10_000, name
    assert (out / "html" / "index.html").is_file()


def test_html_pages_show_what_a_panels_output_widget_holds(tmp_path):
    """A panel's results live in its Output widget's saved state; the HTML page writes them out
    after the widget, so they read without widget JavaScript."""
    pytest.importorskip("nbconvert")
    view = {"output_type": "display_data", "metadata": {},
            "data": {"text/plain": "VBox()", mc.WIDGET_VIEW: {"model_id": "box", "version_major": 2,
                                                              "version_minor": 0}}}
    nb = new_notebook(cells=[new_code_cell("panel", outputs=[nbformat.from_dict(view)])])
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {
        "version_major": 2, "version_minor": 0, "state": {
            "box": {"model_name": "VBoxModel", "model_module": "@jupyter-widgets/controls",
                    "model_module_version": "2.0.0",
                    "state": {"children": ["IPY_MODEL_html", "IPY_MODEL_out"]}},
            "html": {"model_name": "HTMLModel", "model_module": "@jupyter-widgets/controls",
                     "model_module_version": "2.0.0", "state": {"value": "title"}},
            "out": {"model_name": "OutputModel", "model_module": "@jupyter-widgets/output",
                    "model_module_version": "1.0.0", "state": {"outputs": [
                        {"output_type": "stream", "name": "stdout", "text": "Takeaway: panel ran\n"}]}}}}}
    path = tmp_path / "00_x.ipynb"
    nbformat.write(nb, str(path))
    assert [o["text"] for o in mc.widget_outputs(nb, nb.cells[0].outputs[0])] == ["Takeaway: panel ran\n"]
    assert mc.widget_outputs(nb, {"output_type": "stream", "name": "stdout", "text": "x"}) == []
    html_dir = tmp_path / "html"
    html_dir.mkdir()
    mc.render_html([path], html_dir)
    assert "Takeaway: panel ran" in (html_dir / "00_x.html").read_text()
    assert len(nbformat.read(str(path), as_version=4).cells[0].outputs) == 1   # the notebook is unchanged


def test_html_pages_show_the_playgrounds_figure_and_its_line(tmp_path):
    """The playground draws into an Image widget and writes its takeaway into an HTML widget; the
    page shows both (the picture from the saved buffer), and no other HTML widget's text."""
    pytest.importorskip("nbconvert")
    png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
    view = {"output_type": "display_data", "metadata": {},
            "data": {"text/plain": "VBox()", mc.WIDGET_VIEW: {"model_id": "box", "version_major": 2,
                                                              "version_minor": 0}}}
    nb = new_notebook(cells=[new_code_cell("pg", outputs=[nbformat.from_dict(view)])])
    controls = {"model_module": "@jupyter-widgets/controls", "model_module_version": "2.0.0"}
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {
        "version_major": 2, "version_minor": 0, "state": {
            "box": {"model_name": "VBoxModel", **controls,
                    "state": {"children": ["IPY_MODEL_head", "IPY_MODEL_img", "IPY_MODEL_text"]}},
            "head": {"model_name": "HTMLModel", **controls, "state": {"value": "<b>Playground</b>"}},
            "img": {"model_name": "ImageModel", **controls, "state": {"format": "png"},
                    "buffers": [{"path": ["value"], "data": png, "encoding": "base64"}]},
            "text": {"model_name": "HTMLModel", **controls,
                     "state": {"value": "<pre>Takeaway: learned in 5 of 5 seeds</pre>"}}}}}
    got = mc.widget_outputs(nb, nb.cells[0].outputs[0])
    assert [sorted(o["data"]) for o in got] == [["image/png"], ["text/html"]]
    assert got[0]["data"]["image/png"] == png
    path = tmp_path / "07_x.ipynb"
    nbformat.write(nb, str(path))
    html_dir = tmp_path / "html"
    html_dir.mkdir()
    mc.render_html([path], html_dir)
    page = (html_dir / "07_x.html").read_text()
    assert png in page and "Takeaway: learned in 5 of 5 seeds" in page


def test_a_panel_that_saved_nothing_links_the_static_playground(tmp_path):
    """Where a widget left no state to show (the page would be blank there), the page links the
    static playground instead, and only when the course has one."""
    pytest.importorskip("nbconvert")
    view = {"output_type": "display_data", "metadata": {},
            "data": {"text/plain": "VBox()", mc.WIDGET_VIEW: {"model_id": "gone", "version_major": 2,
                                                              "version_minor": 0}}}
    nb = new_notebook(cells=[new_code_cell("pg", outputs=[nbformat.from_dict(view)])])
    path = tmp_path / "07_x.ipynb"
    nbformat.write(nb, str(path))
    for sub, link in (("with", "playground/index.html"), ("without", None)):
        html_dir = tmp_path / sub
        html_dir.mkdir()
        mc.render_html([path], html_dir, playground=link)
        page = (html_dir / "07_x.html").read_text()
        assert ('href="playground/index.html"' in page) == (link is not None)
