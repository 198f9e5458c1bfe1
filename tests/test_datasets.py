import numpy as np
import pytest
import torch

from spurlab import SHAPE_CLASSES, from_tensors, load_dataset, load_digits, make_shapes, train_test_split


def test_shapes_format_and_balance():
    ds = make_shapes(1200, seed=3)
    assert ds.images.shape == (1200, 1, 16, 16) and ds.images.dtype == torch.float32
    assert ds.images.min() >= 0 and ds.images.max() <= 1
    assert ds.classes == SHAPE_CLASSES
    assert ds.class_counts() == [200] * 6
    assert ds.difficulty.shape == (1200,)
    assert 0 <= ds.difficulty.min() and ds.difficulty.max() <= 1


def test_shapes_same_seed_same_images_other_seed_other_images():
    a, b, c = make_shapes(300, seed=1), make_shapes(300, seed=1), make_shapes(300, seed=2)
    assert torch.equal(a.images, b.images) and torch.equal(a.labels, b.labels)
    assert not torch.equal(a.images, c.images)


def test_shapes_latent_difficulty_changes_the_images():
    """Hard samples are fainter and noisier than easy ones: the knob is real."""
    ds = make_shapes(3000, seed=0)
    easy, hard = ds.difficulty < 0.2, ds.difficulty > 0.8
    # mean absolute deviation from the clean class template falls with difficulty: measure
    # the signal's peak brightness, which contrast reduction lowers
    peak = ds.images.flatten(1).quantile(0.95, dim=1)
    assert peak[easy].mean() > peak[hard].mean() + 0.1
    # images of one class are less alike when hard (noise, clutter, blending)
    for k in range(6):
        e = ds.images[easy & (ds.labels == k)].flatten(1)
        h = ds.images[hard & (ds.labels == k)].flatten(1)
        assert e.std(0).mean() < h.std(0).mean() + 0.05


@pytest.mark.parametrize("size", [8, 24, 32])
def test_shapes_other_sizes(size):
    assert make_shapes(60, size=size).images.shape[-1] == size


def test_load_dataset_split_and_errors():
    tr, te = load_dataset("shapes", n_train=240, n_test=120, seed=5)
    assert len(tr) == 240 and len(te) == 120
    assert not torch.equal(tr.images[:5], te.images[:5])
    with pytest.raises(ValueError, match="dataset"):
        load_dataset("cifar100")
    with pytest.raises(ValueError, match="n_train"):
        load_dataset("shapes", n_train=10)


def test_digits_offline():
    ds = load_digits()
    assert len(ds) == 1797 and ds.num_classes == 10 and ds.difficulty is None
    assert ds.images.shape == (1797, 1, 16, 16)
    assert 0 <= ds.images.min() and ds.images.max() <= 1
    tr, te = load_dataset("digits", seed=0)
    assert len(tr) + len(te) == 1797
    # stratified: every class in both parts, in proportion
    ct, ce = np.array(tr.class_counts()), np.array(te.class_counts())
    assert (ce > 0).all() and np.allclose(ce / (ct + ce), 0.25, atol=0.02)


def test_from_tensors_accepts_and_converts():
    x = (torch.rand(30, 8, 8) * 255).to(torch.uint8)
    ds = from_tensors(x, torch.arange(30) % 3, classes=["a", "b", "c"])
    assert ds.images.shape == (30, 1, 8, 8) and ds.images.max() <= 1
    assert ds.classes == ("a", "b", "c")
    ds2 = from_tensors(np.random.rand(10, 3, 8, 8).astype("float32"), np.arange(10) % 2)
    assert ds2.images.shape[1] == 3


@pytest.mark.parametrize("images,labels,match", [
    (torch.rand(10, 8), torch.zeros(10, dtype=torch.long), "images must have shape"),
    (torch.rand(10, 1, 8, 8), torch.zeros(9, dtype=torch.long), "labels must have shape"),
    (torch.rand(10, 1, 8, 8) * 3, torch.arange(10) % 2, r"values in \[0, 1\]"),
    (torch.full((10, 1, 8, 8), float("nan")), torch.arange(10) % 2, "NaN"),
    (torch.rand(10, 1, 8, 8), torch.full((10,), -1), "labels must be 0..K-1"),
    (torch.rand(10, 1, 8, 8), torch.tensor([0, 2] * 5), "cover every class"),
])
def test_from_tensors_rejects_bad_input(images, labels, match):
    with pytest.raises(ValueError, match=match):
        from_tensors(images, labels)


def test_from_tensors_rejects_float_labels():
    with pytest.raises(TypeError, match="labels"):
        from_tensors(torch.rand(4, 1, 8, 8), torch.tensor([0.0, 1.0, 0.0, 1.0]))


def test_train_test_split_deterministic_and_disjoint():
    ds = make_shapes(600)
    a_tr, a_te = train_test_split(ds, 0.2, seed=1)
    b_tr, _ = train_test_split(ds, 0.2, seed=1)
    assert torch.equal(a_tr.images, b_tr.images)
    assert len(a_tr) + len(a_te) == 600 and len(a_te) == 120
    with pytest.raises(ValueError, match="test_fraction"):
        train_test_split(ds, 1.0)
