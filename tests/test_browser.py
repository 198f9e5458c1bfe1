"""A real browser drives the Playground notebook (07) in JupyterLab: Run All, move a slider, press
Verify live; then the explorer's threshold, a cell click, a stamp toggle and a pruner round.

Starts JupyterLab on 127.0.0.1 (a free port, a token, temporary settings, workspaces, config and
runtime folders, news and update checks off, autosave off) on a temporary copy of
``notebooks/`` and ``results/``, so nothing in the checkout changes and nothing is downloaded;
opens ``notebooks/07_playground.ipynb`` in headless Chromium (Debian's ``/usr/bin/chromium``,
driven by Playwright through ``executable_path``); runs all cells from the Run menu; then moves
the playground's salience slider with the keyboard and checks that the figure changed with no Run
button (the answer comes from the atlas), presses **Verify live** and checks that the status
streams seeds, that progress bars show, and that the figure changed again. Screenshots go to
``tests/artifacts/`` (on failure: ``browser_07_playground_failure.png``, and the message quotes
the errors the page shows). Every process started (JupyterLab, its kernel, Playwright's driver,
Chromium) is stopped by id, also on failure, and the test fails if one is left behind.

Needs Chromium at /usr/bin/chromium, ``pip install playwright`` (its own browser download is not
used) and JupyterLab; ``.ci/install_browser.sh`` installs them. Without them, or when Chromium
cannot start, the test is skipped with the reason, and FAILS instead when the environment
variable ``CI`` is set.

Time limits (seconds; environment variables override them): ``SPURLAB_BROWSER_RUN_ALL_S`` (1200)
for Run All, ``SPURLAB_BROWSER_STALL_S`` (600) without any cell finishing, 180 for Verify live.
"""

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                  "--no-first-run", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"]
TARGET = "07_playground.ipynb"
RUN_ALL_S = float(os.environ.get("SPURLAB_BROWSER_RUN_ALL_S", "1200"))
STALL_S = float(os.environ.get("SPURLAB_BROWSER_STALL_S", "600"))
PANEL_RUN_S, SERVER_S, PAGE_S = 180.0, 90.0, 90.0

# a real browser over a full Run All of the playground notebook: in the extended stage
# that .ci/run runs after the README's test command
pytestmark = [pytest.mark.slow, pytest.mark.extended]


