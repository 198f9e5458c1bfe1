"""Spurious scenarios: stamp a feature on some training samples of one class ``c1``.

A scenario fixes the two strength knobs of the spurious signal: **salience** (the feature's own
knob, how visible it is) and **prevalence** (the fraction of ``c1``'s training samples that carry
it), plus **placement** (which ``c1`` samples carry it: random, the easiest, the hardest, a
difficulty band, or an explicit list).

Groups follow the paper's convention ``group = 2 * class + carries_feature``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ._validate import as_index_array, as_score_array, check_choice, check_fraction, check_int, check_seed
from .datasets import ImageSet
from .defaults import DEFAULTS
from .features import Attribute, SpuriousFeature, make_feature

PLACEMENTS = ("random", "easiest", "hardest", "band", "indices")


@dataclass
class Scenario:
    """Training and test data of one spurious setting.

    Attributes
    ----------
    train : ImageSet
        Training set with the feature stamped on the carriers.
    carrier : torch.Tensor
        bool ``(N_train,)``: sample carries the feature.
    train_groups : torch.Tensor
        int64 ``(N_train,)``: ``2 * label + carrier``.
    test : ImageSet
        Clean test set (all classes).
    stamped_test : ImageSet
        The test images of every class *other than* ``c1``, with the feature stamped: the share
        predicted ``c1`` is the spurious misclassification rate.
    group_test : ImageSet
        Clean test set plus a stamped copy of every test image; ``group_test_groups`` holds
        ``2 * label + stamped``.
    target_class : int
    feature : SpuriousFeature
    placement : str
    clean_train : ImageSet or None
        The training data without the spurious feature: the no-carrier reference model of
        :func:`spurlab.run` trains on it. :func:`make_scenario` keeps the unstamped training set;
        :func:`attribute_scenario` (an attribute cannot be taken off an image) the training set
        without the carriers. ``None``: the reference drops the carriers.
    """

    train: ImageSet
    carrier: torch.Tensor
    train_groups: torch.Tensor
    test: ImageSet
    stamped_test: ImageSet
    group_test: ImageSet
    group_test_groups: torch.Tensor
    target_class: int
    feature: SpuriousFeature
    placement: str
    clean_train: ImageSet | None = None

    def reference_train(self):
        """The reference model's training data: ``clean_train``, else the carriers dropped."""
        if self.clean_train is not None:
            return self.clean_train
        return self.train.subset((~self.carrier).nonzero().flatten())

    @property
    def num_groups(self):
        return 2 * self.train.num_classes

    @property
    def carrier_indices(self):
        return self.carrier.nonzero().flatten()

    def describe(self):
        """One-line summary."""
        c1 = self.target_class
        n_c1 = int((self.train.labels == c1).sum())
        k = int(self.carrier.sum())
        return (f"{self.feature.describe()} on {k}/{n_c1} ({k / n_c1:.0%}) training samples of class "
                f"{c1} ({self.train.classes[c1]!r}), placement={self.placement}")


def _select_carriers(c1_idx, k, placement, scores, band, indices, rng):
    n = len(c1_idx)
    if placement == "random":
        return rng.choice(c1_idx, size=k, replace=False)
    if placement in ("easiest", "hardest", "band"):
        s = scores[c1_idx]
        order = np.argsort(s, kind="stable")  # easiest first
        if placement == "easiest":
            return c1_idx[order[:k]]
        if placement == "hardest":
            return c1_idx[order[n - k:]]
        lo, hi = band
        a, b = int(round(lo * n)), int(round(hi * n))
        pool = c1_idx[order[a:b]]
        if len(pool) < k:
            raise ValueError(f"band={band} holds {len(pool)} samples of the target class but "
                             f"{k} carriers were asked for; widen the band or lower prevalence")
        return rng.choice(pool, size=k, replace=False)
    return indices


