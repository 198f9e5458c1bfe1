"""Real image datasets through torchvision: MNIST, Fashion-MNIST and CIFAR-10.

Files live under ``root`` in torchvision's own layout (``root/MNIST/raw/...``,
``root/FashionMNIST/raw/...``, ``root/cifar-10-batches-py/...``); torchvision's checksum checks
stay on. With ``download=False`` (the default) missing files raise ``FileNotFoundError`` saying
where to put them; with ``download=True`` and no network the call fails within ``timeout``
seconds with ``ConnectionError`` instead of hanging, and says what to do (the embedded
``'shapes'`` dataset needs no download).
"""

from __future__ import annotations

import os
import socket
from urllib.parse import urlparse

import numpy as np
import torch

from ._validate import check_choice, check_int, check_seed
from .datasets import ImageSet, default_root
from .defaults import DEFAULTS

REAL_DATASETS = {
    # name: (torchvision class, folder under root, download host)
    "mnist": ("MNIST", "MNIST", "https://ossci-datasets.s3.amazonaws.com/mnist/"),
    "fashion_mnist": ("FashionMNIST", "FashionMNIST",
                      "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"),
    "cifar10": ("CIFAR10", "cifar-10-batches-py",
                "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"),
}



def _reachable(url, timeout):
    """True if a TCP connection to the URL's host opens within ``timeout`` seconds."""
    u = urlparse(url)
    port = u.port or (443 if u.scheme == "https" else 80)
    try:
        with socket.create_connection((u.hostname, port), timeout=timeout):
            return True
    except OSError:
        return False


def _to_imageset(ds, name, n, seed):
    """The (seeded random subset of ``n``) images as float32 in [0, 1]; the subset is taken on
    the uint8 array, so CIFAR-10 never holds all 50,000 images as floats (600 MB)."""
    data = np.asarray(ds.data)
    targets = np.asarray(ds.targets)
    if n is not None and n < len(data):
        g = torch.Generator().manual_seed(seed)
        idx = torch.randperm(len(data), generator=g)[:n].sort().values.numpy()
        data, targets = data[idx], targets[idx]
    x = torch.as_tensor(data)
    if x.ndim == 3:  # (N, H, W) greyscale
        x = x.unsqueeze(1)
    else:  # (N, H, W, C)
        x = x.permute(0, 3, 1, 2)
    x = x.contiguous().float().div_(255.0)
    y = torch.as_tensor(targets, dtype=torch.long)
    classes = tuple(str(c).split(" - ")[-1] for c in ds.classes)
    return ImageSet(x, y, classes, None, name)


def load_real(name, *, root=None, download=False, n_train=None, n_test=None, size=None, seed=DEFAULTS["seed"],
              timeout=5.0):
    """Load a torchvision dataset as ``(train, test)`` :class:`ImageSet` objects.

    Parameters
    ----------
    name : {'mnist', 'fashion_mnist', 'cifar10'}
    root : str, optional
        Data folder (default :func:`default_root`).
    download : bool
        Download missing files (checksums verified by torchvision).
    n_train, n_test : int, optional
        Random subsets of these sizes (seeded), e.g. for quick CPU runs.
    size : int, optional
        Resize images to ``size`` x ``size`` (bilinear).
    seed : int
    timeout : float
        Seconds to wait for the download server before failing.

    Raises
    ------
    FileNotFoundError
        Files missing and ``download=False``.
    ConnectionError
        ``download=True`` but the server cannot be reached.
    RuntimeError
        Files present but corrupt (checksum mismatch).

    Examples
    --------
    >>> load_real("cifar10", root="/nonexistent")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    FileNotFoundError: cifar10 files not found under /nonexistent ...
    """
    check_choice("dataset", name, tuple(REAL_DATASETS))
    seed = check_seed(seed)
    if size is not None:
        size = check_int("size", size, low=8, high=512)
    import torchvision.datasets as tvd

    cls_name, folder, url = REAL_DATASETS[name]
    cls = getattr(tvd, cls_name)
    root = os.path.expanduser(os.fspath(root or default_root()))
    where = os.path.join(root, folder)

    def make(train, dl):
        return cls(root, train=train, download=dl)

    try:
        parts = [make(True, False), make(False, False)]
    except RuntimeError:
        present = os.path.isdir(where) and any(os.scandir(where))
        if present and name == "cifar10":
            raise RuntimeError(
                f"{name} files under {where} are corrupt or incomplete (checksum mismatch); "
                f"delete that folder and download again (download=True), or copy intact files "
                f"from {url}") from None
        if not download:
            raise FileNotFoundError(
                f"{name} files not found under {where}. Pass download=True (needs network) or "
                f"download {url} elsewhere and place it under {root} in torchvision's layout; or "
                "use the embedded dataset, load_dataset('shapes'), which needs no download") from None
        if not _reachable(url, timeout):
            raise ConnectionError(
                f"cannot reach {urlparse(url).hostname} to download {name} (no network?). "
                f"Download {url} on a machine with network and place it under {root}, or use the "
                "embedded dataset, load_dataset('shapes')") from None
        try:
            parts = [make(True, True), make(False, False)]
        except Exception as exc:  # torchvision raises several kinds on failed downloads
            raise ConnectionError(f"downloading {name} failed: {exc}. Place the files under "
                                  f"{root} by hand, or use load_dataset('shapes')") from exc
    train = _to_imageset(parts[0], name, n_train, seed)
    test = _to_imageset(parts[1], name, n_test, seed + 1)
    if size is not None and size != train.images.shape[-1]:
        for s in (train, test):
            s.images = torch.nn.functional.interpolate(
                s.images, size=(size, size), mode="bilinear", align_corners=False).clamp_(0, 1)
    return train, test
