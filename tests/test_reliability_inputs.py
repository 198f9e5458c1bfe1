"""Reliability, table-driven: every bad input a learner may pass, through the public API of the
features, metrics, training, models, scores, datasets, device, widget panels and the command
line, raises at the boundary (before any work) an error of the expected type whose message names
the parameter (and, where the table gives them, the value and what is allowed).

Each row is one case. ``python3 -m pytest --collect-only -q tests/test_reliability*.py`` counts
them with the other reliability tests.
"""

import math
import os
import subprocess
import sys

import ipywidgets as w
import numpy as np
import pytest
import torch

import spurlab as sl
from spurlab.cli import main
from spurlab.device import configure_threads
from spurlab.features import Attribute
from spurlab.scores import ForgettingTracker, grand, loss_scores, margin_scores
from spurlab.widgets import Panel, slider

from .refusals import check as _check
from .refusals import ids as _ids

NAN, INF = float("nan"), float("inf")
X = torch.rand(8, 1, 16, 16)             # 8 greyscale 16x16 images in [0, 1]
Y = torch.arange(8) % 6                  # labels for the default 6-class tiny CNN
IMG = torch.rand(2, 1, 16, 16)           # images to stamp
RGB = torch.rand(2, 3, 16, 16)


def _m(**kw):
    return sl.make_model(**kw)


# --------------------------------------------------------------------------- features

FEATURES = [
    # (call, error type, word(s) the message must contain: the parameter first)
    *[(lambda v=v: sl.Line(salience=v), ValueError, "salience") for v in (1.2, -0.1, NAN, INF, -INF)],
    *[(lambda v=v: sl.Line(salience=v), TypeError, "salience") for v in ("high", None, True, [0.5])],
    *[(lambda v=v: sl.Line(thickness=v), ValueError, "thickness") for v in (0, -1)],
    *[(lambda v=v: sl.Line(thickness=v), TypeError, "thickness") for v in (1.5, "2", True, None)],
    *[(lambda v=v: sl.Line(orientation=v), ValueError, "orientation") for v in ("diagonal", "", 1, None)],
    *[(lambda v=v: sl.Line(value=v), ValueError, "value")
      for v in (NAN, INF, -0.5, 1.5, (NAN, 0, 0), (1, 0, 2), [], [[0.1, 0.2], [0.3, 0.4]])],
    *[(lambda v=v: sl.Line(value=v), TypeError, "value") for v in ("white", None, True)],
    *[(lambda v=v: sl.Patch(salience=v), ValueError, "salience") for v in (-1, 2, NAN)],
    (lambda: sl.Patch(salience="0.5"), TypeError, "salience"),
    *[(lambda v=v: sl.Patch(size=v), ValueError, "size") for v in (0, -3)],
    *[(lambda v=v: sl.Patch(size=v), TypeError, "size") for v in (2.5, "3")],
    *[(lambda v=v: sl.Patch(position=v), ValueError, "position") for v in ("middle", "top", 0)],
    *[(lambda v=v: sl.Patch(value=v), ValueError, "value") for v in ("stripes", NAN, (1, 2, 0), -1)],
    *[(lambda v=v: sl.Tint(salience=v), ValueError, "salience") for v in (2, -0.5, NAN)],
    *[(lambda v=v: sl.Tint(color=v), ValueError, "color")
      for v in ((NAN, 0, 0), (2, 0, 0), (-1, 0, 0), (INF, 0, 0), (0, 0, NAN), [])],
    *[(lambda v=v: sl.Tint(color=v), TypeError, "color") for v in ("red", None, ("r", "g", "b"))],
    (lambda: sl.Pattern(), ValueError, "mask"),
    (lambda: sl.Pattern(mask=torch.ones(4, 4), fn=lambda x: x), ValueError, "fn"),
    (lambda: sl.Pattern(fn=3), TypeError, "fn"),
    (lambda: sl.Pattern(mask=torch.ones(2, 4, 4)), ValueError, "mask"),
    (lambda: sl.Pattern(mask=torch.full((4, 4), NAN)), ValueError, "mask"),
    (lambda: sl.Pattern(mask=torch.full((4, 4), 2.0)), ValueError, "mask"),
    (lambda: sl.Pattern(mask=-torch.ones(4, 4)), ValueError, "mask"),
    *[(lambda v=v: sl.Pattern(mask=torch.ones(4, 4), values=v), ValueError, "values")
      for v in (NAN, 2.0, -1.0, INF, (0.5, NAN, 0.5), np.full((1, 4, 4), NAN))],
    (lambda: sl.Pattern(mask=torch.ones(4, 4), values="white"), TypeError, "values"),
    *[(lambda v=v: sl.Pattern(fn=lambda x: x, salience=v), ValueError, "salience") for v in (1.5, NAN)],
    (lambda: sl.Pattern(fn=lambda x: x, name=3), TypeError, "name"),
    (lambda: sl.make_feature("stripes"), ValueError, "feature"),
    (lambda: sl.make_feature("line", salience=3), ValueError, "salience"),
    (lambda: sl.make_feature("patch", size=0), ValueError, "size"),
    (lambda: sl.make_feature("tint", color=(NAN, 0, 0)), ValueError, "color"),
    (lambda: sl.make_feature("line", colour=1), TypeError, "colour"),
    # apply: the images to stamp
    (lambda: sl.Line().apply(torch.rand(16, 16)), ValueError, ["images", "(N, C, H, W)"]),
    (lambda: sl.Line().apply(torch.rand(2, 16, 16)), ValueError, "images"),
    (lambda: sl.Line().apply([[0.1]]), TypeError, "images"),
    (lambda: sl.Line().apply(torch.rand(2, 16, 16, 3)), ValueError, ["images", "looks channels-last",
                                                                        "permute(0, 3, 1, 2)"]),
    (lambda: sl.Line().apply(np.random.rand(2, 16, 16, 1)), ValueError, ["images", "channels-last"]),
    (lambda: sl.Line().apply(torch.full((2, 1, 16, 16), NAN)), ValueError, ["images", "finite"]),
    (lambda: sl.Line().apply(torch.rand(2, 1, 16, 16) * 255), ValueError, ["images", "[0, 1]"]),
    (lambda: sl.Line().apply(-torch.rand(2, 1, 16, 16)), ValueError, ["images", "[0, 1]"]),
    (lambda: sl.Line().apply((torch.rand(2, 1, 16, 16) * 255).to(torch.uint8)), TypeError,
     ["images", "uint8"]),
    (lambda: sl.Line().apply(torch.zeros(2, 1, 16, 16, dtype=torch.int64)), TypeError, "images"),
    (lambda: sl.Line(thickness=20).apply(IMG), ValueError, "thickness"),
    (lambda: sl.Line(thickness=20, orientation="vertical").apply(IMG), ValueError, "thickness"),
    (lambda: sl.Patch(size=20).apply(IMG), ValueError, "size"),
    (lambda: sl.Line(value=(1, 0, 0, 1)).apply(RGB), ValueError, "value"),
    (lambda: sl.Line(value=(1, 0)).apply(RGB), ValueError, "value"),
    (lambda: sl.Pattern(mask=torch.ones(8, 8)).apply(IMG), ValueError, "mask"),
    (lambda: sl.Pattern(mask=torch.ones(16, 16), values=np.ones((2, 16, 8)) * 0.5).apply(IMG),
     ValueError, "values"),
    (lambda: sl.Pattern(fn=lambda x: x[:, :, :8]).apply(IMG), ValueError, "fn"),
    (lambda: sl.Pattern(fn=lambda x: x * NAN).apply(IMG), ValueError, ["fn", "finite"]),
    (lambda: sl.Tint().apply(torch.rand(2, 3, 16, 16, 1)), ValueError, "images"),
]


