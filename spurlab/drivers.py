"""Which samples drive the shortcut, measured: the counterfactual drivers.

The notebooks infer which carriers teach the shortcut from a label-free guess (early EL2N). This
module holds the measured answer: at the teaching scale one model trains in about a second, so
:func:`spurlab.driversbuild.build_drivers` retrains on thousands of random halves of the carriers
(each carrier kept with probability 1/2, several training seeds) and fits a linear datamodel of
the SMR on which carriers were kept (:mod:`spurlab.datamodel`). Each carrier's **effect** is how
much the SMR drops when it is removed (the datamodel's weight), with a bootstrap interval over
retrainings. It also measures directly, over seeds, what removing each EL2N decile of the
carriers as a group does.

:func:`load_drivers` reads the shipped file (``spurlab/data/drivers.json.gz``, built by
``scripts/build_drivers.py``) with its provenance; :class:`DriverPoint` answers: per-carrier
effects, the rank correlation between early EL2N and the effect, the share of the total effect
the hardest quarter carries, the decile groups, and a prediction for any subset.

Examples
--------
>>> d = load_drivers()                                           # doctest: +SKIP
>>> p = d["default"]                                             # doctest: +SKIP
>>> p.rank_correlation["rho"], p.rank_correlation["ci95"]        # doctest: +SKIP
"""

from __future__ import annotations

import gzip
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .datamodel import Datamodel, bootstrap_weights, fit_datamodel, interval, spearman
from .defaults import DEFAULTS, STRONG_SIGNAL
from .stats import seed_difference

FORMAT = "spurlab-drivers/1"
DRIVERS_PATH = Path(__file__).parent / "data" / "drivers.json.gz"
# The build's settings, in one place. The two points of the teaching scale ('quick'): the
# default weak signal and the notebooks' strong one (spurlab.STRONG_SIGNAL).
POINTS = {"default": {}, "strong": dict(STRONG_SIGNAL)}
SCALE = "quick"                 # the one teaching scale (the notebooks' quick mode, the atlas)
KEEP = 0.5                      # each carrier kept with probability 1/2 in a random subset
SUBSET_SEEDS = (0, 1, 2)        # training seeds of the random subsets (the data: seed 0)
SUBSETS_PER_CARRIER = 8         # random subsets per training seed, per carrier
GROUP_SEEDS = tuple(range(20))  # training seeds of the decile groups (a tenth of the carriers
                                # moves the SMR less than seed noise: 20 seeds resolve it)
DECILES = 10
BOOTSTRAP = 500                 # bootstrap resamples of the retrainings (intervals)
CHUNK = 100                     # retrainings per task and per piece of a resumable build


class DriversError(ValueError):
    """A drivers file that is missing, unreadable or not a drivers file."""


# ------------------------------------------------------------------------------ masks on disk

def pack(mask):
    """A boolean mask as a hex string (one bit per carrier)."""
    return np.packbits(np.asarray(mask, dtype=bool)).tobytes().hex()


def unpack(text, k):
    """The boolean mask of ``k`` carriers that :func:`pack` wrote."""
    return np.unpackbits(np.frombuffer(bytes.fromhex(text), dtype=np.uint8))[:k].astype(bool)


def subset_masks(k, seed, point):
    """The random subsets of ``k`` carriers a build trains with ``seed`` at ``point``: each
    carrier kept with probability :data:`KEEP`; the same on every machine."""
    index = list(POINTS).index(point)
    rng = np.random.default_rng([20250423, index, int(seed)])
    return rng.random((SUBSETS_PER_CARRIER * k, k)) < KEEP


def decile_groups(el2n):
    """The carriers split into :data:`DECILES` groups by early EL2N, easiest first: a list of
    index arrays into the carriers."""
    order = np.argsort(np.asarray(el2n, dtype=float), kind="mergesort")
    return [np.sort(g) for g in np.array_split(order, DECILES)]


def group_masks(el2n):
    """The decile-group subsets: all carriers but one decile (one per decile), then all carriers
    and none; with their names."""
    k = len(el2n)
    masks, names = [], []
    for d, g in enumerate(decile_groups(el2n)):
        m = np.ones(k, bool)
        m[g] = False
        masks.append(m)
        names.append(f"without decile {d + 1}")
    masks += [np.ones(k, bool), np.zeros(k, bool)]
    names += ["all", "none"]
    return np.array(masks), names


# ------------------------------------------------------------------------------ the analysis

