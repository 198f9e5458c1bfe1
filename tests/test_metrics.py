import math

import numpy as np
import pytest

from spurlab import (
    accuracy,
    average_accuracy,
    group_accuracies,
    group_balanced_accuracy,
    spurious_misclassification_rate,
    worst_group_accuracy,
)

# hand-computed fixture: 4 groups, group 3 empty
PRED = [0, 0, 1, 1, 1, 0, 0, 1]
Y = [0, 0, 1, 1, 0, 0, 1, 1]
G = [0, 0, 2, 2, 1, 1, 0, 2]
# group 0: samples 0,1,6 -> correct 0,1 -> 2/3
# group 1: samples 4,5 -> correct 5 -> 1/2
# group 2: samples 2,3,7 -> all correct -> 1
# group 3: empty -> nan


def test_group_accuracies_hand_computed_with_empty_group():
    acc = group_accuracies(PRED, Y, G, num_groups=4)
    assert np.allclose(acc[:3], [2 / 3, 1 / 2, 1.0]) and math.isnan(acc[3])


def test_worst_and_balanced_ignore_empty_groups():
    assert worst_group_accuracy(PRED, Y, G, 4) == pytest.approx(0.5)
    assert group_balanced_accuracy(PRED, Y, G, 4) == pytest.approx((2 / 3 + 0.5 + 1) / 3)


def test_average_accuracy_plain_and_weighted():
    assert average_accuracy(PRED, Y) == pytest.approx(6 / 8) == accuracy(PRED, Y)
    w = [0.5, 0.25, 0.25, 0.0]
    assert average_accuracy(PRED, Y, G, w) == pytest.approx(0.5 * 2 / 3 + 0.25 * 0.5 + 0.25 * 1)


def test_smr_hand_computed():
    # c1 = 1; non-c1 samples: 0,1,4,5 -> predicted 1 once (sample 4)
    assert spurious_misclassification_rate(PRED, Y, 1) == pytest.approx(1 / 4)
    assert spurious_misclassification_rate(PRED, Y, 0) == pytest.approx(1 / 4)  # sample 6


def test_metric_errors():
    with pytest.raises(ValueError, match="equal length"):
        accuracy([0, 1], [0])
    with pytest.raises(ValueError, match="target_class"):
        spurious_misclassification_rate([1, 1], [1, 1], 1)
    with pytest.raises(ValueError, match="num_groups"):
        group_accuracies([0], [0], [5], num_groups=2)
    assert math.isnan(accuracy([], []))
