"""Models, chosen by name: ``'tiny'`` (CPU-speed CNN, the default), ``'resnet20'`` (He et al.'s
CIFAR ResNet-20, the model of the paper's CIFAR-10S reference code), ``'resnet18'`` (the
CIFAR-style ResNet-18 commonly used for CIFAR-10, for GPU use) and ``'resnet50'`` (torchvision's
ImageNet ResNet-50, the CelebA and Waterbirds protocols').
"""

from __future__ import annotations

import functools
import math
import threading

import torch
from torch import nn

from ._validate import check_choice, check_int, check_seed
from .defaults import DATA_SHAPE, DEFAULTS

MODELS = ("tiny", "resnet20", "resnet18", "resnet50")
# how a model normalises its input (Config.normalize): not at all (images in [0, 1]), or by
# CIFAR-10's per-channel training-set mean and standard deviation, the CIFAR recipe's
# transforms.Normalize. (Many CIFAR codes copy the std (0.2023, 0.1994, 0.2010), which is not
# the training set's; these are its measured values.)
NORMALIZE_CHOICES = ("none", "cifar")
NORMALIZE_STATS = {"cifar": ((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616))}


class Normalize(nn.Module):
    """``(x - mean) / std`` per channel, the model's first step (so every caller of the model,
    training, scoring and every probe, feeds it images in [0, 1] alike)."""

    def __init__(self, mean, std):
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, -1, 1, 1))
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(1, -1, 1, 1))

    def forward(self, x):
        return (x - self.mean.to(x.dtype)) / self.std.to(x.dtype)
_GLOBAL_RNG = threading.Lock()       # the global generator, for the one model that must use it


def _conv_bn(cin, cout):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout),
                         nn.ReLU(inplace=True))


class TinyCNN(nn.Module):
    """Three conv-BN-ReLU-maxpool blocks (widths 16-32-64 by default) and a flat linear head.

    About 25k parameters at 16x16 input; trains at tens of thousands of images per second on a
    2-core CPU.
    """

    def __init__(self, in_channels=DATA_SHAPE["in_channels"], num_classes=DATA_SHAPE["num_classes"],
                 image_size=DEFAULTS["image_size"], widths=(16, 32, 64)):
        super().__init__()
        layers, c = [], in_channels
        for w in widths:
            layers += [_conv_bn(c, w), nn.MaxPool2d(2)]
            c = w
        self.features = nn.Sequential(*layers)
        side = image_size // 2 ** len(widths)
        if side < 1:
            raise ValueError(f"image_size must be at least {2 ** len(widths)}; got {image_size}")
        self.head = nn.Linear(c * side * side, num_classes)
        self.norm = None            # make_model(normalize=...) sets a Normalize here

    def forward(self, x):
        if self.norm is not None:
            x = self.norm(x)
        return self.head(torch.flatten(self.features(x), 1))


class _Block(nn.Module):
    """The basic block of the CIFAR ResNets: two 3x3 conv-BN layers and a shortcut. Where the
    shape changes the shortcut is a 1x1 conv-BN (``shortcut='conv'``, ResNet-18), or the input
    subsampled by the stride and zero-padded to the new width (``shortcut='pad'``: He et al.'s
    option A, ResNet-20), which adds no parameters."""

    def __init__(self, cin, cout, stride, shortcut="conv"):
        super().__init__()
        self.c1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.b1 = nn.BatchNorm2d(cout)
        self.c2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.b2 = nn.BatchNorm2d(cout)
        self.short = nn.Sequential()
        self.stride, self.pad = stride, (cout - cin if shortcut == "pad" else None)
        if self.pad is None and (stride != 1 or cin != cout):
            self.short = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                       nn.BatchNorm2d(cout))

    def forward(self, x):
        out = self.b2(self.c2(torch.relu(self.b1(self.c1(x)))))
        if self.pad is None:
            short = self.short(x)
        else:
            short = x[:, :, ::self.stride, ::self.stride]
            if self.pad:
                short = nn.functional.pad(short, (0, 0, 0, 0, self.pad // 2,
                                                  self.pad - self.pad // 2))
        return torch.relu(out + short)


class _CifarResNet(nn.Module):
    """The CIFAR ResNet layout: a 3x3 stem (no max-pool) of ``widths[0]`` channels, one stage of
    ``per_stage`` blocks per width (stride 2 entering every stage after the first), global
    average pooling and a linear head."""

    def __init__(self, in_channels, num_classes, widths, per_stage, block):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(in_channels, widths[0], 3, 1, 1, bias=False),
                                  nn.BatchNorm2d(widths[0]), nn.ReLU(inplace=True))
        blocks, c = [], widths[0]
        for i, w in enumerate(widths):
            for j in range(per_stage):
                blocks.append(block(c, w, 2 if (j == 0 and i > 0) else 1))
                c = w
        self.blocks = nn.Sequential(*blocks)
        self.head = nn.Linear(c, num_classes)
        self.norm = None            # make_model(normalize=...) sets a Normalize here

    def forward(self, x):
        if self.norm is not None:
            x = self.norm(x)
        x = self.blocks(self.stem(x))
        return self.head(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))