def analyse(point, *, reps=BOOTSTRAP, seed=DEFAULTS["seed"]):
    """The summary of one point of a build from its raw retrainings (what the file ships)."""
    k = len(point["carriers"])
    rows = point["subsets"]
    masks = np.array([unpack(h, k) for h in rows["mask"]])
    n_stamped = point["n_stamped"]
    smr = np.asarray(rows["hits"], dtype=float) / n_stamped
    seeds = np.asarray(rows["seed"], dtype=int)
    dm = fit_datamodel(masks, smr, seeds)
    boot = bootstrap_weights(masks, smr, seeds, lam=dm.lam, reps=reps, seed=seed)
    el2n = np.asarray(point["el2n_percentile"], dtype=float)
    rng = np.random.default_rng(seed)
    rhos, shares = [], []
    hard = el2n >= np.quantile(el2n, 0.75)
    for w in boot:
        idx = rng.integers(0, k, k)                    # the carriers resampled too
        rhos.append(spearman(el2n[idx], w[idx]))
        shares.append(w[hard].sum() / w.sum() if w.sum() > 0 else np.nan)
    total = boot.sum(1)
    # the decile groups, measured directly: per seed, SMR with all carriers minus without one
    g = point["groups"]
    g_smr = np.asarray(g["hits"], dtype=float) / n_stamped
    by = {(s, name): v for s, name, v in zip(g["seed"], g["name"], g_smr)}
    gseeds = sorted(set(g["seed"]))
    groups = decile_groups(point["el2n"])
    deciles = []
    for d, members in enumerate(groups):
        diff = [by[(s, "all")] - by[(s, f"without decile {d + 1}")] for s in gseeds]
        pred = boot[:, members].sum(1)
        deciles.append({"decile": d + 1, "n": int(len(members)),
                        "el2n_percentile": [float(el2n[members].min()),
                                            float(el2n[members].max())],
                        "measured": seed_difference(diff),
                        "predicted": {"mean": float(dm.weights[members].sum()),
                                      "ci95": interval(pred)}})
    all_none = seed_difference([by[(s, "all")] - by[(s, "none")] for s in gseeds])
    ci = np.array([interval(boot[:, i]) for i in range(k)])
    return {
        "lam": dm.lam,
        "effect": [round(float(w), 6) for w in dm.weights],
        "effect_ci95": [[round(float(a), 6), round(float(b), 6)] for a, b in ci],
        "intercepts": {str(s): round(v, 6) for s, v in dm.intercepts.items()},
        "heldout": {"rmse": float(np.sqrt(np.mean(dm.heldout ** 2))),
                    "q95": dm.error(0.95), "q99": dm.error(0.99), "n": int(len(dm.heldout))},
        "rank_correlation": {"rho": spearman(el2n, dm.weights), "ci95": interval(rhos), "n": k},
        "hardest_quarter_share": {"share": float(dm.weights[hard].sum() / dm.weights.sum())
                                  if dm.weights.sum() > 0 else None,
                                  "ci95": interval(shares), "n": int(hard.sum())},
        "total_effect": {"sum": float(dm.weights.sum()), "ci95": interval(total),
                         "measured_all_minus_none": all_none},
        "deciles": deciles,
    }


# ------------------------------------------------------------------------------ reading

