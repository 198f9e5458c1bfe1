"""Argument checks shared by the public API.

Every check raises ``ValueError`` (or ``TypeError`` for a wrong type) whose message names the
parameter, the value received and what is allowed, so a learner can fix the call at once.
"""

from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as np
import torch


def check_fraction(name, value, *, low=0.0, high=1.0, low_open=False, high_open=False):
    """Return ``value`` as float after checking ``low <= value <= high`` (open ends optional)."""
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a number, got {value!r} ({type(value).__name__})")
    value = float(value)
    lo_ok = value > low if low_open else value >= low
    hi_ok = value < high if high_open else value <= high
    if math.isnan(value) or not (lo_ok and hi_ok):
        lb = "(" if low_open else "["
        rb = ")" if high_open else "]"
        raise ValueError(f"{name} must be in {lb}{low:g}, {high:g}{rb}, got {value!r}")
    return value


def check_int(name, value, *, low=None, high=None):
    """Return ``value`` as int after checking its type and ``low <= value <= high``."""
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(f"{name} must be an integer, got {value!r} ({type(value).__name__})")
    value = int(value)
    if (low is not None and value < low) or (high is not None and value > high):
        rng = f"[{'-inf' if low is None else low}, {'inf' if high is None else high}]"
        raise ValueError(f"{name} must be an integer in {rng}, got {value}")
    return value


def check_choice(name, value, choices):
    """Return ``value`` after checking it is one of ``choices``."""
    if value not in choices:
        allowed = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name} must be one of {allowed}; got {value!r}")
    return value


def check_seed(seed):
    """Seeds are non-negative integers below 2**63."""
    return check_int("seed", seed, low=0, high=2**63 - 1)


def check_seeds(seeds):
    """A non-empty list of distinct seeds as Python ints: integer-valued floats are taken
    (``2.0`` is 2), others refused, never truncated (``[1.9, 1.2]`` is an error).

    Examples
    --------
    >>> check_seeds(range(3)), check_seeds([np.int64(4), 5.0])
    ([0, 1, 2], [4, 5])
    """
    if isinstance(seeds, (str, bytes)) or not hasattr(seeds, "__iter__"):
        raise TypeError(f"seeds must be a list of distinct non-negative integers; got {seeds!r}")
    seeds = list(seeds)
    if not seeds:
        raise ValueError("seeds must hold at least one seed; got an empty sequence")
    out = []
    for s in seeds:
        if isinstance(s, (float, np.floating)):
            if not float(s).is_integer():
                raise ValueError(f"seeds must be integers; got {s!r} in {seeds}")
            s = int(s)
        if isinstance(s, (bool, np.bool_)) or not isinstance(s, Integral):
            raise TypeError(f"seeds must hold integers; got {s!r} ({type(s).__name__}) in {seeds}")
        out.append(check_seed(int(s)))
    dup = sorted({s for s in out if out.count(s) > 1})
    if dup:
        raise ValueError(f"seeds must be distinct (a repeated seed trains the same model twice); "
                         f"got {seeds} with {dup} repeated")
    return out


def as_index_array(name, values, n):
    """Return a 1-D int64 numpy array of indices into a set of size ``n``, checked."""
    arr = np.asarray(values.cpu() if isinstance(values, torch.Tensor) else values)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D list of indices, got shape {arr.shape}")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"{name} must hold integers, got dtype {arr.dtype}")
    arr = arr.astype(np.int64)
    if arr.size and (arr.min() < 0 or arr.max() >= n):
        raise ValueError(f"{name} must index 0..{n - 1}, got values from {arr.min()} to {arr.max()}")
    if len(np.unique(arr)) != len(arr):
        raise ValueError(f"{name} must not repeat an index")
    return arr


def as_score_array(name, values, n):
    """Return a 1-D float64 numpy array of ``n`` finite per-sample scores."""
    arr = np.asarray(values.detach().cpu() if isinstance(values, torch.Tensor) else values,
                     dtype=np.float64)
    if arr.shape != (n,):
        raise ValueError(f"{name} must have one value per sample, shape ({n},); got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite; got {int((~np.isfinite(arr)).sum())} NaN/inf values")
    return arr


