"""Build a course folder: student notebooks, instructor notebooks with the solutions, HTML, manifest.

One command turns ``notebooks/`` into what a class needs, with the answer keys kept apart:

``student/``
    Every ``notebooks/NN_*.ipynb`` (found by globbing, never by name), outputs and execution
    counts cleared, the exercise stubs left as they are. Nothing from ``notebooks/solutions/`` is
    copied and no student notebook holds a solution's code. The notebooks need nothing else from
    their folder: they import ``spurlab`` (pip-installed); ``notebooks/conftest.py`` only
    configures nbval and is not copied.
``instructor/``
    The same notebooks with every exercise stub (a function whose body raises
    ``NotImplementedError("Exercise: ...")``) replaced by the function of the same name from
    ``notebooks/solutions/nbNN.py``, with the module-level imports and helpers it uses, and the
    solution modules themselves (``instructor/solutions/``). Unless ``--no-execute``, every
    instructor notebook is executed with nbclient (its default kernel transport, as
    ``jupyter nbconvert --execute``, papermill and Voila run notebooks), in the instructor folder,
    with ``SPURLAB_MODE`` set to ``--mode`` and ``MPLBACKEND`` set to matplotlib-inline, and
    saved with its outputs.
``html/``
    An HTML page (nbconvert's ``HTMLExporter``) of every executed instructor notebook, and
    ``index.html`` listing them with their measured run times (executed builds only).
``course.json``
    The manifest: spurlab version, mode, the seconds each notebook took, the exercises filled
    in, and the command used.

The course is built in a temporary folder beside ``--out`` and moved into place only when
everything succeeded: a failure (a notebook that raises or times out, a stub without its
solution, an interruption) leaves no half-built course, and an existing course replaced with
``--force`` stays as it was. A notebook that fails is reported by name and cell, after the
other notebooks have run (unless ``--no-keep-going``), and the command exits 1.

Usage
-----
::

    python3 scripts/make_course.py                          # course/, every notebook run in quick mode
    python3 scripts/make_course.py --no-execute             # student + instructor sets only, in seconds
    python3 scripts/make_course.py --only 00,04 --mode smoke --out /tmp/course --force
    python3 scripts/make_course.py --mode full --timeout 1800

Options
-------
--out DIR            where the course goes (default ``course/``); an existing non-empty folder is
                     refused unless ``--force`` (it is then replaced, once the build succeeded)
--only NN[,NN...]    build only these notebooks, by number (``00,04``)
--mode MODE          ``smoke``, ``quick`` (default) or ``full``: ``SPURLAB_MODE`` of the kernels
--timeout SECONDS    the longest one cell may run (default 600)
--no-execute         do not run the notebooks: no HTML, no run times
--cache-dir DIR      one spurlab disk cache shared by every notebook's kernel (``SPURLAB_CACHE_DIR``;
                     default: the environment's, usually none, so each notebook's time is what a
                     learner running it alone waits)
--notebooks DIR      the source folder (default: this checkout's ``notebooks/``)

Exit status: 0 when the course was built, 1 when a notebook or the build failed (nothing is
written), 2 for a bad argument.

Examples
--------
>>> main(["--no-execute", "--out", "/tmp/course", "--force"])     # doctest: +SKIP
student/: 8 notebooks ...
0
"""

from __future__ import annotations

import argparse
import ast
import html
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
MODES = ("smoke", "quick", "full")
MPLBACKEND = "module://matplotlib_inline.backend_inline"
NOTEBOOK_GLOB = "[0-9][0-9]_*.ipynb"
# the call that marks an exercise stub: raise NotImplementedError("Exercise: ...")
STUB_TEXT = re.compile(r"NotImplementedError\(\s*[rRbBuU]?[\"']{1,3}Exercise")
SOLUTION_TAG = "solution"


class CourseError(Exception):
    """A build failure whose message says what failed and where (the command exits 1)."""


# ----------------------------------------------------------------------------- notebooks


def notebook_files(folder):
    """The numbered notebooks ``NN_*.ipynb`` of ``folder``, sorted by file name."""
    return sorted(p for p in Path(folder).glob(NOTEBOOK_GLOB) if p.is_file())


