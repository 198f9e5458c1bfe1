"""Per-sample difficulty scores: EL2N, loss, margin, GraNd and forgetting events.

All scores are computed batched, in eval mode, for any number of classes. By convention the
dispatcher :func:`difficulty` returns *hardness*: higher means harder (margin is negated there).

- **EL2N** (Paul et al., 2021): ``||softmax(f(x)) - onehot(y)||_2``, early in training.
- **loss**: per-sample cross-entropy.
- **margin**: true-class logit minus the largest other logit (low = hard).
- **GraNd**: L2 norm of the per-sample gradient of the loss w.r.t. all parameters
  (vectorised with ``torch.func``).
- **forgetting events** (Toneva et al., 2019): how often a sample goes from correctly to
  incorrectly classified between epochs; samples never learned count as ``epochs`` events.
"""

from __future__ import annotations

import contextlib

import numpy as np
import torch
import torch.nn.functional as F

from ._validate import check_choice, check_int, check_labels
from .train import _check_images, _num_classes, as_float, predict_logits

SCORES = ("el2n", "loss", "margin", "grand", "forgetting")


def _check(images, labels, model=None):
    """Images and labels (checked against ``model`` when given: dtype, fit, label range);
    returns the labels as int64."""
    _check_images(images, model)
    labels = check_labels("labels", labels, len(images))
    if model is not None:
        check_labels("labels", labels, len(images), _num_classes(model, images))
    return labels


def el2n(model, images, labels, *, batch_size=1024):
    """EL2N score per sample: L2 distance between softmax output and one-hot label.

    Examples
    --------
    >>> import torch
    >>> from spurlab import make_model
    >>> s = el2n(make_model(), torch.rand(4, 1, 16, 16), torch.tensor([0, 1, 2, 3]))
    >>> s.shape, bool((s >= 0).all() and (s <= 2 ** 0.5).all())
    (torch.Size([4]), True)
    """
    labels = _check(images, labels, model)
    p = predict_logits(model, images, batch_size=batch_size).softmax(1)
    p[torch.arange(len(p)), labels] -= 1
    return p.norm(dim=1)


def loss_scores(model, images, labels, *, batch_size=1024):
    """Per-sample cross-entropy loss."""
    labels = _check(images, labels, model)
    return F.cross_entropy(predict_logits(model, images, batch_size=batch_size), labels,
                           reduction="none")


def margin_scores(model, images, labels, *, batch_size=1024):
    """True-class logit minus the largest other logit (negative when misclassified)."""
    labels = _check(images, labels, model)
    z = predict_logits(model, images, batch_size=batch_size)
    true = z[torch.arange(len(z)), labels]
    z[torch.arange(len(z)), labels] = -float("inf")
    return true - z.max(1).values


def grand(model, images, labels, *, batch_size=256, precision="fp32"):
    """GraNd: per-sample gradient norm of the loss w.r.t. all parameters (eval mode).

    Uses ``torch.func.vmap`` over per-sample gradients: one vectorised pass per batch instead
    of one backward pass per sample. ``precision='bf16'`` computes them under bf16 autocast
    with the parameters and buffers cast to bf16 as well (torch's vmap rule for batch norm has
    no mixed-dtype path); norms are summed in float32.
    """
    from torch.func import functional_call, grad, vmap

    labels = _check(images, labels, model)
    batch_size = check_int("batch_size", batch_size, low=1)
    check_choice("precision", precision, ("fp32", "bf16"))
    was_training = model.training
    model.eval()
    dev = next(model.parameters()).device
    cast = torch.bfloat16 if precision == "bf16" else None

    def _cast(v):
        return v.detach().to(cast) if cast is not None and v.is_floating_point() else v.detach()

    params = {k: _cast(v) for k, v in model.named_parameters()}
    buffers = {k: _cast(v) for k, v in model.named_buffers()}

    def loss_one(p, x, y):
        out = functional_call(model, (p, buffers), (x.unsqueeze(0),))
        return F.cross_entropy(out.float(), y.unsqueeze(0))

    per_sample = vmap(grad(loss_one), in_dims=(None, 0, 0))
    out = []
    auto = (torch.autocast(dev.type, dtype=torch.bfloat16) if cast is not None
            else contextlib.nullcontext())
    try:
        with auto:
            for s in range(0, len(images), batch_size):
                x = as_float(images[s:s + batch_size].to(dev))
                g = per_sample(params, x if cast is None else x.to(cast),
                               labels[s:s + batch_size].to(dev))
                sq = sum(v.float().pow(2).flatten(1).sum(1) for v in g.values())
                out.append(sq.sqrt().cpu())
    finally:
        model.train(was_training)
    return torch.cat(out) if out else torch.zeros(0)


class ForgettingTracker:
    """Callback for :func:`spurlab.train` that counts forgetting events per sample.

    Examples
    --------
    >>> from spurlab import load_dataset, make_model, train
    >>> tr, _ = load_dataset("shapes", n_train=300, n_test=60)
    >>> tracker = ForgettingTracker(tr.images, tr.labels)
    >>> _ = train(make_model(), tr.images, tr.labels, epochs=2, callback=tracker, progress=False)
    >>> tracker.scores().shape
    torch.Size([300])
    """

    def __init__(self, images, labels, *, batch_size=1024):
        labels = _check(images, labels)
        batch_size = check_int("batch_size", batch_size, low=1)
        self.images, self.labels, self.batch_size = images, labels, batch_size
        self.correct = []  # one bool tensor per epoch

    def __call__(self, epoch, model):
        pred = predict_logits(model, self.images, batch_size=self.batch_size).argmax(1)
        self.correct.append(pred == self.labels)

    def scores(self):
        """Forgetting events per sample (never-learned samples get the number of epochs)."""
        if not self.correct:
            raise ValueError("ForgettingTracker has recorded no epoch; pass it as callback= to train")
        c = torch.stack(self.correct)  # (epochs, N)
        events = (c[:-1] & ~c[1:]).sum(0).float()
        never = ~c.any(0)
        events[never] = float(len(c))
        return events


def difficulty(model, images, labels, method="el2n", **kwargs):
    """Hardness score per sample by name (higher = harder; margin is negated).

    Parameters
    ----------
    method : {'el2n', 'loss', 'margin', 'grand'}
        ``'forgetting'`` needs the whole training run: use :class:`ForgettingTracker`.

    Examples
    --------
    >>> import torch
    >>> from spurlab import make_model
    >>> difficulty(make_model(), torch.rand(3, 1, 16, 16), torch.tensor([0, 1, 2]), "margin").shape
    torch.Size([3])
    """
    check_choice("score", method, SCORES)
    if method == "forgetting":
        raise ValueError("score='forgetting' is recorded during training: pass "
                         "ForgettingTracker(images, labels) as callback= to spurlab.train")
    fn = {"el2n": el2n, "loss": loss_scores, "grand": grand,
          "margin": lambda *a, **k: -margin_scores(*a, **k)}[method]
    return fn(model, images, labels, **kwargs)


def percentile_within(scores, index, among):
    """Percentile (0-100) of each sample in ``index`` among the samples in ``among``.

    Used for the *regime indicator*: the carriers' mean difficulty percentile within ``c1``
    (about 50 = spread evenly, weak signal; low = bunched among the easiest, strong signal).
    """
    s = np.asarray(scores, dtype=np.float64)
    ref = np.sort(s[np.asarray(among)])
    v = s[np.asarray(index)]
    lo = np.searchsorted(ref, v, side="left")
    hi = np.searchsorted(ref, v, side="right")
    return 100.0 * (lo + hi) / 2.0 / max(len(ref), 1)
