import pytest
import torch

from spurlab import TrainingDiverged, get_device, make_model, predict, train
from spurlab.device import configure_threads, usable_cpus


def test_training_learns_and_is_deterministic(small_data):
    tr, te = small_data
    states = []
    for _ in range(2):
        m = make_model(seed=4)
        hist = train(m, tr.images, tr.labels, epochs=4, batch_size=32, seed=4, progress=False)
        states.append({k: v.clone() for k, v in m.state_dict().items()})
    for k in states[0]:
        assert torch.equal(states[0][k], states[1][k]), k
    assert hist[-1]["loss"] < hist[0]["loss"]
    acc = (predict(m, te.images) == te.labels).float().mean()
    assert acc > 0.5  # six classes: chance is 1/6


def test_different_seed_different_model(small_data):
    tr, _ = small_data
    a, b = make_model(seed=0), make_model(seed=1)
    assert not torch.equal(a.head.weight, b.head.weight)
    train(a, tr.images, tr.labels, epochs=1, seed=0, progress=False)
    m = make_model(seed=0)
    train(m, tr.images, tr.labels, epochs=1, seed=1, progress=False)
    assert not torch.equal(a.head.weight, m.head.weight)  # batch order differs


def test_callback_each_epoch_and_stop_epoch(small_data):
    tr, _ = small_data
    seen = []
    hist = train(make_model(), tr.images, tr.labels, epochs=5, stop_epoch=2, progress=False,
                 callback=lambda e, m: seen.append((e, m.training)))
    assert seen == [(1, False), (2, False)] and len(hist) == 2


def test_divergence_is_reported(small_data):
    tr, _ = small_data
    x = tr.images.clone()
    x[0] = 1e38  # overflows to inf in the first layer
    with pytest.raises(TrainingDiverged, match="diverged"):
        train(make_model(), x, tr.labels, epochs=1, progress=False)


@pytest.mark.parametrize("kwargs,match", [
    (dict(epochs=0), "epochs"),
    (dict(lr=0), "lr"),
    (dict(lr=float("nan")), "lr"),
    (dict(batch_size=1), "batch_size"),
    (dict(stop_epoch=9, epochs=3), "stop_epoch"),
])
def test_train_argument_errors(small_data, kwargs, match):
    tr, _ = small_data
    with pytest.raises(ValueError, match=match):
        train(make_model(), tr.images, tr.labels, progress=False, **kwargs)


def test_train_shape_errors(small_data):
    tr, _ = small_data
    with pytest.raises(ValueError, match="labels"):
        train(make_model(), tr.images, tr.labels[:-1], progress=False)


def test_device_and_threads():
    assert get_device("cpu").type == "cpu"
    assert get_device().type in ("cpu", "cuda", "mps")
    n = usable_cpus()
    assert n >= 1 and configure_threads() == n == torch.get_num_threads()
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA"):
            get_device("cuda")


def test_models_by_name():
    from spurlab import ResNet18, TinyCNN
    assert isinstance(make_model("tiny"), TinyCNN)
    r = make_model("resnet18", in_channels=3, num_classes=10, image_size=32)
    assert isinstance(r, ResNet18)
    assert r(torch.rand(2, 3, 32, 32)).shape == (2, 10)
    with pytest.raises(ValueError, match="model"):
        make_model("vgg")


