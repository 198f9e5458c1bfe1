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
