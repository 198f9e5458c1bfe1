"""Files spurlab writes: JSON without pickle, atomic writes that respect the umask, figures,
and the run's environment.

Examples
--------
>>> jsonable({"a": float("nan"), "b": (1, 2)})
{'a': None, 'b': [1, 2]}
"""

from __future__ import annotations

import math
import os
import platform
import re
import tempfile

import numpy as np

from ._version import __version__


def jsonable(x):
    """``x`` with numpy numbers as Python numbers and NaN as ``None`` (JSON ``null``)."""
    if isinstance(x, dict):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [jsonable(v) for v in x]
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (np.bool_,)):
        return bool(x)
    if isinstance(x, (float, np.floating)):
        x = float(x)
        return None if math.isnan(x) else x
    return x


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _atomic(path, suffix, write):
    """Write ``path`` through ``write(tmp)`` on a temporary file in the same folder, then a
    rename; the file gets 0666 less the umask, as a plain ``open`` would give; a failure
    leaves neither a half-written file nor the temporary one."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=suffix)
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def atomic_write_text(path, text):
    """Write ``text`` to ``path`` via a temporary file in the same folder and a rename, so a
    crash never leaves a half-written file. The file gets the permissions a plain ``open``
    would give (0666 less the umask), so a shared class folder stays readable."""
    if not isinstance(text, str):
        raise TypeError(f"text must be a str; got {type(text).__name__}")
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_bytes(path, data):
    """:func:`atomic_write_text` for bytes (e.g. a gzipped file)."""
    if not isinstance(data, (bytes, bytearray)):
        raise TypeError(f"data must be bytes; got {type(data).__name__}")

    def write(tmp):
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())

    return _atomic(path, ".tmp", write)


def save_figure(fig, path, *, dpi=120):
    """Save a matplotlib figure atomically (a temporary file in the same folder, then a rename;
    the format from the file's extension, PNG without one), so a crash never leaves half an
    image. Returns ``path``."""
    fmt = os.path.splitext(os.fspath(path))[1][1:] or "png"
    return _atomic(path, "." + fmt, lambda tmp: fig.savefig(tmp, dpi=dpi, format=fmt))


# CPU features that change which kernels torch and oneDNN pick, and so the floats
_KERNEL_FLAGS = ("avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile", "amx_bf16")


def _cpuinfo():
    try:
        with open("/proc/cpuinfo") as f:
            text = f.read()
    except OSError:
        return platform.processor() or platform.machine(), []
    model = next((ln.split(":", 1)[1].strip() for ln in text.splitlines()
                  if ln.startswith("model name")), platform.processor() or platform.machine())
    flags = next((ln.split(":", 1)[1].split() for ln in text.splitlines()
                  if ln.startswith("flags")), [])
    return re.sub(r"\s*@\s*[\d.]+\s*GHz$", "", model), flags


def machine():
    """What decides this process's floats on a CPU: the torch version, the CPU's model and kernel
    features, the kernels torch and oneDNN were told to use (``ATEN_CPU_CAPABILITY``,
    ``ONEDNN_MAX_CPU_ISA``) and the thread count. Two processes with the same ``machine()`` get
    the same numbers from the same seed; others sum floats in another order.

    Examples
    --------
    >>> sorted(machine())
    ['cpu_capability', 'cpu_flags', 'cpu_model', 'onednn_max_cpu_isa', 'threads', 'torch']
    """
    import torch

    model, flags = _cpuinfo()
    return {"torch": torch.__version__, "cpu_model": model,
            "cpu_flags": [f for f in _KERNEL_FLAGS if f in flags],
            "cpu_capability": torch.backends.cpu.get_cpu_capability(),
            "onednn_max_cpu_isa": os.environ.get("ONEDNN_MAX_CPU_ISA", ""),
            "threads": torch.get_num_threads()}


def environment(device):
    """Versions, device, threads and the CPU's kernels of this process, as a dict (recorded with
    every result; see :func:`machine`)."""
    return {"spurlab": __version__, "python": platform.python_version(), "device": str(device),
            **machine()}


def read_gzip_json(path, *, what, formats, build, error, hint=""):
    """The document of a shipped gzipped JSON file whose ``"format"`` is one of ``formats``, or
    ``error`` (an exception class) naming the file and what is wrong: missing (with the
    command ``build`` that makes it, and ``hint``), corrupt, or of another format. Nothing is
    downloaded. ``what`` names the kind of file in the messages (``'atlas'``, ``'drivers'``)."""
    import gzip
    import json
    from pathlib import Path

    path = Path(path)
    if not path.is_file():
        raise error(f"no {what} file at {path}: build it with `python {build} --out {path}` "
                    f"(about an hour on 2 cores){hint}")
    try:
        with gzip.open(path, "rt") as f:
            doc = json.load(f)
    except (OSError, EOFError, ValueError) as exc:
        raise error(f"{what} file {path} is corrupt (not gzipped JSON: {exc}); rebuild it with "
                    f"`python {build}`") from None
    if not isinstance(doc, dict) or doc.get("format") not in formats:
        got = doc.get("format") if isinstance(doc, dict) else type(doc).__name__
        raise error(f"{path} is not a spurlab {what} file: format must be one of "
                    f"{list(formats)}; got {got!r}")
    return doc


__all__ = ["atomic_write_bytes", "atomic_write_text", "environment", "jsonable", "machine",
           "read_gzip_json", "save_figure"]
