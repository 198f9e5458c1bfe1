"""What a run produced, and how it is written: :class:`Result`, JSON without pickle, atomic
files that respect the umask, the run's environment, and mean/spread over seeds.

Examples
--------
>>> summarize([0.2, 0.4, float("nan")])["mean"]
0.30000000000000004
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import platform
import tempfile
from dataclasses import dataclass, field

import numpy as np

from . import __version__
from .config import Config
from .stats import verdict_text


@dataclass
class Result:
    """Everything one run produced; ``to_json``/``save`` write it without pickle.

    ``models`` holds the trained models (``'baseline'``, each arm, ``'reference'``) when
    :func:`spurlab.run` was called with ``keep_models=True``; it is never serialised.
    """

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
    models: dict | None = field(default=None, repr=False, compare=False)
    shortcut: dict | None = None
    score_model: dict | None = None

    def metrics(self, model):
        """The metrics of ``model``: ``'baseline'``, ``'reference'`` or one of the arms."""
        if model == "baseline":
            return self.baseline
        if model == "reference" and self.reference is not None:
            return self.reference
        if model not in self.arms:
            raise ValueError(f"model must be 'baseline', 'reference' (when run with one) or an arm "
                             f"of this result {list(self.arms)}; got {model!r}")
        return self.arms[model]["metrics"]

    def worst_group(self, model="baseline"):
        """The group (``2 * class + carrier``) where ``model``'s accuracy is lowest; groups
        absent from the test set (NaN) are skipped."""
        acc = np.array(self.metrics(model)["group_accuracy"], dtype=float)
        return int(np.nanargmin(acc))

    def carriers_left(self, model):
        """Carriers in ``model``'s training set: all of them for the baseline and for JTT, which
        prunes nothing."""
        return self.carriers - (0 if model == "baseline" else self.arms[model]["carriers_pruned"])

    def carrier_weight(self, model):
        """The carriers' share of ``model``'s training weight; JTT's upweighted samples count
        ``config.jtt_upweight`` times (as copies)."""
        if model == "baseline":
            return self.carriers / len(self.scores)
        a = self.arms[model]
        extra = (self.config.jtt_upweight - 1) * a.get("upweighted_carriers", 0)
        return (self.carriers_left(model) + extra) / a["n_kept"]

    def excess_removed(self, arm):
        """Fraction of the baseline's *excess* SMR (over the no-carrier reference model's SMR)
        that pruning arm ``arm`` removes; NaN without a reference, without excess, or when no
        shortcut was learned (the excess is then within noise: see :attr:`shortcut` and
        :meth:`excess_removed_note`)."""
        if self.reference is None:
            return float("nan")
        if self.shortcut is not None and not self.shortcut["learned"]:
            return float("nan")
        excess = self.baseline["smr"] - self.reference["smr"]
        if excess <= 0:
            return float("nan")
        return (self.baseline["smr"] - self.arms[arm]["metrics"]["smr"]) / excess

    def excess_removed_note(self):
        """Why :meth:`excess_removed` is NaN, or ``''`` when it is defined."""
        if self.reference is None:
            return "no reference model (run with reference=True)"
        if self.shortcut is not None and not self.shortcut["learned"]:
            return verdict_text(self.shortcut)
        if self.baseline["smr"] - self.reference["smr"] <= 0:
            return "the baseline's SMR is not above the reference's"
        return ""

    def table(self):
        """A plain-text table of the headline metrics, one row per model, with the shortcut
        verdict first (whether there is anything for pruning to remove)."""
        rows = []
        if self.reference is not None:
            rows.append(("no carriers (reference)", self.reference, None, None))
        rows.append(("baseline (ERM)", self.baseline, None, None))
        for name, arm in self.arms.items():
            label = (f"upweight jtt x{self.config.jtt_upweight}" if name == "jtt"
                     else f"prune {name} p={self.config.prune_ratio:g}")
            rows.append((label, arm["metrics"], arm["carriers_pruned"], self.excess_removed(name)))
        head = (f"{'model':<28} {'clean acc':>9} {'SMR':>7} {'SMR clean':>9} {'worst grp':>9} "
                f"{'carriers cut':>12} {'occupancy':>9} {'excess cut':>10}")
        lines = []
        if self.shortcut is not None:
            lines.append(verdict_text(self.shortcut))
        lines += [head, "-" * len(head)]
        for label, m, cut, ex in rows:
            cut_s = "" if cut is None else f"{cut}/{self.carriers}"
            ex_s = "" if ex is None or math.isnan(ex) else f"{ex:.0%}"
            arm = next((a for a in self.arms.values() if a["metrics"] is m), {})
            occ = arm.get("occupancy")
            occ_s = "" if occ is None or math.isnan(occ) else f"{occ:.2f}"
            lines.append(f"{label:<28} {m['clean_accuracy']:>9.3f} {m['smr']:>7.3f} "
                         f"{m['smr_clean']:>9.3f} {m['worst_group_accuracy']:>9.3f} "
                         f"{cut_s:>12} {occ_s:>9} {ex_s:>10}")
        if self.shortcut is not None and not self.shortcut["learned"]:
            lines.append("excess cut: not given, the excess SMR is within noise")
        lines.append("occupancy: carriers' share of the target-class samples an arm pruned / "
                     "their share of the class (> 1: pruning targets carriers; < 1: it spares "
                     "them)")
        lines.append(f"regime: carriers' mean early-{self.config.score.upper()} difficulty "
                     f"percentile within class {self.config.target_class} is "
                     f"{self.regime_percentile:.0f} "
                     f"(~50 = spread evenly, weak signal; low = among the easiest, strong signal)")
        return "\n".join(lines)

    def to_dict(self):
        d = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "models"}
        d["config"] = self.config.to_dict()
        d["config_string"] = self.config.to_string()
        d["excess_removed"] = {k: self.excess_removed(k) for k in self.arms}
        d["excess_removed_note"] = self.excess_removed_note()
        return jsonable(d)

    def to_json(self, **kw):
        return json.dumps(self.to_dict(), **kw)

    def save(self, path):
        """Write JSON atomically (temporary file, then rename)."""
        atomic_write_text(path, self.to_json(indent=1))

    @classmethod
    def from_dict(cls, d):
        if not isinstance(d, dict):
            raise TypeError(f"a Result must be read from a dict; got {type(d).__name__}")
        d = dict(d)
        d.pop("config_string", None)
        d.pop("excess_removed", None)
        d.pop("excess_removed_note", None)
        names = {f.name for f in dataclasses.fields(cls)} - {"models"}
        optional = ("history", "scores", "shortcut", "score_model")
        missing = sorted(n for n in names if n not in d and n not in optional)
        unknown = sorted(set(d) - names)
        if missing or unknown:
            raise ValueError(f"not a spurlab Result: missing keys {missing}, unknown keys {unknown}")
        d["config"] = Config(**d["config"])
        if d.get("regime_percentile") is None:  # NaN is stored as null in JSON
            d["regime_percentile"] = float("nan")
        return cls(**d)

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


def jsonable(x):
    """``x`` with numpy numbers as Python numbers and NaN as ``None`` (JSON ``null``)."""
    if isinstance(x, dict):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [jsonable(v) for v in x]
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (np.bool_,)):
        return bool(x)
    if isinstance(x, (float, np.floating)):
        x = float(x)
        return None if math.isnan(x) else x
    return x


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _atomic(path, suffix, write):
    """Write ``path`` through ``write(tmp)`` on a temporary file in the same folder, then a
    rename; the file gets 0666 less the umask, as a plain ``open`` would give; a failure
    leaves neither a half-written file nor the temporary one."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=suffix)
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def atomic_write_text(path, text):
    """Write ``text`` to ``path`` via a temporary file in the same folder and a rename, so a
    crash never leaves a half-written file. The file gets the permissions a plain ``open``
    would give (0666 less the umask), so a shared class folder stays readable."""
    if not isinstance(text, str):
        raise TypeError(f"text must be a str; got {type(text).__name__}")
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_bytes(path, data):
    """:func:`atomic_write_text` for bytes (e.g. a gzipped file)."""
    if not isinstance(data, (bytes, bytearray)):
        raise TypeError(f"data must be bytes; got {type(data).__name__}")

    def write(tmp):
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())

    return _atomic(path, ".tmp", write)


