"""Every sentence spurlab says about a result, from one rule (``docs/verdicts.md`` explains it
with a worked example). Tables, takeaways, figure titles, the playground and the atlas all ask
this module, so one run never gets two verdicts.

- **Was a shortcut learned?** The evidence is the *excess SMR*, the baseline's SMR minus that of
  the no-carrier reference model on the same stamped test images. One seed: learned when its
  95% interval over those images lies above 0 (``z = excess / se > 1.96``). Many seeds: the
  seeds' z are combined (Stouffer, ``Z = sum(z) / sqrt(n)``); learned when ``Z > 1.96``. With one
  seed this is the one-seed rule, so seeds that each learned it are never called noise together.
  It is said as "learned in k of n seeds", naming the seeds that disagree, beside the mean excess
  with its 95% t-interval over seeds (the size, not the gate). No carriers: nothing to learn.
  No reference model: no verdict.
- **How two models compare**: the per-seed difference ``a - b`` of a metric with its 95%
  t-interval over seeds; shown to differ only when it excludes 0, and then said which way in
  words. One seed has no interval over seeds: not tested.
- **Share of the excess removed** by an arm: only when a shortcut was learned, per seed only for
  the seeds that learned it on their own, and the mean says over which seeds.
- **Pruning helps or backfires** against a control: ``'no shortcut'``, ``'helps'``,
  ``'backfires'`` or ``'no difference'`` (:func:`effect`).

Examples
--------
>>> one = seed_verdict(0.10, (0.06, 0.14), 1500, seed=0)
>>> one.learned, round(one.z, 1)
(True, 4.9)
>>> weak = [seed_verdict(e, (e - 0.01, e + 0.01), 1500, seed=s)
...         for s, e in enumerate([0.015, 0.03, 0.06, 0.09, 0.157])]
>>> together = combine(weak)             # every seed learned it, sizes differ a lot
>>> together.learned, together.learned_in, together.n
(True, 5, 5)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ._validate import check_instance, check_results
from .stats import difference_interval, seed_difference, seed_interval
from .stats import nan_if_none as _num

Z95 = 1.96                        # two-sided 95%: the one threshold of every verdict
# metrics where lower is better (every other metric spurlab reports is an accuracy)
LOWER_IS_BETTER = ("smr", "smr_clean")
METRIC_NAMES = {"smr": "SMR", "smr_clean": "SMR on clean images", "clean_accuracy": "clean accuracy",
                "worst_group_accuracy": "worst-group accuracy",
                "group_balanced_accuracy": "group-balanced accuracy"}
EFFECTS = ("no shortcut", "helps", "no difference", "backfires", "n/a")


def _seeds_text(seeds):
    seeds = list(seeds)
    return ("seed " if len(seeds) == 1 else "seeds ") + ", ".join(str(s) for s in seeds)


# --------------------------------------------------------------------------- was it learned?

@dataclass(frozen=True)
class Shortcut:
    """The verdict on whether a shortcut was learned, with its evidence and its size.

    ``learned`` is the verdict (None: no reference model to compare with); ``excess_smr`` the
    excess SMR (one seed) or its mean over seeds, with ``ci95`` over the stamped test images
    (``over='images'``, ``n`` images) or over seeds (``over='seeds'``, ``n`` seeds); ``z`` the
    evidence (the seed's z, or the seeds' combined z; learned above 1.96); ``seeds`` the seeds in
    order; ``per_seed`` each seed's own verdict (many seeds); ``reason`` ``'no carriers'`` or
    ``'no reference'`` when no test was made.
    """

    learned: bool | None
    excess_smr: float
    ci95: tuple
    over: str
    n: int
    z: float
    seeds: tuple = ()
    per_seed: tuple = field(default=(), repr=False)
    reason: str = ""

    @property
    def learned_in(self):
        """How many seeds learned the shortcut on their own (1 or 0 for one seed)."""
        if self.per_seed:
            return sum(bool(v.learned) for v in self.per_seed)
        return int(bool(self.learned))

    @property
    def disagreeing(self):
        """The seeds whose own verdict differs from this one (empty for one seed)."""
        return tuple(v.seeds[0] if v.seeds else i for i, v in enumerate(self.per_seed)
                     if bool(v.learned) != bool(self.learned))

    def text(self):
        """One line: the verdict first, then its evidence and size."""
        if self.reason == "no reference":
            return "no verdict on the shortcut: no no-carrier reference model (run with reference=True)"
        if self.reason == "no carriers":
            return ("no shortcut to learn: no training sample carries the feature, so pruning "
                    "figures are noise")
        lo, hi = self.ci95
        if self.over == "images":
            size = (f"excess SMR {self.excess_smr:+.3f}, 95% interval [{lo:+.3f}, {hi:+.3f}] over "
                    f"{self.n} stamped test images")
            if self.learned:
                return f"shortcut learned ({size})"
            return f"no shortcut learned ({size}): pruning figures are noise"
        k, n = self.learned_in, self.n
        odd = self.disagreeing
        who = ""
        if odd:
            who = (f"; not learned in {_seeds_text(odd)}" if self.learned
                   else f"; learned on its own in {_seeds_text(odd)}")
        size = (f"mean excess SMR {self.excess_smr:+.3f}, 95% interval over {n} seeds "
                f"[{lo:+.3f}, {hi:+.3f}]")
        if self.learned and k == 0:          # no seed alone, but their evidence together
            return (f"shortcut learned over {n} seeds together, in none alone (combined z = "
                    f"{self.z:+.1f} > {Z95}; {size})")
        if self.learned:
            return (f"shortcut learned in {k} of {n} seeds (combined z = {self.z:+.1f} > {Z95}"
                    f"{who}; {size})")
        return (f"no shortcut learned: learned in {k} of {n} seeds (combined z = {self.z:+.1f} "
                f"<= {Z95}{who}; {size}): pruning figures are noise")

    def to_dict(self):
        """The verdict's numbers as JSON-able values (per-seed verdicts not included)."""
        return {"learned": self.learned, "excess_smr": self.excess_smr,
                "ci95": list(self.ci95), "over": self.over, "n": self.n, "z": self.z,
                "seeds": list(self.seeds), "reason": self.reason,
                "learned_in": self.learned_in}

    @classmethod
    def from_dict(cls, d):
        """A one-seed verdict read back from :meth:`to_dict`."""
        ci = d["ci95"]
        return cls(d["learned"], _num(d["excess_smr"]), (_num(ci[0]), _num(ci[1])), d["over"],
                   int(d["n"]), _num(d["z"]), tuple(d.get("seeds", ())), (), d.get("reason", ""))


