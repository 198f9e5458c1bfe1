"""The playground panel, driven headless: answers from the atlas, live verification that streams,
flags, and bad input that leaves the panel usable."""

import gzip
import json

import matplotlib
import pytest

from spurlab.builds import write_atlas
from spurlab.cache import clear_cache
from spurlab.playground import Playground, check_typed, prediction_range

matplotlib.use("Agg")


@pytest.fixture
def pg(tiny_atlas):
    return Playground(tiny_atlas)


def test_a_move_answers_from_the_atlas_and_redraws(pg):
    assert pg.point["salience"] == 1.0 and pg.image.value[:4] == b"\x89PNG"
    before = pg.image.value
    point = pg.show(prevalence=0.9, prune_ratio=0.3)
    assert (point["prevalence"], point["prune_ratio"]) == (0.9, 0.3)
    assert pg.image.value != before
    assert point["arms"]["hardest/sparing"] is None          # infeasible there: n/a, not a number
    text = pg.takeaway(point)
    assert text.startswith("Takeaway: ") and ("shortcut learned" in text)


def test_the_thickness_control_reads_the_other_layer_and_verifies_it_live(pg):
    """The line's thickness is a control like the others: a move to 2 px reads that layer of the
    atlas (its own rows, its own maps), and Verify live trains the 2-px line."""
    one = pg.show(prevalence=0.3, prune_ratio=0.1)
    two = pg.show(thickness=2)
    assert (one["thickness"], two["thickness"]) == (1, 2)
    assert two["rows"] == pg.atlas.rows(1.0, 0.3, 0.1, thickness=2) != one["rows"]
    assert "2-px line" in pg._frame["titles"][2].get_text()
    with pytest.raises(ValueError, match=r"thickness=3 is not on the atlas grid; allowed: \[1, 2\]"):
        pg.show(thickness=3)
    clear_cache()
    rows = pg.verify()
    assert [r["thickness"] for r in rows] == [2, 2]
    assert all(r["flag"] == "" for r in rows), [r["flag"] for r in rows]
    with pytest.raises(ValueError, match="thickness must be a whole number of pixels"):
        pg.run_live(1.0, 0.3, 0.1, thickness=0)


def test_the_verdict_comes_first_and_hides_noise(tiny_atlas, tmp_path):
    data = json.loads(gzip.decompress(tiny_atlas.read_bytes()))
    cols = data["columns"]
    for row in data["rows"]:                 # make every seed's excess ~0: no shortcut learned
        ex = 0.001 if row[cols.index("seed")] == 0 else -0.001
        row[cols.index("excess_smr")] = ex
        row[cols.index("excess_lo")], row[cols.index("excess_hi")] = ex - 0.01, ex + 0.01
    noise = tmp_path / "noise.json.gz"
    write_atlas(noise, data)              # a stand-in atlas with these rows, checksummed
    pg = Playground(noise)
    text = pg.takeaway(pg.point)
    assert "no shortcut learned" in text and "pruning figures are noise" in text
    assert "takes SMR from" not in text
    assert all(a is None or a["excess_removed"] is None for a in pg.point["arms"].values())


def test_repeated_seeds_are_refused(tiny_atlas):
    with pytest.raises(ValueError, match="seeds must be distinct"):
        Playground(tiny_atlas, seeds=[0, 0, 0])


@pytest.mark.parametrize("settings, error, match", [
    ({"salience": 0.4}, ValueError, r"salience=0\.4 is not on the atlas grid; allowed: \[1\.0\]"),
    ({"prune_ratio": "0.1"}, ValueError, "prune_ratio='0.1' is not on the atlas grid"),
    ({"strategy": "bogus"}, ValueError, "strategy must be one of"),
    ({"epochs": 3}, KeyError, "no setting named 'epochs'"),
])
def test_bad_settings_are_refused_by_name_and_nothing_changes(pg, settings, error, match):
    before = pg.values()
    with pytest.raises(error, match=match):
        pg.show(prevalence=0.9, **settings)
    assert pg.values() == before


@pytest.mark.parametrize("name, value, match", [
    ("prune_ratio", 1.5, r"prune_ratio must be in \[0, 0\.9\]; got 1\.5"),
    ("prevalence", 0.0, r"prevalence must be in \(0, 1\]; got 0\.0"),
    ("salience", float("nan"), "salience must be a number"),
])
def test_typed_values_are_checked_and_the_panel_stays_usable(pg, name, value, match):
    with pytest.raises(ValueError, match=match):
        check_typed(name, value)
    pg.typed[name].value = value
    pg.typed_button.click()                               # the learner's click
    assert pg.error is not None and name in str(pg.error)
    assert "error" in pg.status.value
    assert pg.show(prune_ratio=0.3)["prune_ratio"] == 0.3  # still answers


def test_verify_streams_each_seed_and_agrees_with_the_atlas(pg):
    clear_cache()                                     # retrain for real, not from memory
    seen = []
    rows = pg.verify(on_seed=lambda row: seen.append((row["seed"], len(pg.live))))
    assert seen == [(0, 1), (1, 2)]                   # one redraw per seed, as it arrives
    assert [b.value for b in pg.bars.children] == [3, 3]
    assert all(r["flag"] == "" for r in rows), [r["flag"] for r in rows]
    assert "every seed within the atlas's range" in pg.status.value


def test_a_live_seed_outside_the_atlas_range_is_flagged_in_words(tiny_atlas, tmp_path):
    data = json.loads(gzip.decompress(tiny_atlas.read_bytes()))
    cols = data["columns"]
    for row in data["rows"]:       # an atlas whose baseline SMR this run does not reach (~0.99)
        row[cols.index("smr_baseline")] = 0.99 + 0.001 * row[cols.index("seed")]
    shifted = tmp_path / "shifted.json.gz"
    write_atlas(shifted, data)
    pg = Playground(shifted)
    rows = pg.verify()
    assert all("baseline SMR" in r["flag"] and "outside the range" in r["flag"] for r in rows)
    assert "outside the range" in pg.status.value


def test_typed_points_off_the_grid_run_live(pg):
    pg.typed["salience"].value = 0.8
    pg.typed_button.click()
    assert pg.error is None, pg.error
    assert [r["salience"] for r in pg.live] == [0.8, 0.8] and "off the grid" in pg.status.value


def test_a_missing_or_corrupt_atlas_falls_back_to_live_and_says_so(tmp_path):
    pg = Playground(tmp_path / "missing.json.gz", seeds=[0])
    assert pg.atlas is None and "no atlas" in pg.notice and "no atlas" in pg.status.value
    bad = tmp_path / "bad.json.gz"
    bad.write_bytes(b"garbage")
    pg = Playground(bad, seeds=[0])
    assert pg.atlas is None and "corrupt" in pg.notice
    pg.show(salience=1.0)                                  # still moves, still draws
    assert pg.point is None and pg.image.value[:4] == b"\x89PNG"


def test_an_outdated_atlas_is_announced(pg):
    assert "note:" in pg.notice and "rebuild" in pg.notice   # the tiny atlas is not the preset


def test_prediction_range_covers_a_new_seed_not_just_the_mean():
    lo, hi = prediction_range([0.10, 0.12, 0.08, 0.11, 0.09])
    assert lo < 0.08 and hi > 0.12
    assert prediction_range([0.1]) == (float("-inf"), float("inf"))
