"""Device choice and CPU thread set-up.

``cuda`` if available, else ``mps``, else ``cpu``. On the CPU, torch's default thread count can
exceed the cores this process may use (containers, ``taskset``); oversubscription was measured
3-5x slower on a 2-core machine, so the first :func:`get_device` call that picks the CPU
lowers torch's threads to one per usable core when there are more, **unless the user chose the
threads**: an ``OMP_NUM_THREADS`` (or ``MKL_NUM_THREADS``) in the environment, or a
``torch.set_num_threads`` call after spurlab was imported, is left as it is (a call before the
import is kept too, unless it asks for more threads than usable cores).
:func:`configure_threads` sets them explicitly.

**Sharing the machine** (``$SPURLAB_THREADS``, when the user chose no thread count). A kernel
that takes every core while another process computes can slow to a crawl: on 2 cores beside one
busy process, ``spurlab demo`` took 521 s with 2 threads and 33 s with 1
(``benchmarks/contention.json``). The policies:

- ``free`` (the default): before each training, one thread per core that other processes left
  free since the last look (:func:`free_cores`, from ``/proc/stat``, this process's own work not
  counted), at least one. Alone, that is every usable core.
- ``all``: torch's own count, capped at the usable cores, whatever else runs.
- a number (``SPURLAB_THREADS=2``): that many threads, as ``OMP_NUM_THREADS`` gives.

The thread count changes the floats (sums are split differently), and so the numbers a seed
gives: a result records its threads (``result.environment``), and for bit-for-bit reruns on a
busy machine fix the count (a number, or ``OMP_NUM_THREADS``).
"""

from __future__ import annotations

import os
import time

import torch

from ._validate import check_int

_configured = False
# torch's thread count when spurlab was imported: a different count later means the user set it
_threads_at_import = torch.get_num_threads()
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS")


