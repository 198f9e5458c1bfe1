"""The protocol's steps, each callable alone and each cached: train the baseline with its early
scores, run one arm, train the no-carrier reference (each evaluated by :mod:`spurlab.measure`).

    base = baseline(config, scenario)            # ERM model, early scores, metrics
    one  = arm(config, "hardest", scenario)      # prune by the early scores, retrain fresh
    ref  = reference(config, scenario)           # a model that never saw the feature

Every step is cached (:mod:`spurlab.cache`): in memory for the session, and on disk when
``cache_dir=`` or ``SPURLAB_CACHE_DIR`` names a folder. Keys are fingerprints of the knobs a
step depends on (:data:`spurlab.config.KNOB_GROUPS`) or of a custom scenario's content, plus
the device type and the version, so the baseline and its early scores are trained once and
shared by every prune ratio and arm, and the reference model (which never sees the feature)
once per data, recipe and seed. Same config and seed, same numbers, cached or not.
"""

from __future__ import annotations

import dataclasses
import time
import warnings
from dataclasses import dataclass, field

import numpy as np
import torch

from ._version import __version__
from .arms import carriers_by_difficulty, labels_used, occupancy, parse_arm, prune_arm, regime_percentile
from .attribution import ATTRIBUTION, shortcut_attribution
from .build import build_scenario, held_out, scenario_knobs
from .cache import CACHE, fingerprint
from .catalog import REGISTRY, data_fingerprint
from .config import ATTRIBUTION_ARM, LAST_LAYER_ARMS, as_config, knobs
from .device import get_device, thread_policy
from .lastlayer import LAST_LAYER, afr, dfr
from .measure import _evaluate, evaluate, stamp_predictions
from .recipe import fit
from .results import ArmResult, ModelMetrics
from .reweight import upweight_indices
from .scenario import Scenario
from .scores import ForgettingTracker, difficulty
from .train import augmented_view, predict


@dataclass
class Baseline:
    """What :func:`baseline` trained: the ERM model's metrics and the early scores.

    Attributes
    ----------
    metrics : ModelMetrics
    scores : list of float
        ``config.score`` of every training sample at ``config.score_epoch``.
    errors : list of bool
        Training samples misclassified at that epoch (JTT's error set).
    score_model : dict
        How the scoring model did at that epoch (``degenerate`` when near chance).
    regime_percentile : float
        The carriers' mean early-score percentile within the target class.
    stamped_hits : list of int
        Per stamped test image, 1 if predicted the target class.
    history : list of dict
    seconds : float
        Training time (0 when cached).
    model : torch.nn.Module or None
        With ``keep_model=True``.
    """

    metrics: ModelMetrics
    scores: list
    errors: list
    score_model: dict
    regime_percentile: float
    stamped_hits: list = field(repr=False)
    history: list = field(default_factory=list, repr=False)
    seconds: float = 0.0
    model: object = field(default=None, repr=False, compare=False)
    key: str = field(default="", repr=False, compare=False)


@dataclass
class Reference:
    """What :func:`reference` trained: the no-carrier model's metrics (its SMR is the floor of
    the excess SMR) and the stamped test images it sent to the target class."""

    metrics: ModelMetrics
    stamped_hits: list = field(repr=False)
    history: list = field(default_factory=list, repr=False)
    seconds: float = 0.0
    model: object = field(default=None, repr=False, compare=False)


# --------------------------------------------------------------------------- what a step sees

def scenario_key(config, scenario):
    """Fingerprint of the data a step sees: the config's scenario knobs, or a custom scenario's
    content (images, labels, carriers, test sets)."""
    if scenario is None:
        return fingerprint("cfg", scenario_knobs(config), data_fingerprint(config.dataset),
                           __version__)
    return fingerprint("custom", scenario.train.images, scenario.train.labels, scenario.carrier,
                       scenario.test.images, scenario.test.labels, scenario.stamped_test.images,
                       scenario.group_test.images, scenario.group_test_groups,
                       scenario.target_class, scenario.train.num_classes, __version__)