@dataclass
class DriverPoint:
    """The measured drivers of one point (default or strong) of the teaching scale.

    Attributes
    ----------
    name : str
    config : str
        The point's config (its scale and signal; data seed 0).
    carriers : ndarray
        Training-set indices of the carriers.
    el2n, el2n_percentile : ndarray
        Early EL2N of each carrier (the baseline at seed 0) and its percentile within the
        target class (100 = hardest).
    effect : ndarray
        How much the SMR drops when the carrier is removed (the datamodel's weight).
    effect_ci95 : ndarray (k, 2)
        Its 95% bootstrap interval over retrainings.
    rank_correlation : dict
        Spearman's rho between the EL2N percentile and the effect, its 95% interval (bootstrap
        over retrainings and carriers) and the number of carriers.
    hardest_quarter_share : dict
        The share of the summed effect carried by the hardest quarter of the carriers (by
        EL2N), with its interval; a quarter carries 0.25 when difficulty does not matter.
    total_effect : dict
        The summed effects, and the measured SMR difference between all carriers and none
        (over the group seeds).
    deciles : list of dict
        Per EL2N decile of the carriers: the measured SMR drop when it is removed as a group
        (over seeds) and the datamodel's prediction.
    heldout : dict
        Cross-validated prediction error of the datamodel for a new retraining (RMSE, the 95%
        and 99% quantiles of the absolute error).
    n_retrainings : int
    """

    name: str
    config: str
    signal: dict
    carriers: np.ndarray
    el2n: np.ndarray
    el2n_percentile: np.ndarray
    latent: np.ndarray | None
    n_stamped: int
    effect: np.ndarray
    effect_ci95: np.ndarray
    rank_correlation: dict
    hardest_quarter_share: dict
    total_effect: dict
    deciles: list
    heldout: dict
    n_retrainings: int
    lam: float
    intercepts: dict = field(repr=False)
    raw: dict = field(repr=False)

    @property
    def class_name(self):
        """The name of the target class (the class the carriers belong to)."""
        from .catalog import class_names
        from .config import Config

        cfg = Config.from_string(self.config)
        return class_names(cfg.dataset)[cfg.target_class]

    def datamodel(self):
        """The fitted datamodel (its weights and intercepts as shipped)."""
        return Datamodel(self.effect, {int(s): v for s, v in self.intercepts.items()}, self.lam,
                         np.array([]))

    def predict(self, keep, seed):
        """The datamodel's SMR for a model trained with ``seed`` on the carriers marked in the
        boolean array ``keep`` (one entry per carrier) and every non-carrier."""
        keep = np.asarray(keep)
        if keep.dtype != bool or keep.shape != (len(self.carriers),):
            raise ValueError(f"keep must be a boolean array with one entry per carrier "
                             f"({len(self.carriers)}); got dtype {keep.dtype}, shape {keep.shape}")
        return float(self.datamodel().predict(keep[None], [seed])[0])

    def top(self, n=8):
        """Positions (into :attr:`carriers`) of the ``n`` carriers with the largest effect."""
        return np.argsort(-self.effect, kind="mergesort")[:n]

    def resolved(self):
        """A boolean per carrier: its effect's interval excludes 0."""
        lo, hi = self.effect_ci95[:, 0], self.effect_ci95[:, 1]
        return (lo > 0) | (hi < 0)

    def verdict(self):
        """Claim 2 carrier by carrier, by the one rule (an interval that excludes 0):
        ``'no shortcut'`` (the carriers together do not measurably raise the SMR),
        ``'saturated'`` (they do, but the carriers' effects on random halves sum to less than
        half of it: half of the carriers already teach the whole shortcut, so no single removal
        moves it and the datamodel cannot rank them), ``'holds'`` (the harder a carrier by early
        EL2N, the more removing it lowers the SMR), ``'fails'`` (the easier ones drive it more)
        or ``'not resolved'`` (the rank correlation's interval includes 0)."""
        measured = self.total_effect["measured_all_minus_none"]
        if not (measured["n"] > 1 and measured["ci95"][0] > 0):
            return "no shortcut"
        if self.total_effect["ci95"][1] < measured["ci95"][0] / 2:
            return "saturated"
        lo, hi = self.rank_correlation["ci95"]
        return "holds" if lo > 0 else "fails" if hi < 0 else "not resolved"

    def text(self):
        """What the measurement says, in one paragraph (the notebooks' takeaway)."""
        m = self.total_effect["measured_all_minus_none"]
        n_seeds = m["n"]
        head = (f"All {len(self.carriers)} carriers together raise the SMR by "
                f"{100 * m['mean']:.1f} points [{100 * m['ci95'][0]:.1f}, "
                f"{100 * m['ci95'][1]:.1f}] (all carriers kept minus none, over {n_seeds} seeds)")
        v = self.verdict()
        if v == "no shortcut":
            return head + ": no shortcut learned, so no carrier can be said to drive one."
        t = self.total_effect
        if v == "saturated":
            return (f"{head}, but on random halves of the carriers their single effects sum to "
                    f"only {100 * t['sum']:.1f} points [{100 * t['ci95'][0]:.1f}, "
                    f"{100 * t['ci95'][1]:.1f}]: half of the carriers already teach the whole "
                    "shortcut, so removing one more moves nothing, and which carriers drive it "
                    "cannot be read from single removals here (read the decile groups instead).")
        r = self.rank_correlation
        q = self.hardest_quarter_share
        rho = (f"the rank correlation between a carrier's early EL2N and its measured effect is "
               f"{r['rho']:+.2f} [{r['ci95'][0]:+.2f}, {r['ci95'][1]:+.2f}]")
        share = (f"; the hardest quarter carries {q['share']:.0%} [{q['ci95'][0]:.0%}, "
                 f"{q['ci95'][1]:.0%}] of the summed effect (25% if difficulty did not matter)"
                 if q["share"] is not None else "")
        said = {"holds": "the harder a carrier, the more it drives the shortcut: claim 2 holds "
                         "carrier by carrier",
                "fails": "the easier carriers drive it more: claim 2 fails carrier by carrier",
                "not resolved": "early EL2N does not rank which carriers drive it (the interval "
                                "includes 0): claim 2 is not resolved carrier by carrier"}[v]
        return (f"{head}; {rho}{share}. So {said} ({int(self.resolved().sum())} of "
                f"{len(self.carriers)} carriers have an effect whose interval excludes 0).")


