"""torchvision datasets, tested offline on tiny files in the real on-disk formats."""

import hashlib
import os
import pickle
import struct

import numpy as np
import pytest
import torch
import torchvision.datasets as tvd

import spurlab as sl
from spurlab import real_datasets


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """No test may touch the network: downloads and connection probes fail loudly."""
    def forbidden(*a, **k):
        raise AssertionError("a test tried to use the network")

    monkeypatch.setattr(real_datasets.socket, "create_connection", forbidden)
    import torchvision.datasets.utils as tvu
    monkeypatch.setattr(tvu, "download_url", forbidden)


def _idx(path, arr):
    arr = np.asarray(arr, dtype=np.uint8)
    magic = 0x0800 + arr.ndim
    with open(path, "wb") as f:
        f.write(struct.pack(">I", magic))
        for d in arr.shape:
            f.write(struct.pack(">I", d))
        f.write(arr.tobytes())


def write_mnist(root, folder="MNIST", n_train=40, n_test=20):
    raw = os.path.join(root, folder, "raw")
    os.makedirs(raw)
    rng = np.random.default_rng(0)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        _idx(os.path.join(raw, f"{prefix}-images-idx3-ubyte"), rng.integers(0, 256, (n, 28, 28)))
        _idx(os.path.join(raw, f"{prefix}-labels-idx1-ubyte"), np.arange(n) % 10)


def _md5(path):
    return hashlib.md5(open(path, "rb").read()).hexdigest()


def write_cifar(root, monkeypatch, n_per_batch=10):
    base = os.path.join(root, "cifar-10-batches-py")
    os.makedirs(base)
    rng = np.random.default_rng(1)
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    for name in names:
        entry = {"data": rng.integers(0, 256, (n_per_batch, 3072), dtype=np.uint8),
                 "labels": [int(v) for v in np.arange(n_per_batch) % 10]}
        with open(os.path.join(base, name), "wb") as f:
            pickle.dump(entry, f)
    with open(os.path.join(base, "batches.meta"), "wb") as f:
        pickle.dump({"label_names": ["airplane", "automobile", "bird", "cat", "deer", "dog",
                                     "frog", "horse", "ship", "truck"]}, f)
    # torchvision verifies every file's MD5: register the checksums of these test files
    md5 = {n: _md5(os.path.join(base, n)) for n in names + ["batches.meta"]}
    monkeypatch.setattr(tvd.CIFAR10, "train_list", [[n, md5[n]] for n in names[:5]])
    monkeypatch.setattr(tvd.CIFAR10, "test_list", [["test_batch", md5["test_batch"]]])
    monkeypatch.setattr(tvd.CIFAR10, "meta", {"filename": "batches.meta", "key": "label_names",
                                              "md5": md5["batches.meta"]})
    return base


@pytest.mark.parametrize("name,folder", [("mnist", "MNIST"), ("fashion_mnist", "FashionMNIST")])
def test_mnist_format(tmp_path, name, folder):
    write_mnist(tmp_path, folder)
    tr, te = sl.load_dataset(name, root=str(tmp_path), n_train=None, n_test=None, size=None)
    assert tr.images.shape == (40, 1, 28, 28) and te.images.shape == (20, 1, 28, 28)
    assert 0 <= tr.images.min() and tr.images.max() <= 1 and tr.num_classes == 10
    assert tr.labels.tolist() == (torch.arange(40) % 10).tolist()


def test_cifar10_format_resize_and_subsample(tmp_path, monkeypatch):
    write_cifar(tmp_path, monkeypatch)
    tr, te = sl.load_dataset("cifar10", root=str(tmp_path), n_train=30, n_test=None, size=16,
                             seed=3)
    assert tr.images.shape == (30, 3, 16, 16) and len(te) == 10
    assert tr.classes[0] == "airplane"
    again, _ = sl.load_dataset("cifar10", root=str(tmp_path), n_train=30, size=16, seed=3)
    assert torch.equal(tr.images, again.images)
    full, _ = sl.load_dataset("cifar10", root=str(tmp_path), n_train=None, size=None)
    assert full.images.shape == (50, 3, 32, 32)
    # pixel layout: CHW from the row-major 3072-byte records
    raw = pickle.load(open(os.path.join(tmp_path, "cifar-10-batches-py", "data_batch_1"), "rb"))
    first = torch.tensor(raw["data"][0].reshape(3, 32, 32), dtype=torch.float32) / 255
    assert torch.allclose(full.images[0], first)


def test_cifar10_scenario_runs_end_to_end(tmp_path, monkeypatch):
    write_cifar(tmp_path, monkeypatch, n_per_batch=20)
    tr, te = sl.load_dataset("cifar10", root=str(tmp_path), n_train=None, size=None)
    sc = sl.make_scenario(tr, te, sl.Line(salience=1.0, value=(1, 0, 0)), target_class=3,
                          prevalence=0.5)
    assert int(sc.carrier.sum()) == 5 and sc.train.images.shape[1] == 3
    red = torch.tensor([1.0, 0, 0])[None, :, None].expand(5, 3, 32)
    assert torch.allclose(sc.train.images[sc.carrier][:, :, 16], red)


