"""The record of a run: one typed schema for what every model produced and for the scenario it
ran on, and the one function that flattens it into rows.

- :class:`ModelMetrics`: what one model scored (the same shape for the baseline, the no-carrier
  reference and every arm).
- :class:`ScenarioFacts`: what was run: the dataset, the target class and its name, the
  carriers, the groups and their sizes, the scale. A config is what the user asked for; the
  scenario is what was run (with ``scenario=`` the two differ), and every table, text and
  figure reads the class, the carriers and the groups from here.
- :class:`ArmResult`: one pruning (or upweighting) arm: which labels it used, what it removed,
  its model's metrics.
- :class:`Result`: all of one run, with the shortcut verdict of :mod:`spurlab.verdicts`;
  ``save``/``load`` write versioned JSON (never pickle).
Flat rows for sweeps and the atlas come from :func:`spurlab.flatten.rows`.

Examples
--------
>>> m = ModelMetrics(0.9, 0.2, 0.01, 0.5, 0.8, (0.9, 0.5, None, 0.95))
>>> m.worst_group
1
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from dataclasses import dataclass, field

import numpy as np

from .config import Config
from .files import atomic_write_text, jsonable
from .stats import nan_if_none as _num
from .verdicts import Shortcut, share_removed
from .verdicts import shortcut as shortcut_of

SCHEMA = "spurlab-result/2"
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
    """

    clean_accuracy: float
    smr: float
    smr_clean: float
    worst_group_accuracy: float
    group_balanced_accuracy: float
    group_accuracy: tuple

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
                         for a in d["group_accuracy"]))


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
    upweighted: int | None = None
    upweighted_carriers: int | None = None
    history: list = field(default_factory=list, compare=False, repr=False)
    seconds: float = field(default=0.0, compare=False, repr=False)
    model: object = field(default=None, compare=False, repr=False)

    RUN_FIELDS = ("history", "seconds", "model")

    def __post_init__(self):
        # undefined shares are None (JSON null), never NaN: records compare equal to themselves
        for name in ("carrier_share_pruned", "carrier_share_target", "occupancy"):
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


# --------------------------------------------------------------------------- one run

