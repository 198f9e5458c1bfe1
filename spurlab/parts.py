"""The parts of a run's record (:mod:`spurlab.results` assembles them into a :class:`Result`):

- :class:`ModelMetrics`: what one model scored (the same shape for the baseline, the no-carrier
  reference and every arm).
- :class:`ScenarioFacts`: what was run: the dataset, the target class and its name, the
  carriers, the groups and their sizes, the scale. A config is what the user asked for; the
  scenario is what was run (with ``scenario=`` the two differ), and every table, text and
  figure reads the class, the carriers and the groups from here.
- :class:`ArmResult`: one pruning (or upweighting) arm: which labels it used, what it removed
  (and which carriers, by difficulty), its model's metrics.

Examples
--------
>>> m = ModelMetrics(0.9, 0.2, 0.01, 0.5, 0.8, (0.9, 0.5, None, 0.95))
>>> m.worst_group
1
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

import numpy as np

from .files import jsonable
from .stats import nan_if_none as _num

# which labels a method used beyond the class labels: none, group labels on a validation split,
# or group (carrier) labels in training (the identifiable setting)
LABELS_USED = ("none", "validation", "training")


# --------------------------------------------------------------------------- one model

@dataclass(frozen=True)
class ModelMetrics:
    """What one model scored on a scenario's test sets (:func:`spurlab.evaluate`).

    Attributes
    ----------
    clean_accuracy : float
        Average accuracy on the clean test set.
    smr : float
        Spurious misclassification rate: the share of the other classes' stamped test images
        predicted as the target class.
    smr_clean : float
        The same share without the stamp (its baseline).
    worst_group_accuracy, group_balanced_accuracy : float
        Minimum and unweighted mean over the test groups (``2 * class + stamped``) that are
        not empty.
    group_accuracy : tuple
        One accuracy per group, ``None`` for an empty group.
    smr_by_class : tuple
        The SMR within each class (:func:`spurlab.metrics.smr_by_class`; ``None`` for the
        target class and for classes without stamped test images); ``()`` when it was not
        measured (records written before it existed). :meth:`probe` reads one class.
    """

    clean_accuracy: float
    smr: float
    smr_clean: float
    worst_group_accuracy: float
    group_balanced_accuracy: float
    group_accuracy: tuple
    smr_by_class: tuple = ()

    def probe(self, class_index):
        """The SMR within one class (e.g. 1, automobile, the CIFAR-10S reference code's
        probe: the share of stamped automobiles predicted airplane); ``None`` where it was not
        measured or the class had no stamped test images."""
        k = int(class_index)
        if not 0 <= k < len(self.smr_by_class):
            return None
        return self.smr_by_class[k]

    @property
    def worst_group(self):
        """The index of the group with the lowest accuracy (empty groups skipped)."""
        acc = [math.inf if a is None or math.isnan(a) else a for a in self.group_accuracy]
        return int(np.argmin(acc)) if acc and min(acc) < math.inf else None

    def to_dict(self):
        return jsonable(dataclasses.asdict(self))

    @classmethod
    def from_dict(cls, d):
        return cls(float(d["clean_accuracy"]), float(d["smr"]), float(d["smr_clean"]),
                   _num(d["worst_group_accuracy"]), _num(d["group_balanced_accuracy"]),
                   tuple(None if a is None or (isinstance(a, float) and math.isnan(a)) else float(a)
                         for a in d["group_accuracy"]),
                   tuple(None if a is None else float(a) for a in d.get("smr_by_class", ())))


# --------------------------------------------------------------------------- what was run

@dataclass(frozen=True)
class ScenarioFacts:
    """The facts of the scenario a run used (not what its config asked for).

    ``dataset`` (its name: ``'shapes'``, ``'digits'``, ``'custom'`` ...), ``target_class`` (the
    class ``c1`` whose training samples carry the feature), ``class_names``, ``feature`` (its
    short name: ``'line'``, ``'corner triangle'``, ``'Eyeglasses'``), ``description`` (one line,
    :meth:`spurlab.Scenario.describe`), ``placement``, ``carrier_indices`` (the training samples
    that carry the feature), ``group_sizes`` (training samples per group ``2 * class +
    carrier``), ``test_group_sizes`` (the group-labelled test set's), ``n_stamped_test`` (the
    SMR's denominator), ``scale`` (the preset the run's scale matches, or ``'custom'``) and
    ``custom`` (the run was given its own scenario, ``run(scenario=...)``).
    """

    dataset: str
    target_class: int
    class_names: tuple
    feature: str
    description: str
    placement: str
    carrier_indices: tuple
    group_sizes: tuple
    test_group_sizes: tuple
    n_stamped_test: int
    scale: str
    custom: bool = False

    @property
    def n_carriers(self):
        return len(self.carrier_indices)

    @property
    def n_train(self):
        return int(sum(self.group_sizes))

    @property
    def n_target(self):
        """Training samples of the target class."""
        c = self.target_class
        return int(self.group_sizes[2 * c] + self.group_sizes[2 * c + 1])

    @property
    def target_name(self):
        return self.class_names[self.target_class]

    @property
    def target(self):
        """``"class 4 ('ring')"``: how texts name the target class."""
        return f"class {self.target_class} ({self.target_name!r})"

    @property
    def carrier_group(self):
        """The group of the carriers: ``2 * target_class + 1``."""
        return 2 * self.target_class + 1

    @property
    def group_names(self):
        """One name per group: ``'ring'`` and ``'ring + line'`` for class ``ring``."""
        return tuple(self.class_names[g // 2] + (f" + {self.feature}" if g % 2 else "")
                     for g in range(2 * len(self.class_names)))

    @classmethod
    def of(cls, scenario, *, dataset, scale, custom=False):
        """The facts of a :class:`spurlab.Scenario`."""
        K = scenario.train.num_classes
        return cls(
            dataset=str(dataset), target_class=int(scenario.target_class),
            class_names=tuple(str(c) for c in scenario.train.classes),
            feature=scenario.feature.short_name(),
            description=scenario.describe(), placement=str(scenario.placement),
            carrier_indices=tuple(int(i) for i in scenario.carrier_indices.tolist()),
            group_sizes=tuple(np.bincount(scenario.train_groups.numpy(), minlength=2 * K).tolist()),
            test_group_sizes=tuple(np.bincount(scenario.group_test_groups.numpy(),
                                               minlength=2 * K).tolist()),
            n_stamped_test=len(scenario.stamped_test), scale=str(scale), custom=bool(custom))

    def to_dict(self):
        return jsonable(dataclasses.asdict(self))

    @classmethod
    def from_dict(cls, d):
        d = dict(d)
        for k in ("class_names", "carrier_indices", "group_sizes", "test_group_sizes"):
            d[k] = tuple(d[k])
        return cls(**d)


# --------------------------------------------------------------------------- one arm

@dataclass(frozen=True)
class ArmResult:
    """One arm: prune by the early scores (or upweight, for JTT) and retrain a fresh model.

    Attributes
    ----------
    name, strategy, scope : str
        ``'hardest/oracle'``, ``'hardest'``, ``'oracle'``.
    labels_used : {'none', 'validation', 'training'}
        Group (carrier) labels the method needs beyond the class labels.
    metrics : ModelMetrics
    n_kept : int
        Training samples the arm's model trained on (JTT: with its copies).
    pruned : tuple of int
        The training samples removed (JTT: none).
    pruned_by_group : tuple of int
        Removed samples per group ``2 * class + carrier``.
    carriers_pruned : int
        Carriers among ``pruned``.
    target_pruned, carrier_share_pruned, carrier_share_target, occupancy
        Whom it took from the target class (:func:`spurlab.occupancy`); None where undefined
        (JTT prunes nothing; no carrier or nothing pruned from the target class).
    removed_percentile, kept_percentile, hard_removed, n_hard
        Which carriers it removed, by the early scores it pruned by
        (:func:`spurlab.carriers_by_difficulty`): the mean difficulty percentile within the
        target class of the carriers it removed and of those it kept, and the share of the hard
        carriers (the top quarter by difficulty, ``n_hard`` of them) it removed. None where
        undefined (no carriers; JTT prunes nothing).
    latent_removed_percentile, latent_kept_percentile, latent_hard_removed
        The same by the dataset's latent difficulty (the embedded shapes have one); else None.
    upweighted, upweighted_carriers : int or None
        JTT's error set and the carriers in it (None for pruning arms).
    history, seconds, model
        How the arm's model trained (``model`` with ``keep_model=True``); not part of the
        record: not compared, not saved.
    """

    name: str
    strategy: str
    scope: str
    labels_used: str
    metrics: ModelMetrics
    n_kept: int
    pruned: tuple
    pruned_by_group: tuple
    carriers_pruned: int
    target_pruned: int | None = None
    carrier_share_pruned: float | None = None
    carrier_share_target: float | None = None
    occupancy: float | None = None
    removed_percentile: float | None = None
    kept_percentile: float | None = None
    hard_removed: float | None = None
    n_hard: int | None = None
    latent_removed_percentile: float | None = None
    latent_kept_percentile: float | None = None
    latent_hard_removed: float | None = None
    upweighted: int | None = None
    upweighted_carriers: int | None = None
    history: list = field(default_factory=list, compare=False, repr=False)
    seconds: float = field(default=0.0, compare=False, repr=False)
    model: object = field(default=None, compare=False, repr=False)

    RUN_FIELDS = ("history", "seconds", "model")

    def __post_init__(self):
        # undefined shares are None (JSON null), never NaN: records compare equal to themselves
        for name in ("carrier_share_pruned", "carrier_share_target", "occupancy",
                     *(f.name for f in dataclasses.fields(self) if "percentile" in f.name
                       or f.name.endswith("hard_removed"))):
            v = getattr(self, name)
            if v is not None and math.isnan(v):
                object.__setattr__(self, name, None)

    def to_dict(self):
        d = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
             if f.name not in self.RUN_FIELDS}
        d["metrics"] = self.metrics.to_dict()
        return jsonable(d)

    @classmethod
    def from_dict(cls, d):
        d = {k: v for k, v in d.items() if k not in cls.RUN_FIELDS}
        d["metrics"] = ModelMetrics.from_dict(d["metrics"])
        d["pruned"] = tuple(d["pruned"])
        d["pruned_by_group"] = tuple(d["pruned_by_group"])
        return cls(**d)

    def without_run(self):
        """The record alone (no history, time or model)."""
        return dataclasses.replace(self, history=[], seconds=0.0, model=None)


__all__ = ["LABELS_USED", "ArmResult", "ModelMetrics", "ScenarioFacts"]
