"""The worst group, said plainly (spurlab.worst): the worst group per model and seed, and what an
arm did to the SMR and worst-group accuracy together, in words that follow the numbers."""

import dataclasses

import pytest

from spurlab.parts import ModelMetrics
from spurlab.worst import worst_group_text, worst_groups
from tests import stand_in


def _metrics(smr, worst, acc):
    """Metrics whose worst group is ``worst`` (index into the 12 groups) at accuracy ``acc``."""
    groups = [0.9] * 12
    groups[worst] = acc
    return ModelMetrics(clean_accuracy=0.85, smr=smr, smr_clean=0.01, worst_group_accuracy=acc,
                        group_balanced_accuracy=sum(groups) / 12, group_accuracy=tuple(groups))


def _results(arm, per_seed):
    """One stand-in result per seed; ``per_seed``: ((base smr, base worst, base acc),
    (arm smr, arm worst, arm acc)) each."""
    out = []
    for seed, (b, a) in enumerate(per_seed):
        r = stand_in.result(seed, b[0], arms={arm: 0.0})
        arm_result = dataclasses.replace(r.arms[arm], metrics=_metrics(*a))
        out.append(dataclasses.replace(r, baseline=_metrics(*b), arms={arm: arm_result}))
    return out


# the shapes' groups: 2 * class + stamped: 2 = 'triangle', 3 = 'triangle + line', 6 = 'cross',
# 7 = 'cross + line'
FELL_BOTH = [((0.20, 7, 0.55), (0.05, 2, 0.45)), ((0.22, 7, 0.52), (0.06, 2, 0.44)),
             ((0.19, 3, 0.56), (0.04, 6, 0.47))]


def test_the_worst_group_of_each_model_is_named_per_seed():
    rs = _results("hardest", FELL_BOTH)
    assert worst_groups(rs, "baseline") == [("cross + line", 0.55), ("cross + line", 0.52),
                                           ("triangle + line", 0.56)]
    assert [name for name, _ in worst_groups(rs, "hardest")] == ["triangle", "triangle", "cross"]


def test_when_smr_and_worst_group_accuracy_both_fall_it_says_so_and_why():
    text = worst_group_text(_results("hardest", FELL_BOTH), "hardest")
    assert text.startswith("hardest vs baseline: hardest minus baseline, SMR: -0.153")
    assert "worst group per seed: baseline 'cross + line' (2 seeds), 'triangle + line' (1); " \
        "hardest 'triangle' (2 seeds), 'cross' (1)" in text
    assert "The SMR fell and worst-group accuracy fell too: hardest's worst group is a group " \
        "with the line in 0 of 3 seeds and a clean group in the others" in text
    assert text.endswith("pruning the hardest samples of every class also removed hard clean "
                         "samples, and a clean group paid for it")


def test_the_reason_is_given_only_where_it_holds():
    oracle = worst_group_text(_results("hardest/oracle", FELL_BOTH), "hardest/oracle")
    assert "fell too" in oracle and "hard clean samples" not in oracle   # it prunes carriers only
    stamped = [((0.20, 7, 0.55), (0.05, 5, 0.45)), ((0.22, 7, 0.52), (0.06, 5, 0.44)),
               ((0.19, 7, 0.56), (0.04, 5, 0.47))]
    text = worst_group_text(_results("hardest", stamped), "hardest")
    assert "in 3 of 3 seeds" in text and "hard clean samples" not in text


def test_no_sentence_about_both_falling_when_an_interval_includes_0():
    mixed = [((0.20, 7, 0.55), (0.05, 2, 0.65)), ((0.22, 7, 0.52), (0.06, 2, 0.40)),
             ((0.19, 3, 0.56), (0.04, 6, 0.50))]
    text = worst_group_text(_results("hardest", mixed), "hardest")
    assert "worst-group accuracy" in text and "not shown to differ" in text
    assert "fell too" not in text


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="model must be 'baseline', 'reference'"):
        worst_group_text(_results("hardest", FELL_BOTH), "random")
    with pytest.raises(TypeError, match="results must be"):
        worst_groups("not results", "baseline")
