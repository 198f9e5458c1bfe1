"""The recipe: the one function spurlab trains every model with.

The baseline, every arm, the reference model, the scoring runs that place carriers,
``spurlab reproduce``, the scripts and the notebooks all call :func:`fit`, so a model trained
anywhere in spurlab is trained the same way (airbench-style: the training loop itself is
:func:`spurlab.train.train`, the knobs are the config's).
"""

from __future__ import annotations

from ._validate import check_seed
from .config import as_config
from .models import make_model
from .train import train


def fit(config, images, labels, *, seed=None, num_classes=None, callback=None, stop_epoch=None,
        device=None, progress=False, desc="train", batch_callback=None):
    """Train a fresh model with ``config``'s recipe; return ``(model, history)``.

    Parameters
    ----------
    config : Config or str
        Supplies the recipe: ``model``, ``pretrained``, ``normalize``, ``epochs``,
        ``batch_size``, ``lr``, ``momentum``, ``nesterov``, ``weight_decay``, ``schedule``,
        ``augment`` (and ``seed`` when ``seed`` is not given).
    images : torch.Tensor (N, C, H, W); labels : torch.Tensor (N,)
    seed : int, optional
        Seeds initialisation and batch order (default ``config.seed``).
    num_classes : int, optional
        Output size (default ``labels.max() + 1``).
    callback : callable, optional
        ``callback(epoch, model)`` after each epoch, model in eval mode.
    stop_epoch : int, optional
        Stop after this epoch, keeping the full-length schedule (early scores).
    batch_callback : callable, optional
        ``batch_callback(indices, logits, labels)`` after each optimizer step (see
        :func:`spurlab.train.train`), e.g. the ``batch_callback`` of
        ``ForgettingTracker(images, labels, per="presentation")`` for Toneva et al.'s
        per-presentation forgetting count.
    device : str, optional
        Default: cuda, else mps, else cpu.
    progress : bool
    desc : str
        Label of the progress bar.

    Examples
    --------
    >>> from spurlab import load_dataset, preset
    >>> tr, _ = load_dataset("shapes", n_train=300, n_test=60)
    >>> model, hist = fit(preset("smoke", epochs=1, score_epoch=1), tr.images, tr.labels)
    >>> len(hist)
    1
    """
    config = as_config(config)
    seed = config.seed if seed is None else check_seed(seed)
    if num_classes is None:
        num_classes = int(labels.max()) + 1 if len(labels) else 0
    model = make_model(config.model, in_channels=images.shape[1], num_classes=num_classes,
                       image_size=images.shape[-1], seed=seed, pretrained=config.pretrained,
                       normalize=config.normalize)
    hist = train(model, images, labels, epochs=config.epochs, batch_size=config.batch_size,
                 lr=config.lr, momentum=config.momentum, nesterov=config.nesterov,
                 augment=config.augment, weight_decay=config.weight_decay,
                 schedule=config.schedule, seed=seed, device=device, callback=callback,
                 stop_epoch=stop_epoch, progress=progress, desc=desc, batch_callback=batch_callback)
    return model, hist


__all__ = ["fit"]
