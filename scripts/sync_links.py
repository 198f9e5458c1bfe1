"""Keep every launch link in step with the one repository address in ``pyproject.toml``.

The public repository is written in ONE place, ``[project.urls] Repository`` in
``pyproject.toml``. This script rewrites, from it:

- in every ``notebooks/*.ipynb``: the Colab badges (``.../github/OWNER/REPO/blob/main/notebooks/
  FILE.ipynb``; the notebook's first badge, in its first markdown cell, always points at the
  notebook itself), the Binder badges' ``OWNER/REPO``, the guarded Colab install cell's
  ``git+https://github.com/OWNER/REPO``, any ``git clone https://github.com/OWNER/REPO``
  (with the ``&& cd REPO`` that follows it) and raw file URLs
  ``https://raw.githubusercontent.com/OWNER/REPO/BRANCH/PATH`` (notebook 04 downloads
  ``results/phase_diagram.json`` from one on Colab) whose ``PATH`` exists in this checkout or
  whose ``OWNER/REPO`` is already this repository's (a raw URL of another repository, for a file
  this one does not have, is left alone); a raw URL of this repository whose ``PATH`` does not
  exist is reported;
- in ``README.md``: the same links, and the launch table between the markers
  ``<!-- notebooks:start -->`` and ``<!-- notebooks:end -->`` (a Binder badge, then one row per
  notebook with its Colab badge), regenerated from the notebooks that exist.

Notebooks are edited as text (only the URLs change), so their formatting and outputs stay as
they are; running the script twice changes nothing the second time.

Usage::

    python3 scripts/sync_links.py           # rewrite what is out of date, list what changed
    python3 scripts/sync_links.py --check   # change nothing; exit 1 listing what is out of date

Problems the script cannot fix by rewriting a URL (a notebook without a Colab badge or without
the guarded install cell, a README without the markers) are listed and make both modes exit 1.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
START, END = "<!-- notebooks:start -->", "<!-- notebooks:end -->"
COLAB_BADGE_IMG = "https://colab.research.google.com/assets/colab-badge.svg"
BINDER_BADGE_IMG = "https://mybinder.org/badge_logo.svg"

_NAME = r"[A-Za-z0-9_.-]+"
COLAB_RE = re.compile(
    rf"https://colab\.research\.google\.com/github/{_NAME}/{_NAME}/blob/{_NAME}/(?:{_NAME}/)*"
    rf"(?P<file>{_NAME}\.ipynb)")
BINDER_RE = re.compile(rf"https://mybinder\.org/v2/gh/{_NAME}/{_NAME}/")
# pip's direct reference and a clone command; the repository name may carry ".git"
INSTALL_RE = re.compile(rf"git\+https://github\.com/{_NAME}/{_NAME}")
CLONE_RE = re.compile(rf"git clone https://github\.com/{_NAME}/{_NAME}(?P<cd> && cd {_NAME})?")
# a raw file: https://raw.githubusercontent.com/OWNER/REPO/BRANCH/PATH (PATH: no spaces, quotes,
# brackets or backslashes, so it ends where the string or the markdown link ends)
RAW_RE = re.compile(rf"https://raw\.githubusercontent\.com/(?P<repo>{_NAME}/{_NAME})/(?P<branch>{_NAME})/"
                    r"(?P<path>[^\s\"'()<>\\\[\]#?]+)")


def repository_url(root=ROOT):
    """The repository address, the one place it is written.

    Parameters
    ----------
    root : path-like
        Repository root holding ``pyproject.toml``.

    Returns
    -------
    str
        ``[project.urls] Repository``, normalised to ``https://github.com/OWNER/REPO`` (no
        trailing slash, no ``.git``). Exits with a message naming the value when it is missing or
        not a GitHub repository (Colab and Binder open GitHub repositories).

    Examples
    --------
    >>> repository_url()                                   # doctest: +SKIP
    'https://github.com/spurlab/spurlab'
    """
    text = (Path(root) / "pyproject.toml").read_text(encoding="utf-8")
    url = None
    try:
        import tomllib  # Python 3.11+
    except ModuleNotFoundError:  # pragma: no cover - Python 3.9/3.10
        tomllib = None
    if tomllib is not None:
        url = tomllib.loads(text).get("project", {}).get("urls", {}).get("Repository")
    else:  # pragma: no cover
        section = re.search(r"^\[project\.urls\]\s*$(.*?)(?=^\[|\Z)", text, re.M | re.S)
        m = section and re.search(r'^\s*Repository\s*=\s*"([^"]+)"', section.group(1), re.M)
        url = m.group(1) if m else None
    if not url:
        raise SystemExit("sync_links: pyproject.toml has no [project.urls] Repository")
    url = url.strip().rstrip("/")
    url = url[:-4] if url.endswith(".git") else url
    if not re.fullmatch(rf"https://github\.com/{_NAME}/{_NAME}", url):
        raise SystemExit(f"sync_links: [project.urls] Repository must be https://github.com/OWNER/REPO "
                         f"(Colab and Binder open GitHub repositories); got {url!r}")
    return url


def owner_repo(repo_url):
    return repo_url.split("github.com/", 1)[1]


def colab_url(repo_url, notebook_name, branch="main"):
    """The Colab address that opens ``notebooks/<notebook_name>`` of the repository.

    Examples
    --------
    >>> colab_url("https://github.com/acme/lab", "01_a.ipynb")
    'https://colab.research.google.com/github/acme/lab/blob/main/notebooks/01_a.ipynb'
    """
    return (f"https://colab.research.google.com/github/{owner_repo(repo_url)}/blob/{branch}/"
            f"notebooks/{notebook_name}")


def binder_url(repo_url, urlpath="lab/tree/notebooks"):
    """The Binder address that opens ``urlpath`` (JupyterLab on the notebooks folder).

    Examples
    --------
    >>> binder_url("https://github.com/acme/lab")
    'https://mybinder.org/v2/gh/acme/lab/HEAD?urlpath=lab/tree/notebooks'
    """
    return f"https://mybinder.org/v2/gh/{owner_repo(repo_url)}/HEAD?urlpath={urlpath}"


def colab_badge(repo_url, notebook_name):
    return f"[![Open In Colab]({COLAB_BADGE_IMG})]({colab_url(repo_url, notebook_name)})"


def notebooks(root=ROOT):
    return sorted((Path(root) / "notebooks").glob("[0-9]*.ipynb"))


def notebook_title(path):
    """The text of the notebook's first markdown heading (the file name if there is none)."""
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "markdown":
            continue
        for line in "".join(cell.get("source", [])).splitlines():
            m = re.match(r"#+\s+(.*\S)", line)
            if m:
                return m.group(1).replace("|", "\\|")
    return Path(path).stem


