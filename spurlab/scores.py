"""Per-sample difficulty scores: EL2N, loss, margin, GraNd and forgetting events.

EL2N, loss, margin and GraNd are computed batched, in eval mode, for any number of classes;
forgetting events are recorded during training. By convention the dispatcher
:func:`difficulty` returns *hardness*: higher means harder (margin is negated there).

- **EL2N** (Paul et al., 2021): ``||softmax(f(x)) - onehot(y)||_2``, early in training.
- **loss**: per-sample cross-entropy.
- **margin**: true-class logit minus the largest other logit (low = hard).
- **GraNd**: L2 norm of the per-sample gradient of the loss w.r.t. all parameters
  (vectorised with ``torch.func``).
- **forgetting events** (Toneva et al., 2019): how often a sample goes from correctly to
  incorrectly classified. :class:`ForgettingTracker` counts it two ways:

  - ``per='epoch'`` (the default, and what ``config.score == 'forgetting'`` uses): after each
    epoch the model predicts every sample once more, *in eval mode* (an extra forward pass over
    the training set); an event is a sample correct after epoch ``e`` and wrong after epoch
    ``e + 1``. A sample wrong after every epoch gets the number of epochs recorded.
  - ``per='presentation'`` (Toneva et al.'s definition): each time a sample is presented in a
    minibatch, the prediction of *that training forward pass* (training mode, before the
    optimizer step; no extra pass) is compared with the one at its previous presentation; an
    event is correct then, wrong now. A sample wrong at every presentation gets the largest
    number of presentations of any sample (in :func:`spurlab.train`, the number of epochs),
    as the authors' code gives never-learned examples the number of presentations.

  The two differ because (a) BatchNorm normalises a training batch by its own statistics but
  an eval-mode model by running averages, so the two modes can predict a sample differently,
  early in training above all, when the running averages lag; and (b) the end-of-epoch count
  sees the model at epoch ends only, after the whole epoch's updates, while the per-presentation
  one sees each sample just before its own update, at a different step each epoch.
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


FORGETTING_PER = ("epoch", "presentation")


class ForgettingTracker:
    """Counts forgetting events per sample while :func:`spurlab.train` runs.

    Parameters
    ----------
    images : torch.Tensor ``(N, C, H, W)``; labels : torch.Tensor ``(N,)``
        The training set, as passed to :func:`spurlab.train`.
    per : {'epoch', 'presentation'}
        ``'epoch'``: pass the tracker as ``callback=``; it predicts all ``images`` in eval mode
        after each epoch and counts correct-to-wrong flips between consecutive epochs.
        ``'presentation'`` (Toneva et al., 2019): pass ``tracker.batch_callback`` as
        ``batch_callback=``; it counts flips between consecutive presentations of a sample,
        from the training forward pass. See the module docstring for both definitions.
    batch_size : int
        Batch size of the end-of-epoch predictions (``per='epoch'`` only).

    Attributes
    ----------
    correct : list of torch.Tensor
        ``per='epoch'``: one bool tensor ``(N,)`` per epoch, whether each sample was right.
    presentations : torch.Tensor or None
        ``per='presentation'``: how many times each sample was presented (int64, CPU; None
        before the first batch).

    Examples
    --------
    >>> from spurlab import load_dataset, make_model, train
    >>> tr, _ = load_dataset("shapes", n_train=300, n_test=60)
    >>> tracker = ForgettingTracker(tr.images, tr.labels)
    >>> _ = train(make_model(), tr.images, tr.labels, epochs=2, callback=tracker, progress=False)
    >>> tracker.scores().shape
    torch.Size([300])

    Toneva et al.'s count, from the training batches themselves:

    >>> toneva = ForgettingTracker(tr.images, tr.labels, per="presentation")
    >>> _ = train(make_model(), tr.images, tr.labels, epochs=2,
    ...           batch_callback=toneva.batch_callback, progress=False)
    >>> s = toneva.scores()
    >>> s.shape, s.dtype, int(toneva.presentations.max())
    (torch.Size([300]), torch.float32, 2)

    The count, by hand: sample 0 is right, wrong, right, wrong (2 events); sample 1 is right
    three times, then wrong (1 event). Predicted classes or logits both work:

    >>> t = ForgettingTracker(torch.zeros(2, 1, 8, 8), torch.tensor([0, 1]), per="presentation")
    >>> for pred in ([0, 1], [1, 1], [0, 1], [1, 0]):
    ...     t.batch_callback(torch.tensor([0, 1]), torch.tensor(pred), torch.tensor([0, 1]))
    >>> t.scores()
    tensor([2., 1.])
    """

    def __init__(self, images, labels, *, per="epoch", batch_size=1024):
        labels = _check(images, labels)
        self.per = check_choice("per", per, FORGETTING_PER)
        batch_size = check_int("batch_size", batch_size, low=1)
        self.images, self.labels, self.batch_size = images, labels, batch_size
        self.correct = []  # per='epoch': one bool tensor per epoch
        # per='presentation': per-sample state, made on the device of the first batch
        self._last = None       # int8: -1 never presented, 0 wrong, 1 right at the last one
        self._events = None     # int64: correct-to-wrong flips so far
        self._learned = None    # bool: right at some presentation
        self._presented = None  # int64: presentations so far

    def __call__(self, epoch, model):
        if self.per != "epoch":
            raise ValueError("ForgettingTracker(per='presentation') counts from the training "
                             "batches: pass tracker.batch_callback as batch_callback= to "
                             "spurlab.train, not the tracker as callback= (that is per='epoch')")
        pred = predict_logits(model, self.images, batch_size=self.batch_size).argmax(1)
        self.correct.append(pred == self.labels)

    def batch_callback(self, indices, outputs, labels):
        """Record one training batch (``per='presentation'``): pass this method as
        ``batch_callback=`` to :func:`spurlab.train`.

        Parameters
        ----------
        indices : torch.Tensor ``(B,)``
            Integer positions of the batch's samples in the tracker's ``images``, no repeats.
        outputs : torch.Tensor
            The training forward pass's logits ``(B, num_classes)`` (floating point), or the
            predicted classes ``(B,)`` (integers).
        labels : torch.Tensor ``(B,)``
            The batch's labels: ``labels[i]`` must be the tracker's label of ``indices[i]``.

        The arguments are checked in full when they are on the CPU and at the first batch;
        later batches on an accelerator are checked for shape and dtype only, so that the
        training loop never waits on the device.
        """
        if self.per != "presentation":
            raise ValueError("ForgettingTracker(per='epoch') records after each epoch: pass the "
                             "tracker as callback= to spurlab.train, or build it with "
                             "per='presentation' to use batch_callback=")
        pred = self._check_batch(indices, outputs, labels)
        if self._last is None:
            n, dev = len(self.labels), indices.device
            self._last = torch.full((n,), -1, dtype=torch.int8, device=dev)
            self._events = torch.zeros(n, dtype=torch.long, device=dev)
            self._learned = torch.zeros(n, dtype=torch.bool, device=dev)
            self._presented = torch.zeros(n, dtype=torch.long, device=dev)
        elif self._last.device != indices.device:
            self._last, self._events, self._learned, self._presented = (
                t.to(indices.device) for t in (self._last, self._events, self._learned,
                                               self._presented))
        ok = pred == labels
        self._events[indices] += ((self._last[indices] == 1) & ~ok).long()
        self._last[indices] = ok.to(torch.int8)
        self._learned[indices] |= ok
        self._presented[indices] += 1

    def _check_batch(self, indices, outputs, labels):
        """Check one batch's arguments (in full on the CPU or at the first batch, else shapes
        and dtypes only); return the predicted classes."""
        for name, v in (("indices", indices), ("outputs", outputs), ("labels", labels)):
            if not isinstance(v, torch.Tensor):
                raise TypeError(f"{name} must be a torch.Tensor; got {type(v).__name__}")
        if indices.ndim != 1 or indices.is_floating_point() or indices.is_complex() \
                or indices.dtype == torch.bool:
            raise ValueError(f"indices must be a 1-D integer tensor of sample positions; got "
                             f"shape {tuple(indices.shape)}, dtype {indices.dtype}")
        b = len(indices)
        if labels.shape != (b,) or labels.is_floating_point() or labels.dtype == torch.bool:
            raise ValueError(f"labels must be an integer tensor of shape ({b},), one per index; "
                             f"got shape {tuple(labels.shape)}, dtype {labels.dtype}")
        if outputs.ndim == 2 and outputs.shape[0] == b and outputs.is_floating_point():
            pred = outputs.argmax(1)
        elif outputs.ndim == 1 and outputs.shape[0] == b and not outputs.is_floating_point() \
                and outputs.dtype != torch.bool:
            pred = outputs
        else:
            raise ValueError(f"outputs must be logits of shape ({b}, num_classes) (floating "
                             f"point) or predicted classes of shape ({b},) (integers); got shape "
                             f"{tuple(outputs.shape)}, dtype {outputs.dtype}")
        if not (indices.device == labels.device == outputs.device):
            raise ValueError(f"indices, outputs and labels must be on one device; got "
                             f"{indices.device}, {outputs.device} and {labels.device}")
        if b and (self._last is None or indices.device.type == "cpu"):
            n = len(self.labels)
            lo, hi = int(indices.min()), int(indices.max())
            if lo < 0 or hi >= n:
                raise ValueError(f"indices must be positions in the tracker's {n} images, "
                                 f"0..{n - 1}; got values from {lo} to {hi}")
            if len(torch.unique(indices)) != b:
                raise ValueError("indices must not repeat a sample within one batch")
            if not torch.equal(labels.cpu().long(), self.labels[indices.cpu()]):
                raise ValueError("labels do not match the tracker's labels at these indices: "
                                 "build the tracker with the images and labels passed to "
                                 "spurlab.train")
        return pred

    @property
    def presentations(self):
        """Presentations per sample so far (``per='presentation'``; int64, CPU), or None."""
        return None if self._presented is None else self._presented.cpu()

    def scores(self):
        """Forgetting events per sample (float32, CPU).

        ``per='epoch'``: never-learned samples get the number of epochs recorded.
        ``per='presentation'``: never-learned samples (including any never presented) get the
        largest number of presentations of any sample.
        """
        if self.per == "presentation":
            if self._presented is None:
                raise ValueError("ForgettingTracker(per='presentation') has recorded no batch; "
                                 "pass tracker.batch_callback as batch_callback= to train")
            events = self._events.float().cpu()
            events[~self._learned.cpu()] = float(self._presented.max())
            return events
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
