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