def resolve(config, scenario, device, progress):
    """The config, the scenario a step runs on (the given one, or the config's) and its key."""
    config = as_config(config)
    thread_policy()                   # $SPURLAB_THREADS and $SPURLAB_CACHE_MEMORY_MB are read
    CACHE.budget()                    # during the work: a bad one is refused before it starts
    if scenario is not None and not isinstance(scenario, Scenario):
        raise TypeError(f"scenario must be a spurlab Scenario (see spurlab.make_scenario); got "
                        f"{type(scenario).__name__}")
    sc = scenario if scenario is not None else build_scenario(config, device=device,
                                                               progress=progress)
    return config, sc, scenario_key(config, scenario)


def _baseline_key(config, skey, dev):
    return fingerprint(skey, knobs(config, "recipe", "score"), dev.type)


def _stored(entry):
    """A cache entry's fields, the metrics as their dict (JSON on disk)."""
    return {**entry, "metrics": ModelMetrics.from_dict(entry["metrics"])}


def _entry(metrics, **fields):
    return {"metrics": metrics.to_dict(), **fields}


def _cached(kind, key, compute, *, cache, cache_dir, need=()):
    """The cache entry ``kind``/``key``, computed by ``compute()`` and stored on a miss, and the
    seconds it took (0 when it came from the cache). The trained model is kept in memory only
    when it was asked for (``'_model'`` in ``need``)."""
    hit = CACHE.get(kind, key, cache_dir, need=need) if cache else None
    if hit is not None:
        return hit, 0.0
    hit = compute()
    if cache:
        kept = hit if "_model" in need else {k: v for k, v in hit.items() if k != "_model"}
        CACHE.put(kind, key, kept, cache_dir)
    return hit, hit["seconds"]


# --------------------------------------------------------------------------- the baseline

def baseline(config=None, scenario=None, *, device=None, progress=False, on_epoch=None,
             keep_model=False, cache=True, cache_dir=None):
    """Train the baseline (ERM) and record every training sample's early difficulty score.

    Parameters
    ----------
    config : Config or str, optional
        The recipe and score knobs (and, without ``scenario``, the data).
    scenario : Scenario, optional
        Your own data and feature (:func:`spurlab.make_scenario`); default: the config's.
    device, progress
    on_epoch : callable, optional
        ``on_epoch(epoch, model)`` after each baseline epoch (live plots; not on a cache hit).
    keep_model : bool
        Include the trained model (retrains when only a disk copy of the numbers exists).
    cache : bool
        Read and write the engine's cache (``False``: train afresh, store nothing).
    cache_dir : str, optional
        Folder for the disk cache (default ``$SPURLAB_CACHE_DIR``, else memory only).

    Returns
    -------
    Baseline
    """
    dev = get_device(device)
    config, sc, skey = resolve(config, scenario, dev, progress)
    key = _baseline_key(config, skey, dev)

    def compute():
        t = time.perf_counter()
        model, scores, hist, errors = _early_scores(config, sc, dev, progress, on_epoch)
        s_np = scores.numpy().astype(np.float64)
        metrics, hits = _evaluate(model, sc, dev)
        return _entry(metrics, stamped_hits=hits, scores=s_np.tolist(), errors=errors.tolist(),
                      score_model=_score_model(config, errors, sc.train.num_classes),
                      regime_percentile=regime_percentile(s_np, sc.carrier.numpy(),
                                                          sc.train.labels.numpy(), sc.target_class),
                      history=hist, seconds=time.perf_counter() - t, _model=model,
                      config=config.to_dict())     # provenance of the disk file

    hit, seconds = _cached("baseline", key, compute, cache=cache, cache_dir=cache_dir,
                           need=("_model",) if keep_model else ())
    h = _stored(hit)
    return Baseline(h["metrics"], h["scores"], h["errors"], h["score_model"],
                    h["regime_percentile"], h["stamped_hits"], h["history"], seconds,
                    h.get("_model") if keep_model else None, key)


def _score_model(config, errors, num_classes):
    """How the baseline scored at ``score_epoch`` in eval mode (the mode scores are taken in).

    Early in training on few steps, BatchNorm's running statistics lag and the eval-mode
    model can predict one class; its scores then rank nothing. Flagged (and warned about)
    below chance + 10 points."""
    acc = 1.0 - float(errors.float().mean())
    floor = 1.0 / num_classes + 0.10
    degenerate = acc < floor
    if degenerate:
        warnings.warn(f"the scoring model is degenerate at score_epoch={config.score_epoch}: its "
                      f"eval-mode accuracy is {acc:.2f} (chance + 10 points = {floor:.2f}), so its "
                      f"{config.score.upper()} ranks carry little signal; score later or train "
                      "with more steps per epoch (smaller batch_size)", RuntimeWarning,
                      stacklevel=5)        # the caller of baseline (run, or the user)
    return {"epoch": config.score_epoch, "eval_accuracy": acc, "chance_plus_10": floor,
            "degenerate": bool(degenerate)}


