"""The first cell of every notebook: mode, data, seeds and the config, from one call.

A notebook keeps one visible line a user changes (``DATASET = "shapes"``) and calls
:func:`setup`; the environment variables ``SPURLAB_MODE`` (``quick``, ``full`` or ``smoke``) and
``SPURLAB_DATASET`` override both, so CI and instructors can switch every notebook at once.

Examples
--------
>>> L = setup("shapes", mode="smoke", verbose=False)
>>> L.config.n_train, L.target_class, L.class_name, L.claims
(600, 4, 'ring', False)
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from ._validate import check_choice
from .catalog import STAMPED_DATASETS, class_names, fetch
from .config import Config, preset
from .defaults import DEFAULTS, STRONG_SIGNAL

MODES = ("quick", "full", "smoke")



@dataclass(frozen=True)
class Lesson:
    """What a notebook's cells share: ``mode``, ``dataset``, ``seeds``, ``config`` (the preset
    for that mode and dataset) and ``claims`` (whether the notebook asserts the paper's claims:
    on the embedded shapes, not in smoke mode)."""

    mode: str
    dataset: str
    seeds: tuple
    config: Config
    claims: bool

    @property
    def target_class(self):
        return self.config.target_class

    @property
    def names(self):
        """Class names of the dataset."""
        return class_names(self.dataset)

    @property
    def class_name(self):
        """Name of the target class ``c1``."""
        return self.names[self.target_class]


def setup(dataset=DEFAULTS["dataset"], *, mode="quick", seeds=(0, 1, 2), stamped=True, verbose=True):
    """Mode, data, seeds and config for a notebook; fetches real data once.

    Parameters
    ----------
    dataset : str
        ``'shapes'`` (embedded), ``'digits'``, ``'mnist'``, ``'fashion_mnist'`` or ``'cifar10'``;
        ``$SPURLAB_DATASET`` overrides it.
    mode : {'quick', 'full', 'smoke'}
        ``$SPURLAB_MODE`` overrides it.
    seeds : sequence of int
    stamped : bool
        The notebook stamps a line on the images (CelebA's eyeglasses are natural: refused).
    verbose : bool
        Print one line saying what runs where.

    Returns
    -------
    Lesson
    """
    dataset = os.environ.get("SPURLAB_DATASET", dataset)
    mode = os.environ.get("SPURLAB_MODE", mode)
    check_choice("mode (or $SPURLAB_MODE)", mode, MODES)
    allowed = STAMPED_DATASETS if stamped else STAMPED_DATASETS + ("celeba",)
    if dataset not in allowed:
        raise ValueError(f"DATASET (or $SPURLAB_DATASET) must be one of {allowed} in this "
                         f"notebook; got {dataset!r}"
                         + (" (CelebA's eyeglasses are natural: run it with "
                            "sl.run(sl.preset(MODE, dataset='celeba')) or spurlab reproduce "
                            "celeba)" if dataset == "celeba" else ""))
    fetch(dataset)                 # real data: downloads the files once into $SPURLAB_DATA
    from ._validate import check_seeds

    lesson = Lesson(mode, dataset, tuple(check_seeds(seeds)), preset(mode, dataset=dataset),
                    claims=dataset == "shapes" and mode != "smoke")
    if verbose:
        from ._version import __version__
        from .device import get_device

        c = lesson.config
        print(f"spurlab {__version__}: {dataset!r} data in {mode!r} mode ({c.n_train} training "
              f"images, {c.epochs} epochs, {c.score.upper()} at epoch {c.score_epoch}) on "
              f"{get_device()}, seeds {list(lesson.seeds)}")
    return lesson


__all__ = ["Lesson", "MODES", "STRONG_SIGNAL", "setup"]
