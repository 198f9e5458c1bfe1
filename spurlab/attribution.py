"""A TRAK-style gradient attribution of the shortcut: which training samples, by their
gradients, push stamped images of other classes toward the target class.

At a checkpoint (the scoring epoch), every training sample's loss gradient (all parameters,
eval mode) is randomly projected to :data:`ATTRIBUTION` ``["dim"]`` dimensions (a seeded Gaussian
projection, as TRAK: Park et al., ICML 2023), and so is the gradient of the **probe**: the mean
log-probability of the target class over stamped validation images of the other classes (the
SMR's smooth counterpart). A sample's **blame** is how much one step on it raises the probe,
through the projected kernel: ``blame_i = -phi_i . (Phi^T Phi + lam n I)^-1 psi``. Positive blame:
training on the sample teaches the shortcut.

It needs stamped validation images, i.e. which validation images carry the feature: it uses
feature labels on a validation probe (tag ``'validation'``). A leaf of the learning layer.

Examples
--------
>>> import torch
>>> from spurlab.models import TinyCNN
>>> m = TinyCNN(in_channels=1, num_classes=3, image_size=16).eval()
>>> x, y = torch.rand(20, 1, 16, 16), torch.arange(20) % 3
>>> blame = shortcut_attribution(m, x, y, torch.rand(6, 1, 16, 16), target_class=1)
>>> blame.shape
torch.Size([20])
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .datasets import as_float
from .defaults import DEFAULTS

# Every knob of the attribution, with its reason.
ATTRIBUTION = {
    "dim": 512,              # projection size: TRAK's smallest (512-4096) at a 25k-parameter model
    "lam": 1e-2,             # ridge on the projected kernel, relative to its mean diagonal
    "batch_size": 128,       # per-sample gradients at once (memory: batch x parameters floats)
    "max_parameters": 5_000_000,   # the projection matrix is parameters x dim floats
}


def _projection(model, dim, seed):
    """A seeded Gaussian projection per parameter tensor (scaled by 1 / sqrt(dim))."""
    gen = torch.Generator().manual_seed(int(seed))
    return {k: torch.randn(v.numel(), dim, generator=gen) / dim ** 0.5
            for k, v in model.named_parameters()}


def _check_size(model):
    n = sum(p.numel() for p in model.parameters())
    if n > ATTRIBUTION["max_parameters"]:
        raise ValueError(f"model must have at most {ATTRIBUTION['max_parameters']:,} parameters "
                         f"for the attribution's projection (parameters x {ATTRIBUTION['dim']} "
                         f"floats); got {n:,}: use the teaching scale's model")


def projected_gradients(model, images, labels, *, seed=DEFAULTS["seed"], proj=None):
    """Per-sample loss gradients of ``model`` (eval mode, all parameters), projected: ``(N, dim)``."""
    from torch.func import functional_call, grad, vmap

    _check_size(model)
    proj = proj if proj is not None else _projection(model, ATTRIBUTION["dim"], seed)
    dev = next(model.parameters()).device
    was = model.training
    model.eval()
    params = {k: v.detach() for k, v in model.named_parameters()}
    buffers = {k: v.detach() for k, v in model.named_buffers()}

    def loss_one(p, x, y):
        out = functional_call(model, (p, buffers), (x.unsqueeze(0),))
        return F.cross_entropy(out.float(), y.unsqueeze(0))

    per_sample = vmap(grad(loss_one), in_dims=(None, 0, 0))
    out = []
    try:
        bs = ATTRIBUTION["batch_size"]
        for s in range(0, len(images), bs):
            g = per_sample(params, as_float(images[s:s + bs].to(dev)), labels[s:s + bs].to(dev))
            out.append(sum(g[k].flatten(1).float().cpu() @ proj[k] for k in proj))
    finally:
        model.train(was)
    return torch.cat(out).double()


def probe_gradient(model, probe_images, target_class, *, seed=DEFAULTS["seed"], proj=None):
    """The projected gradient of the probe: the mean log-probability of ``target_class`` over
    ``probe_images`` (eval mode)."""
    _check_size(model)
    proj = proj if proj is not None else _projection(model, ATTRIBUTION["dim"], seed)
    dev = next(model.parameters()).device
    was = model.training
    model.eval()
    try:
        model.zero_grad(set_to_none=True)
        logp = F.log_softmax(model(as_float(probe_images.to(dev))).float(), 1)[:, target_class]
        logp.mean().backward()
        g = sum(p.grad.flatten().float().cpu() @ proj[k] for k, p in model.named_parameters()
                if p.grad is not None)
    finally:
        model.zero_grad(set_to_none=True)
        model.train(was)
    return g.double()


def shortcut_attribution(model, images, labels, probe_images, target_class, *,
                         seed=DEFAULTS["seed"]):
    """Each training sample's blame for the shortcut (see the module): a float64 tensor ``(N,)``,
    positive where a step on the sample raises the probe's log-probability of ``target_class``.
    """
    if len(probe_images) == 0:
        raise ValueError("probe_images must hold at least one stamped image of another class")
    _check_size(model)                      # before the projection is drawn
    proj = _projection(model, ATTRIBUTION["dim"], seed)
    phi = projected_gradients(model, images, torch.as_tensor(labels), proj=proj)
    psi = probe_gradient(model, probe_images, int(target_class), proj=proj)
    kernel = phi.T @ phi
    lam = ATTRIBUTION["lam"] * float(kernel.diagonal().mean())
    kernel += lam * torch.eye(len(kernel), dtype=kernel.dtype)
    return -(phi @ torch.linalg.solve(kernel, psi))


__all__ = ["ATTRIBUTION", "probe_gradient", "projected_gradients", "shortcut_attribution"]
