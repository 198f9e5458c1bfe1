"""Notebook 07's interpretation exercise: each kind of wrong pick gets a hint aimed at it, and
the hints come in stages (a nudge first, then the idea)."""

from spurlab.atlas import load_atlas
from spurlab.exercises import nb07


def _atlas(tiny_atlas, verdicts):
    atlas = load_atlas(tiny_atlas)
    atlas.verdicts = lambda prune_ratio: verdicts
    return atlas


def test_picks_are_judged_by_the_atlas_with_staged_hints(tiny_atlas, capsys):
    atlas = _atlas(tiny_atlas, {(1.0, 0.3): "no shortcut", (1.0, 0.9): "backfires"})
    nb07._TRIES["n"] = 0
    assert nb07.check_backfire_pick(lambda: (1.0, 0.3), atlas=atlas) is False
    first = capsys.readouterr().out
    assert "no shortcut was learned there" in first and nb07.NUDGE in first
    assert nb07.check_backfire_pick(lambda: None, atlas=atlas) is False
    second = capsys.readouterr().out
    assert "1 cell(s) do backfire" in second and nb07.IDEA in second
    assert nb07.check_backfire_pick(lambda: (1.0, 0.9), atlas=atlas, prune_ratio=0.3) is True
    out = capsys.readouterr().out
    rows = atlas.rows(1.0, 0.9, 0.3)            # the pass names the cell's own carrier count
    cut = sum(r["carriers_pruned_hardest"] / r["carriers"] for r in rows) / len(rows)
    assert out.startswith("pass") and f"the hardest arm removed {cut:.0%} of the carriers" in out
    assert "hard tail" not in out


def test_helps_noise_and_bad_values_get_their_own_hints(tiny_atlas, capsys):
    atlas = _atlas(tiny_atlas, {(1.0, 0.3): "helps", (1.0, 0.9): "no difference"})
    assert nb07.check_backfire_pick(lambda: (1.0, 0.3), atlas=atlas) is False
    assert "*lowers* the SMR" in capsys.readouterr().out
    assert nb07.check_backfire_pick(lambda: (1.0, 0.9), atlas=atlas) is False
    assert "includes 0" in capsys.readouterr().out
    assert nb07.check_backfire_pick(lambda: (0.4, 0.3), atlas=atlas) is False
    assert "not on the atlas grid" in capsys.readouterr().out
    assert nb07.check_backfire_pick(lambda: None, atlas=atlas) is True      # none backfires