class ResNet18(_CifarResNet):
    """CIFAR-style ResNet-18: 3x3 stem, no max-pool, four stages of two basic blocks."""

    def __init__(self, in_channels=3, num_classes=10, width=64):
        super().__init__(in_channels, num_classes, [width, 2 * width, 4 * width, 8 * width], 2,
                         _Block)


class ResNet20(_CifarResNet):
    """He et al.'s CIFAR ResNet-20 (2016, section 4.2): a 3x3 stem of 16 channels, three stages
    of three basic blocks (16, 32, 64 channels; stride 2 entering the second and third), global
    average pooling and a linear head; parameter-free shortcuts. 0.27M parameters for 10
    classes: the model the paper's CIFAR-10S reference code trains."""

    def __init__(self, in_channels=3, num_classes=10, blocks_per_stage=3):
        super().__init__(in_channels, num_classes, (16, 32, 64), blocks_per_stage,
                         functools.partial(_Block, shortcut="pad"))


def _resnet50(num_classes, pretrained, allow_random_init):
    import warnings

    import torchvision

    weights = None
    if pretrained:
        try:
            weights = torchvision.models.ResNet50_Weights.IMAGENET1K_V1
            model = torchvision.models.resnet50(weights=weights)
        except Exception as exc:  # no network, no cached weights
            if not allow_random_init:
                raise RuntimeError(
                    f"could not load ImageNet-pretrained ResNet-50 weights ({exc}); they download "
                    "once into ~/.cache/torch/hub. Connect to the network, or pass "
                    "allow_random_init=True to train a randomly initialised model") from exc
            warnings.warn("ImageNet weights unavailable: using a RANDOMLY INITIALISED ResNet-50; "
                          "results will not match the paper", RuntimeWarning, stacklevel=3)
            model = torchvision.models.resnet50(weights=None)
    else:
        model = torchvision.models.resnet50(weights=None)
    model.fc = nn.Linear(model.fc.in_features, num_classes)
    return model


def make_model(name=DEFAULTS["model"], *, in_channels=DATA_SHAPE["in_channels"],
               num_classes=DATA_SHAPE["num_classes"], image_size=DEFAULTS["image_size"],
               seed=DEFAULTS["seed"], pretrained=DEFAULTS["pretrained"], allow_random_init=False,
               normalize=DEFAULTS["normalize"]):
    """Build a freshly initialised model by name; the same seed gives the same weights.

    ``normalize='cifar'`` makes the model's first step a :class:`Normalize` by CIFAR-10's
    channel statistics (:data:`NORMALIZE_STATS`; 3 input channels; not for ``'resnet50'``).

    ``'resnet50'`` is torchvision's ImageNet ResNet-50 (3 input channels) with a new head;
    ``pretrained=True`` loads ImageNet weights (downloaded once), and if they cannot be had
    raises a clear error, or with ``allow_random_init=True`` warns and starts from random weights.

    Examples
    --------
    >>> m = make_model("tiny", in_channels=1, num_classes=6, image_size=16)
    >>> sum(p.numel() for p in m.parameters()) < 40_000
    True
    """
    check_choice("model", name, MODELS)
    in_channels = check_int("in_channels", in_channels, low=1)
    num_classes = check_int("num_classes", num_classes, low=2)
    image_size = check_int("image_size", image_size, low=8)
    seed = check_seed(seed)
    check_choice("normalize", normalize, NORMALIZE_CHOICES)
    if normalize != "none" and (name == "resnet50" or in_channels != 3):
        raise ValueError(f"normalize={normalize!r} takes 3-channel images and a model trained "
                         f"from scratch; got model={name!r} with in_channels={in_channels}")
    if name == "resnet50":
        if in_channels != 3:
            raise ValueError(f"in_channels must be 3 for resnet50; got {in_channels}")
        # torchvision's model draws from the global generator: seeded, one build at a time
        with _GLOBAL_RNG, torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            return _resnet50(num_classes, pretrained, allow_random_init)
    # built without drawing (on the meta device), then initialised from a generator of its own:
    # the same weights torch's default initialisation gives after manual_seed(seed), drawn in
    # the same order, but never from the global generator, so threads cannot interleave draws
    with torch.device("meta"):
        model = (TinyCNN(in_channels, num_classes, image_size) if name == "tiny"
                 else ResNet20(in_channels, num_classes) if name == "resnet20"
                 else ResNet18(in_channels, num_classes))
    model.to_empty(device="cpu")
    model = _initialise(model, torch.Generator().manual_seed(seed))
    if normalize != "none":
        model.norm = Normalize(*NORMALIZE_STATS[normalize])
    return model


def _initialise(model, generator):
    """torch's default initialisation of every layer, in registration (= construction) order,
    drawn from ``generator``."""
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.kaiming_uniform_(m.weight, a=math.sqrt(5), generator=generator)
            if m.bias is not None:
                fan_in, _ = nn.init._calculate_fan_in_and_fan_out(m.weight)
                bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
                nn.init.uniform_(m.bias, -bound, bound, generator=generator)
        elif isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.reset_parameters()
    return model
