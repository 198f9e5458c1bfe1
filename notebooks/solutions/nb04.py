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


def carrier_shares(results):
    """The carriers' share among the c1 samples the hardest arm pruned, and their share of c1,
    means over the seeds of ``results`` (the live run); the occupancy figure draws both (the bar,
    the dashed line). Each arm records them when it prunes (``spurlab.occupancy``).

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> r = NS(arms={"hardest": NS(carrier_share_pruned=0.5, carrier_share_target=0.3)})
    >>> carrier_shares([r])
    (0.5, 0.3)
    """
    arms = [r.arms["hardest"] for r in results]
    return (float(np.mean([a.carrier_share_pruned for a in arms])),
            float(np.mean([a.carrier_share_target for a in arms])))