def _early_scores(config, scenario, dev, progress, on_epoch):
    """Train the baseline; return ``(model, scores, history, errors)``, the scores averaged
    over ``config.score_seeds`` seeds (extra seeds train only up to ``score_epoch``)."""
    x, y, K = scenario.train.images, scenario.train.labels, scenario.train.num_classes
    recorded = {}
    tracker = ForgettingTracker(x, y) if config.score == "forgetting" else None

    def cb(epoch, model):
        if tracker is not None:
            tracker(epoch, model)
        if epoch == config.score_epoch:
            if tracker is None:     # with augmentation: on one augmented view (the reference)
                recorded["s"] = difficulty(model, augmented_view(x, config.augment, config.seed),
                                           y, config.score)
            if "extra_seed" not in recorded:
                recorded["errors"] = predict(model, x) != y
        if on_epoch is not None and "extra_seed" not in recorded:
            on_epoch(epoch, model)

    model, hist = fit(config, x, y, num_classes=K, device=dev, progress=progress, callback=cb,
                      desc="baseline")
    runs = [tracker.scores() if tracker is not None else recorded["s"]]
    errors = recorded["errors"]
    for extra in range(1, config.score_seeds):
        recorded.clear()
        recorded["extra_seed"] = True
        tracker = ForgettingTracker(x, y) if config.score == "forgetting" else None
        fit(config, x, y, seed=config.seed + 1000 * extra, num_classes=K, device=dev,
            progress=progress, callback=cb,
            stop_epoch=None if tracker is not None else config.score_epoch,
            desc=f"score seed {extra + 1}")
        runs.append(tracker.scores() if tracker is not None else recorded["s"])
    return model, torch.stack(runs).mean(0), hist, errors


# --------------------------------------------------------------------------- one arm

def arm(config, name, scenario=None, *, base=None, device=None, progress=False,
        keep_model=False, cache=True, cache_dir=None):
    """One arm: prune by the baseline's early scores (or upweight, for ``'jtt'``) and retrain
    a fresh model with the same recipe.

    Parameters
    ----------
    config : Config or str
        Recipe, score and ``prune_ratio`` (``jtt_upweight`` for ``'jtt'``).
    name : str
        ``'hardest'``, ``'random'``, ``'easiest'``, with an optional scope (``'/global'``,
        ``'/target'``, ``'/oracle'``, ``'/sparing'``), or ``'jtt'``.
    scenario : Scenario, optional
    base : Baseline, optional
        The baseline of this config and scenario (:func:`baseline`), if you already have it;
        the baseline of another config, seed or scenario is refused.
    device, progress, keep_model, cache, cache_dir
        As in :func:`baseline`.

    Returns
    -------
    ArmResult
        With ``history``, ``seconds`` (0 when cached) and, with ``keep_model``, ``model``.
    """
    strategy, scope = parse_arm(name)
    dev = get_device(device)
    config, sc, skey = resolve(config, scenario, dev, progress)
    base_key = _baseline_key(config, skey, dev)
    if base is not None:
        if not isinstance(base, Baseline):
            raise TypeError(f"base must be the Baseline that spurlab.baseline returns; got "
                            f"{type(base).__name__}")
        if base.key and base.key != base_key:
            raise ValueError("base must be the baseline of this config and scenario (same data, "
                             "recipe, score and seed); it was trained for another one: call "
                             "spurlab.baseline(config, scenario) or leave base out")
    # "arm/2": entries that record which carriers were removed by difficulty (older ones do not)
    knob = (config.jtt_upweight if strategy == "jtt" else LAST_LAYER
            if strategy in LAST_LAYER_ARMS else (config.prune_ratio, ATTRIBUTION)
            if strategy == ATTRIBUTION_ARM else config.prune_ratio)
    key = fingerprint(base_key, name, knob, "arm/2")

    def compute():
        check_arm(config, name, sc, custom=scenario is not None)
        last = strategy in LAST_LAYER_ARMS        # needs the ERM model itself
        b = (base if base is not None and not (last and base.model is None) else
             baseline(config, scenario, device=dev, progress=progress, cache=cache,
                      cache_dir=cache_dir, keep_model=last))
        return _run_arm(config, name, strategy, sc, b, dev, progress)

    hit, seconds = _cached("arm", key, compute, cache=cache, cache_dir=cache_dir,
                           need=("_model",) if keep_model else ())
    record = {k: v for k, v in hit.items() if not k.startswith("_")
              and k not in ("config", "history", "seconds")}
    out = ArmResult.from_dict({"name": name, "strategy": strategy, "scope": scope,
                               "labels_used": labels_used(name), **record})
    return dataclasses.replace(out, history=hit["history"], seconds=seconds,
                               model=hit.get("_model") if keep_model else None)