def test_resnet20_is_he_et_al_s_cifar_resnet20():
    """The CIFAR-10S reference code's model: 0.27M parameters for 10 classes (He et al. 2016,
    Table 6: 0.27M), three stages at 32, 16 and 8 px, parameter-free shortcuts; the same seed
    gives the same weights; one-channel 16-px inputs work too (the shapes)."""
    from spurlab.models import ResNet20

    m = make_model("resnet20", in_channels=3, num_classes=10, image_size=32, seed=3)
    assert isinstance(m, ResNet20) and sum(p.numel() for p in m.parameters()) == 269_722
    convs = [x for x in m.modules() if isinstance(x, torch.nn.Conv2d)]
    assert len(convs) == 19 and not any(x.kernel_size == (1, 1) for x in convs)   # 19 + fc = 20
    sizes = []
    hooks = [b.register_forward_hook(lambda _m, _i, o: sizes.append(tuple(o.shape[1:])))
             for b in m.blocks]
    assert m(torch.rand(2, 3, 32, 32)).shape == (2, 10)
    for h in hooks:
        h.remove()
    assert sizes == [(16, 32, 32)] * 3 + [(32, 16, 16)] * 3 + [(64, 8, 8)] * 3
    again = make_model("resnet20", in_channels=3, num_classes=10, image_size=32, seed=3)
    fresh = make_model("resnet20", in_channels=3, num_classes=10, image_size=32, seed=3)
    assert all(torch.equal(a, b) for a, b in zip(again.state_dict().values(),
                                                 fresh.state_dict().values()))
    other = make_model("resnet20", in_channels=3, num_classes=10, image_size=32, seed=4)
    assert not torch.equal(other.stem[0].weight, fresh.stem[0].weight)
    assert make_model("resnet20", in_channels=1, num_classes=6)(torch.rand(2, 1, 16, 16)).shape == (2, 6)


def test_uint8_images_train_and_predict_like_their_floats(small_data):
    from spurlab import make_model, predict_logits, train
    from spurlab.scores import el2n, grand

    tr, te = small_data
    x8 = (tr.images * 255).round().to(torch.uint8)
    xf = x8.float() / 255                     # the floats these bytes stand for
    runs = []
    for x in (x8, xf):
        m = make_model("tiny", seed=0)
        hist = train(m, x, tr.labels, epochs=2, batch_size=64, seed=0, progress=False)
        runs.append((hist, predict_logits(m, x[:100]), el2n(m, x[:100], tr.labels[:100]),
                     grand(m, x[:20], tr.labels[:20])))
    (h8, p8, e8, g8), (hf, pf, ef, gf) = runs
    assert h8 == hf
    assert torch.equal(p8, pf) and torch.equal(e8, ef) and torch.allclose(g8, gf)
    # the packed multi-seed trainer converts uint8 images the same way
    from spurlab.multiseed import train_seeds
    m8, h8s = train_seeds(x8[:256], tr.labels[:256], [0], epochs=1, batch_size=64, progress=False)
    mf, hfs = train_seeds(xf[:256], tr.labels[:256], [0], epochs=1, batch_size=64, progress=False)
    assert h8s == hfs and torch.equal(predict_logits(m8[0], xf[:50]), predict_logits(mf[0], xf[:50]))


def test_the_multistep_schedule_is_the_cifar_resnet_recipe(small_data):
    """'multistep' divides the rate by 10 at half and at three quarters of the epochs (the
    reference code's epochs 80 and 120 of 160); the config and train() take it, packed seeds
    too, and a wrong name is refused with the choices."""
    from spurlab import Config, make_model, train
    from spurlab.train import SCHEDULES, lr_factor

    f = lr_factor("multistep", 160, 782)
    assert [f(e * 782) for e in (0, 79, 80, 119, 120, 159)] == [1.0, 1.0, 0.1, 0.1, 0.01, 0.01]
    assert f(80 * 782 - 1) == 1.0 and lr_factor("multistep", 4, 3)(6) == 0.1
    assert Config(schedule="multistep").schedule == "multistep" and "multistep" in SCHEDULES
    tr, _ = small_data
    seen = []
    model = make_model("tiny", seed=0)
    hist = train(model, tr.images, tr.labels, epochs=4, schedule="multistep", progress=False,
                 callback=lambda e, m: seen.append(e))
    assert seen == [1, 2, 3, 4] and len(hist) == 4
    with pytest.raises(ValueError, match="schedule must be one of 'cosine', 'constant', 'multistep'"):
        Config(schedule="step")