def make_scenario(train, test, feature=DEFAULTS["feature"], target_class=DEFAULTS["target_class"],
                  prevalence=DEFAULTS["prevalence"], *, placement=DEFAULTS["placement"],
                  scores=None, band=None, indices=None, n_carriers=DEFAULTS["n_carriers"],
                  seed=DEFAULTS["seed"]):
    """Stamp a spurious feature on part of class ``target_class`` in the training set.

    Parameters
    ----------
    train, test : ImageSet
        Base data (see :func:`spurlab.load_dataset` and :func:`spurlab.from_tensors`).
    feature : str or SpuriousFeature
        ``'line'``, ``'patch'``, ``'tint'`` or a feature object (its salience is used).
    target_class : int
        The class ``c1`` whose samples carry the feature.
    prevalence : float in (0, 1]
        Fraction of ``c1``'s training samples that carry it. Ignored when ``n_carriers`` or
        ``indices`` is given.
    placement : {'random', 'easiest', 'hardest', 'band', 'indices'}
        Which ``c1`` samples carry it; ``'easiest'``, ``'hardest'`` and ``'band'`` rank ``c1``
        by ``scores`` (higher = harder; default: the dataset's latent difficulty).
    scores : array-like (N_train,), optional
        Per-sample difficulty used to rank.
    band : (float, float), optional
        With ``placement='band'``: percentile range ``(lo, hi)`` of ``c1`` by difficulty, in
        [0, 1]; carriers are drawn at random from it.
    indices : array-like of int, optional
        With ``placement='indices'``: exactly these training samples (all of class ``c1``).
    n_carriers : int, optional
        Number of carriers instead of ``prevalence`` (claim 2: "the 100 hardest").
    seed : int
        Seeds random placement.

    Returns
    -------
    Scenario

    Examples
    --------
    >>> from spurlab import load_dataset
    >>> train, test = load_dataset("shapes", n_train=600, n_test=120)
    >>> sc = make_scenario(train, test, "line", target_class=0, prevalence=0.5)
    >>> int(sc.carrier.sum()), int(sc.train_groups.max())
    (51, 10)
    """
    if not isinstance(train, ImageSet) or not isinstance(test, ImageSet):
        raise TypeError("train and test must be ImageSet objects (see spurlab.from_tensors)")
    if tuple(train.classes) != tuple(test.classes):
        raise ValueError(f"train and test must have the same classes, in the same order; got "
                         f"{list(train.classes)} and {list(test.classes)}")
    if train.images.shape[1:] != test.images.shape[1:]:
        raise ValueError(f"train and test images must have the same shape; got "
                         f"{tuple(train.images.shape[1:])} and {tuple(test.images.shape[1:])}")
    feature = make_feature(feature)
    K = train.num_classes
    target_class = check_int("target_class", target_class, low=0, high=K - 1)
    check_choice("placement", placement, PLACEMENTS)
    seed = check_seed(seed)
    y = train.labels.numpy()
    c1_idx = np.flatnonzero(y == target_class)
    n_c1 = len(c1_idx)

    if placement == "indices":
        if indices is None:
            raise ValueError("placement='indices' needs indices= (training sample indices of c1)")
        indices = as_index_array("indices", indices, len(train))
        wrong = indices[y[indices] != target_class]
        if len(wrong):
            raise ValueError(f"indices must all be of target_class={target_class}; "
                             f"{len(wrong)} are not (e.g. {wrong[:5].tolist()})")
        k = len(indices)
    elif n_carriers is not None:
        k = check_int("n_carriers", n_carriers, low=0, high=n_c1)
    else:
        prevalence = check_fraction("prevalence", prevalence)
        k = int(round(prevalence * n_c1))
    if placement in ("easiest", "hardest", "band"):
        if scores is None:
            if train.difficulty is None:
                raise ValueError(f"placement={placement!r} needs scores= (per-sample difficulty); "
                                 f"the {train.name!r} dataset has no latent difficulty")
            scores = train.difficulty
        scores = as_score_array("scores", scores, len(train))
    if placement == "band":
        if band is None or len(band) != 2:
            raise ValueError(f"placement='band' needs band=(lo, hi) percentiles; got {band!r}")
        lo = check_fraction("band[0]", band[0])
        hi = check_fraction("band[1]", band[1])
        if lo >= hi:
            raise ValueError(f"band must have lo < hi; got {band!r}")
        band = (lo, hi)

    rng = np.random.default_rng(seed)
    chosen = _select_carriers(c1_idx, k, placement, scores, band, indices, rng)
    carrier = torch.zeros(len(train), dtype=torch.bool)
    carrier[torch.as_tensor(np.sort(chosen), dtype=torch.long)] = True

    x = train.images.clone()
    if carrier.any():
        x[carrier] = feature.apply(x[carrier])
    stamped_train = ImageSet(x, train.labels, train.classes, train.difficulty, train.name,
                             dict(train.meta))
    train_groups = 2 * train.labels + carrier.long()

    other = (test.labels != target_class).nonzero().flatten()
    stamped_all = feature.apply(test.images)
    stamped_test = ImageSet(stamped_all[other], test.labels[other], test.classes,
                            None if test.difficulty is None else test.difficulty[other], test.name)
    gt_x = torch.cat([test.images, stamped_all])
    gt_y = torch.cat([test.labels, test.labels])
    gt_g = 2 * gt_y + torch.cat([torch.zeros(len(test), dtype=torch.long),
                                 torch.ones(len(test), dtype=torch.long)])
    group_test = ImageSet(gt_x, gt_y, test.classes, None, test.name)
    return Scenario(stamped_train, carrier, train_groups, test, stamped_test, group_test, gt_g,
                    target_class, feature, placement, clean_train=train)


