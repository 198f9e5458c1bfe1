"""The experiment pipeline in one call: train (ERM) -> score at an early epoch -> prune ->
retrain a fresh model -> evaluate, with a config that round-trips to a short string.

Examples
--------
>>> cfg = Config.from_string("salience=0.5 prevalence=0.2 seed=3")
>>> cfg.salience, cfg.seed, Config.from_string(cfg.to_string()) == cfg
(0.5, 3, True)
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import platform
import tempfile
import time
from dataclasses import dataclass, field, fields

import numpy as np
import torch

from . import __version__
from ._validate import check_choice, check_fraction, check_int, check_seed
from .datasets import DATASETS, load_dataset
from .device import get_device
from .features import FEATURES, make_feature
from .metrics import (
    accuracy,
    group_accuracies,
    group_balanced_accuracy,
    spurious_misclassification_rate,
    worst_group_accuracy,
)
from .models import MODELS, make_model
from .prune import STRATEGIES, prune
from .reweight import upweight_indices
from .scenario import PLACEMENTS, make_scenario
from .scores import SCORES, ForgettingTracker, difficulty, percentile_within
from .train import predict, train

SCOPES = ("class", "global", "target", "oracle")


@dataclass(frozen=True)
class Config:
    """Every knob of one experiment; defaults are the embedded teaching setting.

    ``to_string()`` writes only the knobs that differ from the defaults, e.g.
    ``"salience=0.6 prune_ratio=0.2 seed=1"``; ``Config.from_string`` reads it back.
    ``scope`` says which samples pruning may remove: ``'class'`` (the top ``prune_ratio`` of
    every class, label-free, the paper's default), ``'global'``, ``'target'`` (class ``c1``
    only) or ``'oracle'`` (carriers only: the identifiable setting).
    """

    dataset: str = "shapes"
    n_train: int = 6000
    n_test: int = 1800
    image_size: int = 16
    feature: str = "line"
    salience: float = 0.5
    orientation: str = "horizontal"
    thickness: int = 1
    target_class: int = 4
    prevalence: float = 0.3
    placement: str = "random"
    band_low: float = 0.0
    band_high: float = 1.0
    model: str = "tiny"
    epochs: int = 15
    batch_size: int = 128
    lr: float = 0.05
    weight_decay: float = 5e-4
    score: str = "el2n"
    score_epoch: int = 3
    score_seeds: int = 1
    prune_ratio: float = 0.25
    jtt_upweight: int = 5
    strategy: str = "hardest"
    scope: str = "class"
    seed: int = 0

    def __post_init__(self):
        check_choice("dataset", self.dataset, DATASETS + ("celeba",))
        check_int("n_train", self.n_train, low=60)
        check_int("n_test", self.n_test, low=60)
        check_int("image_size", self.image_size, low=8, high=64)
        check_choice("feature", self.feature, FEATURES)
        check_fraction("salience", self.salience)
        check_choice("orientation", self.orientation, ("horizontal", "vertical"))
        check_int("thickness", self.thickness, low=1)
        check_int("target_class", self.target_class, low=0)
        check_fraction("prevalence", self.prevalence)
        check_choice("placement", self.placement, tuple(p for p in PLACEMENTS if p != "indices"))
        check_fraction("band_low", self.band_low)
        check_fraction("band_high", self.band_high)
        if self.band_low >= self.band_high:
            raise ValueError(f"band_low must be below band_high; got {self.band_low} >= "
                             f"{self.band_high}")
        check_choice("model", self.model, MODELS)
        check_int("epochs", self.epochs, low=1)
        check_int("batch_size", self.batch_size, low=2)
        check_fraction("lr", self.lr, high=10, low_open=True)
        check_fraction("weight_decay", self.weight_decay)
        check_choice("score", self.score, SCORES)
        check_int("score_epoch", self.score_epoch, low=1, high=self.epochs)
        check_int("score_seeds", self.score_seeds, low=1)
        check_fraction("prune_ratio", self.prune_ratio, high_open=True)
        check_int("jtt_upweight", self.jtt_upweight, low=1)
        check_choice("strategy", self.strategy, STRATEGIES)
        check_choice("scope", self.scope, SCOPES)
        check_seed(self.seed)

    def replace(self, **changes):
        """A copy with some knobs changed (validated)."""
        return dataclasses.replace(self, **changes)

    def to_string(self):
        """Short ``key=value`` string of the knobs that differ from the defaults."""
        default = Config()
        parts = [f"{f.name}={getattr(self, f.name)}" for f in fields(self)
                 if getattr(self, f.name) != getattr(default, f.name)]
        return " ".join(parts) if parts else "default"

    @classmethod
    def from_string(cls, text):
        """Parse a string written by :meth:`to_string` (``'default'`` or ``key=value ...``)."""
        text = (text or "").strip()
        if text in ("", "default"):
            return cls()
        types = {f.name: f.type for f in fields(cls)}
        kwargs = {}
        for item in text.replace(",", " ").split():
            key, sep, raw = item.partition("=")
            if not sep or key not in types:
                raise ValueError(f"config string item {item!r} is not key=value with a key among "
                                 f"{', '.join(types)}")
            t = types[key]
            try:
                kwargs[key] = int(raw) if t == "int" else float(raw) if t == "float" else raw
            except ValueError:
                raise ValueError(f"{key} must be {t}; got {raw!r}") from None
        return cls(**kwargs)

    def to_dict(self):
        return dataclasses.asdict(self)


def evaluate(model, scenario, *, device=None):
    """All metrics of ``model`` on a scenario's test sets, as a flat dict.

    Keys: ``clean_accuracy`` (average accuracy on the clean test set), ``smr`` (spurious
    misclassification rate on stamped non-c1 images), ``smr_clean`` (its clean baseline),
    ``worst_group_accuracy``, ``group_balanced_accuracy`` and ``group_accuracy`` (list, one per
    group ``2*class + stamped``) on the group-labelled test set.
    """
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
    return {
        "clean_accuracy": accuracy(clean_pred, scenario.test.labels),
        "smr": spurious_misclassification_rate(stamped_pred, scenario.stamped_test.labels, c1),
        "smr_clean": spurious_misclassification_rate(clean_pred, scenario.test.labels, c1),
        "worst_group_accuracy": worst_group_accuracy(g_pred, g_y, g_g, G),
        "group_balanced_accuracy": group_balanced_accuracy(g_pred, g_y, g_g, G),
        "group_accuracy": [None if math.isnan(a) else a
                           for a in group_accuracies(g_pred, g_y, g_g, G).tolist()],
    }


def arm_name(strategy, scope):
    """Name of a pruning arm: ``'hardest'``, ``'random'``, ``'hardest/target'``, ..."""
    return strategy if scope == "class" else f"{strategy}/{scope}"


def parse_arm(name):
    """``'hardest/oracle'`` -> ``('hardest', 'oracle')``; scope defaults to ``'class'``.

    The special arm ``'jtt'`` (no pruning: JTT-style upweighting of the samples the baseline
    misclassifies at ``score_epoch``, repeated ``jtt_upweight`` times) parses to
    ``('jtt', 'class')``.
    """
    if name == "jtt":
        return "jtt", "class"
    strategy, _, scope = str(name).partition("/")
    check_choice("strategy", strategy, STRATEGIES)
    check_choice("scope", scope or "class", SCOPES)
    return strategy, scope or "class"


@dataclass
class Result:
    """Everything one run produced; ``to_json``/``save`` write it without pickle."""

    config: Config
    baseline: dict
    arms: dict
    reference: dict | None
    regime_percentile: float
    carriers: int
    scenario: str
    timings: dict
    environment: dict
    history: dict = field(default_factory=dict)
    scores: list | None = None

    def excess_removed(self, arm):
        """Fraction of the baseline's *excess* SMR (over the no-carrier reference model's SMR)
        that pruning arm ``arm`` removes; NaN without a reference or without excess."""
        if self.reference is None:
            return float("nan")
        excess = self.baseline["smr"] - self.reference["smr"]
        if excess <= 0:
            return float("nan")
        return (self.baseline["smr"] - self.arms[arm]["metrics"]["smr"]) / excess

    def table(self):
        """A plain-text table of the headline metrics, one row per model."""
        rows = []
        if self.reference is not None:
            rows.append(("no carriers (reference)", self.reference, None, None))
        rows.append(("baseline (ERM)", self.baseline, None, None))
        for name, arm in self.arms.items():
            label = (f"upweight jtt x{self.config.jtt_upweight}" if name == "jtt"
                     else f"prune {name} p={self.config.prune_ratio:g}")
            rows.append((label, arm["metrics"], arm["carriers_pruned"], self.excess_removed(name)))
        head = (f"{'model':<28} {'clean acc':>9} {'SMR':>7} {'SMR clean':>9} {'worst grp':>9} "
                f"{'carriers cut':>12} {'excess cut':>10}")
        lines = [head, "-" * len(head)]
        for label, m, cut, ex in rows:
            cut_s = "" if cut is None else f"{cut}/{self.carriers}"
            ex_s = "" if ex is None or math.isnan(ex) else f"{ex:.0%}"
            lines.append(f"{label:<28} {m['clean_accuracy']:>9.3f} {m['smr']:>7.3f} "
                         f"{m['smr_clean']:>9.3f} {m['worst_group_accuracy']:>9.3f} "
                         f"{cut_s:>12} {ex_s:>10}")
        lines.append(f"regime: carriers' mean early-{self.config.score.upper()} difficulty "
                     f"percentile within class {self.config.target_class} is "
                     f"{self.regime_percentile:.0f} "
                     f"(~50 = spread evenly, weak signal; low = among the easiest, strong signal)")
        return "\n".join(lines)

    def to_dict(self):
        d = dataclasses.asdict(self)
        d["config"] = self.config.to_dict()
        d["config_string"] = self.config.to_string()
        d["excess_removed"] = {k: self.excess_removed(k) for k in self.arms}
        return _jsonable(d)

    def to_json(self, **kw):
        return json.dumps(self.to_dict(), **kw)

    def save(self, path):
        """Write JSON atomically (temporary file, then rename)."""
        atomic_write_text(path, self.to_json(indent=1))

    @classmethod
    def from_dict(cls, d):
        d = dict(d)
        d.pop("config_string", None)
        d.pop("excess_removed", None)
        d["config"] = Config(**d["config"])
        if d.get("regime_percentile") is None:  # NaN is stored as null in JSON
            d["regime_percentile"] = float("nan")
        return cls(**d)

    @classmethod
    def load(cls, path):
        with open(path) as f:
            return cls.from_dict(json.load(f))


def _jsonable(x):
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        x = float(x)
        return None if math.isnan(x) else x
    return x


def atomic_write_text(path, text):
    """Write ``text`` to ``path`` via a temporary file in the same folder and a rename, so a
    crash never leaves a half-written file."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".json")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def environment(device):
    return {"spurlab": __version__, "torch": torch.__version__, "python": platform.python_version(),
            "device": str(device), "threads": torch.get_num_threads()}


