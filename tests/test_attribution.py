"""The attribution arm: a TRAK-style gradient attribution of the shortcut, scored on stamped
validation images, that prunes as many samples as 'hardest' does."""

import numpy as np
import pytest
import torch
from torch import nn

import spurlab as sl
from spurlab.attribution import shortcut_attribution
from spurlab.build import held_out
from spurlab.recipe import fit

SMOKE = sl.preset("smoke")


def _probe(cfg, sc):
    _, gv, g = held_out(cfg)
    return gv.images[(g % 2 == 1) & (gv.labels != sc.target_class)]


def test_the_carriers_are_blamed_more_than_the_other_classes():
    sc = sl.build_scenario(SMOKE)
    model, _ = fit(SMOKE, sc.train.images, sc.train.labels, num_classes=sc.train.num_classes)
    blame = shortcut_attribution(model, sc.train.images, sc.train.labels, _probe(SMOKE, sc),
                                 sc.target_class).numpy()
    carrier = sc.carrier.numpy()
    others = sc.train.labels.numpy() != sc.target_class
    assert blame.shape == (len(sc.train),) and np.isfinite(blame).all()
    assert blame[carrier].mean() > blame[others].mean() + 0.5 * blame[others].std() / 10
    assert blame[carrier].mean() > 0 > blame[others].mean()


def test_bad_inputs_are_refused_by_name():
    with pytest.raises(ValueError, match="probe_images must hold at least one"):
        shortcut_attribution(sl.TinyCNN(), torch.rand(4, 1, 16, 16), torch.zeros(4, dtype=torch.long),
                             torch.rand(0, 1, 16, 16), 1)
    big = nn.Sequential(nn.Flatten(), nn.Linear(256, 25_000), nn.Linear(25_000, 6))
    with pytest.raises(ValueError, match="model must have at most"):
        shortcut_attribution(big, torch.rand(4, 1, 16, 16), torch.zeros(4, dtype=torch.long),
                             torch.rand(2, 1, 16, 16), 1)


def test_the_arm_prunes_as_many_as_hardest_and_is_tagged_validation():
    r = sl.run(SMOKE, arms=["hardest/global", "attribution"], reference=False)
    a, h = r.arms["attribution"], r.arms["hardest/global"]
    assert a.labels_used == "validation" and a.scope == "global"
    assert len(a.pruned) == len(h.pruned) and a.n_kept == h.n_kept
    row = next(x for x in r.table().splitlines() if x.startswith("prune attribution"))
    assert row[28:].split()[0] == "validation"
    again = sl.arm(SMOKE, "attribution", cache=False)
    assert again.pruned == a.pruned and again.metrics == a.metrics      # same seed, same result


def test_the_attribution_arm_needs_a_held_out_split():
    sc = sl.build_scenario(SMOKE)
    with pytest.raises(ValueError, match="arm 'attribution' needs a held-out split"):
        sl.run(SMOKE, scenario=sc, arms=["attribution"])
