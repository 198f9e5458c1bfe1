"""Data pruning: keep all but the hardest (or easiest, or a random) fraction of samples.

The paper's label-free recipe removes the top ``p`` fraction of **each class** by early EL2N
(class-balanced, as its reference code does), then retrains a fresh model. With spurious
information ("identifiable" setting) the **oracle** variant removes the hardest ``p`` fraction of
the group that carries the feature only.
"""

from __future__ import annotations

import numpy as np

from ._validate import as_score_array, check_choice, check_fraction, check_seed
from .defaults import DEFAULTS

STRATEGIES = ("hardest", "easiest", "random")


def prune(scores, labels, ratio, *, strategy=DEFAULTS["strategy"], per_class=True, classes=None,
          within=None, exclude=None, seed=DEFAULTS["seed"]):
    """Return the sorted indices of the samples to **keep**.

    Parameters
    ----------
    scores : array-like (N,)
        Hardness per sample (higher = harder), e.g. early EL2N. Ignored by ``'random'``.
    labels : array-like (N,)
        Class of each sample.
    ratio : float in [0, 1)
        Fraction to remove: of each class (``per_class``), of the whole set, or of the
        ``within`` group.
    strategy : {'hardest', 'easiest', 'random'}
    per_class : bool
        Remove ``round(ratio * n_k)`` from every class ``k`` (class-balanced).
    classes : sequence of int, optional
        Prune only these classes (e.g. only ``c1``); the others are kept whole.
    within : bool array-like (N,), optional
        Candidate mask: only these samples may be removed, ``ratio`` is a fraction of them
        (oracle pruning: ``within=carrier``).
    exclude : bool array-like (N,), optional
        Samples that are never removed, while the number removed from each pool is still
        ``round(ratio * n)`` counted with them (the carrier-sparing control:
        ``exclude=carrier`` removes as many samples as the plain arm, none of them carriers).
    seed : int
        Seeds ``'random'``. Ties in the scores are broken by index (stable sort).

    Raises
    ------
    ValueError
        On a ratio outside [0, 1), unknown strategy, mismatched shapes, or a prune that would
        leave some class without samples.

    Examples
    --------
    >>> import numpy as np
    >>> prune(np.array([0.1, 0.9, 0.5, 0.2]), np.array([0, 0, 1, 1]), 0.5)
    array([0, 3])
    """
    labels = np.asarray(labels.cpu() if hasattr(labels, "cpu") else labels)
    if labels.ndim != 1:
        raise ValueError(f"labels must be 1-D; got shape {labels.shape}")
    n = len(labels)
    ratio = check_fraction("ratio", ratio, high_open=True)
    check_choice("strategy", strategy, STRATEGIES)
    seed = check_seed(seed)
    s = np.zeros(n) if strategy == "random" and scores is None else as_score_array("scores", scores, n)
    cand = np.ones(n, dtype=bool)
    if within is not None:
        w = np.asarray(within.cpu() if hasattr(within, "cpu") else within)
        if w.shape != (n,) or w.dtype != bool:
            raise ValueError(f"within must be a boolean mask of shape ({n},); got {w.dtype} {w.shape}")
        cand &= w
    if classes is not None:
        classes = [int(c) for c in np.atleast_1d(classes)]
        unknown = sorted(set(classes) - set(np.unique(labels).tolist()))
        if unknown:
            raise ValueError(f"classes must be labels present in the data; {unknown} are not "
                             f"(present: {np.unique(labels).tolist()})")
        cand &= np.isin(labels, classes)

    spared = np.zeros(n, dtype=bool)
    if exclude is not None:
        e = np.asarray(exclude.cpu() if hasattr(exclude, "cpu") else exclude)
        if e.shape != (n,) or e.dtype != bool:
            raise ValueError(f"exclude must be a boolean mask of shape ({n},); got {e.dtype} {e.shape}")
        spared = e

    rng = np.random.default_rng(seed)
    pools = ([np.flatnonzero(cand & (labels == k)) for k in np.unique(labels)] if per_class
             else [np.flatnonzero(cand)])
    removed = []
    for pool in pools:
        k = int(round(ratio * len(pool)))
        pool = pool[~spared[pool]]
        if k > len(pool):
            raise ValueError(f"ratio={ratio:g} would remove {k} samples from a pool with only "
                             f"{len(pool)} that exclude does not spare; use a smaller ratio")
        if k == 0:
            continue
        if strategy == "random":
            removed.append(rng.choice(pool, size=k, replace=False))
            continue
        order = np.argsort(-s[pool] if strategy == "hardest" else s[pool], kind="stable")
        removed.append(pool[order[:k]])
    keep = np.ones(n, dtype=bool)
    if removed:
        keep[np.concatenate(removed)] = False
    for k in np.unique(labels):
        if not keep[labels == k].any():
            raise ValueError(f"ratio={ratio:g} would remove every sample of class {k} "
                             f"({int((labels == k).sum())} samples); use a smaller ratio")
    return np.flatnonzero(keep)
