"""The CIFAR-10S claim-2 experiment as the reference code runs it: the red line of value 191,
pad-4 crop and flip, CIFAR normalisation inside the model, plain momentum, carriers by EL2N of
a clean model over an augmented view, the automobile probe, the preset and `spurlab reproduce
cifar10s-reference` on small files in the real CIFAR format."""

import json
import os

import numpy as np
import pytest
import torch

import spurlab as sl
from spurlab.cli import main
from spurlab.config import LATER_KNOBS, PRESETS, Config, preset
from spurlab.models import NORMALIZE_STATS
from spurlab.train import augment_images, augmented_view

from .test_real_datasets import no_network, write_cifar  # noqa: F401  (fixture + helper)


def test_the_red_line_is_the_reference_codes_uint8_stamp():
    # the reference stamps img[:, 16, 0] = 191 on the uint8 (H, W, C) image, then ToTensor
    rng = np.random.default_rng(0)
    hwc = rng.integers(0, 256, (4, 32, 32, 3), dtype=np.uint8)
    ref = hwc.copy()
    ref[:, :, 16, 0] = 191
    as_float = lambda a: torch.from_numpy(a).permute(0, 3, 1, 2).float() / 255  # noqa: E731
    cfg = preset("cifar10s-reference")
    from spurlab.build import make_config_feature

    ours = make_config_feature(cfg).apply(as_float(hwc))
    assert torch.equal(ours, as_float(ref))
    with pytest.raises(ValueError, match="channel must be below the images' 1 channel"):
        sl.Line(channel=1).apply(torch.zeros(1, 1, 32, 32))


def test_the_preset_is_the_reference_recipe():
    c = preset("cifar10s-reference")
    assert (c.dataset, c.n_train, c.n_test, c.target_class) == ("cifar10", 50000, 10000, 0)
    assert (c.n_carriers, c.placement, c.feature_channel, round(c.feature_value * 255)) == (
        100, "hardest", 0, 191)
    assert (c.model, c.epochs, c.batch_size, c.lr, c.momentum, c.nesterov, c.weight_decay) == (
        "resnet20", 160, 64, 0.1, 0.9, False, 1e-4)
    assert (c.schedule, c.augment, c.normalize, c.score_epoch) == ("multistep", "crop-flip",
                                                                   "cifar", 9)
    from spurlab.train import lr_factor

    f = lr_factor(c.schedule, c.epochs, 1)
    assert (f(79), f(80), f(119), f(120)) == (1.0, 0.1, 0.1, 0.01)
    assert Config.from_string(c.to_string()) == c
    assert sl.config.scale_of(c) == "cifar10s-reference"


def test_new_knobs_leave_old_records_and_keys_alone():
    d = Config().to_dict()
    assert not set(LATER_KNOBS) & set(d)                 # the shipped atlas's config dict
    assert Config(**d) == Config()
    c = Config(nesterov=False, augment="crop-flip")
    assert c.to_dict()["nesterov"] is False and Config(**c.to_dict()) == c
    assert "augment" not in sl.config.knobs(Config(), "recipe")
    assert sl.config.knobs(c, "recipe")["augment"] == "crop-flip"
    ok, why = sl.load_atlas().current()
    assert ok, why


@pytest.mark.parametrize("changes,named", [
    ({"augment": "rotate"}, "augment"), ({"normalize": "imagenet"}, "normalize"),
    ({"feature_channel": 3}, "feature_channel"), ({"feature_value": 1.5}, "feature_value"),
    ({"feature": "patch", "feature_channel": 0}, "feature_channel"),
    ({"nesterov": "yes"}, "nesterov"),
    ({"model": "resnet50", "normalize": "cifar"}, "normalize")])
def test_bad_reference_knobs_are_named(changes, named):
    with pytest.raises(ValueError, match=named):
        Config(**changes)


