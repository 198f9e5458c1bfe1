"""The engine's memory is bounded: it holds at most SPURLAB_CACHE_MEMORY_MB megabytes of
tensors, models and scores, forgets the entries used least recently first, and keeps a trained
model only when it was asked for."""

import pytest
import torch

import spurlab as sl
from spurlab.cache import CACHE, Cache, _sizeof


def test_sizes_count_tensors_models_and_numbers_once():
    t = torch.zeros(1000)                                       # 4,000 bytes
    assert _sizeof({"a": t, "b": t}, set()) == 4000             # shared: counted once
    assert _sizeof([0.5] * 100, set()) == 800
    assert _sizeof(sl.make_model(), set()) == sum(p.numel() * 4 for p in sl.make_model().parameters()) \
        + sum(b.numel() * b.element_size() for b in sl.make_model().buffers())
    assert _sizeof(sl.build_scenario(sl.preset("smoke")), set()) > 600 * 16 * 16 * 4


def test_the_least_recently_used_entries_go_first():
    c = Cache(max_mb=0.02)                                      # 20,971 bytes
    for i in range(4):
        c.put("k", str(i), {"_t": torch.zeros(1000)})           # 4,000 bytes each
    assert c.get("k", "0") is not None                          # used now: kept longer
    c.put("k", "4", {"_t": torch.zeros(1000)})
    c.put("k", "5", {"_t": torch.zeros(1000)})
    assert c.nbytes() <= c.budget()
    kept = {k for _, k in c.memory}
    assert "0" in kept and "1" not in kept and {"4", "5"} <= kept
    big = {"_t": torch.zeros(100_000)}                          # over the budget alone: kept,
    c.put("k", "big", big)                                      # everything older goes
    assert list(c.memory) == [("k", "big")]


def test_the_budget_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("SPURLAB_CACHE_MEMORY_MB", "2")
    assert Cache().budget() == 2 * 2 ** 20
    monkeypatch.setenv("SPURLAB_CACHE_MEMORY_MB", "lots")
    with pytest.raises(ValueError, match="SPURLAB_CACHE_MEMORY_MB must be a number"):
        Cache().budget()
    monkeypatch.setenv("SPURLAB_CACHE_MEMORY_MB", "0")
    with pytest.raises(ValueError, match="above 0"):
        Cache().budget()


def test_models_are_kept_only_when_asked_for():
    sl.clear_cache()
    cfg = sl.preset("smoke", epochs=2, score_epoch=1)
    sl.run(cfg, arms=["hardest"], reference=False)
    assert not any("_model" in v for (kind, _), v in CACHE.memory.items() if kind in ("baseline", "arm"))
    r = sl.run(cfg, arms=["hardest"], reference=False, keep_models=True)   # trained again, kept
    assert r.models["baseline"] is not None and r.models["hardest"] is not None
    again = sl.run(cfg, arms=["hardest"], reference=False, keep_models=True)
    assert again.models["baseline"] is r.models["baseline"] and again.timings["baseline"] == 0
    assert again.baseline == r.baseline
