"""The counterfactual drivers: the datamodel's maths, the build (resumable, through the engine's
workers), the shipped file, and the acceptance check: models retrained here on new random
subsets land within the datamodel's stated error."""

import gzip
import json
from pathlib import Path

import numpy as np
import pytest

import spurlab as sl
from spurlab import driversbuild as builds
from spurlab.datamodel import bootstrap_weights, fit_datamodel, interval, spearman
from spurlab.drivers import (
    DRIVERS_PATH,
    POINTS,
    SUBSET_SEEDS,
    DriversError,
    analyse,
    decile_groups,
    load_drivers,
    pack,
    subset_masks,
    unpack,
)

# ------------------------------------------------------------------------------ the maths


def _synthetic(n=600, k=12, noise=0.03, seed=0):
    rng = np.random.default_rng(seed)
    masks = rng.random((n, k)) < 0.5
    w = np.zeros(k)
    w[:3] = [0.2, 0.1, 0.05]
    groups = rng.integers(0, 3, n)
    y = np.array([0.1, 0.3, 0.2])[groups] + masks @ w + rng.normal(0, noise, n)
    return masks, y, groups, w


def test_the_datamodel_recovers_known_weights_and_its_intervals_cover_them():
    masks, y, groups, w = _synthetic()
    dm = fit_datamodel(masks, y, groups)
    assert np.abs(dm.weights - w).max() < 0.015
    boot = bootstrap_weights(masks, y, groups, lam=dm.lam, reps=200)
    ci = np.array([interval(boot[:, i]) for i in range(len(w))])
    assert ((ci[:, 0] <= w) & (w <= ci[:, 1])).mean() >= 0.8
    assert ci[0, 0] > 0.1                          # the big effect is resolved
    # one intercept per group, and predictions within the stated error on new data
    assert sorted(dm.intercepts) == [0, 1, 2]
    new_masks, new_y, new_groups, _ = _synthetic(n=200, seed=1)
    err = np.abs(dm.predict(new_masks, new_groups) - new_y)
    assert np.quantile(err, 0.95) < 2 * dm.error(0.95)
    assert dm.error(0.95) == pytest.approx(1.96 * 0.03, rel=0.3)


def test_a_datamodel_of_pure_noise_finds_nothing():
    rng = np.random.default_rng(3)
    masks = rng.random((400, 8)) < 0.5
    dm = fit_datamodel(masks, rng.normal(0, 0.05, 400))
    assert np.abs(dm.weights).max() < 0.03