def _missing(reason):
    """Fail in CI (the browser test must run there), skip elsewhere, with the reason."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, so this is a failure: run .ci/install_browser.sh)", pytrace=False)
    pytest.skip(f"{reason}; run .ci/install_browser.sh to enable the browser test")


def _requirements():
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        _missing(f"Chromium not found at {CHROMIUM}")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _missing("Playwright's Python package is not installed")
    try:
        import jupyterlab  # noqa: F401
    except ImportError:
        _missing("JupyterLab is not installed")


def _panel_cell(nb_path):
    """Index of the cell that displays the playground (a line ``pg`` or ``display(pg)``)."""
    cells = json.loads(Path(nb_path).read_text(encoding="utf-8"))["cells"]
    shown = re.compile(r"^\s*(display\()?pg\)?;?\s*$", re.M)
    for i, c in enumerate(cells):
        if c["cell_type"] == "code" and shown.search("".join(c["source"])):
            return i
    return None


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _proc_table():
    """``{pid: (ppid, state)}`` from /proc (Linux; empty elsewhere)."""
    table = {}
    for d in Path("/proc").glob("[0-9]*"):
        try:
            fields = (d / "stat").read_text().rsplit(")", 1)[1].split()
            table[int(d.name)] = (int(fields[1]), fields[0])
        except (OSError, ValueError, IndexError):
            continue
    return table


def _descendants(pid, table=None):
    """Live (not zombie) process ids below ``pid``."""
    table = _proc_table() if table is None else table
    children = {}
    for p, (ppid, _) in table.items():
        children.setdefault(ppid, []).append(p)
    out, stack = [], [pid]
    while stack:
        for c in children.get(stack.pop(), []):
            stack.append(c)
            if table[c][1] != "Z":
                out.append(c)
    return out


def _crashpad_handlers():
    """Chromium's crash handlers: they detach from Chromium (parent 1, own session) and leave
    on their own a few seconds after it exits, so they are tracked by name."""
    out = set()
    for d in Path("/proc").glob("[0-9]*"):
        try:
            if (d / "comm").read_text().strip().startswith("chrome_crashpad"):
                out.add(int(d.name))
        except (OSError, ValueError):
            continue
    return out


def _alive(pids):
    table = _proc_table()
    return [p for p in pids if p in table and table[p][1] != "Z"]


def _stop(proc, known=()):
    """Stop the JupyterLab server and every process below it (kernels run in their own sessions),
    by id: SIGTERM (the server shuts its kernels down), then SIGKILL what is left."""
    pids = set(_descendants(proc.pid)) | set(known)
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
    deadline = time.monotonic() + 5
    while _alive(pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    for pid in _alive(pids):
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def _write_settings(settings):
    """User settings for the temporary JupyterLab: no news/update pop-ups, no autosave, every cell
    attached to the page (no virtual scrolling), so the test sees all of them."""
    files = {
        "@jupyterlab/apputils-extension/notification.jupyterlab-settings":
            {"fetchNews": "false", "checkForUpdates": False},
        "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
        "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    }
    for rel, value in files.items():
        path = settings / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value))


def _start_lab(tmp, port, token, log):
    settings, workspaces, config, runtime = (tmp / n for n in ("settings", "workspaces", "config", "runtime"))
    for d in (workspaces, config, runtime):
        d.mkdir()
    _write_settings(settings)
    # the announcements plugin off as well (page_config), for versions that ignore news_url
    (config / "labconfig").mkdir()
    (config / "labconfig" / "page_config.json").write_text(json.dumps(
        {"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}}))
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(config), JUPYTER_RUNTIME_DIR=str(runtime),
               JUPYTER_DATA_DIR=str(tmp / "data"), IPYTHONDIR=str(tmp / "ipython"),
               SPURLAB_MODE="quick", PYTHONUNBUFFERED="1")
    env.pop("MPLBACKEND", None)    # the notebooks use %matplotlib inline
    env.pop("SPURLAB_CACHE_DIR", None)
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser",
           "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
           f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={tmp / 'work'}",
           f"--LabApp.user_settings_dir={settings}", f"--LabApp.workspaces_dir={workspaces}",
           "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
           "--ServerApp.terminals_enabled=False"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")     # CI containers run as root
    return subprocess.Popen(cmd, cwd=tmp / "work", env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)


def _wait_for_server(proc, port, token):
    deadline = time.monotonic() + SERVER_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"JupyterLab exited with status {proc.returncode} before answering")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token={token}", timeout=5) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"JupyterLab did not answer on 127.0.0.1:{port} within {SERVER_S:.0f} s")


def _tail(path, n=30):
    try:
        lines = Path(path).read_text(errors="replace").splitlines()
    except OSError:
        return ""
    # the kernel's harmless shutdown tracebacks (sockets closed under it) are noise here
    return "\n".join(line for line in lines if "Skipped non-installed server" not in line)[-4000:]


PROMPTS_JS = """() => Array.from(document.querySelectorAll('.jp-Notebook .jp-Cell')).map(c =>
    c.classList.contains('jp-CodeCell')
        ? ((c.querySelector('.jp-InputArea-prompt') || {}).textContent || '').trim() : null)"""

# what a person would read on the page when something went wrong: tracebacks and error outputs,
# dialogs (kernel died, ...), the panel's own "error: ..." lines
VISIBLE_ERRORS_JS = """() => {
    const out = [];
    document.querySelectorAll('.jp-Notebook .jp-Cell').forEach((c, i) => {
        c.querySelectorAll('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"], '
                           + '.jp-OutputArea-output .jp-RenderedText[data-mime-type*="error"]')
            .forEach(e => { const t = e.textContent.trim();
                            if (/Error|Traceback|Exception/.test(t)) {
                                out.push('cell ' + i + ': ' + t.slice(-1200)); } });
        c.querySelectorAll('.widget-output').forEach(e => { const t = e.textContent;
            const m = t.match(/^error: .*$/m); if (m) out.push('cell ' + i + ' panel: ' + m[0]); });
    });
    document.querySelectorAll('.jp-Dialog').forEach(
        d => out.push('dialog: ' + d.textContent.trim().slice(0, 400)));
    return out;
}"""

# the kernel's name and status as the status bar shows them ("Python 3 (ipykernel) | Idle")
KERNEL_JS = """() => { const e = document.querySelector('.jp-StatusBar-TextItem[title^="Change kernel"]');
    return e ? e.textContent.trim() : '' }"""


def _visible_errors(page):
    try:
        return page.evaluate(VISIBLE_ERRORS_JS)
    except Exception as exc:  # the page itself is gone
        return [f"(could not read the page: {exc})"]


def _wait_for_kernel(page):
    """Until the notebook's kernel is connected and idle; accepts a kernel-selection dialog."""
    deadline = time.monotonic() + PAGE_S
    seen = None
    while time.monotonic() < deadline:
        dialog = page.locator(".jp-Dialog")
        if dialog.count() and "kernel" in dialog.first.inner_text().lower():
            dialog.first.locator("button.jp-mod-accept").click()
        seen = page.evaluate(KERNEL_JS)
        if re.search(r"\|\s*Idle\s*$", seen) and "No Kernel" not in seen:
            return
        time.sleep(0.25)
    raise AssertionError(f"the kernel was not ready within {PAGE_S:.0f} s (the status bar read {seen!r})")


