"""The hero explorable: its data file (built by the engine, resumable, checksummed), the data map
whose threshold the prune ratio moves, clickable cells, the stamp probe and the static export."""

import concurrent.futures
import gzip
import json
import re
from pathlib import Path

import numpy as np
import pytest

import spurlab as sl
from spurlab.explorable import ExplorableError, build_explorable, load_explorable
from spurlab.explorer import Explorer, export

SMOKE = sl.preset("smoke")


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """One point at the smoke scale, two ratios, two arms, built in this process."""
    d = tmp_path_factory.mktemp("explorable")
    path, state = d / "x.json.gz", d / "state"
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        build_explorable(path, executor=pool, state_dir=str(state), progress=None,
                         points=[(1, 0.5, 0.3)], config=SMOKE, ratios=[0.1, 0.25],
                         arms=["hardest", "random"])
    return path, state


def test_the_file_holds_what_the_engine_ran(small):
    path, _ = small
    ex = load_explorable(path)
    p = ex.point(1, 0.5, 0.3)
    cfg = sl.Config.from_string(p.config)
    sc = sl.build_scenario(cfg)
    c1 = np.flatnonzero(sc.train.labels.numpy() == sc.target_class)
    assert np.array_equal(p.c1, c1)
    assert np.array_equal(p.carrier, sc.carrier.numpy()[c1])
    assert ((0 <= p.confidence) & (p.confidence <= 1)).all()
    assert ((0 <= p.el2n_percentile) & (p.el2n_percentile <= 100)).all()
    # the hardest arm removes the top of c1 by early EL2N: everything right of a threshold
    for ratio in (0.1, 0.25):
        gone = p.removed("hardest", ratio)
        assert gone.sum() == round(ratio * len(c1))
        assert p.el2n_percentile[gone].min() >= p.el2n_percentile[~gone].max()
    r = sl.run(cfg.replace(prune_ratio=0.25), arms=["hardest", "random"], reference=False)
    assert p.baseline["smr"] == pytest.approx(r.baseline.smr, abs=1e-5)
    for arm in ("hardest", "random"):
        m = p.model(arm, 0.25)
        assert m["smr"] == pytest.approx(r.arms[arm].metrics.smr, abs=1e-5)
        assert len(m["group_accuracy"]) == 2 * len(ex.class_names)
        assert p.removed(arm, 0.25).sum() == np.isin(c1, r.arms[arm].pruned).sum()
    assert ex.group_name(2 * ex.target_class + 1) == f"{ex.class_names[ex.target_class]} + line"
    with pytest.raises(ValueError, match="ratio must be one of"):
        p.removed("hardest", 0.3)
    with pytest.raises(ValueError, match="arm must be one of"):
        p.removed("easiest", 0.25)


def test_a_rebuild_resumes_from_its_pieces(small):
    path, state = small

    class Refuse:
        def submit(self, *a, **k):
            raise AssertionError("a finished point was run again")

    doc = build_explorable(path.with_name("again.json.gz"), executor=Refuse(),
                           state_dir=str(state), progress=None, points=[(1, 0.5, 0.3)],
                           config=SMOKE, ratios=[0.1, 0.25], arms=["hardest", "random"])
    assert doc["provenance"]["points_resumed"] == 1
    assert doc["points"] == load_explorable(path).data["points"]


def test_a_missing_corrupt_or_changed_file_is_named(tmp_path, small):
    with pytest.raises(ExplorableError, match="no explorable file at .*build_explorable.py"):
        load_explorable(tmp_path / "none.json.gz")
    bad = tmp_path / "bad.json.gz"
    bad.write_bytes(b"not gzip")
    with pytest.raises(ExplorableError, match=str(bad)):
        load_explorable(bad)
    doc = json.loads(gzip.decompress(small[0].read_bytes()))
    doc["points"]["t1-s0.5-p0.3"]["baseline"]["smr"] = 0.0
    changed = tmp_path / "changed.json.gz"
    changed.write_bytes(gzip.compress(json.dumps(doc).encode()))
    with pytest.raises(ExplorableError, match="fails its checksum"):
        load_explorable(changed)


# --------------------------------------------------------------------------- the shipped file

@pytest.fixture(scope="module")
def explorer():
    return Explorer()