def make_config_feature(config):
    """The spurious feature a config describes."""
    if config.feature == "line":
        return make_feature("line", salience=config.salience, orientation=config.orientation,
                            thickness=config.thickness)
    return make_feature(config.feature, salience=config.salience)


def build_scenario(config, *, device=None, progress=False, root=None, download=False):
    """Data and scenario of ``config``: ``(scenario, clean_train)``.

    Placements that rank ``c1`` by difficulty use the dataset's latent difficulty when it has
    one, else the ``config.score`` at ``config.score_epoch`` of a model trained on the clean data.

    ``dataset='celeba'`` builds the paper's Male vs Female split with the natural attribute
    Eyeglasses (:func:`spurlab.scenario.attribute_scenario`): ``n_train`` images in the paper's
    proportions (1/4 males without glasses, 1/4 with, 1/2 females without), up to
    ``n_test // 4`` test images per group; salience, prevalence and feature do not apply, and
    ``clean_train`` is the training set without the carriers (the no-carrier model's data).
    """
    if config.dataset == "celeba":
        return _celeba_scenario(config, root=root, download=download)
    train_set, test_set = load_dataset(config.dataset, n_train=config.n_train,
                                       n_test=config.n_test, size=config.image_size,
                                       seed=config.seed, root=root, download=download)
    if config.target_class >= train_set.num_classes:
        raise ValueError(f"target_class must be in [0, {train_set.num_classes - 1}] for "
                         f"dataset {config.dataset!r}; got {config.target_class}")
    scores = None
    if config.placement in ("easiest", "hardest", "band") and train_set.difficulty is None:
        scores = placement_scores(config, train_set, device=device, progress=progress)
    feat = make_config_feature(config)
    sc = make_scenario(train_set, test_set, feat, config.target_class, config.prevalence,
                       placement=config.placement, scores=scores,
                       band=(config.band_low, config.band_high), seed=config.seed)
    return sc, train_set


