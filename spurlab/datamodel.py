"""Linear datamodels: how much each training sample moves a measured number, estimated from
models retrained on random subsets of the samples (Ilyas et al., 2022, "Datamodels").

Each retraining ``j`` keeps sample ``i`` or not (``masks[j, i]``) and measures ``y[j]`` (here the
SMR). The datamodel is ``y[j] ~ b[group[j]] + sum_i w[i] * masks[j, i]``: one intercept per group
(the training seed) and one weight per sample, fitted by ridge regression with the penalty
chosen by cross-validation. ``w[i]`` is how much keeping sample ``i`` raises ``y``, i.e. how much
removing it lowers ``y``. Intervals come from a bootstrap over retrainings; the held-out
residuals of the cross-validation say how well the model predicts a new retraining.

A leaf of the learning layer: numpy only.

Examples
--------
>>> rng = np.random.default_rng(0)
>>> masks = rng.random((400, 5)) < 0.5
>>> y = masks @ np.array([0.5, 0.0, 0.0, 0.2, 0.0]) + rng.normal(0, 0.05, 400)
>>> dm = fit_datamodel(masks, y)
>>> np.round(dm.weights, 1).tolist() == [0.5, 0.0, 0.0, 0.2, 0.0]
True
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .defaults import DEFAULTS

# the ridge penalties tried by cross-validation, relative to the number of retrainings
LAMS = (0.0, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0)


@dataclass
class Datamodel:
    """A fitted linear datamodel (:func:`fit_datamodel`).

    Attributes
    ----------
    weights : ndarray (k,)
        Per sample: how much keeping it raises the measured number.
    intercepts : dict
        Per group: the number with no sample kept.
    lam : float
        The ridge penalty chosen (per retraining: the penalty is ``lam * n``).
    heldout : ndarray (n,)
        Cross-validated residuals (measured minus predicted) at ``lam``: the error to expect on a
        new retraining.
    """

    weights: np.ndarray
    intercepts: dict
    lam: float
    heldout: np.ndarray = field(repr=False)

    def predict(self, masks, groups):
        """The predicted number for each row of ``masks`` trained in ``groups``."""
        masks = np.atleast_2d(np.asarray(masks, dtype=float))
        groups = np.broadcast_to(np.asarray(groups), (len(masks),))
        unknown = sorted({int(g) for g in groups} - set(self.intercepts))
        if unknown:
            raise ValueError(f"groups must be among the fitted ones {sorted(self.intercepts)}; "
                             f"got {unknown}")
        return np.array([self.intercepts[int(g)] for g in groups]) + masks @ self.weights

    def error(self, q=0.95):
        """The ``q`` quantile of the absolute held-out residuals."""
        return float(np.quantile(np.abs(self.heldout), q))


def _check(masks, y, groups):
    masks = np.asarray(masks)
    if masks.ndim != 2 or masks.dtype != bool:
        raise ValueError(f"masks must be a 2-D boolean array (retrainings x samples); got "
                         f"dtype {masks.dtype}, shape {masks.shape}")
    y = np.asarray(y, dtype=float)
    if y.shape != (len(masks),) or not np.isfinite(y).all():
        raise ValueError(f"y must hold one finite number per retraining ({len(masks)}); got "
                         f"shape {y.shape}")
    groups = np.zeros(len(masks), int) if groups is None else np.asarray(groups)
    if groups.shape != (len(masks),):
        raise ValueError(f"groups must hold one group per retraining ({len(masks)}); got shape "
                         f"{groups.shape}")
    return masks.astype(float), y, groups.astype(int)


def _solve(x, y, groups, lam):
    """Ridge weights and per-group intercepts (the groups' means taken out first)."""
    xc, yc = x.copy(), y.copy()
    means = {}
    for g in np.unique(groups):
        at = groups == g
        means[int(g)] = (x[at].mean(0), y[at].mean())
        xc[at] -= means[int(g)][0]
        yc[at] -= means[int(g)][1]
    a = xc.T @ xc + lam * len(y) * np.eye(x.shape[1])
    w = np.linalg.lstsq(a, xc.T @ yc, rcond=None)[0]
    return w, {g: float(my - mx @ w) for g, (mx, my) in means.items()}


def fit_datamodel(masks, y, groups=None, *, lams=LAMS, folds=5, seed=DEFAULTS["seed"]):
    """Fit the linear datamodel, choosing the ridge penalty by ``folds``-fold cross-validation.

    Parameters
    ----------
    masks : bool array (n, k)
        Which samples each of ``n`` retrainings kept.
    y : array (n,)
        The number each retraining measured.
    groups : int array (n,), optional
        A group per retraining (the training seed): each gets its own intercept.
    lams : sequence of float
        Penalties to try (per retraining).
    folds : int
    seed : int
        Seeds the fold split.

    Returns
    -------
    Datamodel
    """
    x, y, groups = _check(masks, y, groups)
    if folds < 2 or len(y) < 2 * folds:
        raise ValueError(f"folds must be >= 2 with at least 2 retrainings per fold; got folds="
                         f"{folds} for {len(y)} retrainings")
    fold = np.random.default_rng(seed).permutation(len(y)) % folds
    best = None
    for lam in lams:
        res = np.empty(len(y))
        for f in range(folds):
            tr, te = fold != f, fold == f
            w, b = _solve(x[tr], y[tr], groups[tr], lam)
            res[te] = y[te] - (np.array([b.get(int(g), np.nan) for g in groups[te]])
                               + x[te] @ w)
        mse = float(np.nanmean(res ** 2))
        if best is None or mse < best[0]:
            best = (mse, lam, res)
    _, lam, res = best
    w, b = _solve(x, y, groups, lam)
    return Datamodel(w, b, float(lam), res)


def bootstrap_weights(masks, y, groups=None, *, lam, reps=500, seed=DEFAULTS["seed"]):
    """The weights refitted on ``reps`` bootstrap resamples of the retrainings (each group
    resampled within itself), at penalty ``lam``: an array ``(reps, k)``."""
    x, y, groups = _check(masks, y, groups)
    rng = np.random.default_rng(seed)
    by_group = [np.flatnonzero(groups == g) for g in np.unique(groups)]
    out = np.empty((reps, x.shape[1]))
    for r in range(reps):
        idx = np.concatenate([rng.choice(at, len(at)) for at in by_group])
        out[r] = _solve(x[idx], y[idx], groups[idx], lam)[0]
    return out


def spearman(a, b):
    """Spearman's rank correlation of two equal-length arrays (average ranks for ties).

    Examples
    --------
    >>> spearman([1, 2, 3, 4], [10, 20, 40, 30])
    0.8
    """
    def ranks(v):
        v = np.asarray(v, dtype=float)
        order = np.argsort(v, kind="mergesort")
        r = np.empty(len(v))
        r[order] = np.arange(len(v))
        for value in np.unique(v):                      # ties share their mean rank
            at = v == value
            r[at] = r[at].mean()
        return r

    ra, rb = ranks(a), ranks(b)
    ra, rb = ra - ra.mean(), rb - rb.mean()
    den = np.sqrt((ra ** 2).sum() * (rb ** 2).sum())
    return float(round((ra * rb).sum() / den, 12)) if den > 0 else float("nan")


def interval(samples, q=0.95):
    """The central ``q`` percentile interval of bootstrap samples."""
    s = np.asarray(samples, dtype=float)
    s = s[np.isfinite(s)]
    if len(s) == 0:
        return [float("nan"), float("nan")]
    return [float(np.quantile(s, (1 - q) / 2)), float(np.quantile(s, (1 + q) / 2))]


__all__ = ["Datamodel", "LAMS", "bootstrap_weights", "fit_datamodel", "interval", "spearman"]
