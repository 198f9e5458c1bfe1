"""Device choice and CPU thread set-up.

``cuda`` if available, else ``mps``, else ``cpu``. On the CPU, torch's default thread count can
exceed the cores this process may use (containers, ``taskset``); oversubscription was measured
3-5x slower on a 2-core machine, so the first :func:`get_device` call that picks the CPU
lowers torch's threads to one per usable core when there are more, **unless the user chose the
threads**: an ``OMP_NUM_THREADS`` (or ``MKL_NUM_THREADS``) in the environment, or a
``torch.set_num_threads`` call after spurlab was imported, is left as it is (a call before the
import is kept too, unless it asks for more threads than usable cores).
:func:`configure_threads` sets them explicitly.
"""

from __future__ import annotations

import os

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


def configure_threads(n=None):
    """Set torch's intra-op threads to ``n`` (default: :func:`usable_cpus`). Returns ``n``.

    An explicit call always applies, even over ``OMP_NUM_THREADS``; spurlab itself calls it only
    when the user set no thread count (see :func:`get_device`).
    """
    global _configured, _threads_at_import
    n = usable_cpus() if n is None else check_int("threads", n, low=1)
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)
    _configured = True
    _threads_at_import = torch.get_num_threads()
    return n


def _auto_threads():
    """On first use of the CPU: no more threads than usable cores, unless the user chose."""
    global _configured
    if _configured:
        return
    if user_set_threads() is None and torch.get_num_threads() > usable_cpus():
        configure_threads()
    _configured = True


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