def test_crop_flip_is_a_shifted_or_mirrored_copy_and_seeded():
    x = torch.rand(6, 3, 8, 8)
    y = augment_images(x, "crop-flip", torch.Generator().manual_seed(3), pad=2)
    assert y.shape == x.shape
    padded = torch.nn.functional.pad(x, (2, 2, 2, 2))
    flips = 0
    for i in range(len(x)):
        views = [(f, padded[i, :, r:r + 8, c:c + 8].flip(-1) if f else padded[i, :, r:r + 8, c:c + 8])
                 for f in (0, 1) for r in range(5) for c in range(5)]
        match = [f for f, v in views if torch.equal(v, y[i])]
        assert match, f"image {i} is no crop of the padded image"
        flips += match[0]
    assert 0 < flips < len(x) or len(x) < 4
    again = augment_images(x, "crop-flip", torch.Generator().manual_seed(3), pad=2)
    assert torch.equal(y, again)
    assert augmented_view(x, "none", 0) is x
    assert torch.equal(augmented_view(x, "crop-flip", 5), augmented_view(x, "crop-flip", 5))
    with pytest.raises(ValueError, match="augment"):
        augment_images(x, "cutout", torch.Generator())


def test_training_with_augmentation_and_plain_momentum(monkeypatch):
    tr, _ = sl.load_dataset("shapes", n_train=200, n_test=60)
    kw = dict(epochs=1, batch_size=32, progress=False, seed=1)
    a = sl.make_model(seed=0)
    sl.train(a, tr.images, tr.labels, augment="crop-flip", **kw)
    b = sl.make_model(seed=0)
    sl.train(b, tr.images, tr.labels, augment="crop-flip", **kw)
    c = sl.make_model(seed=0)
    sl.train(c, tr.images, tr.labels, **kw)
    wa, wb, wc = (m.head.weight.detach() for m in (a, b, c))
    assert torch.equal(wa, wb) and not torch.equal(wa, wc)     # same seed, same result
    seen = []
    real = torch.optim.SGD
    monkeypatch.setattr(torch.optim, "SGD", lambda *a, **k: seen.append(k["nesterov"]) or real(*a, **k))
    sl.train(sl.make_model(), tr.images, tr.labels, nesterov=False, **kw)
    sl.train(sl.make_model(), tr.images, tr.labels, **kw)
    assert seen == [False, True]


def test_cifar_normalisation_is_the_models_first_step():
    x = torch.rand(3, 3, 32, 32)
    plain = sl.make_model("resnet20", in_channels=3, num_classes=10, seed=4).eval()
    normed = sl.make_model("resnet20", in_channels=3, num_classes=10, seed=4,
                           normalize="cifar").eval()
    mean, std = (torch.tensor(v).view(1, 3, 1, 1) for v in NORMALIZE_STATS["cifar"])
    with torch.no_grad():
        assert torch.allclose(normed(x), plain((x - mean) / std), atol=1e-5)
    with pytest.raises(ValueError, match="normalize='cifar' takes 3-channel"):
        sl.make_model("tiny", in_channels=1, normalize="cifar")


def test_smr_by_class_adds_up_to_the_smr():
    r = sl.run("n_train=600 n_test=300 epochs=2 score_epoch=1", arms=[], reference=False)
    m = r.metrics("baseline")
    sc = r.scenario
    counts = [sc.test_group_sizes[2 * k] for k in range(len(sc.class_names))]
    assert m.smr_by_class[sc.target_class] is None and m.probe(sc.target_class) is None
    other = [k for k in range(len(counts)) if k != sc.target_class]
    weighted = sum(m.smr_by_class[k] * counts[k] for k in other) / sum(counts[k] for k in other)
    assert weighted == pytest.approx(m.smr, abs=1e-9)
    back = type(m).from_dict(json.loads(json.dumps(m.to_dict())))
    assert back == m
    old = {k: v for k, v in m.to_dict().items() if k != "smr_by_class"}
    assert type(m).from_dict(old).smr_by_class == () and type(m).from_dict(old).probe(1) is None