@pytest.mark.parametrize("call,exc,words", FEATURES, ids=_ids(FEATURES))
def test_features_refuse_bad_input(call, exc, words):
    _check(call, exc, words)


def test_features_accept_numpy_and_good_values():
    out = sl.Line(salience=1.0, value=0.5).apply(np.zeros((2, 1, 16, 16), dtype=np.float32))
    assert isinstance(out, np.ndarray) and out[0, 0, 8, 0] == 0.5
    assert sl.Tint(color=(1, 0, 0)).apply(RGB).shape == RGB.shape
    with pytest.raises(NotImplementedError, match="Eyeglasses"):
        Attribute("Eyeglasses").apply(IMG)


# --------------------------------------------------------------------------- metrics

P, L = [0, 1, 1, 2], [0, 1, 2, 2]
METRICS = [
    (lambda: sl.accuracy([0.0, 1.0], [0, 1]), TypeError, ["pred", "integers"]),
    (lambda: sl.accuracy([0, 1], [0.5, 1.0]), TypeError, ["labels", "integers"]),
    (lambda: sl.accuracy([True, False], [0, 1]), TypeError, "pred"),
    (lambda: sl.accuracy(["a", "b"], [0, 1]), TypeError, "pred"),
    (lambda: sl.accuracy([[0, 1]], [[0, 1]]), ValueError, ["pred", "1-D"]),
    (lambda: sl.accuracy([0, 1, 2], [0, 1]), ValueError, ["pred", "labels", "length"]),
    (lambda: sl.accuracy([0, -1], [0, 1]), ValueError, ["pred", "non-negative"]),
    (lambda: sl.accuracy(torch.tensor([0.0, 1.0]), torch.tensor([0, 1])), TypeError, "pred"),
    *[(lambda v=v: sl.spurious_misclassification_rate(P, L, v), TypeError, "target_class")
      for v in ("ring", 1.5, None, True, 4.0)],
    (lambda: sl.spurious_misclassification_rate(P, L, -1), ValueError, "target_class"),
    (lambda: sl.spurious_misclassification_rate([0, 0], [0, 0], 0), ValueError, "target_class"),
    (lambda: sl.spurious_misclassification_rate([0.0, 1.0], [0, 1], 0), TypeError, "pred"),
    (lambda: sl.spurious_misclassification_rate([0, 1], [0], 0), ValueError, "labels"),
    (lambda: sl.group_accuracies(P, L, [0.5, 1.0, 1.5, 0.0]), TypeError, ["groups", "integers"]),
    (lambda: sl.group_accuracies(P, L, [0.0, 1.0, 1.0, 0.0]), TypeError, "groups"),
    (lambda: sl.group_accuracies(P, L, [0, -1, 1, 0]), ValueError, "groups"),
    (lambda: sl.group_accuracies(P, L, [0, 5, 1, 0], num_groups=4), ValueError, ["groups", "num_groups"]),
    (lambda: sl.group_accuracies(P, L, [0, 1, 1]), ValueError, "groups"),
    (lambda: sl.group_accuracies(P, L, [[0, 1, 1, 0]]), ValueError, "groups"),
    (lambda: sl.group_accuracies(P, L, [0, 1, 1, 0], num_groups=0), ValueError, "num_groups"),
    (lambda: sl.group_accuracies(P, L, [0, 1, 1, 0], num_groups=2.5), TypeError, "num_groups"),
    (lambda: sl.group_accuracies(P, L, [0, 1, 1, 0], num_groups="4"), TypeError, "num_groups"),
    (lambda: sl.group_accuracies(P, L, ["a", "b", "a", "b"]), TypeError, "groups"),
    (lambda: sl.worst_group_accuracy(P, L, [0.5, 1.0, 1.5, 0.0]), TypeError, "groups"),
    (lambda: sl.worst_group_accuracy(P, L, [0, 1, 1, 0], num_groups=-1), ValueError, "num_groups"),
    (lambda: sl.group_balanced_accuracy(P, L, [0, 1, 1, 9], num_groups=4), ValueError, "groups"),
    (lambda: sl.group_balanced_accuracy([0.0] * 4, L, [0, 1, 1, 0]), TypeError, "pred"),
    (lambda: sl.average_accuracy(P, L, weights=[0.5, 0.5]), ValueError, ["groups", "weights"]),
    (lambda: sl.average_accuracy(P, L, [0, 1, 1, 0], weights=[NAN, 0.5]), ValueError, "weights"),
    (lambda: sl.average_accuracy(P, L, [0, 1, 1, 0], weights=[-0.5, 0.5]), ValueError, "weights"),
    (lambda: sl.average_accuracy(P, L, [0, 1, 1, 0], weights=[[0.5, 0.5]]), ValueError, "weights"),
    (lambda: sl.average_accuracy(P, L, [0, 1, 1, 0], weights="equal"), TypeError, "weights"),
    (lambda: sl.average_accuracy(P, L, [0, 1, 1, 3], weights=[0.5, 0.5]), ValueError, "groups"),
]


