"""The arms of the protocol: their names, which samples each prunes, which labels it uses, and
whom it took from the target class.

An arm is ``'strategy'`` or ``'strategy/scope'`` (``'hardest'``, ``'random/global'``,
``'hardest/oracle'``), or ``'jtt'`` (upweight, do not prune). These functions work on arrays
alone; :func:`spurlab.arm` runs an arm (prune, retrain, evaluate).

Examples
--------
>>> parse_arm("hardest/oracle"), labels_used("hardest/oracle"), labels_used("random")
(('hardest', 'oracle'), 'training', 'none')
"""

from __future__ import annotations

import math

import numpy as np

from ._validate import check_choice
from .config import ATTRIBUTION_ARM, SCOPES, SPECIAL_ARMS
from .defaults import DEFAULTS
from .prune import STRATEGIES
from .scores import percentile_within


def arm_name(strategy, scope):
    """Name of a pruning arm: ``'hardest'``, ``'random'``, ``'hardest/target'``, ..."""
    return strategy if scope == "class" else f"{strategy}/{scope}"


def parse_arm(name):
    """``'hardest/oracle'`` -> ``('hardest', 'oracle')``; scope defaults to ``'class'``.

    The special arms parse to ``(name, 'class')``: ``'jtt'`` (no pruning: JTT-style
    upweighting of the samples the baseline misclassifies at ``score_epoch``, repeated
    ``jtt_upweight`` times), ``'dfr'`` and ``'afr'`` (the ERM model's last layer retrained on a
    held-out split: :mod:`spurlab.lastlayer`); ``'attribution'`` (prune as many samples as
    ``'hardest'`` would, those a gradient attribution blames most for the shortcut:
    :mod:`spurlab.attribution`) parses to ``('attribution', 'global')``.
    """
    if not isinstance(name, str):
        raise TypeError(f"arm must be a str such as 'hardest' or 'hardest/oracle'; got "
                        f"{name!r} ({type(name).__name__})")
    if name in SPECIAL_ARMS:
        return name, "class"
    if name == ATTRIBUTION_ARM:
        return name, "global"
    strategy, _, scope = name.partition("/")
    check_choice("arm strategy", strategy, STRATEGIES + SPECIAL_ARMS)
    check_choice("arm scope", scope or "class", SCOPES)
    return strategy, scope or "class"


def labels_used(name):
    """Which group (carrier) labels arm ``name`` needs beyond the class labels: ``'training'``
    for the oracle and the carrier-sparing control (they are told who carries the feature),
    ``'validation'`` for DFR (its held-out split is balanced by group), ``'none'`` for
    label-free pruning, the AFR-style arm and JTT (whose error set needs no group label; their
    papers tune them on a group-labelled validation split, which spurlab's fixed
    ``jtt_upweight`` and AFR weight sharpness do not)."""
    strategy, scope = parse_arm(name)
    if strategy in ("dfr", ATTRIBUTION_ARM):
        return "validation"
    return "training" if scope in ("oracle", "sparing") else "none"


def check_arms(arms):
    """A list of arm names, each checked (a single string is refused: ``arms=['hardest']``)."""
    if isinstance(arms, str):
        raise TypeError(f"arms must be a list of arm names, e.g. [{arms!r}]; got the string "
                        f"{arms!r}")
    arms = list(arms)
    for a in arms:
        parse_arm(a)
    if len(set(arms)) != len(arms):
        raise ValueError(f"arms must not repeat a name; got {arms}")
    return arms


def prune_arm(name, scores, labels, ratio, *, carrier=None, target_class=None, seed=DEFAULTS["seed"]):
    """Indices to keep for pruning arm ``name`` (``strategy`` or ``strategy/scope``).

    Scopes: ``class`` (the top ``ratio`` of every class, label-free), ``global`` (of the
    whole set), ``target`` (of ``target_class`` only), ``oracle`` (of the carriers only: the
    identifiable setting, needs ``carrier``), ``sparing`` (the control: as many of every class
    as ``class`` removes, never a carrier; needs ``carrier``).

    Examples
    --------
    >>> import numpy as np
    >>> prune_arm("hardest/target", np.arange(6.0), np.array([0, 0, 0, 1, 1, 1]), 0.34,
    ...           target_class=1).tolist()
    [0, 1, 2, 3, 4]
    """
    from .prune import prune

    strategy, scope = parse_arm(name)
    if strategy in SPECIAL_ARMS or strategy == ATTRIBUTION_ARM:
        raise ValueError(f"arm {strategy!r} does not prune by scores; see spurlab.arm")
    kw = {"per_class": scope in ("class", "target", "oracle", "sparing")}
    if scope == "target":
        if target_class is None:
            raise ValueError("scope 'target' needs target_class")
        kw["classes"] = [target_class]
    if scope == "oracle":
        if carrier is None or not np.asarray(carrier).any():
            raise ValueError("scope 'oracle' needs carriers (carrier mask with at least one "
                             "True); prevalence is 0")
        kw["within"] = np.asarray(carrier, dtype=bool)
    if scope == "sparing":
        if carrier is None:
            raise ValueError("scope 'sparing' needs carrier (the mask of samples to spare)")
        kw["exclude"] = np.asarray(carrier, dtype=bool)
    return prune(scores, labels, ratio, strategy=strategy, seed=seed, **kw)