def attribute_scenario(train, test, train_attribute, test_attribute, target_class, *,
                       name="attribute"):
    """A scenario whose spurious feature is an attribute the images already carry (CelebA).

    The carriers are the training images with the attribute; the "stamped" test set is the test
    images of the other classes that have it (CelebA: females with eyeglasses), so the spurious
    misclassification rate is the share of them predicted ``target_class``; the group test set is
    the test set itself, grouped ``2 * class + attribute``.

    Parameters
    ----------
    train, test : ImageSet
    train_attribute, test_attribute : bool array-like
        The attribute of every training and test image.
    target_class : int
        The class the attribute is correlated with in training (CelebA: 1, male).
    name : str
        The attribute's name, for descriptions.

    Returns
    -------
    Scenario
        With ``placement='natural'``.

    Examples
    --------
    >>> import torch
    >>> from spurlab.datasets import from_tensors
    >>> tr = from_tensors(torch.rand(6, 1, 8, 8), torch.tensor([0, 0, 0, 1, 1, 1]))
    >>> sc = attribute_scenario(tr, tr, [0, 0, 0, 1, 0, 0], [1, 0, 0, 1, 0, 0], 1, name="glasses")
    >>> int(sc.carrier.sum()), len(sc.stamped_test), sc.train_groups.tolist()
    (1, 1, [0, 0, 0, 3, 2, 2])
    """
    c1 = check_int("target_class", target_class, low=0, high=train.num_classes - 1)
    a_tr = torch.as_tensor(np.asarray(train_attribute, dtype=bool))
    a_te = torch.as_tensor(np.asarray(test_attribute, dtype=bool))
    if a_tr.shape != (len(train),):
        raise ValueError(f"train_attribute must hold one bool per training image ({len(train)}); "
                         f"got shape {tuple(a_tr.shape)}")
    if a_te.shape != (len(test),):
        raise ValueError(f"test_attribute must hold one bool per test image ({len(test)}); "
                         f"got shape {tuple(a_te.shape)}")
    counts = torch.bincount(train.labels, minlength=train.num_classes)
    absent = [train.classes[k] for k in range(train.num_classes) if counts[k] == 0]
    if absent:
        raise ValueError(f"the training set holds no image of class(es) {absent}: no shortcut "
                         "to or from them can be learned, and every figure would be noise; check "
                         "the data's labels (or the split sizes)")
    if not bool((a_tr & (train.labels == c1)).any()):
        raise ValueError(f"train_attribute marks no training image of target_class {c1} "
                         f"({train.classes[c1]!r}): there is no spurious correlation to learn")
    other = (test.labels != c1) & a_te
    if not bool(other.any()):
        raise ValueError("test_attribute marks no test image outside target_class; the spurious "
                         "misclassification rate would be undefined")
    stamped = test.subset(other.nonzero().flatten())
    return Scenario(train=train, carrier=a_tr, train_groups=2 * train.labels + a_tr.long(),
                    test=test, stamped_test=stamped, group_test=test,
                    group_test_groups=2 * test.labels + a_te.long(), target_class=c1,
                    feature=Attribute(name), placement="natural",
                    clean_train=train.subset((~a_tr).nonzero().flatten()))
