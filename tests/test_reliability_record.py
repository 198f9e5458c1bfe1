"""Reliability, table-driven: bad inputs to the record, the verdicts, the flat rows, the output
paths and the machine settings ($SPURLAB_THREADS, $SPURLAB_CACHE_MEMORY_MB) raise at the boundary
an error of the expected type whose message names the parameter (and, where the table gives them,
the value and what is allowed). Nothing here trains: the results are stand-ins built from numbers
through the real record (``tests/stand_in.py``), and the settings are refused by ``sl.run``
before its scenario is built.

Each row is one case. ``python3 -m pytest --collect-only -q tests/test_reliability*.py`` counts
them with the other reliability tests.
"""

import json
import os

import pytest
import torch

import spurlab as sl
from spurlab import verdicts as V
from spurlab._validate import check_output_path
from spurlab.cache import CACHE
from spurlab.flatten import pivot, rows
from spurlab.playground import Playground
from spurlab.results import SCHEMA, Result
from spurlab.scenario import attribute_scenario

from .refusals import check as _check
from .refusals import ids as _ids
from .stand_in import result

NAN, INF = float("nan"), float("inf")
R0 = result(0, 0.2, {"hardest": 0.04, "random": 0.15})
R1 = result(1, 0.22, {"hardest": 0.05, "random": 0.16})
OK = V.seed_verdict(0.1, (0.05, 0.15), 900, seed=0)
DIFF = V.difference_of([-0.05, -0.07, -0.06], "hardest", "random")


# --------------------------------------------------------------------------- verdicts

VERDICTS = [
    # (call, error type, word(s) the message must contain: the parameter first)
    *[(lambda c=c: V.seed_verdict(0.1, c, 900), ValueError, ("ci95", "low, high"))
      for c in (None, "ab", (0.1,), (0.1, 0.2, 0.3), ("a", "b"), 5)],
    (lambda: V.seed_verdict(0.1, (0.2, 0.0), 900), ValueError, ("ci95", "low <= high")),
    (lambda: V.combine([]), ValueError, "verdicts"),
    (lambda: V.combine([1, 2]), TypeError, "verdicts"),
    (lambda: V.combine(["learned"]), TypeError, "verdicts"),
    (lambda: V.combine([V.combine([OK, OK])]), TypeError, ("verdicts", "one-seed")),
    (lambda: V.combine([OK, None]), TypeError, "verdicts"),
    *[(lambda f=f, b=b: f(b), exc, "results")
      for f in (V.shortcut, lambda r: V.difference(r, "hardest", "random"),
                lambda r: V.share_removed(r, "hardest"))
      for b, exc in ((None, TypeError), (5, TypeError), ("R0", TypeError), ([], ValueError),
                     ([1], TypeError), ([R0, {"arms": {}}], TypeError))],
    *[(lambda m=m: V.difference([R0, R1], "hardest", "random", metric=m), ValueError,
       ("metric", "smr", repr(m))) for m in ("SMR", "accuracy", "", None, "worst_group")],
    (lambda: V.difference([R0, R1], "hardest", "jtt"), ValueError, ("model", "'jtt'")),
    *[(lambda v=v: V.difference_of(v, "a", "b"), TypeError, "values") for v in (None, 3, "abc")],
    *[(lambda a=a: V.share_removed([R0, R1], a), ValueError, ("arm", repr(a), "hardest"))
      for a in ("easiest", "", "hardest/oracle")],
    (lambda: V.effect("learned", DIFF), TypeError, ("verdict", "Shortcut")),
    (lambda: V.effect(None, DIFF), TypeError, "verdict"),
    (lambda: V.effect(OK, 0.05), TypeError, ("diff", "Difference")),
    (lambda: V.effect(OK, "helps"), TypeError, "diff"),
]


@pytest.mark.parametrize("call,exc,words", VERDICTS, ids=_ids(VERDICTS))
def test_verdict_inputs(call, exc, words):
    _check(call, exc, words)


# --------------------------------------------------------------------------- the record

def _doc(**change):
    d = R0.to_dict()
    d.update(change)
    return d


def _without(name):
    d = R0.to_dict()
    del d[name]
    return d


