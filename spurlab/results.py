"""The record of a run: one typed schema for what every model produced and for the scenario it
ran on. Its parts (:mod:`spurlab.parts`): :class:`ModelMetrics` (one model's scores, the same
shape for every model), :class:`ScenarioFacts` (what was run) and :class:`ArmResult` (one arm).

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

import json
import math
import os
from dataclasses import dataclass, field

from .config import Config
from .files import atomic_write_text, jsonable
from .parts import LABELS_USED, ArmResult, ModelMetrics, ScenarioFacts
from .stats import nan_if_none as _num
from .verdicts import Shortcut, share_removed
from .verdicts import shortcut as shortcut_of

SCHEMA = "spurlab-result/2"


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
            rows.append(("no carriers (reference)", self.reference, None, "-"))
        rows.append(("baseline (ERM)", self.baseline, None, "none"))
        for name, arm in self.arms.items():
            label = (f"upweight jtt x{self.config.jtt_upweight}" if name == "jtt"
                     else f"last layer {name}" if name in ("dfr", "afr")
                     else f"prune {name} p={self.config.prune_ratio:g}")
            rows.append((label, arm.metrics, arm, arm.labels_used))
        head = (f"{'model':<28} {'groups':>10} {'clean acc':>9} {'SMR':>7} {'SMR clean':>9} "
                f"{'worst grp':>9} {'carriers cut':>12} {'hard cut':>9} {'excess cut':>10}")
        lines = [verdict.text(), head, "-" * len(head)]
        for label, m, arm, tag in rows:
            cut_s = ex_s = hard_s = ""
            if arm is not None:
                cut_s = f"{arm.carriers_pruned}/{self.carriers}"
                ex = self.excess_removed(arm.name)
                ex_s = "" if math.isnan(ex) else f"{ex:.0%}"
                hard_s = ("" if arm.hard_removed is None
                          else f"{round(arm.hard_removed * arm.n_hard)}/{arm.n_hard}")
            lines.append(f"{label:<28} {tag:>10} {m.clean_accuracy:>9.3f} {m.smr:>7.3f} "
                         f"{m.smr_clean:>9.3f} {m.worst_group_accuracy:>9.3f} "
                         f"{cut_s:>12} {hard_s:>9} {ex_s:>10}".rstrip())
        if verdict.learned is False:
            lines.append("excess cut: not given, no shortcut was learned")
        sc = self.scenario
        lines.append(f"SMR: share of the {sc.n_stamped_test} stamped test images of other classes "
                     f"predicted {sc.target}")
        lines.append("groups: the group labels a method uses beyond the class labels: none, on a "
                     "validation split only, or in training (the oracle)")
        lines.append(f"hard cut: of the hard carriers (the hardest quarter of the carriers by "
                     f"early {self.config.score.upper()}), how many the arm pruned")
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
