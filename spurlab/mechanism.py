"""The mechanism, measured: which carriers each arm removed, by difficulty, over seeds, and the
sentences spurlab says about it.

The paper's account of why pruning the hardest samples works is that a few *hard* carriers
(those the network finds difficult to learn without the feature) drive the shortcut. Counting
carriers cannot show that: an arm can remove fewer carriers than random pruning and still
remove the hard ones. So for every arm spurlab records (:func:`spurlab.carriers_by_difficulty`,
at training time) the share of the *hard carriers* (the hardest quarter of the carriers, by the
early scores the arms prune by, and by the dataset's latent difficulty where it has one) that
it removed, beside the share of all carriers, and the mean difficulty percentile (within the
target class) of the carriers it removed and of those it kept. Over seeds each is a mean with
its 95% t-interval (:func:`spurlab.stats.seed_interval`). These are descriptions of the pruned
sets, not verdicts: whether an arm *helps* is said by :mod:`spurlab.verdicts`.

Examples
--------
>>> # cut = carriers_removed(sl.run_seeds(cfg, [0, 1, 2]), "hardest"); print(cut.text())
>>> # hardest removed 100% of the hard carriers (8 of 29) and 31% of all carriers ...
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ._validate import check_choice, check_results
from .config import SPECIAL_ARMS
from .stats import RATE, seed_interval

# which difficulty the hard carriers are ranked by: the early scores the arms prune by, or the
# dataset's latent difficulty (the embedded shapes have one)
BY = {"score": "", "latent": "latent_"}


@dataclass(frozen=True)
class CarriersRemoved:
    """Which carriers ``arm`` removed, by difficulty, over the seeds of ``seeds``.

    ``hard``, ``all``, ``removed_percentile`` and ``kept_percentile`` are
    :func:`~spurlab.stats.seed_interval` dicts (``mean``, ``sd``, ``ci95`` cut at the measure's
    range, [0, 1] or [0, 100], ``n``): the share of
    the hard carriers removed, the share of all carriers removed, and the mean difficulty
    percentile within the target class of the carriers removed and of those kept. ``n`` is 0
    where the measure is undefined (no carriers, JTT, no latent difficulty).
    """

    arm: str
    by: str
    score_name: str
    n_hard: tuple
    n_carriers: tuple
    hard: dict
    all: dict
    removed_percentile: dict
    kept_percentile: dict
    seeds: tuple

    @property
    def defined(self):
        return self.hard["n"] > 0

    def hard_carriers(self):
        """``'the hardest 8 of 29 by early EL2N'``, or with seeds that differ, ``'the hardest
        quarter of 29-33 carriers by early EL2N'``."""
        (h0, h1), (c0, c1) = self.n_hard, self.n_carriers
        if (h0, c0) == (h1, c1):
            return f"the hardest {h0} of {c0} by {self.score_name}"
        return f"the hardest quarter of {c0}-{c1} carriers by {self.score_name}"

    def _over(self):
        n = len(self.seeds)
        return "one seed" if n == 1 else f"mean over {n} seeds"

    def text(self):
        """One line, e.g. ``'hardest removed 100% of the hard carriers (the hardest 8 of 29 by
        early EL2N) and 31% of all carriers; those it removed sat at difficulty percentile 87 of
        their class, those it kept at 41 (mean over 3 seeds)'``."""
        if not self.defined:
            why = ("it prunes nothing" if self.arm in SPECIAL_ARMS else
                   "no latent difficulty in these data" if self.by == "latent"
                   and self.n_carriers[1] else "there are no carriers")
            return f"{self.arm}: which carriers it removed is not defined here ({why})"
        s = (f"{self.arm} removed {_pct(self.hard)} of the hard carriers ({self.hard_carriers()}) "
             f"and {_pct(self.all)} of all carriers")
        rem, kept = self.removed_percentile["mean"], self.kept_percentile["mean"]
        parts = []
        if not math.isnan(rem):
            parts.append(f"those it removed sat at difficulty percentile {rem:.0f} of their class")
        if not math.isnan(kept):
            parts.append(f"those it kept at {kept:.0f}")
        return s + ("; " + ", ".join(parts) if parts else "") + f" ({self._over()})"


def _pct(iv):
    """``'31%'`` or, over seeds, ``'31% [24%, 38%]'`` (``'0% (every seed)'`` when they agree)."""
    lo, hi = iv["ci95"]
    if iv["n"] < 2:
        return f"{iv['mean']:.0%}"
    if iv["sd"] == 0:
        return f"{iv['mean']:.0%} (every seed)"
    return f"{iv['mean']:.0%} [{lo:.0%}, {hi:.0%}]"


def carriers_removed(results, arm, by="score"):
    """Which carriers ``arm`` removed, by difficulty, over the seeds of ``results``.

    Parameters
    ----------
    results : Result or list of Result
        One per seed, each with ``arm``.
    arm : str
    by : {'score', 'latent'}
        Rank the carriers by the early scores the arms prune by, or by the dataset's latent
        difficulty.

    Returns
    -------
    CarriersRemoved
    """
    results = check_results(results, arm)
    check_choice("by", by, tuple(BY))
    pre = BY[by]
    arms = [r.arms[arm] for r in results]
    n = [r.carriers for r in results]
    score = results[0].config.score
    name = ("latent difficulty" if by == "latent"
            else f"early {'EL2N' if score == 'el2n' else score}")
    hard = [getattr(a, pre + "hard_removed") for a in arms]
    defined = [h is not None for h in hard]
    share_all = [a.carriers_pruned / c if c and d else None
                 for a, c, d in zip(arms, n, defined)]
    return CarriersRemoved(
        arm=arm, by=by, score_name=name,
        n_hard=(min(a.n_hard or 0 for a in arms), max(a.n_hard or 0 for a in arms)),
        n_carriers=(min(n), max(n)), hard=seed_interval(hard, bounds=RATE),
        all=seed_interval(share_all, bounds=RATE),
        removed_percentile=seed_interval([getattr(a, pre + "removed_percentile") for a in arms],
                                         bounds=(0, 100)),
        kept_percentile=seed_interval([getattr(a, pre + "kept_percentile") for a in arms],
                                      bounds=(0, 100)),
        seeds=tuple(r.config.seed for r in results))


def mechanism_text(results, arms=None, by="score"):
    """The takeaway of the per-arm mechanism figure: the share of the hard carriers each arm
    removed, beside the share of all carriers, over seeds.

    Examples
    --------
    >>> # mechanism_text(results, ["hardest", "random", "easiest"])
    >>> # 'Takeaway: share of the hard carriers (the hardest 8 of 29 by early EL2N) removed: ...'
    """
    results = check_results(results)
    arms = [a for a in (list(results[0].arms) if arms is None else arms)
            if a not in SPECIAL_ARMS]
    cuts = [carriers_removed(results, a, by) for a in arms]
    cuts = [c for c in cuts if c.defined]
    if not cuts:
        return ("Takeaway: which carriers each arm removed is not defined here (no carriers, "
                "or no latent difficulty in these data)")
    c0 = cuts[0]
    hard = ", ".join(f"{c.arm} {_pct(c.hard)}" for c in cuts)
    every = ", ".join(f"{c.arm} {c.all['mean']:.0%}" for c in cuts)
    return (f"Takeaway: share of the hard carriers ({c0.hard_carriers()}) removed: {hard}; share "
            f"of all carriers removed: {every} ({c0._over()}).")


__all__ = ["BY", "CarriersRemoved", "carriers_removed", "mechanism_text"]