@pytest.mark.parametrize("call,exc,words", METRICS, ids=_ids(METRICS))
def test_metrics_refuse_bad_input(call, exc, words):
    _check(call, exc, words)


# --------------------------------------------------------------------------- training and models

def _train(images=X, labels=Y, model=None, **kw):
    return sl.train(model if model is not None else _m(), images, labels, progress=False, **kw)


TRAIN = [
    # images
    (lambda: _train(images=X.tolist()), TypeError, ["images", "torch.Tensor"]),
    (lambda: _train(images=X.numpy()), TypeError, ["images", "torch.from_numpy"]),
    (lambda: _train(images=X[:, 0]), ValueError, ["images", "(N, C, H, W)"]),
    (lambda: _train(images=X[None]), ValueError, "images"),
    (lambda: _train(images=X.permute(0, 2, 3, 1)), ValueError, ["images", "looks channels-last",
                                                               "images.permute(0, 3, 1, 2)"]),
    (lambda: _train(images=torch.rand(8, 16, 16, 3)), ValueError, ["images", "channels-last"]),
    (lambda: _train(images=X.double()), TypeError, ["images", "float64", "float32"]),
    (lambda: _train(images=X.half()), TypeError, ["images", "float16"]),
    (lambda: _train(images=(X * 255).long()), TypeError, ["images", "int64"]),
    (lambda: _train(images=X > 0.5), TypeError, ["images", "bool"]),
    (lambda: _train(images=X * NAN), ValueError, ["images", "finite", "NaN"]),
    (lambda: _train(images=X.clone().index_fill_(0, torch.tensor([2]), INF)), ValueError,
     ["images", "finite"]),
    (lambda: _train(images=X[:0], labels=Y[:0]), ValueError, ["images", "at least 2"]),
    (lambda: _train(images=X[:1], labels=Y[:1]), ValueError, ["images", "at least 2"]),
    # labels
    (lambda: _train(labels=Y.numpy()), TypeError, ["labels", "torch.Tensor"]),
    (lambda: _train(labels=Y.tolist()), TypeError, ["labels", "torch.Tensor"]),
    (lambda: _train(labels=Y.float()), TypeError, ["labels", "integer", "float32"]),
    (lambda: _train(labels=Y.double()), TypeError, ["labels", "float64"]),
    (lambda: _train(labels=Y > 2), TypeError, ["labels", "bool"]),
    (lambda: _train(labels=Y[:5]), ValueError, ["labels", "(8,)"]),
    (lambda: _train(labels=Y[:, None]), ValueError, ["labels", "(8,)"]),
    (lambda: _train(labels=Y + 6), ValueError, ["labels", "[0, 5]", "6 outputs"]),
    (lambda: _train(labels=Y - 1), ValueError, ["labels", "[0, 5]", "-1"]),
    (lambda: _train(labels=Y, model=_m(num_classes=3)), ValueError, ["labels", "[0, 2]"]),
    (lambda: _train(labels=Y.int() + 10), ValueError, "labels"),
    # the model against the data
    (lambda: _train(model="tiny"), TypeError, ["model", "torch.nn.Module"]),
    (lambda: _train(model=None or torch.nn.Identity()), ValueError, ["model", "parameters"]),
    (lambda: _train(images=torch.rand(8, 3, 16, 16)), ValueError, ["3 channel", "takes 1",
                                                                   "in_channels=3"]),
    (lambda: _train(model=_m(in_channels=3)), ValueError, ["1 channel", "takes 3"]),
    (lambda: _train(images=torch.rand(8, 1, 32, 32)), ValueError, ["32x32", "image_size=16"]),
    (lambda: _train(images=torch.rand(8, 1, 8, 8)), ValueError, ["8x8", "image_size=16"]),
    (lambda: _train(images=torch.rand(8, 1, 1, 1)), ValueError, ["1x1", "too small"]),
    (lambda: _train(images=torch.rand(8, 1, 16, 24)), ValueError, ["16x24", "image_size"]),
    (lambda: _train(model=_m(name="resnet18", in_channels=3, num_classes=10)), ValueError,
     ["1 channel", "takes 3"]),
    (lambda: _train(model=torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(10, 6))),
     ValueError, ["images", "do not fit the model"]),
    (lambda: _train(model=torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(256, 1))),
     ValueError, ["model", "num_classes"]),
    # settings
    *[(lambda v=v: _train(epochs=v), ValueError, "epochs") for v in (0, -1)],
    *[(lambda v=v: _train(epochs=v), TypeError, "epochs") for v in (1.5, "3", None, True)],
    *[(lambda v=v: _train(batch_size=v), ValueError, "batch_size") for v in (1, 0, -5)],
    *[(lambda v=v: _train(batch_size=v), TypeError, "batch_size") for v in (2.5, "64")],
    *[(lambda v=v: _train(lr=v), ValueError, "lr") for v in (0, -1, NAN, INF, 11)],
    *[(lambda v=v: _train(lr=v), TypeError, "lr") for v in ("fast", None)],
    *[(lambda v=v: _train(momentum=v), ValueError, "momentum") for v in (1, -0.1, NAN)],
    *[(lambda v=v: _train(weight_decay=v), ValueError, "weight_decay") for v in (-1, 2, NAN)],
    *[(lambda v=v: _train(schedule=v), ValueError, "schedule") for v in ("step", "", None)],
    *[(lambda v=v: _train(seed=v), ValueError, "seed") for v in (-1, 2 ** 63)],
    *[(lambda v=v: _train(seed=v), TypeError, "seed") for v in (1.5, "0", None)],
    *[(lambda v=v: _train(epochs=3, stop_epoch=v), ValueError, "stop_epoch") for v in (0, 4, 99)],
    (lambda: _train(stop_epoch=1.0), TypeError, "stop_epoch"),
    *[(lambda v=v: _train(callback=v), TypeError, "callback") for v in (3, "print")],
    *[(lambda v=v: _train(precision=v), ValueError, "precision") for v in ("fp16", "half", None or 16)],
    *[(lambda v=v: _train(device=v), ValueError, "device") for v in ("gpu", "tpu", "cpux")],
    (lambda: _train(device=0.5), TypeError, "device"),
]


