"""Launch anywhere: the Binder environment resolves and imports, and every Colab/Binder/raw link
points at the one repository address in pyproject.toml (``[project.urls] Repository``).

The two tests marked ``network`` in their names need PyPI: they skip with the reason when it is
unreachable, and fail instead when the environment variable ``CI`` is set. The others are offline
and take well under a second.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import urllib.request
import venv
from pathlib import Path

import pytest
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import sync_links  # noqa: E402

try:
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python < 3.11
    tomllib = None

BINDER = ROOT / "binder"
REPO_URL = sync_links.repository_url(ROOT)
NOTEBOOKS = sync_links.notebooks(ROOT)
TORCH_PKGS = {"torch", "torchvision", "torchaudio"}
# pinned for the Binder server, not imported by spurlab: resolved on PyPI, not installed in the venv
SERVER_PKGS = {"jupyterlab"}
CPU_INDEX = "https://download.pytorch.org/whl/cpu"
# the platforms of Binder's (repo2docker's) Linux image, newest first
LINUX_PLATFORMS = ["manylinux_2_28_x86_64", "manylinux_2_27_x86_64", "manylinux_2_17_x86_64",
                   "manylinux2014_x86_64", "manylinux_2_5_x86_64", "manylinux1_x86_64", "linux_x86_64"]


def _pins():
    """``({name: version}, [option lines])`` of binder/requirements.txt; every package pinned."""
    pins, options = {}, []
    for line in (BINDER / "requirements.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("-"):
            options.append(line)
            continue
        m = re.fullmatch(r"([A-Za-z0-9_.-]+)==([A-Za-z0-9_.+!-]+)", line)
        assert m, f"binder/requirements.txt: {line!r} is not pinned with == (NAME==VERSION)"
        pins[canonicalize_name(m.group(1))] = m.group(2)
    return pins, options


def _binder_python():
    text = (BINDER / "runtime.txt").read_text().strip()
    m = re.fullmatch(r"python-(3\.\d+)", text)
    assert m, f"binder/runtime.txt must read python-3.X, got {text!r}"
    return m.group(1)


def _project():
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    if tomllib is None:  # pragma: no cover
        pytest.skip("reading pyproject.toml needs Python 3.11's tomllib")
    return tomllib.loads(text)["project"]


def _cells(path):
    return json.loads(Path(path).read_text(encoding="utf-8"))["cells"]


def _source(cell):
    return "".join(cell.get("source", []))


def _reachable(url, timeout=5):
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=timeout):
            return True
    except OSError:
        return False


def _need_pypi():
    if not _reachable("https://pypi.org/simple/pip/"):
        if os.environ.get("CI"):
            pytest.fail("PyPI (https://pypi.org) is not reachable, and CI is set: the Binder pins "
                        "cannot be checked", pytrace=False)
        pytest.skip("PyPI (https://pypi.org) is not reachable: the Binder pins cannot be checked")


def _pip_env():
    drop = ("PYTHONPATH", "PIP_USER", "PIP_REQUIRE_VIRTUALENV")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(PIP_DISABLE_PIP_VERSION_CHECK="1", PYTHONNOUSERSITE="1")
    return env


def _run(cmd, what, timeout=300, **kw):
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=_pip_env(), **kw)
    assert out.returncode == 0, (f"{what} failed (exit {out.returncode}): {' '.join(map(str, cmd))}\n"
                                 f"{out.stdout[-3000:]}\n{out.stderr[-3000:]}")
    return out


def _dry_run(args, report, what):
    """``pip install --dry-run`` for Binder's Python on Linux, binary wheels only; the report's
    ``{name: (version, metadata)}``."""
    plat = [a for p in LINUX_PLATFORMS for a in ("--platform", p)]
    _run([sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "-q",
          "--only-binary=:all:", "--implementation", "cp", "--python-version", _binder_python(), *plat,
          "--target", str(report.parent / "target"), "--report", str(report), *args], what)
    return {canonicalize_name(i["metadata"]["name"]): (i["metadata"]["version"], i["metadata"])
            for i in json.loads(report.read_text())["install"]}


# ---------------------------------------------------------------------------------------- Binder


def test_binder_pins_every_dependency_and_installs_spurlab_without_deps():
    pins, options = _pins()
    deps = {canonicalize_name(re.split(r"[\s<>=!~;\[]", d, maxsplit=1)[0])
            for d in _project()["dependencies"]}
    needed = deps | {"scipy", "jupyterlab"}        # scipy: notebook 03; jupyterlab: the server
    assert needed <= set(pins), f"binder/requirements.txt does not pin {sorted(needed - set(pins))}"
    for dep in _project()["dependencies"]:        # each pin satisfies spurlab's own requirement
        name, spec = re.match(r"([A-Za-z0-9_.-]+)\s*([^;]*)", dep).groups()
        version = pins[canonicalize_name(name)]
        assert SpecifierSet(spec.strip()).contains(version, prereleases=True), \
            f"binder pins {name}=={version}, but pyproject.toml requires {dep!r}"
    assert f"--extra-index-url {CPU_INDEX}" in options, "torch should come from PyTorch's CPU index"
    python = _binder_python()
    assert SpecifierSet(_project()["requires-python"]).contains(python + ".0"), (python, "requires-python")
    post = BINDER / "postBuild"
    assert os.access(post, os.X_OK), "binder/postBuild must be executable (chmod +x)"
    text = post.read_text()
    assert text.startswith("#!") and re.search(r"pip install --no-deps -e \.(\s|$)", text), text


@pytest.mark.slow
def test_binder_pins_resolve_on_pypi_network(tmp_path):
    """The whole pinned set, with every transitive dependency, resolves as binary wheels for
    Binder's Python on Linux (metadata only, nothing is installed); torch and torchvision exist at
    their pins (from the CPU index where it is reachable, else PyPI: same versions) and fit."""
    _need_pypi()
    pins, _ = _pins()
    reqs = tmp_path / "requirements-notorch.txt"
    reqs.write_text("".join(f"{n}=={v}\n" for n, v in pins.items() if n not in TORCH_PKGS))
    got = _dry_run(["-r", str(reqs)], tmp_path / "report.json", "resolving the non-torch pins")
    for name, version in pins.items():
        if name not in TORCH_PKGS:
            assert got.get(name, (None,))[0] == version, f"{name}: pinned {version}, resolved {got.get(name)}"

    torch_pins = [f"{n}=={v}" for n, v in pins.items() if n in TORCH_PKGS]
    index = ["--index-url", CPU_INDEX] if _reachable(f"{CPU_INDEX}/torch/") else []
    tv = _dry_run(["--no-deps", *index, *torch_pins], tmp_path / "report_torch.json",
                  "finding torch/torchvision at their pins" + (" on the CPU index" if index else " on PyPI"))
    for name in TORCH_PKGS & set(pins):
        assert tv[name][0].split("+")[0] == pins[name], (name, tv[name][0])
    for req in tv.get("torchvision", (None, {}))[1].get("requires_dist", []):
        m = re.fullmatch(r"torch\s*\(?([^;)]*)\)?\s*(;.*)?", req.strip())
        if m and not m.group(2):
            assert SpecifierSet(m.group(1)).contains(pins["torch"]), \
                f"torchvision=={pins['torchvision']} requires {req!r}, but torch is pinned at {pins['torch']}"


def _site_dirs():
    """The site-packages folders of the interpreter running the tests (a venv's, a conda env's
    or the system's): where its torch and pip are."""
    return [p for p in sys.path
            if os.path.basename(p) in ("site-packages", "dist-packages") and os.path.isdir(p)]


def _venv_on_this_interpreter(env_dir):
    """A fresh venv that also sees the packages of the interpreter running the tests
    (``sys.executable``), after its own: a pin that interpreter has at another version is
    installed into the venv and wins. ``system_site_packages=True`` would not do: it exposes the
    *base* Python's packages, and when the tests run in a venv (as most users install) the base
    Python has no torch. The outer folders are added as plain path lines, so their ``.pth``
    files (e.g. an editable spurlab) are not run. That interpreter's pip serves the venv (it
    installs into sys.prefix): much faster than ensurepip, which is the fallback."""
    venv.EnvBuilder(with_pip=False).create(env_dir)
    py = str(env_dir / ("Scripts" if os.name == "nt" else "bin") / "python")
    purelib = subprocess.run([py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    Path(purelib).mkdir(parents=True, exist_ok=True)
    (Path(purelib) / "zz_outer_interpreter.pth").write_text("".join(f"{d}\n" for d in _site_dirs()))
    if subprocess.run([py, "-m", "pip", "--version"], capture_output=True).returncode != 0:
        venv.EnvBuilder(with_pip=True).create(env_dir)
    return py


def test_fresh_venv_sees_this_interpreters_torch(tmp_path):
    """The venv the Binder test builds imports torch from the interpreter running the tests, also
    when that interpreter is itself a venv (where the system Python has no torch), and resolves
    its own packages first."""
    py = _venv_on_this_interpreter(tmp_path / "venv")
    code = ("import sys, torch, pip; print(sys.prefix); print(torch.__file__); "
            "print(sys.path.index(next(p for p in sys.path if p.startswith(sys.prefix) and "
            "p.endswith('site-packages'))) < min(sys.path.index(d) for d in sys.argv[1:]))")
    out = subprocess.run([py, "-c", code, *_site_dirs()], capture_output=True, text=True, env=_pip_env())
    assert out.returncode == 0, out.stderr[-3000:]
    prefix, torch_file, own_first = out.stdout.split()
    assert Path(prefix) == tmp_path / "venv"
    assert Path(torch_file).resolve() == Path(__import__("torch").__file__).resolve()
    assert own_first == "True"


@pytest.mark.slow
@pytest.mark.extended        # installs every pin into a new venv (a minute): the extended stage
def test_binder_pins_install_into_a_fresh_venv_and_import_network(tmp_path):
    """A new venv gets the runtime pins (torch from the interpreter running the tests: its CPU
    index is not reachable everywhere) and spurlab --no-deps, as binder/postBuild does; then
    spurlab, ipywidgets and the libraries the notebooks use import at exactly the pinned versions
    and do a little work."""
    _need_pypi()
    pins, _ = _pins()
    want = {n: v for n, v in pins.items() if n not in TORCH_PKGS | SERVER_PKGS}
    reqs = tmp_path / "requirements-runtime.txt"
    reqs.write_text("".join(f"{n}=={v}\n" for n, v in want.items()))
    py = _venv_on_this_interpreter(tmp_path / "venv")
    # a copy of what the package build needs, so that installing writes nothing into the checkout
    src = tmp_path / "src"
    shutil.copytree(ROOT / "spurlab", src / "spurlab", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    _run([py, "-m", "pip", "install", "-q", "-r", str(reqs)], "installing the runtime pins", cwd=tmp_path)
    _run([py, "-m", "pip", "install", "-q", "--no-deps", "-e", str(src)],
         "installing spurlab --no-deps (as binder/postBuild)", cwd=tmp_path)
    smoke = (
        "import importlib.metadata as m, json, sys\n"
        "import matplotlib; matplotlib.use('Agg')\n"
        "import ipywidgets, seaborn, sklearn, scipy.stats, torch, spurlab as sl\n"
        "from spurlab.widgets import Panel, slider\n"
        "train, test = sl.load_dataset('shapes', n_train=120, n_test=60, seed=0)\n"
        "x = sl.Line(salience=0.5).apply(train.images[:4])\n"
        "p = Panel({'s': slider('s', 0.5, 0.0, 1.0, 0.1)}, lambda s: s * 2)\n"
        "assert p.run() == 1.0 and p.error is None and x.shape == train.images[:4].shape\n"
        "print(json.dumps({'spurlab': sl.__file__, 'torch': torch.__version__,\n"
        "                  'versions': {n: m.version(n) for n in sys.argv[1:]}}))\n")
    out = _run([py, "-c", smoke, *want], "importing spurlab with the pins and running a small smoke test",
               cwd=tmp_path)
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["spurlab"].startswith(str(src)), f"spurlab was imported from {got['spurlab']}, not the venv's"
    assert got["versions"] == want, f"the venv does not run the pinned versions: {got['versions']}"


# -------------------------------------------------------------------- Colab, Binder and raw links


def test_repository_address_is_a_github_repo():
    assert re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", REPO_URL)
    assert _project()["urls"]["Repository"].rstrip("/").removesuffix(".git") == REPO_URL


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_colab_badge_points_at_the_notebook_itself(nb):
    first_md = next(c for c in _cells(nb) if c["cell_type"] == "markdown")
    m = sync_links.COLAB_RE.search(_source(first_md))
    assert m, f"{nb.name}: no Colab badge in the first markdown cell"
    assert m.group(0) == sync_links.colab_url(REPO_URL, nb.name)


@pytest.mark.parametrize("nb", [*NOTEBOOKS, ROOT / "README.md"], ids=lambda p: p.name)
def test_every_colab_link_opens_an_existing_notebook_of_this_repository(nb):
    text = nb.read_text(encoding="utf-8")
    for m in sync_links.COLAB_RE.finditer(text):
        assert m.group(0) == sync_links.colab_url(REPO_URL, m.group("file")), m.group(0)
        assert (ROOT / "notebooks" / m.group("file")).is_file(), \
            f"{nb.name} links to {m.group(0)}, but notebooks/{m.group('file')} does not exist"


@pytest.mark.parametrize("nb", [*NOTEBOOKS, ROOT / "README.md"], ids=lambda p: p.name)
def test_every_raw_file_link_of_this_repository_exists(nb):
    for m in sync_links.RAW_RE.finditer(nb.read_text(encoding="utf-8")):
        if m.group("repo") == sync_links.owner_repo(REPO_URL) or (ROOT / m.group("path")).is_file():
            assert m.group("repo") == sync_links.owner_repo(REPO_URL), f"{nb.name}: {m.group(0)}"
            assert (ROOT / m.group("path")).is_file(), f"{nb.name}: {m.group(0)}: no such file here"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_colab_install_cell_is_guarded_and_uses_the_pyproject_address(nb):
    installs = [c for c in _cells(nb) if sync_links.is_install_cell(c)]
    assert installs, f"{nb.name}: no guarded Colab install cell"
    for cell in installs:
        src = _source(cell)
        urls = re.findall(r"git\+(https://[^\s\"'@#]+)", src)
        assert urls and all(u.removesuffix(".git") == REPO_URL for u in urls), (nb.name, urls)
        guard = re.search(r"^if .*google\.colab.*:\s*$", src, re.M)
        assert guard and guard.start() < src.index("pip"), f"{nb.name}: pip install is not under the guard"


def test_binder_badges_open_existing_paths_of_this_repository():
    found = 0
    for f in [ROOT / "README.md", *NOTEBOOKS]:
        for m in re.finditer(r"https://mybinder\.org/v2/gh/([\w.-]+/[\w.-]+)/([\w.-]+)\?urlpath=([^)\s\"\\]+)",
                             f.read_text(encoding="utf-8")):
            found += 1
            assert m.group(1) == sync_links.owner_repo(REPO_URL), (f.name, m.group(0))
            path = re.sub(r"^(lab/tree|tree|notebooks)/", "", m.group(3))
            assert (ROOT / path).exists(), f"{f.name}: Binder badge opens {path}, which does not exist"
    assert found, "no Binder badge anywhere"


def test_notebook_links_are_in_sync_with_pyproject():
    changes, problems = sync_links.plan(ROOT)
    nb_changes = [p.name for p in changes if p.parent.name == "notebooks"]
    nb_problems = [p for p in problems if not p.startswith("README.md")]
    assert not nb_changes and not nb_problems, \
        f"run scripts/sync_links.py: out of date {nb_changes}; problems {nb_problems}"


def test_readme_launch_table_is_in_sync_with_pyproject():
    out = subprocess.run([sys.executable, str(ROOT / "scripts" / "sync_links.py"), "--check"],
                         capture_output=True, text=True)
    assert out.returncode == 0, ("README.md needs the '<!-- notebooks:start -->'/'<!-- notebooks:end -->' "
                                 "markers and `python3 scripts/sync_links.py`:\n" + out.stdout + out.stderr)
    assert sync_links.binder_url(REPO_URL) in (ROOT / "README.md").read_text(encoding="utf-8")


# ---------------------------------------------------------------------------- sync_links itself


def _notebook(cells):
    return json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}, indent=1) + "\n"


def _md(i, *lines):
    return {"cell_type": "markdown", "id": f"m{i}", "metadata": {}, "source": list(lines)}


def _code(i, *lines):
    return {"cell_type": "code", "id": f"c{i}", "metadata": {}, "execution_count": None, "outputs": [],
            "source": list(lines)}


INSTALL = ("import sys, subprocess\n", "if \"google.colab\" in sys.modules:\n",
           "    subprocess.run([sys.executable, \"-m\", \"pip\", \"install\", \"-q\",\n",
           "                    \"spurlab @ git+https://github.com/old/name.git\"], check=True)")


@pytest.fixture
def fake_repo(tmp_path):
    """A small checkout: pyproject (Repository acme/spur-lab), a README with the markers and stale
    links, two notebooks with stale Colab/Binder/raw/clone/install links, one results file."""
    toml = (ROOT / "pyproject.toml").read_text()
    (tmp_path / "pyproject.toml").write_text(
        re.sub(r'Repository = "[^"]+"', 'Repository = "https://github.com/acme/spur-lab.git"', toml))
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "grid.json").write_text("{}")
    (tmp_path / "README.md").write_text(
        "# x\n\n```bash\ngit clone https://github.com/old/name && cd name\n```\n\n"
        f"{sync_links.START}\nstale table\n{sync_links.END}\n\nafter\n")
    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    (nbs / "01_a.ipynb").write_text(_notebook([
        _md(0, "# 01 · First\n", "[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
               "(https://colab.research.google.com/github/old/name/blob/dev/notebooks/00_wrong.ipynb) "
               "[![Binder](https://mybinder.org/badge_logo.svg)](https://mybinder.org/v2/gh/old/name/main"
               "?urlpath=lab/tree/notebooks/01_a.ipynb)\n"),
        _code(1, *INSTALL),
        _code(2, "url = \"https://raw.githubusercontent.com/old/name/main/results/grid.json\"\n",
              "other = \"https://raw.githubusercontent.com/someone/else/main/data/theirs.csv\"\n"),
        _md(3, "Next: [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
               "(https://colab.research.google.com/github/old/name/blob/main/notebooks/02_b.ipynb)\n")]))
    (nbs / "02_b.ipynb").write_text(_notebook([
        _md(0, "# 02 · Second\n", "[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
               "(https://colab.research.google.com/github/acme/spur-lab/blob/main/notebooks/02_b.ipynb)\n"),
        _code(1, *INSTALL)]))
    return tmp_path


def _sync(root, *args):
    script = str(ROOT / "scripts" / "sync_links.py")
    return subprocess.run([sys.executable, script, "--root", str(root), *args],
                          capture_output=True, text=True)


def test_sync_links_rewrites_every_link_from_pyproject_and_is_idempotent(fake_repo):
    nb1, nb2, readme = fake_repo / "notebooks" / "01_a.ipynb", fake_repo / "notebooks" / "02_b.ipynb", \
        fake_repo / "README.md"
    before = {p: p.read_text() for p in (nb1, nb2, readme)}
    check = _sync(fake_repo, "--check")
    assert check.returncode == 1, check.stdout + check.stderr
    for rel in ("notebooks/01_a.ipynb", "notebooks/02_b.ipynb", "README.md"):
        assert f"out of date: {rel}" in check.stdout, check.stdout
    assert {p: p.read_text() for p in before} == before, "--check changed a file"

    run = _sync(fake_repo)
    assert run.returncode == 0, run.stdout + run.stderr
    text1 = nb1.read_text()
    json.loads(text1)                                                   # still valid JSON
    assert "https://colab.research.google.com/github/acme/spur-lab/blob/main/notebooks/01_a.ipynb" in text1
    assert "https://colab.research.google.com/github/acme/spur-lab/blob/main/notebooks/02_b.ipynb" in text1
    assert "https://mybinder.org/v2/gh/acme/spur-lab/main?urlpath=lab/tree/notebooks/01_a.ipynb" in text1
    assert "https://raw.githubusercontent.com/acme/spur-lab/main/results/grid.json" in text1
    assert "https://raw.githubusercontent.com/someone/else/main/data/theirs.csv" in text1   # not ours
    assert "spurlab @ git+https://github.com/acme/spur-lab\\\"" in text1
    assert "old/name" not in text1 and "old/name" not in nb2.read_text()
    assert "00_wrong" not in text1
    new_readme = readme.read_text()
    assert "git clone https://github.com/acme/spur-lab && cd spur-lab" in new_readme
    assert sync_links.binder_url("https://github.com/acme/spur-lab") in new_readme
    assert "| [01 · First](notebooks/01_a.ipynb) |" in new_readme and "stale table" not in new_readme
    assert new_readme.startswith("# x\n") and new_readme.endswith("\n\nafter\n")
    # the cells' structure is unchanged: only URLs moved
    cells = json.loads(text1)["cells"]
    assert [c["id"] for c in cells] == ["m0", "c1", "c2", "m3"]

    snapshot = {p: p.read_text() for p in (nb1, nb2, readme)}
    again = _sync(fake_repo, "--check")
    assert again.returncode == 0, again.stdout + again.stderr
    assert _sync(fake_repo).returncode == 0
    assert {p: p.read_text() for p in snapshot} == snapshot, "a second run changed something"


def test_sync_links_reports_what_it_cannot_fix(fake_repo):
    nb = fake_repo / "notebooks" / "03_c.ipynb"
    nb.write_text(_notebook([_md(0, "# 03 · No badge\n"),
                             _code(1, "x = 'https://raw.githubusercontent.com/acme/spur-lab/main/nope.json'\n")]))
    readme = fake_repo / "README.md"
    readme.write_text(readme.read_text().replace(sync_links.START, ""))
    for args in ((), ("--check",)):
        out = _sync(fake_repo, *args)
        assert out.returncode == 1, (args, out.stdout)
        assert "03_c.ipynb: no Colab badge in the first markdown cell" in out.stdout
        assert "03_c.ipynb: no guarded Colab install cell" in out.stdout
        assert "nope.json names a file this repository does not have" in out.stdout
        assert "README.md: no '<!-- notebooks:start -->'" in out.stdout


def test_sync_links_rejects_a_repository_that_is_not_on_github(fake_repo):
    toml = fake_repo / "pyproject.toml"
    toml.write_text(re.sub(r'Repository = "[^"]+"', 'Repository = "https://gitlab.com/acme/spur-lab"',
                           toml.read_text()))
    out = _sync(fake_repo, "--check")
    assert out.returncode != 0 and "must be https://github.com/OWNER/REPO" in out.stdout + out.stderr
    assert "gitlab.com/acme/spur-lab" in out.stdout + out.stderr
