"""Auto-checks for notebook 06 (*Your turn: bring your own data or pattern*).

Two exercises:

- :func:`check_make_corner_mask`: ``make_corner_mask(h, w, size)``, an ``(h, w)`` mask that is 1
  on a right triangle in the top-left corner (pixel ``(r, c)`` is inside when
  ``r + c < size``) and 0 elsewhere: the shape of a custom :class:`spurlab.Pattern`;
- :func:`check_regime_percentile`: ``regime_percentile(scores, carrier, labels, c1)``, the
  carriers' mean difficulty percentile within class ``c1`` (the regime indicator), compared with
  :func:`spurlab.scores.percentile_within`.

:func:`corner_mask` and :func:`regime_percentile` are the references; the notebook falls back on
them when an exercise is not done yet, so it always runs top to bottom.

Examples
--------
>>> corner_mask(3, 4, 2).tolist()
[[1.0, 1.0, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]]
"""

from __future__ import annotations

import numpy as np
import torch

from ..scores import percentile_within
from . import check


def corner_mask(h, w, size):
    """Reference: float32 tensor ``(h, w)``, 1 where ``row + col < size`` (top-left triangle).

    Parameters
    ----------
    h, w : int
        Image height and width.
    size : int >= 0
        Length of the triangle's two legs in pixels (0: empty mask).
    """
    r = torch.arange(h)[:, None]
    c = torch.arange(w)[None, :]
    return ((r + c) < size).float()


def regime_percentile(scores, carrier, labels, c1):
    """Reference: mean percentile (0-100) of the carriers' scores among all class-``c1``
    scores, ties counted half (NaN when there is no carrier).

    Parameters
    ----------
    scores : array-like (N,)
        Difficulty per training sample (higher = harder), e.g. early EL2N.
    carrier : bool array-like (N,)
        Sample carries the spurious feature.
    labels : int array-like (N,)
    c1 : int
        The class the feature was put on.

    Examples
    --------
    >>> regime_percentile([0.1, 0.2, 0.3, 0.4], [False, False, False, True], [0, 0, 0, 0], 0)
    87.5
    """
    carrier = np.asarray(carrier, dtype=bool)
    if not carrier.any():
        return float("nan")
    among = np.flatnonzero(np.asarray(labels) == c1)
    return float(np.mean(percentile_within(scores, np.flatnonzero(carrier), among)))


def check_make_corner_mask(fn):
    """Check ``fn(h, w, size)`` against :func:`corner_mask` (numpy arrays or tensors accepted).

    Parameters
    ----------
    fn : callable
        The learner's ``make_corner_mask(h, w, size)``.

    Returns
    -------
    bool
        ``True`` when every case matches.
    """
    cases = [(4, 4, 2), (16, 16, 5), (5, 8, 3), (8, 5, 3), (3, 3, 0), (2, 2, 1), (4, 6, 20)]

    def learner(h, w, size):
        out = fn(h, w, size)
        out = out.detach().cpu().numpy() if isinstance(out, torch.Tensor) else np.asarray(out)
        return out.astype(np.float32)

    return check(learner, lambda h, w, s: corner_mask(h, w, s).numpy(), cases,
                 name="make_corner_mask",
                 hint="return an (h, w) array of 0s and 1s with 1 where row + col < size; rows "
                      "run over h, columns over w; size=0 gives all zeros and a size larger "
                      "than the image just fills more of it (no error).")


def check_regime_percentile(fn):
    """Check ``fn(scores, carrier, labels, c1)`` against :func:`regime_percentile`.

    Parameters
    ----------
    fn : callable
        The learner's ``regime_percentile(scores, carrier, labels, c1)`` on numpy arrays,
        returning a float in [0, 100] (NaN without carriers).

    Returns
    -------
    bool
        ``True`` when every case matches.
    """
    a = np.array
    rng = np.random.default_rng(0)
    big_scores = rng.random(60)
    big_labels = np.arange(60) % 3
    big_carrier = (big_labels == 1) & (rng.random(60) < 0.4)
    cases = [
        # one class; the single carrier is the hardest of four
        (a([0.1, 0.2, 0.3, 0.4]), a([False, False, False, True]), a([0, 0, 0, 0]), 0),
        # the carriers are the two easiest of class 1; class 0's scores must not count
        (a([0.9, 0.1, 0.05, 0.2, 0.8, 0.7]), a([False, True, False, True, False, False]),
         a([0, 1, 0, 1, 1, 1]), 1),
        # ties: a carrier tied with another sample counts half
        (a([0.5, 0.5, 0.2, 0.9]), a([True, False, False, False]), a([2, 2, 2, 2]), 2),
        # every sample of c1 carries the feature: exactly 50
        (a([0.3, 0.1, 0.7, 0.2]), a([True, True, True, True]), a([1, 1, 1, 1]), 1),
        # no carrier at all: NaN
        (a([0.3, 0.1, 0.7]), a([False, False, False]), a([0, 0, 0]), 0),
        # a larger random case
        (big_scores, big_carrier, big_labels, 1),
    ]
    return check(fn, regime_percentile, cases, name="regime_percentile",
                 hint="for each carrier, count the class-c1 samples with a lower score plus half "
                      "of those with an equal score (the carrier itself included), divide by the "
                      "number of class-c1 samples, times 100; then average over the carriers. "
                      "Return float('nan') when there is no carrier.")