def usable_cpus():
    """Number of CPU cores this process may run on (affinity and cgroup quota aware)."""
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS, Windows
        n = os.cpu_count() or 1
    try:  # cgroup v2 CPU quota, as in containers
        with open("/sys/fs/cgroup/cpu.max") as f:
            quota, period = f.read().split()
        if quota != "max":
            n = max(1, min(n, int(int(quota) // int(period))))
    except (OSError, ValueError):
        pass
    return max(1, n)


def user_set_threads():
    """Why the user's thread count stands (a string), or ``None`` when the user set none: an
    ``OMP_NUM_THREADS``/``MKL_NUM_THREADS`` environment variable, or ``torch.set_num_threads``
    called after spurlab was imported."""
    for var in THREAD_VARIABLES:
        if os.environ.get(var, "").strip():
            return f"{var}={os.environ[var].strip()}"
    if torch.get_num_threads() != _threads_at_import:
        return f"torch.set_num_threads({torch.get_num_threads()})"
    return None


THREAD_POLICIES = ("free", "all")
_last_look = {}


def thread_policy():
    """``'free'`` (the default), ``'all'``, or a fixed count, from ``$SPURLAB_THREADS``."""
    value = os.environ.get("SPURLAB_THREADS", "free").strip().lower() or "free"
    if value in THREAD_POLICIES:
        return value
    try:
        n = int(value)
    except ValueError:
        n = 0
    if n < 1:
        raise ValueError(f"SPURLAB_THREADS must be 'free', 'all' or a number of threads >= 1; "
                         f"got {os.environ['SPURLAB_THREADS']!r}")
    return n


def _cpu_times(cpus):
    """(busy, total) jiffies of the given CPUs from /proc/stat; None where it cannot be read."""
    try:
        with open("/proc/stat") as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    busy = total = 0
    for line in lines:
        name = line.split(maxsplit=1)[0] if line else ""
        if name.startswith("cpu") and name[3:].isdigit() and int(name[3:]) in cpus:
            fields = [int(x) for x in line.split()[1:]]
            idle = fields[3] + (fields[4] if len(fields) > 4 else 0)     # idle + iowait
            total += sum(fields[:8])
            busy += sum(fields[:8]) - idle
    return (busy, total) if total else None


def free_cores(window=0.05):
    """How many of this process's usable cores others left free since the last look: the usable
    cores minus the work of other processes on them (this process's own CPU time is not
    counted). The first look measures over ``window`` seconds. ``None`` where the machine does
    not tell (no ``/proc/stat``)."""
    try:
        cpus = set(os.sched_getaffinity(0))
    except AttributeError:                     # pragma: no cover - macOS, Windows
        return None
    ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100

    def look():
        t = os.times()
        return _cpu_times(cpus), t.user + t.system, time.monotonic()

    before = _last_look.get("state")
    if before is None or before[0] is None:
        before = look()
        time.sleep(window)
    now = look()
    if before[0] is None or now[0] is None:
        return None
    wall_ticks = (now[0][1] - before[0][1]) / len(cpus)         # elapsed, per CPU, in ticks
    if wall_ticks < window * ticks and "free" in _last_look:     # too short to tell: as before
        return _last_look["free"]
    if wall_ticks <= 0:
        return None
    own = (now[1] - before[1]) * ticks                           # this process's work, in ticks
    others = max(0.0, (now[0][0] - before[0][0]) - own) / wall_ticks
    _last_look.update(state=now, free=max(0.0, usable_cpus() - others))
    return _last_look["free"]


def adapt_threads():
    """Set torch's threads for the next piece of work by :func:`thread_policy`, unless the user
    chose a count (then nothing changes). Returns the count in use."""
    if user_set_threads() is not None or _explicit["n"] is not None:
        return torch.get_num_threads()
    policy = thread_policy()
    if policy == "all":                         # torch's own count, capped (get_device)
        _auto_threads()
        return torch.get_num_threads()
    if isinstance(policy, int):
        n = policy
    else:
        free = free_cores()
        n = usable_cpus() if free is None else max(1, min(usable_cpus(), int(free + 0.5)))
    _set(n)
    return n


def _set(n):
    global _threads_at_import
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)
    _threads_at_import = torch.get_num_threads()        # spurlab's own choice, not the user's


_explicit = {"n": None}


def configure_threads(n=None):
    """Set torch's intra-op threads to ``n`` (default: :func:`usable_cpus`). Returns ``n``.

    An explicit call always applies, even over ``OMP_NUM_THREADS``; spurlab itself calls it only
    when the user set no thread count (see :func:`get_device`).
    """
    global _configured
    n = usable_cpus() if n is None else check_int("threads", n, low=1)
    _set(n)
    _configured = True
    _explicit["n"] = n                 # chosen: no later training adapts it to the load
    return n


def _auto_threads():
    """On first use of the CPU: no more threads than usable cores, unless the user chose."""
    global _configured
    if _configured:
        return
    if user_set_threads() is None and torch.get_num_threads() > usable_cpus():
        _set(usable_cpus())
    _configured = True


_malloc = {"done": False}


def undo_malloc_trim():
    """Where ``MALLOC_TRIM_THRESHOLD_`` is set (Dask's nannies set 65536 in every worker), put
    glibc's allocator thresholds back near what it reaches unset (mmap above 32 MiB, trim above
    64 MiB): with the variable, every tensor above 128 KiB is mapped and unmapped anew, and
    training the tiny CNN ran 1.47x slower (4.7 s against 3.2 s for 15 smoke-scale models).
    Once per process; nothing happens elsewhere (other C libraries, no variable). Returns True
    when it changed the thresholds."""
    import ctypes
    import ctypes.util

    if _malloc["done"] or not os.environ.get("MALLOC_TRIM_THRESHOLD_"):
        return False
    _malloc["done"] = True
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    # M_MMAP_THRESHOLD = -3, M_TRIM_THRESHOLD = -1 (malloc.h)
    return bool(mallopt(-3, 32 * 1024 * 1024) and mallopt(-1, 64 * 1024 * 1024))


def get_device(device=None):
    """Return a ``torch.device``: the one asked for, else cuda, else mps, else cpu.

    Parameters
    ----------
    device : str or torch.device, optional
        ``'cpu'``, ``'cuda'``, ``'cuda:1'``, ``'mps'``; ``None`` picks the best available.

    Raises
    ------
    ValueError
        For a device name torch does not know, or one this machine does not have.

    Examples
    --------
    >>> get_device("cpu")
    device(type='cpu')
    """
    if device is not None:
        if not isinstance(device, (str, torch.device)):
            raise TypeError(f"device must be a string such as 'cpu' or 'cuda', a torch.device or "
                            f"None; got {device!r} ({type(device).__name__})")
        try:
            dev = torch.device(device)
        except RuntimeError:
            raise ValueError(f"device must be 'cpu', 'cuda', 'cuda:N', 'mps' or None; got "
                             f"{device!r}") from None
        if dev.type == "cuda":
            if not torch.cuda.is_available():
                raise ValueError(f"device={device!r} was asked for but CUDA is not available; "
                                 "use 'cpu' or leave device=None")
            if dev.index is not None and dev.index >= torch.cuda.device_count():
                raise ValueError(f"device={device!r} was asked for but this machine has "
                                 f"{torch.cuda.device_count()} CUDA device(s): use cuda:0 to "
                                 f"cuda:{torch.cuda.device_count() - 1}")
        elif dev.type == "mps":
            mps = getattr(torch.backends, "mps", None)
            if mps is None or not mps.is_available():
                raise ValueError(f"device={device!r} was asked for but MPS (Apple GPU) is not "
                                 "available; use 'cpu' or leave device=None")
        elif dev.type != "cpu":
            raise ValueError(f"device must be 'cpu', 'cuda', 'cuda:N', 'mps' or None; got "
                             f"{device!r}")
        return dev
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    _auto_threads()
    return torch.device("cpu")