@dataclass
class Drivers:
    """The shipped counterfactual drivers: :class:`DriverPoint` per point, the build's
    settings (seeds, subsets per carrier, bootstrap resamples) and its provenance (command,
    date, wall time, machine), the scale (a preset name) and the spurlab version."""

    points: dict
    provenance: dict
    version: str
    scale: str
    settings: dict

    def __getitem__(self, name):
        if name not in self.points:
            raise KeyError(f"no point {name!r}; the drivers hold {sorted(self.points)}")
        return self.points[name]

    def describe(self):
        """Where the numbers come from, in a few lines."""
        s, p = self.settings, self.provenance
        n = sum(q.n_retrainings for q in self.points.values())
        return (f"counterfactual drivers: {n:,} models retrained at the {self.scale!r} scale "
                f"(spurlab {self.version}), points {', '.join(self.points)}; random halves of the "
                f"carriers, {s['subsets_per_carrier']} per carrier per training seed "
                f"{s['subset_seeds']}, decile groups over {len(s['group_seeds'])} seeds, "
                f"{s['bootstrap']} bootstrap resamples; built by `{p['command']}` on "
                f"{p['date'][:10]} ({p['wall_s'] / 60:.0f} min; "
                f"{p.get('pieces_resumed', 0)} pieces resumed from earlier runs)")


def checksum(doc):
    """The SHA-256 of a drivers file's points (what :func:`load_drivers` verifies)."""
    return hashlib.sha256(json.dumps(doc["points"], sort_keys=True).encode()).hexdigest()


def write_drivers(path, doc):
    """Write a drivers document as gzipped JSON with its checksum, atomically."""
    from .files import atomic_write_bytes

    doc = {**doc, "checksum": checksum(doc)}
    atomic_write_bytes(path, gzip.compress(json.dumps(doc, separators=(",", ":")).encode(),
                                           mtime=0))


def load_drivers(path=None):
    """Read a drivers file (default: the one shipped with spurlab).

    Raises :class:`DriversError` (a ``ValueError``) naming the file and what is wrong when it
    is missing, corrupt or not a drivers file; nothing is downloaded.

    Examples
    --------
    >>> d = load_drivers()                                        # doctest: +SKIP
    >>> d["default"].rank_correlation                             # doctest: +SKIP
    """
    from .files import read_gzip_json

    path = Path(DRIVERS_PATH if path is None else path)
    doc = read_gzip_json(path, what="drivers", formats=(FORMAT,),
                         build="scripts/build_drivers.py", error=DriversError)
    if doc.get("checksum") != checksum(doc):
        raise DriversError(f"drivers file {path} fails its checksum (edited or truncated); "
                           "rebuild it with `python scripts/build_drivers.py`")
    points = {}
    for name, p in doc["points"].items():
        s = p["summary"]
        points[name] = DriverPoint(
            name=name, config=p["config"], signal=p["signal"],
            carriers=np.asarray(p["carriers"], dtype=int),
            el2n=np.asarray(p["el2n"], dtype=float),
            el2n_percentile=np.asarray(p["el2n_percentile"], dtype=float),
            latent=None if p.get("latent") is None else np.asarray(p["latent"], dtype=float),
            n_stamped=p["n_stamped"], effect=np.asarray(s["effect"], dtype=float),
            effect_ci95=np.asarray(s["effect_ci95"], dtype=float),
            rank_correlation=s["rank_correlation"],
            hardest_quarter_share=s["hardest_quarter_share"], total_effect=s["total_effect"],
            deciles=s["deciles"], heldout=s["heldout"],
            n_retrainings=len(p["subsets"]["hits"]) + len(p["groups"]["hits"]),
            lam=s["lam"], intercepts=s["intercepts"], raw=p)
    return Drivers(points, doc["provenance"], doc["version"], doc["scale"], doc["settings"])


__all__ = ["DRIVERS_PATH", "DriverPoint", "Drivers", "DriversError", "FORMAT", "POINTS",
           "analyse", "decile_groups", "group_masks", "load_drivers", "pack", "subset_masks",
           "unpack", "write_drivers"]
