"""Device choice and CPU thread set-up.

``cuda`` if available, else ``mps``, else ``cpu``. On the CPU, torch's default thread count can
exceed the cores this process may use (containers, ``taskset``); oversubscription was measured
3-5x slower on a 2-core machine, so :func:`configure_threads` sets one thread per usable core.
"""

from __future__ import annotations

import os

import torch

_configured = False


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


def configure_threads(n=None):
    """Set torch's intra-op threads to ``n`` (default: :func:`usable_cpus`). Returns ``n``."""
    global _configured
    n = usable_cpus() if n is None else int(n)
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)
    _configured = True
    return n


def get_device(device=None):
    """Return a ``torch.device``: the one asked for, else cuda, else mps, else cpu.

    Examples
    --------
    >>> get_device("cpu")
    device(type='cpu')
    """
    if device is not None:
        dev = torch.device(device)
        if dev.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(f"device={device!r} was asked for but CUDA is not available; "
                             "use 'cpu' or leave device=None")
        return dev
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    if not _configured:
        configure_threads()
    return torch.device("cpu")