@pytest.mark.parametrize("call,exc,words", TRAIN, ids=_ids(TRAIN))
def test_train_refuses_bad_input_before_training(call, exc, words, monkeypatch):
    def no_training(*a, **k):
        raise AssertionError("training started: the check came too late")

    monkeypatch.setattr(torch.optim, "SGD", no_training)
    _check(call, exc, words)


PREDICT_MODELS_SCORES = [
    (lambda: sl.predict(_m(), X.permute(0, 2, 3, 1)), ValueError, ["images", "channels-last"]),
    (lambda: sl.predict(_m(), X[:, 0]), ValueError, "images"),
    (lambda: sl.predict(_m(), X.double()), TypeError, ["images", "float64"]),
    (lambda: sl.predict(_m(), X * NAN), ValueError, ["images", "finite"]),
    (lambda: sl.predict(_m(), torch.rand(2, 3, 16, 16)), ValueError, ["3 channel", "takes 1"]),
    (lambda: sl.predict(_m(), torch.rand(2, 1, 28, 28)), ValueError, ["28x28", "image_size=16"]),
    (lambda: sl.predict(_m(), X.numpy()), TypeError, "images"),
    (lambda: sl.predict_logits(_m(), X, batch_size=0), ValueError, "batch_size"),
    (lambda: sl.predict_logits(_m(), X, batch_size=1.5), TypeError, "batch_size"),
    (lambda: sl.predict_logits(_m(), X, precision="fp16"), ValueError, "precision"),
    (lambda: sl.predict_logits(_m(), X, device="gpu"), ValueError, "device"),
    (lambda: sl.predict_logits("model", X), TypeError, "model"),
    *[(lambda v=v: sl.make_model(v), ValueError, "model") for v in ("vgg16", "", None, "ResNet18")],
    *[(lambda v=v: sl.make_model(in_channels=v), ValueError, "in_channels") for v in (0, -3)],
    *[(lambda v=v: sl.make_model(in_channels=v), TypeError, "in_channels") for v in (1.5, "1")],
    *[(lambda v=v: sl.make_model(num_classes=v), ValueError, "num_classes") for v in (1, 0)],
    *[(lambda v=v: sl.make_model(num_classes=v), TypeError, "num_classes") for v in ("6", 6.0)],
    *[(lambda v=v: sl.make_model(image_size=v), ValueError, "image_size") for v in (4, 7, 0)],
    (lambda: sl.make_model(image_size=16.0), TypeError, "image_size"),
    *[(lambda v=v: sl.make_model(seed=v), ValueError, "seed") for v in (-1, 2 ** 64)],
    (lambda: sl.make_model(seed="x"), TypeError, "seed"),
    (lambda: sl.make_model("resnet50", in_channels=1), ValueError, "in_channels"),
    (lambda: sl.el2n(_m(), X, Y + 6), ValueError, ["labels", "[0, 5]"]),
    (lambda: sl.el2n(_m(), X, Y.float()), TypeError, "labels"),
    (lambda: sl.el2n(_m(), X, Y[:3]), ValueError, ["labels", "(8,)"]),
    (lambda: sl.el2n(_m(), X.permute(0, 2, 3, 1), Y), ValueError, ["images", "channels-last"]),
    (lambda: sl.el2n(_m(in_channels=3), X, Y), ValueError, ["1 channel", "takes 3"]),
    (lambda: loss_scores(_m(), X, Y - 1), ValueError, "labels"),
    (lambda: loss_scores(_m(), X.double(), Y), TypeError, "images"),
    (lambda: margin_scores(_m(), X, Y + 100), ValueError, "labels"),
    (lambda: margin_scores(_m(), X, Y.numpy()), TypeError, "labels"),
    (lambda: grand(_m(), X, Y + 6), ValueError, "labels"),
    (lambda: grand(_m(), X, Y, batch_size=0), ValueError, "batch_size"),
    (lambda: grand(_m(), X, Y, precision="fp16"), ValueError, "precision"),
    (lambda: grand(_m(), torch.rand(8, 1, 32, 32), Y), ValueError, "image_size"),
    (lambda: sl.difficulty(_m(), X, Y, "entropy"), ValueError, "score"),
    (lambda: sl.difficulty(_m(), X, Y, "forgetting"), ValueError, ["score", "ForgettingTracker"]),
    (lambda: sl.difficulty(_m(), X, Y + 6, "margin"), ValueError, "labels"),
    (lambda: ForgettingTracker(X, Y.float()), TypeError, "labels"),
    (lambda: ForgettingTracker(X, Y, batch_size=0), ValueError, "batch_size"),
    (lambda: ForgettingTracker(X[:, 0], Y), ValueError, "images"),
    (lambda: ForgettingTracker(X, Y).scores(), ValueError, ["ForgettingTracker", "callback"]),
]


