"""Solutions to notebook 00 (start here)."""

import torch


def stamp_line(images, salience):
    """Blend a 1-pixel white horizontal line through the centre row ``H // 2`` of every image.

    Parameters
    ----------
    images : torch.Tensor
        ``(N, C, H, W)`` in [0, 1].
    salience : float
        Opacity in [0, 1]: 0 leaves the images as they are, 1 paints the row white.

    Returns
    -------
    torch.Tensor
        A stamped copy, same shape.

    Examples
    --------
    >>> stamp_line(torch.zeros(1, 1, 4, 4), 0.5)[0, 0, 2]
    tensor([0.5000, 0.5000, 0.5000, 0.5000])
    """
    out = images.clone()
    row = images.shape[-2] // 2
    out[:, :, row, :] = (1 - salience) * out[:, :, row, :] + salience * 1.0
    return out


def prevalence_of(labels, carrier, c1):
    """Share of the class-``c1`` samples that carry the feature.

    Examples
    --------
    >>> prevalence_of(torch.tensor([0, 1, 1]), torch.tensor([True, True, False]), 1)
    0.5
    """
    labels = torch.as_tensor(labels)
    carrier = torch.as_tensor(carrier).bool()
    return float(carrier[labels == c1].float().mean())


def learned_shortcut():
    """Which of A (salience 0.1 on 90% of the rings) and B (salience 0.7 on 10%) a network
    learns as a shortcut, read off the shipped atlas's verdicts over seeds: only the visible
    line. A line that barely changes the pixels is not picked up however many rings carry it;
    a visible one on a few rings is.

    Examples
    --------
    >>> learned_shortcut()
    'B'
    """
    from spurlab.atlas import load_atlas

    atlas = load_atlas()
    ratio = atlas.grid["prune_ratio"][0]          # the baseline does not depend on it
    learned = [name for name, (s, q) in {"A": (0.1, 0.9), "B": (0.7, 0.1)}.items()
               if atlas.point(s, q, ratio)["verdict"].learned]
    return {0: "neither", 2: "both"}.get(len(learned)) or learned[0]