def save_figure(fig, path, *, dpi=120):
    """Save a matplotlib figure atomically (a temporary file in the same folder, then a rename;
    the format from the file's extension, PNG without one), so a crash never leaves half an
    image. Returns ``path``."""
    fmt = os.path.splitext(os.fspath(path))[1][1:] or "png"
    return _atomic(path, "." + fmt, lambda tmp: fig.savefig(tmp, dpi=dpi, format=fmt))


def environment(device):
    """Versions, device and threads of this process, as a dict (recorded with every result)."""
    import torch

    return {"spurlab": __version__, "torch": torch.__version__, "python": platform.python_version(),
            "device": str(device), "threads": torch.get_num_threads()}


def summarize(values):
    """Mean, standard deviation and count of a list of numbers (NaNs and Nones dropped).

    Examples
    --------
    >>> summarize([1.0, 3.0])
    {'mean': 2.0, 'sd': 1.4142135623730951, 'n': 2}
    """
    v = np.asarray([x for x in values if x is not None and not math.isnan(x)], dtype=float)
    if len(v) == 0:
        return {"mean": float("nan"), "sd": float("nan"), "n": 0}
    return {"mean": float(v.mean()), "sd": float(v.std(ddof=1)) if len(v) > 1 else 0.0,
            "n": int(len(v))}


__all__ = ["Result", "atomic_write_bytes", "atomic_write_text", "environment", "jsonable",
           "save_figure", "summarize"]
