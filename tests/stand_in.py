"""Stand-in results built from numbers, through the real record and the real verdict rule.

``result(seed, base=0.2, arms={"hardest": 0.04}, ref=0.02)`` gives a :class:`spurlab.Result`
whose models have those SMRs, whose shortcut verdict is computed from stamped-test hits that
reproduce them (``n_test`` images), and whose scenario facts name the class, the carriers and
the groups, as a run would.
"""

from spurlab import Config
from spurlab.arms import labels_used, parse_arm
from spurlab.results import ArmResult, ModelMetrics, Result, ScenarioFacts
from spurlab.verdicts import verdict_from_hits

SHAPES = ("square", "triangle", "circle", "cross", "ring", "star")


def metrics(smr, acc=0.9, wga=0.6, groups=12):
    """ModelMetrics with this SMR, clean accuracy and worst-group accuracy."""
    group = tuple([wga] + [0.9] * (groups - 1)) if groups else ()
    return ModelMetrics(clean_accuracy=acc, smr=smr, smr_clean=0.01, worst_group_accuracy=wga,
                        group_balanced_accuracy=0.8, group_accuracy=group)


def facts(carriers=40, target_class=4, classes=SHAPES, n_per_class=100, n_test=1500):
    """ScenarioFacts of a balanced training set with ``carriers`` carriers in the target class."""
    sizes = []
    for c in range(len(classes)):
        k = carriers if c == target_class else 0
        sizes += [n_per_class - k, k]
    start = target_class * n_per_class
    return ScenarioFacts(dataset="stand-in", target_class=target_class, class_names=tuple(classes),
                         feature="line", description="a stand-in scenario", placement="random",
                         carrier_indices=tuple(range(start, start + carriers)),
                         group_sizes=tuple(sizes), test_group_sizes=tuple([10] * 2 * len(classes)),
                         n_stamped_test=n_test, scale="custom")


def _hits(p, n):
    k = round(p * n)
    return [1] * k + [0] * (n - k)


def arm(name, smr, acc=0.9, carriers_pruned=10, n_kept=90, **fields):
    strategy, scope = parse_arm(name)
    return ArmResult(name=name, strategy=strategy, scope=scope, labels_used=labels_used(name),
                     metrics=metrics(smr, acc), n_kept=n_kept, pruned=(),
                     pruned_by_group=(0,) * 12, carriers_pruned=carriers_pruned, **fields)


def result(seed, base, arms=None, ref=0.02, carriers=40, n_test=1500, target_class=4,
           classes=SHAPES, reference=True, regime=None, n_per_class=100, **config):
    """A stand-in Result; ``arms`` maps names to an SMR or to an :class:`ArmResult`."""
    arms = {a: (v if isinstance(v, ArmResult) else arm(a, v)) for a, v in (arms or {}).items()}
    verdict = (verdict_from_hits(_hits(base, n_test), _hits(ref, n_test), seed=seed,
                                 n_carriers=carriers) if reference else None)
    return Result(config=Config(seed=seed, **{"prune_ratio": 0.25, **config}),
                  scenario=facts(carriers, target_class, classes, n_per_class, n_test),
                  baseline=metrics(base), arms=arms,
                  reference=metrics(ref) if reference else None, shortcut=verdict,
                  regime_percentile=50.0 + seed if regime is None else regime,
                  scores=[0.0] * n_per_class * len(classes),
                  score_model={"epoch": 2, "eval_accuracy": 0.8, "chance_plus_10": 0.27,
                               "degenerate": False})
