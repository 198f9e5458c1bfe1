"""Train several seeds of the tiny CNN at once, in one vectorised pass.

:func:`train_seeds` packs ``S`` copies of :class:`~spurlab.models.TinyCNN` (one per seed, each
initialised by :func:`~spurlab.make_model` with its own seed) into ONE module: every convolution
becomes a grouped convolution with ``groups=S`` over channel-concatenated inputs, every BatchNorm
one BatchNorm over ``S * C`` channels (its statistics are per channel, so per seed), and the
linear heads one batched matrix product. Each seed still sees its OWN batch order, drawn exactly
as :func:`spurlab.train` draws it for that seed, and the packed optimiser is SGD with the same
settings: SGD, momentum and weight decay act element-wise, and no operation mixes the seeds, so
every seed follows the same trajectory as its sequential run, up to floating-point rounding
(grouped kernels add the same products in another order). The trained seeds come back as
ordinary :func:`~spurlab.make_model` instances.

Where the time goes: the tiny CNN's operations are small, so ``S`` models in one module pay
the per-operation costs (dispatch, autograd, threading, optimiser) once instead of ``S`` times.
The convolutions themselves do not get cheaper per FLOP on a CPU (oneDNN runs each group of a
grouped convolution at about the speed of a separate one), which caps the CPU gain; measured
1.5-1.7x for S = 5 on a loaded 2-core CPU. ``python3 benchmarks/multiseed.py`` measures it
against ``S`` sequential runs and checks the results against them.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from ._validate import check_choice, check_fraction, check_int, check_seeds
from .defaults import DEFAULTS
from .device import get_device
from .models import MODELS, TinyCNN, make_model
from .train import (
    SCHEDULES,
    TrainingDiverged,
    _check_data,
    _check_images,
    as_float,
    lr_factor,
    predict_logits,
)

PACKABLE = ("tiny",)


def _check_model_name(model):
    check_choice("model", model, MODELS)
    if model not in PACKABLE:
        raise ValueError(f"model must be one of {', '.join(repr(m) for m in PACKABLE)} for "
                         f"train_seeds (packing into grouped convolutions is implemented for the "
                         f"tiny CNN only); got {model!r}. Train {model!r} seeds one by one with "
                         "spurlab.train")
    return model


class PackedTinyCNN(nn.Module):
    """``S`` :class:`~spurlab.models.TinyCNN` models packed into one module.

    Input ``(B, S * C, H, W)``: the channels of seed ``i``'s images are block ``i``. Output
    ``(S, B, num_classes)``. :meth:`unpack` returns the ``S`` models as ordinary ``TinyCNN``.

    Examples
    --------
    >>> import torch
    >>> from spurlab import make_model
    >>> models = [make_model(seed=s) for s in (0, 1)]
    >>> packed = PackedTinyCNN(models).eval()
    >>> x = torch.rand(3, 1, 16, 16)
    >>> out = packed(x.repeat(1, 2, 1, 1))
    >>> out.shape, torch.allclose(out[1], models[1].eval()(x), atol=1e-5)
    (torch.Size([2, 3, 6]), True)
    """

    def __init__(self, models):
        super().__init__()
        models = [models] if isinstance(models, nn.Module) else list(models)
        if not models or not all(isinstance(m, TinyCNN) for m in models):
            raise TypeError("models must be a non-empty list of TinyCNN (make_model('tiny')) models")
        ref = models[0]
        S = self.num_seeds = len(models)
        widths = [m[0].out_channels for m in ref.features if not isinstance(m, nn.MaxPool2d)]
        side = math.isqrt(ref.head.in_features // widths[-1])
        self._init_args = dict(in_channels=ref.features[0][0].in_channels,
                               num_classes=ref.head.out_features, image_size=side * 2 ** len(widths),
                               widths=tuple(widths))
        layers = []
        for i, mod in enumerate(ref.features):
            if isinstance(mod, nn.MaxPool2d):
                layers.append(nn.MaxPool2d(mod.kernel_size))
                continue
            conv, bn = mod[0], mod[1]
            pconv = nn.Conv2d(S * conv.in_channels, S * conv.out_channels, conv.kernel_size,
                              padding=conv.padding, bias=False, groups=S)
            pbn = nn.BatchNorm2d(S * bn.num_features, eps=bn.eps, momentum=bn.momentum)
            with torch.no_grad():
                pconv.weight.copy_(torch.cat([m.features[i][0].weight for m in models]))
                for name in ("weight", "bias", "running_mean", "running_var"):
                    getattr(pbn, name).copy_(torch.cat([getattr(m.features[i][1], name) for m in models]))
                pbn.num_batches_tracked.copy_(bn.num_batches_tracked)
            layers.append(nn.Sequential(pconv, pbn, nn.ReLU(inplace=True)))
        self.features = nn.Sequential(*layers)
        with torch.no_grad():
            self.head_weight = nn.Parameter(torch.stack([m.head.weight for m in models]).clone())
            self.head_bias = nn.Parameter(torch.stack([m.head.bias for m in models]).clone())
        dev = ref.head.weight.device
        self.to(dev)

    def forward(self, x):
        S = self.num_seeds
        f = self.features(x)                              # (B, S * C', h, w)
        f = f.reshape(len(f), S, -1).transpose(0, 1)       # (S, B, C' * h * w), per-seed flatten
        return torch.baddbmm(self.head_bias.unsqueeze(1), f, self.head_weight.transpose(1, 2))

    def unpack(self):
        """The packed seeds as a list of ordinary ``TinyCNN`` models (copies, same device, same mode)."""
        S = self.num_seeds
        dev = self.head_weight.device
        out = []
        for s in range(S):
            m = TinyCNN(**self._init_args).to(dtype=self.head_weight.dtype)
            state = {}
            for i, mod in enumerate(self.features):
                if isinstance(mod, nn.MaxPool2d):
                    continue
                conv, bn = mod[0], mod[1]
                w = conv.weight.detach()
                k = w.shape[0] // S
                state[f"features.{i}.0.weight"] = w[s * k:(s + 1) * k]
                for name in ("weight", "bias", "running_mean", "running_var"):
                    state[f"features.{i}.1.{name}"] = getattr(bn, name).detach()[s * k:(s + 1) * k]
                state[f"features.{i}.1.num_batches_tracked"] = bn.num_batches_tracked.detach()
            state["head.weight"] = self.head_weight.detach()[s]
            state["head.bias"] = self.head_bias.detach()[s]
            m.load_state_dict({k: v.clone() for k, v in state.items()})
            out.append(m.to(dev).train(self.training))
        return out


def _pack_inputs(x, idx, fmt):
    """Gather seed ``i``'s batch ``x[idx[i]]`` into channel block ``i``: ``(B, S * C, H, W)``."""
    S, B = idx.shape
    xb = x[idx.t()]                                       # (B, S, C, H, W)
    return xb.reshape(B, S * x.shape[1], *x.shape[2:]).contiguous(memory_format=fmt)