def _z(excess, ci95):
    """The z of an excess with a symmetric 95% interval (0 when the interval has no width)."""
    half = (ci95[1] - ci95[0]) / 2
    if not half > 0 or math.isnan(excess) or math.isinf(half):
        return 0.0
    return excess / (half / Z95)


def seed_verdict(excess, ci95, n_test, *, seed=None, n_carriers=None):
    """One seed's verdict from its excess SMR and the 95% interval over its stamped test images.

    Parameters
    ----------
    excess : float
        SMR of the baseline minus SMR of the no-carrier reference model.
    ci95 : (float, float)
        Its 95% interval over the stamped test images.
    n_test : int or None
        Stamped test images (None: not recorded, as in atlas rows built before it was).
    seed : int, optional
        The seed, for naming it when seeds disagree.
    n_carriers : int, optional
        Carriers in training; 0 gives the "no carriers" verdict.

    Examples
    --------
    >>> seed_verdict(0.02, (-0.01, 0.05), 900).learned
    False
    """
    try:
        lo, hi = (float(v) for v in ci95)
    except (TypeError, ValueError):
        raise ValueError(f"ci95 must be a (low, high) pair of numbers; got {ci95!r}") from None
    if lo > hi:
        raise ValueError(f"ci95 must be a (low, high) pair with low <= high; got {ci95!r}")
    seeds = () if seed is None else (int(seed),)
    n = 0 if n_test is None else int(n_test)
    if n_carriers == 0:
        return Shortcut(False, float(excess), (lo, hi), "images", n, 0.0, seeds,
                        reason="no carriers")
    learned = bool((n_test is None or n > 1) and lo > 0)
    return Shortcut(learned, float(excess), (lo, hi), "images", n, _z(excess, (lo, hi)), seeds)


