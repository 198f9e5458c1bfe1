"""Every knob of one experiment, its default and why, in one place; presets.

The defaults live in :data:`spurlab.defaults.DEFAULTS` (one commented table in the style of
airbench's hyperparameter dict); :class:`Config`, :func:`spurlab.train`, :class:`spurlab.Line`
and :func:`spurlab.make_scenario` read them, and nothing in spurlab restates them.
A config round-trips to a short string of the knobs that differ from the defaults.

Examples
--------
>>> cfg = Config.from_string("salience=0.5 prevalence=0.2 seed=3")
>>> cfg.prevalence, cfg.seed, Config.from_string(cfg.to_string()) == cfg
(0.2, 3, True)
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, fields

from ._validate import check_choice, check_fraction, check_int, check_seed
from .catalog import DATASETS
from .defaults import DEFAULTS
from .features import FEATURES
from .models import MODELS
from .prune import STRATEGIES
from .scores import SCORES
from .train import AUGMENTS, NORMALIZATIONS, SCHEDULES

# which samples pruning may remove (see Config)
SCOPES = ("class", "global", "target", "oracle", "sparing")
# arms that retrain only the last layer of the ERM model on a held-out split
# (spurlab.lastlayer): DFR uses its group labels, the AFR-style arm none
LAST_LAYER_ARMS = ("dfr", "afr")
# arms that are not named 'strategy/scope': they prune nothing
SPECIAL_ARMS = ("jtt",) + LAST_LAYER_ARMS
# the arm that prunes the samples a gradient attribution blames for the shortcut, scored on
# stamped validation images (spurlab.attribution): as many as 'hardest' prunes, over all classes
ATTRIBUTION_ARM = "attribution"
# the paper's comparison at one prune ratio: label-free hardest, two controls (random, easiest)
# and oracle pruning within the carriers (the identifiable setting)
PAPER_ARMS = ("hardest", "random", "easiest", "hardest/oracle")
# which samples carry the feature; 'indices' (an explicit list) exists only in make_scenario
CONFIG_PLACEMENTS = ("random", "easiest", "hardest", "band")

@dataclass(frozen=True)
class Config:
    """Every knob of one experiment; defaults (and why) in :data:`DEFAULTS`.

    ``to_string()`` writes only the knobs that differ from the defaults, e.g.
    ``"salience=0.6 prune_ratio=0.2 seed=1"``; ``Config.from_string`` reads it back.
    ``scope`` says which samples pruning may remove: ``'class'`` (the top ``prune_ratio`` of
    every class, label-free, the paper's default), ``'global'``, ``'target'`` (class
    ``target_class`` only), ``'oracle'`` (carriers only: the identifiable setting) or
    ``'sparing'`` (the control: as many of every class as ``'class'``, never a carrier).
    """

    dataset: str = DEFAULTS["dataset"]
    n_train: int = DEFAULTS["n_train"]
    n_test: int = DEFAULTS["n_test"]
    image_size: int = DEFAULTS["image_size"]
    feature: str = DEFAULTS["feature"]
    salience: float = DEFAULTS["salience"]
    orientation: str = DEFAULTS["orientation"]
    thickness: int = DEFAULTS["thickness"]
    target_class: int = DEFAULTS["target_class"]
    prevalence: float = DEFAULTS["prevalence"]
    placement: str = DEFAULTS["placement"]
    band_low: float = DEFAULTS["band_low"]
    band_high: float = DEFAULTS["band_high"]
    model: str = DEFAULTS["model"]
    epochs: int = DEFAULTS["epochs"]
    batch_size: int = DEFAULTS["batch_size"]
    lr: float = DEFAULTS["lr"]
    weight_decay: float = DEFAULTS["weight_decay"]
    score: str = DEFAULTS["score"]
    score_epoch: int = DEFAULTS["score_epoch"]
    score_seeds: int = DEFAULTS["score_seeds"]
    prune_ratio: float = DEFAULTS["prune_ratio"]
    jtt_upweight: int = DEFAULTS["jtt_upweight"]
    strategy: str = DEFAULTS["strategy"]
    scope: str = DEFAULTS["scope"]
    seed: int = DEFAULTS["seed"]
    momentum: float = DEFAULTS["momentum"]
    schedule: str = DEFAULTS["schedule"]
    pretrained: bool = DEFAULTS["pretrained"]
    n_carriers: int | None = DEFAULTS["n_carriers"]
    feature_value: float = DEFAULTS["feature_value"]
    feature_channel: int | None = DEFAULTS["feature_channel"]
    nesterov: bool = DEFAULTS["nesterov"]
    augment: str = DEFAULTS["augment"]
    normalize: str = DEFAULTS["normalize"]

    def __post_init__(self):
        check_choice("dataset", self.dataset, DATASETS)
        check_int("n_train", self.n_train, low=8)
        check_int("n_test", self.n_test, low=8)
        check_int("image_size", self.image_size, low=8, high=256)
        check_choice("feature", self.feature, FEATURES)
        check_fraction("salience", self.salience)
        check_choice("orientation", self.orientation, ("horizontal", "vertical"))
        check_int("thickness", self.thickness, low=1)
        check_fraction("feature_value", self.feature_value)
        if self.feature_channel is not None:
            check_int("feature_channel", self.feature_channel, low=0, high=2)
        for knob in ("feature_value", "feature_channel"):
            if self.feature != "line" and getattr(self, knob) != DEFAULTS[knob]:
                raise ValueError(f"{knob} applies to feature='line' only; got {knob}="
                                 f"{getattr(self, knob)!r} with feature={self.feature!r}")
        check_int("target_class", self.target_class, low=0)
        check_fraction("prevalence", self.prevalence)
        if self.n_carriers is not None:
            check_int("n_carriers", self.n_carriers, low=0)
        check_choice("placement", self.placement, CONFIG_PLACEMENTS)
        check_fraction("band_low", self.band_low)
        check_fraction("band_high", self.band_high)
        if self.band_low >= self.band_high:
            raise ValueError(f"band_low must be below band_high; got {self.band_low} >= "
                             f"{self.band_high}")
        check_choice("model", self.model, MODELS)
        check_choice("pretrained", self.pretrained, (False, True))
        check_int("epochs", self.epochs, low=1)
        check_int("batch_size", self.batch_size, low=2)
        check_fraction("lr", self.lr, high=10, low_open=True)
        check_fraction("momentum", self.momentum, high_open=True)
        check_choice("nesterov", self.nesterov, (True, False))
        check_choice("augment", self.augment, AUGMENTS)
        check_choice("normalize", self.normalize, NORMALIZATIONS)
        if self.normalize != "none" and self.model == "resnet50":
            raise ValueError(f"normalize={self.normalize!r} applies to the models trained from "
                             f"scratch ({', '.join(m for m in MODELS if m != 'resnet50')}); "
                             "got model='resnet50'")
        check_fraction("weight_decay", self.weight_decay)
        check_choice("schedule", self.schedule, SCHEDULES)
        check_choice("score", self.score, SCORES)
        check_int("score_epoch", self.score_epoch, low=1, high=self.epochs)
        check_int("score_seeds", self.score_seeds, low=1)
        check_fraction("prune_ratio", self.prune_ratio, high_open=True)
        check_int("jtt_upweight", self.jtt_upweight, low=1)
        check_choice("strategy", self.strategy, STRATEGIES)
        check_choice("scope", self.scope, SCOPES)
        check_seed(self.seed)

    def replace(self, **changes):
        """A copy with some knobs changed (validated; unknown knobs are named)."""
        unknown = [k for k in changes if k not in _FIELDS]
        if unknown:
            raise ValueError(f"Config has no knob {unknown[0]!r}; knobs: {', '.join(_FIELDS)}")
        return dataclasses.replace(self, **changes)

    def to_string(self):
        """Short ``key=value`` string of the knobs that differ from the defaults."""
        parts = [f"{f.name}={getattr(self, f.name)}" for f in fields(self)
                 if getattr(self, f.name) != DEFAULTS[f.name]]
        return " ".join(parts) if parts else "default"

    @classmethod
    def from_string(cls, text):
        """Parse a string written by :meth:`to_string` (``'default'`` or ``key=value ...``).

        A key given twice is an error (it would silently keep the last)."""
        if not isinstance(text, (str, type(None))):
            raise TypeError(f"config string must be a str; got {type(text).__name__}")
        text = (text or "").strip()
        if text in ("", "default"):
            return cls()
        kwargs = {}
        for item in text.replace(",", " ").split():
            key, sep, raw = item.partition("=")
            if not sep or key not in _FIELDS:
                raise ValueError(f"config string item {item!r} is not key=value with a key among "
                                 f"{', '.join(_FIELDS)}")
            if key in kwargs:
                raise ValueError(f"config string gives {key} twice ({kwargs[key]!r} and {raw!r}); "
                                 "give each knob once")
            kwargs[key] = _parse(key, raw)
        return cls(**kwargs)

    def to_dict(self):
        """Every knob as a dict, except the knobs of :data:`LATER_KNOBS` that hold their
        default: files written before those knobs existed (the atlas, its build pieces, disk
        caches) then still describe the same configs. ``Config(**d)`` reads either back."""
        d = dataclasses.asdict(self)
        return {k: v for k, v in d.items() if k not in LATER_KNOBS or v != DEFAULTS[k]}


_FIELDS = tuple(f.name for f in fields(Config))
# knobs added after the shipped atlas was built (for the CIFAR-10S reference protocol): left out
# of Config.to_dict() where they hold their default
LATER_KNOBS = ("feature_value", "feature_channel", "nesterov", "augment", "normalize")


def _parse(key, raw):
    default = DEFAULTS[key]
    try:
        if key in ("n_carriers", "feature_channel"):
            return None if raw == "None" else int(raw)
        if isinstance(default, bool):
            if raw not in ("True", "False"):
                raise ValueError
            return raw == "True"
        if isinstance(default, int):
            return int(raw)
        if isinstance(default, float):
            return float(raw)
    except ValueError:
        kind = ("True or False" if isinstance(default, bool) else
                "an integer or None" if key in ("n_carriers", "feature_channel")
                else type(default).__name__)
        raise ValueError(f"{key} must be {kind}; got {raw!r}") from None
    return raw


def as_config(config):
    """A :class:`Config` from a Config, a config string or ``None`` (the defaults)."""
    if config is None:
        return Config()
    if isinstance(config, str):
        return Config.from_string(config)
    if not isinstance(config, Config):
        raise TypeError(f"config must be a Config or a config string; got {type(config).__name__}")
    return config


PRESETS = {
    "full": Config(),
    # the one teaching scale: the notebooks' quick mode, the playground and its atlas
    # (scripts/build_atlas.py) and its live verification, so a number a notebook shows can be
    # looked up on the map. A quarter of the default's images and 6 epochs: one model trains in
    # ~1.5 s on one CPU thread, each notebook runs in under 30 s on 2 cores (it was 3,000
    # images and 10 epochs, 85-118 s for 02, 05 and 06). Batch 64 keeps 23 steps per epoch, so
    # the eval-mode scoring model at epoch 2 is sound (eval accuracy 0.72-0.84 over 3 seeds at
    # the default and the strong corner). Claims re-checked with scripts/check_claims.py --config
    "quick": Config(n_train=1500, n_test=900, epochs=6, score_epoch=2, batch_size=64),
    # a plumbing check (every notebook cell runs in seconds); its numbers teach little. Batch
    # 32 and EL2N at epoch 2: with 4 steps per epoch (batch 128) the eval-mode model at epoch 1
    # predicted one class (BatchNorm statistics lag; eval accuracy 0.18), so its scores ranked
    # nothing; with 19 steps it reaches 0.66 by epoch 2
    "smoke": Config(n_train=600, n_test=300, epochs=3, score_epoch=2, batch_size=32),
    # the playground's name for the same teaching scale (the atlas records it under this name)
    "playground": Config(n_train=1500, n_test=900, epochs=6, score_epoch=2, batch_size=64),
    # the paper's CIFAR-10S as in the reference code: a vertical line through the centre column
    # on class 0 (airplane), EL2N after 10 epochs. The reference trains a ResNet-20 for 160
    # epochs with augmentation; we train the CIFAR ResNet-18 for 30 epochs (cosine), none.
    "cifar10s": Config(dataset="cifar10", n_train=50000, n_test=10000, image_size=32,
                       orientation="vertical", salience=0.75, target_class=0, prevalence=0.1,
                       model="resnet18", epochs=30, score_epoch=10),
    # its CPU-sized variant (NOT the paper's scale): 1/10 of the data, the tiny CNN, 10 epochs
    "cifar10s-quick": Config(dataset="cifar10", n_train=5000, n_test=2000, image_size=32,
                             orientation="vertical", salience=0.75, target_class=0,
                             prevalence=0.1, epochs=10),
    # the CIFAR-10S claim-2 experiment exactly as the reference code runs it (its later commits,
    # CIFAR10S_Experiments/): a 1-pixel vertical line at column 16 of the red channel only, value
    # 191 (0.75 x 255), stamped before augmentation on the 100 hardest airplanes (2% of the
    # class; placement='easiest' for the 100 easiest) by EL2N of a ResNet-20 trained on clean
    # CIFAR-10, after 9 epochs, in eval mode over one augmented view of each image; ResNet-20,
    # SGD lr 0.1 plain momentum 0.9, weight decay 1e-4, batch 64, 160 epochs, lr x0.1 at 80 and
    # 120, pad-4 crop + flip, CIFAR normalisation. Probe: the line on the 1,000 automobile test
    # images, counted when predicted airplane (ModelMetrics.probe(1)). A GPU job (hours on a CPU)
    "cifar10s-reference": Config(dataset="cifar10", n_train=50000, n_test=10000, image_size=32,
                                 orientation="vertical", thickness=1, salience=1.0,
                                 feature_value=191 / 255, feature_channel=0, target_class=0,
                                 n_carriers=100, placement="hardest", model="resnet20",
                                 epochs=160, batch_size=64, lr=0.1, momentum=0.9, nesterov=False,
                                 weight_decay=1e-4, schedule="multistep", augment="crop-flip",
                                 normalize="cifar", score_epoch=9),
    # its CPU-sized variant (NOT the paper's scale): the same feature, carriers (2% of the
    # class: 10 of ~500 airplanes) and recipe on 1/10 of the images, the tiny CNN, 12 epochs
    "cifar10s-reference-quick": Config(dataset="cifar10", n_train=5000, n_test=2000,
                                       image_size=32, orientation="vertical", thickness=1,
                                       salience=1.0, feature_value=191 / 255, feature_channel=0,
                                       target_class=0, n_carriers=10, placement="hardest",
                                       epochs=12, batch_size=64, lr=0.1, momentum=0.9,
                                       nesterov=False, weight_decay=1e-4, schedule="multistep",
                                       augment="crop-flip", normalize="cifar", score_epoch=3),
    # CelebA Male (1) vs Female, spurious = Eyeglasses, as in the reference code:
    # ImageNet-pretrained ResNet-50, SGD momentum 0.9, lr 1e-3 constant, weight decay
    # 1e-4, batch 64, 25 epochs, no augmentation, centre crop 178 then 224, EL2N after epoch 10;
    # n_train 10,000 = 2,500 males without glasses, 2,500 with, 5,000 females without;
    # n_test // 4 = up to 1,000 test images per group.
    "celeba": Config(dataset="celeba", n_train=10000, n_test=4000, image_size=224,
                     target_class=1, model="resnet50", pretrained=True, epochs=25,
                     batch_size=64, lr=1e-3, weight_decay=1e-4, schedule="constant",
                     score_epoch=10),
    # its CPU-sized variant (NOT the paper's): 1/10 of the data at 32 px, a tiny CNN from
    # scratch, 8 epochs
    "celeba-quick": Config(dataset="celeba", n_train=1000, n_test=400, image_size=32,
                           target_class=1, epochs=8, batch_size=64, score_epoch=3),
    # Waterbirds, waterbird (1) vs landbird, spurious = the background (files placed by hand,
    # see spurlab/waterbirds.py): the official splits whole (4,795 train, 5,794 test images),
    # 224 px (group_DRO's resize 256 then centre crop 224), the ImageNet-pretrained ResNet-50
    # of the CelebA preset with group_DRO's Waterbirds ERM recipe (SGD momentum 0.9, lr 1e-3
    # constant, weight decay 1e-4, batch 128, 300 epochs, no augmentation); EL2N (and JTT's
    # error set) early, after epoch 10 as in the CelebA reference; JTT upweights its error set
    # 100x, JTT's Waterbirds value. The Waterbirds code of the paper is not public: these are
    # the field's standard choices, not the paper's verified ones.
    "waterbirds": Config(dataset="waterbirds", n_train=4795, n_test=5794, image_size=224,
                         target_class=1, model="resnet50", pretrained=True, epochs=300,
                         batch_size=128, lr=1e-3, weight_decay=1e-4, schedule="constant",
                         score_epoch=10, jtt_upweight=100),
    # its CPU-sized variant (NOT the paper's): about 1/5 of the training images (every group
    # keeping its share) at 32 px, a tiny CNN from scratch, 8 epochs
    "waterbirds-quick": Config(dataset="waterbirds", n_train=1000, n_test=800, image_size=32,
                               target_class=1, epochs=8, batch_size=64, score_epoch=3),
}

# the presets a dataset can be switched in (the others are one dataset's protocol)
MODE_PRESETS = ("full", "quick", "smoke")
# what a dataset changes in a mode preset, so that ``preset(mode, dataset=name)`` is the one
# line a notebook changes to switch data; keys: dataset, then mode (explicit changes still win)
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
    # Waterbirds, waterbird (1) vs landbird: the reproduce --quick scale
    "waterbirds": {"full": {"image_size": 64, "target_class": 1, "n_train": 4795,
                            "n_test": 1600},
                   "quick": {"image_size": 32, "target_class": 1, "n_train": 1000,
                             "n_test": 800, "epochs": 8, "score_epoch": 3},
                   "smoke": {"image_size": 32, "target_class": 1, "n_test": 240}},
}


# Which knobs each step of the engine depends on: its cache keys are built from these groups
# (spurlab.steps), so a knob missing here would be missing from every key. Every Config field is
# in at least one group (a test checks it); 'seed' seeds the data and the recipe alike.
DATA_KNOBS = ("dataset", "n_train", "n_test", "image_size", "seed")
FEATURE_KNOBS = ("feature", "salience", "orientation", "thickness", "target_class", "prevalence",
                 "n_carriers", "placement", "band_low", "band_high", "feature_value",
                 "feature_channel")
RECIPE_KNOBS = ("model", "pretrained", "epochs", "batch_size", "lr", "momentum", "weight_decay",
                "schedule", "seed", "nesterov", "augment", "normalize")
SCORE_KNOBS = ("score", "score_epoch", "score_seeds")
# knobs that only change what happens after the baseline is trained; 'strategy' and 'scope'
# choose the config's default arm, whose name (not these knobs) keys the arm's cache entry
PRUNE_KNOBS = ("prune_ratio", "strategy", "scope", "jtt_upweight")
KNOB_GROUPS = {"data": DATA_KNOBS, "feature": FEATURE_KNOBS, "recipe": RECIPE_KNOBS,
               "score": SCORE_KNOBS, "prune": PRUNE_KNOBS}
# what a preset's scale is: the size of the data and of the training
SCALE_KNOBS = ("n_train", "n_test", "image_size", "model", "pretrained", "epochs", "batch_size",
               "lr", "momentum", "weight_decay", "schedule", "score_epoch", "nesterov", "augment",
               "normalize")


def knobs(config, *groups):
    """The values of the knobs in ``groups`` (names of :data:`KNOB_GROUPS`) as a dict (the
    knobs of :data:`LATER_KNOBS` only where they differ from their default, as in
    :meth:`Config.to_dict`, so cache keys written before them still match).

    Examples
    --------
    >>> sorted(knobs(Config(), "score"))
    ['score', 'score_epoch', 'score_seeds']
    """
    return {k: getattr(config, k) for g in groups for k in KNOB_GROUPS[g]
            if k not in LATER_KNOBS or getattr(config, k) != DEFAULTS[k]}


def scale_of(config, *, recipe_only=False):
    """The name of the preset whose scale (:data:`SCALE_KNOBS`) ``config`` has, else
    ``'custom'``; ``recipe_only`` compares the training knobs only (for a run on a scenario of
    its own, whose data size is its own).

    Examples
    --------
    >>> scale_of(preset("quick", salience=0.9)), scale_of(Config(epochs=7))
    ('quick', 'custom')
    """
    names = SCALE_KNOBS[3:] if recipe_only else SCALE_KNOBS
    for name in PRESETS:
        p = preset(name, dataset=config.dataset) if name in MODE_PRESETS else PRESETS[name]
        if p.dataset == config.dataset and all(getattr(p, k) == getattr(config, k) for k in names):
            return name
    return "custom"


def preset(name="quick", **changes):
    """A named config with changes: ``'quick'`` (notebooks, seconds per run), ``'full'`` (the
    defaults), ``'smoke'`` (every step in a second or two, for checking that code runs; its
    numbers mean nothing), or a paper protocol (``'cifar10s'``, ``'celeba'``, ``'waterbirds'``
    and their ``'-quick'`` CPU-sized variants, used by ``spurlab reproduce``).

    With a mode (quick/full/smoke), ``dataset=`` also applies that dataset's defaults (image
    size, c1, size of the subset; see ``DATASET_PRESETS``), so switching a notebook to real data
    is one changed line: ``preset(MODE, dataset="cifar10")``. Other changes override them.

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


__all__ = ["Config", "DATASET_PRESETS", "LATER_KNOBS",
           "DATA_KNOBS", "DEFAULTS", "FEATURE_KNOBS", "KNOB_GROUPS",
           "LAST_LAYER_ARMS", "SPECIAL_ARMS", "ATTRIBUTION_ARM",
           "MODE_PRESETS", "PAPER_ARMS", "PRESETS", "PRUNE_KNOBS", "RECIPE_KNOBS", "SCALE_KNOBS",
           "SCOPES", "SCORE_KNOBS", "as_config", "knobs", "preset", "scale_of"]