def train_seeds(images, labels, seeds, *, model=DEFAULTS["model"], num_classes=None,
                epochs=DEFAULTS["epochs"], batch_size=DEFAULTS["batch_size"], lr=DEFAULTS["lr"],
                momentum=DEFAULTS["momentum"], weight_decay=DEFAULTS["weight_decay"],
                schedule=DEFAULTS["schedule"], device=None, callback=None, stop_epoch=None,
                progress=True, desc="train seeds", dtype=torch.float32):
    """Train one model per seed, all seeds in one vectorised pass; same results as sequential runs.

    For every seed ``s`` this gives, up to floating-point rounding, what
    ``m = make_model(model, ..., seed=s); train(m, images, labels, seed=s, ...)`` gives (same
    initialisation, same seeded batch order, same schedule, same skipped final single-sample
    batch), but the ``S`` models train packed into one module of grouped convolutions
    (see :class:`PackedTinyCNN`), which is faster than ``S`` sequential runs.

    Parameters
    ----------
    images : torch.Tensor ``(N, C, H, W)``; labels : torch.Tensor ``(N,)``
    seeds : list of int
        Distinct non-negative seeds; each seeds its model's initialisation and its batch order.
    model : {'tiny'}
        Only the tiny CNN is packed; other :data:`~spurlab.models.MODELS` raise ``ValueError``.
    num_classes : int, optional
        Output classes; default ``max(labels) + 1`` (at least 2).
    epochs, batch_size, lr, momentum, weight_decay, schedule, device, stop_epoch, progress, desc
        As in :func:`spurlab.train` (same defaults).
    dtype : torch.dtype
        Parameter and input precision (default float32, as :func:`spurlab.train` uses);
        ``torch.float64`` makes the comparison with sequential float64 runs exact to ~1e-10.
    callback : callable, optional
        ``callback(epoch, models)`` after each epoch (1-based) with the list of per-seed models
        (ordinary ``TinyCNN`` copies, eval mode, in the order of ``seeds``), e.g. to record
        early EL2N with :func:`el2n_seeds`.

    Returns
    -------
    models : list of TinyCNN
        The trained models, in the order of ``seeds``, eval mode, on the training device.
    histories : list of list of dict
        Per seed, ``{'epoch', 'loss', 'accuracy'}`` per epoch, as :func:`spurlab.train` returns.

    Raises
    ------
    TrainingDiverged
        If the loss of any seed becomes NaN or infinite (the message names the seeds).

    Examples
    --------
    >>> from spurlab import load_dataset
    >>> tr, _ = load_dataset("shapes", n_train=300, n_test=60)
    >>> models, hists = train_seeds(tr.images, tr.labels, [0, 1], epochs=1, progress=False)
    >>> len(models), sorted(hists[1][0])
    (2, ['accuracy', 'epoch', 'loss'])
    """
    seeds = check_seeds(seeds)
    _check_model_name(model)
    labels = _check_data(images, labels)
    epochs = check_int("epochs", epochs, low=1)
    batch_size = check_int("batch_size", batch_size, low=2)
    lr = check_fraction("lr", lr, high=10.0, low_open=True)
    momentum = check_fraction("momentum", momentum, high_open=True)
    weight_decay = check_fraction("weight_decay", weight_decay)
    check_choice("schedule", schedule, SCHEDULES)
    if stop_epoch is not None:
        stop_epoch = check_int("stop_epoch", stop_epoch, low=1, high=epochs)
    if num_classes is None:
        num_classes = max(2, int(labels.max()) + 1)
    num_classes = check_int("num_classes", num_classes, low=2)
    if int(labels.min()) < 0 or int(labels.max()) >= num_classes:
        raise ValueError(f"labels must lie in [0, {num_classes - 1}] (num_classes={num_classes}); "
                         f"got values from {int(labels.min())} to {int(labels.max())}")
    models = [make_model(model, in_channels=images.shape[1], num_classes=num_classes,
                         image_size=images.shape[-1], seed=s) for s in seeds]
    dev = get_device(device)
    cuda = dev.type == "cuda"
    fmt = torch.channels_last if dev.type in ("cuda", "cpu") else torch.contiguous_format
    if dtype not in (torch.float32, torch.float64):
        raise ValueError(f"dtype must be torch.float32 or torch.float64; got {dtype!r}")
    packed = PackedTinyCNN(models).to(dev, dtype=dtype, memory_format=fmt)
    del models
    x = as_float(images.to(dev, non_blocking=True)).to(dtype)   # uint8 images: / 255, as train
    y = labels.to(dev)
    n, S = len(x), len(seeds)
    starts = [s for s in range(0, n, batch_size) if min(batch_size, n - s) > 1]
    opt = torch.optim.SGD(packed.parameters(), lr=lr, momentum=momentum, nesterov=momentum > 0,
                          weight_decay=weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_factor(schedule, epochs, len(starts)))
    gens = [torch.Generator().manual_seed(s) for s in seeds]
    histories = [[] for _ in seeds]
    last = stop_epoch or epochs
    bar = tqdm(total=last * len(starts), desc=desc, disable=not progress, leave=False)
    try:
        for epoch in range(1, last + 1):
            packed.train()
            perm = torch.stack([torch.randperm(n, generator=g) for g in gens]).to(dev)  # (S, N)
            loss_sum = torch.zeros(S, device=dev)
            correct = torch.zeros(S, device=dev, dtype=torch.long)
            seen = 0
            for s in starts:
                idx = perm[:, s:s + batch_size]                                        # (S, B)
                yb = y[idx]
                with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=cuda):
                    out = packed(_pack_inputs(x, idx, fmt))                            # (S, B, K)
                    losses = F.cross_entropy(out.flatten(0, 1), yb.flatten(),
                                             reduction="none").view(S, -1).float().mean(1)
                opt.zero_grad(set_to_none=True)
                losses.sum().backward()
                opt.step()
                sched.step()
                loss_sum += losses.detach() * idx.shape[1]
                correct += (out.argmax(2) == yb).sum(1)
                seen += idx.shape[1]
                bar.update(1)
            mean_loss = (loss_sum / seen).tolist()
            bad = [(sd, v) for sd, v in zip(seeds, mean_loss) if not math.isfinite(v)]
            if bad:
                raise TrainingDiverged(
                    f"training diverged at epoch {epoch} for seed(s) "
                    f"{', '.join(str(sd) for sd, _ in bad)}: loss is {', '.join(str(v) for _, v in bad)} "
                    f"(lr={lr} may be too high; try a smaller lr)")
            acc = (correct.double() / seen).tolist()
            for h, v, a in zip(histories, mean_loss, acc):
                h.append({"epoch": epoch, "loss": v, "accuracy": a})
            bar.set_postfix(loss=f"{sum(mean_loss) / S:.3f}")
            packed.eval()
            if callback is not None:
                callback(epoch, packed.unpack())
    finally:
        bar.close()
        packed.eval()
    return packed.unpack(), histories


