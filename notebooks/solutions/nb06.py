"""Solutions to the exercises of notebook 06 (*Your turn: bring your own data or pattern*).

Examples
--------
>>> make_corner_mask(3, 3, 2).astype(int).tolist()
[[1, 1, 0], [1, 0, 0], [0, 0, 0]]
>>> regime_percentile([0.1, 0.2, 0.3, 0.4], [False, False, False, True], [0, 0, 0, 0], 0)
87.5
"""

import numpy as np


def make_corner_mask(h, w, size):
    """An ``(h, w)`` float mask, 1 on the top-left right triangle ``row + col < size``."""
    rows, cols = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
    return (rows + cols < size).astype(np.float32)


def regime_percentile(scores, carrier, labels, c1):
    """The carriers' mean difficulty percentile (0-100) within class ``c1``, ties counted half;
    NaN when nothing carries the feature."""
    scores, carrier, labels = np.asarray(scores, float), np.asarray(carrier, bool), np.asarray(labels)
    if not carrier.any():
        return float("nan")
    ref = scores[labels == c1]
    pct = [100 * (np.sum(ref < v) + 0.5 * np.sum(ref == v)) / len(ref) for v in scores[carrier]]
    return float(np.mean(pct))


def design_study():
    """A study that can answer "does pruning the hardest beat random pruning here?" in 12
    trainings: the arm and its control (random pruning of the same share), the no-carrier model
    for the verdict (was a shortcut learned at all?), 3 seeds (the fewest that give an interval),
    and a decision by the 95% interval over seeds of SMR(hardest) - SMR(random). 3 seeds x
    (baseline + 2 arms + reference) = 12; an extra arm such as 'easiest' would not fit, and
    answers another question.

    Examples
    --------
    >>> design_study()["arms"]
    ['hardest', 'random']
    """
    return {"seeds": [0, 1, 2], "arms": ["hardest", "random"], "reference": True,
            "decide by": "interval"}