RECORD = [
    *[(lambda d=d: Result.from_dict(d), TypeError, "dict") for d in (None, "x", [R0.to_dict()])],
    *[(lambda n=n: Result.from_dict(_without(n)), ValueError, ("missing keys", n))
      for n in ("config", "scenario", "baseline", "arms", "shortcut")],
    *[(lambda s=s: Result.from_dict(_doc(schema=s)), ValueError, ("schema", SCHEMA, repr(s)))
      for s in ("spurlab-result/1", "spurlab-result/3", 2)],
    (lambda: Result.from_dict({k: v for k, v in R0.to_dict().items() if k != "schema"}),
     ValueError, ("before results had a schema", "run it")),
    *[(lambda m=m: R0.metrics(m), ValueError, ("model", repr(m))) for m in ("jtt", "Hardest", "")],
    *[(lambda m=m: R0.carriers_left(m), ValueError, ("model", repr(m))) for m in ("jtt", "ref")],
    *[(lambda m=m: R0.carrier_weight(m), ValueError, ("model", repr(m))) for m in ("jtt", "ref")],
    *[(lambda a=a: rows(R0, arms=a), ValueError, ("arms", repr(a[0])))
      for a in (["easiest"], ["hardest", "jtt"])],
    (lambda: pivot([], "a", "b", "v"), ValueError, "rows"),
    (lambda: pivot([1, 2], "a", "b", "v"), TypeError, "rows"),
    (lambda: pivot([{"a": 1, "b": 2, "v": 0.5}], "x", "b", "v"), ValueError, ("row_key", "'x'")),
    (lambda: pivot([{"a": 1, "b": 2, "v": 0.5}], "a", "y", "v"), ValueError, ("col_key", "'y'")),
    (lambda: pivot([{"a": 1, "b": 2, "v": 0.5}, {"a": 1, "b": 3}], "a", "b", "v"), ValueError,
     ("value", "'v'")),
]


@pytest.mark.parametrize("call,exc,words", RECORD, ids=_ids(RECORD))
def test_record_inputs(call, exc, words):
    _check(call, exc, words)


@pytest.mark.parametrize("content,words", [
    ("{\"schema\": ", ("not valid JSON", "truncated")),
    ("", "not valid JSON"),
    (b"\xff\xfe\x00binary", "not a text JSON file"),
    ("[1, 2, 3]", "dict"),
    (json.dumps({"schema": SCHEMA}), "missing keys"),
], ids=["truncated", "empty", "binary", "a-list", "keys-missing"])
def test_result_files(tmp_path, content, words):
    p = tmp_path / "r.json"
    (p.write_bytes if isinstance(content, bytes) else p.write_text)(content)
    msg = _check(lambda: Result.load(p), (TypeError, ValueError), words)
    assert p.read_bytes() == (content if isinstance(content, bytes) else content.encode())
    assert "truncated" not in words or "r.json" in msg


# --------------------------------------------------------------------------- output paths

def _fifo(tmp):
    p = tmp / "pipe"
    os.mkfifo(p)
    return p


def _link(tmp):
    (tmp / "real.json").write_text("{}")
    os.symlink(tmp / "real.json", tmp / "link.json")
    return tmp / "link.json"


def _file_in_path(tmp):
    (tmp / "afile").write_text("x")
    return tmp / "afile" / "sub" / "out.json"


def _folder(tmp):
    (tmp / "d").mkdir()
    return tmp / "d"


PATHS = [
    # (make(tmp) -> path, folder?, word(s))
    (lambda t: "", False, ("out", "non-empty")),
    (lambda t: None, False, ("out", "None")),
    (lambda t: 5, False, "out"),
    (_fifo, False, ("out", "FIFO")),
    (_link, False, ("out", "link")),
    (_file_in_path, False, ("out", "is a file, not a folder")),
    (_folder, False, ("out", "is a folder")),
    (lambda t: "/dev/null", False, ("out", "device")),
    (lambda t: t / ("x" * 300 + ".json"), False, ("out", "too long")),
    (lambda t: (t / "f.txt").write_text("x") and t / "f.txt", True, ("out", "existing file")),
    (_link, True, ("out", "link")),
]


@pytest.mark.parametrize("make,folder,words", PATHS, ids=[f"{i:02d}" for i in range(len(PATHS))])
def test_output_paths(tmp_path, make, folder, words):
    path = make(tmp_path)
    before = sorted(os.listdir(tmp_path))
    _check(lambda: check_output_path("out", path, folder=folder), (TypeError, ValueError), words)
    assert sorted(os.listdir(tmp_path)) == before           # nothing made, nothing removed


