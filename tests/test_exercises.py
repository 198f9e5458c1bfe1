"""Every notebook's exercise checkers: the solution passes and an unfilled stub is "not done yet".

A checker judged on a notebook's run gets stand-in data for its solution (``DATA``).

Wrong answers (each must get a hint) are tested per notebook in ``test_exercises_nbNN.py``.
"""

import importlib
import inspect

import pytest

from .exercise_helpers import solutions

EXERCISES = {
    "nb00": ["stamp_line", "prevalence_of", "learned_shortcut"],
    "nb01": ["accuracy", "spurious_rate", "is_it_a_shortcut"],
    "nb02": ["hardest_k", "band_pool", "worst_band"],
    "nb03": ["el2n_from_logits", "ks_statistic", "pruned_most"],
    "nb04": ["prune_hardest_per_class", "excess_removed", "which_control", "hard_carriers"],
    "nb05": ["worst_group_accuracy", "group_balanced_accuracy", "upweight"],
    "nb06": ["make_corner_mask", "regime_percentile", "design_study"],
    "nb07": ["backfire_pick"],
}
CASES = [(nb, name) for nb, names in EXERCISES.items() for name in names]


def _run_data():
    from .test_exercises_nb04 import fake_results
    return (fake_results(),)


# exercises judged on a notebook's run: the arguments its check cell passes (stand-ins here)
DATA = {("nb04", "hard_carriers"): _run_data}


def _checker(nb, name):
    return getattr(importlib.import_module(f"spurlab.exercises.{nb}"), f"check_{name}")


def _stub(*args):
    raise NotImplementedError("Exercise: ...")


def test_every_checker_is_listed():
    for nb, names in EXERCISES.items():
        module = importlib.import_module(f"spurlab.exercises.{nb}")
        checkers = {n[len("check_"):] for n, f in inspect.getmembers(module, inspect.isfunction)
                    if n.startswith("check_") and f.__module__ == module.__name__}
        assert checkers == set(names), nb


@pytest.mark.parametrize("nb,name", CASES)
def test_solution_passes(nb, name, capsys):
    args = DATA[nb, name]() if (nb, name) in DATA else ()
    assert _checker(nb, name)(getattr(solutions(nb), name), *args) is True
    out = capsys.readouterr().out
    assert "pass" in out and "hint" not in out


@pytest.mark.parametrize("nb,name", CASES)
def test_stub_is_not_done_yet(nb, name, capsys):
    assert _checker(nb, name)(_stub) is False
    out = capsys.readouterr().out
    assert "not done yet" in out and "pass" not in out
