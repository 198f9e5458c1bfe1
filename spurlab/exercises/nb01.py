"""Auto-checks for notebook 01 (a shortcut the network loves): accuracy, the spurious
misclassification rate, and an interpretation exercise ("is it a shortcut?"): which comparison
decides whether the line taught the network a shortcut, and what it says at a point of the
shipped atlas where the SMR is far above its clean baseline, judged by the atlas's verdict over
seeds, with hints aimed at each mistake that come in stages (a nudge, the idea, the answer).

Examples
--------
>>> def accuracy(pred, labels):
...     return float((pred == labels).float().mean())
>>> check_accuracy(accuracy)
pass: accuracy is correct on all 5 test cases.
True
"""

from __future__ import annotations

import numpy as np
import torch

from ..metrics import accuracy as _accuracy
from ..metrics import spurious_misclassification_rate as _smr
from . import NOT_DONE, call_answer, check, spelled, staged_hint


def _accuracy_cases():
    g = torch.Generator().manual_seed(1)
    t = torch.tensor
    return [
        (t([0, 1, 1]), t([0, 1, 0])),                                  # 2 of 3
        (t([2, 2, 2, 2]), t([2, 2, 2, 2])),                            # all right
        (t([0, 1, 2]), t([1, 2, 0])),                                  # all wrong
        (t([5]), t([5])),                                              # one sample
        (torch.randint(0, 6, (500,), generator=g), torch.randint(0, 6, (500,), generator=g)),
    ]


def check_accuracy(fn):
    """Check ``accuracy(pred, labels)`` against :func:`spurlab.accuracy`."""
    return check(fn, _accuracy, _accuracy_cases(), name="accuracy",
                 hint=("accuracy is the share of positions where the prediction equals the "
                       "label, returned as a float.",
                       "accuracy is the share of positions where the prediction equals the label: "
                       "(pred == labels).float().mean(), returned as a float."))


def _smr_cases():
    g = torch.Generator().manual_seed(2)
    t = torch.tensor
    return [
        (t([0, 0, 2, 0]), t([1, 2, 2, 0]), 0),         # 1 of the 3 non-c1 samples predicted c1
        (t([4, 4, 4]), t([0, 1, 2]), 4),               # every non-c1 sample predicted c1: 1
        (t([1, 2, 3]), t([1, 2, 3]), 4),               # none predicted c1: 0
        (t([4, 4, 4, 1]), t([4, 4, 0, 1]), 4),         # c1 samples do not count: 1 of 2
        (torch.randint(0, 6, (400,), generator=g), torch.randint(0, 6, (400,), generator=g), 3),
    ]


def check_spurious_rate(fn):
    """Check ``spurious_rate(pred, labels, c1)`` against
    :func:`spurlab.spurious_misclassification_rate`."""
    return check(fn, _smr, _smr_cases(), name="spurious_rate",
                 hint=("the rate is over the samples whose true label is NOT c1: of those, what "
                       "fraction are predicted c1? Samples of class c1 itself must not count, in "
                       "the numerator or the denominator.",
                       "look only at the samples whose true label is NOT c1 (labels != c1) and "
                       "return the fraction of them that are predicted c1: "
                       "(pred[labels != c1] == c1).float().mean(). Samples of class c1 itself "
                       "must not count, in the numerator or the denominator."))


# --- Exercise 3 (interpretation): is it a shortcut?

POINT = (1.0, 0.05)          # (salience, prevalence): a bold line on a few rings
COMPARISONS = ("smr clean", "no-carrier model", "clean accuracy")
_SPELLINGS = {"smrclean": "smr clean", "clean": "smr clean", "cleansmr": "smr clean",
              "nocarriermodel": "no-carrier model", "nocarrier": "no-carrier model",
              "nocarriers": "no-carrier model", "reference": "no-carrier model",
              "referencemodel": "no-carrier model", "cleanaccuracy": "clean accuracy",
              "accuracy": "clean accuracy"}
_LEARNED_WORDS = {"learned": True, "yes": True, "true": True, "shortcutlearned": True,
                  "notlearned": False, "no": False, "false": False, "noshortcut": False,
                  "noshortcutlearned": False}
