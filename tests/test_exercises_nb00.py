"""Notebook 00's exercise checkers: wrong answers get a hint (the rest: test_exercises.py)."""

import torch

from spurlab.exercises import nb00


def test_in_place_stamping_that_returns_the_images_passes(capsys):
    def in_place(images, salience):
        row = images.shape[-2] // 2
        images[:, :, row, :] = (1 - salience) * images[:, :, row, :] + salience
        return images

    assert nb00.check_stamp_line(in_place) is True


def test_wrong_answers_get_a_hint(capsys):
    def paints_white(images, salience):  # ignores salience
        out = images.clone()
        out[:, :, images.shape[-2] // 2, :] = 1.0
        return out

    def wrong_row(images, salience):  # row H // 2 - 1
        out = images.clone()
        r = images.shape[-2] // 2 - 1
        out[:, :, r, :] = (1 - salience) * out[:, :, r, :] + salience
        return out

    def adds_instead_of_blending(images, salience):
        out = images.clone()
        r = images.shape[-2] // 2
        out[:, :, r, :] = (out[:, :, r, :] + salience).clamp(0, 1)
        return out

    def first_channel_only(images, salience):
        out = images.clone()
        r = images.shape[-2] // 2
        out[:, 0, r, :] = (1 - salience) * out[:, 0, r, :] + salience
        return out

    def in_place_returns_none(images, salience):
        images[:, :, images.shape[-2] // 2, :] = 1.0

    for fn in (paints_white, wrong_row, adds_instead_of_blending, first_channel_only,
               in_place_returns_none):
        assert nb00.check_stamp_line(fn) is False

    def all_samples(labels, carrier, c1):  # share over the whole set
        return float(torch.as_tensor(carrier).float().mean())

    def counts_not_share(labels, carrier, c1):
        return int(torch.as_tensor(carrier)[torch.as_tensor(labels) == c1].sum())

    def any_carrier_counts(labels, carrier, c1):  # carriers of other classes counted too
        labels, carrier = torch.as_tensor(labels), torch.as_tensor(carrier)
        return float(carrier.sum() / (labels == c1).sum())

    for fn in (all_samples, counts_not_share, any_carrier_counts):
        assert nb00.check_prevalence_of(fn) is False
    out = capsys.readouterr().out
    assert out.count("hint") == 8 and "pass" not in out
