"""Intervals over test images and over seeds: the statistics every verdict stands on.

- :func:`difference_interval`: the difference of two proportions with the (wider) interval of
  independent samples (the shortcut's excess SMR: baseline minus the no-carrier model over the
  stamped test images).
- :func:`seed_interval`: the mean of per-seed values with a 95% t-interval over seeds (cut at
  the metric's range with ``bounds=(0, 1)`` for a rate or an accuracy).
- :func:`seed_difference`: per-seed differences with their interval and whether it excludes 0.

What these numbers *say* (learned or not, which arm is better) is :mod:`spurlab.verdicts`'s job.

Examples
--------
>>> round(difference_interval([1, 1, 0, 1] * 50, [0, 0, 0, 1] * 50)["mean"], 2)
0.5
>>> seed_interval([0.10, 0.12, 0.08])["n"]
3
"""

from __future__ import annotations

import math

import numpy as np

# two-sided 95% critical values of Student's t for 1..30 degrees of freedom (then ~normal)
_T95 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179,
        2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064,
        2.060, 2.056, 2.052, 2.048, 2.045, 2.042]


RATE = (0.0, 1.0)        # the range of a rate, an accuracy or a share: seed_interval(bounds=RATE)


def t95(df):
    """Two-sided 95% critical value of Student's t with ``df`` degrees of freedom."""
    if df < 1:
        return float("nan")
    return _T95[df - 1] if df <= len(_T95) else 1.96


def _values(name, values):
    v = np.asarray([x for x in values if x is not None], dtype=float)
    if v.ndim != 1:
        raise ValueError(f"{name} must be a 1-D sequence of numbers; got shape {v.shape}")
    return v[~np.isnan(v)]


def seed_interval(values, bounds=None):
    """Mean over seeds with a 95% t-interval (NaNs and Nones dropped).

    Parameters
    ----------
    values : sequence of float
        One value per seed.
    bounds : (float, float), optional
        The range the metric cannot leave, e.g. ``(0, 1)`` for a rate (SMR, a share) or an
        accuracy. The t-interval is then cut at it: ``[max(lo, mean - h), min(hi, mean + h)]``
        (with one seed, the whole range). Few seeds spread far apart give a t-interval that
        reaches below 0 or above 1; cutting it there is exact, not cosmetic: the true mean of
        a rate lies in ``[0, 1]``, so the part of the interval outside holds it with
        probability 0 and the cut interval covers the mean exactly as often as the t-interval
        does (95%). It still contains the mean drawn as the bar, and is the t-interval itself
        wherever that fits. A t-interval on the logit scale would need an arbitrary clamp
        ``eps`` for seeds at 0 or 1 (a common SMR) that moves the interval, and it brackets a
        back-transformed logit mean, not the mean a bar shows; a percentile bootstrap over 2-5
        seeds is far too narrow (2 seeds: it never leaves their range). Default ``None``: the
        plain t-interval, for differences and other unbounded quantities.

    Returns
    -------
    dict
        ``mean``, ``sd``, ``ci95`` ([lo, hi]; infinite with one seed, or ``bounds``) and ``n``.

    Raises
    ------
    ValueError
        With ``bounds``, when a value lies outside them (a rate above 1 is a mistake upstream,
        not something to cut).

    Examples
    --------
    >>> r = seed_interval([0.10, 0.12, 0.08])
    >>> round(r["mean"], 2), r["ci95"][0] > 0
    (0.1, True)
    >>> [round(x, 3) for x in seed_interval([0.0, 0.0, 0.02, 0.9, 0.95])["ci95"]]
    [-0.251, 0.999]
    >>> [round(x, 3) for x in seed_interval([0.0, 0.0, 0.02, 0.9, 0.95], bounds=(0, 1))["ci95"]]
    [0.0, 0.999]
    """
    v = _values("values", values)
    if bounds is not None:
        lo, hi = _bounds(bounds)
        outside = v[(v < lo) | (v > hi)]
        if len(outside):
            raise ValueError(f"values must lie within bounds [{lo:g}, {hi:g}]; got "
                             f"{outside.tolist()}")
    n = len(v)
    if n == 0:
        return {"mean": float("nan"), "sd": float("nan"), "ci95": [float("nan")] * 2, "n": 0}
    m = float(v.mean())
    if n == 1:
        ci = [-math.inf, math.inf]
        sd = 0.0
    else:
        sd = float(v.std(ddof=1))
        half = t95(n - 1) * sd / math.sqrt(n)
        ci = [m - half, m + half]
    if bounds is not None:
        ci = [max(lo, ci[0]), min(hi, ci[1])]
    return {"mean": m, "sd": sd, "ci95": ci, "n": int(n)}