@dataclass
class Result:
    """Everything one run produced: what was asked (``config``), what was run (``scenario``),
    each model's metrics, the shortcut verdict, the early scores.

    ``config`` supplies the recipe, score and pruning knobs; with ``run(scenario=...)`` its
    data knobs (dataset, target class, prevalence ...) were not used: read those from
    ``scenario``. ``models`` holds the trained models when :func:`spurlab.run` was called with
    ``keep_models=True``; it is never serialised.
    """

    config: Config
    scenario: ScenarioFacts
    baseline: ModelMetrics
    arms: dict
    reference: ModelMetrics | None
    shortcut: Shortcut | None
    regime_percentile: float
    scores: list
    score_model: dict
    timings: dict = field(default_factory=dict)
    environment: dict = field(default_factory=dict)
    history: dict = field(default_factory=dict)
    models: dict | None = field(default=None, repr=False, compare=False)

    # --- what it holds
    @property
    def carriers(self):
        """Carriers in the training set (``scenario.n_carriers``)."""
        return self.scenario.n_carriers

    @property
    def seed(self):
        return self.config.seed

    def metrics(self, model):
        """The :class:`ModelMetrics` of ``model``: ``'baseline'``, ``'reference'`` or an arm."""
        if model == "baseline":
            return self.baseline
        if model == "reference" and self.reference is not None:
            return self.reference
        if model not in self.arms:
            raise ValueError(f"model must be 'baseline', 'reference' (when run with one) or an arm "
                             f"of this result {list(self.arms)}; got {model!r}")
        return self.arms[model].metrics

    def worst_group(self, model="baseline"):
        """The group (``2 * class + carrier``) where ``model``'s accuracy is lowest; groups
        absent from the test set are skipped."""
        return self.metrics(model).worst_group

    def worst_group_name(self, model="baseline"):
        """:meth:`worst_group` by name, e.g. ``'square + line'``."""
        g = self.worst_group(model)
        return "none" if g is None else self.scenario.group_names[g]

    def carriers_left(self, model):
        """Carriers in ``model``'s training set: all of them for the baseline and for JTT, which
        prunes nothing."""
        if model == "baseline":
            return self.carriers
        return self.carriers - self._arm(model).carriers_pruned

    def _arm(self, model):
        if model not in self.arms:
            raise ValueError(f"model must be 'baseline' or an arm of this result {list(self.arms)}; "
                             f"got {model!r}")
        return self.arms[model]

    def carrier_weight(self, model):
        """The carriers' share of ``model``'s training weight; JTT's upweighted samples count
        ``config.jtt_upweight`` times (as copies)."""
        if model == "baseline":
            return self.carriers / self.scenario.n_train
        a = self._arm(model)
        extra = (self.config.jtt_upweight - 1) * (a.upweighted_carriers or 0)
        return (self.carriers_left(model) + extra) / a.n_kept

    def excess_removed(self, arm):
        """Share of the baseline's excess SMR (over the no-carrier reference) that ``arm``
        removed; NaN when no shortcut was learned or there is no reference
        (:func:`spurlab.verdicts.share_removed`)."""
        s = share_removed(self, arm)
        return float("nan") if s.mean is None else s.mean

    def verdict(self):
        """The shortcut verdict (:func:`spurlab.verdicts.shortcut`)."""
        return shortcut_of(self)

    # --- what it says
    def table(self):
        """A plain-text table of the headline metrics, one row per model, with the shortcut
        verdict first (whether there is anything for pruning to remove)."""
        verdict = self.verdict()
        rows = []
        if self.reference is not None:
            rows.append(("no carriers (reference)", self.reference, None))
        rows.append(("baseline (ERM)", self.baseline, None))
        for name, arm in self.arms.items():
            label = (f"upweight jtt x{self.config.jtt_upweight}" if name == "jtt"
                     else f"prune {name} p={self.config.prune_ratio:g}")
            rows.append((label, arm.metrics, arm))
        head = (f"{'model':<28} {'clean acc':>9} {'SMR':>7} {'SMR clean':>9} {'worst grp':>9} "
                f"{'carriers cut':>12} {'occupancy':>9} {'excess cut':>10}")
        lines = [verdict.text(), head, "-" * len(head)]
        for label, m, arm in rows:
            cut_s = ex_s = occ_s = ""
            if arm is not None:
                cut_s = f"{arm.carriers_pruned}/{self.carriers}"
                ex = self.excess_removed(arm.name)
                ex_s = "" if math.isnan(ex) else f"{ex:.0%}"
                occ_s = "" if arm.occupancy is None else f"{arm.occupancy:.2f}"
            lines.append(f"{label:<28} {m.clean_accuracy:>9.3f} {m.smr:>7.3f} "
                         f"{m.smr_clean:>9.3f} {m.worst_group_accuracy:>9.3f} "
                         f"{cut_s:>12} {occ_s:>9} {ex_s:>10}".rstrip())
        if verdict.learned is False:
            lines.append("excess cut: not given, no shortcut was learned")
        sc = self.scenario
        lines.append(f"SMR: share of the {sc.n_stamped_test} stamped test images of other classes "
                     f"predicted {sc.target}")
        lines.append("occupancy: carriers' share of the target-class samples an arm pruned / "
                     "their share of the class")
        lines.append(f"regime: carriers' mean early-{self.config.score.upper()} difficulty "
                     f"percentile within {sc.target} is {self.regime_percentile:.0f} "
                     f"(~50 = spread evenly, weak signal; low = among the easiest, strong signal)")
        return "\n".join(lines)

    # --- files
    def to_dict(self):
        """The record as JSON-able values, with its schema version."""
        return jsonable({
            "schema": SCHEMA, "config": self.config.to_dict(),
            "config_string": self.config.to_string(), "scenario": self.scenario.to_dict(),
            "baseline": self.baseline.to_dict(),
            "reference": None if self.reference is None else self.reference.to_dict(),
            "arms": {k: a.to_dict() for k, a in self.arms.items()},
            "shortcut": None if self.shortcut is None else self.shortcut.to_dict(),
            "verdict_text": self.verdict().text(),
            "excess_removed": {k: self.excess_removed(k) for k in self.arms},
            "regime_percentile": self.regime_percentile, "scores": self.scores,
            "score_model": self.score_model, "timings": self.timings,
            "environment": self.environment, "history": self.history})

    def to_json(self, **kw):
        return json.dumps(self.to_dict(), **kw)

    def save(self, path):
        """Write JSON atomically (temporary file, then rename)."""
        atomic_write_text(path, self.to_json(indent=1))

    @classmethod
    def from_dict(cls, d):
        """A Result from :meth:`to_dict`; files of another schema are refused with what to do."""
        if not isinstance(d, dict):
            raise TypeError(f"a Result must be read from a dict; got {type(d).__name__}")
        schema = d.get("schema")
        if schema is None and "baseline" in d and "arms" in d:
            cfg = d.get("config_string") or "the config it holds"
            raise ValueError(
                "it was written before results had a schema (no 'schema' field), when they did "
                "not record the scenario they ran on, so it cannot be read as a Result; run it "
                f"again (same config and seed, same numbers): sl.run({cfg!r})")
        names = ("schema", "config", "scenario", "baseline", "arms", "reference", "shortcut",
                 "regime_percentile", "scores", "score_model")
        missing = [n for n in names if n not in d]
        if missing:
            raise ValueError(f"not a spurlab Result: missing keys {missing}")
        if schema != SCHEMA:
            raise ValueError(f"schema must be {SCHEMA!r} (this spurlab's results); got "
                             f"{schema!r}")
        return cls(
            config=Config(**d["config"]), scenario=ScenarioFacts.from_dict(d["scenario"]),
            baseline=ModelMetrics.from_dict(d["baseline"]),
            arms={k: ArmResult.from_dict(a) for k, a in d["arms"].items()},
            reference=None if d["reference"] is None else ModelMetrics.from_dict(d["reference"]),
            shortcut=None if d["shortcut"] is None else Shortcut.from_dict(d["shortcut"]),
            regime_percentile=_num(d["regime_percentile"]), scores=d["scores"],
            score_model=d["score_model"], timings=d.get("timings", {}),
            environment=d.get("environment", {}), history=d.get("history", {}))

    @classmethod
    def load(cls, path):
        """Read a Result written by :meth:`save`; errors name the file and the problem."""
        try:
            with open(path) as f:
                doc = json.load(f)
        except json.JSONDecodeError as exc:
            raise ValueError(f"result file {os.fspath(path)!r} is not valid JSON ({exc}); was it "
                             "truncated?") from None
        except UnicodeDecodeError:
            raise ValueError(f"result file {os.fspath(path)!r} is not a text JSON file") from None
        try:
            return cls.from_dict(doc)
        except (TypeError, ValueError, KeyError) as exc:
            raise ValueError(f"result file {os.fspath(path)!r} does not hold a spurlab Result: "
                             f"{exc}") from None


__all__ = ["LABELS_USED", "SCHEMA", "ArmResult", "ModelMetrics", "Result", "ScenarioFacts"]