@pytest.mark.parametrize("call,exc,words", PREDICT_MODELS_SCORES, ids=_ids(PREDICT_MODELS_SCORES))
def test_predict_models_and_scores_refuse_bad_input(call, exc, words):
    _check(call, exc, words)


def test_poor_inputs_that_are_fine_now():
    m = _m()
    hist = sl.train(m, X, Y.int(), epochs=1, progress=False)          # int32 labels: widened
    assert hist[0]["epoch"] == 1
    assert sl.predict(m, X[:0]).shape == (0,)                          # no images, no predictions
    assert sl.predict_logits(m, X[:0]).shape == (0, 6)
    assert sl.el2n(m, X[:0], Y[:0]).shape == (0,)


# --------------------------------------------------------------------------- datasets

IMGS, LABS = torch.rand(6, 1, 8, 8), torch.tensor([0, 1, 0, 1, 0, 1])
DATASETS = [
    (lambda: sl.from_tensors(torch.rand(6, 8, 8, 3), LABS), ValueError,
     ["images", "looks channels-last", "images.permute(0, 3, 1, 2)"]),
    (lambda: sl.from_tensors(np.random.rand(6, 8, 8, 1), LABS), ValueError, ["images", "channels-last"]),
    (lambda: sl.from_tensors(torch.rand(6, 32, 32, 3), LABS), ValueError, ["images", "(6, 3, 32, 32)"]),
    (lambda: sl.from_tensors(torch.rand(6, 8), LABS), ValueError, ["images", "(N, C, H, W)"]),
    (lambda: sl.from_tensors(torch.rand(6, 1, 1, 8, 8), LABS), ValueError, "images"),
    (lambda: sl.from_tensors(torch.rand(6, 1, 1, 1), LABS), ValueError, ["images", "8x8", "1x1"]),
    (lambda: sl.from_tensors(torch.rand(6, 1, 4, 4), LABS), ValueError, ["images", "8x8"]),
    (lambda: sl.from_tensors(torch.rand(6, 1, 8, 8) * 255, LABS), ValueError, ["images", "[0, 1]"]),
    (lambda: sl.from_tensors(-torch.rand(6, 1, 8, 8), LABS), ValueError, ["images", "[0, 1]"]),
    (lambda: sl.from_tensors(torch.full((6, 1, 8, 8), NAN), LABS), ValueError, ["images", "NaN"]),
    (lambda: sl.from_tensors(torch.full((6, 1, 8, 8), INF), LABS), ValueError, ["images", "finite"]),
    (lambda: sl.from_tensors(torch.zeros(6, 1, 8, 8, dtype=torch.int64), LABS), TypeError,
     ["images", "int64"]),
    (lambda: sl.from_tensors(np.array([["a"] * 8] * 8, dtype=object), LABS), TypeError, "images"),
    (lambda: sl.from_tensors("images.npy", LABS), TypeError, "images"),
    (lambda: sl.from_tensors(torch.rand(0, 1, 8, 8), torch.zeros(0, dtype=torch.long)), ValueError,
     ["images", "at least one"]),
    (lambda: sl.from_tensors(IMGS, LABS.float()), TypeError, ["labels", "integers"]),
    (lambda: sl.from_tensors(IMGS, LABS.bool()), TypeError, "labels"),
    (lambda: sl.from_tensors(IMGS, LABS[:4]), ValueError, ["labels", "(6,)"]),
    (lambda: sl.from_tensors(IMGS, LABS[:, None]), ValueError, "labels"),
    (lambda: sl.from_tensors(IMGS, LABS - 1), ValueError, ["labels", "0..K-1"]),
    (lambda: sl.from_tensors(IMGS, LABS, classes=["a"]), ValueError, ["labels", "len(classes)"]),
    (lambda: sl.from_tensors(IMGS, torch.tensor([0, 2, 0, 2, 0, 2])), ValueError,
     ["labels", "cover every class"]),
    (lambda: sl.from_tensors(IMGS, torch.zeros(6, dtype=torch.long)), ValueError,
     ["labels", "at least 2 classes"]),
    (lambda: sl.from_tensors(IMGS, LABS, classes="ab"), TypeError, "classes"),
    (lambda: sl.from_tensors(IMGS, LABS, classes=["a", "a"]), ValueError, ["classes", "distinct"]),
    (lambda: sl.from_tensors(IMGS, LABS, difficulty=[0.1] * 5), ValueError, ["difficulty", "(6,)"]),
    (lambda: sl.from_tensors(IMGS, LABS, difficulty=[NAN] * 6), ValueError, ["difficulty", "NaN"]),
    (lambda: sl.from_tensors(IMGS, LABS, difficulty=["hard"] * 6), TypeError, "difficulty"),
    (lambda: sl.from_tensors(IMGS, LABS, name=3), TypeError, "name"),
    (lambda: sl.from_tensors(IMGS, LABS, name=""), TypeError, "name"),
    (lambda: sl.load_dataset("imagenet"), ValueError, "dataset"),
    (lambda: sl.load_dataset("shapes", n_train=10), ValueError, "n_train"),
    (lambda: sl.load_dataset("shapes", n_test=5), ValueError, "n_test"),
    (lambda: sl.load_dataset("shapes", seed=-1), ValueError, "seed"),
    (lambda: sl.make_shapes(5), ValueError, "n"),
    (lambda: sl.make_shapes(600, size=4), ValueError, "size"),
    (lambda: sl.make_shapes(600, size=128), ValueError, "size"),
    (lambda: sl.make_shapes(600, hard_fraction=1.5), ValueError, "hard_fraction"),
    (lambda: sl.make_shapes(600, hard_fraction="most"), TypeError, "hard_fraction"),
    (lambda: sl.train_test_split(sl.make_shapes(60), 1.0), ValueError, "test_fraction"),
    (lambda: sl.train_test_split(sl.make_shapes(60), 0.0), ValueError, "test_fraction"),
    (lambda: sl.class_names("imagenet"), ValueError, "dataset"),
]


