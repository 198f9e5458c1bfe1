"""Reliability of the engine's boundary: bad configs, arms, seeds, scenarios, grids, result and
cache files, each a clear error naming the parameter before any work; a shared cache folder
that loses nothing (two users, concurrent writers)."""

import json
import multiprocessing
import os
import warnings

import numpy as np
import pytest

import spurlab as sl
from spurlab import sweeps
from spurlab.cache import ResultCache, fingerprint
from spurlab.files import atomic_write_text
from spurlab.reproduce import reproduce
from spurlab.results import Result

from .conftest import patch_fit, real_fit

TINY = sl.Config.from_string("n_train=300 n_test=120 epochs=2 score_epoch=1")
SMALL = sl.load_dataset("shapes", n_train=120, n_test=60)

# (call, expected error type, text the message must contain: the parameter's name)
BAD = [
    # configs and their strings
    (lambda: sl.Config(salience=1.5), ValueError, "salience"),
    (lambda: sl.Config(prevalence=-0.1), ValueError, "prevalence"),
    (lambda: sl.Config(n_train=4), ValueError, "n_train"),
    (lambda: sl.Config(n_test=2), ValueError, "n_test"),
    (lambda: sl.Config(image_size=4), ValueError, "image_size"),
    (lambda: sl.Config(epochs=0), ValueError, "epochs"),
    (lambda: sl.Config(epochs=2.5), TypeError, "epochs"),
    (lambda: sl.Config(score_epoch=20), ValueError, "score_epoch"),
    (lambda: sl.Config(score_seeds=0), ValueError, "score_seeds"),
    (lambda: sl.Config(batch_size=1), ValueError, "batch_size"),
    (lambda: sl.Config(lr=0), ValueError, "lr"),
    (lambda: sl.Config(lr=float("nan")), ValueError, "lr"),
    (lambda: sl.Config(momentum=1.0), ValueError, "momentum"),
    (lambda: sl.Config(weight_decay=-1), ValueError, "weight_decay"),
    (lambda: sl.Config(schedule="linear"), ValueError, "schedule"),
    (lambda: sl.Config(pretrained="yes"), ValueError, "pretrained"),
    (lambda: sl.Config(n_carriers=-3), ValueError, "n_carriers"),
    (lambda: sl.Config(n_carriers=2.0), TypeError, "n_carriers"),
    (lambda: sl.Config(prune_ratio=1.0), ValueError, "prune_ratio"),
    (lambda: sl.Config(jtt_upweight=0), ValueError, "jtt_upweight"),
    (lambda: sl.Config(strategy="middle"), ValueError, "strategy"),
    (lambda: sl.Config(scope="everyone"), ValueError, "scope"),
    (lambda: sl.Config(placement="indices"), ValueError, "placement"),
    (lambda: sl.Config(orientation="diagonal"), ValueError, "orientation"),
    (lambda: sl.Config(thickness=0), ValueError, "thickness"),
    (lambda: sl.Config(model="vgg"), ValueError, "model"),
    (lambda: sl.Config(score="entropy"), ValueError, "score"),
    (lambda: sl.Config(dataset="imagenet"), ValueError, "dataset"),
    (lambda: sl.Config(seed=-1), ValueError, "seed"),
    (lambda: sl.Config(band_low=0.6, band_high=0.4), ValueError, "band_low"),
    (lambda: sl.Config.from_string("seed=1 seed=2"), ValueError, "seed twice"),
    (lambda: sl.Config.from_string("epochs=ten"), ValueError, "epochs"),
    (lambda: sl.Config.from_string("pretrained=maybe"), ValueError, "pretrained"),
    (lambda: sl.Config.from_string("n_carriers=few"), ValueError, "n_carriers"),
    (lambda: sl.Config.from_string("salience"), ValueError, "key=value"),
    (lambda: sl.Config.from_string(42), TypeError, "config string"),
    (lambda: TINY.replace(colour="red"), ValueError, "colour"),
    (lambda: sl.preset("fast"), ValueError, "preset"),
    (lambda: sl.preset("quick", salinece=0.2), ValueError, "salinece"),
    # run and its steps: arms, seeds, scenario, config
    (lambda: sl.run(TINY, arms="hardest"), TypeError, "arms must be a list"),
    (lambda: sl.run(TINY, arms=["hardest", "hardest"]), ValueError, "arms must not repeat"),
    (lambda: sl.run(TINY, arms=["middle"]), ValueError, "arm strategy"),
    (lambda: sl.run(TINY, arms=["hardest/everyone"]), ValueError, "arm scope"),
    (lambda: sl.run(TINY, arms=[3]), TypeError, "arm"),
    (lambda: sl.run(TINY, arms=[None]), TypeError, "arm"),
    (lambda: sl.run(42), TypeError, "config"),
    (lambda: sl.run(TINY, scenario="shapes"), TypeError, "scenario"),
    (lambda: sl.run(TINY, scenario=object()), TypeError, "scenario"),
    (lambda: sl.run(TINY.replace(target_class=7)), ValueError, "target_class"),
    (lambda: sl.run(TINY.replace(prevalence=0.0), arms=["hardest/oracle"]), ValueError, "oracle"),
    (lambda: sl.arm(TINY.replace(prevalence=0.0), "hardest/oracle"), ValueError, "oracle"),
    # a ratio that would empty a class, found before the baseline trains
    (lambda: sl.run(TINY.replace(prune_ratio=0.999), arms=["hardest"]), ValueError,
     "ratio=0.999 would remove every sample"),
    (lambda: sl.arm(TINY.replace(prune_ratio=0.999), "random/global"), ValueError,
     "ratio=0.999 would remove every sample"),
    # a model that does not fit the scenario, or test data of other classes
    (lambda: sl.evaluate(sl.make_model(num_classes=2), sl.build_scenario(TINY)), ValueError,
     "one score per class of the scenario"),
    (lambda: sl.evaluate(sl.make_model(in_channels=3), sl.build_scenario(TINY)), ValueError,
     "channel"),
    (lambda: sl.stamp_predictions(sl.make_model(num_classes=3), sl.build_scenario(TINY)), ValueError,
     "one score per class"),
    (lambda: sl.evaluate("model", sl.build_scenario(TINY)), TypeError, "model"),
    (lambda: sl.make_scenario(SMALL[0], sl.from_tensors(SMALL[1].images, SMALL[1].labels % 5),
                              "line", 0, 0.3), ValueError, "same classes"),
    (lambda: reproduce("cifar10s", out="/tmp/spurlab-never", prune_ratios=[]),
     ValueError, "prune_ratios"),
    (lambda: sl.arm(TINY, "nope"), ValueError, "arm strategy"),
    (lambda: sl.arm(TINY, 5), TypeError, "arm"),
    (lambda: sl.baseline(TINY, scenario=[1, 2]), TypeError, "scenario"),
    (lambda: sl.reference(TINY, scenario={}), TypeError, "scenario"),
    (lambda: sl.build_scenario("colour=red"), ValueError, "key=value"),
    (lambda: sl.fit(TINY, None, None, seed=-2), ValueError, "seed"),
    (lambda: sl.run_seeds(TINY, []), ValueError, "seeds"),
    (lambda: sl.run_seeds(TINY, [1.9, 1.2]), ValueError, "seeds must be integers"),
    (lambda: sl.run_seeds(TINY, [1, 1]), ValueError, "seeds must be distinct"),
    (lambda: sl.run_seeds(TINY, "01"), TypeError, "seeds"),
    (lambda: sl.run_seeds(TINY, 3), TypeError, "seeds"),
    (lambda: sl.run_seeds(TINY, [-1]), ValueError, "seed"),
    (lambda: sl.prune_arm("jtt", np.zeros(4), np.array([0, 0, 1, 1]), 0.5), ValueError, "jtt"),
    (lambda: sl.prune_arm("hardest/target", np.zeros(4), np.array([0, 0, 1, 1]), 0.5),
     ValueError, "target_class"),
    (lambda: sl.prune_arm("hardest/oracle", np.zeros(4), np.array([0, 0, 1, 1]), 0.5),
     ValueError, "oracle"),
    (lambda: sl.prune_arm("hardest/oracle", np.zeros(4), np.array([0, 0, 1, 1]), 0.5,
                          carrier=np.zeros(4, bool)), ValueError, "oracle"),
    (lambda: sl.prune_arm("hardest", np.zeros(4), np.array([0, 0, 1, 1]), 1.5), ValueError, "ratio"),
    # grids
    (lambda: sweeps.grid(TINY, {"seed": [0, 1]}, seeds=[0]), ValueError, "seed"),
    (lambda: sweeps.grid(TINY, {"prune_ratio": [0.1]}, seeds=[0.5]), ValueError, "seeds"),
    (lambda: sweeps.grid(TINY, {"prune_ratio": [0.1]}, seeds=[]), ValueError, "seeds"),
    (lambda: sweeps.grid(TINY, {"prune_ratio": [0.1]}, seeds=[0], arms="hardest"), TypeError, "arms"),
    (lambda: sweeps.grid(TINY, {"prune_ratio": [1.2]}, seeds=[0]), ValueError, "prune_ratio"),
    (lambda: sweeps.grid(TINY, {"prune_ratio": 0.1}, seeds=[0]), ValueError, "axes"),
    (lambda: sweeps.grid(TINY, {"prune_ratio": []}, seeds=[0]), ValueError, "axes"),
    (lambda: sweeps.grid(TINY, {"prune_ratio": "0.1"}, seeds=[0]), ValueError, "axes"),
    (lambda: sweeps.grid(TINY, [("prune_ratio", [0.1])], seeds=[0]), ValueError, "axes"),
    # the arms say which samples are pruned: a strategy or scope axis would be ignored
    (lambda: sweeps.grid(TINY, {"strategy": ["hardest", "random"]}, seeds=[0]), ValueError,
     "axes must not hold 'strategy'.*arms="),
    (lambda: sweeps.grid(TINY, {"scope": ["class", "global"]}, seeds=[0]), ValueError,
     "axes must not hold 'scope'"),
    (lambda: sweeps.grid(TINY, {"prune_ratio": [0.1]}, seeds=[0], workers=0), ValueError, "workers"),
    (lambda: sweeps.grid(TINY, {"prune_ratio": [0.1]}, seeds=[0], threads=0), ValueError, "threads"),
    (lambda: sweeps.grid(TINY, {"prune_ratio": [0.1]}, seeds=[0], executor=3), TypeError, "executor"),
    # cache keys and folders
    (lambda: ResultCache("/tmp").path("../../x"), ValueError, "cache key"),
    (lambda: ResultCache("/tmp").path("a/b"), ValueError, "cache key"),
    (lambda: ResultCache("/tmp").path(""), ValueError, "cache key"),
    (lambda: ResultCache("/tmp").path(".hidden"), ValueError, "cache key"),
    (lambda: ResultCache("/tmp").path(12), ValueError, "cache key"),
    (lambda: ResultCache("/tmp").put("../escape", {"a": 1}), ValueError, "cache key"),
    (lambda: ResultCache(3), TypeError, "folder"),
    (lambda: atomic_write_text("/tmp/spurlab-never.json", 12345), TypeError, "text"),
    (lambda: Result.from_dict([1, 2]), TypeError, "dict"),
    (lambda: Result.from_dict({"config": {}}), ValueError, "missing keys"),
]


