"""Auto-checks for notebook 00 (start here): stamping the line, measuring prevalence, and a
prediction checked on the shipped atlas (which of two weak lines a network learns as a shortcut,
judged by the verdict over seeds, with hints aimed at each wrong pick that come in stages).

Examples
--------
>>> import torch
>>> def stamp_line(images, salience):
...     out = images.clone()
...     row = images.shape[-2] // 2
...     out[:, :, row, :] = (1 - salience) * out[:, :, row, :] + salience * 1.0
...     return out
>>> check_stamp_line(stamp_line)
pass: stamp_line is correct on all 6 test cases.
True
"""

from __future__ import annotations

import functools

import numpy as np
import torch

from ..catalog import load_dataset
from ..features import Line
from ..scenario import make_scenario
from . import NOT_DONE, check, picked, staged_hint


def _as_tensor(x):
    return x if isinstance(x, torch.Tensor) else torch.as_tensor(np.asarray(x))


def _stamp_cases():
    g = torch.Generator().manual_seed(0)
    return [
        (torch.zeros(2, 1, 16, 16), 0.5),                       # black images, half opacity
        (torch.rand(3, 1, 16, 16, generator=g), 0.3),           # random greyscale
        (torch.rand(2, 1, 16, 16, generator=g), 0.0),           # salience 0: unchanged
        (torch.rand(2, 1, 16, 16, generator=g), 1.0),           # salience 1: a white row
        (torch.rand(1, 1, 15, 15, generator=g), 0.7),           # odd size: row 15 // 2 = 7
        (torch.rand(2, 3, 8, 8, generator=g), 0.4),             # colour: every channel
    ]


def _stamp_reference(images, salience):
    return Line(salience=salience).apply(images)


def check_stamp_line(fn):
    """Check ``stamp_line(images, salience)`` against ``spurlab.Line(salience=s).apply``.

    The learner's function gets a copy of each test batch, so changing it in place does no harm
    (but the function must *return* the stamped images).
    """
    return check(lambda images, s: fn(images.clone(), s), _stamp_reference, _stamp_cases(),
                 name="stamp_line",
                 hint="blend only the centre row H // 2 (images.shape[-2] // 2) of every image and "
                      "every channel toward white: new = (1 - salience) * old + salience * 1.0; "
                      "leave the other rows as they are and return the new (N, C, H, W) tensor.")


def _prevalence_reference(labels, carrier, c1):
    labels, carrier = _as_tensor(labels), _as_tensor(carrier).bool()
    in_c1 = labels == c1
    if not bool(in_c1.any()):
        return float("nan")
    return float(carrier[in_c1].float().mean())


@functools.lru_cache(maxsize=1)
def _real_case():
    train, test = load_dataset("shapes", n_train=600, n_test=60, seed=0)
    sc = make_scenario(train, test, Line(salience=0.5), target_class=4, prevalence=0.3, seed=0)
    return sc.train.labels, sc.carrier


def _prevalence_cases():
    labels, carrier = _real_case()
    t = torch.tensor
    return [
        (t([0, 1, 1, 1, 2]), t([False, True, False, False, False]), 1),  # 1 of 3 -> 1/3
        (t([4, 4, 4, 4]), t([True, True, True, True]), 4),               # all carry: 1
        (t([4, 0, 4, 0]), t([False, False, False, False]), 4),           # none carry: 0
        (t([2, 3, 2, 3, 3]), t([True, True, False, False, False]), 3),   # a carrier of class 2
        (labels.clone(), carrier.clone(), 4),                            # a real scenario: 0.3
    ]


def check_prevalence_of(fn):
    """Check ``prevalence_of(labels, carrier, c1)``: the share of class-``c1`` samples that
    carry the feature (carriers of other classes do not count)."""
    return check(fn, _prevalence_reference, _prevalence_cases(), name="prevalence_of",
                 hint=("only samples of class c1 count: of those, what fraction carry the "
                       "feature? Return it as a float.",
                       "keep only the samples whose label is c1 (labels == c1), then return the "
                       "fraction of those that carry the feature, as a float: "
                       "carrier[labels == c1].float().mean()."))


# --- Exercise 3 (predict, then check): which of two weak lines does a network learn?

# (salience, prevalence): a barely visible line on most rings, a visible one on a few
SCENARIOS = {"A": (0.1, 0.9), "B": (0.7, 0.1)}
ANSWERS = ("A", "B", "both", "neither")
_SPELLINGS = {"a": "A", "b": "B", "both": "both", "aandb": "both", "neither": "neither",
              "none": "neither"}