@pytest.mark.parametrize("call,exc,words", DATASETS, ids=_ids(DATASETS))
def test_datasets_refuse_bad_input(call, exc, words):
    _check(call, exc, words)


# --------------------------------------------------------------------------- device

DEVICE = [
    *[(lambda v=v: sl.get_device(v), ValueError, ["device", repr(v)]) for v in ("gpu", "tpu", "cuda:x")],
    *[(lambda v=v: sl.get_device(v), TypeError, "device") for v in (0.5, ["cpu"])],
    *[(lambda v=v: configure_threads(v), ValueError, "threads") for v in (0, -2)],
    *[(lambda v=v: configure_threads(v), TypeError, "threads") for v in (1.5, "2")],
]
if not torch.cuda.is_available():
    DEVICE += [(lambda: sl.get_device("cuda"), ValueError, ["device", "CUDA"]),
               (lambda: sl.get_device("cuda:1"), ValueError, ["device", "CUDA"])]


@pytest.mark.parametrize("call,exc,words", DEVICE, ids=_ids(DEVICE))
def test_device_refuses_bad_input(call, exc, words):
    _check(call, exc, words)


# --------------------------------------------------------------------------- widget panels

def _controls():
    return {
        "salience": slider("salience", 0.5, 0.0, 1.0, 0.05),
        "k": w.IntSlider(value=10, min=10, max=20, step=10),
        "band": w.IntRangeSlider(value=(80, 100), min=0, max=100, step=10),
        "span": w.FloatRangeSlider(value=(0.2, 0.8), min=0.0, max=1.0),
        "pattern": w.Dropdown(options=["line", "patch"], value="line"),
        "arm": w.RadioButtons(options=["hardest", "random"], value="hardest"),
        "mode": w.ToggleButtons(options=["quick", "full"], value="quick"),
        "level": w.SelectionSlider(options=[1, 2, 3], value=1),
        "flag": w.Checkbox(value=False),
        "note": w.Text(value="hi"),
        "lr": w.FloatLogSlider(value=0.05, base=10, min=-3, max=0),
        "ratio": w.BoundedFloatText(value=0.25, min=0.0, max=0.5),
        "upweight": w.BoundedIntText(value=5, min=1, max=20),
    }


def _panel():
    return Panel(_controls(), lambda **kw: kw)


PANEL_SET = [
    *[("salience", v, ValueError, "salience") for v in (5, -0.1, 1.01, NAN, INF, -INF)],
    *[("salience", v, TypeError, "salience") for v in ("0.5", None, True, [0.5])],
    *[("k", v, ValueError, "k") for v in (30, 9, -10, 0)],
    *[("k", v, TypeError, "k") for v in (15.5, "20", True, None, 10.0)],
    *[("band", v, ValueError, "band") for v in ((100, 80), (0, 110), (-10, 50))],
    *[("band", v, TypeError, "band") for v in (50, (1, 2, 3), "0-100", (0.5, 50))],
    *[("span", v, ValueError, "span") for v in ((0.9, 0.1), (0.0, 1.5), (NAN, 0.5))],
    *[("span", v, TypeError, "span") for v in (0.5, ("a", "b"))],
    *[("pattern", v, ValueError, ["pattern", "'line', 'patch'"]) for v in ("stripes", "Line", 0, None)],
    *[("arm", v, ValueError, "arm") for v in ("easiest", 1)],
    *[("mode", v, ValueError, "mode") for v in ("smoke", "")],
    *[("level", v, ValueError, "level") for v in (4, "1", 1.5)],
    *[("flag", v, TypeError, "flag") for v in ("yes", 1, None)],
    *[("note", v, TypeError, "note") for v in (3, None)],
    *[("lr", v, ValueError, "lr") for v in (5.0, 1e-4, NAN)],
    *[("ratio", v, ValueError, "ratio") for v in (0.6, -0.1)],
    *[("upweight", v, ValueError, "upweight") for v in (0, 21)],
    ("upweight", 2.5, TypeError, "upweight"),
    ("nope", 1, KeyError, "nope"),
    ("Salience", 0.5, KeyError, "Salience"),
]


@pytest.mark.parametrize("name,value,exc,words", PANEL_SET, ids=_ids(PANEL_SET))
def test_panel_set_checks_each_control_and_sets_nothing_on_error(name, value, exc, words):
    p = _panel()
    before = p.values()
    msg = _check(lambda: p.set(**{"ratio": 0.3, name: value}), exc, words)
    if exc is not KeyError and not isinstance(value, (list, tuple)) and not (
            isinstance(value, float) and math.isnan(value)):
        assert repr(value) in msg or str(value) in msg, msg           # the value is named too
    assert p.values() == before, "a value was set although another was refused"
    assert p.set(ratio=0.3).values()["ratio"] == 0.3                # still usable


