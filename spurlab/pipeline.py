"""The engine: one recipe (:func:`fit`) and the protocol built from steps a user can call alone.

    scenario  = build_scenario(config)               # data + spurious feature (or your own)
    base      = baseline(config, scenario)           # ERM model, early scores, metrics
    one_arm   = arm(config, "hardest", scenario)     # prune by the early scores, retrain fresh
    ref       = reference(config, scenario)          # a model that never saw the feature
    result    = run(config, scenario=scenario, arms=["hardest", "random"])   # all of it

Every step is cached (:mod:`spurlab.cache`): in memory for the session, and on disk when
``cache_dir=`` or ``SPURLAB_CACHE_DIR`` names a folder. Keys are fingerprints of what a step
depends on, so the baseline and its early scores are trained once and shared by every prune
ratio and arm, and the reference model (which never sees the feature) once per data, recipe
and seed. Same config and seed, same numbers, cached or not.

Examples
--------
>>> r = run("n_train=600 n_test=120 epochs=2 score_epoch=1", reference=False)
>>> sorted(r.arms), 0 <= r.baseline["smr"] <= 1
(['hardest'], True)
"""

from __future__ import annotations

import math
import time
import warnings

import numpy as np
import torch

from . import __version__
from ._validate import check_choice, check_seed, check_seeds
from .cache import CACHE, fingerprint
from .catalog import load_dataset
from .config import SCOPES, Config, as_config
from .device import get_device
from .features import make_feature
from .metrics import (
    accuracy,
    group_accuracies,
    group_balanced_accuracy,
    spurious_misclassification_rate,
    worst_group_accuracy,
)
from .models import make_model
from .prune import STRATEGIES, prune
from .results import Result, environment
from .reweight import upweight_indices
from .scenario import Scenario, make_scenario
from .scores import ForgettingTracker, difficulty, percentile_within
from .stats import shortcut_verdict
from .train import predict, train

# knobs that only change what happens after the baseline is trained
PRUNE_KNOBS = ("prune_ratio", "strategy", "scope", "jtt_upweight")
# knobs of the recipe every model is trained with
RECIPE_KNOBS = ("model", "pretrained", "epochs", "batch_size", "lr", "momentum", "weight_decay",
                "schedule", "seed")
# knobs that build the clean data (the reference model's training set)
DATA_KNOBS = ("dataset", "n_train", "n_test", "image_size", "seed")
SCORE_KNOBS = ("score", "score_epoch", "score_seeds")


def _knobs(config, names):
    return {k: getattr(config, k) for k in names}


# --------------------------------------------------------------------------- the recipe

def fit(config, images, labels, *, seed=None, num_classes=None, callback=None, stop_epoch=None,
        device=None, progress=False, desc="train", batch_callback=None):
    """Train a fresh model with ``config``'s recipe; return ``(model, history)``.

    The one place where spurlab trains: the baseline, every arm, the reference model,
    ``spurlab reproduce``, the scripts and the notebooks all call it.

    Parameters
    ----------
    config : Config or str
        Supplies the recipe: ``model``, ``pretrained``, ``epochs``, ``batch_size``, ``lr``,
        ``momentum``, ``weight_decay``, ``schedule`` (and ``seed`` when ``seed`` is not given).
    images : torch.Tensor (N, C, H, W); labels : torch.Tensor (N,)
    seed : int, optional
        Seeds initialisation and batch order (default ``config.seed``).
    num_classes : int, optional
        Output size (default ``labels.max() + 1``).
    callback : callable, optional
        ``callback(epoch, model)`` after each epoch, model in eval mode.
    stop_epoch : int, optional
        Stop after this epoch, keeping the full-length schedule (early scores).
    batch_callback : callable, optional
        ``batch_callback(indices, logits, labels)`` after each optimizer step (see
        :func:`spurlab.train.train`), e.g. the ``batch_callback`` of
        ``ForgettingTracker(images, labels, per="presentation")`` for Toneva et al.'s
        per-presentation forgetting count.
    device : str, optional
        Default: cuda, else mps, else cpu.
    progress : bool
    desc : str
        Label of the progress bar.

    Examples
    --------
    >>> from spurlab import load_dataset, preset
    >>> tr, _ = load_dataset("shapes", n_train=300, n_test=60)
    >>> model, hist = fit(preset("smoke", epochs=1, score_epoch=1), tr.images, tr.labels)
    >>> len(hist)
    1
    """
    config = as_config(config)
    seed = config.seed if seed is None else check_seed(seed)
    if num_classes is None:
        num_classes = int(labels.max()) + 1 if len(labels) else 0
    model = make_model(config.model, in_channels=images.shape[1], num_classes=num_classes,
                       image_size=images.shape[-1], seed=seed, pretrained=config.pretrained)
    hist = train(model, images, labels, epochs=config.epochs, batch_size=config.batch_size,
                 lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay,
                 schedule=config.schedule, seed=seed, device=device, callback=callback,
                 stop_epoch=stop_epoch, progress=progress, desc=desc, batch_callback=batch_callback)
    return model, hist


