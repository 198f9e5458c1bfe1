"""Retrain only the last layer of a trained network on held-out data: the field's two
last-layer baselines, on the same footing as pruning.

- **DFR** (Kirichenko, Izmailov & Wilson, ICLR 2023, "Last layer re-training is sufficient for
  robustness to spurious correlations"): the ERM model's penultimate features on a
  **group-labelled** validation split; each group subsampled to the smallest group's size; a
  logistic regression on the standardised features, averaged over several balanced subsamples,
  replaces the last layer. It uses group labels on validation.
- **AFR-style** (after Qiu, Potapczynski, Izmailov & Wilson, ICML 2023, "Simple and fast group
  robustness by automatic feature reweighting"): the last layer retrained on a held-out split
  drawn like the training data, each sample weighted by ``exp(-gamma * p)`` (``p``: the ERM
  model's probability of its true class; weights normalised per class), with an L2 pull toward
  the ERM last layer. It uses no group labels; AFR's own ``gamma`` is tuned on group-labelled
  validation data, ours is fixed (:data:`AFR_GAMMA`), so the arm stays label-free.

Every hyperparameter is in :data:`LAST_LAYER`, with its reason. A leaf of the learning layer.

Examples
--------
>>> import torch
>>> from spurlab.models import TinyCNN
>>> m = TinyCNN(in_channels=1, num_classes=3, image_size=16)
>>> x, y = torch.rand(60, 1, 16, 16), torch.arange(60) % 3
>>> g = 2 * y + (torch.arange(60) % 2)
>>> new = dfr(m, x, y, g, seed=0)
>>> type(new).__name__, new is m
('TinyCNN', False)
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from .defaults import DEFAULTS

# Every hyperparameter of the last-layer arms, with its reason.
LAST_LAYER = {
    "dfr_subsets": 10,       # DFR averages the weights of 10 balanced subsamples (its paper: 10)
    "dfr_l2": 1e-2,          # one fixed penalty (DFR tunes an L1 penalty on half of its split)
    "afr_gamma": 4.0,        # AFR's weight sharpness; fixed, not tuned on group labels
    "afr_l2": 1.0,           # a strong pull toward the ERM head (AFR: L2 to it); at 0.01 the
                             # head overfit the held-out split (clean accuracy 0.80 -> 0.74)
    "steps": 100,            # L-BFGS iterations: full-batch, converged on a few hundred samples
}
AFR_GAMMA = LAST_LAYER["afr_gamma"]


def last_linear(model):
    """The last ``nn.Linear`` of ``model`` (its classification head)."""
    found = [m for m in model.modules() if isinstance(m, nn.Linear)]
    if not found:
        raise ValueError(f"model must end in an nn.Linear head to retrain its last layer; "
                         f"{type(model).__name__} has none")
    return found[-1]


@torch.no_grad()
def penultimate(model, images, *, batch_size=1024, device=None):
    """The inputs of ``model``'s last layer for ``images`` (eval mode), as a float tensor on the
    CPU."""
    from .device import get_device

    dev = get_device(device)
    head, out = last_linear(model), []
    hook = head.register_forward_hook(lambda mod, inp, outp: out.append(inp[0].float().cpu()))
    was = model.training
    model.eval().to(dev)
    try:
        for i in range(0, len(images), batch_size):
            model(images[i:i + batch_size].to(dev))
    finally:
        hook.remove()
        model.train(was)
    return torch.cat(out)


def fit_linear(z, labels, num_classes, *, weights=None, l2=1e-2, init=None,
               steps=LAST_LAYER["steps"]):
    """Weighted multinomial logistic regression on features ``z`` by full-batch L-BFGS; returns
    ``(W, b)``. The penalty ``l2`` pulls ``W`` toward ``init[0]`` (a ``(W, b)`` pair) or toward 0.
    Standardise ``z`` first (:func:`standardise`): the penalty assumes comparable scales."""
    x = torch.as_tensor(z).double()
    n, d = x.shape
    w = (torch.full((n,), 1.0 / n, dtype=torch.float64) if weights is None else
         torch.as_tensor(weights, dtype=torch.float64) / float(torch.as_tensor(weights).sum()))
    w0 = torch.zeros(num_classes, d, dtype=torch.float64) if init is None else init[0].double()
    b0 = torch.zeros(num_classes, dtype=torch.float64) if init is None else init[1].double()
    W, b = w0.clone().requires_grad_(True), b0.clone().requires_grad_(True)
    opt = torch.optim.LBFGS([W, b], max_iter=steps, line_search_fn="strong_wolfe")
    y = torch.as_tensor(labels, dtype=torch.long)

    def closure():
        opt.zero_grad()
        loss = (nn.functional.cross_entropy(x @ W.T + b, y, reduction="none") * w).sum()
        loss = loss + l2 * ((W - w0) ** 2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    return W.detach(), b.detach()


def standardise(features):
    """``(z, (mean, std))``: the features centred and scaled per dimension (float64)."""
    x = torch.as_tensor(features).double()
    mean, std = x.mean(0), x.std(0).clamp_min(1e-6)
    return (x - mean) / std, (mean, std)


def _standardised_head(head, mean, std):
    """The ERM head expressed on standardised features (``x = mean + std * z``)."""
    W = head.weight.detach().double().cpu()
    b = head.bias.detach().double().cpu()
    return W * std, b + W @ mean


def _with_head(model, W, b, scale):
    """A copy of ``model`` whose last layer computes ``W z + b`` on standardised features."""
    mean, std = scale
    new = copy.deepcopy(model)
    head = last_linear(new)
    with torch.no_grad():
        head.weight.copy_((W / std).to(head.weight.dtype))
        head.bias.copy_((b - (W / std) @ mean).to(head.bias.dtype))
    return new


def dfr(model, images, labels, groups, *, seed=DEFAULTS["seed"], device=None):
    """DFR: a copy of ``model`` with its last layer refitted on group-balanced subsamples of a
    group-labelled validation split (``groups``: one group per image)."""
    groups = torch.as_tensor(groups)
    labels = torch.as_tensor(labels)
    z, scale = standardise(penultimate(model, images, device=device))
    k = int(last_linear(model).out_features)
    members = [torch.nonzero(groups == g).flatten() for g in torch.unique(groups).tolist()]
    smallest = min(len(m) for m in members)
    gen = torch.Generator().manual_seed(int(seed))
    fits = []
    for _ in range(LAST_LAYER["dfr_subsets"]):
        idx = torch.cat([m[torch.randperm(len(m), generator=gen)[:smallest]] for m in members])
        fits.append(fit_linear(z[idx], labels[idx], k, l2=LAST_LAYER["dfr_l2"]))
    W = torch.stack([f[0] for f in fits]).mean(0)
    b = torch.stack([f[1] for f in fits]).mean(0)
    return _with_head(model, W, b, scale)


def afr_weights(model, images, labels, *, gamma=AFR_GAMMA, device=None):
    """AFR's per-sample weights: ``exp(-gamma * p)``, ``p`` the model's probability of the true
    class, normalised so that every class holds the same total weight."""
    from .train import predict_logits

    p = torch.softmax(predict_logits(model, images, device=device).double(), 1)
    p_true = p[torch.arange(len(labels)), torch.as_tensor(labels)]
    w = torch.exp(-gamma * p_true)
    for c in torch.unique(torch.as_tensor(labels)).tolist():
        at = torch.as_tensor(labels) == c
        w[at] = w[at] / w[at].sum()
    return w / w.sum()


def afr(model, images, labels, *, device=None):
    """AFR-style: a copy of ``model`` with its last layer refitted on a held-out split drawn like
    the training data, weighted by :func:`afr_weights`, pulled toward the ERM head."""
    z, scale = standardise(penultimate(model, images, device=device))
    init = _standardised_head(last_linear(model), *scale)
    w = afr_weights(model, images, labels, device=device)
    W, b = fit_linear(z, labels, int(last_linear(model).out_features), weights=w,
                      l2=LAST_LAYER["afr_l2"], init=init)
    return _with_head(model, W, b, scale)


__all__ = ["AFR_GAMMA", "LAST_LAYER", "afr", "afr_weights", "dfr", "fit_linear", "last_linear",
           "penultimate", "standardise"]
