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