def is_install_cell(cell):
    """The guarded Colab install cell: a code cell that pip-installs only under google.colab."""
    src = "".join(cell.get("source", []))
    return cell.get("cell_type") == "code" and "google.colab" in src and "pip" in src


def raw_url(repo_url, path, branch="main"):
    """The raw.githubusercontent.com address of ``path`` (relative to the repository root).

    Examples
    --------
    >>> raw_url("https://github.com/acme/lab", "results/phase_diagram.json")
    'https://raw.githubusercontent.com/acme/lab/main/results/phase_diagram.json'
    """
    return f"https://raw.githubusercontent.com/{owner_repo(repo_url)}/{branch}/{path}"


def _is_ours(m, repo_url, root):
    """Whether a RAW_RE match is a file of this repository (so its OWNER/REPO must follow)."""
    return m.group("repo") == owner_repo(repo_url) or (Path(root) / m.group("path")).is_file()


def _sub_links(text, repo_url, root=ROOT):
    """Rewrite every Colab/Binder/install/clone/raw link's repository (and Colab's branch/folder)."""
    orepo = owner_repo(repo_url)
    text = RAW_RE.sub(lambda m: raw_url(repo_url, m.group("path"), m.group("branch"))
                      if _is_ours(m, repo_url, root) else m.group(0), text)
    text = COLAB_RE.sub(lambda m: colab_url(repo_url, m.group("file")), text)
    text = BINDER_RE.sub(f"https://mybinder.org/v2/gh/{orepo}/", text)
    text = INSTALL_RE.sub(f"git+{repo_url}", text)
    name = orepo.split("/")[1]
    return CLONE_RE.sub(lambda m: f"git clone {repo_url}" + (f" && cd {name}" if m.group("cd") else ""),
                        text)


def missing_raw_files(text, repo_url, root=ROOT):
    """Raw URLs of this repository in ``text`` whose file does not exist in ``root``."""
    ours = owner_repo(repo_url)
    return sorted({m.group(0) for m in RAW_RE.finditer(text)
                   if m.group("repo") == ours and not (Path(root) / m.group("path")).is_file()})


def _rewrite_links(path, repo_url, root):
    """``(text, problems)``: the file with its links rewritten, and the raw links naming files
    this repository lacks."""
    new = _sub_links(path.read_text(encoding="utf-8"), repo_url, root)
    return new, [f"{path.name}: {url} names a file this repository does not have"
                 for url in missing_raw_files(new, repo_url, root)]


