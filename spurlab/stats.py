"""Is an effect real or noise? Intervals over test images and over seeds.

- :func:`difference_interval`: the difference of two proportions with the (wider) interval of
  independent samples (the shortcut's excess SMR: baseline minus the no-carrier model over the
  stamped test images).
- :func:`seed_interval`: the mean of per-seed values with a 95% t-interval over seeds (does
  pruning the hardest beat random? only if the interval of their difference excludes 0).
- :func:`shortcut_verdict`: whether a shortcut was learned at all, before anyone reports how
  much of it pruning removed.

Examples
--------
>>> v = shortcut_verdict([1, 1, 0, 1] * 50, [0, 0, 0, 1] * 50)
>>> v["learned"], round(v["excess_smr"], 2)
(True, 0.5)
>>> shortcut_verdict([0, 1, 0, 0] * 50, [0, 0, 1, 0] * 50)["learned"]
False
>>> shortcut_verdict([1] * 32 + [0] * 701, [1] * 24 + [0] * 709)["learned"]   # 4.4% vs 3.3%
False
"""

from __future__ import annotations

import math

import numpy as np

# two-sided 95% critical values of Student's t for 1..30 degrees of freedom (then ~normal)
_T95 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179,
        2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064,
        2.060, 2.056, 2.052, 2.048, 2.045, 2.042]


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


def seed_interval(values):
    """Mean over seeds with a 95% t-interval (NaNs and Nones dropped).

    Returns
    -------
    dict
        ``mean``, ``sd``, ``ci95`` ([lo, hi]; infinite with one seed) and ``n``.

    Examples
    --------
    >>> r = seed_interval([0.10, 0.12, 0.08])
    >>> round(r["mean"], 2), r["ci95"][0] > 0
    (0.1, True)
    """
    v = _values("values", values)
    n = len(v)
    if n == 0:
        return {"mean": float("nan"), "sd": float("nan"), "ci95": [float("nan")] * 2, "n": 0}
    m = float(v.mean())
    if n == 1:
        return {"mean": m, "sd": 0.0, "ci95": [-math.inf, math.inf], "n": 1}
    sd = float(v.std(ddof=1))
    half = t95(n - 1) * sd / math.sqrt(n)
    return {"mean": m, "sd": sd, "ci95": [m - half, m + half], "n": int(n)}


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


def shortcut_verdict(baseline_hits, reference_hits):
    """Was a shortcut learned? The baseline's excess SMR over the no-carrier model on the
    same stamped test images, with a conservative 95% interval over the images
    (:func:`difference_interval`). Training noise (another seed, another model) is not in it:
    over several seeds use :func:`shortcut_over_seeds`, whose interval is over seeds.

    Parameters
    ----------
    baseline_hits, reference_hits : sequence of 0/1
        For each stamped test image of the other classes: 1 if the model predicted the target
        class (the baseline's SMR is their mean).

    Returns
    -------
    dict
        ``learned`` (the interval lies above 0), ``excess_smr``, ``ci95`` and ``n_test``.
    """
    p = difference_interval(baseline_hits, reference_hits)
    return {"learned": bool(p["n"] > 1 and p["ci95"][0] > 0), "excess_smr": p["mean"],
            "ci95": p["ci95"], "n_test": p["n"]}


def shortcut_over_seeds(results):
    """The shortcut verdict over seeds: the per-seed excess SMR with a t-interval over seeds.

    Parameters
    ----------
    results : list of Result
        With their reference model (``reference=True``).

    Returns
    -------
    dict
        ``learned``, ``excess_smr`` (mean), ``ci95`` (over seeds), ``n_seeds``, and
        ``learned_per_seed`` (each seed's own verdict over its test images).
    """
    ex = []
    per = []
    for r in results:
        if r.reference is None:
            raise ValueError("results must have a reference model (run with reference=True)")
        ex.append(r.baseline["smr"] - r.reference["smr"])
        per.append(None if r.shortcut is None else r.shortcut["learned"])
    return excess_over_seeds(ex, per)


def excess_over_seeds(excess, learned_per_seed=None):
    """The shortcut verdict from per-seed excess SMRs (baseline minus no-carrier model): learned
    only when the 95% t-interval over seeds lies above 0 (see :func:`shortcut_over_seeds`).

    Examples
    --------
    >>> excess_over_seeds([0.10, 0.12, 0.08])["learned"], excess_over_seeds([0.01, -0.01])["learned"]
    (True, False)
    """
    s = seed_interval(excess)
    return {"learned": bool(s["n"] > 1 and s["ci95"][0] > 0), "excess_smr": s["mean"],
            "ci95": s["ci95"], "n_seeds": s["n"],
            "learned_per_seed": list(learned_per_seed) if learned_per_seed is not None
            else [None] * s["n"]}


def compare_arms(results, a, b, metric="smr"):
    """Does arm ``a`` differ from arm ``b``? The per-seed difference of ``metric`` (``a - b``)
    with a 95% t-interval over seeds; ``differs`` only when it excludes 0.

    Examples
    --------
    >>> # rs = sl.run_seeds(cfg, range(5), arms=["hardest", "random"])
    >>> # compare_arms(rs, "hardest", "random")["differs"]
    """
    d = [r.arms[a]["metrics"][metric] - r.arms[b]["metrics"][metric] for r in results]
    return {**seed_difference(d), "a": a, "b": b, "metric": metric}


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


def difference_text(lead, other, difference, metric="smr"):
    """One line for a :func:`seed_difference` of ``lead`` minus ``other``: the mean, its 95%
    interval over seeds and whether that excludes 0.

    Examples
    --------
    >>> difference_text("hardest", "random", seed_difference([-0.05, -0.07, -0.06]))
    'hardest minus random, smr: -0.060, 95% interval over 3 seeds [-0.085, -0.035]: excludes 0'
    """
    lo, hi = difference["ci95"]
    return (f"{lead} minus {other}, {metric}: {difference['mean']:+.3f}, 95% interval over "
            f"{difference['n']} seeds [{lo:+.3f}, {hi:+.3f}]: "
            + ("excludes 0" if difference["differs"] else "includes 0, not shown to differ"))


def verdict_text(verdict):
    """One line saying whether a shortcut was learned, with its interval."""
    lo, hi = verdict["ci95"]
    what = (f"excess SMR {verdict['excess_smr']:+.3f}, 95% interval [{lo:+.3f}, {hi:+.3f}] "
            + (f"over {verdict['n_test']} stamped test images" if "n_test" in verdict
               else f"over {verdict['n_seeds']} seeds"))
    if verdict["learned"]:
        return f"shortcut learned ({what})"
    return f"no shortcut learned ({what}): pruning figures are noise"


__all__ = ["compare_arms", "difference_interval", "difference_text", "excess_over_seeds",
           "excludes_zero", "seed_difference", "seed_interval", "shortcut_over_seeds",
           "shortcut_verdict", "t95", "verdict_text"]