def check_arm(config, name, scenario, *, custom=False):
    """Refuse, before any training, an arm that cannot run on ``scenario``: oracle pruning
    without carriers, a prune ratio that would empty a class or the carriers, a last-layer arm
    without a held-out split (a custom scenario, or data that is not generated). The arm's own
    pruning runs on placeholder scores, so the message is the one the real run would give."""
    strategy, _ = parse_arm(name)
    if strategy in LAST_LAYER_ARMS or strategy == ATTRIBUTION_ARM:
        if custom:
            raise ValueError(f"arm {name!r} needs a held-out split drawn like the config's data; "
                             "a custom scenario (run(scenario=...)) has none: leave the arm out")
        held_out(config)                   # refuses data without a generator, by name
        if strategy == ATTRIBUTION_ARM:
            check_arm(config, "hardest", scenario)      # it prunes as many as 'hardest'
    elif strategy != "jtt":
        prune_arm(name, np.zeros(len(scenario.train)), scenario.train.labels.numpy(),
                  config.prune_ratio, carrier=scenario.carrier.numpy(),
                  target_class=scenario.target_class, seed=config.seed)


def _cuts(pruned, carriers, labels, sc, scores):
    """Which carriers were removed, by the early scores and by the latent difficulty."""
    def cut_by(difficulty):
        return carriers_by_difficulty(pruned, carriers, labels, sc.target_class, difficulty)

    out = cut_by(np.asarray(scores))
    latent = sc.train.difficulty
    cut = (cut_by(latent.numpy())
           if latent is not None else dict.fromkeys(("removed_percentile", "kept_percentile",
                                                     "hard_removed")))
    out.update({f"latent_{k}": cut[k] for k in ("removed_percentile", "kept_percentile",
                                                "hard_removed")})
    return out


def _run_arm(config, name, strategy, sc, base, dev, progress):
    """Prune (or upweight), retrain and evaluate: the arm's cache entry."""
    y = sc.train.labels
    carriers = sc.carrier.numpy()
    t = time.perf_counter()
    if strategy in LAST_LAYER_ARMS:
        like_train, group_val, groups = held_out(config)
        model = (dfr(base.model, group_val.images, group_val.labels, groups, seed=config.seed,
                     device=dev) if strategy == "dfr" else
                 afr(base.model, like_train.images, like_train.labels, device=dev))
        h = []
        out = _entry(evaluate(model, sc, device=dev), n_kept=int(len(y)), carriers_pruned=0,
                     pruned=[], pruned_by_group=[0] * sc.num_groups)
    elif strategy == "jtt":
        errors = np.asarray(base.errors, dtype=bool)
        idx = upweight_indices(errors, config.jtt_upweight)
        model, h = fit(config, sc.train.images[idx], y[idx], num_classes=sc.train.num_classes,
                       device=dev, progress=progress, desc="retrain jtt")
        out = _entry(evaluate(model, sc, device=dev), n_kept=int(len(idx)), carriers_pruned=0,
                     pruned=[], pruned_by_group=[0] * sc.num_groups,
                     upweighted=int(errors.sum()),
                     upweighted_carriers=int(carriers[errors].sum()))
    else:
        keep = (_blamed_kept(config, sc, base, dev) if strategy == ATTRIBUTION_ARM else
                prune_arm(name, np.asarray(base.scores), y.numpy(), config.prune_ratio,
                          carrier=carriers, target_class=sc.target_class, seed=config.seed))
        model, h = fit(config, sc.train.images[keep], y[keep], num_classes=sc.train.num_classes,
                       device=dev, progress=progress, desc=f"retrain {name}")
        pruned = np.setdiff1d(np.arange(len(y)), keep)
        out = _entry(evaluate(model, sc, device=dev), n_kept=int(len(keep)),
                     carriers_pruned=int(carriers[pruned].sum()),
                     pruned_by_group=np.bincount(sc.train_groups.numpy()[pruned],
                                                 minlength=sc.num_groups).tolist(),
                     pruned=pruned.tolist(),
                     **occupancy(pruned, carriers, y.numpy(), sc.target_class),
                     **_cuts(pruned, carriers, y.numpy(), sc, base.scores))
    out.update(history=h, seconds=time.perf_counter() - t, _model=model, config=config.to_dict())
    return out