def _compute(**kw):
    return kw


PANEL_BUILD = [
    (lambda: Panel([("x", slider("x", 0.5, 0, 1, 0.1))], _compute), TypeError, "controls"),
    (lambda: Panel({"x": 0.5}, _compute), TypeError, ["controls['x']", "widget"]),
    (lambda: Panel({"x": w.Button()}, _compute), TypeError, "controls['x']"),
    (lambda: Panel({"my x": slider("x", 0.5, 0, 1, 0.1)}, _compute), ValueError, ["controls", "'my x'"]),
    (lambda: Panel({1: slider("x", 0.5, 0, 1, 0.1)}, _compute), ValueError, "controls"),
    (lambda: Panel({"x": slider("x", 0.5, 0, 1, 0.1)}, "compute"), TypeError, "compute"),
    (lambda: Panel({"x": slider("x", 0.5, 0, 1, 0.1)}, lambda y: y), TypeError, ["compute", "x"]),
    (lambda: Panel({"x": slider("x", 0.5, 0, 1, 0.1)}, lambda: 1), TypeError, ["compute", "x"]),
    (lambda: Panel({"x": slider("x", 0.5, 0, 1, 0.1)}, _compute, title=3), TypeError, "title"),
    *[(lambda v=v: Panel({}, _compute, budget_s=v), ValueError, "budget_s") for v in (0, -5, NAN)],
    (lambda: Panel({}, _compute, budget_s="5"), TypeError, "budget_s"),
    *[(lambda v=v: Panel({}, _compute, auto=v), TypeError, "auto") for v in ("yes", 1, None)],
    (lambda: slider("x", 1.5, 0.0, 1.0, 0.1), ValueError, ["value", "[0, 1]"]),
    (lambda: slider("x", -1, 0.0, 1.0, 0.1), ValueError, "value"),
    (lambda: slider("x", NAN, 0.0, 1.0, 0.1), ValueError, "value"),
    (lambda: slider("x", 0.5, 1.0, 0.0, 0.1), ValueError, ["low", "high"]),
    (lambda: slider("x", 0.5, 0.5, 0.5, 0.1), ValueError, ["low", "high"]),
    (lambda: slider("x", 0.5, NAN, 1.0, 0.1), ValueError, "low"),
    (lambda: slider("x", 0.5, 0.0, INF, 0.1), ValueError, "high"),
    (lambda: slider("x", 0.5, 0.0, 1.0, 0), ValueError, "step"),
    (lambda: slider("x", 0.5, 0.0, 1.0, -0.1), ValueError, "step"),
    (lambda: slider("x", 0.5, 0.0, 1.0, 2.0), ValueError, "step"),
    (lambda: slider("x", "0.5", 0.0, 1.0, 0.1), TypeError, "value"),
    (lambda: slider(3, 0.5, 0.0, 1.0, 0.1), TypeError, "description"),
    (lambda: slider("x", 0.5, 0.0, 1.0, 0.1, fmt=2), TypeError, "fmt"),
]


@pytest.mark.parametrize("call,exc,words", PANEL_BUILD, ids=_ids(PANEL_BUILD))
def test_panel_and_slider_refuse_bad_construction(call, exc, words):
    _check(call, exc, words)


class _Boom(Exception):
    pass


COMPUTE_FAULTS = [
    (IndexError("list index out of range"), "IndexError"),
    (KeyError("salience"), "KeyError"),
    (ZeroDivisionError("division by zero"), "ZeroDivisionError"),
    (AttributeError("'NoneType' object has no attribute 'smr'"), "AttributeError"),
    (AssertionError("claim failed"), "AssertionError"),
    (NotImplementedError("not yet"), "NotImplementedError"),
    (OSError("disk full"), "OSError"),
    (FileNotFoundError("no such file"), "FileNotFoundError"),
    (MemoryError("out of memory"), "MemoryError"),
    (RecursionError("too deep"), "RecursionError"),
    (StopIteration(), "StopIteration"),
    (LookupError("missing"), "LookupError"),
    (ArithmeticError("overflow"), "ArithmeticError"),
    (_Boom("custom"), "_Boom"),
    (ValueError("salience must be in [0, 1]"), "salience"),
    (TypeError("prune_ratio must be a number"), "prune_ratio"),
    (RuntimeError("CUDA error"), "CUDA"),
    (sl.TrainingDiverged("training diverged (lr=10 may be too high)"), "lr"),
]


@pytest.mark.parametrize("error,word", COMPUTE_FAULTS, ids=[f"{i:03d}-{type(e).__name__}"
                                                             for i, (e, _) in enumerate(COMPUTE_FAULTS)])
def test_panel_shows_any_compute_error_and_never_stays_recomputing(error, word, capsys):
    calls = []

    def compute(x):
        calls.append(x)
        if len(calls) == 1:
            raise error
        return x * 2

    p = Panel({"x": slider("x", 0.5, 0, 1, 0.1)}, compute)
    assert p.run() is None
    assert type(p.error) is type(error)
    assert "recomputing" not in p.status.value and "error" in p.status.value
    assert not p.button.disabled
    shown = "".join(o.get("text", "") for o in p.output.outputs) + capsys.readouterr().out
    assert word in shown, shown
    assert p.set(x=0.4).run() == 0.8 and p.error is None        # usable again


# --------------------------------------------------------------------------- command line: files

@pytest.fixture
def readonly_dir(tmp_path, monkeypatch):
    """A folder this process cannot write into (chmod 555; as root, where permission bits do
    not bind, the write permission is denied through os.access for that folder)."""
    d = tmp_path / "readonly"
    d.mkdir()
    d.chmod(0o555)
    if os.access(d, os.W_OK):
        real = os.access

        def access(path, mode, *a, **k):
            if mode & os.W_OK and os.path.abspath(path).startswith(str(d)):
                return False
            return real(path, mode, *a, **k)

        monkeypatch.setattr(os, "access", access)
    yield d
    d.chmod(0o755)


