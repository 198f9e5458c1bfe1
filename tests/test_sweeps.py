"""spurlab.sweeps: grids through the engine, with shared work reused across a grid."""

import math

import pytest

from spurlab import Config, cache_info, clear_cache, sweeps

TINY = Config.from_string("n_train=600 n_test=120 epochs=2 score_epoch=1 prune_ratio=0.2")


@pytest.fixture(autouse=True)
def _fresh_cache():
    clear_cache()
    yield
    clear_cache()


def test_grid_rows_and_pivot():
    rows = sweeps.grid(TINY, {"salience": [0.5, 0.9], "prune_ratio": [0.1, 0.3]}, seeds=[0],
                       arms=["hardest", "random"], reference=True)
    assert [(r["salience"], r["prune_ratio"]) for r in rows] == [(0.5, 0.1), (0.5, 0.3),
                                                                 (0.9, 0.1), (0.9, 0.3)]
    assert cache_info()["baseline"] == 2 and cache_info()["reference-model"] == 1
    for key in ("smr_hardest", "excess_removed_random", "carriers_pruned_hardest", "seed",
                "regime_percentile", "smr_reference"):
        assert key in rows[0]
    sal, ratios, mean, sd = sweeps.pivot(rows, "salience", "prune_ratio", "smr_hardest")
    assert sal == [0.5, 0.9] and ratios == [0.1, 0.3] and mean.shape == sd.shape == (2, 2)
    assert mean[1, 0] == rows[2]["smr_hardest"] and sd[1, 0] == 0.0


def test_pivot_averages_and_skips_missing():
    rows = [{"a": 1, "b": 2, "v": 0.2}, {"a": 1, "b": 2, "v": 0.4}, {"a": 1, "b": 3, "v": None},
            {"a": 2, "b": 2, "v": float("nan")}]
    rv, cv, mean, sd = sweeps.pivot(rows, "a", "b", lambda r: r["v"])
    assert rv == [1, 2] and cv == [2, 3]
    assert mean[0, 0] == pytest.approx(0.3) and sd[0, 0] == pytest.approx(0.2 ** 0.5 / 10 ** 0.5)
    assert math.isnan(mean[0, 1]) and math.isnan(mean[1, 0])


def test_bad_input():
    with pytest.raises(ValueError, match="strategy"):
        sweeps.grid(TINY, {"prune_ratio": [0.1]}, seeds=[0], arms=["hardestt"])
    with pytest.raises(ValueError, match="unknown"):
        sweeps.grid(TINY, {"salinece": [0.5]}, seeds=[0])
    with pytest.raises(ValueError, match="axes"):
        sweeps.grid(TINY, {}, seeds=[0])
    with pytest.raises(TypeError, match="config"):
        sweeps.grid(42, {"prune_ratio": [0.1]}, seeds=[0])
    # seeds are integers, distinct, and never overridden by an axis
    with pytest.raises(ValueError, match="seeds must be integers; got 1.9"):
        sweeps.grid(TINY, {"prune_ratio": [0.1]}, seeds=[1.9, 1.2])
    with pytest.raises(ValueError, match="seeds must be distinct"):
        sweeps.grid(TINY, {"prune_ratio": [0.1]}, seeds=[1, 1])
    with pytest.raises(ValueError, match="axes must not hold 'seed'"):
        sweeps.grid(TINY, {"seed": [0, 1]}, seeds=[0])
    assert cache_info() == {}  # nothing was trained


# --- scale-out: the same rows from local worker processes and from a Dask cluster ---------------
SCALE_AXES = {"salience": [0.5, 0.9], "prune_ratio": [0.1, 0.3]}


def test_tasks_group_prune_settings_under_one_baseline():
    tasks = sweeps._tasks(TINY, SCALE_AXES, seeds=[0, 1])
    assert len(tasks) == 4                          # 2 seeds x 2 saliences; ratios share a task
    assert [p["prune_ratio"] for p in tasks[0][1]] == [0.1, 0.3]
    assert all(Config.from_string(c).seed in (0, 1) for c, _ in tasks)


@pytest.fixture(scope="module")
def local_rows():
    """The grid run here, one thread (float sums can depend on the thread count)."""
    clear_cache()
    return sweeps.grid(TINY, SCALE_AXES, seeds=[0, 1], arms=["hardest"], reference=True, threads=1)


def test_local_workers_give_the_same_rows(local_rows):
    want = local_rows
    got = sweeps.grid(TINY, SCALE_AXES, seeds=[0, 1], arms=["hardest"], reference=True, workers=2,
                      threads=1)
    assert got == want


def test_dask_cluster_gives_the_same_rows(local_rows):
    import distributed  # in the test extras: a missing install fails here, it is not skipped

    want = local_rows
    seen = []
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1",
                                  dashboard_address=None, processes=True) as cluster, \
            distributed.Client(cluster) as client:
        got = sweeps.grid(TINY, SCALE_AXES, seeds=[0, 1], arms=["hardest"], reference=True,
                          executor=client, on_row=seen.append)
    assert got == want and seen == want


def test_scale_out_bad_input():
    with pytest.raises(ValueError, match="workers"):
        sweeps.grid(TINY, {"prune_ratio": [0.1]}, seeds=[0], workers=0)
    with pytest.raises(ValueError, match="threads"):
        sweeps.grid(TINY, {"prune_ratio": [0.1]}, seeds=[0], threads=0)
    with pytest.raises(TypeError, match="executor"):
        sweeps.grid(TINY, {"prune_ratio": [0.1]}, seeds=[0], executor=object())
    with pytest.raises(ValueError, match="seeds"):
        sweeps.grid(TINY, {"prune_ratio": [0.1]}, seeds=[])
    with pytest.raises(ValueError, match="prune_ratio"):
        sweeps.grid(TINY, {"prune_ratio": []}, seeds=[0])
    with pytest.raises(ValueError, match="prune_ratio"):
        sweeps.grid(TINY, {"prune_ratio": [1.5]}, seeds=[0])     # checked before any training