def occupancy(pruned, carrier, labels, target_class):
    """Whom pruning took from the target class: the carriers' share among the target-class
    samples it removed against their share of the target class.

    ``occupancy`` is the ratio of the two shares (NaN when nothing was pruned from the target
    class or it has no carriers). It counts carriers, not which ones: an arm can remove fewer
    carriers than their share and still remove the hard ones that do the damage.

    Examples
    --------
    >>> import numpy as np
    >>> occupancy([0, 1], np.array([1, 1, 0, 0, 0, 0], bool), np.zeros(6, int), 0)["occupancy"]
    3.0
    """
    carrier = np.asarray(carrier, dtype=bool)
    labels = np.asarray(labels)
    pruned = np.asarray(pruned, dtype=np.int64)
    in_target = pruned[labels[pruned] == target_class]
    n_target = int((labels == target_class).sum())
    share_pruned = float(carrier[in_target].mean()) if len(in_target) else float("nan")
    share_class = float(carrier[labels == target_class].mean()) if n_target else float("nan")
    ratio = share_pruned / share_class if share_class > 0 else float("nan")
    return {"target_pruned": int(len(in_target)), "carrier_share_pruned": share_pruned,
            "carrier_share_target": share_class, "occupancy": ratio}


HARD_QUARTER = 0.25          # "hard carriers": the top quarter of the carriers by difficulty


def carriers_by_difficulty(pruned, carrier, labels, target_class, difficulty):
    """Which carriers an arm removed, by difficulty: the mechanism, measured.

    ``difficulty`` is one number per training sample, higher = harder (the early scores the
    arms prune by, or a dataset's latent difficulty). The *hard carriers* are the top quarter
    of the carriers by it, rounded up. Percentiles are within ``target_class`` (0-100).

    Returns
    -------
    dict
        ``removed_percentile`` and ``kept_percentile``: the mean difficulty percentile of the
        carriers the arm removed and of those it kept (None where there are none);
        ``hard_removed``: the share of the hard carriers it removed; ``n_hard``. All None (and
        ``n_hard`` 0) without carriers.

    Examples
    --------
    >>> import numpy as np
    >>> carrier = np.array([1, 1, 1, 1, 0, 0, 0, 0], bool)
    >>> cut = carriers_by_difficulty([3], carrier, np.zeros(8, int), 0, np.arange(8.0))
    >>> cut["hard_removed"], cut["n_hard"], cut["removed_percentile"]
    (1.0, 1, 43.75)
    """
    carrier = np.asarray(carrier, dtype=bool)
    difficulty = np.asarray(difficulty, dtype=np.float64)
    carriers = np.flatnonzero(carrier)
    if not len(carriers):
        return {"removed_percentile": None, "kept_percentile": None, "hard_removed": None,
                "n_hard": 0}
    removed = np.zeros(len(carrier), dtype=bool)
    removed[np.asarray(pruned, dtype=np.int64)] = True
    pct = percentile_within(difficulty, carriers, np.flatnonzero(np.asarray(labels) == target_class))
    n_hard = math.ceil(HARD_QUARTER * len(carriers))            # the top quarter, rounded up
    # the hardest n_hard carriers; ties broken by index, so the set is the same on every machine
    hard = carriers[np.lexsort((carriers, -difficulty[carriers]))[:n_hard]]
    out, gone = removed[carriers], removed[hard]

    def mean(x):
        return float(x.mean()) if len(x) else None

    return {"removed_percentile": mean(pct[out]), "kept_percentile": mean(pct[~out]),
            "hard_removed": float(gone.mean()), "n_hard": n_hard}


def regime_percentile(scores, carrier, labels, target_class):
    """The carriers' mean difficulty percentile (0-100) within ``target_class``; NaN without
    carriers. About 50: spread evenly over difficulty; low: among the easiest. It describes
    where the carriers sit on average; it does not say whether the hard tail holds them."""
    carrier = np.asarray(carrier, dtype=bool)
    if not carrier.any():
        return float("nan")
    c1_idx = np.flatnonzero(np.asarray(labels) == target_class)
    return float(np.mean(percentile_within(scores, np.flatnonzero(carrier), c1_idx)))


__all__ = ["HARD_QUARTER", "arm_name", "carriers_by_difficulty", "check_arms", "labels_used",
           "occupancy", "parse_arm", "prune_arm", "regime_percentile"]
