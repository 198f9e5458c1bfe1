"""Auto-check for notebook 07 (the playground): an interpretation exercise.

The learner reads the maps and names a cell where pruning the hardest *backfires* at a given
prune ratio (its SMR is higher than random pruning's, with a 95% interval over seeds that
excludes 0), or ``None`` if they find none. The check reads the same atlas; a wrong pick gets a
hint aimed at that mistake (no shortcut there, pruning helps there, the difference is noise),
and the hints come in stages: the first wrong try gets a nudge, the next ones the idea.

Examples
--------
>>> from spurlab.exercises import nb07
>>> def backfire_pick():
...     raise NotImplementedError
>>> nb07.check_backfire_pick(backfire_pick)                       # doctest: +SKIP
not done yet: ...
False
"""

from __future__ import annotations

from . import NOT_DONE, call_answer

_TRIES = {"n": 0}

NUDGE = ("look at the right-hand map (salience x prevalence at this ratio): vermillion cells are "
         "where pruning the hardest raised the SMR.")
IDEA = ("a cell counts only if a shortcut was learned there (no x) and pruning the hardest left a "
        "higher SMR than random pruning in a way the seeds agree on; the playground's line under "
        "the figure prints 'hardest minus random, SMR ... excludes 0: hardest leaves a higher SMR "
        "than random (worse)' for such a point.")


def check_backfire_pick(answer, *, atlas=None, prune_ratio=0.2):
    """Check ``answer()``: a ``(salience, prevalence)`` cell where pruning the hardest backfires
    at ``prune_ratio`` on the atlas, or ``None`` when no cell does. Prints pass or a hint;
    returns True on pass."""
    from ..atlas import AtlasError, load_atlas
    from ..flatten import key as row_key

    pick = call_answer(
            answer,
            "not done yet: backfire_pick still raises NotImplementedError; return your cell, e.g. "
            "(0.7, 0.6), or None.")
    if pick is NOT_DONE:
        return False
    try:
        atlas = atlas or load_atlas()
    except AtlasError as exc:
        print(f"cannot check without the atlas: {exc}")
        return False
    verdicts = atlas.verdicts(prune_ratio)
    backfire = sorted(k for k, v in verdicts.items() if v == "backfires")
    _TRIES["n"] += 1
    staged = NUDGE if _TRIES["n"] == 1 else IDEA
    if pick is None:
        if not backfire:
            print(f"pass: at p = {prune_ratio:g} no cell of the atlas backfires with an interval "
                  "that excludes 0.")
            return True
        print(f"hint: at p = {prune_ratio:g} {len(backfire)} cell(s) do backfire. {staged}")
        return False
    try:
        s, q = (float(x) for x in pick)
        key = (atlas.check_value("salience", s), atlas.check_value("prevalence", q))
    except (TypeError, ValueError) as exc:
        print(f"hint: return a (salience, prevalence) pair of grid values, or None; {exc}")
        return False
    what = verdicts[key]
    if what == "backfires":
        rows = atlas.rows(key[0], key[1], prune_ratio)
        cut = sum(r[row_key("carriers_pruned", "hardest")] / r["carriers"] for r in rows) / len(rows)
        print(f"pass: at salience {key[0]:g}, prevalence {key[1]:g} and p = {prune_ratio:g} "
              "pruning the hardest leaves a higher SMR than random pruning, over every seed's "
              f"interval. There the hardest arm removed {cut:.0%} of the carriers (mean over "
              f"{len(rows)} seeds; the dashed line is p).")
        _TRIES["n"] = 0
        return True
    reason = {"no shortcut": "no shortcut was learned there (x on the map): any change is noise.",
              "helps": "there pruning the hardest *lowers* the SMR below random pruning's.",
              "no difference": "there the interval of hardest minus random includes 0: the "
                               "seeds do not agree, so it is not a backfire.",
              "n/a": "an arm could not run there."}[what]
    print(f"hint: at salience {key[0]:g}, prevalence {key[1]:g}: {reason} {staged}")
    return False