def check_bool(name, value):
    """Return ``value`` after checking it is ``True`` or ``False``."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r} ({type(value).__name__})")
    return bool(value)


def check_finite_values(name, value, *, low=None, high=None):
    """Return ``value`` (a number, a sequence or an array of numbers) as a float32 tensor after
    checking that every entry is finite and, optionally, in ``[low, high]``."""
    if value is None or isinstance(value, (str, bytes, bool)):
        raise TypeError(f"{name} must be a number or a sequence of numbers, got {value!r}")
    try:
        t = torch.as_tensor(np.asarray(value.detach().cpu() if isinstance(value, torch.Tensor)
                                       else value, dtype=np.float64))
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a number or a sequence of numbers, got {value!r}") from None
    if t.numel() == 0:
        raise ValueError(f"{name} must hold at least one number, got {value!r}")
    if not torch.isfinite(t).all():
        shown = value if t.numel() <= 4 else f"{int((~torch.isfinite(t)).sum())} NaN/inf entries"
        raise ValueError(f"{name} must be finite, got {shown!r}")
    lo, hi = t.min().item(), t.max().item()
    if (low is not None and lo < low) or (high is not None and hi > high):
        shown = value if t.numel() <= 4 else f"values from {lo:g} to {hi:g}"
        rng = f"[{'-inf' if low is None else f'{low:g}'}, {'inf' if high is None else f'{high:g}'}]"
        raise ValueError(f"{name} must be in {rng}, got {shown!r}")
    return t.float()


def check_image_layout(name, shape):
    """Check that ``shape`` is a 4-D ``(N, C, H, W)`` image shape; a channels-last
    ``(N, H, W, C)`` shape (last axis 1 or 3, second axis not) gets the permute that fixes it."""
    shape = tuple(int(s) for s in shape)
    if len(shape) != 4:
        raise ValueError(f"{name} must have shape (N, C, H, W); got {shape}")
    if shape[-1] in (1, 3) and shape[1] not in (1, 3):
        raise ValueError(f"{name} of shape {shape}: looks channels-last (N, H, W, C); use "
                         f"images.permute(0, 3, 1, 2) to get (N, C, H, W) = "
                         f"{(shape[0], shape[3], shape[1], shape[2])}")
    return shape


def check_images(name, images, *, float_dtype=None, unit_range=False):
    """Return ``images`` after checking it is a ``(N, C, H, W)`` tensor (layout as
    :func:`check_image_layout`), uint8 or floating point (of ``float_dtype`` when given, e.g.
    the model's), with finite values, in ``[0, 1]`` when ``unit_range``."""
    if not isinstance(images, torch.Tensor):
        hint = " (use torch.from_numpy(images))" if isinstance(images, np.ndarray) else ""
        raise TypeError(f"{name} must be a torch.Tensor of shape (N, C, H, W); got "
                        f"{type(images).__name__}{hint}")
    check_image_layout(name, images.shape)
    if images.dtype == torch.uint8:
        return images
    if not images.is_floating_point():
        raise TypeError(f"{name} must be floating point (values in [0, 1]) or uint8 (0-255); got "
                        f"dtype {images.dtype}")
    if float_dtype is not None and images.dtype != float_dtype:
        raise TypeError(f"{name} have dtype {images.dtype} but the model's parameters are "
                        f"{float_dtype}; use images.to({float_dtype}) (or convert the model)")
    if images.numel():
        lo, hi = (v.item() for v in torch.aminmax(images.detach()))
        if not (math.isfinite(lo) and math.isfinite(hi)):
            bad = int((~torch.isfinite(images)).sum())
            raise ValueError(f"{name} must be finite; found {bad} NaN/inf values")
        if unit_range and (lo < 0 or hi > 1):
            raise ValueError(f"{name} must have values in [0, 1]; got range [{lo:.3g}, {hi:.3g}] "
                             "(0-255 images: pass them as uint8, or divide by 255)")
    return images


def check_labels(name, labels, n, num_classes=None):
    """Return ``labels`` as an int64 tensor after checking it is a ``(n,)`` tensor of integers
    (any integer dtype), in ``[0, num_classes - 1]`` when ``num_classes`` is given."""
    if not isinstance(labels, torch.Tensor):
        hint = " (use torch.as_tensor(labels))" if isinstance(labels, (np.ndarray, list, tuple)) else ""
        raise TypeError(f"{name} must be a ({n},) torch.Tensor of class indices; got "
                        f"{type(labels).__name__}{hint}")
    if labels.is_floating_point() or labels.is_complex() or labels.dtype == torch.bool:
        raise TypeError(f"{name} must hold integer class indices; got dtype {labels.dtype} "
                        "(use labels.long() if the values are whole numbers)")
    if tuple(labels.shape) != (n,):
        raise ValueError(f"{name} must have shape ({n},) to match images; got {tuple(labels.shape)}")
    if n and num_classes is not None:
        lo, hi = int(labels.min()), int(labels.max())
        if lo < 0 or hi >= num_classes:
            raise ValueError(f"{name} must be class indices in [0, {num_classes - 1}] (the model has "
                             f"{num_classes} outputs); got values from {lo} to {hi}")
    return labels if labels.dtype == torch.int64 else labels.long()


def as_class_array(name, values):
    """Return ``values`` (list, numpy array or tensor) as a 1-D int64 numpy array of
    non-negative integers (an empty list is fine)."""
    arr = np.asarray(values.detach().cpu() if isinstance(values, torch.Tensor) else values)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D; got shape {arr.shape}")
    if arr.size == 0:
        return arr.astype(np.int64)
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"{name} must hold integers; got dtype {arr.dtype}"
                        + (" (fractional values are not truncated)" if np.issubdtype(arr.dtype, np.floating)
                           else ""))
    if arr.min() < 0:
        raise ValueError(f"{name} must be non-negative integers; got {int(arr.min())}")
    return arr.astype(np.int64)