def test_output_path_expands_home(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    assert check_output_path("out", "~/sub/r.json") == str(tmp_path / "sub" / "r.json")
    assert os.listdir(tmp_path) == []                       # the probe's folder was removed


# --------------------------------------------------------------------------- machine settings

SETTINGS = [
    *[("SPURLAB_THREADS", v, ("SPURLAB_THREADS", "'free', 'all'", repr(v)))
      for v in ("many", "0", "-2", "1.5", "free,all", "two")],
    *[("SPURLAB_CACHE_MEMORY_MB", v, ("SPURLAB_CACHE_MEMORY_MB", "megabytes", repr(v)))
      for v in ("lots", "0", "-64", "nan", "inf", "1e30", "")],
]


@pytest.mark.parametrize("name,value,words", SETTINGS,
                         ids=[f"{n}={v!r}" for n, v, _ in SETTINGS])
def test_settings_refused_before_work(monkeypatch, name, value, words):
    monkeypatch.setenv(name, value)
    calls = []
    monkeypatch.setattr("spurlab.steps.build_scenario", lambda *a, **k: calls.append(1))
    _check(lambda: sl.run("n_train=600 n_test=120 epochs=2 score_epoch=1"), ValueError, words)
    _check(lambda: sl.baseline("n_train=600 n_test=120 epochs=2 score_epoch=1"), ValueError, words)
    assert calls == []                                      # refused before the data was built


@pytest.mark.parametrize("value,expected", [("free", "free"), (" ALL ", "all"), ("3", 3), ("", "free")])
def test_good_thread_settings(monkeypatch, value, expected):
    from spurlab.device import thread_policy
    monkeypatch.setenv("SPURLAB_THREADS", value)
    assert thread_policy() == expected


@pytest.mark.parametrize("value,mb", [("64", 64), ("0.5", 0.5), ("256", 256)])
def test_good_memory_settings(monkeypatch, value, mb):
    monkeypatch.setenv("SPURLAB_CACHE_MEMORY_MB", value)
    assert CACHE.budget() == int(mb * 2 ** 20)


# --------------------------------------------------------------------------- seeds

SEEDS = [
    ([0, 0, 0], ValueError, ("seeds", "distinct")),
    ([], ValueError, "seeds"),
    ([-1], ValueError, "seed"),
    (["a"], TypeError, "seeds"),
    (1.5, TypeError, "seeds"),
    ([1.5, 2], ValueError, ("seeds", "integers")),
    ([True], TypeError, "seeds"),
    ("012", TypeError, "seeds"),
]


@pytest.mark.parametrize("seeds,exc,words", SEEDS, ids=[repr(s[0]) for s in SEEDS])
def test_playground_seeds(seeds, exc, words):
    _check(lambda: Playground(None, seeds=seeds), exc, words)


# --------------------------------------------------------------------------- attribute scenarios

def _sets(train_labels=(0, 0, 0, 1, 1, 1)):
    from spurlab.datasets import ImageSet, from_tensors

    y = torch.tensor(train_labels)
    train = ImageSet(torch.rand(len(y), 1, 8, 8), y, ("0", "1"))       # as a loader builds it
    test = from_tensors(torch.rand(6, 1, 8, 8), torch.tensor([0, 0, 0, 1, 1, 1]))
    return train, test


ATTRIBUTES = [
    # a training split without a class (Waterbirds with no waterbirds), or without carriers in
    # the target class: refused, never "no shortcut learned" read from noise
    (lambda: attribute_scenario(*_sets((0, 0, 0, 0, 0, 0)), [0, 0, 0, 1, 0, 0],
                                   [1, 0, 0, 1, 0, 0], 1), ValueError, ("no image of class", "'1'")),
    (lambda: attribute_scenario(*_sets(), [1, 1, 0, 0, 0, 0], [1, 0, 0, 1, 0, 0], 1),
     ValueError, ("train_attribute", "target_class 1", "no spurious correlation")),
    (lambda: attribute_scenario(*_sets(), [0, 0, 0, 0, 0, 0], [1, 0, 0, 1, 0, 0], 0),
     ValueError, ("train_attribute", "target_class 0")),
    (lambda: attribute_scenario(*_sets(), [0, 0, 0, 1, 0, 0], [0, 0, 0, 1, 0, 0], 1),
     ValueError, ("test_attribute", "outside target_class")),
]


@pytest.mark.parametrize("call,exc,words", ATTRIBUTES, ids=_ids(ATTRIBUTES))
def test_attribute_scenarios(call, exc, words):
    _check(call, exc, words)