# --------------------------------------------------------------------------- data

def make_config_feature(config):
    """The spurious feature a config describes."""
    if config.feature == "line":
        return make_feature("line", salience=config.salience, orientation=config.orientation,
                            thickness=config.thickness)
    return make_feature(config.feature, salience=config.salience)


def build_scenario(config, *, device=None, progress=False, root=None, download=False):
    """The :class:`~spurlab.scenario.Scenario` a config describes (cached for the session).

    Placements that rank ``target_class`` by difficulty use the dataset's latent difficulty
    when it has one, else :func:`placement_scores`. ``scenario.clean_train`` is the data
    without the feature, on which the reference model trains.

    ``dataset='celeba'`` builds the paper's Male vs Female split with the natural attribute
    Eyeglasses (:func:`spurlab.scenario.attribute_scenario`): ``n_train`` images in the paper's
    proportions (1/4 males without glasses, 1/4 with, 1/2 females without), up to
    ``n_test // 4`` test images per group, kept as uint8 (4x less memory); salience,
    prevalence and feature do not apply, and ``clean_train`` is the training set without the
    carriers. ``dataset='waterbirds'`` (files placed by hand, see :mod:`spurlab.waterbirds`)
    takes up to ``n_train`` / ``n_test`` images of the official splits, the water background
    as the attribute of class 1 (waterbird), the spurious-aligned images (groups 0 and 3) as
    the carriers and a group-balanced ``clean_train``. Both go through
    :data:`ATTRIBUTE_DATASETS`.

    Examples
    --------
    >>> sc = build_scenario("n_train=600 n_test=120")
    >>> sc.target_class, int(sc.carrier.sum()) > 0
    (4, True)
    """
    config = as_config(config)
    key = fingerprint("scenario", _knobs(config, [k for k in config.to_dict()
                                                  if k not in PRUNE_KNOBS]), root, __version__)
    hit = CACHE.get("scenario", key, need=("_scenario",))
    if hit is not None:
        return hit["_scenario"]
    if config.dataset in ATTRIBUTE_DATASETS:
        sc = _attribute_scenario(config, root=root, download=download)
    else:
        train_set, test_set = load_dataset(config.dataset, n_train=config.n_train,
                                           n_test=config.n_test, size=config.image_size,
                                           seed=config.seed, root=root, download=download)
        if config.target_class >= train_set.num_classes:
            raise ValueError(f"target_class must be in [0, {train_set.num_classes - 1}] for "
                             f"dataset {config.dataset!r}; got {config.target_class}")
        scores = None
        if config.placement in ("easiest", "hardest", "band") and train_set.difficulty is None:
            scores = placement_scores(config, train_set, device=device, progress=progress)
        sc = make_scenario(train_set, test_set, make_config_feature(config), config.target_class,
                           config.prevalence, placement=config.placement, scores=scores,
                           band=(config.band_low, config.band_high),
                           n_carriers=config.n_carriers, seed=config.seed)
    CACHE.put("scenario", key, {"_scenario": sc}, memory_only=True)
    return sc


