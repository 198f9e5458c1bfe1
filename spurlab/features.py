"""Spurious features: patterns stamped onto images, each with a **salience** knob.

Every feature is an alpha blend ``x' = (1 - s*m) * x + s*m * v`` of the image ``x`` with a pattern
of values ``v`` under a spatial mask ``m`` in ``[0, 1]``; ``s`` is the salience (opacity). At
salience 0 the feature is invisible; at 1 it replaces the pixels under the mask. Geometry
(thickness, size) is a second salience knob: a thicker line is easier to learn.

Examples
--------
>>> import torch
>>> x = torch.zeros(2, 1, 16, 16)
>>> Line(salience=0.5).apply(x)[0, 0, 8, :3]
tensor([0.5000, 0.5000, 0.5000])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ._validate import check_choice, check_finite_values, check_fraction, check_images, check_int
from .defaults import DEFAULTS

FEATURES = ("line", "patch", "tint")


def _check_images(images):
    """Images to stamp: a float ``(N, C, H, W)`` tensor or numpy array with values in [0, 1]."""
    if isinstance(images, np.ndarray):
        images = torch.from_numpy(images)
    check_images("images", images, unit_range=True)
    if not images.is_floating_point():
        raise TypeError(f"images must be floating point with values in [0, 1]; got dtype "
                        f"{images.dtype} (uint8 images: spurlab.as_float(images))")
    return images


def _colour(name, value):
    """A feature colour: one value or one per channel (3 for RGB), finite, in [0, 1]."""
    v = check_finite_values(name, value, low=0.0, high=1.0)
    if v.ndim > 1:
        raise ValueError(f"{name} must be one number or one per channel (e.g. 3 for RGB); got "
                         f"shape {tuple(v.shape)}")
    return value


def _values(value, channels, device, dtype):
    v = torch.as_tensor(value, dtype=dtype, device=device).flatten()
    if v.numel() == 1:
        v = v.expand(channels)
    elif v.numel() == 3 and channels == 1:
        v = (v * torch.tensor([0.299, 0.587, 0.114], dtype=dtype, device=device)).sum(0, keepdim=True)
    elif v.numel() != channels:
        raise ValueError(f"value must have 1 or {channels} entries for {channels}-channel images; "
                         f"got {v.numel()}")
    return v.view(1, -1, 1, 1)


class SpuriousFeature:
    """Base class: subclasses define :meth:`mask` and :meth:`pattern`; :meth:`apply` blends."""

    salience: float = 1.0

    def mask(self, height, width, device=None):
        """Spatial mask ``(H, W)`` in [0, 1]: where the feature is drawn."""
        raise NotImplementedError

    def pattern(self, images):
        """Values the masked pixels are blended toward, broadcastable to ``images``."""
        raise NotImplementedError

    def apply(self, images):
        """Return a stamped copy of ``images`` (``(N, C, H, W)`` float tensor or numpy array,
        values in [0, 1]); a numpy array in gives a numpy array out."""
        as_numpy = isinstance(images, np.ndarray)
        images = _check_images(images)
        m = self.mask(images.shape[-2], images.shape[-1], images.device).to(images.dtype)
        a = self.salience * m
        channel = getattr(self, "channel", None)
        if channel is not None:         # one colour channel only (the reference's red line)
            if channel >= images.shape[1]:
                raise ValueError(f"channel must be below the images' {images.shape[1]} "
                                 f"channel(s); got {channel}")
            only = torch.zeros(images.shape[1], 1, 1, dtype=images.dtype, device=images.device)
            only[channel] = 1
            a = a * only
        out = ((1 - a) * images + a * self.pattern(images)).clamp_(0, 1)
        return out.numpy() if as_numpy else out

    __call__ = apply

    def describe(self):
        """One-line human description."""
        return repr(self)

    def short_name(self):
        """What texts call the feature: its ``name`` (a pattern's, an attribute's), else its kind
        (``'line'``, ``'patch'``, ``'tint'``)."""
        return getattr(self, "name", None) or type(self).__name__.lower()


@dataclass
class Attribute(SpuriousFeature):
    """A spurious attribute the images already have (CelebA's ``Eyeglasses``): nothing to stamp.

    Scenarios built on it (:func:`spurlab.scenario.attribute_scenario`) take the carriers and
    the test groups from the dataset's own labels; :meth:`apply` refuses.

    Examples
    --------
    >>> Attribute("Eyeglasses").describe()
    "the natural attribute 'Eyeglasses'"
    """

    name: str = "attribute"
    salience: float = 1.0

    def apply(self, images):
        raise NotImplementedError(f"the natural attribute {self.name!r} cannot be stamped on images; "
                                  "its carriers come from the dataset's labels")

    __call__ = apply

    def describe(self):
        return f"the natural attribute {self.name!r}"


@dataclass
class Line(SpuriousFeature):
    """A line through the image centre (the paper's CIFAR-10S feature).

    Parameters
    ----------
    salience : float in [0, 1]
        Opacity of the line.
    thickness : int >= 1
        Width in pixels.
    orientation : {'horizontal', 'vertical'}
    value : float or sequence
        Colour of the line (1.0 = white; three values for RGB).
    channel : int, optional
        Draw on this colour channel only, leaving the others as they are (the CIFAR-10S
        reference code's line: ``channel=0``, red, ``value=191/255``, ``salience=1``).
        ``None`` (default): every channel.

    Examples
    --------
    >>> x = torch.zeros(1, 3, 32, 32)
    >>> red = Line(salience=1.0, orientation="vertical", value=191 / 255, channel=0).apply(x)
    >>> (red[0, :, 5, 16] * 255).round().tolist(), float(red[0, 0, 5, 15])
    ([191.0, 0.0, 0.0], 0.0)
    """

    salience: float = DEFAULTS["salience"]
    thickness: int = DEFAULTS["thickness"]
    orientation: str = DEFAULTS["orientation"]
    value: object = DEFAULTS["feature_value"]
    channel: int | None = DEFAULTS["feature_channel"]

    def __post_init__(self):
        self.salience = check_fraction("salience", self.salience)
        self.thickness = check_int("thickness", self.thickness, low=1)
        check_choice("orientation", self.orientation, ("horizontal", "vertical"))
        self.value = _colour("value", self.value)
        if self.channel is not None:
            self.channel = check_int("channel", self.channel, low=0)

    def mask(self, height, width, device=None):
        n = height if self.orientation == "horizontal" else width
        if self.thickness > n:
            raise ValueError(f"thickness must be at most the image side {n}; got {self.thickness}")
        start = n // 2 - self.thickness // 2
        m = torch.zeros(height, width, device=device)
        if self.orientation == "horizontal":
            m[start:start + self.thickness, :] = 1
        else:
            m[:, start:start + self.thickness] = 1
        return m

    def pattern(self, images):
        return _values(self.value, images.shape[1], images.device, images.dtype)


@dataclass
class Patch(SpuriousFeature):
    """A square patch (checkerboard by default) at a corner or the centre.

    Parameters
    ----------
    salience : float in [0, 1]
        Opacity.
    size : int >= 1
        Side in pixels.
    position : {'top-left', 'top-right', 'bottom-left', 'bottom-right', 'center'}
    value : float or sequence, or 'checker'
        Fill colour, or a black/white checkerboard.
    """

    salience: float = 0.5
    size: int = 3
    position: str = "top-left"
    value: object = "checker"

    def __post_init__(self):
        self.salience = check_fraction("salience", self.salience)
        self.size = check_int("size", self.size, low=1)
        check_choice("position", self.position,
                     ("top-left", "top-right", "bottom-left", "bottom-right", "center"))
        if isinstance(self.value, str):
            check_choice("value", self.value, ("checker",))
        else:
            self.value = _colour("value", self.value)

    def _box(self, height, width):
        if self.size > min(height, width):
            raise ValueError(f"size must be at most the image side {min(height, width)}; got {self.size}")
        s = self.size
        r0 = {"top": 0, "bottom": height - s}.get(self.position.split("-")[0], (height - s) // 2)
        c0 = {"left": 0, "right": width - s}.get(self.position.split("-")[-1], (width - s) // 2)
        return r0, c0

    def mask(self, height, width, device=None):
        r0, c0 = self._box(height, width)
        m = torch.zeros(height, width, device=device)
        m[r0:r0 + self.size, c0:c0 + self.size] = 1
        return m

    def pattern(self, images):
        h, w = images.shape[-2:]
        if isinstance(self.value, str):
            check_choice("value", self.value, ("checker",))
            r = torch.arange(h, device=images.device)
            c = torch.arange(w, device=images.device)
            return ((r[:, None] + c[None, :]) % 2).to(images.dtype).expand(1, 1, h, w)
        return _values(self.value, images.shape[1], images.device, images.dtype)


@dataclass
class Tint(SpuriousFeature):
    """A colour cast over the whole image (on greyscale images: a brightness cast).

    Parameters
    ----------
    salience : float in [0, 1]
        Strength of the cast (blend weight toward ``color``).
    color : sequence of 3 floats
        RGB in [0, 1]; greyscale images use its luminance.
    """

    salience: float = 0.15
    color: tuple = (1.0, 0.5, 0.0)

    def __post_init__(self):
        self.salience = check_fraction("salience", self.salience)
        self.color = _colour("color", self.color)

    def mask(self, height, width, device=None):
        return torch.ones(height, width, device=device)

    def pattern(self, images):
        return _values(self.color, images.shape[1], images.device, images.dtype)


class Pattern(SpuriousFeature):
    """A user-defined feature: a mask and values, or any callable ``images -> images``.

    Parameters
    ----------
    mask : array-like (H, W) in [0, 1], optional
        Where to draw.
    values : float, sequence or array broadcastable to (C, H, W), optional
        What to draw there (default white).
    fn : callable, optional
        Instead of mask/values: ``fn(images)`` returns the fully stamped images; salience then
        blends ``(1 - s) * x + s * fn(x)``.
    salience : float in [0, 1]
    name : str

    Examples
    --------
    >>> import torch
    >>> m = torch.zeros(16, 16); m[0, :] = 1          # a line along the top edge
    >>> Pattern(mask=m, salience=0.3).apply(torch.zeros(1, 1, 16, 16))[0, 0, 0, 0]
    tensor(0.3000)
    """

    def __init__(self, mask=None, values=1.0, *, fn=None, salience=1.0, name="pattern"):
        self.salience = check_fraction("salience", salience)
        if (mask is None) == (fn is None):
            raise ValueError("Pattern needs exactly one of mask= or fn=; got "
                             f"mask={'set' if mask is not None else None}, fn={fn!r}")
        if fn is not None and not callable(fn):
            raise TypeError(f"fn must be callable; got {type(fn).__name__}")
        if not isinstance(name, str):
            raise TypeError(f"name must be a string; got {name!r} ({type(name).__name__})")
        self.fn = fn
        self.name = name
        self._mask = None
        if mask is not None:
            m = torch.as_tensor(mask, dtype=torch.float32)
            if m.ndim != 2:
                raise ValueError(f"mask must be 2-D (H, W); got shape {tuple(m.shape)}")
            if torch.isnan(m).any() or m.min() < 0 or m.max() > 1:
                raise ValueError(f"mask must have values in [0, 1]; got range "
                                 f"[{m.min().item():.3g}, {m.max().item():.3g}]")
            self._mask = m
        check_finite_values("values", values, low=0.0, high=1.0)
        self.values = values

    def mask(self, height, width, device=None):
        if self._mask is None:
            return torch.ones(height, width, device=device)
        if tuple(self._mask.shape) != (height, width):
            raise ValueError(f"mask has shape {tuple(self._mask.shape)} but images are "
                             f"{height}x{width}")
        return self._mask.to(device)

    def pattern(self, images):
        v = torch.as_tensor(np.asarray(self.values), dtype=images.dtype, device=images.device)
        if v.ndim <= 1:
            return _values(v, images.shape[1], images.device, images.dtype)
        try:
            return v.expand_as(images[:1])
        except RuntimeError:
            raise ValueError(f"values of shape {tuple(v.shape)} do not broadcast to the images' "
                             f"(C, H, W) = {tuple(images.shape[1:])}") from None

    def apply(self, images):
        images = _check_images(images)
        if self.fn is None:
            return super().apply(images)
        stamped = torch.as_tensor(self.fn(images.clone()), dtype=images.dtype)
        if stamped.shape != images.shape:
            raise ValueError(f"fn must return images of shape {tuple(images.shape)}; "
                             f"got {tuple(stamped.shape)}")
        if not torch.isfinite(stamped).all():
            raise ValueError(f"fn must return finite values; got "
                             f"{int((~torch.isfinite(stamped)).sum())} NaN/inf values")
        return ((1 - self.salience) * images + self.salience * stamped).clamp_(0, 1)

    def __repr__(self):
        return f"Pattern(name={self.name!r}, salience={self.salience:g})"


def make_feature(name="line", salience=None, **kwargs):
    """Build a feature by name: ``'line'``, ``'patch'`` or ``'tint'``.

    Examples
    --------
    >>> make_feature("patch", salience=0.8, size=4)
    Patch(salience=0.8, size=4, position='top-left', value='checker')
    """
    if isinstance(name, SpuriousFeature):
        return name
    check_choice("feature", name, FEATURES)
    cls = {"line": Line, "patch": Patch, "tint": Tint}[name]
    if salience is not None:
        kwargs["salience"] = salience
    return cls(**kwargs)