def _blamed_kept(config, sc, base, dev):
    """The samples the attribution arm keeps: all but as many as ``'hardest'`` prunes, those
    with the most blame for the shortcut at the scoring checkpoint (retrained to
    ``score_epoch``: same seed, same model as the baseline's scores came from)."""
    x, y = sc.train.images, sc.train.labels
    n_cut = len(y) - len(prune_arm("hardest", np.asarray(base.scores), y.numpy(),
                                   config.prune_ratio, seed=config.seed))
    ckpt, _ = fit(config, x, y, num_classes=sc.train.num_classes, device=dev,
                  stop_epoch=config.score_epoch, desc="attribution checkpoint")
    _, group_val, groups = held_out(config)
    probe = group_val.images[(groups % 2 == 1) & (group_val.labels != sc.target_class)]
    blame = shortcut_attribution(ckpt, x, y, probe, sc.target_class, seed=config.seed)
    order = np.argsort(-blame.numpy(), kind="mergesort")
    return np.sort(order[n_cut:])


# --------------------------------------------------------------------------- the reference

def reference(config, scenario=None, *, device=None, progress=False, keep_model=False,
              cache=True, cache_dir=None):
    """The no-carrier reference: a model trained with the same recipe on the data without the
    spurious feature (``scenario.clean_train``), evaluated on the scenario's test sets. Its SMR
    is the floor for "excess SMR".

    The model does not depend on the feature, so it is trained once per data, recipe and seed
    and re-evaluated for every feature setting.

    Returns
    -------
    Reference
    """
    dev = get_device(device)
    config, sc, skey = resolve(config, scenario, dev, progress)
    clean = sc.reference_train()
    by_config = scenario is None and REGISTRY[config.dataset].attribute is None
    model_key = (fingerprint("ref-cfg", knobs(config, "data", "recipe"),
                             data_fingerprint(config.dataset), dev.type, __version__)
                 if by_config else
                 fingerprint("ref-data", clean.images, clean.labels, knobs(config, "recipe"),
                             dev.type, __version__))
    eval_key = fingerprint(model_key, skey)

    def compute():
        t = time.perf_counter()
        trained = CACHE.get("reference-model", model_key, need=("_model",)) if cache else None
        if trained is None:
            model, h = fit(config, clean.images, clean.labels, num_classes=sc.train.num_classes,
                           device=dev, progress=progress, desc="reference")
            trained = {"_model": model, "history": h}
            if cache:
                CACHE.put("reference-model", model_key, trained, memory_only=True)
        metrics, hits = _evaluate(trained["_model"], sc, dev)
        return _entry(metrics, stamped_hits=hits, history=trained["history"],
                      seconds=time.perf_counter() - t, _model=trained["_model"],
                      config=config.to_dict())

    hit, seconds = _cached("reference", eval_key, compute, cache=cache, cache_dir=cache_dir,
                           need=("_model",) if keep_model else ())
    h = _stored(hit)
    return Reference(h["metrics"], h["stamped_hits"], h["history"], seconds,
                     h.get("_model") if keep_model else None)


__all__ = ["Baseline", "Reference", "arm", "baseline", "check_arm", "evaluate", "reference",
           "resolve", "scenario_key", "stamp_predictions"]     # the last two from spurlab.measure
