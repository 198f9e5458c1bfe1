"""The whole protocol in one call: :func:`run` composes the steps (:mod:`spurlab.steps`) into a
:class:`~spurlab.results.Result` that carries the scenario it ran on.

    scenario  = build_scenario(config)               # data + spurious feature (or your own)
    result    = run(config, scenario=scenario, arms=["hardest", "random"])
    results   = run_seeds(config, [0, 1, 2])         # one Result per seed

Examples
--------
>>> r = run("n_train=600 n_test=120 epochs=2 score_epoch=1", reference=False)
>>> sorted(r.arms), 0 <= r.baseline.smr <= 1, r.scenario.target_name
(['hardest'], True, 'ring')
"""

from __future__ import annotations

import time

import numpy as np

from ._validate import check_seeds
from .arms import arm_name, check_arms, parse_arm, prune_arm
from .build import build_scenario
from .config import LAST_LAYER_ARMS, as_config, scale_of
from .device import get_device
from .files import environment
from .results import Result, ScenarioFacts
from .steps import arm as arm_step
from .steps import baseline as baseline_step
from .steps import check_arm, resolve
from .steps import reference as reference_step
from .verdicts import verdict_from_hits


def facts(config, scenario, *, custom):
    """The :class:`~spurlab.results.ScenarioFacts` of the scenario a run used: the config's
    own (``custom=False``) or one the user gave (``custom=True``: its data name and size are
    its own, so only the recipe decides the scale)."""
    dataset = scenario.train.name if custom else config.dataset
    return ScenarioFacts.of(scenario, dataset=dataset, custom=custom,
                            scale=scale_of(config, recipe_only=custom))


def run(config=None, *, scenario=None, arms=None, reference=True, keep_models=False,
        device=None, progress=False, on_epoch=None, cache=True, cache_dir=None):
    """Run the whole protocol and return a :class:`~spurlab.results.Result`: baseline (ERM)
    with early scores -> each arm (prune, retrain fresh) -> the no-carrier reference ->
    evaluate, and the shortcut verdict (:mod:`spurlab.verdicts`).

    Parameters
    ----------
    config : Config or str, optional
        Default: ``Config()``. A string is parsed with :meth:`Config.from_string`. With
        ``scenario=``, the config supplies the recipe, score and pruning knobs only: the
        result's ``scenario`` says what was run (dataset, target class, carriers).
    scenario : Scenario, optional
        Any scenario built by :func:`spurlab.make_scenario` (your data through
        :func:`spurlab.from_tensors`, your feature, e.g. ``Pattern(mask=...)``, carriers by
        ``n_carriers`` or placed by your scores).
    arms : list of str, optional
        Arms to run, each ``'strategy'`` or ``'strategy/scope'``, ``'jtt'``, or a last-layer
        baseline, ``'dfr'`` or ``'afr'`` (:mod:`spurlab.lastlayer`; generated data only), e.g.
        ``['hardest', 'random', 'easiest', 'hardest/oracle']``. Default: the config's own.
        Every arm's ``labels_used`` says which group labels it needs.
    reference : bool
        Also train a model on the data *without* carriers; its SMR is the floor of the excess
        SMR, and the shortcut verdict needs it.
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
    >>> sorted(r.arms), r.reference is None, r.shortcut is None
    (['random'], True, True)
    """
    config = as_config(config)
    arms = check_arms([arm_name(config.strategy, config.scope)] if arms is None else arms)
    dev = get_device(device)
    t0 = time.perf_counter()
    config, sc, _ = resolve(config, scenario, dev, progress)
    for name in arms:                  # an arm that cannot run is refused before any training
        check_arm(config, name, sc, custom=scenario is not None)
    timings = {"data": time.perf_counter() - t0}
    kw = dict(device=dev, progress=progress, keep_model=keep_models, cache=cache,
              cache_dir=cache_dir)
    # the last-layer arms (DFR, AFR) refit the ERM model's head: keep that model for them
    keep = keep_models or any(parse_arm(a)[0] in LAST_LAYER_ARMS for a in arms)
    base = baseline_step(config, scenario, on_epoch=on_epoch, **{**kw, "keep_model": keep})
    timings["baseline"] = base.seconds
    history = {"baseline": base.history}
    models = {"baseline": base.model}
    results = {}
    for name in arms:
        a = arm_step(config, name, scenario, base=base, **kw)
        results[name] = a.without_run()
        history[name] = a.history
        models[name] = a.model
        timings[f"retrain {name}"] = a.seconds
    ref = verdict = None
    n_carriers = int(sc.carrier.sum())
    if reference:
        r = reference_step(config, scenario, **kw)
        ref = r.metrics
        verdict = verdict_from_hits(base.stamped_hits, r.stamped_hits, seed=config.seed,
                                    n_carriers=n_carriers)
        history["reference"] = r.history
        models["reference"] = r.model
        timings["reference"] = r.seconds
    timings["total"] = time.perf_counter() - t0
    return Result(config=config, scenario=facts(config, sc, custom=scenario is not None),
                  baseline=base.metrics, arms=results, reference=ref, shortcut=verdict,
                  regime_percentile=base.regime_percentile, scores=base.scores,
                  score_model=base.score_model, timings=timings, environment=environment(dev),
                  history=history, models=models if keep_models else None)


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


def carrier_cut(result, arm, scenario=None):
    """Share of the carriers that arm ``arm`` would prune on ``result``'s early scores, without
    retraining (:func:`spurlab.arms.prune_arm`), e.g. what random pruning *would* take next to
    what the hardest arm took. A result run on a scenario of its own needs that ``scenario``.

    Examples
    --------
    >>> r = run("n_train=600 n_test=120 epochs=2 score_epoch=1", arms=[], reference=False)
    >>> 0 <= carrier_cut(r, "random") <= 1
    True
    """
    if scenario is None:
        if result.scenario.custom:
            raise ValueError("scenario must be given for a result run on a scenario of its own "
                             "(run(scenario=...)): pass the same scenario")
        scenario = build_scenario(result.config)
    carrier = scenario.carrier.numpy()
    if not carrier.any():
        return float("nan")
    keep = prune_arm(arm, np.asarray(result.scores), scenario.train.labels.numpy(),
                     result.config.prune_ratio, carrier=carrier,
                     target_class=scenario.target_class, seed=result.config.seed)
    return float(1 - carrier[keep].sum() / carrier.sum())


__all__ = ["carrier_cut", "facts", "run", "run_seeds"]
