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
    assert out.count("hint for ") == 8 and "pass" not in out


# --- Exercise 3: which of two weak lines is learned? Judged on the atlas's verdicts.

class _Atlas:
    """A stand-in atlas: the verdict at each (salience, prevalence) of a table."""

    seeds = [0, 1, 2]
    grid = {"prune_ratio": [0.1]}

    def __init__(self, learned):
        self.learned = learned

    def point(self, s, q, ratio):
        from spurlab.verdicts import combine, seed_verdict

        ok = self.learned[(s, q)]
        excess = [0.03, 0.05, 0.04] if ok else [0.0, 0.004, -0.003]
        verdict = combine([seed_verdict(e, (e - 0.02, e + 0.02), 1500, seed=i)
                           for i, e in enumerate(excess)])
        return {"verdict": verdict, "baseline": {"smr": {"mean": 0.2 if ok else 0.02}},
                "reference": {"smr": {"mean": 0.02}}}


FAINT_MANY, VISIBLE_FEW = (0.1, 0.9), (0.7, 0.1)


def test_wrong_picks_get_hints_aimed_at_them_in_stages(capsys):
    atlas = _Atlas({FAINT_MANY: False, VISIBLE_FEW: True})
    nb00._TRIES["n"] = 0
    assert nb00.check_learned_shortcut(lambda: "A", atlas=atlas) is False
    first = capsys.readouterr().out
    assert "A (salience 0.1 on 90% of the rings) was not learned: its line is too faint" in first
    assert "B (salience" not in first and nb00.NUDGE in first          # the pick, not the answer
    assert nb00.check_learned_shortcut(lambda: "neither", atlas=atlas) is False
    second = capsys.readouterr().out
    assert "a visible line on a small share of the rings is enough" in second and nb00.IDEA in second
    assert nb00.check_learned_shortcut(lambda: "both", atlas=atlas) is False
    third = capsys.readouterr().out
    assert "too faint" in third and "the answer: 'B'" in third
    assert atlas.point(*VISIBLE_FEW, 0.1)["verdict"].text() in third    # the verdict, as it is said
    assert nb00.check_learned_shortcut(lambda: " b ", atlas=atlas) is True          # any spelling
    assert capsys.readouterr().out.startswith("pass: 'B'. From the atlas (3 seeds per setting")
    assert nb00._TRIES["n"] == 0                                                    # reset on a pass


def test_the_truth_comes_from_the_atlas(capsys):
    # the same question on an atlas where both are learned, then neither
    both = _Atlas({FAINT_MANY: True, VISIBLE_FEW: True})
    assert nb00.check_learned_shortcut(lambda: "B", atlas=both) is False
    assert "even its fainter line, on this many rings, is picked up" in capsys.readouterr().out
    assert nb00.check_learned_shortcut(lambda: "both", atlas=both) is True
    neither = _Atlas({FAINT_MANY: False, VISIBLE_FEW: False})
    assert nb00.check_learned_shortcut(lambda: "B", atlas=neither) is False
    assert "too few rings carry its line" in capsys.readouterr().out
    assert nb00.check_learned_shortcut(lambda: "none", atlas=neither) is True


def test_the_shipped_atlas_answers_and_bad_answers_are_named(capsys):
    from spurlab.atlas import load_atlas

    atlas = load_atlas()
    truth = {n: atlas.point(s, q, atlas.grid["prune_ratio"][0])["verdict"].learned
             for n, (s, q) in nb00.SCENARIOS.items()}
    assert truth == {"A": False, "B": True}      # the lesson the notebook's prompt sets up
    assert nb00.check_learned_shortcut(lambda: "B") is True
    capsys.readouterr()
    assert nb00.check_learned_shortcut(lambda: "C") is False
    assert "return one of 'A', 'B', 'both', 'neither'; got 'C'" in capsys.readouterr().out
    assert nb00.check_learned_shortcut(lambda: ("A",)) is False
    assert "got ('A',)" in capsys.readouterr().out
    assert nb00.check_learned_shortcut(lambda: 1 / 0) is False
    assert "ZeroDivisionError" in capsys.readouterr().out
