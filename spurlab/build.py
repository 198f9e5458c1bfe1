"""The scenario a config describes: its data, its spurious feature and who carries it.

:func:`build_scenario` is what :func:`spurlab.run` runs on when it is given no ``scenario=``;
:func:`placement_scores` ranks a dataset's samples by difficulty when carriers are placed by
it. Attribute datasets (CelebA, Waterbirds) come from the dataset registry
(:data:`spurlab.catalog.REGISTRY`), stamped ones from :func:`spurlab.make_scenario`.
"""

from __future__ import annotations

from ._version import __version__
from .cache import CACHE, fingerprint
from .catalog import REGISTRY, attribute_scenario, data_fingerprint, load_dataset
from .config import PRUNE_KNOBS, as_config, knobs
from .features import make_feature
from .recipe import fit
from .scenario import make_scenario
from .scores import difficulty
from .train import augmented_view


def make_config_feature(config):
    """The spurious feature a config describes."""
    if config.feature == "line":
        return make_feature("line", salience=config.salience, orientation=config.orientation,
                            thickness=config.thickness, value=config.feature_value,
                            channel=config.feature_channel)
    return make_feature(config.feature, salience=config.salience)


def scenario_knobs(config):
    """Every knob the config's scenario depends on: all but the pruning knobs (placing carriers
    by difficulty trains with the recipe and the score)."""
    return {k: v for k, v in config.to_dict().items() if k not in PRUNE_KNOBS}


def build_scenario(config, *, device=None, progress=False, root=None, download=False):
    """The :class:`~spurlab.scenario.Scenario` a config describes (cached for the session).

    Placements that rank ``target_class`` by difficulty use the dataset's latent difficulty
    when it has one, else :func:`placement_scores`. ``scenario.clean_train`` is the data
    without the feature, on which the reference model trains.

    An attribute dataset of the registry (``'celeba'``: the paper's Male vs Female split with
    the natural attribute Eyeglasses; ``'waterbirds'``: bird by background, files placed by
    hand) is built by its own adapter (:func:`spurlab.catalog.attribute_scenario`):
    salience, prevalence and feature do not apply, and its target class is fixed.

    Examples
    --------
    >>> sc = build_scenario("n_train=600 n_test=120")
    >>> sc.target_class, int(sc.carrier.sum()) > 0
    (4, True)
    """
    config = as_config(config)
    key = fingerprint("scenario", scenario_knobs(config), data_fingerprint(config.dataset, root),
                      __version__)
    hit = CACHE.get("scenario", key, need=("_scenario",))
    if hit is not None:
        return hit["_scenario"]
    info = REGISTRY[config.dataset]
    if info.attribute is not None:
        if config.target_class != info.target_class:
            raise ValueError(f"target_class must be {info.why}; got {config.target_class}")
        if config.placement != "random":
            raise ValueError(f"placement must be 'random' for dataset {config.dataset!r} (its "
                             f"carriers are {info.carriers}); got {config.placement!r}")
        sc = attribute_scenario(config.dataset, n_train=config.n_train, n_test=config.n_test,
                                size=config.image_size, seed=config.seed, root=root,
                                download=download)
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


# the held-out split of the last-layer arms is drawn with the config's seed plus this offset
HELD_OUT_SEED = 7919


def held_out(config):
    """A held-out split drawn like the config's data, for the last-layer arms (:mod:`spurlab.
    lastlayer`): ``(like_train, group_val, groups)``. ``like_train`` is an :class:`ImageSet` with
    the feature on the same share of the target class as in training (AFR's split: no group
    labels needed); ``group_val`` holds clean images and a stamped copy of each, ``groups`` their
    group ``2 * class + stamped`` (DFR's group-labelled validation split). Each is a fifth of
    ``n_train`` images (before the stamped copies), drawn from the dataset's generator with seed
    ``config.seed + HELD_OUT_SEED``: images the models never trained or were tested on. The
    carriers of ``like_train`` are placed at random (whatever the config's placement).

    Only generated data has such a split: other datasets are refused by name.
    """
    config = as_config(config)
    if REGISTRY[config.dataset].source != "embedded":
        raise ValueError(f"dataset must be generated ('shapes') for the last-layer arms 'dfr' and "
                         f"'afr': they need a held-out split the models never saw; got "
                         f"{config.dataset!r}")
    key = fingerprint("held-out", scenario_knobs(config), HELD_OUT_SEED, __version__)
    hit = CACHE.get("held-out", key, need=("_split",))
    if hit is not None:
        return hit["_split"]
    n = max(config.n_train // 5, 60)
    train_set, test_set = load_dataset(config.dataset, n_train=n, n_test=n,
                                       size=config.image_size, seed=config.seed + HELD_OUT_SEED)
    sc = make_scenario(train_set, test_set, make_config_feature(config), config.target_class,
                       config.prevalence, placement="random", seed=config.seed + HELD_OUT_SEED)
    split = (sc.train, sc.group_test, sc.group_test_groups)
    CACHE.put("held-out", key, {"_split": split}, memory_only=True)
    return split


def placement_scores(config, train_set, *, device=None, progress=False):
    """How hard each clean training sample is, for placing carriers by difficulty.

    The dataset's latent difficulty when it has one (the embedded shapes), else the
    ``config.score`` (EL2N for ``'forgetting'``) at epoch ``config.score_epoch`` of a model
    trained with ``config``'s recipe on the clean data (with ``config.augment``, taken on one
    augmented view of each image, as the CIFAR-10S reference code scores over its augmented
    loader); higher = harder either way.

    Examples
    --------
    >>> from spurlab import Config, load_dataset
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
                      knobs(config, "recipe", "score"), __version__)
    hit = CACHE.get("placement", key, need=("_scores",))
    if hit is not None:
        return hit["_scores"]
    got = {}

    def cb(epoch, model):
        if epoch == config.score_epoch:
            got["s"] = difficulty(model, augmented_view(train_set.images, config.augment,
                                                         config.seed), train_set.labels,
                                  "el2n" if config.score == "forgetting" else config.score)

    fit(config, train_set.images, train_set.labels, num_classes=train_set.num_classes,
        device=device, progress=progress, callback=cb, stop_epoch=config.score_epoch,
        desc="rank carriers")
    CACHE.put("placement", key, {"_scores": got["s"]}, memory_only=True)
    return got["s"]


__all__ = ["build_scenario", "make_config_feature", "placement_scores", "scenario_knobs"]
