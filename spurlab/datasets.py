"""Image datasets that need no download: the embedded *shapes* set, scikit-learn's digits, and
any ``(images, labels)`` tensors a user brings.

Every dataset is an :class:`ImageSet`: one float32 tensor of images in ``[0, 1]`` with shape
``(N, C, H, W)``, one int64 tensor of labels ``0..K-1``, optional per-sample *latent difficulty*
(known only for generated data), and class names.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field

import numpy as np
import torch

from ._validate import check_fraction, check_int, check_seed
from .defaults import DEFAULTS

SHAPE_CLASSES = ("disk", "square", "triangle", "cross", "ring", "diamond")


@dataclass
class ImageSet:
    """Images, labels and (optionally) each sample's latent difficulty.

    Attributes
    ----------
    images : torch.Tensor
        float32, shape ``(N, C, H, W)``, values in ``[0, 1]``.
    labels : torch.Tensor
        int64, shape ``(N,)``, values ``0..len(classes)-1``.
    classes : tuple of str
        Class names.
    difficulty : torch.Tensor or None
        float32, shape ``(N,)``: how hard the *core* feature is by construction (0 easy, 1 hard).
    name : str
        Short name used in outputs.
    """

    images: torch.Tensor
    labels: torch.Tensor
    classes: tuple
    difficulty: torch.Tensor | None = None
    name: str = "custom"
    meta: dict = field(default_factory=dict)

    def __len__(self):
        return len(self.labels)

    @property
    def num_classes(self):
        return len(self.classes)

    def subset(self, index):
        """Return the samples at ``index`` (any torch/numpy index) as a new ImageSet."""
        index = torch.as_tensor(np.asarray(index), dtype=torch.long)
        diff = None if self.difficulty is None else self.difficulty[index]
        n = len(self)
        # per-sample metadata (e.g. CelebA's groups) is sliced with the samples; the rest is kept
        meta = {k: (v[index] if isinstance(v, torch.Tensor) and v.ndim and len(v) == n else
                    v[index.numpy()] if isinstance(v, np.ndarray) and v.ndim and len(v) == n else v)
                for k, v in self.meta.items()}
        return ImageSet(self.images[index], self.labels[index], self.classes, diff, self.name, meta)

    def class_counts(self):
        """Number of samples in each class, as a list."""
        return torch.bincount(self.labels, minlength=self.num_classes).tolist()


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


def default_root():
    """Folder of the downloaded datasets: ``$SPURLAB_DATA`` if set, else ``~/.spurlab/data``."""
    return os.path.expanduser(os.environ.get("SPURLAB_DATA", os.path.join("~", ".spurlab", "data")))


# --------------------------------------------------------------------------- shapes

def _shape_field(k, u, v):
    """Implicit function of shape ``k`` at local coordinates: < 1 inside, > 1 outside."""
    if k == 0:  # disk
        return torch.sqrt(u * u + v * v) / 0.85
    if k == 1:  # square
        return torch.maximum(u.abs(), v.abs()) / 0.75
    if k == 2:  # triangle, pointing up, circumradius 1
        f = None
        for a in (-math.pi / 2, math.pi / 6, 5 * math.pi / 6):
            h = (-(math.cos(a) * u + math.sin(a) * v)) / 0.5
            f = h if f is None else torch.maximum(f, h)
        return f
    if k == 3:  # diagonal cross (an X)
        r, s = (u + v) / math.sqrt(2), (u - v) / math.sqrt(2)
        bar1 = torch.maximum(r.abs() / 0.28, s.abs() / 0.95)
        bar2 = torch.maximum(s.abs() / 0.28, r.abs() / 0.95)
        return torch.minimum(bar1, bar2)
    if k == 4:  # ring
        return (torch.sqrt(u * u + v * v) - 0.68).abs() / 0.24
    if k == 5:  # diamond
        return (u.abs() + v.abs()) / 1.0
    raise ValueError(k)


def _render(kind, cx, cy, scale, angle, size):
    """Render shapes ``kind`` (n,) centred at (cx, cy) with scale and rotation: (n, size, size)."""
    t = (torch.arange(size, dtype=torch.float32) + 0.5) / size * 2 - 1
    y, x = torch.meshgrid(t, t, indexing="ij")
    x, y = x[None], y[None]
    c, s = torch.cos(angle)[:, None, None], torch.sin(angle)[:, None, None]
    dx, dy = x - cx[:, None, None], y - cy[:, None, None]
    sc = scale[:, None, None]
    u = (c * dx + s * dy) / sc
    v = (-s * dx + c * dy) / sc
    out = torch.zeros(len(kind), size, size)
    # edge softness of about one pixel, whatever the scale
    sharp = (scale[:, None, None] * size / 2)
    for k in range(len(SHAPE_CLASSES)):
        m = kind == k
        if m.any():
            f = _shape_field(k, u[m], v[m])
            out[m] = torch.sigmoid((1 - f) * sharp[m] * 1.5)
    return out


def make_shapes(n=10000, *, size=DEFAULTS["image_size"], seed=DEFAULTS["seed"], hard_fraction=0.3):
    """Generate the embedded *shapes* dataset: six shape classes with graded latent difficulty.

    Each sample draws a latent difficulty ``d`` uniformly in ``[0, 1]``. Easy samples are large,
    centred, upright, high-contrast shapes on a clean background. As ``d`` grows the shape gets
    smaller, moves off-centre, rotates, loses contrast and gains noise and clutter; in the hard
    tail (the top ``hard_fraction`` of ``d``) it is also blended with a shape of another class,
    up to near-ambiguity, and partly occluded. ``d`` is stored in ``ImageSet.difficulty`` so one
    can check that a learned difficulty score (EL2N) recovers it.

    Parameters
    ----------
    n : int
        Number of images (balanced over the six classes).
    size : int
        Side in pixels, 8 to 64.
    seed : int
        Same seed, same images.
    hard_fraction : float
        Fraction of samples in the ambiguous hard tail, in [0, 1].

    Returns
    -------
    ImageSet
        Greyscale images of shape ``(n, 1, size, size)``.

    Examples
    --------
    >>> ds = make_shapes(600, seed=0)
    >>> ds.images.shape, ds.classes[:2]
    (torch.Size([600, 1, 16, 16]), ('disk', 'square'))
    """
    n = check_int("n", n, low=len(SHAPE_CLASSES))
    size = check_int("size", size, low=8, high=64)
    seed = check_seed(seed)
    hard_fraction = check_fraction("hard_fraction", hard_fraction)
    g = torch.Generator().manual_seed(seed)
    K = len(SHAPE_CLASSES)

    def rand(*shape):
        return torch.rand(*shape, generator=g)

    labels = (torch.arange(n) % K)[torch.randperm(n, generator=g)]
    d = rand(n)
    jitter = rand(n, 6)

    scale = 0.78 - 0.36 * d * (0.7 + 0.3 * jitter[:, 0])
    max_off = (1 - scale) * (0.15 + 0.85 * d)
    ang = rand(n, 2) * 2 * math.pi
    rad = torch.sqrt(rand(n))
    cx, cy = max_off * rad * torch.cos(ang[:, 0]), max_off * rad * torch.sin(ang[:, 0])
    angle = (rand(n) * 2 - 1) * (math.pi / 7) * d
    contrast = 1.0 - 0.55 * d * (0.6 + 0.4 * jitter[:, 1])
    img = contrast[:, None, None] * _render(labels, cx, cy, scale, angle, size)

    # hard tail: blend in a shape of another class (ambiguity) and occlude part of the shape
    t0 = 1 - hard_fraction
    tail = ((d - t0) / max(hard_fraction, 1e-6)).clamp(0, 1) if hard_fraction > 0 else d * 0
    other = (labels + 1 + (rand(n) * (K - 1)).long()) % K
    blend = 0.62 * tail ** 1.2 * (0.75 + 0.25 * jitter[:, 2])
    if (blend > 0).any():
        m = blend > 0
        o_scale = scale[m] * (0.9 + 0.2 * rand(int(m.sum())))
        o_img = _render(other[m], cx[m] + 0.1 * (rand(int(m.sum())) - 0.5),
                        cy[m] + 0.1 * (rand(int(m.sum())) - 0.5), o_scale, angle[m], size)
        b = blend[m][:, None, None]
        img[m] = (1 - b) * img[m] + b * contrast[m][:, None, None] * o_img
    occ = tail * jitter[:, 3] > 0.35
    if occ.any():
        idx = occ.nonzero().squeeze(1)
        w = (size * (0.25 + 0.2 * rand(len(idx)))).long()
        x0 = (rand(len(idx)) * (size - w)).long()
        y0 = (rand(len(idx)) * (size - w)).long()
        r = torch.arange(size)
        mx = (r[None] >= x0[:, None]) & (r[None] < (x0 + w)[:, None])
        my = (r[None] >= y0[:, None]) & (r[None] < (y0 + w)[:, None])
        img[idx] *= ~(my[:, :, None] & mx[:, None, :])

    # clutter: a few faint blobs, more and brighter for harder samples
    n_blobs = 3
    t = (torch.arange(size, dtype=torch.float32) + 0.5) / size * 2 - 1
    yy, xx = torch.meshgrid(t, t, indexing="ij")
    bc = rand(n, n_blobs, 2) * 2 - 1
    bw = 0.08 + 0.1 * rand(n, n_blobs)
    ba = (0.45 * d)[:, None] * rand(n, n_blobs)
    blobs = torch.exp(-((xx[None, None] - bc[..., 0, None, None]) ** 2
                        + (yy[None, None] - bc[..., 1, None, None]) ** 2)
                      / (2 * bw[..., None, None] ** 2))
    img = img + (ba[..., None, None] * blobs).sum(1)

    noise_sd = 0.03 + 0.22 * d
    img = img + noise_sd[:, None, None] * torch.randn(n, size, size, generator=g)
    img = img.clamp(0, 1).unsqueeze(1).contiguous()
    return ImageSet(img, labels, SHAPE_CLASSES, d, "shapes",
                    {"seed": seed, "size": size, "hard_fraction": hard_fraction})


# --------------------------------------------------------------------------- digits

def load_digits(size=DEFAULTS["image_size"]):
    """scikit-learn's bundled handwritten digits (1,797 images, 10 classes), upsampled.

    The 8x8 images (values 0-16) are scaled to ``[0, 1]`` and resized bilinearly to
    ``size`` pixels. No download: the data ships inside scikit-learn. Latent difficulty is
    unknown (``difficulty=None``).

    Examples
    --------
    >>> ds = load_digits()
    >>> len(ds), ds.images.shape[1:]
    (1797, torch.Size([1, 16, 16]))
    """
    size = check_int("size", size, low=8, high=64)
    try:
        from sklearn.datasets import load_digits as _sk_digits
    except ImportError as exc:  # pragma: no cover - scikit-learn is a dependency
        raise ImportError("the 'digits' dataset needs scikit-learn: pip install scikit-learn") from exc
    raw = _sk_digits()
    x = torch.tensor(raw.images, dtype=torch.float32).unsqueeze(1) / 16.0
    if size != 8:
        x = torch.nn.functional.interpolate(x, size=(size, size), mode="bilinear",
                                            align_corners=False).clamp(0, 1)
    y = torch.tensor(raw.target, dtype=torch.long)
    return ImageSet(x.contiguous(), y, tuple(str(i) for i in range(10)), None, "digits")


# --------------------------------------------------------------------------- user tensors

def from_tensors(images, labels, *, classes=None, difficulty=None, name="custom"):
    """Wrap user tensors as an :class:`ImageSet`, checking shapes, dtypes and value range.

    Parameters
    ----------
    images : array-like
        ``(N, C, H, W)`` or ``(N, H, W)``, at least 8x8 pixels; float values in ``[0, 1]``, or
        uint8 in ``[0, 255]`` (divided by 255). Channels-last ``(N, H, W, C)`` arrays are
        refused with the ``permute`` that fixes them.
    labels : array-like
        ``(N,)`` integers ``0..K-1``; every class must have at least one sample.
    classes : sequence of str, optional
        Class names; default ``"0".."K-1"``.
    difficulty : array-like, optional
        ``(N,)`` finite per-sample difficulty, if known.

    Examples
    --------
    >>> import torch
    >>> ds = from_tensors(torch.rand(20, 1, 8, 8), torch.arange(20) % 2)
    >>> ds.num_classes
    2
    """
    from ._validate import check_image_layout, check_images

    def _tensor(what, value):
        if isinstance(value, torch.Tensor):
            return value.detach().cpu()
        try:
            arr = np.asarray(value)
        except (TypeError, ValueError):
            arr = None
        if arr is None or arr.dtype.kind not in "biuf":
            raise TypeError(f"{what} must be an array or tensor of numbers; got "
                            f"{type(value).__name__}")
        return torch.as_tensor(arr)

    x = _tensor("images", images)
    y = _tensor("labels", labels)
    if x.ndim == 3:
        x = x.unsqueeze(1)
    check_image_layout("images", x.shape)
    if y.ndim != 1 or len(y) != len(x):
        raise ValueError(f"labels must have shape ({len(x)},) to match images; got {tuple(y.shape)}")
    if len(x) == 0:
        raise ValueError("images must hold at least one sample; got 0")
    if min(x.shape[-2:]) < 8:
        raise ValueError(f"images must be at least 8x8 pixels (the models downsample three "
                         f"times); got {x.shape[-2]}x{x.shape[-1]}")
    if x.dtype == torch.uint8:
        x = x.float() / 255.0
    elif not x.is_floating_point():
        raise TypeError(f"images must be float in [0, 1] or uint8; got dtype {x.dtype}")
    x = check_images("images", x.float().contiguous(), unit_range=True)
    if y.is_floating_point() or y.is_complex() or y.dtype == torch.bool:
        raise TypeError(f"labels must be integers; got dtype {y.dtype}")
    y = y.long()
    if y.min() < 0:
        raise ValueError(f"labels must be 0..K-1; got {y.min().item()}")
    if classes is not None:
        if isinstance(classes, (str, bytes)) or not hasattr(classes, "__len__"):
            raise TypeError(f"classes must be a list of class names; got {classes!r}")
        if len(set(map(str, classes))) != len(classes):
            raise ValueError(f"classes must be distinct names; got {list(classes)!r}")
    k = int(y.max()) + 1 if classes is None else len(classes)
    if y.max() >= k:
        raise ValueError(f"labels must be below len(classes)={k}; got {y.max().item()}")
    counts = torch.bincount(y, minlength=k)
    if (counts == 0).any():
        empty = counts.eq(0).nonzero().flatten().tolist()
        raise ValueError(f"labels must cover every class; classes {empty} have no sample")
    if k < 2:
        raise ValueError(f"labels must have at least 2 classes; got {k}")
    classes = tuple(str(i) for i in range(k)) if classes is None else tuple(map(str, classes))
    if not isinstance(name, str) or not name:
        raise TypeError(f"name must be a non-empty string; got {name!r}")
    diff = None
    if difficulty is not None:
        try:
            diff = torch.as_tensor(np.asarray(difficulty, dtype=np.float32))
        except (TypeError, ValueError):
            raise TypeError(f"difficulty must be ({len(y)},) numbers; got "
                            f"{type(difficulty).__name__}") from None
        if diff.shape != (len(y),) or not torch.isfinite(diff).all():
            raise ValueError(f"difficulty must be ({len(y)},) finite values; got shape "
                             f"{tuple(diff.shape)}"
                             + ("" if diff.shape != (len(y),) else " with NaN/inf values"))
    return ImageSet(x, y, classes, diff, name)


def train_test_split(ds, test_fraction=0.25, *, seed=DEFAULTS["seed"]):
    """Split an :class:`ImageSet` into stratified train and test sets (same seed, same split).

    Examples
    --------
    >>> train, test = train_test_split(make_shapes(600), 0.25)
    >>> len(train), len(test)
    (450, 150)
    """
    test_fraction = check_fraction("test_fraction", test_fraction, low_open=True, high_open=True)
    seed = check_seed(seed)
    g = torch.Generator().manual_seed(seed)
    tr, te = [], []
    for k in range(ds.num_classes):
        idx = (ds.labels == k).nonzero().flatten()
        idx = idx[torch.randperm(len(idx), generator=g)]
        n_te = int(round(len(idx) * test_fraction))
        if n_te == 0 or n_te == len(idx):
            raise ValueError(f"test_fraction={test_fraction} leaves class {k} ({len(idx)} samples) "
                             "with an empty train or test part")
        te.append(idx[:n_te])
        tr.append(idx[n_te:])
    tr, te = torch.cat(tr).sort().values, torch.cat(te).sort().values
    return ds.subset(tr), ds.subset(te)