def _cli_cases():
    # (argv built from tmp paths, word(s) the one-line message must contain)
    def p(*parts):
        return lambda tmp, ro: str(tmp.joinpath(*parts))

    folder = lambda tmp, ro: str(tmp)                 # noqa: E731 - a path that is a folder
    in_file = lambda tmp, ro: str(tmp / "afile" / "out.json")  # noqa: E731 - under a file
    deep_file = lambda tmp, ro: str(tmp / "afile" / "sub" / "x.png")  # noqa: E731
    ro_file = lambda tmp, ro: str(ro / "out.json")    # noqa: E731 - in a read-only folder
    ro_new = lambda tmp, ro: str(ro / "new" / "out.json")  # noqa: E731 - a folder it cannot make
    ro_png = lambda tmp, ro: str(ro / "fig.png")      # noqa: E731

    def fifo(tmp, ro):                                # a named pipe where the file would go
        if not (tmp / "pipe").exists():
            os.mkfifo(tmp / "pipe")
        return str(tmp / "pipe")

    def link(tmp, ro):                                # a link to a file: writing replaces the link
        if not (tmp / "link.json").is_symlink():
            os.symlink(tmp / "afile", tmp / "link.json")
        return str(tmp / "link.json")

    long_name = lambda tmp, ro: str(tmp / ("x" * 300 + ".json"))  # noqa: E731 - too long a name
    cases = []
    for cmd in (["demo"], ["run", "epochs=1 score_epoch=1"]):
        name = cmd[0]
        cases += [
            (name, cmd + ["--json", folder], ["--json", "folder"]),
            (name, cmd + ["--json", in_file], ["--json", "afile", "not a folder"]),
            (name, cmd + ["--json", ro_file], ["--json", "read-only"]),
            (name, cmd + ["--json", ro_new], ["--json", "read-only"]),
            (name, cmd + ["--figure", folder], ["--figure", "folder"]),
            (name, cmd + ["--figure", in_file], ["--figure", "not a folder"]),
            (name, cmd + ["--figure", deep_file], ["--figure", "not a folder"]),
            (name, cmd + ["--figure", ro_png], ["--figure", "read-only"]),
            (name, cmd + ["--figure", p("fig.xyz")], ["--figure", ".png", "fig.xyz"]),
            (name, cmd + ["--figure", p("fig.docx")], ["--figure", ".pdf"]),
            (name, cmd + ["--json", p("same.png"), "--figure", p("same.png")], ["--json", "--figure"]),
            (name, cmd + ["--json", "/dev/stdout"], ["--json", "link"]),
            (name, cmd + ["--json", "/dev/null"], ["--json", "regular file"]),
            (name, cmd + ["--json", fifo], ["--json", "regular file"]),
            (name, cmd + ["--figure", link], ["--figure", "link"]),
            (name, cmd + ["--json", long_name], ["--json", "too long"]),
        ]
    cases += [
        ("reproduce", ["reproduce", "cifar10s", "--out", p("afile")], ["--out", "existing file"]),
        ("reproduce", ["reproduce", "cifar10s", "--out", lambda tmp, ro: str(tmp / "afile" / "r")],
         ["--out", "not a folder"]),
        ("reproduce", ["reproduce", "cifar10s", "--out", lambda tmp, ro: str(ro)], ["--out", "read-only"]),
        ("reproduce", ["reproduce", "cifar10s", "--out", lambda tmp, ro: str(ro / "runs")],
         ["--out", "read-only"]),
        ("reproduce", ["reproduce", "cifar10s", "--out", p("o"), "--prune-ratios", "a,b"],
         "--prune-ratios"),
        ("demo", ["demo", "--seed", "-3"], "--seed"),
    ]
    return cases


CLI = _cli_cases()


@pytest.mark.parametrize("cmd,argv,words", CLI, ids=[f"{i:03d}-{c}-{a[-2] if len(a) > 2 else a[-1]}"
                                                     for i, (c, a, _) in enumerate(CLI)])
def test_cli_checks_outputs_before_any_training(cmd, argv, words, tmp_path, readonly_dir, capsys,
                                                monkeypatch):
    (tmp_path / "afile").write_text("not a folder")

    def no_training(*a, **k):
        raise AssertionError("training started: the check came too late")

    monkeypatch.setattr(torch.optim, "SGD", no_training)
    args = [a(tmp_path, readonly_dir) if callable(a) else a for a in argv]
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("spurlab: error:") and "\n" not in err and "Traceback" not in err, err
    for word in [words] if isinstance(words, str) else words:
        assert word in err, err
    assert not (tmp_path / "afile").is_dir() and not any(readonly_dir.iterdir())


CLI_SUBPROCESS = [
    (["demo", "--json", "{tmp}"], "--json"),
    (["run", "default", "--figure", "{tmp}/x.xyz"], "--figure"),
    (["reproduce", "celeba", "--out", "{tmp}/afile"], "--out"),
]


@pytest.mark.parametrize("argv,word", CLI_SUBPROCESS, ids=[w for _, w in CLI_SUBPROCESS])
def test_console_script_exits_2_with_one_line(argv, word, tmp_path):
    (tmp_path / "afile").write_text("x")
    args = [a.format(tmp=tmp_path) for a in argv]
    proc = subprocess.run([sys.executable, "-m", "spurlab.cli", *args], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    err = proc.stderr.strip()
    assert err.startswith("spurlab: error:") and word in err and "Traceback" not in err, err