_TRIES = {"n": 0}

NUDGE = ("look at the salience panel above at the lower salience: how far does the centre row "
         "move toward white? A network can only use what changes its input enough to set the "
         "carriers apart.")
IDEA = ("a shortcut needs both knobs: a line the network can pick up (salience) on enough "
        "images of the class (prevalence). More carriers cannot make up for a line that "
        "barely changes the pixels, while a visible line on a small share of the class can "
        "already be enough: a weak signal in prevalence is still a signal.")


def _verdicts(atlas, scenarios):
    """Per scenario name: the atlas point of its baseline (the baseline does not depend on the
    prune ratio, so the grid's first ratio is read)."""
    ratio = atlas.grid["prune_ratio"][0]
    return {name: atlas.point(s, q, ratio) for name, (s, q) in scenarios.items()}


def _why(name, other, scenarios, learned):
    """The hint for one misjudged scenario, aimed at the reason for the mistake."""
    (s, q), (s2, q2) = scenarios[name], scenarios[other]
    where = f"{name} (salience {s:g} on {q:.0%} of the rings)"
    if not learned:   # picked, but not learned
        if s < s2:
            return (f"{where} was not learned: its line is too faint for the network to pick "
                    "up, and putting it on more rings does not change that.")
        return f"{where} was not learned: too few rings carry its line."
    if q < q2:        # learned, but not picked
        return (f"{where} was learned: a visible line on a small share of the rings is "
                "enough for the network to use it.")
    return (f"{where} was learned: even its fainter line, on this many rings, is picked up.")


def check_learned_shortcut(answer, *, atlas=None, scenarios=None):
    """Check ``answer()``: which of the two scenarios (``scenarios``: ``{"A": (salience,
    prevalence), "B": ...}``, default :data:`SCENARIOS`), ``"A"``, ``"B"``, ``"both"`` or
    ``"neither"``, a network trained on it learns as a shortcut, judged by the shortcut verdict
    over seeds of the atlas shipped with spurlab (:func:`spurlab.load_atlas`) at each scenario's
    (salience, prevalence). Prints pass or a hint aimed at the mistake (a nudge first, then the
    idea, then the answer with the atlas's numbers); returns True on pass."""
    from ..atlas import AtlasError, load_atlas

    scenarios = dict(SCENARIOS if scenarios is None else scenarios)
    pick = picked(answer, "learned_shortcut", ANSWERS, _SPELLINGS)
    if pick is NOT_DONE:
        return False
    try:
        atlas = atlas or load_atlas()
        points = _verdicts(atlas, scenarios)
    except (AtlasError, ValueError) as exc:
        print(f"cannot check without the atlas: {exc}")
        return False
    learned = {n for n, p in points.items() if p["verdict"].learned}
    truth = {0: "neither", 2: "both"}.get(len(learned)) or next(iter(learned))
    chosen = {"both": set(scenarios), "neither": set()}.get(pick, {pick})

    def said(n):
        s, q = scenarios[n]
        p = points[n]
        return (f"{n} (salience {s:g} on {q:.0%} of the rings): baseline SMR "
                f"{p['baseline']['smr']['mean']:.1%}, no-carrier model "
                f"{p['reference']['smr']['mean']:.1%}; {p['verdict'].text()}.")

    numbers = " ".join(said(n) for n in scenarios)
    if chosen == learned:
        _TRIES["n"] = 0
        print(f"pass: {truth!r}. From the atlas ({len(atlas.seeds)} seeds per setting, trained by "
              f"spurlab): {numbers} Notebook 01 measures a shortcut on a live run.")
        return True
    _TRIES["n"] += 1
    names = list(scenarios)
    extra = [n for n in names if n in chosen and n not in learned]     # aimed at the pick itself
    missed = [n for n in names if n not in chosen and n in learned]
    wrong = [_why(n, names[1 - names.index(n)], scenarios, n in learned) for n in extra or missed]
    staged = staged_hint(_TRIES["n"], NUDGE, IDEA, f"the answer: {truth!r}. {numbers}")
    print(f"hint: {' '.join(wrong)} {staged}")
    return False


__all__ = ["ANSWERS", "SCENARIOS", "check_learned_shortcut", "check_prevalence_of", "check_stamp_line"]
