"""Results as flat rows: the one function that flattens a :class:`~spurlab.results.Result`
(:func:`rows`), the one builder of row keys (:func:`key`), a row's own shortcut verdict
(:func:`row_verdict`) and a pivot of rows over two axes (:func:`pivot`). Sweeps, the atlas, the
playground, the maps and the scripts read and write rows through these.

Examples
--------
>>> key("smr", "hardest"), key("worst_group", "baseline")
('smr_hardest', 'worst_group_baseline')
"""

from __future__ import annotations

import math

import numpy as np

from .stats import summarize
from .verdicts import EFFECTS, NO_REFERENCE, combine, difference_of, effect, seed_verdict

# which carriers an arm removed, by difficulty (spurlab.carriers_by_difficulty): row metrics
MECHANISM = ("hard_removed", "removed_percentile", "kept_percentile", "latent_hard_removed",
             "latent_removed_percentile", "latent_kept_percentile")


def key(metric, model):
    """The flat row key of ``metric`` for ``model`` (``'baseline'``, ``'reference'`` or an arm):
    the one place spurlab builds such keys.

    Examples
    --------
    >>> key("worst_group", "hardest/oracle")
    'worst_group_hardest/oracle'
    """
    return f"{metric}_{model}"


def rows(result, arms=None):
    """The headline numbers of one :class:`Result` as one flat JSON-able row: the one function
    sweeps, the atlas and the scripts build rows with.

    Keys: ``seed``, ``target_class``, ``regime_percentile``, ``carriers``, ``n_test`` (stamped
    test images), the shortcut verdict over those images (``learned``, ``excess_smr``,
    ``excess_lo``, ``excess_hi``; None without a reference), ``score_accuracy`` (the scoring
    model's eval accuracy), and through :func:`key`: ``smr``, ``smr_clean``,
    ``clean_accuracy`` and ``worst_group`` (worst-group accuracy) of ``baseline``,
    ``reference`` (SMR only) and each arm; per arm also ``carriers_pruned``,
    ``excess_removed`` (None when undefined), ``occupancy``, ``carrier_share_pruned`` and which
    carriers it removed by difficulty (:data:`MECHANISM`: ``hard_removed``,
    ``removed_percentile``, ``kept_percentile`` and their ``latent_`` forms; None where undefined).
    With both ``'hardest'`` and ``'hardest/oracle'``: ``overlap_hardest_oracle``, the share of
    the carriers oracle pruning removed that label-free pruning removed too.

    Examples
    --------
    >>> # rows(sl.run("n_train=600 n_test=120 epochs=2 score_epoch=1"))["smr_hardest"]
    """
    def num(x):
        return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)

    def metrics_of(name, m, fields):
        return {key(f, name): num(getattr(m, attr)) for f, attr in fields}

    full = (("smr", "smr"), ("smr_clean", "smr_clean"), ("clean_accuracy", "clean_accuracy"),
            ("worst_group", "worst_group_accuracy"))
    v = result.shortcut
    row = {"seed": result.config.seed, "target_class": result.scenario.target_class,
           "regime_percentile": num(result.regime_percentile), "carriers": result.carriers,
           "n_test": result.scenario.n_stamped_test,
           "learned": None if v is None else bool(v.learned),
           "excess_smr": None if v is None else num(v.excess_smr),
           "excess_lo": None if v is None else num(v.ci95[0]),
           "excess_hi": None if v is None else num(v.ci95[1]),
           "score_accuracy": None if result.score_model is None
           else num(result.score_model["eval_accuracy"]),
           **metrics_of("baseline", result.baseline, full),
           key("smr", "reference"): None if result.reference is None else num(result.reference.smr)}
    arms = list(result.arms if arms is None else arms)
    unknown = [a for a in arms if a not in result.arms]
    if unknown:
        raise ValueError(f"arms must be arms of this result {list(result.arms)}; got {unknown[0]!r}")
    for a in arms:
        arm = result.arms[a]
        row.update(metrics_of(a, arm.metrics, full[:1] + full[2:]))
        row.update({key("carriers_pruned", a): arm.carriers_pruned,
                    key("excess_removed", a): num(result.excess_removed(a)),
                    key("occupancy", a): num(arm.occupancy),
                    key("carrier_share_pruned", a): num(arm.carrier_share_pruned),
                    **{key(m, a): num(getattr(arm, m)) for m in MECHANISM}})
    if "hardest" in result.arms and "hardest/oracle" in result.arms:
        oracle = set(result.arms["hardest/oracle"].pruned)     # oracle prunes carriers only
        both = oracle & set(result.arms["hardest"].pruned)
        row["overlap_hardest_oracle"] = num(len(both) / len(oracle) if oracle else None)
    return row