@torch.no_grad()
def predict_logits_seeds(models, images, *, batch_size=1024, device=None):
    """Logits of ``S`` tiny CNNs for ``images`` in one packed pass: ``(S, N, K)`` float32, CPU.

    Examples
    --------
    >>> import torch
    >>> from spurlab import make_model
    >>> predict_logits_seeds([make_model(seed=0), make_model(seed=1)], torch.rand(5, 1, 16, 16)).shape
    torch.Size([2, 5, 6])
    """
    _check_images(images)
    packed = PackedTinyCNN(models)
    dev = packed.head_weight.device if device is None else get_device(device)
    fmt = torch.channels_last if dev.type in ("cuda", "cpu") else torch.contiguous_format
    wrapped = _SameImages(packed.to(dev, memory_format=fmt))
    # spurlab.predict_logits does the batching, device and autocast: (N, S, K) -> (S, N, K)
    out = predict_logits(wrapped, images, batch_size=batch_size, device=dev)
    if len(images) == 0:
        return torch.zeros(packed.num_seeds, 0, packed.head_weight.shape[1])
    return out.transpose(0, 1).contiguous()


class _SameImages(nn.Module):
    """The packed model fed the same images for every seed; output ``(B, S, K)``."""

    def __init__(self, packed):
        super().__init__()
        self.packed = packed

    def forward(self, x):
        x = x.repeat(1, self.packed.num_seeds, 1, 1)
        if x.device.type in ("cuda", "cpu"):
            x = x.contiguous(memory_format=torch.channels_last)
        return self.packed(x).transpose(0, 1)


def el2n_seeds(models, images, labels, *, batch_size=1024, device=None):
    """EL2N scores of ``S`` tiny CNNs in one packed pass: ``(S, N)``, row ``i`` for model ``i``.

    Equals ``torch.stack([spurlab.el2n(m, images, labels) for m in models])`` up to rounding.

    Examples
    --------
    >>> import torch
    >>> from spurlab import make_model
    >>> s = el2n_seeds([make_model(seed=0), make_model(seed=1)], torch.rand(4, 1, 16, 16),
    ...                torch.tensor([0, 1, 2, 3]))
    >>> s.shape
    torch.Size([2, 4])
    """
    if not isinstance(labels, torch.Tensor) or labels.shape != (len(images),):
        raise ValueError(f"labels must be a ({len(images)},) tensor matching images; got "
                         f"{tuple(labels.shape) if hasattr(labels, 'shape') else type(labels)}")
    p = predict_logits_seeds(models, images, batch_size=batch_size, device=device).softmax(2)
    p[:, torch.arange(p.shape[1]), labels] -= 1
    return p.norm(dim=2)
