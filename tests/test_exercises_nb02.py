"""Notebook 02's exercise checkers: wrong answers get a hint (the rest: test_exercises.py)."""

import numpy as np

from spurlab.exercises import nb02


def test_wrong_answers_get_a_hint(capsys):
    def easiest_k(scores, labels, c1, k):  # the easiest instead of the hardest
        idx = np.flatnonzero(np.asarray(labels) == c1)
        return idx[np.argsort(np.asarray(scores)[idx])[:k]]

    def positions_not_indices(scores, labels, c1, k):  # positions within c1
        idx = np.flatnonzero(np.asarray(labels) == c1)
        return np.argsort(np.asarray(scores)[idx])[len(idx) - k:]

    def k_zero_bug(scores, labels, c1, k):  # order[-0:] is everything
        idx = np.flatnonzero(np.asarray(labels) == c1)
        return idx[np.argsort(np.asarray(scores)[idx])[-k:]]

    def whole_set_band(scores, labels, c1, lo, hi):  # ranks the whole set, not c1
        order = np.argsort(np.asarray(scores))
        n = len(order)
        sel = order[round(lo * n):round(hi * n)]
        return sel[np.asarray(labels)[sel] == c1]

    for fn in (easiest_k, positions_not_indices, k_zero_bug, lambda *a: None):
        assert nb02.check_hardest_k(fn) is False
    assert nb02.check_band_pool(whole_set_band) is False
    out = capsys.readouterr().out
    assert out.count("hint for") == 5 and "pass" not in out


def test_references_match_the_scenario_placement(small_data):
    import spurlab as sl

    train, test = small_data
    d = train.difficulty.numpy()
    sc = sl.make_scenario(train, test, "line", target_class=2, placement="hardest",
                          n_carriers=15)
    assert np.array_equal(nb02.reference_hardest_k(d, train.labels, 2, 15),
                          np.flatnonzero(sc.carrier.numpy()))
    sc = sl.make_scenario(train, test, "line", target_class=2, placement="band", band=(0.2, 0.4),
                          n_carriers=10)
    pool = nb02.reference_band_pool(d, train.labels, 2, 0.2, 0.4)
    assert set(np.flatnonzero(sc.carrier.numpy())) <= set(pool.tolist())


# --- the prediction checked on the band sweep: where do K carriers do the most damage?

SWEEP = np.array([[0.05, 0.06, 0.05], [0.06, 0.05, 0.06], [0.08, 0.09, 0.08],        # bands x seeds
                  [0.12, 0.15, 0.13], [0.20, 0.25, 0.22]])


def test_picks_are_judged_on_the_sweep_with_staged_hints(capsys):
    nb02._TRIES["n"] = 0
    assert nb02.check_worst_band(lambda: (0.0, 0.2), SWEEP) is False
    first = capsys.readouterr().out
    assert "the easiest rings are fit from their shape" in first and nb02.NUDGE in first
    assert nb02.check_worst_band(lambda: (0.4, 0.6), SWEEP) is False
    second = capsys.readouterr().out
    assert "not where the line pays most" in second and nb02.IDEA in second
    assert "80-100th percentile band is higher on average by 14.0 percentage points" in second
    assert nb02.check_worst_band(lambda: (60, 80), SWEEP) is False                   # percentiles
    third = capsys.readouterr().out
    assert "the answer: (0.8, 1.0)" in third and "80-100 22.3%" in third
    assert nb02.check_worst_band(lambda: (80, 100), SWEEP) is True
    assert "4.2x the damage of the easiest band's" in capsys.readouterr().out
    assert nb02._TRIES["n"] == 0


def test_the_truth_comes_from_the_sweep(capsys):
    flat_top = SWEEP.copy()
    flat_top[3] = [0.36, 0.37, 0.36]               # this run put the 60-80th band clearly on top
    assert nb02.check_worst_band(lambda: (0.8, 1.0), flat_top) is False
    out = capsys.readouterr().out
    assert "the run put another band above this one" in out and "60-80th percentile band" in out
    assert nb02.check_worst_band(lambda: (0.6, 0.8), flat_top) is True
    tied = SWEEP.copy()
    tied[3] = [0.30, 0.18, 0.24]                   # on top on average, but within noise
    assert nb02.check_worst_band(lambda: (0.8, 1.0), tied) is True         # the runner-up, tied
    out = capsys.readouterr().out                 # the caveat gives both means, not "a little"
    assert "band is higher on average (24.0% against 22.3%), but the seeds do not tell the two " \
        "apart" in out
    assert nb02.check_worst_band(lambda: (0.4, 0.6), tied) is False      # not a runner-up
    # without a sweep: the paper's claim, the hardest band
    assert nb02.check_worst_band(lambda: (0.8, 1.0)) is True
    assert "the paper: the hardest band" in capsys.readouterr().out


def test_with_two_seeds_the_figures_highest_band_is_the_answer(capsys):
    # notebook 02's quick mode sweeps the bands over 2 seeds: a 2-seed t-interval includes 0 for
    # almost any difference, so it must not excuse a runner-up the figure shows clearly lower
    two = SWEEP[:, :2]
    assert nb02.check_worst_band(lambda: (0.6, 0.8), two) is False
    out = capsys.readouterr().out
    assert "80-100th percentile band is higher on average" in out
    assert "with 2 seeds the figure's highest band is the answer" in out
    assert nb02.check_worst_band(lambda: (0.8, 1.0), two) is True
    assert "do not tell the two apart" not in capsys.readouterr().out
    assert nb02.check_worst_band(lambda: (0.6, 0.8), SWEEP[:, :1]) is False       # one seed too


def test_bad_picks_are_named(capsys):
    for bad in (lambda: (0.5, 1.0), lambda: "hardest", lambda: 4):
        assert nb02.check_worst_band(bad, SWEEP) is False
        assert "return one of the bands (0.0, 0.2)" in capsys.readouterr().out
    assert nb02.check_worst_band(lambda: int("x"), SWEEP) is False
    assert "ValueError" in capsys.readouterr().out
