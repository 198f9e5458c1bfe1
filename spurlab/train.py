"""Training and inference on tensors that live on the device (no DataLoader).

The whole loop fits on one screen: SGD with Nesterov momentum, a cosine learning-rate schedule,
seeded batch order, mixed precision (bf16 autocast) on CUDA by default, channels_last on CUDA and
CPU (measured 1.6x faster on a 2-core CPU for the tiny CNN).

``precision`` (an argument of :func:`train` and :func:`predict_logits`, or the :func:`precision`
context for code that calls them, such as :func:`spurlab.run`): ``'auto'`` (bf16 autocast on
CUDA, float32 elsewhere), ``'bf16'`` (bf16 autocast on CUDA and on the CPU: the CUDA path, run
on a CPU) or ``'fp32'``.

Every argument is checked before any work: images (layout, dtype against the model's, finite
values), labels (integers in the range of the model's outputs) and the model against the data
(channels, image size, by one forward pass of a blank image).
"""

from __future__ import annotations

import contextlib
import contextvars
import math

import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from ._validate import check_choice, check_fraction, check_images, check_int, check_labels, check_seed
from .datasets import as_float  # one definition, in the data layer (also spurlab.train.as_float)
from .defaults import DEFAULTS
from .device import adapt_threads, get_device
from .models import NORMALIZE_CHOICES

PRECISIONS = ("auto", "bf16", "fp32")
_PRECISION = contextvars.ContextVar("spurlab_precision", default="auto")


class TrainingDiverged(RuntimeError):
    """Raised when the training loss becomes NaN or infinite (learning rate too high?)."""


@contextlib.contextmanager
def precision(name):
    """Within the block, :func:`train` and :func:`predict_logits` (and what calls them:
    :func:`spurlab.run`, EL2N, ...) use precision ``name`` unless given one explicitly.

    Examples
    --------
    >>> import torch
    >>> from spurlab import make_model
    >>> with precision("bf16"):                  # the CUDA path, on the CPU
    ...     predict_logits(make_model(), torch.rand(2, 1, 16, 16)).dtype
    torch.float32
    """
    token = _PRECISION.set(check_choice("precision", name, PRECISIONS))
    try:
        yield name
    finally:
        _PRECISION.reset(token)


def _use_bf16(dev, precision):
    """Whether to autocast to bf16 on ``dev`` for ``precision`` (None: the context's)."""
    p = _PRECISION.get() if precision is None else check_choice("precision", precision, PRECISIONS)
    if p == "auto":
        return dev.type == "cuda"
    if p == "bf16" and dev.type not in ("cuda", "cpu"):
        raise ValueError(f"precision='bf16' runs on cuda and cpu; got device {dev.type!r} (use "
                         "precision='fp32' or 'auto')")
    return p == "bf16"


def _autocast(dev, on):
    """bf16 autocast on ``dev`` when ``on``, else nothing (an enclosing autocast still applies)."""
    return torch.autocast(dev.type, dtype=torch.bfloat16) if on else contextlib.nullcontext()


def _check_model(model):
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module (e.g. spurlab.make_model()); got "
                        f"{type(model).__name__}")
    return model


def _check_images(images, model=None):
    """Check ``images`` for ``model``: see :func:`spurlab._validate.check_images`."""
    if model is not None:
        _check_model(model)
    dtype = None
    if model is not None and images is not None and isinstance(images, torch.Tensor):
        p = next(model.parameters(), None)
        dtype = p.dtype if p is not None and p.is_floating_point() else None
    return check_images("images", images, float_dtype=dtype)


def _check_data(images, labels, model=None):
    """Images and labels for training: see :func:`_check_images` and :func:`check_labels`;
    at least 2 samples. Returns the labels as int64."""
    _check_images(images, model)
    labels = check_labels("labels", labels, len(images))
    if len(images) < 2:
        raise ValueError(f"images must hold at least 2 samples to train; got {len(images)}")
    return labels