def _run_all(page, code_idx, on_poll):
    """Run > Run All Cells; wait until every non-empty code cell shows an execution count. Fails
    on a stopped run (an error), after STALL_S without progress, or after RUN_ALL_S."""
    page.locator("#jp-MainMenu .lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
    started = last_progress = time.monotonic()
    done_before, quiet_polls = -1, 0
    while True:
        prompts = page.evaluate(PROMPTS_JS)
        mine = [prompts[i] if i < len(prompts) else "" for i in code_idx]
        done = sum(bool(re.fullmatch(r"\[\d+\]:", p or "")) for p in mine)
        on_poll()
        if done == len(code_idx):
            return time.monotonic() - started
        now = time.monotonic()
        if done != done_before:
            done_before, last_progress = done, now
        # nothing running or queued any more, yet cells without a count: Run All stopped (an error)
        quiet_polls = quiet_polls + 1 if not any("*" in (p or "") for p in prompts) else 0
        if quiet_polls >= 3:
            raise AssertionError(f"Run All stopped after {done} of {len(code_idx)} code cells; the page "
                                 f"shows:\n" + "\n".join(_visible_errors(page) or ["(no error text)"]))
        if now - last_progress > STALL_S or now - started > RUN_ALL_S:
            which = "no cell finished for" if now - last_progress > STALL_S else "Run All took more than"
            limit = STALL_S if now - last_progress > STALL_S else RUN_ALL_S
            raise AssertionError(
                f"{which} {limit:.0f} s ({done} of {len(code_idx)} code cells done, prompts {mine}); set "
                f"SPURLAB_BROWSER_STALL_S / SPURLAB_BROWSER_RUN_ALL_S to allow more on a slow machine. "
                f"Errors shown: {_visible_errors(page)}")
        time.sleep(1)


def _wait_text(locator, pattern, timeout_s, what):
    deadline = time.monotonic() + timeout_s
    text = ""
    while time.monotonic() < deadline:
        try:
            text = locator.inner_text(timeout=2000)
        except Exception:
            text = ""
        if re.search(pattern, text):
            return text
        time.sleep(0.25)
    raise AssertionError(f"{what}: waited {timeout_s:.0f} s for /{pattern}/; the status read {text!r}")


def _output_state(panel_box):
    out = panel_box.locator(".widget-output").first
    imgs = out.locator("img")
    return out.inner_text(), [imgs.nth(i).get_attribute("src") or "" for i in range(imgs.count())]


def _image_src(box):
    img = box.locator("img.widget-image, .widget-image img, img").first
    img.wait_for(timeout=30_000)
    return img.get_attribute("src") or ""


def _wait_change(get, before, timeout_s, what):
    deadline = time.monotonic() + timeout_s
    now = get()
    while now == before and time.monotonic() < deadline:
        time.sleep(0.1)
        now = get()
    assert now != before, f"{what} did not change within {timeout_s:.0f} s"
    return now


def _drive(page, url, cells, code_idx, panel_idx, stem):
    """Everything the browser does; returns a one-line summary."""
    page.goto(url, timeout=PAGE_S * 1000)
    page.wait_for_function(f"document.querySelectorAll('.jp-Notebook .jp-Cell').length >= {len(cells)}",
                           timeout=PAGE_S * 1000)
    _wait_for_kernel(page)
    run_all_s = _run_all(page, code_idx, lambda: None)

    panel_cell = page.locator(".jp-Notebook .jp-Cell").nth(panel_idx)
    verify = panel_cell.locator("button.jupyter-button", has_text=re.compile(r"Verify live")).first
    assert verify.count(), f"cell {panel_idx} shows no playground with a Verify live button after Run All"
    box = verify.locator("xpath=ancestor::div[contains(@class,'widget-vbox')][last()]")
    status = verify.locator("xpath=..").locator(".widget-html").last
    panel_cell.scroll_into_view_if_needed()
    slider = box.locator(".widget-hslider").filter(has_text=re.compile("salience", re.I)).first
    readout = slider.locator(".widget-readout")
    before_img, before = _image_src(box), readout.inner_text()

    # a slider move: answered from the atlas, no Run button
    handle = slider.locator(".noUi-handle").first
    handle.focus()
    key = "ArrowLeft" if before.strip() in ("1", "1.0") else "ArrowRight"
    t = time.monotonic()
    handle.press(key)
    after = _wait_change(lambda: readout.inner_text(), before, 10, "the salience slider's readout")
    moved_img = _wait_change(lambda: _image_src(box), before_img, 30, "the playground's figure")
    move_s = time.monotonic() - t
    _wait_text(status, r"from the atlas", 30, "the playground's status after a slider move")

    # live verification: streams seed by seed, then reports
    verify.click()
    _wait_text(status, r"live: seed", 30, "the status once Verify live is pressed")
    _wait_text(status, r"live: \d+ seeds in|error", PANEL_RUN_S, "the status after Verify live")
    assert "error" not in status.inner_text(), f"the playground reports an error: {box.inner_text()[-1500:]}"
    bars = box.locator(".widget-hprogress, progress, .progress")
    assert bars.count() >= 1, "no progress bar per seed is shown"
    live_img = _wait_change(lambda: _image_src(box), moved_img, 30, "the figure after Verify live")
    panel_cell.screenshot(path=str(ARTIFACTS / f"browser_{stem}_panel.png"))
    page.screenshot(path=str(ARTIFACTS / f"browser_{stem}.png"))
    assert "Takeaway (live" in box.inner_text(), "no live takeaway under the figure"
    explored = _drive_explorer(page, cells, stem)
    return (f"Run All {run_all_s:.0f} s; salience {before} -> {after}, redrawn in {move_s:.1f} s "
            f"(browser round trip); Verify live: {status.inner_text()[:120]}; "
            f"figure changed {len({before_img, moved_img, live_img})} times; {explored}")


def _drive_explorer(page, cells, stem):
    """The explorable's three interactions: the threshold, a cell click, a stamp toggle."""
    shown = re.compile(r"^\s*explorer\s*$", re.M)
    idx = [i for i, c in enumerate(cells) if c["cell_type"] == "code"
           and shown.search("".join(c["source"]))]
    assert idx, f"{TARGET}: no cell displays `explorer`"
    cell = page.locator(".jp-Notebook .jp-Cell").nth(idx[0])
    cell.scroll_into_view_if_needed()
    ratio = cell.locator(".widget-hslider").filter(has_text=re.compile("prune ratio", re.I)).first
    assert ratio.count(), "the explorer shows no prune-ratio slider"
    box = ratio.locator("xpath=ancestor::div[contains(@class,'widget-vbox')][last()]")
    html = box.locator(".widget-html")
    text = html.filter(has_text=re.compile(r"removes \d+ of the")).first
    before_img, before_text = _image_src(box), text.inner_text()
    handle = ratio.locator(".noUi-handle").first
    handle.focus()
    t = time.monotonic()
    handle.press("ArrowRight")
    moved = _wait_change(lambda: _image_src(box), before_img, 30, "the data map after the threshold moved")
    _wait_change(lambda: text.inner_text(), before_text, 30, "the line under the data map")
    move_s = time.monotonic() - t
    # a cell click opens that point: its groups table
    cell_button = box.locator(".widget-gridbox button").nth(7)
    t = time.monotonic()
    cell_button.click()
    detail = html.filter(has_text=re.compile(r"worst in bold")).first
    _wait_text(detail, r"salience [0-9.]+, prevalence [0-9.]+", 30, "the cell's detail after a click")
    clicked = _wait_change(lambda: _image_src(box), moved, 30, "the data map after a cell click")
    cell_s = time.monotonic() - t
    # the stamp toggle: both models train once, then the probabilities show
    toggle = box.locator("button", has_text=re.compile("stamp the line")).first
    t = time.monotonic()
    toggle.click()
    said = html.filter(has_text=re.compile(r"Toggle the line")).first
    _wait_text(said, r"with the line", PANEL_RUN_S, "the stamp probe's line after the toggle")
    stamp_s = time.monotonic() - t
    # one round as the pruner: deal, pick the budget, retrain, read the leaderboard
    box.locator("button", has_text=re.compile("deal the gallery")).first.click()
    tiles = box.locator(".widget-gridbox .widget-toggle-button")
    deadline = time.monotonic() + 30
    while tiles.count() < 12 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert tiles.count() >= 12, f"the pruner dealt {tiles.count()} images"
    for i in range(12):
        tiles.nth(i).click()
    play = box.locator("button", has_text=re.compile("retrain without my picks")).first
    _wait_text(html.filter(has_text=re.compile(r"chosen \d+ of")).first, r"chosen 12 of 12", 30,
               "the pruner's count after 12 picks")
    t = time.monotonic()
    play.click()
    board = html.filter(has_text=re.compile(r"round 1")).first
    _wait_text(board, r"your retrain took", PANEL_RUN_S, "the pruner's leaderboard")
    pruner_s = time.monotonic() - t
    cell.screenshot(path=str(ARTIFACTS / f"browser_{stem}_explorer.png"))
    assert clicked != before_img
    return (f"explorer: threshold redrawn in {move_s:.1f} s, a cell opened in {cell_s:.1f} s, "
            f"a stamp answered in {stamp_s:.1f} s (two models trained), a pruner round in "
            f"{pruner_s:.1f} s")


def _failure_screenshot(page, stem):
    try:
        err = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
        if err.count():
            err.first.scroll_into_view_if_needed(timeout=5000)
        page.screenshot(path=str(ARTIFACTS / f"browser_{stem}_failure.png"), timeout=15_000)
        return f"screenshot: tests/artifacts/browser_{stem}_failure.png"
    except Exception as exc:
        return f"(no failure screenshot: {exc})"


def test_playground_in_a_real_browser(tmp_path):
    _requirements()
    from playwright.sync_api import sync_playwright

    nb_path = ROOT / "notebooks" / TARGET
    assert nb_path.is_file(), f"notebooks/{TARGET} does not exist"
    panel_idx = _panel_cell(nb_path)
    assert panel_idx is not None, f"{TARGET}: no cell displays `pg`"
    cells = json.loads(nb_path.read_text(encoding="utf-8"))["cells"]
    # code cells whose prompt the page shows (a collapsed self-check cell hides its prompt;
    # nbval runs it)
    code_idx = [i for i, c in enumerate(cells) if c["cell_type"] == "code" and "".join(c["source"]).strip()
                and not c.get("metadata", {}).get("jupyter", {}).get("source_hidden")]
    work = tmp_path / "work"
    shutil.copytree(ROOT / "notebooks", work / "notebooks",
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    shutil.copytree(ROOT / "results", work / "results")      # notebook 04 reads results/*.json
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    stem = nb_path.stem
    for old in ARTIFACTS.glob(f"browser_{stem}*.png"):
        old.unlink()
    port, token = _free_port(), secrets.token_hex(16)
    log_path = tmp_path / "jupyterlab.log"
    before = set(_descendants(os.getpid()))
    crashpad_before = _crashpad_handlers()
    t0 = time.monotonic()
    failure, summary, proc, seen = None, None, None, set()
    with sync_playwright() as pw:
        try:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True,
                                         timeout=60_000)
        except Exception as exc:
            _missing(f"Chromium ({CHROMIUM}) could not start: {str(exc).strip().splitlines()[0][:300]}")
        log = open(log_path, "w")
        page = None
        try:
            proc = _start_lab(tmp_path, port, token, log)
            _wait_for_server(proc, port, token)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            summary = _drive(page, f"http://127.0.0.1:{port}/lab/tree/notebooks/{TARGET}?token={token}",
                             cells, code_idx, panel_idx, stem)
        except Exception as exc:
            failure = exc
            shot = _failure_screenshot(page, stem) if page is not None else "(no page yet)"
            failure = AssertionError(f"{exc}\n{shot}\n--- JupyterLab log (tail) ---\n{_tail(log_path)}")
        finally:
            seen = set(_descendants(os.getpid())) - before
            crashpad = _crashpad_handlers() - crashpad_before      # this Chromium's
            try:
                browser.close()
            finally:
                if proc is not None:
                    _stop(proc)
                log.close()
    # Playwright's driver and Chromium are gone with the context; the server and its kernel too;
    # Chromium's crash handlers follow within seconds
    seen |= crashpad
    deadline = time.monotonic() + 15
    while _alive(seen) and time.monotonic() < deadline:
        time.sleep(0.2)
    left = _alive(seen)
    for pid in left:
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    if failure is not None:
        raise failure
    assert not left, f"processes left running after the test (killed now): {left}"
    print(f"{TARGET}: {summary}; total {time.monotonic() - t0:.0f} s")
