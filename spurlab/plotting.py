"""Figures with labelled axes, a title, a colour-blind-safe palette (Okabe-Ito) and a one-line
takeaway returned beside each figure."""

from __future__ import annotations

import math

OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
             "#000000"]


def plot_result(result, ax=None):
    """Bar chart of the spurious misclassification rate and clean accuracy per model.

    Returns ``(figure, takeaway)``; ``takeaway`` is one sentence to print beside the figure.
    """
    import matplotlib.pyplot as plt

    names, smr, acc = [], [], []
    if result.reference is not None:
        names.append("no carriers")
        smr.append(result.reference["smr"])
        acc.append(result.reference["clean_accuracy"])
    names.append("baseline")
    smr.append(result.baseline["smr"])
    acc.append(result.baseline["clean_accuracy"])
    for name, arm in result.arms.items():
        names.append(f"prune\n{name}")
        smr.append(arm["metrics"]["smr"])
        acc.append(arm["metrics"]["clean_accuracy"])
    if ax is None:
        fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    else:
        axes, fig = ax, ax[0].figure
    colors = [OKABE_ITO[i % len(OKABE_ITO)] for i in range(len(names))]
    axes[0].bar(names, smr, color=colors)
    axes[0].set_ylabel("spurious misclassification rate")
    axes[0].set_title("Stamped non-c1 test images predicted c1")
    axes[1].bar(names, acc, color=colors)
    axes[1].set_ylabel("clean test accuracy")
    axes[1].set_ylim(max(0.0, min(acc) - 0.1), 1.0)
    axes[1].set_title("Accuracy on clean test images")
    for a in axes:
        a.tick_params(axis="x", labelsize=8)
    p = result.config.prune_ratio
    fig.suptitle(f"Pruning {p:.0%} of the training data by early {result.config.score.upper()}")
    fig.tight_layout()
    # lead with the paper's label-free arm when it was run, else the arm with the lowest SMR
    best = ("hardest" if "hardest" in result.arms else
            min(result.arms, key=lambda k: result.arms[k]["metrics"]["smr"]) if result.arms else None)
    if best is None:
        take = f"Baseline SMR {result.baseline['smr']:.1%}."
    else:
        ex = result.excess_removed(best)
        ex_s = "" if math.isnan(ex) else f", removing {ex:.0%} of the excess"
        take = (f"Takeaway: the baseline sends {result.baseline['smr']:.1%} of stamped images to c1; "
                f"pruning '{best}' brings it to {result.arms[best]['metrics']['smr']:.1%}{ex_s}.")
    return fig, take


def bars_with_spread(ax, labels, per_label_values, *, ylabel, title, colors=None):
    """Bars at the mean of each list of per-seed values, sd error bars, and each seed as a dot.

    Returns the means.
    """
    import numpy as np

    means = [float(np.nanmean(v)) for v in per_label_values]
    sds = [float(np.nanstd(v, ddof=1)) if len(v) > 1 else 0.0 for v in per_label_values]
    colors = colors or [OKABE_ITO[i % len(OKABE_ITO)] for i in range(len(labels))]
    x = np.arange(len(labels))
    ax.bar(x, means, yerr=sds, color=colors, capsize=4, alpha=0.85)
    for i, v in enumerate(per_label_values):
        ax.scatter(np.full(len(v), x[i]) + np.linspace(-0.15, 0.15, len(v)), v, color="black",
                   s=10, zorder=3)
    ax.set_xticks(x, labels)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    return means


def gallery(images, *, titles=None, edge_colors=None, ncols=10, title="", size=1.1):
    """A grid of images (``(N, C, H, W)`` in [0, 1]) with optional per-image titles and coloured
    frames (e.g. carrier vs not). Returns the figure."""
    import matplotlib.pyplot as plt

    n = len(images)
    nrows = max(1, -(-n // ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(ncols * size, nrows * size * 1.15),
                             squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.set_xticks([])
        ax.set_yticks([])
        if i >= n:
            ax.axis("off")
            continue
        img = images[i].detach().cpu()
        if img.shape[0] == 1:
            ax.imshow(img[0].numpy(), cmap="gray", vmin=0, vmax=1)
        else:
            ax.imshow(img.permute(1, 2, 0).clamp(0, 1).numpy())
        if titles is not None:
            ax.set_title(str(titles[i]), fontsize=7)
        if edge_colors is not None:
            for sp in ax.spines.values():
                sp.set_edgecolor(edge_colors[i])
                sp.set_linewidth(2.5)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