def test_reproduce_cifar10s_reference_on_real_format_files(tmp_path, monkeypatch, capsys):
    write_cifar(tmp_path / "data", monkeypatch, n_per_batch=100)
    monkeypatch.setitem(PRESETS, "cifar10s-reference-quick", PRESETS[
        "cifar10s-reference-quick"].replace(n_carriers=5, epochs=2, score_epoch=1, n_test=100))
    out = tmp_path / "out"
    args = ["reproduce", "cifar10s-reference", "--quick", "--seeds", "2", "--out", str(out),
            "--root", str(tmp_path / "data"), "--quiet"]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "red channel only" in text and "hardest minus easiest" in text
    doc = json.loads((out / "results.json").read_text())
    assert doc["setting"] == "cifar10s-reference" and doc["headline"] == "automobile_as_airplane"
    got = {(r["seed"], r.get("placement"), r["arm"]) for r in doc["runs"]}
    assert got == {(s, p, a) for s in (0, 1) for p, a in
                   (("hardest", "baseline"), ("easiest", "baseline"), ("none", "reference"))}
    for r in doc["runs"]:
        assert r["automobile_count"] == 10                      # 100 test images, 10 per class
        assert r["automobile_as_airplane"] == r["smr_by_class"][1]
        assert round(r["automobile_as_airplane"] * 10) == r["automobile_as_airplane"] * 10
    assert "carriers = the 5 hardest" in doc["verdict"] and "over 2 seeds" in doc["verdict"]
    # the carriers are the 5 hardest (easiest) airplanes of the clean model's ranking
    from spurlab.build import build_scenario, placement_scores
    from spurlab.reproduce import setting_config

    c = setting_config("cifar10s-reference", quick=True)
    hard = build_scenario(c, root=str(tmp_path / "data"))
    easy = build_scenario(c.replace(placement="easiest"), root=str(tmp_path / "data"))
    s = placement_scores(c, hard.clean_train)
    planes = (hard.clean_train.labels == 0).nonzero().flatten()
    order = planes[torch.argsort(s[planes], descending=True)]
    assert set(hard.carrier.nonzero().flatten().tolist()) == set(order[:5].tolist())
    assert set(easy.carrier.nonzero().flatten().tolist()) == set(order[-5:].tolist())
    # resumable: a rerun trains nothing
    files = {f: os.path.getmtime(out / f) for f in os.listdir(out) if f.endswith(".json")
             and f != "results.json"}
    sl.clear_cache()
    assert main(args) == 0
    assert files == {f: os.path.getmtime(out / f) for f in files}


def _rows(hard, easy, none, n=1000, seeds=(0,)):
    out = []
    for i, s in enumerate(seeds):
        for pl, arm, v in (("hardest", "baseline", hard), ("easiest", "baseline", easy),
                           ("none", "reference", none)):
            v = v[i] if isinstance(v, (list, tuple)) else v
            out.append({"seed": s, "arm": arm, "placement": pl, "automobile_as_airplane": v,
                        "automobile_count": n})
    return out


def test_the_reference_verdict_follows_the_one_rule():
    from spurlab.reproduce import reference_verdict

    one = reference_verdict(_rows(0.05, 0.01, 0.002), 100)
    assert "the hard carriers teach the shortcut more: claim 2 holds here" in one
    assert "over 1000 test images, one seed" in one and "no shortcut learned" not in one
    flat = reference_verdict(_rows(0.003, 0.003, 0.003), 100)
    assert "no shortcut learned" in flat and "not shown to differ" in flat
    # five seeds that each put the hard carriers above the easy ones, by different amounts
    seeds = reference_verdict(_rows([0.05, 0.09, 0.04, 0.10, 0.07], [0.01, 0.02, 0.02, 0.03,
                                    0.01], 0.002, seeds=range(5)), 100)
    assert "over 5 seeds" in seeds and "claim 2 holds here" in seeds
    backwards = reference_verdict(_rows(0.01, 0.05, 0.0), 100)
    assert "claim 2 fails here" in backwards