def verdict_from_hits(baseline_hits, reference_hits, *, seed=None, n_carriers=None):
    """One seed's verdict from the stamped test images each model sent to the target class.

    Parameters
    ----------
    baseline_hits, reference_hits : sequence of 0/1
        Per stamped test image: 1 if the model predicted the target class.

    Examples
    --------
    >>> v = verdict_from_hits([1, 1, 0, 1] * 50, [0, 0, 0, 1] * 50)
    >>> v.learned, round(v.excess_smr, 2)
    (True, 0.5)
    >>> verdict_from_hits([1] * 32 + [0] * 701, [1] * 24 + [0] * 709).learned   # 4.4% vs 3.3%
    False
    """
    p = difference_interval(baseline_hits, reference_hits)
    return seed_verdict(p["mean"], p["ci95"], p["n"], seed=seed, n_carriers=n_carriers)


def combine(verdicts):
    """The verdict over seeds from each seed's own verdict (see the rule above).

    One verdict comes back as it is. Seeds without a reference model give no verdict; seeds
    without carriers give "no carriers" when none of them has any.

    Examples
    --------
    >>> vs = [seed_verdict(0.03, (-0.01, 0.07), 900, seed=s) for s in range(4)]
    >>> v = combine(vs)                   # no seed alone, but four together: learned
    >>> v.learned, v.learned_in, v.text()[:53]
    (True, 0, 'shortcut learned over 4 seeds together, in none alone')
    """
    verdicts = list(verdicts)
    if not verdicts:
        raise ValueError("verdicts must hold at least one seed's verdict; got none")
    if not all(isinstance(v, Shortcut) and v.over == "images" for v in verdicts):
        raise TypeError("verdicts must be one-seed Shortcut verdicts (seed_verdict, "
                        "verdict_from_hits or Result.shortcut)")
    if len(verdicts) == 1:
        return verdicts[0]
    seeds = tuple(v.seeds[0] if v.seeds else i for i, v in enumerate(verdicts))
    size = seed_interval([v.excess_smr for v in verdicts])
    ci = (size["ci95"][0], size["ci95"][1])
    n = len(verdicts)
    if all(v.reason == "no carriers" for v in verdicts):
        return Shortcut(False, size["mean"], ci, "seeds", n, 0.0, seeds, tuple(verdicts),
                        "no carriers")
    z = sum(v.z for v in verdicts) / math.sqrt(n)
    return Shortcut(bool(z > Z95), size["mean"], ci, "seeds", n, z, seeds, tuple(verdicts))


NO_REFERENCE = Shortcut(None, float("nan"), (float("nan"), float("nan")), "images", 0, 0.0,
                        reason="no reference")


def shortcut(results):
    """The verdict of one :class:`~spurlab.Result` or of a list of them (one per seed).

    Examples
    --------
    >>> # v = shortcut(sl.run_seeds(cfg, [0, 1, 2])); print(v.text())
    """
    results = check_results(results)
    if any(r.shortcut is None for r in results):
        return NO_REFERENCE
    return combine([r.shortcut for r in results])


# --------------------------------------------------------------------------- how two models compare