def sync_notebook(path, repo_url, root=ROOT):
    """Return ``(new_text, problems)`` for one notebook; ``problems`` cannot be fixed by a rewrite."""
    path = Path(path)
    new, problems = _rewrite_links(path, repo_url, root)
    nb = json.loads(new)
    cells = nb.get("cells", [])
    first_md = next((c for c in cells if c.get("cell_type") == "markdown"), None)
    first_badge = COLAB_RE.search("".join(first_md.get("source", []))) if first_md else None
    if first_badge is None:
        problems.append(f"{path.name}: no Colab badge in the first markdown cell "
                        f"(add: {colab_badge(repo_url, path.name)})")
    else:
        own = colab_url(repo_url, path.name)
        raw_first = COLAB_RE.search(new)
        if first_badge.group(0) != own:
            # the first markdown cell comes first in the file: its first badge is the first match
            if raw_first is None or raw_first.group(0) != first_badge.group(0):
                problems.append(f"{path.name}: cannot locate its own Colab badge to fix it")
            else:
                new = new[:raw_first.start()] + own + new[raw_first.end():]
    installs = [c for c in cells if is_install_cell(c)]
    if not installs:
        problems.append(f"{path.name}: no guarded Colab install cell (a code cell that runs pip "
                        f"install 'spurlab @ git+{repo_url}' under 'google.colab')")
    elif not any(f"git+{repo_url}" in "".join(c.get("source", [])) for c in installs):
        problems.append(f"{path.name}: the Colab install cell does not install git+{repo_url}")
    return new, problems


def launch_block(repo_url, root=ROOT):
    """The README's generated part: a Binder badge and one Colab badge per notebook."""
    lines = [START,
             f"[![Binder]({BINDER_BADGE_IMG})]({binder_url(repo_url)}) (all notebooks, JupyterLab)",
             "",
             "| notebook | open in Colab |",
             "| --- | --- |"]
    for nb in notebooks(root):
        lines.append(f"| [{notebook_title(nb)}](notebooks/{nb.name}) | {colab_badge(repo_url, nb.name)} |")
    lines.append(END)
    return "\n".join(lines)


def sync_readme(path, repo_url, root=ROOT):
    path = Path(path)
    new, problems = _rewrite_links(path, repo_url, root)
    i, j = new.find(START), new.find(END)
    if i < 0 or j < i:
        problems.append(f"{path.name}: no '{START}' ... '{END}' markers around the launch table")
    else:
        new = new[:i] + launch_block(repo_url, root) + new[j + len(END):]
    return new, problems


def plan(root=ROOT):
    """What a sync would change, without writing anything.

    Parameters
    ----------
    root : path-like
        Repository root.

    Returns
    -------
    changes : dict of Path -> str
        Each out-of-date file (notebooks, README.md) and its new text.
    problems : list of str
        What a rewrite cannot fix (a missing badge, install cell, README marker or raw file).

    Examples
    --------
    >>> changes, problems = plan()                         # doctest: +SKIP
    >>> sorted(p.name for p in changes), problems          # doctest: +SKIP
    ([], [])
    """
    root = Path(root)
    repo_url = repository_url(root)
    changes, problems = {}, []
    targets = [(p, lambda p, u: sync_notebook(p, u, root)) for p in notebooks(root)]
    targets.append((root / "README.md", lambda p, u: sync_readme(p, u, root)))
    for path, fn in targets:
        new, probs = fn(path, repo_url)
        problems += probs
        if new != path.read_text(encoding="utf-8"):
            changes[path] = new
    return changes, problems


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true",
                    help="change nothing; exit 1 listing the files that are out of date")
    ap.add_argument("--root", default=str(ROOT), help="repository root (default: this checkout)")
    args = ap.parse_args(argv)
    root = Path(args.root)
    changes, problems = plan(root)
    repo_url = repository_url(root)
    for path, text in changes.items():
        rel = path.relative_to(root)
        if args.check:
            print(f"out of date: {rel} (links or launch table differ from {repo_url})")
        else:
            path.write_text(text, encoding="utf-8")
            print(f"updated: {rel}")
    for p in problems:
        print(f"problem: {p}")
    if args.check and changes:
        print("run `python3 scripts/sync_links.py` to update them", file=sys.stderr)
    if (args.check and changes) or problems:
        return 1
    if not changes:
        print(f"all launch links point at {repo_url}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
