"""What a trained model scores on a scenario: every metric of the record (:func:`evaluate`) and
the paper's counterfactual probe image by image (:func:`stamp_predictions`). A model that cannot
take the scenario's images, or that does not output one score per class, is refused before
anything is measured.

    metrics = evaluate(model, scenario)          # ModelMetrics: SMR, accuracies, groups
    flips = stamp_predictions(model, scenario)   # each test image's class, clean and stamped
"""

from __future__ import annotations

import math

import torch

from .metrics import (
    accuracy,
    group_accuracies,
    group_balanced_accuracy,
    smr_by_class,
    spurious_misclassification_rate,
    worst_group_accuracy,
)
from .results import ModelMetrics
from .scenario import Scenario
from .train import predict, predict_logits


def evaluate(model, scenario, *, device=None):
    """All metrics of ``model`` on a scenario's test sets, as :class:`ModelMetrics`.

    ``clean_accuracy`` (average accuracy on the clean test set), ``smr`` (spurious
    misclassification rate on stamped test images of the other classes), ``smr_clean`` (its
    clean baseline), ``worst_group_accuracy``, ``group_balanced_accuracy`` and
    ``group_accuracy`` (one per group ``2*class + stamped``; ``None`` for an empty group) on
    the group-labelled test set, and ``smr_by_class`` (the SMR within each other class: the
    CIFAR-10S reference code's automobile probe is its class 1). A model that cannot take the
    scenario's images, or that does not output one score per class, is refused before anything
    is measured.
    """
    _check_model_fits(model, scenario, device)
    return _evaluate(model, scenario, device)[0]


def _check_model_fits(model, scenario, device):
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module; got {type(model).__name__}")
    if not isinstance(scenario, Scenario):
        raise TypeError(f"scenario must be a spurlab Scenario; got {type(scenario).__name__}")
    image = scenario.test.images[:1]
    try:
        out = predict_logits(model, image, device=device)
    except RuntimeError as exc:
        raise ValueError(f"model cannot take the scenario's images (shape "
                         f"{tuple(image.shape[1:])}): {str(exc).splitlines()[0]}") from None
    k = scenario.train.num_classes
    if out.ndim != 2 or out.shape[1] != k:
        raise ValueError(f"model must output one score per class of the scenario ({k}); it "
                         f"outputs shape {tuple(out.shape[1:])}")


def _evaluate(model, scenario, device):
    """:func:`evaluate` and, per stamped test image, 1 if predicted the target class."""
    c1 = scenario.target_class
    clean_pred = predict(model, scenario.test.images, device=device)
    stamped_pred = predict(model, scenario.stamped_test.images, device=device)
    n = len(scenario.test)
    g_pred = clean_pred
    if len(scenario.group_test) > n:     # a stamped copy of the test set (not for attributes)
        g_pred = torch.cat([clean_pred, predict(model, scenario.group_test.images[n:],
                                                device=device)])
    g_y, g_g = scenario.group_test.labels, scenario.group_test_groups
    G = scenario.num_groups
    hits = (stamped_pred == c1).long().tolist()
    return ModelMetrics(
        clean_accuracy=accuracy(clean_pred, scenario.test.labels),
        smr=spurious_misclassification_rate(stamped_pred, scenario.stamped_test.labels, c1),
        smr_clean=spurious_misclassification_rate(clean_pred, scenario.test.labels, c1),
        worst_group_accuracy=worst_group_accuracy(g_pred, g_y, g_g, G),
        group_balanced_accuracy=group_balanced_accuracy(g_pred, g_y, g_g, G),
        group_accuracy=tuple(None if math.isnan(a) else a
                             for a in group_accuracies(g_pred, g_y, g_g, G).tolist()),
        smr_by_class=smr_by_class(stamped_pred, scenario.stamped_test.labels, c1,
                                  scenario.train.num_classes),
    ), hits



def stamp_predictions(model, scenario, *, device=None):
    """``model``'s predictions on the test images of the classes other than the target class,
    clean and with the feature stamped (the paper's counterfactual probe, image by image), for
    :func:`spurlab.plotting.flip_gallery`.

    Returns
    -------
    dict
        ``clean``, ``stamped`` (predicted classes) and ``truth`` (true classes), numpy arrays in
        the order of ``scenario.stamped_test``.
    """
    _check_model_fits(model, scenario, device)
    c1 = scenario.target_class
    other = (scenario.test.labels != c1).nonzero().flatten()
    stamped = scenario.stamped_test
    if len(stamped) != len(other) or not torch.equal(stamped.labels, scenario.test.labels[other]):
        raise ValueError("scenario must have a stamped copy of every test image of the other "
                         "classes, in order (spurlab.make_scenario / build_scenario do; an "
                         "attribute scenario such as CelebA's does not)")
    return {"clean": predict(model, scenario.test.images[other], device=device).numpy(),
            "stamped": predict(model, stamped.images, device=device).numpy(),
            "truth": stamped.labels.numpy()}


__all__ = ["evaluate", "stamp_predictions"]