def _bounds(bounds):
    try:
        lo, hi = (float(b) for b in bounds)
    except (TypeError, ValueError):
        raise ValueError(f"bounds must be a (low, high) pair of numbers; got {bounds!r}") from None
    if not lo < hi:
        raise ValueError(f"bounds must have low < high; got {bounds!r}")
    return lo, hi


def excludes_zero(interval):
    """True when a ``[lo, hi]`` interval lies entirely above or below 0."""
    lo, hi = interval
    return bool(lo > 0 or hi < 0)


def difference_interval(a, b):
    """Difference of two proportions ``mean(a) - mean(b)`` with a conservative 95% interval:
    the items are treated as independent samples of each (Wald), which is wider than the
    paired interval when the two are positively correlated, as two models scored on the same
    images are.

    Examples
    --------
    >>> r = difference_interval([1, 0] * 100, [0, 0, 0, 1] * 50)
    >>> round(r["mean"], 2), r["ci95"][0] > 0
    (0.25, True)
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.ndim != 1 or b.ndim != 1:
        raise ValueError(f"a and b must be 1-D; got shapes {a.shape} and {b.shape}")
    if len(a) == 0 or len(b) == 0:
        return {"mean": float("nan"), "ci95": [float("nan"), float("nan")], "n": 0}
    pa, pb = float(a.mean()), float(b.mean())
    se = math.sqrt(pa * (1 - pa) / len(a) + pb * (1 - pb) / len(b))
    # never narrower than one image's worth: 0/n vs 0/n has no spread but is no evidence
    half = max(1.96 * se, 1.0 / min(len(a), len(b)))
    m = pa - pb
    return {"mean": m, "ci95": [m - half, m + half], "n": int(min(len(a), len(b)))}


def proportion_interval(k, n):
    """A share ``k / n`` of test images with its 95% Wilson score interval (sound at 0 and at
    ``n``, where a Wald interval collapses to a point).

    Examples
    --------
    >>> r = proportion_interval(0, 1000)
    >>> r["mean"], round(r["ci95"][1], 4)
    (0.0, 0.0038)
    """
    k, n = int(k), int(n)
    if n <= 0 or not 0 <= k <= n:
        raise ValueError(f"k must be a count in [0, n] with n >= 1; got k={k}, n={n}")
    z = 1.96
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return {"mean": p, "ci95": [max(0.0, centre - half), min(1.0, centre + half)], "n": n}


def seed_difference(differences):
    """Per-seed differences (a - b) with their 95% t-interval over seeds
    (:func:`seed_interval`) and ``differs``: True only when the interval excludes 0.

    Examples
    --------
    >>> seed_difference([-0.05, -0.07, -0.06])["differs"], seed_difference([0.1, -0.1])["differs"]
    (True, False)
    """
    s = seed_interval(differences)
    return {**s, "differs": bool(s["n"] > 1 and excludes_zero(s["ci95"]))}


def summarize(values):
    """Mean, standard deviation and count of a list of numbers (NaNs and Nones dropped).

    Examples
    --------
    >>> summarize([1.0, 3.0])
    {'mean': 2.0, 'sd': 1.4142135623730951, 'n': 2}
    """
    v = np.asarray([x for x in values if x is not None and not math.isnan(x)], dtype=float)
    if len(v) == 0:
        return {"mean": float("nan"), "sd": float("nan"), "n": 0}
    return {"mean": float(v.mean()), "sd": float(v.std(ddof=1)) if len(v) > 1 else 0.0,
            "n": int(len(v))}


def nan_if_none(x):
    """``x`` as a float, NaN for None (how JSON records hold an undefined number)."""
    return float("nan") if x is None else float(x)


__all__ = ["RATE", "difference_interval", "excludes_zero", "nan_if_none", "proportion_interval",
           "seed_difference",
           "seed_interval", "summarize", "t95"]
