"""Reliability in a classroom: bad inputs, determinism, a tampered cache, interruption.

More: ``test_reliability_inputs.py`` (the table of bad inputs to features, metrics, training,
models, scores, datasets, device, widget panels and the command line's output files) and
``test_reliability_engine.py`` (configs, arms, seeds, scenarios, grids, caches, result files).
"""

import json

import numpy as np
import pytest
import torch

import spurlab as sl
from spurlab import widgets
from spurlab.cache import ResultCache
from spurlab.cli import main

TINY = dict(n_train=300, n_test=120, epochs=2, score_epoch=1)


@pytest.fixture(scope="module")
def data():
    return sl.load_dataset("shapes", n_train=300, n_test=120)


def _scen(data, **kw):
    tr, te = data
    return sl.make_scenario(tr, te, **{"feature": "line", "target_class": 0, "prevalence": 0.3,
                                       **kw})


X = torch.rand(8, 1, 8, 8)
Y = torch.arange(8) % 2

# (call, expected error type, word the message must contain)
BAD_INPUTS = [
    (lambda d: sl.Line(salience=1.2), ValueError, "salience"),
    (lambda d: sl.Line(salience=float("nan")), ValueError, "salience"),
    (lambda d: sl.Patch(salience=-1), ValueError, "salience"),
    (lambda d: sl.Tint(salience=2), ValueError, "salience"),
    (lambda d: sl.Line(salience="high"), TypeError, "salience"),
    (lambda d: sl.make_feature("stripes"), ValueError, "feature"),
    (lambda d: _scen(d, prevalence=1.01), ValueError, "prevalence"),
    (lambda d: _scen(d, prevalence=float("nan")), ValueError, "prevalence"),
    (lambda d: _scen(d, target_class=9), ValueError, "target_class"),
    (lambda d: _scen(d, target_class=-1), ValueError, "target_class"),
    (lambda d: _scen(d, placement="middle"), ValueError, "placement"),
    (lambda d: _scen(d, n_carriers=10_000), ValueError, "n_carriers"),
    (lambda d: _scen(d, placement="hardest", scores=np.full(300, np.nan)), ValueError, "scores"),
    (lambda d: sl.load_dataset("imagenet"), ValueError, "dataset"),
    (lambda d: sl.make_shapes(5), ValueError, "n"),
    (lambda d: sl.make_shapes(600, size=4), ValueError, "size"),
    (lambda d: sl.from_tensors(torch.rand(4, 1, 8, 8), torch.arange(3)), ValueError, "labels"),
    (lambda d: sl.from_tensors(torch.rand(4, 2), torch.arange(4) % 2), ValueError, "images"),
    (lambda d: sl.from_tensors(torch.rand(4, 1, 8, 8) + 1, torch.arange(4) % 2), ValueError, "images"),
    (lambda d: sl.from_tensors(torch.full((4, 1, 8, 8), float("nan")), torch.arange(4) % 2),
     ValueError, "images"),
    (lambda d: sl.from_tensors(torch.rand(4, 1, 8, 8), torch.tensor([0.0, 1.0, 0.0, 1.0])),
     TypeError, "labels"),
    (lambda d: sl.make_model("vgg16"), ValueError, "model"),
    (lambda d: sl.make_model("tiny", num_classes=1), ValueError, "num_classes"),
    (lambda d: sl.train(sl.make_model(), X, Y, epochs=0, progress=False), ValueError, "epochs"),
    (lambda d: sl.train(sl.make_model(), X, Y[:4], progress=False), ValueError, "labels"),
    (lambda d: sl.train(sl.make_model(), X, Y, lr=-1, progress=False), ValueError, "lr"),
    (lambda d: sl.prune(np.zeros(8), Y.numpy(), 1.0), ValueError, "ratio"),
    (lambda d: sl.prune(np.zeros(8), Y.numpy(), -0.2), ValueError, "ratio"),
    (lambda d: sl.prune(np.zeros(8), Y.numpy(), 0.2, strategy="median"), ValueError, "strategy"),
    (lambda d: sl.prune(np.zeros(3), Y.numpy(), 0.2), ValueError, "scores"),
    (lambda d: sl.prune(np.arange(8.0), np.array([0] * 7 + [1]), 0.6), ValueError, "ratio"),
    (lambda d: sl.difficulty(sl.make_model(), X, Y, "entropy"), ValueError, "score"),
    (lambda d: sl.Config(prune_ratio=1.0), ValueError, "prune_ratio"),
    (lambda d: sl.Config(salience=3), ValueError, "salience"),
    (lambda d: sl.Config.from_string("lr=fast"), ValueError, "lr"),
    (lambda d: sl.Config.from_string("colour=red"), ValueError, "key=value"),
    (lambda d: sl.run(sl.Config(dataset="digits", target_class=11, **TINY)), ValueError, "target_class"),
    (lambda d: sl.run(sl.Config(**TINY), arms=["hardest/everyone"]), ValueError, "scope"),
    (lambda d: sl.preset("turbo"), ValueError, "preset"),
    (lambda d: sl.spurious_misclassification_rate([0, 1], [0], 0), ValueError, "labels"),
    (lambda d: sl.upweight_indices(np.array([True]), factor=0), ValueError, "factor"),
]