def placement_scores(config, train_set, *, device=None, progress=False):
    """How hard each clean training sample is, for placing carriers by difficulty.

    The dataset's latent difficulty when it has one (the embedded shapes), else the
    ``config.score`` (EL2N for ``'forgetting'``) at epoch ``config.score_epoch`` of a model
    trained with ``config``'s recipe on the clean data; higher = harder either way.

    Examples
    --------
    >>> from spurlab import load_dataset
    >>> cfg = Config(n_train=600, n_test=120)
    >>> train, _ = load_dataset("shapes", n_train=600, n_test=120)
    >>> bool((placement_scores(cfg, train) == train.difficulty).all())
    True
    """
    config = as_config(config)
    if train_set.difficulty is not None:
        return train_set.difficulty
    # cached by the data's content, the recipe and the score: every placement, band and count
    # of carriers on the same data reuses one ranking
    key = fingerprint("placement", train_set.images, train_set.labels,
                      _knobs(config, RECIPE_KNOBS + SCORE_KNOBS), __version__)
    hit = CACHE.get("placement", key, need=("_scores",))
    if hit is not None:
        return hit["_scores"]
    got = {}

    def cb(epoch, model):
        if epoch == config.score_epoch:
            got["s"] = difficulty(model, train_set.images, train_set.labels,
                                  "el2n" if config.score == "forgetting" else config.score)

    fit(config, train_set.images, train_set.labels, num_classes=train_set.num_classes,
        device=device, progress=progress, callback=cb, stop_epoch=config.score_epoch,
        desc="rank carriers")
    CACHE.put("placement", key, {"_scores": got["s"]}, memory_only=True)
    return got["s"]


