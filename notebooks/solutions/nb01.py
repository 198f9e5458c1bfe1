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