@pytest.mark.parametrize("call,exc,word", BAD_INPUTS,
                         ids=[f"{i:02d}-{w}" for i, (_, _, w) in enumerate(BAD_INPUTS)])
def test_bad_input_raises_a_clear_error(data, call, exc, word):
    with pytest.raises(exc) as info:
        call(data)
    assert word in str(info.value)


BAD_CLI = [
    (["run", "salience=1.5"], "salience"),
    (["run", "prevalence=2"], "prevalence"),
    (["run", "prune_ratio=1"], "prune_ratio"),
    (["run", "target_class=x"], "target_class"),
    (["run", "dataset=celebb"], "dataset"),
    (["run", "placement=somewhere"], "placement"),
    (["run", "epochs=1 score_epoch=1 n_train=300 n_test=120", "--arms", "median"], "strategy"),
    (["demo", "--seed", "-3"], "seed"),
]


@pytest.mark.parametrize("argv,word", BAD_CLI, ids=[w for _, w in BAD_CLI])
def test_bad_cli_input_exits_2_with_one_line(argv, word, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("spurlab: error:") and word in err and "\n" not in err


def test_widget_shows_bad_input_and_stays_usable():
    def compute(salience):
        return sl.Line(salience=salience).salience

    p = widgets.Panel({"salience": widgets.slider("s", 0.5, 0, 2, 0.1)}, compute)
    p.set(salience=1.5).run()
    assert isinstance(p.error, ValueError) and "salience" in str(p.error)
    assert p.set(salience=0.4).run() == 0.4


def test_same_seed_bit_identical_different_seed_differs():
    cfg = sl.preset("quick", **TINY)
    a = sl.run(cfg, arms=["hardest", "random"], reference=False)
    b = sl.run(cfg, arms=["hardest", "random"], reference=False)
    c = sl.run(cfg.replace(seed=1), arms=["hardest", "random"], reference=False)
    assert a.scores == b.scores and a.baseline == b.baseline
    assert all(a.arms[k] == b.arms[k] for k in a.arms)
    assert a.scores != c.scores


def test_tampered_cache_payload_is_not_loaded(tmp_path):
    cache = ResultCache(tmp_path)
    cache.put("k", {"smr": 0.1})
    doc = json.loads((tmp_path / "k.json").read_text())
    doc["payload"]["smr"] = 0.9
    (tmp_path / "k.json").write_text(json.dumps(doc))
    with pytest.warns(RuntimeWarning, match="corrupt"):
        assert cache.get("k") is None
    assert not (tmp_path / "k.json").exists()


def test_cli_interrupt_exits_130_and_writes_nothing(tmp_path, capsys, monkeypatch):
    def ctrl_c(*a, **k):                       # Ctrl-C as training starts, wherever it is called
        raise KeyboardInterrupt

    monkeypatch.setattr(torch.optim, "SGD", ctrl_c)
    out = tmp_path / "r.json"
    assert main(["run", "epochs=1 score_epoch=1", "--json", str(out)]) == 130
    assert "interrupted" in capsys.readouterr().err and not out.exists()


def test_diverging_training_stops_with_a_message():
    x = torch.rand(64, 1, 16, 16)
    x[3] = 1e38
    with pytest.raises(sl.TrainingDiverged, match="lr"):
        sl.train(sl.make_model(), x, torch.arange(64) % 6, epochs=2, progress=False)


def test_result_file_records_what_is_needed_to_reproduce(tmp_path):
    r = sl.run(sl.preset("quick", **TINY), arms=["hardest"], reference=False)
    r.save(tmp_path / "r.json")
    d = json.loads((tmp_path / "r.json").read_text())
    assert d["config_string"] and d["config"]["seed"] == 0
    assert {"spurlab", "torch", "device"} <= set(d["environment"])