def notebook_number(path):
    """``'04'`` for ``04_pruning.ipynb``."""
    return Path(path).name[:2]


def parse_only(text, available):
    """The notebook numbers asked for by ``--only`` (``'00,4'`` -> ``['00', '04']``).

    Raises ``ValueError`` naming the value and the numbers allowed.
    """
    allowed = ", ".join(available) or "(none: no NN_*.ipynb found)"
    picked = []
    for token in str(text).split(","):
        token = token.strip()
        if not token.isdigit() or len(token) > 2:
            raise ValueError(f"--only must be a comma-separated list of notebook numbers, one or "
                             f"more of {allowed}; got {text!r} ({token!r} is not a notebook number)")
        number = token.zfill(2)
        if number not in available:
            raise ValueError(f"--only: there is no notebook {number} (got {text!r}); the notebooks "
                             f"are {allowed}")
        if number not in picked:
            picked.append(number)
    return picked


def _read(path):
    import nbformat

    return nbformat.read(str(path), as_version=4)


def _write(nb, path):
    import nbformat

    nbformat.validate(nb)
    nbformat.write(nb, str(path))


def clear_outputs(nb):
    """Drop outputs, execution counts, execution timings and saved widget state, in place."""
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        cell.metadata.pop("execution", None)
    nb.metadata.pop("widgets", None)
    return nb


# ----------------------------------------------------------------------------- exercise stubs


