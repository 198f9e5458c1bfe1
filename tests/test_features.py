import pytest
import torch

from spurlab import Line, Patch, Pattern, Tint, make_feature


def test_line_blends_only_the_centre_row():
    x = torch.zeros(2, 1, 16, 16)
    out = Line(salience=0.4).apply(x)
    assert torch.allclose(out[:, :, 8, :], torch.full((2, 1, 16), 0.4))
    out[:, :, 8, :] = 0
    assert out.abs().max() == 0
    assert x.abs().max() == 0  # input untouched


def test_line_salience_is_opacity_on_any_background():
    x = torch.full((1, 1, 16, 16), 0.5)
    for s in (0.0, 0.25, 1.0):
        assert torch.allclose(Line(salience=s).apply(x)[0, 0, 8], torch.full((16,), 0.5 + 0.5 * s))


def test_line_thickness_and_vertical():
    x = torch.zeros(1, 1, 16, 16)
    m = Line(salience=1, thickness=3).apply(x)[0, 0]
    assert m.sum(1).nonzero().flatten().tolist() == [7, 8, 9]
    v = Line(salience=1, orientation="vertical").apply(x)[0, 0]
    assert v[:, 8].sum() == 16 and v.sum() == 16


def test_patch_positions_and_checker():
    x = torch.zeros(1, 1, 8, 8)
    tl = Patch(salience=1, size=2, value=1.0).apply(x)[0, 0]
    assert tl[:2, :2].sum() == 4 and tl.sum() == 4
    br = Patch(salience=1, size=2, position="bottom-right", value=1.0).apply(x)[0, 0]
    assert br[6:, 6:].sum() == 4
    ck = Patch(salience=1, size=2).apply(x)[0, 0]
    assert ck[:2, :2].tolist() == [[0.0, 1.0], [1.0, 0.0]]


def test_tint_rgb_and_grey():
    rgb = Tint(salience=0.5, color=(1, 0, 0)).apply(torch.zeros(1, 3, 4, 4))
    assert torch.allclose(rgb[0, :, 0, 0], torch.tensor([0.5, 0.0, 0.0]))
    grey = Tint(salience=1.0, color=(1, 1, 1)).apply(torch.zeros(1, 1, 4, 4))
    assert torch.allclose(grey, torch.ones(1, 1, 4, 4))


def test_pattern_mask_and_callable():
    m = torch.zeros(8, 8)
    m[0, 0] = 1
    out = Pattern(mask=m, values=1.0, salience=0.5).apply(torch.zeros(1, 1, 8, 8))
    assert out[0, 0, 0, 0] == 0.5 and out.sum() == 0.5
    flip = Pattern(fn=lambda x: 1 - x, salience=1.0)
    assert torch.allclose(flip.apply(torch.zeros(1, 1, 4, 4)), torch.ones(1, 1, 4, 4))


@pytest.mark.parametrize("make,match", [
    (lambda: Line(salience=1.5), "salience"),
    (lambda: Line(salience=-0.1), "salience"),
    (lambda: Line(thickness=0), "thickness"),
    (lambda: Line(orientation="diagonal"), "orientation"),
    (lambda: Patch(position="middle"), "position"),
    (lambda: make_feature("stripe"), "feature"),
    (lambda: Pattern(), "exactly one of"),
    (lambda: Pattern(mask=torch.full((4, 4), 2.0)), "mask"),
])
def test_feature_errors_name_the_parameter(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_pattern_wrong_mask_size_and_bad_fn_output():
    with pytest.raises(ValueError, match="mask has shape"):
        Pattern(mask=torch.zeros(4, 4)).apply(torch.zeros(1, 1, 8, 8))
    with pytest.raises(ValueError, match="fn must return"):
        Pattern(fn=lambda x: x[:, :, :2]).apply(torch.zeros(1, 1, 8, 8))


def test_make_feature_by_name():
    f = make_feature("line", salience=0.2, thickness=2)
    assert isinstance(f, Line) and f.salience == 0.2 and f.thickness == 2
