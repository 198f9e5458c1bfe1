"""Upweighting by repetition, as JTT (Just Train Twice, Liu et al., 2021) does: train an ERM
model briefly, collect the training samples it gets wrong (the error set), then retrain with
the error set repeated ``factor`` times in total."""

from __future__ import annotations

import numpy as np

from ._validate import check_int


def upweight_indices(error_mask, factor=5):
    """Training indices with every sample of ``error_mask`` repeated ``factor`` times.

    Parameters
    ----------
    error_mask : bool array-like (N,)
        Samples to upweight (e.g. misclassified by an early ERM model).
    factor : int >= 1
        Total copies of each upweighted sample (1 = plain ERM).

    Examples
    --------
    >>> upweight_indices([False, True, False], factor=3).tolist()
    [0, 1, 2, 1, 1]
    """
    m = np.asarray(error_mask.cpu() if hasattr(error_mask, "cpu") else error_mask)
    if m.ndim != 1 or m.dtype != bool:
        raise ValueError(f"error_mask must be a 1-D boolean mask; got {m.dtype} {m.shape}")
    factor = check_int("factor", factor, low=1)
    extra = np.repeat(np.flatnonzero(m), factor - 1)
    return np.concatenate([np.arange(len(m)), extra]).astype(np.int64)
