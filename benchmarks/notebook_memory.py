"""Peak memory of each notebook's kernel (with its child processes), run top to bottom in quick mode.

Executes every ``notebooks/[0-9]*.ipynb`` (or the notebooks named on the command line) with
nbclient on the ``python3`` kernel, with ``SPURLAB_MODE=quick``, in the notebooks folder (so
``results/`` is found and nothing is downloaded), and records the peak resident memory of the
kernel process and of every process it starts (worker processes, DataLoader workers):

- Linux: the kernel's ``VmHWM`` (its exact high-water mark, from ``/proc/<pid>/status``) plus, for
  each child process seen, its own ``VmHWM``. Their sum is an upper bound of the tree's peak
  (exact when the kernel starts no child); it is what is compared with the goal. The largest
  sum of current RSS over the tree seen while polling (every 0.25 s and after each cell) is
  recorded too, as ``tree_rss_sampled_bytes``.
- elsewhere: the largest sampled RSS sum of the kernel and its children (psutil).

Also records the wall time and the kernel's CPU time (user + system, Linux). Neither is a clean
speed measure on a shared machine: torch's worker threads spin while they wait for a core, so
the CPU time grows with the machine's load as well. Nothing is written back to the notebooks.

Usage::

    python3 benchmarks/notebook_memory.py                      # all notebooks
    python3 benchmarks/notebook_memory.py notebooks/04_pruning.ipynb -v --json mem.json

Prints one row per notebook against the goal (peak <= 1.5 GB by default, ``--goal-gb``) and
writes the rows to ``benchmarks/notebook_memory.json`` (``--json``). Exit status: 0 all ran and
met the goal; 1 a notebook failed (error or timeout); 2 all ran but one went over the goal.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_JSON = ROOT / "benchmarks" / "notebook_memory.json"


def _status_kb(pid, key):
    """A ``kB`` field (``VmHWM``, ``VmRSS``) of /proc/<pid>/status in bytes, or None."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _cpu_seconds(pid):
    """User + system CPU time of the process and its waited-for children (Linux), or None."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def _children_linux(pid):
    """All live descendants of ``pid`` (from /proc)."""
    parent = {}
    for d in Path("/proc").glob("[0-9]*"):
        try:
            parent[int(d.name)] = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
    out, stack = [], [pid]
    while stack:
        cur = stack.pop()
        for p, pp in parent.items():
            if pp == cur:
                out.append(p)
                stack.append(p)
    return out


class PeakMemory:
    """Peak memory of a process and its descendants, sampled every ``interval`` s in a thread
    and on demand (so a cell that times out or kills the kernel still leaves its numbers).

    Parameters
    ----------
    pid : int
        The kernel's process id.
    interval : float
        Seconds between samples.

    Examples
    --------
    >>> import os
    >>> mem = PeakMemory(os.getpid(), interval=0.1)
    >>> mem.stop() > 0
    True
    """

    def __init__(self, pid, interval=0.25):
        self.pid, self.interval = pid, interval
        self.linux = _status_kb(pid, "VmHWM") is not None
        self.source = ("VmHWM of the kernel + VmHWM of each child" if self.linux
                       else "sampled RSS of the kernel and its children (psutil)")
        self.kernel_hwm = 0
        self.child_hwm = {}          # pid -> its own peak
        self.tree_sampled = 0
        self.cpu_s = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.sample()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()

    def _poll(self):
        while not self._stop.wait(self.interval):
            self.sample()

    def _tree_linux(self):
        kernel_rss = _status_kb(self.pid, "VmRSS") or 0
        self.kernel_hwm = max(self.kernel_hwm, _status_kb(self.pid, "VmHWM") or 0)
        total = kernel_rss
        for c in _children_linux(self.pid):
            hwm, rss = _status_kb(c, "VmHWM"), _status_kb(c, "VmRSS")
            if hwm:
                self.child_hwm[c] = max(self.child_hwm.get(c, 0), hwm)
            total += rss or 0
        return total

    def _tree_psutil(self):
        try:
            import psutil

            proc = psutil.Process(self.pid)
            procs = [proc, *proc.children(recursive=True)]
        except Exception:  # no psutil, or the kernel is gone
            return 0
        total = 0
        for p in procs:
            try:
                rss = p.memory_info().rss
            except Exception:
                continue
            total += rss
            if p.pid == self.pid:
                self.kernel_hwm = max(self.kernel_hwm, rss)
            else:
                self.child_hwm[p.pid] = max(self.child_hwm.get(p.pid, 0), rss)
        return total

    def sample(self):
        """Take one sample now; return the peak so far (bytes)."""
        with self._lock:
            self.cpu_s = _cpu_seconds(self.pid) or self.cpu_s
            total = self._tree_linux() if self.linux else self._tree_psutil()
            self.tree_sampled = max(self.tree_sampled, total)
            return self.peak

    @property
    def peak(self):
        """Kernel peak + the children's peaks (an upper bound of the tree's peak), at least the
        largest sampled sum."""
        return max(self.kernel_hwm + sum(self.child_hwm.values()), self.tree_sampled)

    def stop(self):
        """Stop sampling (one last sample first); return :attr:`peak` in bytes."""
        self.sample()
        self._stop.set()
        self._thread.join(timeout=2)
        return self.peak


def run_notebook(path, timeout, verbose=False):
    """Execute one notebook; return a dict with ``ok``, ``seconds``, ``peak_bytes``, ``error``."""
    import nbformat
    from nbclient import NotebookClient
    from traitlets.config import Config

    nb = nbformat.read(path, as_version=4)
    row = {"notebook": path.name, "ok": False, "seconds": None, "kernel_cpu_s": None, "peak_bytes": None,
           "kernel_peak_bytes": None, "children_peak_bytes": None, "n_children": None,
           "tree_rss_sampled_bytes": None, "error": None, "source": None}
    # IPC sockets, not TCP ports: on a machine where others start kernels at the same time, two
    # kernels can pick the same free TCP port, and a lost reply then stalls the run for minutes
    # (the socket path must be absolute: the kernel runs in the notebook's folder)
    sockets = tempfile.mkdtemp(prefix="nbmem-") if os.name == "posix" else None
    config = Config({"KernelManager": {"transport": "ipc", "ip": os.path.join(sockets, "kernel")}}) \
        if sockets else Config()
    client = NotebookClient(nb, kernel_name="python3", timeout=timeout, config=config,
                            resources={"metadata": {"path": str(path.parent)}})
    tracker = {}

    def on_start(**_):
        prov = client.km.provisioner
        pid = getattr(prov, "pid", None) or getattr(getattr(prov, "process", None), "pid", None)
        tracker["mem"] = PeakMemory(pid) if pid else None

    def on_cell(cell_index=None, **_):
        if tracker.get("mem"):
            tracker["mem"].sample()
        if verbose:
            peak = tracker["mem"].peak / 1e9 if tracker.get("mem") else float("nan")
            cpu = tracker["mem"].cpu_s if tracker.get("mem") else None
            print(f"    {path.name} cell {cell_index}: done at {time.perf_counter() - t:.1f} s, "
                  f"kernel CPU {cpu or 0:.1f} s, peak {peak:.2f} GB", file=sys.stderr, flush=True)

    # on_notebook_start runs once the kernel is up; samples are also taken after every cell
    client.on_notebook_start = on_start
    client.on_cell_executed = on_cell
    t = time.perf_counter()
    try:
        client.execute()
        row["ok"] = True
    except Exception as exc:  # CellExecutionError, CellTimeoutError, DeadKernelError, ...
        lines = [x for x in str(exc).strip().splitlines() if x.strip()]
        row["error"] = f"{type(exc).__name__}: " + " | ".join(lines[-3:])[-400:]
    finally:
        if sockets:
            shutil.rmtree(sockets, ignore_errors=True)
    row["seconds"] = round(time.perf_counter() - t, 1)
    mem = tracker.get("mem")
    if mem:
        row["peak_bytes"] = mem.stop() or None
        row["kernel_peak_bytes"] = mem.kernel_hwm or None
        row["children_peak_bytes"] = sum(mem.child_hwm.values())
        row["n_children"] = len(mem.child_hwm)
        row["tree_rss_sampled_bytes"] = mem.tree_sampled or None
        row["source"] = mem.source
        row["kernel_cpu_s"] = None if mem.cpu_s is None else round(mem.cpu_s, 1)
    return row


def _fmt_load(load):
    return "n/a" if load is None else "/".join(f"{x:.1f}" for x in load)


def _git():
    """The commit measured, and whether the work tree had uncommitted changes (None outside git)."""
    import subprocess

    try:
        run = lambda *a: subprocess.run(["git", "-C", str(ROOT), *a], capture_output=True,  # noqa: E731
                                        text=True, timeout=30, check=True).stdout.strip()
        return {"commit": run("rev-parse", "HEAD"), "dirty": bool(run("status", "--porcelain"))}
    except (OSError, subprocess.SubprocessError):
        return None


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("notebooks", nargs="*", help="default: notebooks/[0-9]*.ipynb")
    ap.add_argument("--goal-gb", type=float, default=1.5, help="peak RSS goal per notebook (GB)")
    ap.add_argument("--timeout", type=int, default=900,
                    help="seconds allowed per cell (default 900: a loaded machine is slow)")
    ap.add_argument("--json", default=str(DEFAULT_JSON),
                    help="write the rows here (default benchmarks/notebook_memory.json; '' for none)")
    ap.add_argument("-v", "--verbose", action="store_true", help="print progress per cell (stderr)")
    args = ap.parse_args(argv)
    paths = [Path(p).resolve() for p in args.notebooks] or sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))
    if not paths:
        print("no notebooks found", file=sys.stderr)
        return 1
    os.environ["SPURLAB_MODE"] = "quick"          # inherited by the kernels
    # a learner's first run: no disk cache, so each kernel trains everything it shows
    os.environ.pop("SPURLAB_CACHE_DIR", None)
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    goal = args.goal_gb * 1e9
    load_before = os.getloadavg() if hasattr(os, "getloadavg") else None
    started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    rows = []
    header = (f"{'notebook':<26} {'status':<7} {'time s':>7} {'kernel CPU s':>13} {'peak RSS GB':>12}  "
              f"goal <= {args.goal_gb:g} GB")
    print(header)
    print("-" * len(header), flush=True)
    for path in paths:
        row = run_notebook(path, args.timeout, args.verbose)
        rows.append(row)
        peak = row["peak_bytes"]
        verdict = "n/a" if peak is None else ("ok" if peak <= goal else "OVER")
        peak_s = "n/a" if peak is None else f"{peak / 1e9:.2f}"
        cpu_s = "n/a" if row["kernel_cpu_s"] is None else f"{row['kernel_cpu_s']:.1f}"
        print(f"{row['notebook']:<26} {'ok' if row['ok'] else 'FAILED':<7} {row['seconds']:>7.1f} "
              f"{cpu_s:>13} {peak_s:>12}  {verdict}", flush=True)
        if row["error"]:
            print(f"    {row['error']}", flush=True)
    sources = {r["source"] for r in rows if r["source"]}
    load_after = os.getloadavg() if hasattr(os, "getloadavg") else None
    print(f"(peak = {', '.join(sorted(sources)) or 'nothing'}; kernel CPU = user + system seconds, "
          f"inflated by spinning threads on a busy machine; SPURLAB_MODE=quick; GB = 1e9 bytes; "
          f"{os.cpu_count()} CPUs, load average {_fmt_load(load_before)} before, "
          f"{_fmt_load(load_after)} after)")
    if args.json:
        import torch

        import spurlab

        out = {"goal_bytes": goal, "started": started, "mode": "quick",
               "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                           "python": platform.python_version(), "torch": torch.__version__,
                           "spurlab": spurlab.__version__, "load_average_before": load_before,
                           "load_average_after": load_after},
               "git": _git(), "disk_cache": None,
               "rows": rows}
        target = Path(args.json)
        tmp = target.with_name(target.name + ".tmp")
        tmp.write_text(json.dumps(out, indent=1) + "\n")
        os.replace(tmp, target)
        print(f"wrote {target}")
    if not all(r["ok"] for r in rows):
        return 1
    if any(r["peak_bytes"] and r["peak_bytes"] > goal for r in rows):
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