@dataclass(frozen=True)
class Difference:
    """``a - b`` on one metric, per seed, with its 95% interval over seeds.

    ``differs`` is True only when the interval excludes 0 (never for one seed);
    :meth:`text` says which way in words.
    """

    a: str
    b: str
    metric: str
    mean: float
    ci95: tuple
    n: int
    differs: bool
    values: tuple = field(default=(), repr=False)

    @property
    def direction(self):
        """``'lower'``, ``'higher'`` or ``''`` (not shown to differ)."""
        if not self.differs:
            return ""
        return "lower" if self.mean < 0 else "higher"

    @property
    def better(self):
        """Is ``a`` better than ``b``? ``None`` when they are not shown to differ."""
        if not self.differs:
            return None
        return (self.mean < 0) == (self.metric in LOWER_IS_BETTER)

    def words(self):
        """The comparison in words, e.g. ``'hardest leaves a lower SMR than random (better)'``."""
        name = METRIC_NAMES.get(self.metric, self.metric)
        if self.n < 2:
            return f"{self.a} vs {self.b}: one seed, not tested"
        if not self.differs:
            return f"{self.a} and {self.b} are not shown to differ on {name}"
        verb = "leaves" if self.metric in LOWER_IS_BETTER else "reaches"
        return (f"{self.a} {verb} a {self.direction} {name} than {self.b} "
                f"({'better' if self.better else 'worse'})")

    def text(self):
        """One line: the difference, its interval over seeds, and what it says in words."""
        name = METRIC_NAMES.get(self.metric, self.metric)
        head = f"{self.a} minus {self.b}, {name}: {self.mean:+.3f}"
        if self.n < 2:
            return (f"{head} over 1 seed: no interval over seeds, so not tested (run 2 or more "
                    "seeds)")
        lo, hi = self.ci95
        tail = (f"excludes 0: {self.words()}" if self.differs
                else "includes 0, not shown to differ")
        return f"{head}, 95% interval over {self.n} seeds [{lo:+.3f}, {hi:+.3f}]: {tail}"

    def to_dict(self):
        return {"a": self.a, "b": self.b, "metric": self.metric, "mean": self.mean,
                "ci95": list(self.ci95), "n": self.n, "differs": self.differs,
                "direction": self.direction, "better": self.better}


def difference_of(values, a, b, metric="smr"):
    """A :class:`Difference` from per-seed differences ``a - b`` (NaN and None dropped).

    Examples
    --------
    >>> d = difference_of([-0.05, -0.07, -0.06], "hardest", "random")
    >>> d.differs, d.words()
    (True, 'hardest leaves a lower SMR than random (better)')
    """
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise TypeError(f"values must be a sequence of per-seed differences; got {values!r}")
    values = tuple(v for v in values if v is not None and not math.isnan(v))
    s = seed_difference(values)
    return Difference(a, b, metric, s["mean"], (s["ci95"][0], s["ci95"][1]), s["n"],
                      bool(s["differs"]), values)


def difference(results, a, b, metric="smr"):
    """``a - b`` over seeds for two models of the same results.

    Parameters
    ----------
    results : list of Result
        One per seed.
    a, b : str
        ``'baseline'``, ``'reference'`` or arm names.
    metric : str
        A :class:`~spurlab.results.ModelMetrics` field, e.g. ``'smr'``.

    Examples
    --------
    >>> # difference(sl.run_seeds(cfg, [0, 1, 2], arms=["hardest", "random"]), "hardest", "random")
    """
    results = check_results(results)
    if metric not in METRIC_NAMES:
        raise ValueError(f"metric must be one of {', '.join(METRIC_NAMES)}; got {metric!r}")
    vals = [getattr(r.metrics(a), metric) - getattr(r.metrics(b), metric) for r in results]
    return difference_of(vals, a, b, metric)


# --------------------------------------------------------------------------- share removed