def check_instance(name, value, types, what):
    """``value`` if it is one of ``types``, else a TypeError naming ``what`` is allowed."""
    if not isinstance(value, types):
        raise TypeError(f"{name} must be {what}; got {type(value).__name__}")
    return value


def _is_result(r):
    return all(hasattr(r, a) for a in ("arms", "baseline", "shortcut", "metrics", "config"))


def check_results(results, arm=None):
    """One spurlab Result or a non-empty sequence of them (one per seed), as a list; with
    ``arm``, every result must hold that arm."""
    if _is_result(results):
        results = [results]
    if isinstance(results, (str, bytes)) or not hasattr(results, "__iter__"):
        raise TypeError(f"results must be a spurlab Result or a list of them (one per seed); got "
                        f"{type(results).__name__}")
    results = list(results)
    if not results:
        raise ValueError("results must hold at least one Result; got none")
    bad = [type(r).__name__ for r in results if not _is_result(r)]
    if bad:
        raise TypeError(f"results must be spurlab Results (sl.run, sl.run_seeds); got {bad[0]}")
    for r in results if arm is not None else ():
        if arm not in r.arms:
            raise ValueError(f"arm must be an arm of every result; got {arm!r}, and seed "
                             f"{r.config.seed} ran {sorted(r.arms)}")
    return results


def check_output_path(name, path, *, folder=False):
    """Check, before any work, that ``path`` can be written, and return it with ``~`` expanded.

    A file path must not be a folder, a link, a device, a FIFO or anything but a regular file it
    would replace; a folder path must be a folder. Its folder must exist or be creatable, and
    writing there is proven by creating and removing a small probe file (a full disk, a name too
    long for the file system or a read-only mount fail here, not after training). Nothing is
    left behind: a folder made for the probe is removed again.
    """
    import errno
    import os
    import tempfile

    if not isinstance(path, (str, os.PathLike)) or not os.fspath(path):
        raise ValueError(f"{name} must be a non-empty path; got {path!r}")
    path = os.path.expanduser(os.fspath(path))
    p = os.path.abspath(path)
    if os.path.islink(p):
        raise ValueError(f"{name} must not be a link (writing would replace the link, not what it "
                         f"points to); got {path!r}")
    if folder:
        if os.path.exists(p) and not os.path.isdir(p):
            raise ValueError(f"{name} must be a folder; {path!r} is an existing file")
        target = p
    else:
        if os.path.isdir(p):
            raise ValueError(f"{name} must be a file path; {path!r} is a folder (add a file name)")
        if os.path.exists(p) and not os.path.isfile(p):
            raise ValueError(f"{name} must be a regular file; {path!r} is a device, FIFO or socket, "
                             "which writing would replace")
        if os.path.exists(p) and not os.access(p, os.W_OK):
            raise ValueError(f"{name} must be writable; {path!r} is a read-only file")
        target = os.path.dirname(p)
    existing = target
    while not os.path.exists(existing):
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        raise ValueError(f"{name} cannot be created: {existing!r} in its path is a file, not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ValueError(f"{name} cannot be written: the folder {existing!r} is read-only (choose "
                         "a writable folder)")
    made = []
    try:
        d = target
        missing = []
        while not os.path.exists(d):
            missing.append(d)
            d = os.path.dirname(d)
        for d in reversed(missing):
            os.mkdir(d)
            made.append(d)
        if folder or os.path.exists(p):        # a probe of its own beside what is there
            fd, probe = tempfile.mkstemp(dir=target, prefix=".spurlab-probe-")
            f = os.fdopen(fd, "wb")
        else:                                  # the very name: too long fails here
            probe = p
            f = open(probe, "xb")
        try:
            with f:
                f.write(b"\0" * 65536)
                f.flush()
                os.fsync(f.fileno())
        finally:
            os.remove(probe)
    except OSError as exc:
        why = {errno.ENOSPC: "the disk is full", errno.ENAMETOOLONG: "the name is too long",
               errno.EROFS: "the file system is read-only",
               errno.EACCES: "permission denied"}.get(exc.errno, exc.strerror or str(exc))
        raise ValueError(f"{name} cannot be written at {path!r}: {why}") from None
    finally:
        for d in reversed(made):
            try:
                os.rmdir(d)
            except OSError:
                pass
    return path