@pytest.mark.parametrize("call,exc,word", BAD, ids=[f"{i}-{w}" for i, (_, _, w) in enumerate(BAD)])
def test_bad_engine_input_is_refused_before_any_work(call, exc, word, monkeypatch):
    sl.clear_cache()
    trained = []
    real = real_fit()
    patch_fit(monkeypatch, lambda *a, **k: trained.append(1) or real(*a, **k))
    with pytest.raises(exc, match=word):
        call()
    # nothing trained, except where the error is about data only found after the baseline
    assert not trained or word == "oracle"


def test_cache_file_from_a_file_path_is_refused(tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(ValueError, match="not a folder"):
        ResultCache(f)


BAD_FILES = [
    ("truncated.json", '{"config": {"seed": 1', "not valid JSON"),
    ("list.json", "[1, 2, 3]", "does not hold a spurlab Result"),
    ("other.json", '{"hello": 1}', "does not hold a spurlab Result"),
    ("badcfg.json", None, "does not hold a spurlab Result"),
    ("binary.json", b"\xff\xfe\x00", "not a text JSON file"),
]


@pytest.mark.parametrize("name,content,word", BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_result_load_names_the_file_and_the_problem(tmp_path, name, content, word):
    p = tmp_path / name
    if content is None:          # a real result with a config knob that no longer exists
        r = sl.run(TINY, arms=[], reference=False)
        d = r.to_dict()
        d["config"]["colour"] = "red"
        content = json.dumps(d)
    if isinstance(content, bytes):
        p.write_bytes(content)
    else:
        p.write_text(content)
    with pytest.raises(ValueError, match=word) as e:
        Result.load(p)
    assert str(p) in str(e.value)


def test_result_round_trips(tmp_path):
    r = sl.run(TINY, arms=["hardest"], reference=True)
    r.save(tmp_path / "r.json")
    back = Result.load(tmp_path / "r.json")
    assert back.arms == r.arms and back.config == r.config and back.baseline == r.baseline


def test_files_are_readable_by_the_group_and_others_as_the_umask_allows(tmp_path):
    old = os.umask(0o022)
    try:
        ResultCache(tmp_path).put("k", {"v": 1})
        atomic_write_text(tmp_path / "r.json", "{}")
    finally:
        os.umask(old)
    assert oct(os.stat(tmp_path / "k.json").st_mode & 0o777) == oct(0o644)
    assert oct(os.stat(tmp_path / "r.json").st_mode & 0o777) == oct(0o644)
    old = os.umask(0o077)
    try:
        ResultCache(tmp_path).put("private", {"v": 1})
    finally:
        os.umask(old)
    assert oct(os.stat(tmp_path / "private.json").st_mode & 0o777) == oct(0o600)


def test_unreadable_cache_file_is_kept_not_deleted(tmp_path, monkeypatch):
    """A permission or I/O error is not corruption: warn, recompute, keep the file."""
    cache = ResultCache(tmp_path)
    cache.put("k", {"v": 1})
    import builtins

    real_open = builtins.open

    def denied(path, *a, **k):
        if os.fspath(path) == cache.path("k"):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_open(path, *a, **k)

    monkeypatch.setattr(builtins, "open", denied)
    with pytest.warns(RuntimeWarning, match="could not be read"):
        assert cache.get("k") is None
    monkeypatch.setattr(builtins, "open", real_open)
    assert os.path.exists(cache.path("k")) and cache.get("k") == {"v": 1}


def test_corrupt_cache_file_is_deleted_and_recomputed(tmp_path):
    cache = ResultCache(tmp_path)
    cache.put("k", {"v": 1})
    with open(cache.path("k"), "w") as f:
        f.write('{"sha256": "00", "payload": {"v": 2}}')
    with pytest.warns(RuntimeWarning, match="corrupt"):
        assert cache.get("k") is None
    assert not os.path.exists(cache.path("k"))


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0,
                    reason="needs root to act as a second user (seteuid)")
def test_a_second_user_reads_the_shared_folder_and_loses_nothing():
    """root writes the class's cache; user 'nobody' reads it (effective uid switched in this
    process). A file it may not read (mode 0600, as older spurlab wrote them) is reported and
    left in place, not deleted as corrupt."""
    import pwd
    import shutil
    import tempfile

    folder = tempfile.mkdtemp(prefix="spurlab-class-")     # /tmp: reachable by every user
    try:
        os.chmod(folder, 0o755)
        old = os.umask(0o022)
        try:
            cache = ResultCache(folder)
            cache.put("shared", {"smr": 0.25})
            cache.put("private", {"smr": 0.5})
        finally:
            os.umask(old)
        os.chmod(cache.path("private"), 0o600)
        nobody = pwd.getpwnam("nobody").pw_uid
        os.seteuid(nobody)
        try:
            shared = ResultCache(folder).get("shared")
            with pytest.warns(RuntimeWarning, match="could not be read"):
                private = ResultCache(folder).get("private")
        finally:
            os.seteuid(0)
        assert shared == {"smr": 0.25} and private is None
        assert os.path.exists(cache.path("private")) and cache.get("private") == {"smr": 0.5}
    finally:
        shutil.rmtree(folder)


def _writer(folder, who, n):
    cache = ResultCache(folder)
    for i in range(n):
        cache.put("same", {"who": who, "i": i, "pad": "x" * 20000})


def test_concurrent_writers_leave_one_whole_file(tmp_path):
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(str(tmp_path), w, 40)) for w in ("a", "b")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert all(p.exitcode == 0 for p in procs)
    with warnings.catch_warnings():
        warnings.simplefilter("error")         # a corrupt file would warn
        got = ResultCache(tmp_path).get("same")
    assert got["who"] in ("a", "b") and got["i"] == 39
    assert [f for f in os.listdir(tmp_path) if f.startswith(".tmp-")] == []


def test_fingerprints_follow_content_not_identity():
    import torch

    a = torch.arange(12.0).reshape(3, 4)
    assert fingerprint(a) == fingerprint(a.clone()) != fingerprint(a + 1)
    assert fingerprint(a) != fingerprint(a.reshape(4, 3)) != fingerprint(a.double())
    assert fingerprint({"x": 1, "y": 2}) == fingerprint({"y": 2, "x": 1})


def test_a_tilde_in_a_folder_setting_means_the_home(tmp_path, monkeypatch):
    """SPURLAB_CACHE_DIR='~/cache' and --json '~/r.json' are the home's, not a folder named '~'."""
    from spurlab.cli import main

    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(work)
    monkeypatch.setenv("SPURLAB_CACHE_DIR", "~/cache")
    sl.clear_cache()
    sl.run(TINY, arms=[], reference=False)
    assert any((home / "cache").iterdir()) and not (work / "~").exists()
    assert main(["run", "n_train=300 n_test=120 epochs=1 score_epoch=1", "--json", "~/r.json",
                 "--quiet"]) == 0
    assert (home / "r.json").is_file() and not (work / "~").exists()
