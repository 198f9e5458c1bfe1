"""spurlab: learn, teach and test how networks pick up spurious correlations, and how pruning
a few hard training samples severs them (Mulchandani & Kim, ICLR 2025).

The public API, in the order of the story::

    train, test = load_dataset("shapes")                   # embedded data, no download
    sc = make_scenario(train, test, Line(salience=0.4), target_class=0, prevalence=0.3)
    model = make_model("tiny", in_channels=1, num_classes=6)
    train_model(model, sc.train.images, sc.train.labels)  # spurlab.train
    scores = el2n(model, sc.train.images, sc.train.labels)
    keep = prune(scores, sc.train.labels, 0.25, strategy="hardest")
    result = run(Config(salience=0.4, prune_ratio=0.25))  # the whole protocol in one call
    result = run(preset("quick"), scenario=sc, arms=["hardest", "random"])  # on your scenario

The modules, layer by layer (each imports only from its own layer or below; the README's
"Layout" lists them all): foundations (``defaults``, ``_validate``, ``stats``, ``_version``,
``files``), data (``datasets``, ``catalog``: the one registry of named datasets, ``features``,
``scenario``), learning (``models``, ``train``, ``scores``, ``prune``, ``metrics``), the record
(``results``: the typed :class:`Result` and its rows; ``verdicts``: every sentence about a
result; ``cache``), the engine (``config``, ``recipe``: ``fit``; ``build``: ``build_scenario``;
``arms``; ``steps``: ``baseline``, ``arm``, ``reference``, ``evaluate``; ``pipeline``: ``run``,
``run_seeds``; ``sweeps``; ``atlas``; ``builds``: the atlas and drivers builds), the shipped measurements
(``drivers``: which carriers drive the shortcut; ``datamodel``), teaching (``charts``, ``plotting``, ``maps``,
``widgets``, ``playground``, ``explorer`` with its data ``explorable``, ``lesson``,
``exercises``) and entry points (``cli``, ``reproduce``).
"""

from ._version import __version__  # noqa: E402,F401
from .arms import carriers_by_difficulty, occupancy, prune_arm, regime_percentile  # noqa: E402
from .atlas import Atlas, load_atlas  # noqa: E402
from .build import build_scenario, placement_scores  # noqa: E402
from .cache import cache_info, clear_cache  # noqa: E402
from .catalog import DATASETS, class_names, fetch, load_dataset  # noqa: E402
from .config import DEFAULTS, PRESETS, Config, preset  # noqa: E402
from .datasets import (  # noqa: E402
                       SHAPE_CLASSES,
                       ImageSet,
                       as_float,
                       from_tensors,
                       load_digits,
                       make_shapes,
                       train_test_split,
)
from .device import configure_threads, get_device, usable_cpus  # noqa: E402
from .drivers import DriverPoint, Drivers, load_drivers  # noqa: E402
from .dynamics import (  # noqa: E402
                       DataMap,
                       Dynamics,
                       carrier_gap,
                       carrier_separation,
                       data_map,
                       difficulty_agreement,
                       hardest_of_class,
                       pooled_p,
                       training_dynamics,
)
from .explorable import Explorable, load_explorable  # noqa: E402
from .explorer import Explorer  # noqa: E402
from .features import FEATURES, Line, Patch, Pattern, SpuriousFeature, Tint, make_feature  # noqa: E402
from .flatten import rows  # noqa: E402
from .lesson import STRONG_SIGNAL  # noqa: E402
from .lesson import setup as setup_notebook  # noqa: E402
from .mechanism import CarriersRemoved, carriers_removed, mechanism_text  # noqa: E402
from .metrics import (  # noqa: E402
                       accuracy,
                       average_accuracy,
                       group_accuracies,
                       group_balanced_accuracy,
                       smr_by_class,
                       spurious_misclassification_rate,
                       worst_group_accuracy,
)
from .models import MODELS, ResNet18, ResNet20, TinyCNN, make_model  # noqa: E402
from .pipeline import carrier_cut, run, run_seeds  # noqa: E402
from .prune import STRATEGIES, prune  # noqa: E402
from .recipe import fit  # noqa: E402
from .results import ArmResult, ModelMetrics, Result, ScenarioFacts  # noqa: E402
from .reweight import upweight_indices  # noqa: E402
from .scenario import PLACEMENTS, Scenario, make_scenario  # noqa: E402
from .scores import SCORES, ForgettingTracker, difficulty, el2n, grand, loss_scores, margin_scores  # noqa: E402
from .stats import summarize  # noqa: E402
from .steps import arm, baseline, evaluate, reference, stamp_predictions  # noqa: E402
from .train import TrainingDiverged, predict, predict_logits, train  # noqa: E402
from .verdicts import Difference, ShareRemoved, Shortcut  # noqa: E402
from .worst import worst_group_text, worst_groups  # noqa: E402

train_model = train

__all__ = [
    "Atlas", "load_atlas", "DriverPoint", "Drivers", "load_drivers", "Explorable",
    "load_explorable", "Explorer",
    "DATASETS", "SHAPE_CLASSES", "ImageSet", "class_names", "fetch", "from_tensors", "load_dataset",
    "load_digits",
    "make_shapes", "train_test_split", "configure_threads", "get_device", "usable_cpus",
    "Config", "DEFAULTS", "Result", "ArmResult", "ModelMetrics", "ScenarioFacts", "rows",
    "Shortcut", "Difference", "ShareRemoved", "occupancy", "carriers_by_difficulty",
    "CarriersRemoved", "carriers_removed", "mechanism_text", "worst_groups", "worst_group_text",
    "stamp_predictions", "evaluate",
    "placement_scores", "run", "run_seeds", "PRESETS",
    "preset", "summarize", "fit", "baseline", "arm", "reference", "build_scenario", "carrier_cut",
    "prune_arm", "regime_percentile", "cache_info", "clear_cache", "setup_notebook", "STRONG_SIGNAL",
    "upweight_indices", "DataMap", "Dynamics", "carrier_gap", "carrier_separation", "data_map",
    "hardest_of_class", "pooled_p", "training_dynamics", "difficulty_agreement",
    "FEATURES", "Line", "Patch", "Pattern", "SpuriousFeature", "Tint", "make_feature",
    "accuracy", "average_accuracy", "group_accuracies", "group_balanced_accuracy",
    "smr_by_class", "spurious_misclassification_rate", "worst_group_accuracy",
    "MODELS", "ResNet18", "ResNet20", "TinyCNN",
    "make_model", "STRATEGIES", "prune", "PLACEMENTS", "Scenario", "make_scenario", "SCORES",
    "ForgettingTracker", "difficulty", "el2n", "grand", "loss_scores", "margin_scores",
    "TrainingDiverged", "as_float", "predict", "predict_logits", "train", "train_model",
]
