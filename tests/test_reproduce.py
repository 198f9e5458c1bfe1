"""CelebA split and loader, `spurlab reproduce`, offline, on tiny files in the real formats."""

import os

import numpy as np
import pytest
import torch

from spurlab import celeba, make_model, reproduce
from spurlab.celeba import celeba_split, load_celeba
from spurlab.cli import main

from .conftest import patch_fit
from .test_real_datasets import no_network, write_cifar  # noqa: F401  (fixture + helper)

ATTRS = ["5_o_Clock_Shadow", "Eyeglasses", "Male", "Smiling"]


def write_celeba(root, groups, partition, size=(24, 30)):
    """CelebA's on-disk files for images with the given groups (2*male + glasses)."""
    from PIL import Image

    folder = os.path.join(root, "celeba")
    os.makedirs(os.path.join(folder, "img_align_celeba"))
    rng = np.random.default_rng(0)
    files = [f"{i + 1:06d}.jpg" for i in range(len(groups))]
    with open(os.path.join(folder, "list_attr_celeba.txt"), "w") as f:
        f.write(f"{len(files)}\n{' '.join(ATTRS)}\n")
        for fn, g in zip(files, groups):
            male, glasses = g // 2, g % 2
            vals = [-1, 1 if glasses else -1, 1 if male else -1, 1]
            f.write(fn + "  " + " ".join(f"{v:2d}" for v in vals) + "\n")
    with open(os.path.join(folder, "list_eval_partition.txt"), "w") as f:
        for fn, p in zip(files, partition):
            f.write(f"{fn} {p}\n")
    for fn, g in zip(files, groups):
        arr = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
        arr[:, :, 0] = 60 * g  # a little group signal
        Image.fromarray(arr).save(os.path.join(folder, "img_align_celeba", fn))
    return folder


def test_celeba_split_counts_order_and_the_val_test_move():
    rng = np.random.default_rng(0)
    n = 400
    groups = rng.integers(0, 4, n)
    partition = np.where(np.arange(n) < 300, 0, np.where(np.arange(n) < 350, 1, 2))
    male, glasses = groups // 2 == 1, groups % 2 == 1
    s = celeba_split(male, glasses, partition, counts=(10, 12, 20), seed=3)
    g_tr = groups[s["train"]]
    assert [(g_tr == k).sum() for k in range(4)] == [20, 0, 10, 12]
    # file order: the first 10 males without glasses of the train partition
    first = np.flatnonzero((partition == 0) & (groups == 2))[:10]
    assert set(first) <= set(s["train"])
    moved = np.flatnonzero((partition == 0) & (groups == 1))
    v, t = np.intersect1d(s["val"], moved), np.intersect1d(s["test"], moved)
    assert len(v) + len(t) == len(moved) and abs(len(v) - len(t)) <= 1
    assert len(np.intersect1d(v, t)) == 0
    # official val/test partitions kept whole
    assert set(np.flatnonzero(partition == 1)) <= set(s["val"])
    assert set(np.flatnonzero(partition == 2)) <= set(s["test"])
    assert celeba_split(male, glasses, partition, counts=(10, 12, 20), seed=3)["val"].tolist() \
        == s["val"].tolist()
    with pytest.raises(ValueError, match="counts"):
        celeba_split(male, glasses, partition, counts=(10_000, 1, 1))


