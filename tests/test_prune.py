import numpy as np
import pytest

from spurlab import prune

S = np.array([0.9, 0.1, 0.5, 0.7, 0.3, 0.2, 0.8, 0.4])
Y = np.array([0, 0, 0, 0, 1, 1, 1, 1])


def test_hardest_per_class_removes_top_of_each_class():
    keep = prune(S, Y, 0.5, strategy="hardest")
    assert keep.tolist() == [1, 2, 4, 5]  # class 0 loses 0.9, 0.7; class 1 loses 0.8, 0.4


def test_easiest_per_class():
    assert prune(S, Y, 0.25, strategy="easiest").tolist() == [0, 2, 3, 4, 6, 7]


def test_global_hardest():
    assert prune(S, Y, 0.25, per_class=False).tolist() == [1, 2, 3, 4, 5, 7]


def test_random_is_seeded_and_class_balanced():
    a = prune(S, Y, 0.5, strategy="random", seed=1)
    b = prune(S, Y, 0.5, strategy="random", seed=1)
    assert a.tolist() == b.tolist()
    assert np.bincount(Y[a]).tolist() == [2, 2]
    assert prune(None, Y, 0.5, strategy="random", seed=1).tolist() == a.tolist()


def test_within_group_oracle_and_classes():
    carrier = np.array([True, True, True, False, False, False, False, False])
    # oracle: only carriers removable; 1/3 of 3 carriers = 1 -> the hardest carrier (index 0)
    assert prune(S, Y, 1 / 3, within=carrier).tolist() == [1, 2, 3, 4, 5, 6, 7]
    # classes: only class 1 is pruned
    assert prune(S, Y, 0.5, classes=[1]).tolist() == [0, 1, 2, 3, 4, 5]


def test_ties_broken_by_index_deterministically():
    keep = prune(np.zeros(6), np.zeros(6, dtype=int) + np.array([0, 0, 0, 1, 1, 1]), 1 / 3)
    assert keep.tolist() == [1, 2, 4, 5]


def test_ratio_zero_keeps_all():
    assert prune(S, Y, 0.0).tolist() == list(range(8))


@pytest.mark.parametrize("kwargs,match", [
    (dict(ratio=1.0), "ratio"),
    (dict(ratio=-0.1), "ratio"),
    (dict(ratio=0.2, strategy="middle"), "strategy"),
    (dict(ratio=0.2, classes=[7]), "classes"),
    (dict(ratio=0.2, within=np.ones(3, dtype=bool)), "within"),
])
def test_prune_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        prune(S, Y, **kwargs)


def test_refuses_to_empty_a_class():
    y = np.array([0, 0, 0, 0, 1])
    with pytest.raises(ValueError, match="every sample of class 1"):
        prune(np.arange(5.0), y, 0.6)


def test_scores_shape_and_nan_checked():
    with pytest.raises(ValueError, match="scores"):
        prune(S[:3], Y, 0.2)
    bad = S.copy()
    bad[0] = np.nan
    with pytest.raises(ValueError, match="finite"):
        prune(bad, Y, 0.2)