def _python_lines(source):
    """The cell as Python, IPython magics turned into calls when that keeps its line numbers."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager

        text = TransformerManager().transform_cell(source)
    except Exception:  # no IPython, or a cell it cannot transform: plain Python only
        return source
    return text if len(text.splitlines()) == len(source.splitlines()) else source


def _is_stub_raise(stmt):
    if not (isinstance(stmt, ast.Raise) and isinstance(stmt.exc, ast.Call)):
        return False
    call = stmt.exc
    return (isinstance(call.func, ast.Name) and call.func.id == "NotImplementedError" and call.args
            and isinstance(call.args[0], ast.Constant) and isinstance(call.args[0].value, str)
            and call.args[0].value.startswith("Exercise"))


def find_stubs(source):
    """The exercise stubs of one code cell: ``[(name, first_line, last_line), ...]`` (1-based).

    A stub is a top-level function whose body raises ``NotImplementedError("Exercise...")``.
    Raises ``ValueError`` when the cell mentions such a raise but cannot be read as Python.
    """
    if not STUB_TEXT.search(source):
        return []
    try:
        tree = ast.parse(_python_lines(source))
    except SyntaxError as exc:
        raise ValueError(f"the cell has an exercise stub but is not valid Python ({exc})") from None
    stubs = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and any(
                _is_stub_raise(s) for s in node.body):
            first = min([node.lineno] + [d.lineno for d in node.decorator_list])
            stubs.append((node.name, first, node.end_lineno))
    return stubs


# ----------------------------------------------------------------------------- solutions


def _bound_names(stmt):
    if isinstance(stmt, (ast.Import, ast.ImportFrom)):
        return {(a.asname or a.name).split(".")[0] for a in stmt.names}
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {stmt.name}
    if isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
        return {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
    return set()


def _used_names(node):
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _segment(lines, node):
    first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
    return "\n".join(lines[first - 1:node.end_lineno])


def _docstring_end(fn):
    body = fn.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        return body[0].end_lineno
    return None


def solution_functions(module_path):
    """Every top-level function of a solutions module: ``{name: {"source", "body"}}``.

    ``source`` is the function as written; ``body`` its statements without the docstring (what a
    student copy must never contain).
    """
    text = Path(module_path).read_text(encoding="utf-8")
    lines = text.splitlines()
    out = {}
    for node in ast.parse(text).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            start = (_docstring_end(node) or node.body[0].lineno - 1) + 1
            out[node.name] = {"source": _segment(lines, node),
                              "body": "\n".join(lines[start - 1:node.end_lineno])}
    return out


def solution_source(module_path, name):
    """Source of function ``name`` of a solutions module, after the module-level imports,
    helpers and constants it uses (directly or through those helpers), in module order.

    Raises ``KeyError`` when the module has no such function.
    """
    text = Path(module_path).read_text(encoding="utf-8")
    lines = text.splitlines()
    body = [s for s in ast.parse(text).body
            if not (isinstance(s, ast.ImportFrom) and s.module == "__future__")]
    target = next((s for s in body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))
                   and s.name == name), None)
    if target is None:
        raise KeyError(name)
    needed, chosen = _used_names(target), set()
    changed = True
    while changed:
        changed = False
        for i, stmt in enumerate(body):
            if stmt is target or i in chosen:
                continue
            star = isinstance(stmt, ast.ImportFrom) and any(a.name == "*" for a in stmt.names)
            if star or _bound_names(stmt) & needed:
                chosen.add(i)
                needed |= _used_names(stmt)
                changed = True
    imports = [_segment(lines, body[i]) for i in sorted(chosen)
               if isinstance(body[i], (ast.Import, ast.ImportFrom))]
    others = [_segment(lines, body[i]) for i in sorted(chosen)
              if not isinstance(body[i], (ast.Import, ast.ImportFrom))]
    parts = (["\n".join(imports)] if imports else []) + others + [_segment(lines, target)]
    return "\n\n\n".join(parts)


def fill_solutions(nb, solutions_dir, number, name):
    """Replace every exercise stub of ``nb`` (in place) by its solution; the names filled.

    Raises ``CourseError`` naming the notebook, the cell and the stub when a solution is missing.
    """
    module = Path(solutions_dir) / f"nb{number}.py"
    filled = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        try:
            stubs = find_stubs(cell.source)
        except ValueError as exc:
            raise CourseError(f"{name}, cell {index}: {exc}") from None
        if not stubs:
            continue
        lines, names = cell.source.split("\n"), []
        for stub, first, last in reversed(stubs):       # bottom-up: line numbers stay valid
            if not module.is_file():
                raise CourseError(f"{name}, cell {index}: exercise stub {stub!r} has no solution: "
                                  f"{module} does not exist")
            try:
                code = solution_source(module, stub)
            except KeyError:
                raise CourseError(f"{name}, cell {index}: exercise stub {stub!r} has no solution: "
                                  f"{module} has no function {stub!r}") from None
            header = (f"# solution, from solutions/{module.name} (the student copy has the "
                      f"exercise stub here)")
            lines[first - 1:last] = [header, *code.split("\n")]
            names.insert(0, stub)
        filled.extend(names)
        cell.source = "\n".join(lines)
        tags = cell.metadata.setdefault("tags", [])
        if SOLUTION_TAG not in tags:
            tags.append(SOLUTION_TAG)
        cell.metadata["spurlab"] = {"solution": f"solutions/{module.name}",
                                    "functions": names}
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and STUB_TEXT.search(cell.source):
            raise CourseError(f"{name}, cell {index}: an exercise stub is left after filling in "
                              f"the solutions (a stub the script could not read as a function)")
    return filled


# ----------------------------------------------------------------------------- execution


def _strip_ansi(text):
    return re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", text)


_INTERRUPTED = {"flag": False}


def _on_interrupt(signum, frame):
    _INTERRUPTED["flag"] = True
    raise KeyboardInterrupt


def execute_notebook(path, *, workdir, env, timeout):
    """Run a notebook with nbclient (default transport) and save it with its outputs.

    Returns ``(seconds, error)``: ``error`` is None, or a message naming the cell that failed.
    """
    import nbclient

    nb = _read(path)
    current = {"index": None}

    def on_cell_start(cell, cell_index):
        current["index"] = cell_index

    client = nbclient.NotebookClient(nb, timeout=timeout, allow_errors=False,
                                     resources={"metadata": {"path": str(workdir)}},
                                     on_cell_start=on_cell_start)
    error = None
    start = time.perf_counter()
    try:
        client.execute(env=env)
    except Exception as exc:  # a cell's error, a timeout, a dead kernel, a kernel that never started
        if _INTERRUPTED["flag"]:           # Ctrl-C, whatever the client turned it into
            raise KeyboardInterrupt from exc
        error = _describe_failure(nb, current["index"], exc, timeout)
    seconds = time.perf_counter() - start
    _write(nb, path)
    return seconds, error


def _describe_failure(nb, index, exc, timeout):
    from nbclient.exceptions import CellExecutionError, DeadKernelError

    where = "before the first cell (starting the kernel)" if index is None else f"cell {index}"
    if index is not None:
        first = next((ln for ln in nb.cells[index].source.splitlines() if ln.strip()), "")
        where += f" (counting from 0; it starts {first.strip()[:80]!r})"
    if isinstance(exc, TimeoutError):                  # nbclient's CellTimeoutError is one
        return f"{where} timed out after {timeout} s (--timeout)"
    if isinstance(exc, DeadKernelError):
        return f"{where}: the kernel died ({exc})"
    if isinstance(exc, CellExecutionError):
        tail = [ln for ln in _strip_ansi("\n".join(exc.traceback.splitlines()[-12:])).splitlines()
                if ln.strip()]
        detail = "\n      ".join(tail[-8:])
        return f"{where} raised {exc.ename}: {exc.evalue}\n      {detail}"
    frame = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    origin = (f" (raised in the notebook client, not by the cell's code: "
              f"{Path(frame.filename).parent.name}/{Path(frame.filename).name}:{frame.lineno} "
              f"in {frame.name}: {frame.line})") if frame else ""
    return f"{where}: {type(exc).__name__}: {exc}{origin}"


# ----------------------------------------------------------------------------- HTML


def _title(nb, fallback):
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return fallback


WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def widget_outputs(nb, output):
    """What a displayed widget showed, from the widget state nbclient saved, in the order it
    appears: the outputs held by its Output widgets (a panel's results), the pictures of its
    Image widgets and the preformatted text of its HTML widgets (the playground's figure and
    the line under it); ``[]`` for anything else."""
    state = nb.metadata.get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {})
    models = state.get("state", {})
    found, seen = [], set()

    def walk(model_id):
        if model_id in seen or model_id not in models:
            return
        seen.add(model_id)
        model = models[model_id]
        name, state = model.get("model_name"), model.get("state", {})
        if name == "OutputModel":
            found.extend(state.get("outputs", []))
        elif name == "ImageModel" and state.get("format", "png") == "png":
            data = [b.get("data") for b in model.get("buffers", []) if b.get("path") == ["value"]
                    and b.get("encoding") == "base64"]
            if data and data[0]:
                found.append({"output_type": "display_data", "metadata": {},
                              "data": {"image/png": data[0]}})
        elif name == "HTMLModel" and "<pre" in str(state.get("value", "")):
            found.append({"output_type": "display_data", "metadata": {},
                          "data": {"text/html": state["value"]}})
        for child in model.get("state", {}).get("children", []):
            if isinstance(child, str) and child.startswith("IPY_MODEL_"):
                walk(child[len("IPY_MODEL_"):])

    import nbformat

    view = output.get("data", {}).get(WIDGET_VIEW) if output.get("output_type") in (
        "display_data", "execute_result") else None
    if view:
        walk(view.get("model_id"))
    return [nbformat.from_dict(o) for o in found]


def render_html(notebooks, html_dir, playground=None):
    """Write ``html_dir/NAME.html`` for every notebook; links between them point at the pages.

    A page needs no widget JavaScript to show a panel's results: what the panel's Output widget
    holds is written after the widget as ordinary outputs. A widget that left nothing to show
    gets a link to the static playground page instead, when ``playground`` (its path relative
    to ``html_dir``) is given.

    Returns ``{file name: title}``.
    """
    from nbconvert import HTMLExporter

    exporter = HTMLExporter()
    stems = {p.stem for p in notebooks}
    link = re.compile(r"\]\((?P<stem>\d\d_[A-Za-z0-9_-]+)\.ipynb\)")
    titles = {}
    for path in notebooks:
        nb = _read(path)
        for cell in nb.cells:
            if cell.cell_type == "code":
                cell.outputs = [x for o in cell.outputs
                                for x in [o, *(widget_outputs(nb, o) or _static_link(o, playground))]]
        for cell in nb.cells:
            if cell.cell_type == "markdown":
                cell.source = link.sub(lambda m: f"]({m['stem']}.html)" if m["stem"] in stems
                                       else m[0], cell.source)
        body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": path.stem}})
        (Path(html_dir) / f"{path.stem}.html").write_text(body, encoding="utf-8")
        titles[path.name] = _title(nb, path.stem)
    return titles


def _static_link(output, playground):
    """For a widget that saved nothing to show: a link to the static playground page."""
    import nbformat

    if not playground or not output.get("data", {}).get(WIDGET_VIEW):
        return []
    return [nbformat.from_dict({"output_type": "display_data", "metadata": {}, "data": {
        "text/html": f"<p>(An interactive panel stands here; it needs a running kernel. Its "
                     f"static version: <a href='{playground}'>the playground page</a>.)</p>"}})]


def _duration(seconds):
    if seconds is None:
        return "not run"
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes} min {secs:02d} s" if minutes else f"{seconds:.1f} s"


def write_index(html_dir, manifest, titles):
    """``index.html``: every notebook's page with its measured run time."""
    rows = "\n".join(
        f'<tr><td><a href="{html.escape(Path(e["notebook"]).stem)}.html">'
        f'{html.escape(titles.get(e["notebook"], e["notebook"]))}</a></td>'
        f'<td>{html.escape(e["notebook"])}</td><td class="t">{_duration(e["seconds"])}</td>'
        f'<td>{html.escape(", ".join(e["exercises_filled"]) or "-")}</td></tr>'
        for e in manifest["notebooks"])
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>spurlab course</title>
<style>body{{font-family:sans-serif;max-width:60em;margin:2em auto}}td,th{{padding:.3em .8em;
text-align:left;border-bottom:1px solid #ddd}}.t{{text-align:right;white-space:nowrap}}</style>
</head><body>
<h1>spurlab {html.escape(manifest["spurlab_version"])}: the notebooks, executed</h1>
<p>Instructor copies with the exercises' solutions filled in, run in
<b>{html.escape(manifest["mode"])}</b> mode on {html.escape(manifest["created"])}
(total {_duration(manifest["total_seconds"])}; each time includes starting the kernel).</p>
<table><tr><th>notebook</th><th>file</th><th class="t">run time</th><th>exercises filled</th></tr>
{rows}
</table>
<p>The playground without a kernel: <a href="playground/index.html">its static page</a> (the data
map at every prune ratio, the cells, the galleries).</p>
<p>Built by <code>{html.escape(manifest["command"])}</code>; see <code>course.json</code>.</p>
</body></html>
"""
    (Path(html_dir) / "index.html").write_text(page, encoding="utf-8")


# ----------------------------------------------------------------------------- the build


def spurlab_version():
    """``spurlab.__version__`` of the spurlab the kernels import, read without importing it."""
    import importlib.util

    spec = importlib.util.find_spec("spurlab")
    if spec is None or not spec.origin:
        return "not installed"
    m = re.search(r"^__version__\s*=\s*[\"']([^\"']+)[\"']",
                  (Path(spec.origin).parent / "_version.py").read_text(encoding="utf-8"), re.M)
    return m.group(1) if m else "unknown"


def _git(root):
    def run(*cmd):
        return subprocess.run(["git", *cmd], cwd=root, capture_output=True, text=True,
                              timeout=30, check=True).stdout.strip()
    try:
        return {"commit": run("rev-parse", "HEAD"),
                "dirty": bool(run("status", "--porcelain", "--untracked-files=no"))}
    except (OSError, subprocess.SubprocessError):
        return None


def _kernel_env(mode, cache_dir):
    env = dict(os.environ)
    env["SPURLAB_MODE"] = mode
    env["MPLBACKEND"] = MPLBACKEND
    if cache_dir is not None:
        env["SPURLAB_CACHE_DIR"] = str(Path(cache_dir).absolute())
    return env


MADE_BY = "scripts/make_course.py"      # the manifest's mark: a folder this script built


def _built_here(out):
    """Did this script build ``out``? Its ``course.json`` says so."""
    try:
        manifest = json.loads((out / "course.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(manifest, dict) and manifest.get("made_by") == MADE_BY


def _check_out(out, force, source=None):
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise CourseError(f"--out {out} exists and is not a folder; choose another --out")
    if source is not None:
        src = Path(source).resolve()
        if out.resolve() == src or out.resolve() in src.parents:
            raise CourseError(f"--out {out} is or holds the notebooks folder {source}: replacing it "
                              "would delete the notebooks; choose another --out")
    if out.is_dir() and any(out.iterdir()):
        if not force:
            raise CourseError(f"--out {out} exists and is not empty; pass --force to replace it "
                              f"(once the new course is built) or choose another --out")
        if not _built_here(out):
            raise CourseError(f"--out {out} is not a course this script built (no course.json "
                              f"made by {MADE_BY}), so --force will not replace it; choose another "
                              "--out or empty it yourself")


def _install(tmp, out, force, source=None):
    """Move the finished build ``tmp`` to ``out`` (replacing an empty folder or, with force, a
    course this script built)."""
    _check_out(out, force, source)
    old = None
    if out.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
        os.replace(out, old / out.name)
    try:
        os.replace(tmp, out)
    except OSError:
        if old is not None:
            os.replace(old / out.name, out)
        raise
    finally:
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


def build(args, command):
    """Build the course described by parsed ``args`` into ``args.out``; return the manifest."""
    source = Path(args.notebooks)
    solutions_dir = source / "solutions"
    notebooks = [p for p in notebook_files(source)
                 if args.only is None or notebook_number(p) in args.only]
    out = Path(args.out).absolute()
    _check_out(out, args.force, source)
    if args.execute:
        try:
            import nbclient  # noqa: F401
            import nbconvert  # noqa: F401
        except ImportError as exc:
            raise CourseError(f"executing the notebooks needs nbclient and nbconvert ({exc}); "
                              f"pip install nbconvert, or pass --no-execute") from None
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    try:
        student, instructor = tmp / "student", tmp / "instructor"
        student.mkdir()
        instructor.mkdir()
        entries, used_modules = [], set()
        for path in notebooks:
            nb = clear_outputs(_read(path))
            _write(nb, student / path.name)
            filled = fill_solutions(nb, solutions_dir, notebook_number(path), path.name)
            _write(nb, instructor / path.name)
            if filled:
                used_modules.add(f"nb{notebook_number(path)}.py")
            entries.append({"notebook": path.name, "number": notebook_number(path),
                            "exercises_filled": filled,
                            "solutions": f"solutions/nb{notebook_number(path)}.py" if filled else None,
                            "seconds": None, "status": "not executed"})
        if solutions_dir.is_dir():
            (instructor / "solutions").mkdir()
            for module in sorted(solutions_dir.glob("*.py")):
                if module.name in used_modules or not re.fullmatch(r"nb\d\d\.py", module.name):
                    shutil.copy2(module, instructor / "solutions" / module.name)
        print(f"student/: {len(notebooks)} notebooks, outputs cleared, exercise stubs kept")
        print(f"instructor/: {sum(len(e['exercises_filled']) for e in entries)} exercises filled "
              f"in from {solutions_dir}")

        failures = []
        if args.execute:
            env = _kernel_env(args.mode, args.cache_dir)
            for entry in entries:
                if failures and not args.keep_going:
                    entry["status"] = "skipped (an earlier notebook failed)"
                    continue
                print(f"executing {entry['notebook']} ({args.mode} mode) ...", flush=True)
                seconds, error = execute_notebook(instructor / entry["notebook"], workdir=instructor,
                                                  env=env, timeout=args.timeout)
                entry["seconds"] = round(seconds, 1)
                entry["status"] = "ok" if error is None else "failed"
                print(f"  {entry['notebook']}: {'ok' if error is None else 'FAILED'} in "
                      f"{_duration(seconds)}", flush=True)
                if error is not None:
                    print(f"  {error}", flush=True)
                    failures.append(f"{entry['notebook']}, {error}")
            if failures:
                raise CourseError("notebooks failed, so no course was written:\n  "
                                  + "\n  ".join(failures))

        manifest = {
            "made_by": MADE_BY,
            "spurlab_version": spurlab_version(),
            "mode": args.mode,
            "executed": args.execute,
            "timeout_s": args.timeout,
            "kernel_env": {k: v for k, v in sorted(_kernel_env(args.mode, args.cache_dir).items())
                           if k.startswith("SPURLAB_") or k == "MPLBACKEND"},
            "created": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "command": command,
            "python": sys.version.split()[0],
            "git": _git(ROOT),
            "total_seconds": (round(sum(e["seconds"] for e in entries), 1) if args.execute
                              else None),
            "notebooks": entries,
        }
        if args.execute:
            html_dir = tmp / "html"
            html_dir.mkdir()
            from spurlab.explorer import export

            export(html_dir / "playground")
            titles = render_html([instructor / e["notebook"] for e in entries], html_dir,
                                 playground="playground/index.html")
            write_index(html_dir, manifest, titles)
            print(f"html/: {len(entries)} pages, index.html and playground/ (static)")
        (tmp / "course.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        _install(tmp, out, args.force, source)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return manifest


def _timeout(text):
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds (the longest one "
                                         f"cell may run); got {text!r}")
    return int(value) if value == int(value) else value


def parser():
    p = argparse.ArgumentParser(
        prog="make_course.py",
        description="Build student notebooks, instructor notebooks with the solutions filled in "
                    "(executed), their HTML and a manifest into one course folder.")
    p.add_argument("--out", default="course", help="course folder (default: course)")
    p.add_argument("--force", action="store_true",
                   help="replace --out even when it is not empty (only once the build succeeded)")
    p.add_argument("--only", metavar="NN[,NN...]",
                   help="only these notebooks, by number, e.g. 00,04 (default: all)")
    p.add_argument("--mode", default="quick", choices=MODES,
                   help="SPURLAB_MODE of the kernels (default: quick)")
    p.add_argument("--timeout", type=_timeout, default=600, metavar="SECONDS",
                   help="the longest one cell may run, in seconds (default: 600)")
    p.add_argument("--no-execute", dest="execute", action="store_false",
                   help="do not run the instructor notebooks (no HTML, no run times)")
    p.add_argument("--keep-going", action=argparse.BooleanOptionalAction, default=True,
                   help="after a notebook fails, still run the others to report them too "
                        "(default: on)")
    p.add_argument("--cache-dir", default=None,
                   help="one spurlab disk cache (SPURLAB_CACHE_DIR) shared by every notebook's "
                        "kernel (default: the environment's)")
    p.add_argument("--notebooks", default=str(NOTEBOOKS),
                   help="folder of the NN_*.ipynb notebooks (default: this checkout's notebooks/)")
    return p


def main(argv=None):
    """Run the command line; return the exit status (0 built, 1 failed). Bad arguments exit 2."""
    argv = list(sys.argv[1:] if argv is None else argv)
    p = parser()
    args = p.parse_args(argv)
    source = Path(args.notebooks)
    available = sorted({notebook_number(f) for f in notebook_files(source)})
    if not available:
        p.error(f"--notebooks {str(source)!r} holds no notebooks named NN_*.ipynb")
    if args.only is not None:
        try:
            args.only = parse_only(args.only, available)
        except ValueError as exc:
            p.error(str(exc))
    command = shlex.join(["python3", "scripts/make_course.py", *argv])
    _INTERRUPTED["flag"] = False
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, _on_interrupt)
    try:
        manifest = build(args, command)
    except CourseError as exc:
        print(f"make_course: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("make_course: interrupted (Ctrl-C): no course was written, the partial build was "
              "removed", file=sys.stderr)
        return 130
    finally:
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, signal.default_int_handler)
    print(f"course written to {Path(args.out)}"
          + (f" (notebooks ran {_duration(manifest['total_seconds'])} in total)"
             if args.execute else ""))
    return 0


if __name__ == "__main__":
    # a terminated build cleans up its temporary folder like an interrupted one
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    sys.exit(main())
