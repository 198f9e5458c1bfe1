"""Solutions to notebook 01 (a shortcut the network loves)."""

import torch


def accuracy(pred, labels):
    """Share of samples whose prediction equals the label.

    Examples
    --------
    >>> accuracy(torch.tensor([0, 1, 1]), torch.tensor([0, 1, 0]))
    0.6666666865348816
    """
    return float((torch.as_tensor(pred) == torch.as_tensor(labels)).float().mean())


def spurious_rate(pred, labels, c1):
    """Spurious misclassification rate: share of the samples NOT of class ``c1`` that are
    predicted ``c1`` (pass predictions on the stamped images; on clean ones it is the baseline).

    Examples
    --------
    >>> spurious_rate(torch.tensor([4, 4, 1]), torch.tensor([4, 0, 1]), 4)
    0.5
    """
    pred, labels = torch.as_tensor(pred), torch.as_tensor(labels)
    return float((pred[labels != c1] == c1).float().mean())


def is_it_a_shortcut():
    """A bold line (salience 1.0) on 5% of the rings: which comparison decides whether the
    carriers taught the network a shortcut, and was one learned? The no-carrier model decides:
    SMR clean only shows that the line changes predictions, and a bold white row does that even
    to a network that never saw a carrier. Whether the baseline's excess over that model is
    beyond noise is the atlas's verdict over seeds (spurlab's rule combines each seed's test:
    there the seeds together show it, so it was learned, though most of the SMR is not from the
    carriers).

    Examples
    --------
    >>> is_it_a_shortcut()
    ('no-carrier model', True)
    """
    from spurlab.atlas import load_atlas

    atlas = load_atlas()
    point = atlas.point(1.0, 0.05, atlas.grid["prune_ratio"][0])   # the baseline: any ratio
    return "no-carrier model", bool(point["verdict"].learned)