def placement_scores(config, train_set, *, device=None, progress=False):
    """How hard each clean training sample is, for placing carriers by difficulty.

    The dataset's latent difficulty when it has one (the embedded shapes), else the
    ``config.score`` (EL2N for ``'forgetting'``) at epoch ``config.score_epoch`` of a model
    trained with ``config``'s recipe on the clean data; higher = harder either way. This is what
    ``build_scenario`` ranks by for ``placement='easiest' | 'hardest' | 'band'``.

    Examples
    --------
    >>> from spurlab.datasets import load_dataset
    >>> cfg = Config(n_train=600, n_test=120)
    >>> train, _ = load_dataset("shapes", n_train=600, n_test=120)
    >>> bool((placement_scores(cfg, train) == train.difficulty).all())
    True
    """
    if train_set.difficulty is not None:
        return train_set.difficulty
    got = {}

    def cb(epoch, model):
        if epoch == config.score_epoch:
            got["s"] = difficulty(model, train_set.images, train_set.labels,
                                  "el2n" if config.score == "forgetting" else config.score)

    _fit(config, train_set.images, train_set.labels, train_set.num_classes, seed=config.seed,
         device=device, progress=progress, callback=cb, stop_epoch=config.score_epoch,
         desc="rank carriers")
    return got["s"]


