"""Training and inference on tensors that live on the device (no DataLoader).

The whole loop fits on one screen: SGD with Nesterov momentum, a cosine learning-rate schedule,
seeded batch order, mixed precision only on CUDA, channels_last on CUDA and CPU (measured 1.6x faster on a
2-core CPU for the tiny CNN).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from ._validate import check_choice, check_fraction, check_int, check_seed
from .device import get_device


class TrainingDiverged(RuntimeError):
    """Raised when the training loss becomes NaN or infinite (learning rate too high?)."""


def as_float(images):
    """Images as float32 in [0, 1]: uint8 images (0-255) divided by 255, exactly as the loaders
    do; float images unchanged. Training and prediction convert batch by batch, so a large set
    can stay uint8 (4x less memory, e.g. CelebA at 224 px).

    Examples
    --------
    >>> import torch
    >>> as_float(torch.tensor([0, 51, 255], dtype=torch.uint8)).tolist()
    [0.0, 0.20000000298023224, 1.0]
    """
    return images.float().div_(255.0) if images.dtype == torch.uint8 else images


def _check_images(images):
    if not isinstance(images, torch.Tensor) or images.ndim != 4:
        raise ValueError("images must be a (N, C, H, W) tensor; got "
                         f"{tuple(images.shape) if hasattr(images, 'shape') else type(images)}")


def _check_data(images, labels):
    _check_images(images)
    if not isinstance(labels, torch.Tensor) or labels.shape != (len(images),):
        raise ValueError(f"labels must be a ({len(images)},) tensor matching images; got "
                         f"{tuple(labels.shape) if hasattr(labels, 'shape') else type(labels)}")
    if len(images) < 2:
        raise ValueError(f"images must hold at least 2 samples to train; got {len(images)}")


def train(model, images, labels, *, epochs=15, batch_size=128, lr=0.05, momentum=0.9,
          weight_decay=5e-4, schedule="cosine", seed=0, device=None, callback=None,
          stop_epoch=None, progress=True, desc="train"):
    """Train ``model`` in place on ``(images, labels)``; return the per-epoch history.

    Parameters
    ----------
    model : torch.nn.Module
    images : torch.Tensor ``(N, C, H, W)``; labels : torch.Tensor ``(N,)``
    epochs : int
        Length of the cosine schedule.
    batch_size, lr, momentum, weight_decay
        SGD (Nesterov) settings; a final batch of a single sample is skipped (BatchNorm).
    schedule : {'cosine', 'constant'}
        Learning-rate schedule over ``epochs`` (the CelebA recipe uses a constant rate).
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

    Returns
    -------
    list of dict
        ``{'epoch', 'loss', 'accuracy'}`` per epoch (training-batch averages).

    Raises
    ------
    TrainingDiverged
        If the loss becomes NaN or infinite.

    Examples
    --------
    >>> from spurlab import load_dataset, make_model
    >>> tr, _ = load_dataset("shapes", n_train=300, n_test=60)
    >>> hist = train(make_model(), tr.images, tr.labels, epochs=1, progress=False)
    >>> sorted(hist[0])
    ['accuracy', 'epoch', 'loss']
    """
    _check_data(images, labels)
    epochs = check_int("epochs", epochs, low=1)
    batch_size = check_int("batch_size", batch_size, low=2)
    lr = check_fraction("lr", lr, high=10.0, low_open=True)
    momentum = check_fraction("momentum", momentum, high_open=True)
    weight_decay = check_fraction("weight_decay", weight_decay)
    seed = check_seed(seed)
    check_choice("schedule", schedule, ("cosine", "constant"))
    if stop_epoch is not None:
        stop_epoch = check_int("stop_epoch", stop_epoch, low=1, high=epochs)
    dev = get_device(device)
    cuda = dev.type == "cuda"
    # channels_last: on CUDA as usual; on the CPU it measured 1.6x faster for the tiny CNN
    fmt = torch.channels_last if dev.type in ("cuda", "cpu") else torch.contiguous_format
    model.to(dev, memory_format=fmt)
    x = images.to(dev, memory_format=fmt, non_blocking=True)
    y = labels.to(dev)
    n = len(x)
    starts = [s for s in range(0, n, batch_size) if min(batch_size, n - s) > 1]
    total = epochs * len(starts)
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum, nesterov=momentum > 0,
                          weight_decay=weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, (lambda s: 1.0) if schedule == "constant"
        else (lambda s: 0.5 * (1 + math.cos(math.pi * min(s, total) / total))))
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
                with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=cuda):
                    out = model(as_float(x[idx]).contiguous(memory_format=fmt))
                    loss = F.cross_entropy(out, y[idx])
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                sched.step()
                loss_sum += loss.detach() * len(idx)
                correct += (out.argmax(1) == y[idx]).sum()
                seen += len(idx)
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
def predict_logits(model, images, *, batch_size=1024, device=None):
    """Logits of ``model`` (eval mode) for ``images``, batched; returned on the CPU as float32.

    Examples
    --------
    >>> import torch
    >>> from spurlab import make_model
    >>> predict_logits(make_model(), torch.rand(5, 1, 16, 16)).shape
    torch.Size([5, 6])
    """
    _check_images(images)
    batch_size = check_int("batch_size", batch_size, low=1)
    dev = next(model.parameters()).device if device is None else get_device(device)
    cuda = dev.type == "cuda"
    was_training = model.training
    model.eval()
    outs = []
    for s in range(0, len(images), batch_size):
        xb = as_float(images[s:s + batch_size].to(dev, non_blocking=True))
        if dev.type in ("cuda", "cpu"):
            xb = xb.contiguous(memory_format=torch.channels_last)
        with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=cuda):
            outs.append(model(xb).float().cpu())
    model.train(was_training)
    return torch.cat(outs) if outs else torch.zeros(0)


def predict(model, images, **kwargs):
    """Predicted class per image (int64, CPU)."""
    return predict_logits(model, images, **kwargs).argmax(1)