def test_the_shipped_file_covers_the_atlas_grid(explorer):
    ex, atlas = explorer.ex, explorer.atlas
    want = {(t, s, q) for t in atlas.grid["thickness"] for s in atlas.grid["salience"]
            for q in atlas.grid["prevalence"]}
    assert all(ex.has(*p) for p in want) and len(ex.names()) == len(want)
    assert ex.ratios == [float(r) for r in atlas.grid["prune_ratio"]]


def test_the_slider_moves_the_threshold_and_the_text(explorer):
    before = explorer.show(salience=0.5, prevalence=0.3, prune_ratio=0.1, arm="hardest")
    after = explorer.show(prune_ratio=0.4)
    assert before != after
    got = [int(x) for x in re.findall(r"removes (\d+) of the (\d+) images", after)[0]]
    p = explorer.point()
    assert got == [int(p.removed("hardest", 0.4).sum()), len(p.c1)]
    # the hard carriers as spurlab.mechanism counts them: the hardest quarter of the carriers
    k, n_hard = (int(x) for x in re.findall(r"and (\d+) of the (\d+) hard ones", after)[0])
    car = np.flatnonzero(p.carrier)
    assert n_hard == -(-len(car) // 4)
    top = car[np.argsort(-p.el2n_percentile[car], kind="stable")][:n_hard]
    assert k <= n_hard and "over the atlas's 5 seeds it removed" in after
    assert k == int(p.removed("hardest", 0.4)[top].sum()) or len(set(p.el2n_percentile[car])) < len(car)
    fig, text, images = explorer.data_map()
    ax = fig.axes[0]
    assert ax.get_xlabel().startswith("early-EL2N percentile") and ax.get_title()
    lines = [ln.get_xdata()[0] for ln in ax.get_lines()]
    assert lines == [pytest.approx(60.0)]                     # the threshold at 100 (1 - p)
    assert len(images) == min(16, p.carriers_removed("hardest", 0.4)[0])
    with pytest.raises(ValueError, match="salience=0.55 is not on the grid"):
        explorer.show(salience=0.55)
    assert explorer.state["salience"] == 0.5                  # nothing changed


def test_the_drivers_colour_the_carriers_where_they_are_shipped(explorer):
    explorer.show(thickness=1, salience=0.5, prevalence=0.3, prune_ratio=0.25)
    eff = explorer._effects(explorer.point())
    p = explorer.point()
    assert eff is not None and np.isfinite(eff[p.carrier]).all() and np.isnan(eff[~p.carrier]).all()
    assert explorer._effects(explorer.ex.point(1, 0.1, 0.05)) is None


def test_a_cell_opens_its_point_with_groups_and_verdicts(explorer):
    d = explorer.open_cell(1.0, 0.9)
    assert explorer.state["salience"] == 1.0 and explorer.state["prevalence"] == 0.9
    assert set(d["group_accuracy"]) >= {"baseline", "hardest", "random"}
    assert d["worst_group"]["baseline"] in d["groups"]
    assert d["verdict"].startswith(("shortcut learned", "no shortcut learned"))
    assert len(d["top_removed"]) > 0
    page = explorer.cell_html(d)
    assert "<table" in page and "data:image/png;base64," in page
    cells = explorer.cells()
    assert len(cells) == len(explorer.grid["salience"]) * len(explorer.grid["prevalence"])


def test_stamping_a_test_image_moves_the_probabilities(explorer):
    explorer.show(thickness=2, salience=1.0, prevalence=0.6, prune_ratio=0.25, arm="hardest")
    picks = explorer.test_images()
    clean = explorer.stamp(picks[0], False)
    lined = explorer.stamp(picks[0], True)
    assert clean["truth"] == lined["truth"] != explorer.ex.target_class
    assert not np.allclose(clean["probs"]["baseline"], lined["probs"]["baseline"])
    for r in (clean, lined):
        for p in r["probs"].values():
            assert p.sum() == pytest.approx(1, abs=1e-5)
    assert "with the line" in explorer.stamp_text(lined)
    with pytest.raises(ValueError, match="index must be in"):
        explorer.stamp(10 ** 6, True)


def test_the_widget_answers_every_interaction(explorer):
    box = explorer.widget()
    W = explorer._widgets
    png = W["map"].value
    W["prune_ratio"].value = 0.5
    assert W["map"].value != png and explorer.state["prune_ratio"] == 0.5
    W["cells"][(0.7, 0.6)].click()
    assert "salience 0.7, prevalence 0.6" in W["detail"].value
    W["stamp"].value = True
    assert W["stamp_image"].value and "with the line" in W["stamp_text"].value
    assert box.children and all(k in explorer.timings for k in ("move", "cell", "stamp"))


def test_the_static_export_loads_offline(tmp_path, explorer):
    page = export(tmp_path / "pg", explorer=explorer, points=[(1, 0.5, 0.3)])
    text = open(page).read()
    srcs = re.findall(r"src='([^']+)'", text)
    files = [s for s in srcs if not s.startswith("data:")]
    assert len(files) >= len(explorer.grid["prune_ratio"])
    for f in files:
        assert (tmp_path / "pg" / f).stat().st_size > 0
    assert "http" not in text.replace("http-equiv", "") and "<script" not in text
    assert "<table" in text and "data map at p = 0.25" in text


def test_the_pruner_scores_a_hand_picked_budget_against_the_methods(explorer, monkeypatch):
    import dataclasses

    from spurlab.explorable import PRUNER_BUDGET, PRUNER_GALLERY, PRUNER_SEEDS, pruner_picks

    explorer.show(thickness=1, salience=0.5, prevalence=0.3, prune_ratio=0.25)
    g = explorer.pruner_gallery()
    p = explorer.point()
    assert len(g) == PRUNER_GALLERY and set(g) <= set(range(len(p.c1)))
    el2n = explorer.pruner_picks("EL2N")
    assert p.el2n_percentile[el2n].min() >= np.sort(p.el2n_percentile[g])[-PRUNER_BUDGET]
    assert p.carrier[explorer.pruner_picks("oracle")].all()
    with pytest.raises(ValueError, match=f"exactly {PRUNER_BUDGET} images of the gallery; got 3"):
        explorer.play(g[:3])
    # the shipped file holds every method's round at every point, as the code defines it
    for name in explorer.ex.names():
        q = explorer.ex.point(*explorer.ex.point_key(name))
        for m in ("EL2N", "random", "oracle"):
            got = q.pruner[m]
            assert got["picks"] == pruner_picks(m, q.el2n_percentile, q.carrier).tolist()
            assert got["carriers_removed"] == int(q.carrier[got["picks"]].sum())
            assert len(got["smr"]) == len(PRUNER_SEEDS) and all(0 <= v <= 1 for v in got["smr"])
    # a learner who picks what EL2N picks ties with it, seed for seed (the methods retrained
    # here, so both sides ran on this machine's floats)
    live = dataclasses.replace(p, pruner=None)
    monkeypatch.setattr(explorer, "point", lambda state=None: live)
    r = explorer.play(el2n)
    assert r["summary"]["you"]["smr"] == pytest.approx(r["summary"]["EL2N"]["smr"])
    assert "over 3 seeds" in r["vs_el2n"] and "not shown to differ" in r["vs_el2n"]
    mine = explorer.play(g[:PRUNER_BUDGET])
    assert [x["round"] for x in explorer.leaderboard] == [1, 2]
    assert mine["retrain_s"] > 0 and len(PRUNER_SEEDS) == 3
    assert "round 2" in explorer.pruner_text(mine)
    monkeypatch.undo()
    shipped = explorer.play(el2n)                      # the methods from the file: no training
    assert shipped["methods_s"] == 0 and "shipped file" in explorer.pruner_text(shipped)
    # the widget: deal, pick the budget, retrain, reveal
    explorer.widget()
    explorer.deal()
    W = explorer._widgets
    for b in W["tiles"].children[:PRUNER_BUDGET]:
        b.children[1].value = True
    assert not W["play"].disabled
    W["play"].click()
    assert "round 4" in W["board"].value and W["reveal_el2n"].value


def test_the_command_line_exports_the_page(tmp_path, capsys):
    from spurlab.cli import main

    assert main(["playground", "--export", str(tmp_path / "page")]) == 0
    assert "wrote" in capsys.readouterr().out
    text = (tmp_path / "page" / "index.html").read_text()
    assert "line 1 px, salience 0.5, prevalence 0.3" in text
    assert "line 2 px, salience 1, prevalence 0.6" in text


def test_the_committed_pieces_rebuild_the_shipped_file(tmp_path):
    """A rebuild on a fresh clone reads explorable-build/ and trains nothing: same points."""
    root = Path(__file__).resolve().parents[1]

    class Refuse:
        def submit(self, *a, **k):
            raise AssertionError("a committed point was run again")

    doc = build_explorable(tmp_path / "x.json.gz", executor=Refuse(), progress=None,
                           state_dir=str(root / "explorable-build"))
    assert doc["checksum"] == load_explorable().data["checksum"]