@pytest.mark.parametrize("call, match", [
    (lambda: fit_datamodel(np.ones((10, 3)), np.zeros(10)), "masks must be a 2-D boolean"),
    (lambda: fit_datamodel(np.ones((10, 3), bool), np.zeros(9)), "y must hold one finite"),
    (lambda: fit_datamodel(np.ones((10, 3), bool), np.zeros(10), np.zeros(4)),
     "groups must hold one group"),
    (lambda: fit_datamodel(np.ones((6, 3), bool), np.zeros(6)), "folds must be >= 2"),
])
def test_bad_datamodel_inputs_are_refused_by_name(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_predict_refuses_a_group_it_never_saw():
    masks, y, groups, _ = _synthetic(n=100)
    dm = fit_datamodel(masks, y, groups)
    with pytest.raises(ValueError, match="groups must be among"):
        dm.predict(masks[:1], [7])


def test_spearman_matches_the_textbook_values():
    assert spearman([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]) == pytest.approx(0.8207826816681233)
    assert spearman([1, 2, 3], [3, 2, 1]) == -1.0
    assert np.isnan(spearman([1, 1, 1], [1, 2, 3]))


# ------------------------------------------------------------------------------ the build's parts


def test_masks_round_trip_and_are_the_same_on_every_call():
    m = subset_masks(76, 0, "default")
    assert m.shape == (8 * 76, 76) and 0.45 < m.mean() < 0.55
    assert (subset_masks(76, 0, "default") == m).all()
    assert not (subset_masks(76, 1, "default") == m).all()
    for row in m[:5]:
        assert (unpack(pack(row), 76) == row).all()


def test_the_deciles_split_the_carriers_by_difficulty():
    el2n = np.random.default_rng(0).random(76)
    groups = decile_groups(el2n)
    assert len(groups) == 10 and sorted(np.concatenate(groups)) == list(range(76))
    assert el2n[groups[0]].max() < el2n[groups[-1]].min()


SMOKE = dict(scale="smoke", points=["default"], subset_seeds=(0,), subsets_per_carrier=1,
             group_seeds=(0, 1), reps=20, workers=1, progress=None)


@pytest.fixture(scope="module")
def smoke_build(tmp_path_factory):
    folder = tmp_path_factory.mktemp("drivers")
    doc = builds.build_drivers(folder / "d.json.gz", state_dir=folder / "state", **SMOKE)
    return folder, doc


def test_a_build_writes_a_file_that_load_drivers_reads(smoke_build):
    folder, doc = smoke_build
    d = load_drivers(folder / "d.json.gz")
    p = d["default"]
    k = len(p.carriers)
    assert k > 10 and p.effect.shape == (k,) and p.effect_ci95.shape == (k, 2)
    assert p.n_retrainings == k + 2 * 12
    assert d.scale == "smoke" and d.version == sl.__version__
    assert len(p.deciles) == 10 and sum(x["n"] for x in p.deciles) == k
    assert -1 <= p.rank_correlation["rho"] <= 1
    assert p.predict(np.ones(k, bool), 0) == pytest.approx(
        p.datamodel().predict(np.ones((1, k), bool), [0])[0])
    with pytest.raises(ValueError, match="keep must be a boolean array"):
        p.predict(np.ones(k + 1, bool), 0)
    with pytest.raises(KeyError, match="no point 'strong'"):
        d["strong"]


def test_a_build_resumes_from_its_pieces_without_training(smoke_build, tmp_path, monkeypatch):
    folder, doc = smoke_build

    def no_training(*a, **k):
        raise AssertionError("a resumed build retrained")

    monkeypatch.setattr(builds, "_retrain_task", no_training)
    again = builds.build_drivers(tmp_path / "again.json.gz", state_dir=folder / "state", **SMOKE)
    assert again["points"]["default"]["subsets"] == doc["points"]["default"]["subsets"]
    assert again["points"]["default"]["summary"] == doc["points"]["default"]["summary"]


@pytest.mark.parametrize("kw, match", [
    (dict(points=["medium"]), "points must be among"),
    (dict(workers=0), "workers must be an integer"),
])
def test_a_bad_build_is_refused_before_any_training(tmp_path, kw, match):
    with pytest.raises(ValueError, match=match):
        builds.build_drivers(tmp_path / "d.json.gz", **{**SMOKE, **kw})
    assert not (tmp_path / "d.json.gz").exists()


def test_missing_corrupt_edited_and_foreign_files_are_refused_by_name(smoke_build, tmp_path):
    folder, _ = smoke_build
    with pytest.raises(DriversError, match="no drivers file at .*nothing.json.gz"):
        load_drivers(tmp_path / "nothing.json.gz")
    (tmp_path / "bad.json.gz").write_bytes(b"not gzip")
    with pytest.raises(DriversError, match="corrupt"):
        load_drivers(tmp_path / "bad.json.gz")
    doc = json.loads(gzip.decompress((folder / "d.json.gz").read_bytes()))
    doc["points"]["default"]["summary"]["effect"][0] += 1.0
    (tmp_path / "edited.json.gz").write_bytes(gzip.compress(json.dumps(doc).encode()))
    with pytest.raises(DriversError, match="fails its checksum"):
        load_drivers(tmp_path / "edited.json.gz")
    (tmp_path / "atlas.json.gz").write_bytes(gzip.compress(b'{"format": "spurlab-atlas/2"}'))
    with pytest.raises(DriversError, match="not a spurlab drivers file"):
        load_drivers(tmp_path / "atlas.json.gz")


# ------------------------------------------------------------------------------ the shipped file


@pytest.fixture(scope="module")
def shipped():
    return load_drivers()


def test_the_shipped_file_holds_both_points_with_provenance(shipped):
    assert DRIVERS_PATH.stat().st_size <= 1_000_000
    assert set(shipped.points) == set(POINTS)
    assert shipped.scale == "quick"
    for name, p in shipped.points.items():
        cfg = sl.preset("quick").replace(**POINTS[name])
        assert p.config == cfg.to_string()
        k = len(p.carriers)
        assert p.n_retrainings >= 4 * k * 3             # >= 4x the carriers, over >= 3 seeds
        assert len(set(p.raw["subsets"]["seed"])) >= 3
        assert np.isfinite(p.effect).all() and (p.effect_ci95[:, 0] <= p.effect_ci95[:, 1]).all()
        lo, hi = p.rank_correlation["ci95"]
        assert lo <= hi and p.rank_correlation["n"] == k
    assert shipped.provenance["command"].startswith("python scripts/build_drivers.py")


def test_the_shipped_summary_is_what_its_raw_retrainings_give(shipped):
    for p in shipped.points.values():
        again = analyse(p.raw, reps=5)            # the point estimates do not depend on reps
        assert np.allclose(again["effect"], p.effect, atol=1e-5)
        assert again["rank_correlation"]["rho"] == pytest.approx(p.rank_correlation["rho"],
                                                                 abs=1e-6)
        assert again["deciles"][0]["measured"] == p.deciles[0]["measured"]


def test_the_shipped_carriers_are_the_scenario_the_notebooks_build(shipped):
    for p in shipped.points.values():
        sc = sl.build_scenario(sl.Config.from_string(p.config))
        assert (sc.carrier_indices.numpy() == p.carriers).all()
        assert p.n_stamped == len(sc.stamped_test)


def test_new_random_subsets_land_within_the_stated_error(shipped):
    """The acceptance check: retrain here on random halves of the default point's carriers that
    the build never used, and compare their SMR with the datamodel's prediction."""
    p = shipped["default"]
    cfg = sl.Config.from_string(p.config)
    k = len(p.carriers)
    rng = np.random.default_rng(987654)
    masks = rng.random((6, k)) < 0.5
    seeds = [SUBSET_SEEDS[i % len(SUBSET_SEEDS)] for i in range(6)]
    got = [builds._retrain_task(cfg.to_string(), s, [pack(m)], k)[0][0] / p.n_stamped
           for m, s in zip(masks, seeds)]
    pred = [p.predict(m, s) for m, s in zip(masks, seeds)]
    err = np.asarray(got) - np.asarray(pred)
    # six new retrainings: their RMSE exceeds twice the stated RMSE with probability < 0.001
    assert np.sqrt(np.mean(err ** 2)) <= 2 * p.heldout["rmse"], (got, pred, p.heldout)


@pytest.mark.parametrize("argv, match", [
    (["--workers", "0"], "--workers must be >= 1"),
    (["--dask", "--scheduler", "tcp://127.0.0.1:1"], "not both"),
])
def test_the_build_script_refuses_bad_arguments(argv, match, capsys):
    import runpy
    import sys

    sys_argv = sys.argv
    sys.argv = ["build_drivers.py", *argv]
    try:
        with pytest.raises(SystemExit):
            runpy.run_path(str(Path(__file__).parents[1] / "scripts" / "build_drivers.py"),
                           run_name="__main__")
    finally:
        sys.argv = sys_argv
    assert match in capsys.readouterr().err


def test_the_verdict_follows_the_one_rule(shipped):
    import dataclasses

    p = shipped["default"]
    learned = {"mean": 0.09, "sd": 0.03, "ci95": [0.07, 0.11], "n": 20, "differs": True}
    total = {"sum": 0.08, "ci95": [0.06, 0.10], "measured_all_minus_none": learned}

    def at(rho_ci, **total_kw):
        return dataclasses.replace(p, total_effect={**total, **total_kw},
                                   rank_correlation={"rho": 0.3, "ci95": rho_ci, "n": 76})

    assert at([0.1, 0.5]).verdict() == "holds" and "claim 2 holds" in at([0.1, 0.5]).text()
    assert at([-0.5, -0.1]).verdict() == "fails"
    assert at([-0.1, 0.5]).verdict() == "not resolved"
    flat = {**learned, "ci95": [-0.01, 0.05]}
    assert at([0.1, 0.5], measured_all_minus_none=flat).verdict() == "no shortcut"
    sat = at([0.1, 0.5], sum=0.0, ci95=[-0.01, 0.01])
    assert sat.verdict() == "saturated" and "half of the carriers already teach" in sat.text()