_TRIES = {"n": 0}

NUDGE = ("which of the printed differences would stay the same if the network had never seen a "
         "single carrier? That part is not something the carriers taught it.")
IDEA = ("the question is whether the carriers taught the network 'line means ring'. A network "
        "trained on the same images with no carrier at all shows what the stamped line does by "
        "itself, as a corruption of the image; only the baseline's excess over that model is the "
        "shortcut. Read it seed by seed: each seed's excess has a 95% interval over its stamped "
        "test images, and spurlab's rule (docs/verdicts.md) combines the seeds' evidence: several "
        "seeds that each show it are not noise, even when their sizes differ.")
MISTAKE = {
    "smr clean": "SMR clean is the same network on the same images without the line: the gap "
                 "says that the line changes the predictions, not why. A bold white row is also "
                 "a corruption of the image, and a network that never saw a carrier can call "
                 "such images 'ring' too.",
    "clean accuracy": "clean accuracy is measured on test images without the line: it cannot "
                      "see the shortcut at all, learned or not.",
}


def evidence(atlas=None, point=POINT):
    """What the atlas says at ``point`` = (salience, prevalence) about the baseline, over its
    seeds: ``smr``, ``smr_clean``, ``smr_reference``, ``clean_accuracy`` (each
    :func:`spurlab.stats.seed_interval`), ``minus_clean`` (the baseline's SMR minus SMR clean,
    :func:`spurlab.verdicts.difference_of`), ``per_seed`` (each seed's excess SMR over the
    no-carrier model with its interval over test images, :func:`spurlab.results.row_verdict`)
    and ``verdict`` (the shortcut verdict over the seeds, :class:`spurlab.verdicts.Shortcut`)."""
    from ..atlas import load_atlas
    from ..flatten import key, row_verdict
    from ..stats import seed_interval
    from ..verdicts import difference_of

    atlas = atlas or load_atlas()
    s, q = point
    pt = atlas.point(s, q, atlas.grid["prune_ratio"][0])   # the baseline does not depend on it
    rows = pt["rows"]

    def col(metric, model):
        return [r[key(metric, model)] for r in rows]

    smr, clean = col("smr", "baseline"), col("smr_clean", "baseline")
    return {"point": (s, q), "n_seeds": len(rows),
            "smr": seed_interval(smr), "smr_clean": seed_interval(clean),
            "smr_reference": seed_interval(col("smr", "reference")),
            "clean_accuracy": seed_interval(col("clean_accuracy", "baseline")),
            "minus_clean": difference_of([a - b for a, b in zip(smr, clean)], "baseline, stamped",
                                         "baseline, clean"),
            "per_seed": [row_verdict(r) for r in rows], "verdict": pt["verdict"]}


def _iv(d, pct=True):
    lo, hi = d["ci95"]
    return (f"{d['mean']:.1%} [{lo:.1%}, {hi:.1%}]" if pct else
            f"{d['mean']:+.3f}, 95% interval [{lo:+.3f}, {hi:+.3f}]")


def show_evidence(atlas=None, point=POINT):
    """Print the numbers of :func:`evidence` (means with 95% intervals over the atlas's seeds,
    and each seed's excess over the no-carrier model with its interval over the stamped test
    images), without the verdict: what the learner reads to answer the exercise."""
    e = evidence(atlas, point)
    s, q = e["point"]
    d = e["minus_clean"]
    lines = [("baseline SMR (stamped images of the other classes)", _iv(e["smr"])),
             ("SMR clean (the same images without the line)", _iv(e["smr_clean"])),
             ("SMR of the no-carrier model (stamped images)", _iv(e["smr_reference"])),
             ("baseline clean accuracy", _iv(e["clean_accuracy"])),
             ("baseline SMR minus SMR clean, per seed",
              f"{d.mean:+.3f}, 95% interval [{d.ci95[0]:+.3f}, {d.ci95[1]:+.3f}]")]
    lines += [(f"seed {v.seeds[0]}: SMR minus the no-carrier model's",
               f"{v.excess_smr:+.3f}, 95% interval over {v.n or 'its'} stamped test images "
               f"[{v.ci95[0]:+.3f}, {v.ci95[1]:+.3f}]") for v in e["per_seed"]]
    width = max(len(k) for k, _ in lines)
    print(f"A line at salience {s:.1f} on {q:.0%} of the rings (the atlas, {e['n_seeds']} seeds; "
          "mean and 95% interval over the seeds, then each seed):\n"
          + "\n".join(f"  {k:<{width}}  {v}" for k, v in lines))


