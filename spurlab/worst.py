"""The worst group, said plainly: which group is worst for each model, seed by seed, and what
a pruning arm did to the SMR and to worst-group accuracy together.

Worst-group accuracy is the minimum over the test groups (``2 * class + stamped``). Pruning
can lower the SMR and still lower worst-group accuracy: the shortcut's groups (other classes
with the feature) improve while another group, often a clean group of a class whose hard
samples were pruned too, becomes the worst. This module names the worst group of each model in
each seed and says, with the one verdict rule for differences
(:func:`spurlab.verdicts.difference`), whether the SMR and worst-group accuracy moved, and
when both fell, which groups became the worst.

Examples
--------
>>> # print(worst_group_text(sl.run_seeds(cfg, [0, 1, 2], arms=["hardest"]), "hardest"))
"""

from __future__ import annotations

from collections import Counter

from ._validate import check_results
from .verdicts import difference


def worst_groups(results, model):
    """Per seed, ``(group name, accuracy)`` of ``model``'s worst test group (``('none', nan)``
    where every group is empty)."""
    out = []
    for r in check_results(results):
        m = r.metrics(model)
        g = m.worst_group
        out.append(("none", float("nan")) if g is None
                   else (r.scenario.group_names[g], float(m.group_accuracy[g])))
    return out


def _names(pairs):
    """``"'circle + line' (2 seeds), 'ring' (1)"``: the worst groups, most frequent first."""
    counts = Counter(name for name, _ in pairs).most_common()
    return ", ".join(f"{name!r} ({n} seed{'s' if n > 1 else ''})" if i == 0 else f"{name!r} ({n})"
                     for i, (name, n) in enumerate(counts))


def worst_group_text(results, arm, versus="baseline"):
    """What ``arm`` did against ``versus`` to the SMR and to worst-group accuracy, over seeds,
    and which group is the worst for each: one line.

    When the SMR falls and worst-group accuracy falls too (both intervals exclude 0), it says
    so and names the groups that became the worst: pruning removed the shortcut's damage to
    the stamped groups while another group lost more.

    Examples
    --------
    >>> # worst_group_text(results, "hardest")
    >>> # "hardest vs baseline: SMR lower (...); worst-group accuracy not shown to differ ...;
    >>> #  worst group: baseline 'circle + line' (3 seeds); hardest 'ring' (2 seeds), ..."
    """
    results = check_results(results)
    smr = difference(results, arm, versus, "smr")
    wga = difference(results, arm, versus, "worst_group_accuracy")
    before, after = worst_groups(results, versus), worst_groups(results, arm)
    text = (f"{arm} vs {versus}: {smr.text()}; {wga.text()}; worst group per seed: {versus} "
            f"{_names(before)}; {arm} {_names(after)}")
    if smr.differs and smr.mean < 0 and wga.differs and wga.mean < 0:
        feature = f" + {results[0].scenario.feature}"
        stamped = sum(name.endswith(feature) for name, _ in after)
        text += (f". The SMR fell and worst-group accuracy fell too: {arm}'s worst group is a "
                 f"group with the {results[0].scenario.feature} in {stamped} of {len(after)} "
                 "seeds and a clean group in the others")
        a = results[0].arms[arm] if arm in results[0].arms else None
        if (stamped < len(after) and a is not None and a.strategy == "hardest"
                and a.scope in ("class", "global")):
            text += (": pruning the hardest samples of every class also removed hard clean "
                     "samples, and a clean group paid for it")
    return text


__all__ = ["worst_group_text", "worst_groups"]