def test_load_celeba_from_files(tmp_path):
    groups = np.array([2, 3, 0, 1, 2, 3, 0, 1, 0, 2, 1, 3, 0, 2])
    part = np.array([0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 2, 2, 2, 2])
    write_celeba(tmp_path, groups, part)
    tr, va, te = load_celeba(str(tmp_path), size=16, counts=(2, 2, 2), seed=0)
    assert tr.images.shape == (6, 3, 16, 16) and tr.classes == ("female", "male")
    assert sorted(tr.meta["groups"].tolist()) == [0, 0, 2, 2, 3, 3]
    assert torch.equal(tr.labels, (tr.meta["groups"] // 2))
    assert len(va) + len(te) == 6 + 2  # official val/test + the 2 moved females with glasses
    # uint8: the same pixels as bytes (4x less memory), exactly what the float images are / 255
    tr8, no_val, te8 = load_celeba(str(tmp_path), size=16, counts=(2, 2, 2), seed=0,
                                   dtype="uint8", val=False)
    assert tr8.images.dtype == torch.uint8 and no_val is None
    assert torch.equal(tr8.images.float() / 255, tr.images) and torch.equal(te8.labels, te.labels)
    with pytest.raises(ValueError, match="dtype must be one of 'float32', 'uint8'; got 'float16'"):
        load_celeba(str(tmp_path), size=16, counts=(2, 2, 2), dtype="float16")


def test_celeba_missing_or_corrupt_files_give_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="mmlab"):
        load_celeba(str(tmp_path))
    folder = write_celeba(tmp_path, np.array([0, 2, 3]), np.array([0, 0, 0]))
    with open(os.path.join(folder, "list_attr_celeba.txt"), "w") as f:
        f.write("3\nMale Eyeglasses\n000001.jpg 1\n")
    with pytest.raises(RuntimeError, match="corrupt"):
        load_celeba(str(tmp_path))


def test_celeba_download_failure_lists_manual_steps(tmp_path, monkeypatch):
    import torchvision.datasets as tvd

    def quota(*a, **k):
        raise RuntimeError("Too many users have viewed or downloaded this file recently")

    monkeypatch.setattr(tvd, "CelebA", quota)
    with pytest.raises(ConnectionError, match="img_align_celeba.zip"):
        load_celeba(str(tmp_path), download=True)


def test_pretrained_weights_offline_is_a_clear_error_or_a_warning(monkeypatch):
    import torchvision

    def offline(*a, **k):
        raise OSError("no network")

    monkeypatch.setattr(torchvision.models, "resnet50",
                        lambda weights=None: offline() if weights else _orig_resnet50(weights=None))
    with pytest.raises(RuntimeError, match="allow_random_init"):
        make_model("resnet50", in_channels=3, num_classes=2, pretrained=True)
    with pytest.warns(RuntimeWarning, match="RANDOMLY INITIALISED"):
        m = make_model("resnet50", in_channels=3, num_classes=2, pretrained=True,
                       allow_random_init=True)
    assert m.fc.out_features == 2


def _orig_resnet50(weights=None):
    import torchvision.models.resnet as r

    return r.ResNet(r.Bottleneck, [3, 4, 6, 3])


def test_reproduce_cifar10s_quick_runs_and_resumes(tmp_path, monkeypatch, capsys):
    from spurlab import clear_cache
    from spurlab.config import PRESETS

    write_cifar(tmp_path / "data", monkeypatch, n_per_batch=60)
    out = tmp_path / "out"
    monkeypatch.setitem(PRESETS, "cifar10s-quick",
                        PRESETS["cifar10s-quick"].replace(epochs=2, score_epoch=1, n_test=60))
    rc = main(["reproduce", "cifar10s", "--quick", "--prune-ratios", "0.25", "--out", str(out),
               "--root", str(tmp_path / "data"), "--quiet"])
    text = capsys.readouterr().out
    assert rc == 0 and "QUICK variant" in text and "hardest/oracle" in text
    files = sorted(os.listdir(out))
    assert "results.json" in files and "results.png" in files
    runs = [f for f in files if f.startswith(("baseline-", "arm-"))]
    assert len(runs) == 5  # the baseline + 4 arms, one checksummed file each
    mtimes = {f: os.path.getmtime(out / f) for f in runs}
    # resumable from disk alone: a second run (memory cache emptied) trains nothing and rewrites
    # no run file
    clear_cache()
    calls = []
    patch_fit(monkeypatch, lambda *a, **k: calls.append(1))
    assert main(["reproduce", "cifar10s", "--quick", "--prune-ratios", "0.25", "--out",
                 str(out), "--root", str(tmp_path / "data"), "--quiet"]) == 0
    assert calls == []
    assert mtimes == {f: os.path.getmtime(out / f) for f in mtimes}


def test_reproduce_celeba_quick_on_tiny_files(tmp_path):
    from spurlab import preset

    rng = np.random.default_rng(1)
    groups = np.concatenate([np.repeat([0, 2, 3], [10, 5, 5]), rng.integers(0, 4, 24)])
    part = np.concatenate([np.zeros(20, int), np.zeros(8, int), np.ones(8, int), 2 * np.ones(8, int)])
    groups[20:28] = 1  # females with glasses in the train partition: moved to val/test
    write_celeba(tmp_path, groups, part)
    cfg = preset("celeba-quick", n_train=20, n_test=60, epochs=2, score_epoch=1, image_size=16)
    doc = reproduce.reproduce("celeba", out=str(tmp_path / "o"), quick=True, prune_ratios=[0.2],
                              root=str(tmp_path), progress=False, log=lambda *a: None, config=cfg)
    assert doc["headline"] == "female_glasses_accuracy" and "QUICK" in doc["protocol"]
    oracle = [r for r in doc["runs"] if r["arm"] == "hardest/oracle"][0]
    assert 0 <= oracle["female_glasses_accuracy"] <= 1 and len(oracle["group_accuracy"]) == 4
    assert oracle["carriers_pruned"] == 1          # 0.2 of the 5 males with glasses


def test_reproduce_bad_arguments(tmp_path, capsys):
    assert main(["reproduce", "imagenet", "--out", str(tmp_path)]) == 2
    assert "setting" in capsys.readouterr().err
    assert main(["reproduce", "cifar10s", "--prune-ratios", "0.2,x", "--out", str(tmp_path)]) == 2
    assert "--prune-ratios" in capsys.readouterr().err
    assert main(["reproduce", "cifar10s", "--out", str(tmp_path), "--root", str(tmp_path)]) == 1
    assert "not found" in capsys.readouterr().err


def test_celeba_module_documents_the_manual_steps():
    assert "list_eval_partition.txt" in celeba.MANUAL_STEPS


def test_celeba_by_name_in_the_pipeline(tmp_path, monkeypatch):
    """preset(mode, dataset='celeba') is the one changed line: sl.run on tiny files in the real
    format, with the carriers and the 'stamped' test set taken from the Eyeglasses attribute."""
    from spurlab import build_scenario, preset, run

    groups = np.concatenate([np.repeat([0, 2, 3, 1], [40, 20, 20, 8]), np.repeat([0, 1, 2, 3], 4)])
    part = np.concatenate([np.zeros(88, int), np.full(16, 2)])
    write_celeba(tmp_path, groups, part, size=(12, 14))
    monkeypatch.setenv("SPURLAB_DATA", str(tmp_path))
    cfg = preset("quick", dataset="celeba", n_train=80, n_test=60, image_size=16, epochs=2,
                 score_epoch=1)
    assert cfg.target_class == 1
    sc = build_scenario(cfg)
    no_carriers = sc.clean_train
    assert len(sc.train) == 80 and int(sc.carrier.sum()) == 20
    assert sc.train_groups.tolist().count(3) == 20 and not (sc.carrier & (sc.train.labels == 0)).any()
    assert len(no_carriers) == 60 and (no_carriers.labels == 1).sum() == 20
    # 4 test females with glasses plus 4 moved from the train partition (half of 8)
    assert len(sc.stamped_test) == 8 and (sc.stamped_test.labels == 0).all()
    assert len(sc.group_test) == len(sc.test) == 20
    r = run(cfg, arms=["hardest", "hardest/oracle"], reference=True)
    assert r.arms["hardest/oracle"].carriers_pruned == 5       # 0.25 of the 20 carriers
    for m in (r.baseline, r.reference, r.arms["hardest"].metrics):
        assert 0 <= m.smr <= 1 and len(m.group_accuracy) == 4
    # the record carries the scenario that ran: CelebA's classes, its attribute and carriers
    assert r.scenario.dataset == "celeba" and r.scenario.target_name == "male"
    assert r.scenario.group_names == ("female", "female + Eyeglasses", "male", "male + Eyeglasses")
    assert r.scenario.n_carriers == 20 and "class 1 ('male')" in r.table()
    with pytest.raises(ValueError, match="target_class must be 1"):
        build_scenario(cfg.replace(target_class=0))
    with pytest.raises(ValueError, match="placement"):
        build_scenario(cfg.replace(placement="hardest"))


def test_presets_by_dataset_name():
    from spurlab import preset

    for name in ("shapes", "digits", "mnist", "fashion_mnist", "cifar10", "celeba"):
        for mode in ("quick", "full", "smoke"):
            cfg = preset(mode, dataset=name)
            assert cfg.dataset == name
        # smoke: the smallest runs, with each dataset's own image size and c1
        assert preset("smoke", dataset=name).n_train <= preset("quick", dataset=name).n_train
        assert preset("smoke", dataset=name).image_size == preset("quick", dataset=name).image_size
        assert preset("smoke", dataset=name).target_class == preset("quick", dataset=name).target_class
    assert preset("quick", dataset="cifar10").image_size == 32
    assert preset("quick", dataset="cifar10", image_size=16).image_size == 16   # changes win
    assert preset("quick", dataset="celeba").target_class == 1
    with pytest.raises(ValueError, match="dataset"):
        preset("quick", dataset="imagenet")