def check_is_it_a_shortcut(answer, *, atlas=None, point=POINT):
    """Check ``answer()``: a pair ``(comparison, learned)``: which comparison decides whether the
    line taught the network a shortcut (one of :data:`COMPARISONS`; the no-carrier model), and
    whether one was learned at ``point`` (the atlas's verdict over seeds,
    :func:`spurlab.verdicts.combine`). Prints pass or a hint aimed at the mistake (a nudge first,
    then the idea, then the answer); returns True on pass."""
    from ..atlas import AtlasError

    got = call_answer(
            answer,
            "not done yet: is_it_a_shortcut still raises NotImplementedError; return a pair "
            "such as ('smr clean', True).")
    if got is NOT_DONE:
        return False
    try:
        comparison, learned = got
    except (TypeError, ValueError):
        print(f"hint: return a pair (comparison, learned), e.g. ('smr clean', True); got {got!r}.")
        return False
    choice = spelled(comparison, _SPELLINGS)
    if choice is None:
        print(f"hint: the comparison is one of {', '.join(map(repr, COMPARISONS))}; got "
              f"{comparison!r}.")
        return False
    word = spelled(learned, _LEARNED_WORDS)  # "learned" / "not learned" say it as clearly as a bool
    learned = learned if word is None else word
    if not isinstance(learned, (bool, np.bool_)):
        print(f"hint: learned is True or False (or 'learned' / 'not learned'); got {learned!r}.")
        return False
    comparison, learned = choice, bool(learned)
    try:
        e = evidence(atlas, point)
    except (AtlasError, ValueError) as exc:
        print(f"cannot check without the atlas: {exc}")
        return False
    v = e["verdict"]
    truth = bool(v.learned)
    k, n = v.learned_in, v.n
    if comparison == "no-carrier model" and learned == truth:
        _TRIES["n"] = 0
        extra = (f" Most of the baseline's SMR ({e['smr']['mean']:.0%}) is there without any "
                 f"carrier (the no-carrier model: {e['smr_reference']['mean']:.0%}): the carriers "
                 f"taught the excess, {v.excess_smr:+.3f} on average, not the whole SMR."
                 if truth else
                 f" The SMR ({e['smr']['mean']:.0%}) is far above SMR clean, yet a model that "
                 f"never saw a carrier calls {e['smr_reference']['mean']:.0%} of the stamped images "
                 "'ring' too: this SMR does not show a lesson from the carriers.")
        print(f"pass: the no-carrier model decides; {v.text()}.{extra}")
        return True
    _TRIES["n"] += 1
    if comparison != "no-carrier model":
        mistake = MISTAKE[comparison]
    elif truth:
        mistake = (f"the right comparison, but read it seed by seed: {k} of {n} seeds' intervals "
                   "over their test images lie above 0, and together the seeds are far beyond "
                   "noise. The interval of the mean over seeds can still reach 0 when the seeds "
                   "differ in size; that says how big the shortcut is, not whether it is there.")
    else:
        mistake = (f"the right comparison, but read it seed by seed: {k} of {n} seeds' intervals "
                   "over their test images lie above 0, and together the seeds do not rise "
                   "above noise: the carriers did not show that they taught anything.")
    staged = staged_hint(_TRIES["n"], NUDGE, IDEA,
                         f"the answer: ('no-carrier model', {truth}): {v.text()}.")
    print(f"hint: {mistake} {staged}")
    return False


__all__ = ["COMPARISONS", "POINT", "check_accuracy", "check_is_it_a_shortcut",
           "check_spurious_rate", "evidence", "show_evidence"]