def _celeba_scenario(config, *, root, download):
    """CelebA Male vs Female with Eyeglasses (the paper's split, scaled to ``n_train``)."""
    from .celeba import load_celeba
    from .scenario import attribute_scenario

    q = config.n_train // 4                 # the paper's 2,500 / 2,500 / 5,000 proportions
    # uint8 images and no validation set: 2.1 GB instead of 10.7 GB at the paper's 224 px
    train_set, _, test_set = load_celeba(root, download=download, size=config.image_size,
                                         counts=(q, q, config.n_train - 2 * q),
                                         max_eval=max(1, config.n_test // 4), seed=config.seed,
                                         dtype="uint8", val=False)
    glasses_train = (train_set.meta["groups"] % 2).bool()
    glasses_test = (test_set.meta["groups"] % 2).bool()
    return attribute_scenario(train_set, test_set, glasses_train, glasses_test, 1,
                              name="Eyeglasses")


def _waterbirds_scenario(config, *, root, download):
    """Waterbirds, bird x background: at most ``n_train`` / ``n_test`` images of the official
    train and test splits, every group keeping its share (:func:`spurlab.waterbirds.
    waterbirds_scenario`). The files are placed by hand: ``download`` has nothing to fetch."""
    from .waterbirds import load_waterbirds, waterbirds_scenario

    train_set, _, test_set = load_waterbirds(root, size=config.image_size,
                                             split_sizes={"train": config.n_train,
                                                          "test": config.n_test},
                                             seed=config.seed, dtype="uint8", val=False)
    return waterbirds_scenario(train_set, test_set, seed=config.seed)


# datasets whose spurious feature is an attribute the images already carry (nothing is
# stamped): name -> (builder of the scenario, its target class, why only that class, who the
# carriers are). build_scenario, the reference model and ``spurlab reproduce`` treat them alike.
ATTRIBUTE_DATASETS = {
    "celeba": (_celeba_scenario, 1, "1 (male) for dataset 'celeba': eyeglasses occur only "
               "among the training males", "the males with eyeglasses"),
    "waterbirds": (_waterbirds_scenario, 1, "1 (waterbird) for dataset 'waterbirds': water "
                   "backgrounds go with waterbirds in training", "the spurious-aligned images, "
                   "landbirds on land and waterbirds on water"),
}


def _attribute_scenario(config, *, root, download):
    """The scenario of a dataset in :data:`ATTRIBUTE_DATASETS`, its knobs checked first."""
    build, target_class, why, carriers = ATTRIBUTE_DATASETS[config.dataset]
    if config.target_class != target_class:
        raise ValueError(f"target_class must be {why}; got {config.target_class}")
    if config.placement != "random":
        raise ValueError(f"placement must be 'random' for dataset {config.dataset!r} (its "
                         f"carriers are {carriers}); got {config.placement!r}")
    return build(config, root=root, download=download)


def _scenario_key(config, scenario):
    """Fingerprint of the data a step sees: the config's data knobs, or a custom scenario's
    content (images, labels, carriers, test sets)."""
    if scenario is None:
        return fingerprint("cfg", _knobs(config, [k for k in config.to_dict()
                                                  if k not in PRUNE_KNOBS]), __version__)
    return fingerprint("custom", scenario.train.images, scenario.train.labels, scenario.carrier,
                       scenario.test.images, scenario.test.labels, scenario.stamped_test.images,
                       scenario.group_test.images, scenario.group_test_groups,
                       scenario.target_class, scenario.train.num_classes, __version__)


def _resolve(config, scenario, device, progress):
    config = as_config(config)
    if scenario is not None and not isinstance(scenario, Scenario):
        raise TypeError(f"scenario must be a spurlab Scenario (see spurlab.make_scenario); got "
                        f"{type(scenario).__name__}")
    sc = scenario if scenario is not None else build_scenario(config, device=device,
                                                               progress=progress)
    return config, sc, _scenario_key(config, scenario)


# --------------------------------------------------------------------------- the steps

def evaluate(model, scenario, *, device=None):
    """All metrics of ``model`` on a scenario's test sets, as a flat dict.

    Keys: ``clean_accuracy`` (average accuracy on the clean test set), ``smr`` (spurious
    misclassification rate on stamped test images of the other classes), ``smr_clean`` (its
    clean baseline), ``worst_group_accuracy``, ``group_balanced_accuracy`` and
    ``group_accuracy`` (list, one per group ``2*class + stamped``; ``None`` for an empty group)
    on the group-labelled test set.
    """
    return _evaluate(model, scenario, device)[0]


def _evaluate(model, scenario, device):
    """:func:`evaluate` and, per stamped test image, 1 if predicted the target class."""
    c1 = scenario.target_class
    clean_pred = predict(model, scenario.test.images, device=device)
    stamped_pred = predict(model, scenario.stamped_test.images, device=device)
    n = len(scenario.test)
    g_pred = clean_pred
    if len(scenario.group_test) > n:     # a stamped copy of the test set (not for attributes)
        g_pred = torch.cat([clean_pred, predict(model, scenario.group_test.images[n:],
                                                device=device)])
    g_y, g_g = scenario.group_test.labels, scenario.group_test_groups
    G = scenario.num_groups
    hits = (stamped_pred == c1).long().tolist()
    return {
        "clean_accuracy": accuracy(clean_pred, scenario.test.labels),
        "smr": spurious_misclassification_rate(stamped_pred, scenario.stamped_test.labels, c1),
        "smr_clean": spurious_misclassification_rate(clean_pred, scenario.test.labels, c1),
        "worst_group_accuracy": worst_group_accuracy(g_pred, g_y, g_g, G),
        "group_balanced_accuracy": group_balanced_accuracy(g_pred, g_y, g_g, G),
        "group_accuracy": [None if math.isnan(a) else a
                           for a in group_accuracies(g_pred, g_y, g_g, G).tolist()],
    }, hits


def regime_percentile(scores, carrier, labels, target_class):
    """The carriers' mean difficulty percentile (0-100) within ``target_class``; NaN without
    carriers. About 50: spread evenly over difficulty; low: among the easiest. It describes
    where the carriers sit on average; it does not say whether the hard tail holds them."""
    carrier = np.asarray(carrier, dtype=bool)
    if not carrier.any():
        return float("nan")
    c1_idx = np.flatnonzero(np.asarray(labels) == target_class)
    return float(np.mean(percentile_within(scores, np.flatnonzero(carrier), c1_idx)))


def arm_name(strategy, scope):
    """Name of a pruning arm: ``'hardest'``, ``'random'``, ``'hardest/target'``, ..."""
    return strategy if scope == "class" else f"{strategy}/{scope}"


def parse_arm(name):
    """``'hardest/oracle'`` -> ``('hardest', 'oracle')``; scope defaults to ``'class'``.

    The special arm ``'jtt'`` (no pruning: JTT-style upweighting of the samples the baseline
    misclassifies at ``score_epoch``, repeated ``jtt_upweight`` times) parses to
    ``('jtt', 'class')``.
    """
    if not isinstance(name, str):
        raise TypeError(f"arm must be a str such as 'hardest' or 'hardest/oracle'; got "
                        f"{name!r} ({type(name).__name__})")
    if name == "jtt":
        return "jtt", "class"
    strategy, _, scope = name.partition("/")
    check_choice("arm strategy", strategy, STRATEGIES + ("jtt",))
    check_choice("arm scope", scope or "class", SCOPES)
    return strategy, scope or "class"


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


def prune_arm(name, scores, labels, ratio, *, carrier=None, target_class=None, seed=0):
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
    strategy, scope = parse_arm(name)
    if strategy == "jtt":
        raise ValueError("arm 'jtt' upweights, it does not prune; see spurlab.arm")
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

    ``occupancy`` > 1: the pruned set is richer in carriers than the class (pruning targets
    them, as when hard carriers fill the hard tail under a weak signal); < 1: it spares them
    (as under a strong signal, where carriers are easy and leave the hard tail); NaN when
    nothing was pruned from the target class or it has no carriers.

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


def carrier_cut(result, arm, scenario=None):
    """Share of the carriers that arm ``arm`` would prune on ``result``'s early scores, without
    retraining (:func:`prune_arm` on the cached scenario), e.g. what random pruning *would*
    take next to what the hardest arm took.

    Examples
    --------
    >>> r = run("n_train=600 n_test=120 epochs=2 score_epoch=1", arms=[], reference=False)
    >>> 0 <= carrier_cut(r, "random") <= 1
    True
    """
    sc = scenario if scenario is not None else build_scenario(result.config)
    carrier = sc.carrier.numpy()
    if not carrier.any():
        return float("nan")
    keep = prune_arm(arm, np.asarray(result.scores), sc.train.labels.numpy(),
                     result.config.prune_ratio, carrier=carrier, target_class=sc.target_class,
                     seed=result.config.seed)
    return float(1 - carrier[keep].sum() / carrier.sum())


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
    dict
        ``metrics`` (:func:`evaluate`), ``scores`` (``config.score`` at ``config.score_epoch``,
        list), ``errors`` (training samples misclassified at that epoch, list of bool; JTT's
        error set), ``regime_percentile``, ``history``, ``seconds`` (0 when cached) and, with
        ``keep_model``, ``model``.
    """
    dev = get_device(device)
    config, sc, skey = _resolve(config, scenario, dev, progress)
    key = fingerprint(skey, _knobs(config, RECIPE_KNOBS + SCORE_KNOBS))
    need = ("_model",) if keep_model else ()
    hit = CACHE.get("baseline", key, cache_dir, need=need) if cache else None
    if hit is not None:
        return _public(hit, cached=True)
    t = time.perf_counter()
    model, scores, hist, errors = _early_scores(config, sc, dev, progress, on_epoch)
    s_np = scores.numpy().astype(np.float64)
    metrics, hits = _evaluate(model, sc, dev)
    out = {"metrics": metrics, "stamped_hits": hits, "scores": s_np.tolist(),
           "errors": errors.tolist(),
           "score_model": _score_model(config, errors, sc.train.num_classes),
           "regime_percentile": regime_percentile(s_np, sc.carrier.numpy(),
                                                  sc.train.labels.numpy(), sc.target_class),
           "history": hist, "seconds": time.perf_counter() - t, "_model": model,
           "config": config.to_dict()}              # provenance of the disk file; not returned
    if cache:
        CACHE.put("baseline", key, out, cache_dir)
    return _public(out, cached=False)


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
                      stacklevel=3)
    return {"epoch": config.score_epoch, "eval_accuracy": acc, "chance_plus_10": floor,
            "degenerate": bool(degenerate)}


def _public(entry, *, cached):
    out = {k: v for k, v in entry.items() if not k.startswith("_") and k != "config"}
    if "_model" in entry:
        out["model"] = entry["_model"]
    if cached:
        out["seconds"] = 0.0
    return out


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
            if tracker is None:
                recorded["s"] = difficulty(model, x, y, config.score)
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
        ``'/target'``, ``'/oracle'``), or ``'jtt'``.
    scenario : Scenario, optional
    base : dict, optional
        The baseline of this config and scenario (:func:`baseline`), if you already have it.
    device, progress, keep_model, cache, cache_dir
        As in :func:`baseline`.

    Returns
    -------
    dict
        ``metrics``, ``n_kept``, ``carriers_pruned``, ``pruned_by_group``, ``pruned``
        (indices), ``history``, ``seconds``; for ``'jtt'``: ``upweighted`` and
        ``upweighted_carriers`` (``pruned`` empty); with ``keep_model``, ``model``.
    """
    strategy, _ = parse_arm(name)
    dev = get_device(device)
    config, sc, skey = _resolve(config, scenario, dev, progress)
    base_key = fingerprint(skey, _knobs(config, RECIPE_KNOBS + SCORE_KNOBS))
    key = fingerprint(base_key, name, config.prune_ratio if strategy != "jtt"
                      else config.jtt_upweight)
    need = ("_model",) if keep_model else ()
    hit = CACHE.get("arm", key, cache_dir, need=need) if cache else None
    if hit is not None:
        return _public(hit, cached=True)
    if base is None:
        base = baseline(config, scenario, device=dev, progress=progress, cache=cache,
                        cache_dir=cache_dir)
    y = sc.train.labels
    carriers = sc.carrier.numpy()
    t = time.perf_counter()
    if strategy == "jtt":
        errors = np.asarray(base["errors"], dtype=bool)
        idx = upweight_indices(errors, config.jtt_upweight)
        model, h = fit(config, sc.train.images[idx], y[idx], num_classes=sc.train.num_classes,
                       device=dev, progress=progress, desc="retrain jtt")
        out = {"metrics": evaluate(model, sc, device=dev), "n_kept": int(len(idx)),
               "carriers_pruned": 0, "pruned": [], "pruned_by_group": [0] * sc.num_groups,
               "upweighted": int(errors.sum()),
               "upweighted_carriers": int(carriers[errors].sum())}
    else:
        keep = prune_arm(name, np.asarray(base["scores"]), y.numpy(), config.prune_ratio,
                         carrier=carriers, target_class=sc.target_class, seed=config.seed)
        model, h = fit(config, sc.train.images[keep], y[keep], num_classes=sc.train.num_classes,
                       device=dev, progress=progress, desc=f"retrain {name}")
        pruned = np.setdiff1d(np.arange(len(y)), keep)
        out = {"metrics": evaluate(model, sc, device=dev), "n_kept": int(len(keep)),
               "carriers_pruned": int(carriers[pruned].sum()),
               "pruned_by_group": np.bincount(sc.train_groups.numpy()[pruned],
                                              minlength=sc.num_groups).tolist(),
               "pruned": pruned.tolist(),
               **occupancy(pruned, carriers, y.numpy(), sc.target_class)}
    out.update(history=h, seconds=time.perf_counter() - t, _model=model, config=config.to_dict())
    if cache:
        CACHE.put("arm", key, out, cache_dir)
    return _public(out, cached=False)


def reference(config, scenario=None, *, device=None, progress=False, keep_model=False,
              cache=True, cache_dir=None):
    """The no-carrier reference: a model trained with the same recipe on the data without the
    spurious feature (``scenario.clean_train``), evaluated on the scenario's test sets. Its SMR
    is the floor for "excess SMR".

    The model does not depend on the feature, so it is trained once per data, recipe and seed
    and re-evaluated for every feature setting.

    Returns
    -------
    dict
        ``metrics``, ``history``, ``seconds`` (0 when cached); with ``keep_model``, ``model``.
    """
    dev = get_device(device)
    config, sc, skey = _resolve(config, scenario, dev, progress)
    clean = sc.reference_train()
    model_key = (fingerprint("ref-cfg", _knobs(config, DATA_KNOBS + RECIPE_KNOBS), __version__)
                 if scenario is None and config.dataset not in ATTRIBUTE_DATASETS else
                 fingerprint("ref-data", clean.images, clean.labels,
                             _knobs(config, RECIPE_KNOBS), __version__))
    eval_key = fingerprint(model_key, skey)
    need = ("_model",) if keep_model else ()
    hit = CACHE.get("reference", eval_key, cache_dir, need=need) if cache else None
    if hit is not None:
        return _public(hit, cached=True)
    t = time.perf_counter()
    trained = CACHE.get("reference-model", model_key, need=("_model",)) if cache else None
    if trained is None:
        model, h = fit(config, clean.images, clean.labels, num_classes=sc.train.num_classes,
                       device=dev, progress=progress, desc="reference")
        trained = {"_model": model, "history": h}
        if cache:
            CACHE.put("reference-model", model_key, trained, memory_only=True)
    metrics, hits = _evaluate(trained["_model"], sc, dev)
    out = {"metrics": metrics, "stamped_hits": hits, "history": trained["history"],
           "seconds": time.perf_counter() - t, "_model": trained["_model"],
           "config": config.to_dict()}
    if cache:
        CACHE.put("reference", eval_key, out, cache_dir)
    return _public(out, cached=False)


def run(config=None, *, scenario=None, arms=None, reference=True, keep_models=False,
        device=None, progress=False, on_epoch=None, cache=True, cache_dir=None):
    """Run the whole protocol and return a :class:`~spurlab.results.Result`: baseline (ERM)
    with early scores -> each arm (prune, retrain fresh) -> the no-carrier reference ->
    evaluate.

    Parameters
    ----------
    config : Config or str, optional
        Default: ``Config()``. A string is parsed with :meth:`Config.from_string`. With
        ``scenario=``, the config supplies the recipe, score and pruning knobs only.
    scenario : Scenario, optional
        Any scenario built by :func:`spurlab.make_scenario` (your data through
        :func:`spurlab.from_tensors`, your feature, e.g. ``Pattern(mask=...)``, carriers by
        ``n_carriers`` or placed by your scores).
    arms : list of str, optional
        Arms to run, each ``'strategy'`` or ``'strategy/scope'``, or ``'jtt'`` (e.g.
        ``['hardest', 'random', 'easiest', 'hardest/oracle']``). Default: the config's own.
    reference : bool
        Also train a model on the data *without* carriers; its SMR is the floor used for
        "excess SMR removed".
    keep_models : bool
        Keep the trained models on ``result.models`` (``'baseline'``, each arm,
        ``'reference'``); never serialised.
    device : str, optional
    progress : bool
        tqdm bars.
    on_epoch : callable, optional
        ``on_epoch(epoch, model)`` during the baseline run (live plots; not on a cache hit).
    cache : bool
        Reuse and store results in the engine's cache (default). ``False`` retrains everything.
    cache_dir : str, optional
        Folder for the disk cache (default ``$SPURLAB_CACHE_DIR``, else memory only).

    Examples
    --------
    >>> r = run("n_train=600 n_test=120 epochs=2 score_epoch=1", arms=["random"], reference=False)
    >>> sorted(r.arms), r.reference is None
    (['random'], True)
    """
    config = as_config(config)
    arms = check_arms([arm_name(config.strategy, config.scope)] if arms is None else arms)
    dev = get_device(device)
    t0 = time.perf_counter()
    config, sc, _ = _resolve(config, scenario, dev, progress)
    timings = {"data": time.perf_counter() - t0}
    kw = dict(device=dev, progress=progress, keep_model=keep_models, cache=cache,
              cache_dir=cache_dir)
    base = baseline(config, scenario, on_epoch=on_epoch, **kw)
    timings["baseline"] = base["seconds"]
    history = {"baseline": base["history"]}
    models = {"baseline": base.get("model")}
    results = {}
    for name in arms:
        a = arm(config, name, scenario, base=base, **kw)
        results[name] = {k: v for k, v in a.items() if k not in ("history", "seconds", "model")}
        history[name] = a["history"]
        models[name] = a.get("model")
        timings[f"retrain {name}"] = a["seconds"]
    ref = verdict = None
    if reference:
        r = reference_step(config, scenario, **kw)
        ref = r["metrics"]
        verdict = shortcut_verdict(base["stamped_hits"], r["stamped_hits"])
        history["reference"] = r["history"]
        models["reference"] = r.get("model")
        timings["reference"] = r["seconds"]
    timings["total"] = time.perf_counter() - t0
    return Result(config, base["metrics"], results, ref, base["regime_percentile"],
                  int(sc.carrier.sum()), sc.describe(), timings, environment(dev), history,
                  base["scores"], models if keep_models else None, shortcut=verdict,
                  score_model=base["score_model"])


reference_step = reference  # ``run`` has an argument named ``reference``


def run_seeds(config, seeds, *, scenario=None, arms=None, reference=True, device=None,
              progress=False, cache=True, cache_dir=None):
    """:func:`run` for each seed (cached); returns the list of results.

    Without ``scenario`` each seed also draws its own data and carriers (the config's seed
    seeds everything); with ``scenario`` the data stay fixed and the seed varies
    initialisation, batch order and random pruning.

    Examples
    --------
    >>> rs = run_seeds("n_train=600 n_test=120 epochs=2 score_epoch=1", [0, 1], reference=False)
    >>> [r.config.seed for r in rs]
    [0, 1]
    """
    config = as_config(config)
    seeds = check_seeds(seeds)
    return [run(config.replace(seed=s), scenario=scenario, arms=arms, reference=reference,
                device=device, progress=progress, cache=cache, cache_dir=cache_dir)
            for s in seeds]


__all__ = ["Config", "arm", "arm_name", "baseline", "build_scenario", "carrier_cut", "check_arms",
           "evaluate", "fit", "make_config_feature", "occupancy", "parse_arm", "placement_scores",
           "prune_arm",
           "reference", "regime_percentile", "run", "run_seeds"]
