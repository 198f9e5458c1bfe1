"""Training dynamics: which samples drive the shortcut, seen epoch by epoch.

:func:`training_dynamics` trains the baseline with the one recipe (:func:`spurlab.fit`, stopped
after the first epochs while the learning-rate schedule spans the whole run, exactly as the
baseline is trained before its samples are scored) and records, after every epoch, each training
sample's eval-mode **confidence** (the softmax probability of its true label), whether it is
**correct** and its **EL2N** (``||softmax - onehot||_2``). :func:`data_map` turns them into the
*data map* of dataset cartography (Swayamdipta et al., EMNLP 2020): per sample, the mean
confidence, its variability over epochs and the fraction of epochs it was correct. Easy samples
sit high on the map (confident, stable), hard ones low, ambiguous ones to the right.

Results are cached by the engine's cache (:mod:`spurlab.cache`): in memory for the session, and
on disk when ``cache_dir=`` or ``$SPURLAB_CACHE_DIR`` names a folder, keyed by everything the
recording depends on, so a notebook cell that asks again redraws at once.

Examples
--------
>>> from spurlab import preset
>>> d = training_dynamics(preset("smoke", n_train=120, n_test=60), epochs=2)
>>> d.confidence.shape, d.correct.dtype, d.groups.shape
((2, 120), dtype('bool'), (120,))
>>> m = data_map(d)
>>> bool(((m.correctness >= 0) & (m.correctness <= 1)).all())
True
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import torch

from ._validate import check_choice, check_int
from ._version import __version__
from .build import build_scenario
from .cache import CACHE, fingerprint
from .config import Config, as_config
from .defaults import DEFAULTS
from .device import get_device
from .recipe import fit
from .scenario import Scenario
from .train import predict_logits

# knobs that do not change the first epochs of the baseline (what is pruned afterwards, and
# which score is taken when); the returned Dynamics carries the caller's config all the same
_NOT_RECORDED = ("prune_ratio", "strategy", "scope", "jtt_upweight", "score", "score_epoch",
                 "score_seeds")


def _frozen(value, dtype):
    arr = np.array(value, dtype=dtype)          # a copy: the caller's array stays writable
    arr.setflags(write=False)
    return arr


@dataclass(frozen=True, eq=False)
class Dynamics:
    """Every training sample, after each recorded epoch of the baseline recipe.

    Attributes
    ----------
    epochs : numpy.ndarray (E,)
        The recorded epochs, ``1 .. E``.
    confidence : numpy.ndarray (E, N) float32
        Eval-mode softmax probability of the true label.
    correct : numpy.ndarray (E, N) bool
        Whether the eval-mode prediction (arg max of the logits) is the true label.
    el2n : numpy.ndarray (E, N) float32
        ``||softmax(f(x)) - onehot(y)||_2``, as :func:`spurlab.el2n`.
    groups : numpy.ndarray (N,) int64
        ``2 * class + carries the feature`` (the scenario's ``train_groups``).
    config : Config
        The config the recording was made with.
    target_class : int, optional
        The class ``c1`` that carries the feature (default ``config.target_class``).

    Arrays are read-only: one recording is shared by every caller of the cache.
    """

    epochs: np.ndarray
    confidence: np.ndarray
    correct: np.ndarray
    el2n: np.ndarray
    groups: np.ndarray
    config: Config
    target_class: int = None

    def __post_init__(self):
        if not isinstance(self.config, Config):
            raise TypeError(f"config must be a spurlab Config; got {type(self.config).__name__}")
        groups = _frozen(self.groups, np.int64)
        if groups.ndim != 1 or (groups.size and groups.min() < 0):
            raise ValueError(f"groups must be a 1-D array of non-negative group ids "
                             f"(2 * class + carrier); got shape {groups.shape}")
        n = len(groups)
        epochs = _frozen(self.epochs, np.int64)
        if epochs.ndim != 1 or len(epochs) == 0 or not np.array_equal(epochs, np.arange(1, len(epochs) + 1)):
            raise ValueError(f"epochs must be 1, 2, ..., E (at least one epoch); got {epochs.tolist()}")
        arrays = {}
        for name, dtype in (("confidence", np.float32), ("correct", bool), ("el2n", np.float32)):
            arr = _frozen(getattr(self, name), dtype)
            if arr.shape != (len(epochs), n):
                raise ValueError(f"{name} must be shaped (epochs, samples) = ({len(epochs)}, {n}); "
                                 f"got {arr.shape}")
            arrays[name] = arr
        if not ((arrays["confidence"] >= 0) & (arrays["confidence"] <= 1)).all():
            raise ValueError("confidence must be probabilities in [0, 1]")
        target = self.config.target_class if self.target_class is None else self.target_class
        target = check_int("target_class", target, low=0)
        for name, arr in {"epochs": epochs, "groups": groups, **arrays,
                          "target_class": target}.items():
            object.__setattr__(self, name, arr)

    @property
    def labels(self):
        """Class of every sample, ``groups // 2``."""
        return self.groups // 2

    @property
    def carrier(self):
        """Whether each sample carries the spurious feature, ``groups % 2 == 1``."""
        return self.groups % 2 == 1

    def __repr__(self):
        return (f"Dynamics({len(self.epochs)} epochs x {len(self.groups)} samples, "
                f"{int(self.carrier.sum())} carriers in class {self.target_class})")


@dataclass(frozen=True, eq=False)
class DataMap:
    """Dataset cartography (Swayamdipta et al., 2020) over epochs ``1 .. epochs``, per sample.

    Attributes
    ----------
    confidence : numpy.ndarray (N,)
        Mean confidence in the true label over the epochs.
    variability : numpy.ndarray (N,)
        Standard deviation of that confidence over the epochs (population sd, ``ddof=0``, as
        the cartography paper).
    correctness : numpy.ndarray (N,)
        Fraction of the epochs at which the sample was classified correctly.
    epochs : int
        How many epochs the map summarises.
    """

    confidence: np.ndarray
    variability: np.ndarray
    correctness: np.ndarray
    epochs: int


def _data_key(config, scenario):
    """Fingerprint of the data and recipe a recording depends on."""
    if scenario is None:
        return fingerprint("dyn-cfg", {k: v for k, v in config.to_dict().items()
                                       if k not in _NOT_RECORDED}, __version__)
    return fingerprint("dyn-custom", scenario.train.images, scenario.train.labels, scenario.carrier,
                       scenario.target_class, scenario.train.num_classes,
                       {k: getattr(config, k) for k in ("model", "pretrained", "epochs", "batch_size",
                                                        "lr", "momentum", "weight_decay",
                                                        "schedule", "seed")}, __version__)


def _from_entry(entry, config, target_class):
    return Dynamics(epochs=entry["epochs"], confidence=entry["confidence"],
                    correct=entry["correct"], el2n=entry["el2n"], groups=entry["groups"],
                    config=config, target_class=target_class)


def training_dynamics(config=None, *, scenario=None, epochs=None, device=None, progress=False,
                      cache_dir=None):
    """Record every training sample's confidence, correctness and EL2N after each of the first
    ``epochs`` epochs of the baseline recipe.

    The model is trained by :func:`spurlab.fit` with ``config``'s recipe and seed and stopped
    after ``epochs`` epochs, the learning-rate schedule still spanning ``config.epochs``: the
    same model the baseline scores at ``config.score_epoch``, so ``el2n[score_epoch - 1]`` is
    the early EL2N of :func:`spurlab.run` (same device and threads).

    Parameters
    ----------
    config : Config or str, optional
        The recipe, seed and (without ``scenario``) the data; default: the defaults.
    scenario : Scenario, optional
        Your own data and feature (:func:`spurlab.make_scenario`); default: the config's.
    epochs : int, optional
        How many epochs to record, in ``[1, config.epochs]``; default
        ``min(config.epochs, max(5, config.score_epoch))``.
    device : str, optional
        Default: cuda, else mps, else cpu.
    progress : bool
        Show a progress bar while training.
    cache_dir : str, optional
        Folder for the disk cache (default ``$SPURLAB_CACHE_DIR``, else memory only).

    Returns
    -------
    Dynamics
        Arrays ``(epochs, samples)``: ``confidence``, ``correct``, ``el2n``; ``groups`` and
        ``config``. A cached recording is returned at once (nothing is retrained).

    Raises
    ------
    ValueError
        ``epochs`` outside ``[1, config.epochs]``.
    TypeError
        ``scenario`` that is not a :class:`~spurlab.scenario.Scenario`, ``epochs`` not an integer.

    Examples
    --------
    >>> from spurlab import preset
    >>> cfg = preset("smoke", n_train=120, n_test=60)
    >>> d = training_dynamics(cfg, epochs=2)
    >>> d.el2n.shape, d.epochs.tolist()
    ((2, 120), [1, 2])
    >>> training_dynamics(cfg, epochs=2) is d          # cached: nothing retrained
    True
    >>> training_dynamics(cfg, epochs=9)
    Traceback (most recent call last):
    ...
    ValueError: epochs must be an integer in [1, 3], got 9
    """
    config = as_config(config)
    if scenario is not None and not isinstance(scenario, Scenario):
        raise TypeError(f"scenario must be a spurlab Scenario (see spurlab.make_scenario); got "
                        f"{type(scenario).__name__}")
    if epochs is None:
        epochs = min(config.epochs, max(5, config.score_epoch))
    epochs = check_int("epochs", epochs, low=1, high=config.epochs)
    key = fingerprint(_data_key(config, scenario), epochs)
    hit = CACHE.get("dynamics", key, cache_dir)
    if hit is not None:
        d = hit.get("_dynamics")
        if d is None:                                   # read from disk: rebuild the arrays once
            d = hit["_dynamics"] = _from_entry(hit, config, hit["target_class"])
        return d if d.config == config else dataclasses.replace(d, config=config)
    dev = get_device(device)
    sc = scenario if scenario is not None else build_scenario(config, device=dev, progress=progress)
    x, y = sc.train.images, sc.train.labels
    rows, labels = torch.arange(len(y)), y.long().cpu()
    rec = {"confidence": [], "correct": [], "el2n": []}

    def record(epoch, model):
        logits = predict_logits(model, x)               # as spurlab.el2n computes it
        p = logits.softmax(1)
        rec["confidence"].append(p[rows, labels].numpy().copy())
        rec["correct"].append((logits.argmax(1) == labels).numpy())
        p[rows, labels] -= 1
        rec["el2n"].append(p.norm(dim=1).numpy())

    fit(config, x, y, num_classes=sc.train.num_classes, callback=record, stop_epoch=epochs,
        device=dev, progress=progress, desc="dynamics")
    d = Dynamics(epochs=np.arange(1, epochs + 1), confidence=np.stack(rec["confidence"]),
                 correct=np.stack(rec["correct"]), el2n=np.stack(rec["el2n"]),
                 groups=sc.train_groups.cpu().numpy(), config=config,
                 target_class=int(sc.target_class))
    entry = {"epochs": d.epochs.tolist(), "confidence": d.confidence.tolist(),
             "correct": d.correct.tolist(), "el2n": d.el2n.tolist(), "groups": d.groups.tolist(),
             "target_class": d.target_class, "config": config.to_dict(), "_dynamics": d}
    CACHE.put("dynamics", key, entry, cache_dir)
    return d


def data_map(dynamics, upto=None):
    """The data map of a recording: per sample, mean confidence, variability and correctness
    over epochs ``1 .. upto``.

    Parameters
    ----------
    dynamics : Dynamics
        From :func:`training_dynamics` (or built by hand).
    upto : int, optional
        Last epoch to include, in ``[1, len(dynamics.epochs)]``; default: every recorded epoch.

    Returns
    -------
    DataMap
        ``confidence`` (mean), ``variability`` (population sd over the epochs), ``correctness``
        (fraction of the epochs correct), each ``(N,)`` float64, and ``epochs`` (= ``upto``).

    Examples
    --------
    >>> d = Dynamics(epochs=[1, 2], confidence=[[0.2, 0.9], [0.6, 0.9]],
    ...              correct=[[False, True], [True, True]], el2n=[[1.0, 0.1], [0.5, 0.1]],
    ...              groups=[8, 9], config=Config())
    >>> m = data_map(d)
    >>> m.confidence.round(3).tolist(), m.variability.round(3).tolist(), m.correctness.tolist()
    ([0.4, 0.9], [0.2, 0.0], [0.5, 1.0])
    >>> data_map(d, upto=3)
    Traceback (most recent call last):
    ...
    ValueError: upto must be an integer in [1, 2], got 3
    """
    if not isinstance(dynamics, Dynamics):
        raise TypeError(f"dynamics must be a Dynamics (see spurlab.training_dynamics); got "
                        f"{type(dynamics).__name__}")
    n = len(dynamics.epochs)
    upto = n if upto is None else check_int("upto", upto, low=1, high=n)
    conf = dynamics.confidence[:upto].astype(np.float64)
    return DataMap(confidence=conf.mean(0), variability=conf.std(0),
                   correctness=dynamics.correct[:upto].mean(0, dtype=np.float64), epochs=upto)


def hardest_of_class(dynamics, ratio, *, epoch=None):
    """The samples of ``c1`` that the label-free arm would prune: the hardest ``ratio`` of the
    class by EL2N after ``epoch``, chosen as :func:`spurlab.prune` chooses them.

    Parameters
    ----------
    dynamics : Dynamics
    ratio : float in [0, 1)
        The prune ratio.
    epoch : int, optional
        The epoch whose EL2N ranks the samples, in ``[1, len(dynamics.epochs)]``; default
        ``dynamics.config.score_epoch``.

    Returns
    -------
    numpy.ndarray (N,) bool
        True for the samples of class ``dynamics.target_class`` that would be pruned.

    Examples
    --------
    >>> d = Dynamics(epochs=[1], confidence=[[0.9, 0.2, 0.5, 0.6]], correct=[[1, 0, 1, 1]],
    ...              el2n=[[0.1, 0.9, 0.6, 0.4]], groups=[8, 8, 9, 2], config=Config())
    >>> hardest_of_class(d, 0.34, epoch=1).tolist()
    [False, True, False, False]
    """
    from .prune import prune

    if not isinstance(dynamics, Dynamics):
        raise TypeError(f"dynamics must be a Dynamics (see spurlab.training_dynamics); got "
                        f"{type(dynamics).__name__}")
    n = len(dynamics.epochs)
    epoch = dynamics.config.score_epoch if epoch is None else epoch
    epoch = check_int("epoch", epoch, low=1, high=n)
    labels = dynamics.labels
    keep = prune(dynamics.el2n[epoch - 1].astype(np.float64), labels, ratio, strategy="hardest",
                 classes=[dynamics.target_class])
    cut = labels == dynamics.target_class
    cut[keep] = False
    return cut


def difficulty_agreement(dynamics, difficulty, *, bins=10, epoch=None):
    """How closely EL2N ranks the samples like a known latent difficulty (the generated shapes'
    ``difficulty``): its Spearman correlation with it after every recorded epoch, and the mean
    EL2N after ``epoch`` in each of ``bins`` equal-width bins of difficulty over [0, 1].

    Parameters
    ----------
    dynamics : Dynamics
    difficulty : array-like (N,)
        In [0, 1], one per training sample, e.g. ``build_scenario(config).train.difficulty``.
    bins : int
    epoch : int, optional
        Default ``dynamics.config.score_epoch``.

    Returns
    -------
    dict
        ``spearman`` (E,) and ``per_bin`` (bins,), NaN for an empty bin.

    Examples
    --------
    >>> d = Dynamics(epochs=[1], confidence=[[0.9, 0.5, 0.2]], correct=[[1, 1, 0]],
    ...              el2n=[[0.1, 0.5, 0.9]], groups=[8, 8, 9], config=Config())
    >>> a = difficulty_agreement(d, [0.05, 0.5, 0.95], bins=2, epoch=1)
    >>> a["spearman"].tolist(), a["per_bin"].round(2).tolist()
    ([1.0], [0.1, 0.7])
    """
    if not isinstance(dynamics, Dynamics):
        raise TypeError(f"dynamics must be a Dynamics (see spurlab.training_dynamics); got "
                        f"{type(dynamics).__name__}")
    d = np.asarray(difficulty, dtype=float)
    if d.shape != dynamics.groups.shape or not ((d >= 0) & (d <= 1)).all():
        raise ValueError(f"difficulty must be one value in [0, 1] per sample ({len(dynamics.groups)}); "
                         f"got shape {d.shape}")
    bins = check_int("bins", bins, low=1)
    epoch = check_int("epoch", dynamics.config.score_epoch if epoch is None else epoch, low=1,
                      high=len(dynamics.epochs))

    def ranks(x):
        return np.argsort(np.argsort(x, kind="stable"), kind="stable").astype(float)

    rd = ranks(d)
    spearman = np.array([np.corrcoef(ranks(e), rd)[0, 1] for e in dynamics.el2n])
    which = np.minimum((d * bins).astype(int), bins - 1)
    e = dynamics.el2n[epoch - 1].astype(np.float64)
    per_bin = np.array([e[which == b].mean() if (which == b).any() else np.nan for b in range(bins)])
    return {"spearman": spearman, "per_bin": per_bin}


MEASURES = ("confidence", "variability", "correctness")


def carrier_gap(dynamics, measure="confidence", *, upto=None):
    """A data-map measure averaged over the carriers minus averaged over the other samples of
    their class (positive ``'confidence'`` gap: the carriers are learned more confidently).

    Parameters
    ----------
    dynamics : Dynamics
    measure : {'confidence', 'variability', 'correctness'}
    upto : int, optional
        As in :func:`data_map`.

    Returns
    -------
    float
        NaN when the class has no carriers or no non-carriers.

    Examples
    --------
    >>> d = Dynamics(epochs=[1, 2], confidence=[[0.2, 0.9, 0.5], [0.6, 0.9, 0.5]],
    ...              correct=[[0, 1, 1], [1, 1, 1]], el2n=[[1.0, 0.1, 0.6], [0.5, 0.1, 0.6]],
    ...              groups=[8, 9, 9], config=Config())
    >>> round(carrier_gap(d), 3), round(carrier_gap(d, "variability"), 3)
    (0.3, -0.2)
    """
    check_choice("measure", measure, MEASURES)
    values = getattr(data_map(dynamics, upto), measure)
    in_class = dynamics.labels == dynamics.target_class
    car, non = in_class & dynamics.carrier, in_class & ~dynamics.carrier
    if not car.any() or not non.any():
        return float("nan")
    return float(values[car].mean() - values[non].mean())


def _ks(a, b):
    """Two-sample Kolmogorov-Smirnov statistic (largest gap of the empirical CDFs, ties counted)."""
    a, b = np.sort(a), np.sort(b)
    grid = np.concatenate([a, b])
    return float(np.max(np.abs(np.searchsorted(a, grid, side="right") / len(a)
                               - np.searchsorted(b, grid, side="right") / len(b))))


def carrier_separation(scores, carrier, *, permutations=200, seed=DEFAULTS["seed"]):
    """Can a score tell the carriers from the other samples of their class? The two-sample
    Kolmogorov-Smirnov (KS) statistic of the carriers' scores against the others', and a
    permutation test: the KS of ``permutations`` random splits of the same scores into groups of
    the same sizes.

    Parameters
    ----------
    scores : array-like (n,)
        One class's scores (e.g. early EL2N of ``c1``).
    carrier : array-like (n,) bool
        Which of them carry the feature (at least one does, at least one does not).
    permutations : int
        Random splits drawn, at least 1.
    seed : int
        Seeds the splits.

    Returns
    -------
    dict
        ``ks``; ``null`` (the permuted KS values, an array); ``ks_chance`` (their 95th
        percentile: what 95% of random splits stay below); ``p`` (the permutation p-value,
        ``(1 + #{null >= ks}) / (1 + permutations)``, never 0).

    Examples
    --------
    >>> out = carrier_separation(np.arange(40) / 40, np.arange(40) >= 20)   # carriers: the top half
    >>> out["ks"], round(out["p"], 4), out["null"].shape
    (1.0, 0.005, (200,))
    """
    s = np.asarray(scores, dtype=np.float64)
    car = np.asarray(carrier).astype(bool)
    if s.ndim != 1 or car.shape != s.shape:
        raise ValueError(f"scores and carrier must be 1-D of the same length; got {s.shape} and "
                         f"{car.shape}")
    if car.all() or not car.any():
        raise ValueError(f"carrier must mark at least one sample and leave at least one unmarked; "
                         f"{int(car.sum())} of {len(car)} are marked")
    permutations = check_int("permutations", permutations, low=1)
    rng = np.random.default_rng(check_int("seed", seed, low=0))
    ks = _ks(s[car], s[~car])
    k = int(car.sum())
    null = np.array([_ks(*np.split(rng.permutation(s), [k])) for _ in range(permutations)])
    return {"ks": ks, "null": null, "ks_chance": float(np.quantile(null, 0.95)),
            "p": float((1 + np.sum(null >= ks)) / (1 + permutations))}


def pooled_p(ks, nulls):
    """One permutation test over seeds: the mean KS over the seeds against the mean, over the
    seeds, of the ``j``-th permuted KS of each seed (independent permutations, so each ``j`` is
    one draw of the mean under "carriers are like the others" in every seed).

    Stronger than any one seed's test and exact, without assuming the seeds agree: with few
    seeds, a small shift that no single seed shows reliably can still be detected.

    Parameters
    ----------
    ks : list of float
        Each seed's KS statistic.
    nulls : list of array-like
        Each seed's permuted KS values (:func:`carrier_separation`'s ``null``), all of one length.

    Returns
    -------
    float
        ``(1 + #{mean of the nulls >= mean KS}) / (1 + permutations)``.

    Examples
    --------
    >>> pooled_p([0.5, 0.6], [[0.1, 0.2, 0.7], [0.2, 0.1, 0.5]])   # means 0.15, 0.15, 0.6 vs 0.55
    0.5
    """
    ks = np.asarray(ks, dtype=np.float64)
    try:
        null = np.asarray(nulls, dtype=np.float64)
    except ValueError:
        raise ValueError("nulls must hold one array per seed, all of the same length") from None
    if ks.ndim != 1 or null.ndim != 2 or len(null) != len(ks) or null.shape[1] == 0:
        raise ValueError(f"ks must hold one value per seed and nulls one non-empty array per seed; "
                         f"got {ks.shape} and {null.shape}")
    mean_null = null.mean(0)
    return float((1 + np.sum(mean_null >= ks.mean())) / (1 + len(mean_null)))


__all__ = ["DataMap", "Dynamics", "MEASURES", "carrier_gap", "carrier_separation", "data_map",
           "difficulty_agreement",
           "hardest_of_class", "pooled_p", "training_dynamics"]