def _expected_input(model):
    """``(in_channels, image sides accepted or None)`` of a spurlab model, else ``None``."""
    from .models import ResNet18, TinyCNN

    if isinstance(model, TinyCNN):
        convs = [m for m in model.features.modules() if isinstance(m, nn.Conv2d)]
        pools = sum(isinstance(m, nn.MaxPool2d) for m in model.features)
        side = math.isqrt(model.head.in_features // convs[-1].out_channels)
        return convs[0].in_channels, (side * 2 ** pools, side, pools)
    if isinstance(model, ResNet18):
        return model.stem[0].in_channels, None
    conv1 = getattr(model, "conv1", None)          # torchvision ResNets
    if isinstance(conv1, nn.Conv2d) and isinstance(getattr(model, "fc", None), nn.Linear):
        return conv1.in_channels, None
    return None


def check_model_fits(model, images):
    """Check that ``model`` takes ``images`` (channels, image size) by one forward pass of a
    blank image in eval mode, without gradients or any change to the model; return the shape of
    its output for one image (e.g. ``(num_classes,)``). Raises ``ValueError`` naming what does
    not fit.

    Examples
    --------
    >>> import torch
    >>> from spurlab import make_model
    >>> check_model_fits(make_model(num_classes=6), torch.rand(3, 1, 16, 16))
    (6,)
    """
    _check_model(model)
    p = next(model.parameters(), None)
    if p is None:
        raise ValueError("model must have parameters; got a model with none")
    C, H, W = (int(s) for s in images.shape[1:])
    exp = _expected_input(model)
    if exp is not None:
        cin, sides = exp
        if C != cin:
            raise ValueError(f"images have {C} channel(s) but the model takes {cin} (build it with "
                             f"make_model(..., in_channels={C}))")
        if sides is not None:
            size, side, pools = sides
            if min(H, W) < 2 ** pools:
                raise ValueError(f"images are {H}x{W} pixels: too small for the model, which "
                                 f"takes at least {2 ** pools}x{2 ** pools} (it was built for "
                                 f"image_size={size})")
            if H // 2 ** pools != side or W // 2 ** pools != side:
                raise ValueError(f"images are {H}x{W} pixels but the model was built for "
                                 f"image_size={size} (build it with make_model(..., "
                                 f"image_size={H}) for square images)")
    was_training = model.training
    blank = torch.zeros(1, C, H, W, device=p.device,
                        dtype=p.dtype if p.is_floating_point() else torch.float32)
    try:
        model.eval()
        with torch.no_grad():
            out = model(blank)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ValueError(f"images of shape (C, H, W) = ({C}, {H}, {W}) do not fit the model: "
                         f"{first}") from None
    finally:
        model.train(was_training)
    if not isinstance(out, torch.Tensor) or out.ndim < 1 or out.shape[0] != 1:
        raise ValueError(f"model must return one row of logits per image; for 1 image it returned "
                         f"{tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__}")
    return tuple(out.shape[1:])


def _num_classes(model, images):
    """Number of classes of ``model``, whose output for ``images`` must be ``(N, K)``."""
    shape = check_model_fits(model, images)
    if len(shape) != 1 or shape[0] < 2:
        raise ValueError(f"model must return (N, num_classes) logits with num_classes >= 2; got "
                         f"(N, {', '.join(map(str, shape))}) for these images")
    return shape[0]


# the learning-rate schedules train() knows (Config.schedule takes its choices from here)
SCHEDULES = ("cosine", "constant", "multistep")
# the training-time augmentations train() knows: none, or the CIFAR recipe's pad-4 random crop
# and horizontal flip (torchvision's RandomCrop(size, padding=4) + RandomHorizontalFlip())
AUGMENTS = ("none", "crop-flip")
# how a model's input is normalised (Config.normalize; built into the model, spurlab.models)
NORMALIZATIONS = NORMALIZE_CHOICES


def augment_images(images, augment, generator, *, pad=4):
    """One random view of each image: ``'crop-flip'`` pads by ``pad`` zero pixels on every
    side, crops back to the image's size at a random offset and flips half of the images left
    to right (each image draws its own offset and flip from ``generator``, a CPU
    ``torch.Generator``); ``'none'`` returns ``images``. Float images in [0, 1] or uint8.

    Examples
    --------
    >>> x = torch.arange(16.).view(1, 1, 4, 4)
    >>> y = augment_images(x, "crop-flip", torch.Generator().manual_seed(0), pad=1)
    >>> y.shape, bool(((y == 0) | torch.isin(y, x)).all())
    (torch.Size([1, 1, 4, 4]), True)
    """
    check_choice("augment", augment, AUGMENTS)
    if augment == "none" or len(images) == 0:
        return images
    n, _, h, w = images.shape
    dx = torch.randint(0, 2 * pad + 1, (n,), generator=generator).to(images.device)
    dy = torch.randint(0, 2 * pad + 1, (n,), generator=generator).to(images.device)
    flip = (torch.rand(n, generator=generator) < 0.5).to(images.device)
    padded = F.pad(images, (pad, pad, pad, pad))
    rows = (dy[:, None] + torch.arange(h, device=images.device))            # (n, h)
    cols = (dx[:, None] + torch.arange(w, device=images.device))            # (n, w)
    cols = torch.where(flip[:, None], cols.flip(1), cols)
    i = torch.arange(n, device=images.device)[:, None, None]
    out = padded.permute(0, 2, 3, 1)[i, rows[:, :, None], cols[:, None, :]]  # (n, h, w, C)
    return out.permute(0, 3, 1, 2)


def augmented_view(images, augment, seed):
    """One seeded random view of every image (:func:`augment_images`), as the reference code's
    early scores are taken: in eval mode over the augmented training loader. ``'none'``
    returns ``images`` itself."""
    if augment == "none":
        return images
    return augment_images(images, augment, torch.Generator().manual_seed(int(seed) + 4242))


def lr_factor(schedule, epochs, steps_per_epoch):
    """The schedule as ``step -> factor`` of the base learning rate (0-based optimizer steps).

    Examples
    --------
    >>> f = lr_factor("multistep", 160, 10)
    >>> [f(s) for s in (0, 799, 800, 1199, 1200, 1599)]
    [1.0, 1.0, 0.1, 0.1, 0.01, 0.01]
    >>> round(lr_factor("cosine", 4, 1)(2), 3), lr_factor("constant", 4, 1)(3)
    (0.5, 1.0)
    """
    check_choice("schedule", schedule, SCHEDULES)
    total = epochs * steps_per_epoch
    if schedule == "constant":
        return lambda s: 1.0
    if schedule == "multistep":
        return lambda s: (1.0, 0.1, 0.01)[(s // steps_per_epoch >= epochs // 2)
                                          + (s // steps_per_epoch >= 3 * epochs // 4)]
    return lambda s: 0.5 * (1 + math.cos(math.pi * min(s, total) / total))


def train(model, images, labels, *, epochs=DEFAULTS["epochs"], batch_size=DEFAULTS["batch_size"],
          lr=DEFAULTS["lr"], momentum=DEFAULTS["momentum"], weight_decay=DEFAULTS["weight_decay"],
          schedule=DEFAULTS["schedule"], seed=DEFAULTS["seed"], device=None, callback=None,
          stop_epoch=None, progress=True, desc="train", precision=None, batch_callback=None,
          nesterov=DEFAULTS["nesterov"], augment=DEFAULTS["augment"]):
    """Train ``model`` in place on ``(images, labels)``; return the per-epoch history.

    Parameters
    ----------
    model : torch.nn.Module
    images : torch.Tensor ``(N, C, H, W)``; labels : torch.Tensor ``(N,)``
    epochs : int
        Length of the cosine schedule.
    batch_size, lr, momentum, weight_decay, nesterov
        SGD settings (Nesterov momentum by default; ``nesterov=False``: plain momentum, as the
        CIFAR-10S reference code); a final batch of a single sample is skipped (BatchNorm).
    augment : {'none', 'crop-flip'}
        Training-time augmentation of every batch (:func:`augment_images`, drawn from the
        seeded generator of the batch order): none, or the CIFAR recipe's pad-4 random crop
        and horizontal flip.
    schedule : {'cosine', 'constant', 'multistep'}
        Learning-rate schedule over ``epochs`` (:data:`SCHEDULES`): cosine to 0, constant (the
        CelebA recipe), or multistep, x0.1 at half and again at three quarters of ``epochs``
        (the CIFAR ResNet recipe of He et al. and the CIFAR-10S reference code: epochs 80 and
        120 of 160).
    seed : int
        Seeds the batch order (initialisation is seeded by :func:`spurlab.make_model`).
    device : str or torch.device, optional
        Default: cuda, else mps, else cpu.
    callback : callable, optional
        ``callback(epoch, model)`` after each epoch (1-based), model in eval mode; use it to
        record per-sample outputs (e.g. EL2N at epoch 3) or to draw live plots.
    stop_epoch : int, optional
        Stop after this epoch, keeping the ``epochs``-long schedule (early scores).
    progress : bool
        Show a tqdm bar (terminal or notebook).
    precision : {'auto', 'bf16', 'fp32'}, optional
        Default: the :func:`precision` context's, ``'auto'`` (bf16 autocast on CUDA only).
    batch_callback : callable, optional
        ``batch_callback(indices, logits, labels)`` after each optimizer step, with the batch
        that step trained on: ``indices`` the positions of its samples in ``images`` (int64;
        batches follow the seeded shuffle), ``logits`` the detached output of that step's
        forward pass (training mode, before the step; bf16 under autocast) and ``labels``
        their labels, all on the training device. It sees the training-mode prediction at no extra
        forward pass (e.g. ``ForgettingTracker(..., per='presentation').batch_callback``).
        It must not change its arguments, the model or the global random state; then the
        run is bit-identical to one without it. ``None`` (default): nothing is called.

    Returns
    -------
    list of dict
        ``{'epoch', 'loss', 'accuracy'}`` per epoch (training-batch averages).

    Raises
    ------
    TrainingDiverged
        If the loss becomes NaN or infinite.
    ValueError, TypeError
        Before any training, for a bad argument: images not ``(N, C, H, W)`` (channels-last
        ones are named), not finite, or not of the model's dtype (or uint8); labels not
        integers or outside the model's outputs; images the model cannot take.

    Examples
    --------
    >>> from spurlab import load_dataset, make_model
    >>> tr, _ = load_dataset("shapes", n_train=300, n_test=60)
    >>> hist = train(make_model(), tr.images, tr.labels, epochs=1, progress=False)
    >>> sorted(hist[0])
    ['accuracy', 'epoch', 'loss']
    """
    labels = _check_data(images, labels, _check_model(model))
    epochs = check_int("epochs", epochs, low=1)
    batch_size = check_int("batch_size", batch_size, low=2)
    lr = check_fraction("lr", lr, high=10.0, low_open=True)
    momentum = check_fraction("momentum", momentum, high_open=True)
    weight_decay = check_fraction("weight_decay", weight_decay)
    seed = check_seed(seed)
    check_choice("schedule", schedule, SCHEDULES)
    check_choice("nesterov", nesterov, (True, False))
    check_choice("augment", augment, AUGMENTS)
    if stop_epoch is not None:
        stop_epoch = check_int("stop_epoch", stop_epoch, low=1, high=epochs)
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be callable (epoch, model); got {type(callback).__name__}")
    if batch_callback is not None and not callable(batch_callback):
        raise TypeError(f"batch_callback must be callable (indices, logits, labels) or None; got "
                        f"{type(batch_callback).__name__}")
    dev = get_device(device)
    if dev.type == "cpu":
        adapt_threads()                 # $SPURLAB_THREADS: fixed by default, or the free cores
    bf16 = _use_bf16(dev, precision)
    check_labels("labels", labels, len(images), _num_classes(model, images))
    # channels_last: on CUDA as usual; on the CPU it measured 1.6x faster for the tiny CNN
    fmt = torch.channels_last if dev.type in ("cuda", "cpu") else torch.contiguous_format
    model.to(dev, memory_format=fmt)
    x = images.to(dev, memory_format=fmt, non_blocking=True)
    y = labels.to(dev)
    n = len(x)
    starts = [s for s in range(0, n, batch_size) if min(batch_size, n - s) > 1]
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum,
                          nesterov=bool(nesterov and momentum > 0), weight_decay=weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_factor(schedule, epochs, len(starts)))
    gen = torch.Generator().manual_seed(seed)
    history = []
    last = stop_epoch or epochs
    bar = tqdm(total=last * len(starts), desc=desc, disable=not progress, leave=False)
    try:
        for epoch in range(1, last + 1):
            model.train()
            perm = torch.randperm(n, generator=gen).to(dev)
            loss_sum = torch.zeros((), device=dev)
            correct = torch.zeros((), device=dev, dtype=torch.long)
            seen = 0
            for s in starts:
                idx = perm[s:s + batch_size]
                xb = augment_images(x[idx], augment, gen)
                with _autocast(dev, bf16):
                    out = model(as_float(xb).contiguous(memory_format=fmt))
                    loss = F.cross_entropy(out, y[idx])
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                sched.step()
                loss_sum += loss.detach() * len(idx)
                correct += (out.argmax(1) == y[idx]).sum()
                seen += len(idx)
                if batch_callback is not None:
                    batch_callback(idx, out.detach(), y[idx])
                bar.update(1)
            mean_loss = (loss_sum / seen).item()
            if not math.isfinite(mean_loss):
                raise TrainingDiverged(
                    f"training diverged at epoch {epoch}: loss is {mean_loss} (lr={lr} may be "
                    "too high; try a smaller lr)")
            history.append({"epoch": epoch, "loss": mean_loss,
                            "accuracy": correct.item() / seen})
            bar.set_postfix(loss=f"{mean_loss:.3f}")
            model.eval()
            if callback is not None:
                callback(epoch, model)
    finally:
        bar.close()
        model.eval()
    return history


@torch.no_grad()
def predict_logits(model, images, *, batch_size=1024, device=None, precision=None):
    """Logits of ``model`` (eval mode) for ``images``, batched; returned on the CPU as float32.

    ``images`` are checked against the model first (see :func:`train`); no images give a
    ``(0, num_classes)`` tensor. ``precision`` as in :func:`train`.

    Examples
    --------
    >>> import torch
    >>> from spurlab import make_model
    >>> predict_logits(make_model(), torch.rand(5, 1, 16, 16)).shape
    torch.Size([5, 6])
    """
    _check_images(images, model)
    batch_size = check_int("batch_size", batch_size, low=1)
    out_shape = check_model_fits(model, images)
    dev = next(model.parameters()).device if device is None else get_device(device)
    bf16 = _use_bf16(dev, precision)
    was_training = model.training
    model.eval()
    outs = []
    for s in range(0, len(images), batch_size):
        xb = as_float(images[s:s + batch_size].to(dev, non_blocking=True))
        if dev.type in ("cuda", "cpu"):
            xb = xb.contiguous(memory_format=torch.channels_last)
        with _autocast(dev, bf16):
            outs.append(model(xb).float().cpu())
    model.train(was_training)
    return torch.cat(outs) if outs else torch.zeros(0, *out_shape)


def predict(model, images, **kwargs):
    """Predicted class per image (int64, CPU)."""
    return predict_logits(model, images, **kwargs).argmax(1)