@dataclass(frozen=True)
class ShareRemoved:
    """The share of the excess SMR an arm removed, over the seeds where it means something.

    ``mean`` is None when no shortcut was learned over the seeds (a share of noise is not
    given); ``per_seed`` holds None for a seed that did not learn the shortcut on its own;
    ``seeds_used`` names the seeds the mean is taken over.
    """

    arm: str
    mean: float | None
    per_seed: tuple
    seeds: tuple
    seeds_used: tuple
    shortcut: Shortcut = field(repr=False)

    def over(self):
        """Over which seeds the mean was taken, in words."""
        n = len(self.seeds)
        if n == 1:
            return "one seed"
        if len(self.seeds_used) == n:
            return f"all {n} seeds"
        return (f"the {len(self.seeds_used)} of {n} seeds that learned it on their own "
                f"({_seeds_text(self.seeds_used)})")

    def text(self):
        """One line, e.g. ``'hardest: 78% of the excess SMR removed (mean over all 5 seeds;
        per seed: +70%, ...)'``, or why no share is given."""
        if self.mean is None:
            why = ("none learned" if self.shortcut.learned is False else
                   "no verdict" if self.shortcut.learned is None else "no seed's excess above 0")
            return f"{self.arm}: no share of the excess is given ({why})"
        per = ", ".join("n/a" if v is None else f"{v:+.0%}" for v in self.per_seed)
        if len(self.seeds) == 1:
            return f"{self.arm}: {self.mean:.0%} of the excess SMR removed (one seed)"
        return (f"{self.arm}: {self.mean:.0%} of the excess SMR removed (mean over "
                f"{self.over()}; per seed: {per})")


def share_removed(results, arm):
    """The share of the excess SMR that ``arm`` removed (see the rule above).

    Examples
    --------
    >>> # print(share_removed(sl.run_seeds(cfg, [0, 1, 2]), "hardest").text())
    """
    results = check_results(results, arm)
    verdict = shortcut(results)
    seeds = tuple(r.config.seed for r in results)
    per = []
    for r in results:
        own = r.shortcut
        excess = (r.baseline.smr - r.reference.smr) if r.reference is not None else float("nan")
        ok = own is not None and own.learned and excess > 0
        per.append((r.baseline.smr - r.metrics(arm).smr) / excess if ok else None)
    used = tuple(s for s, v in zip(seeds, per) if v is not None)
    mean = None
    if verdict.learned and used:
        mean = sum(v for v in per if v is not None) / len(used)
    return ShareRemoved(arm, mean, tuple(per), seeds, used if mean is not None else (), verdict)


# --------------------------------------------------------------------------- helps or backfires

def effect(verdict, diff):
    """Does the arm help against its control? One of :data:`EFFECTS`.

    Parameters
    ----------
    verdict : Shortcut
        Whether a shortcut was learned (over the same seeds).
    diff : Difference or None
        SMR of the arm minus SMR of the control (None: an arm could not run).

    Examples
    --------
    >>> v = combine([seed_verdict(0.1, (0.05, 0.15), 900, seed=s) for s in range(3)])
    >>> effect(v, difference_of([-0.05, -0.07, -0.06], "hardest", "random"))
    'helps'
    """
    check_instance("verdict", verdict, Shortcut, "a Shortcut (verdicts.shortcut, Result.shortcut)")
    check_instance("diff", diff, (Difference, type(None)), "a Difference (verdicts.difference) or None")
    if not verdict.learned:
        return "no shortcut"
    if diff is None or diff.n < 2:
        return "n/a"
    if not diff.differs:
        return "no difference"
    return "helps" if diff.mean < 0 else "backfires"


def effect_text(verdict, diff):
    """:func:`effect` as a sentence: the shortcut first, then how the arm compares."""
    what = effect(verdict, diff)
    if what == "no shortcut":
        return verdict.text()
    if what == "n/a":
        return f"{verdict.text()}; the arms cannot be compared here"
    return f"{verdict.text()}; {diff.text()}"


__all__ = ["EFFECTS", "LOWER_IS_BETTER", "METRIC_NAMES", "NO_REFERENCE", "Z95", "Difference",
           "ShareRemoved", "Shortcut", "combine", "difference", "difference_of", "effect",
           "effect_text", "seed_verdict", "share_removed", "shortcut", "verdict_from_hits"]
