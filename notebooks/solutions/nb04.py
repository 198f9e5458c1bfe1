"""Solutions to notebook 04's exercises (severing the shortcut by pruning)."""

import math

import numpy as np


def prune_hardest_per_class(scores, labels, ratio):
    """Sorted indices to keep after removing the ``round(ratio * n_k)`` highest-scoring samples
    of every class ``k`` (what ``spurlab.prune(scores, labels, ratio)`` does).

    Examples
    --------
    >>> prune_hardest_per_class(np.array([0.1, 0.9, 0.5, 0.2]), np.array([0, 0, 1, 1]), 0.5)
    array([0, 3])
    """
    scores, labels = np.asarray(scores, dtype=float), np.asarray(labels)
    keep = np.ones(len(labels), dtype=bool)
    for k in np.unique(labels):
        idx = np.flatnonzero(labels == k)
        n_remove = round(ratio * len(idx))
        if n_remove > 0:
            hardest_first = idx[np.argsort(-scores[idx], kind="stable")]
            keep[hardest_first[:n_remove]] = False
    return np.flatnonzero(keep)


def excess_removed(smr_base, smr_pruned, smr_ref):
    """Share of the baseline's excess SMR (over the no-carrier reference) that pruning removed;
    NaN when the baseline has no excess.

    Examples
    --------
    >>> round(excess_removed(0.20, 0.08, 0.02), 3)
    0.667
    """
    excess = smr_base - smr_ref
    if excess <= 0:
        return math.nan
    return (smr_base - smr_pruned) / excess


def which_control():
    """The control that separates "pruning the hardest removed the hard carriers" from "it
    removed hard samples in general", and what the run says. Only the carrier-sparing arm
    changes one thing: it removes as many of the hardest samples of every class, but never a
    carrier. Random and easiest pruning change which samples go, and both explanations predict
    that they do less. In notebook 04's live run (and in the paper's mechanism) sparing the
    carriers kept the SMR high: the hard carriers are what mattered.

    Examples
    --------
    >>> which_control()
    ('hardest/sparing', 'hard carriers')
    """
    return "hardest/sparing", "hard carriers"


def hard_carriers(results):
    """The share of the hard carriers (the hardest quarter by early EL2N) the hardest arm
    removed, and the share of all carriers it removed, means over the seeds of ``results`` (the
    live run); the left panel of the figure draws both (the bar, the short line). Each arm
    records them when it prunes (``spurlab.carriers_by_difficulty``).

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> r = NS(carriers=40, arms={"hardest": NS(hard_removed=0.9, carriers_pruned=10)})
    >>> hard_carriers([r])
    (0.9, 0.25)
    """
    return (float(np.mean([r.arms["hardest"].hard_removed for r in results])),
            float(np.mean([r.arms["hardest"].carriers_pruned / r.carriers for r in results])))