def row_verdict(row):
    """One row's shortcut verdict over its stamped test images (None without a reference)."""
    if row.get("excess_smr") is None:
        return None
    return seed_verdict(row["excess_smr"], (row["excess_lo"], row["excess_hi"]),
                        row.get("n_test"), seed=row.get("seed"), n_carriers=row.get("carriers"))


def cell_verdict(rows):
    """The shortcut verdict over one cell's seeds (one row each): :func:`spurlab.verdicts.combine`
    of each row's own verdict; ``NO_REFERENCE`` when a row has none."""
    per = [row_verdict(r) for r in rows]
    return NO_REFERENCE if not per or any(v is None for v in per) else combine(per)


def cell_difference(rows, a, b, metric="smr"):
    """``a - b`` of ``metric`` over one cell's seeds where both ran (a
    :class:`spurlab.verdicts.Difference`), or None where they never both ran."""
    vals = [r[key(metric, a)] - r[key(metric, b)] for r in rows
            if r.get(key(metric, a)) is not None and r.get(key(metric, b)) is not None]
    return difference_of(vals, a, b, metric) if vals else None


def cell_effect(rows, arm="hardest", versus="random"):
    """Does ``arm`` help against ``versus`` in one cell (its rows, one per seed)? The verdict
    first, then the difference over seeds: one of :data:`spurlab.verdicts.EFFECTS`
    (:func:`spurlab.verdicts.effect`); every map, the atlas and the playground use it."""
    return effect(cell_verdict(rows), cell_difference(rows, arm, versus) if arm != versus else None)


def effects_count(effects):
    """``'no shortcut in 10, helps in 11, no difference in 4 of 25 cells'``: how many cells of
    each kind in ``effects`` (cell -> :func:`cell_effect`), in the order of
    :data:`spurlab.verdicts.EFFECTS` (other kinds, such as ``'no verdict'``, after them)."""
    values = list(effects.values())
    kinds = [k for k in EFFECTS if k in values] + sorted({v for v in values} - set(EFFECTS))
    counts = ", ".join(f"{k} in {values.count(k)}" for k in kinds)
    return f"{counts} of {len(values)} cells"


def pivot(rows, row_key, col_key, value):
    """Mean and standard deviation over seeds of ``value`` on a ``row_key`` x ``col_key`` grid.

    Parameters
    ----------
    rows : list of dict
        As returned by :func:`grid` (or read back from its JSON).
    row_key, col_key : str
        Two axis names.
    value : str or callable
        A row key (``'excess_removed_hardest'``) or ``fn(row) -> float``.

    Returns
    -------
    row_values, col_values, mean, sd
        Sorted axis values and two ``(len(row_values), len(col_values))`` arrays (NaN where no
        value was defined).

    Examples
    --------
    >>> rows = [{"a": 1, "b": 2, "v": 0.5}, {"a": 1, "b": 2, "v": 0.7}]
    >>> pivot(rows, "a", "b", "v")[2]
    array([[0.6]])
    """
    rows = list(rows)
    if not rows:
        raise ValueError("rows must hold at least one row; got none")
    if not all(isinstance(r, dict) for r in rows):
        raise TypeError("rows must be dicts (flatten.rows, a sweep's or the atlas's rows)")
    for name, k in (("row_key", row_key), ("col_key", col_key)) + (
            () if callable(value) else (("value", value),)):
        if any(k not in r for r in rows):
            raise ValueError(f"{name} must be a key of every row; got {k!r} (the rows hold "
                             f"{sorted(rows[0])[:12]}...)")
    fn = value if callable(value) else (lambda r: r[value])
    rv = sorted({r[row_key] for r in rows})
    cv = sorted({r[col_key] for r in rows})
    cells = {}
    for r in rows:
        cells.setdefault((r[row_key], r[col_key]), []).append(fn(r))
    mean = np.full((len(rv), len(cv)), np.nan)
    sd = np.full((len(rv), len(cv)), np.nan)
    for i, a in enumerate(rv):
        for j, b in enumerate(cv):
            s = summarize(cells.get((a, b), []))          # NaN and None dropped
            mean[i, j], sd[i, j] = s["mean"], s["sd"]
    return rv, cv, mean, sd


__all__ = ["MECHANISM", "cell_difference", "cell_effect", "cell_verdict", "effects_count", "key",
           "pivot", "row_verdict", "rows"]