def test_missing_files_without_download_say_what_to_do(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        sl.load_dataset("cifar10", root=str(tmp_path))
    msg = str(info.value)
    assert str(tmp_path) in msg and "download=True" in msg and "shapes" in msg


def test_no_network_fails_fast_without_trying_to_download(tmp_path, monkeypatch):
    monkeypatch.setattr(real_datasets, "_reachable", lambda url, timeout: False)
    with pytest.raises(ConnectionError, match="cannot reach"):
        sl.load_dataset("mnist", root=str(tmp_path), download=True)


def test_corrupt_cifar_file_is_reported(tmp_path, monkeypatch):
    base = write_cifar(tmp_path, monkeypatch)
    with open(os.path.join(base, "data_batch_3"), "r+b") as f:
        f.seek(100)
        f.write(b"\x00\x01\x02")
    with pytest.raises(RuntimeError, match="corrupt"):
        sl.load_dataset("cifar10", root=str(tmp_path))


def test_reachable_uses_a_short_timeout(monkeypatch):
    seen = {}

    def fake(addr, timeout):
        seen.update(addr=addr, timeout=timeout)
        raise OSError("unreachable")

    monkeypatch.setattr(real_datasets.socket, "create_connection", fake)
    assert real_datasets._reachable("https://example.org/x.tar.gz", 2.0) is False
    assert seen == {"addr": ("example.org", 443), "timeout": 2.0}


@pytest.mark.parametrize("name,folder", [("mnist", "MNIST"), ("fashion_mnist", "FashionMNIST")])
def test_class_names_match_what_the_loader_returns(tmp_path, name, folder):
    write_mnist(tmp_path, folder)
    tr, _ = sl.load_dataset(name, root=str(tmp_path), n_train=None, n_test=None, size=None)
    assert sl.class_names(name) == tuple(tr.classes)


def test_class_names_of_cifar_and_the_embedded_sets(tmp_path, monkeypatch):
    write_cifar(tmp_path, monkeypatch)
    tr, _ = sl.load_dataset("cifar10", root=str(tmp_path), n_train=None, size=None)
    assert sl.class_names("cifar10") == tuple(tr.classes)
    assert sl.class_names("shapes") == sl.SHAPE_CLASSES
    assert sl.class_names("digits") == tuple(sl.load_dataset("digits")[0].classes)
    with pytest.raises(ValueError, match="dataset must be one of .*got 'cifar100'"):
        sl.class_names("cifar100")


def test_subset_is_taken_before_conversion_and_matches_the_full_set(tmp_path, monkeypatch):
    write_cifar(tmp_path, monkeypatch)
    full, full_te = sl.load_dataset("cifar10", root=str(tmp_path), n_train=None, n_test=None,
                                    size=None)
    sub, sub_te = sl.load_dataset("cifar10", root=str(tmp_path), n_train=17, n_test=4, size=None,
                                  seed=5)
    idx = torch.randperm(50, generator=torch.Generator().manual_seed(5))[:17].sort().values
    assert torch.equal(sub.images, full.images[idx]) and torch.equal(sub.labels, full.labels[idx])
    idx_te = torch.randperm(10, generator=torch.Generator().manual_seed(6))[:4].sort().values
    assert torch.equal(sub_te.images, full_te.images[idx_te])


def test_fetch_is_a_no_op_for_embedded_data_and_checks_files_for_real_data(tmp_path, monkeypatch):
    assert sl.fetch("shapes") is None and sl.fetch("digits") is None
    write_mnist(tmp_path)
    assert sl.fetch("mnist", root=str(tmp_path)) == str(tmp_path)     # files there: no download
    monkeypatch.setattr(real_datasets, "_reachable", lambda url, timeout: False)
    with pytest.raises(ConnectionError, match="cannot reach"):
        sl.fetch("fashion_mnist", root=str(tmp_path))               # missing, no network
    monkeypatch.setenv("SPURLAB_DATA", str(tmp_path))
    assert sl.fetch("mnist") == str(tmp_path)                         # default root
    with pytest.raises(ValueError, match="dataset must be one of"):
        sl.fetch("imagenet")


def test_placement_scores_latent_difficulty_or_early_el2n(tmp_path):
    cfg = sl.preset("smoke")
    shapes, _ = sl.load_dataset("shapes", n_train=cfg.n_train, n_test=cfg.n_test)
    assert torch.equal(sl.placement_scores(cfg, shapes), shapes.difficulty)
    write_mnist(tmp_path, n_train=200, n_test=60)
    mnist, _ = sl.load_dataset("mnist", root=str(tmp_path), n_train=None, n_test=None, size=None)
    cfg = sl.preset("smoke", dataset="mnist", n_train=200, n_test=60)
    s = sl.placement_scores(cfg, mnist)
    assert s.shape == (200,) and bool((s >= 0).all()) and float(s.std()) > 0
    assert torch.equal(s, sl.placement_scores(cfg, mnist))        # same seed, same scores
    # what build_scenario ranks by: placement='hardest' puts the carriers on the top scores
    from spurlab import build_scenario
    sc = build_scenario(cfg.replace(placement="hardest", target_class=3), root=str(tmp_path))
    c1 = (mnist.labels == 3).nonzero().flatten()
    top = c1[s[c1].argsort(descending=True)[:int(sc.carrier.sum())]]
    assert set(top.tolist()) == set(sc.carrier_indices.tolist())