def _celeba_scenario(config, *, root, download):
    """CelebA Male vs Female with Eyeglasses (the paper's split, scaled to ``n_train``)."""
    from .celeba import load_celeba
    from .scenario import attribute_scenario

    if config.target_class != 1:
        raise ValueError(f"target_class must be 1 (male) for dataset 'celeba': eyeglasses occur "
                         f"only among the training males; got {config.target_class}")
    if config.placement != "random":
        raise ValueError(f"placement must be 'random' for dataset 'celeba' (its carriers are the "
                         f"males with eyeglasses); got {config.placement!r}")
    q = config.n_train // 4                 # the paper's 2,500 / 2,500 / 5,000 proportions
    train_set, _, test_set = load_celeba(root, download=download, size=config.image_size,
                                         counts=(q, q, config.n_train - 2 * q),
                                         max_eval=max(1, config.n_test // 4), seed=config.seed,
                                         val=False)
    glasses_train = (train_set.meta["groups"] % 2).bool()
    glasses_test = (test_set.meta["groups"] % 2).bool()
    sc = attribute_scenario(train_set, test_set, glasses_train, glasses_test, 1, name="Eyeglasses")
    # an attribute cannot be taken off an image: the no-carrier model trains without the carriers
    return sc, train_set.subset((~glasses_train).nonzero().flatten())


def _fit(config, images, labels, n_classes, *, seed, device, progress, callback=None,
         stop_epoch=None, desc="train"):
    model = make_model(config.model, in_channels=images.shape[1], num_classes=n_classes,
                       image_size=images.shape[-1], seed=seed)
    hist = train(model, images, labels, epochs=config.epochs, batch_size=config.batch_size,
                 lr=config.lr, weight_decay=config.weight_decay, seed=seed, device=device,
                 callback=callback, stop_epoch=stop_epoch, progress=progress, desc=desc)
    return model, hist


def early_scores(config, scenario, *, device=None, progress=False, on_epoch=None):
    """Train the baseline and return ``(model, scores, history, errors)``, with ``scores`` the
    ``config.score`` of every training sample at epoch ``config.score_epoch`` (averaged over
    ``config.score_seeds`` seeds; extra seeds train only up to that epoch).

    ``errors`` marks the training samples the baseline misclassifies at ``score_epoch`` (the
    error set of the ``'jtt'`` arm). ``on_epoch`` is called during the baseline run only.
    """
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

    model, hist = _fit(config, x, y, K, seed=config.seed, device=device, progress=progress,
                       callback=cb, desc="baseline")
    runs = [tracker.scores() if tracker is not None else recorded["s"]]
    errors = recorded["errors"]
    for extra in range(1, config.score_seeds):
        recorded.clear()
        recorded["extra_seed"] = True
        tracker = ForgettingTracker(x, y) if config.score == "forgetting" else None
        _fit(config, x, y, K, seed=config.seed + 1000 * extra, device=device, progress=progress,
             callback=cb, stop_epoch=None if tracker is not None else config.score_epoch,
             desc=f"score seed {extra + 1}")
        runs.append(tracker.scores() if tracker is not None else recorded["s"])
    return model, torch.stack(runs).mean(0), hist, errors


def run(config=None, *, arms=None, reference=True, device=None, progress=False, on_epoch=None):
    """Run the whole protocol for one config and return a :class:`Result`.

    Parameters
    ----------
    config : Config or str, optional
        Default: ``Config()``. A string is parsed with :meth:`Config.from_string`.
    arms : sequence of str, optional
        Pruning arms to retrain, each ``'strategy'`` or ``'strategy/scope'`` (e.g.
        ``['hardest', 'random', 'easiest', 'hardest/oracle']``). Default: the config's own.
    reference : bool
        Also train a model on the same data *without* carriers; its SMR is the floor used for
        "excess SMR removed".
    device : str, optional
    progress : bool
        tqdm bars.
    on_epoch : callable, optional
        ``on_epoch(epoch, model)`` during the baseline run (live plots).

    Examples
    --------
    >>> r = run("n_train=600 n_test=120 epochs=2 score_epoch=1", reference=False)
    >>> sorted(r.arms), 0 <= r.baseline["smr"] <= 1
    (['hardest'], True)
    """
    if config is None:
        config = Config()
    elif isinstance(config, str):
        config = Config.from_string(config)
    elif not isinstance(config, Config):
        raise TypeError(f"config must be a Config or a config string; got {type(config).__name__}")
    arms = [arm_name(config.strategy, config.scope)] if arms is None else list(arms)
    parsed = {name: parse_arm(name) for name in arms}
    dev = get_device(device)
    t0 = time.perf_counter()
    timings = {}

    sc, clean_train = build_scenario(config, device=dev, progress=progress)
    timings["data"] = time.perf_counter() - t0

    t = time.perf_counter()
    base_model, scores, hist, errors = early_scores(config, sc, device=dev, progress=progress,
                                            on_epoch=on_epoch)
    baseline = evaluate(base_model, sc, device=dev)
    timings["baseline"] = time.perf_counter() - t
    history = {"baseline": hist}

    y = sc.train.labels
    c1 = config.target_class
    s_np = scores.numpy().astype(np.float64)
    c1_idx = np.flatnonzero(y.numpy() == c1)
    carriers = sc.carrier.numpy()
    regime = (float(np.mean(percentile_within(s_np, np.flatnonzero(carriers), c1_idx)))
              if carriers.any() else float("nan"))

    results = {}
    for name, (strategy, scope) in parsed.items():
        t = time.perf_counter()
        if strategy == "jtt":
            idx = upweight_indices(errors.numpy(), config.jtt_upweight)
            model, h = _fit(config, sc.train.images[idx], y[idx], sc.train.num_classes,
                            seed=config.seed, device=dev, progress=progress, desc="retrain jtt")
            results[name] = {"metrics": evaluate(model, sc, device=dev), "n_kept": int(len(idx)),
                             "carriers_pruned": 0, "pruned": [],
                             "pruned_by_group": [0] * sc.num_groups,
                             "upweighted": int(errors.sum()),
                             "upweighted_carriers": int(carriers[errors.numpy()].sum())}
            history[name] = h
            timings["retrain jtt"] = time.perf_counter() - t
            continue
        kw = {"per_class": scope in ("class", "target", "oracle")}
        if scope == "target":
            kw["classes"] = [c1]
        if scope == "oracle":
            if not carriers.any():
                raise ValueError("scope='oracle' needs carriers; prevalence is 0")
            kw["within"] = carriers
        keep = prune(s_np, y.numpy(), config.prune_ratio, strategy=strategy, seed=config.seed, **kw)
        model, h = _fit(config, sc.train.images[keep], y[keep], sc.train.num_classes,
                        seed=config.seed, device=dev, progress=progress, desc=f"retrain {name}")
        pruned = np.setdiff1d(np.arange(len(y)), keep)
        g = sc.train_groups.numpy()
        results[name] = {
            "metrics": evaluate(model, sc, device=dev),
            "n_kept": int(len(keep)),
            "carriers_pruned": int(carriers[pruned].sum()),
            "pruned_by_group": np.bincount(g[pruned], minlength=sc.num_groups).tolist(),
            "pruned": pruned.tolist(),
        }
        history[name] = h
        timings[f"retrain {name}"] = time.perf_counter() - t

    ref = None
    if reference:
        t = time.perf_counter()
        model, h = _fit(config, clean_train.images, clean_train.labels, clean_train.num_classes,
                        seed=config.seed, device=dev, progress=progress, desc="reference")
        ref = evaluate(model, sc, device=dev)
        history["reference"] = h
        timings["reference"] = time.perf_counter() - t
    timings["total"] = time.perf_counter() - t0
    return Result(config, baseline, results, ref, regime, int(carriers.sum()), sc.describe(),
                  timings, environment(dev), history, s_np.tolist())


PRESETS = {
    "full": Config(),
    # notebooks' quick mode: a smaller set and a shorter schedule; claims re-checked with
    # scripts/check_claims.py --config (see README)
    "quick": Config(n_train=3000, n_test=900, epochs=10, score_epoch=2),
    # a plumbing check (every notebook cell runs in seconds); its numbers teach nothing
    "smoke": Config(n_train=600, n_test=300, epochs=3, score_epoch=1),
}


# what a dataset changes in a preset, so that ``preset(mode, dataset=name)`` is the one line a
# notebook changes to switch data; keys: dataset, then mode (explicit changes still win)
DATASET_PRESETS = {
    "mnist": {"full": {"image_size": 28}, "quick": {"image_size": 28},
              "smoke": {"image_size": 28}},
    "fashion_mnist": {"full": {"image_size": 28}, "quick": {"image_size": 28},
                      "smoke": {"image_size": 28}},
    "cifar10": {"full": {"image_size": 32, "target_class": 0, "n_train": 10000, "n_test": 2000},
                "quick": {"image_size": 32, "target_class": 0, "n_train": 5000, "n_test": 2000},
                "smoke": {"image_size": 32, "target_class": 0}},
    # CelebA Male (1) vs Female with Eyeglasses: the reproduce --quick scale
    "celeba": {"full": {"image_size": 64, "target_class": 1, "n_train": 4000, "n_test": 800},
               "quick": {"image_size": 32, "target_class": 1, "n_train": 1000, "n_test": 400,
                         "epochs": 8, "score_epoch": 3},
               "smoke": {"image_size": 32, "target_class": 1, "n_test": 240}},
}


def preset(name="quick", **changes):
    """The ``'quick'`` (notebooks, seconds per run), ``'full'`` (defaults) or ``'smoke'`` (every
    step in a second or two, for checking that code runs; its numbers mean nothing) config, with
    changes.

    ``dataset=`` also applies that dataset's defaults (image size, c1, size of the subset; see
    ``DATASET_PRESETS``), so switching a notebook to real data is one changed line:
    ``preset(MODE, dataset="cifar10")``. Other changes override them.

    Examples
    --------
    >>> preset("quick", salience=0.3).n_train
    3000
    >>> preset("quick", dataset="cifar10").image_size
    32
    """
    check_choice("preset", name, tuple(PRESETS))
    dataset = changes.get("dataset", PRESETS[name].dataset)
    base = DATASET_PRESETS.get(dataset, {}).get(name, {})
    return PRESETS[name].replace(**{**base, **changes})


def summarize(values):
    """Mean, standard deviation and count of a list of numbers (NaNs dropped), as a dict."""
    v = np.asarray([x for x in values if x is not None and not math.isnan(x)], dtype=float)
    if len(v) == 0:
        return {"mean": float("nan"), "sd": float("nan"), "n": 0}
    return {"mean": float(v.mean()), "sd": float(v.std(ddof=1)) if len(v) > 1 else 0.0,
            "n": int(len(v))}
