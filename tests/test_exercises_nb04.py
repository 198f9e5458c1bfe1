"""Notebook 04's exercise checkers: wrong answers get a hint (the rest: test_exercises.py)."""

import dataclasses
import math

import numpy as np
import pytest

from spurlab.exercises import nb04

from .exercise_helpers import solutions


def test_wrong_answers_get_a_hint(capsys):
    def returns_pruned(scores, labels, ratio):  # the removed samples instead of the kept ones
        keep = solutions("nb04").prune_hardest_per_class(scores, labels, ratio)
        return np.setdiff1d(np.arange(len(labels)), keep)

    def global_not_per_class(scores, labels, ratio):
        n = round(ratio * len(labels))
        order = np.argsort(-np.asarray(scores))
        return np.sort(order[n:])

    def ratio_of_excess(base, pruned, ref):  # forgets to subtract the reference
        return (base - pruned) / base

    def no_nan(base, pruned, ref):
        return (base - pruned) / (base - ref)

    assert nb04.check_prune_hardest_per_class(returns_pruned) is False
    assert nb04.check_prune_hardest_per_class(global_not_per_class) is False
    assert nb04.check_excess_removed(ratio_of_excess) is False
    assert nb04.check_excess_removed(no_nan) is False
    assert nb04.check_excess_removed(lambda *a: None) is False
    out = capsys.readouterr().out
    assert out.count("hint for") == 5 and "pass" not in out


def test_reference_excess_matches_result():
    assert math.isnan(nb04.reference_excess_removed(0.02, 0.01, 0.02))
    assert nb04.reference_excess_removed(0.2, 0.02, 0.02) == 1.0


# --- Exercises 3 and 4: judged on a run (stand-in Results, one per seed)

def fake_results(sparing_minus_hardest=(0.05, 0.06, 0.04), share=(0.5, 0.6, 0.55),
                 hard=(0.9, 1.0, 0.95)):
    """Three seeds of a run with the arms of notebook 04: baseline SMR 0.2, no-carrier model
    0.02, hardest 0.08, random 0.15, easiest 0.18, the carrier-sparing arm 0.08 plus the given
    difference; 300 c1 samples of which 90 carry the line (30%); the hardest arm prunes 75 of
    c1 (its carriers: ``share`` of them; ``hard`` of the hard carriers, 0.7 by latent difficulty)
    and 300 samples of other classes."""
    from .stand_in import arm as stand_in_arm
    from .stand_in import result

    out = []
    for seed, (gap, sh, hd) in enumerate(zip(sparing_minus_hardest, share, hard)):
        def arm(name, smr, carrier_share=0.3, n=375, hard=0.3, latent=0.3):
            a = stand_in_arm(name, smr, carriers_pruned=round(75 * carrier_share),
                             carrier_share_pruned=carrier_share, carrier_share_target=0.3,
                             occupancy=carrier_share / 0.3, hard_removed=hard, n_hard=23,
                             latent_hard_removed=latent)
            return dataclasses.replace(a, pruned=tuple(range(n)))

        out.append(result(seed, 0.2, {"hardest": arm("hardest", 0.08, sh, hard=hd, latent=0.7),
                                      "random": arm("random", 0.15),
                                      "easiest": arm("easiest", 0.18, 0.1, hard=0.0),
                                      "hardest/sparing": arm("hardest/sparing", 0.08 + gap, 0.0,
                                                             hard=0.0, latent=0.0)},
                          ref=0.02, carriers=90, n_per_class=300, regime=50.0))
    return out


CARRIERS, SAMPLES = fake_results(), fake_results(sparing_minus_hardest=(0.01, -0.02, 0.0))


def test_which_control_each_mistake_gets_its_hint_in_stages(capsys):
    nb04._TRIES["control"] = 0
    assert nb04.check_which_control(lambda: ("random", "hard carriers"), CARRIERS) is False
    first = capsys.readouterr().out
    assert "does it matter *which* samples" in first and nb04.CONTROL_NUDGE in first
    assert nb04.check_which_control(lambda: ("easiest", "hard samples"), CARRIERS) is False
    second = capsys.readouterr().out
    assert "changes two things at once" in second and nb04.CONTROL_IDEA in second
    assert nb04.check_which_control(lambda: ("hardest/sparing", "hard samples"), CARRIERS) is False
    third = capsys.readouterr().out
    assert "read what it did" in third and "above 0 all along" in third
    assert "the answer: ('hardest/sparing', 'hard carriers')" in third and "+0.050" in third
    assert nb04.check_which_control(lambda: ("hardest", "hard carriers"), CARRIERS) is False
    assert "not a control for it" in capsys.readouterr().out
    assert nb04.check_which_control(lambda: ("hardest/sparing", "The hard carriers"), CARRIERS) is True
    assert "sparing the carriers kept the shortcut" in capsys.readouterr().out
    assert nb04._TRIES["control"] == 0


def test_which_control_reads_the_run(capsys):
    assert nb04.control_reading(SAMPLES)[0] == "hard samples"
    assert nb04.check_which_control(lambda: ("hardest/sparing", "hard carriers"), SAMPLES) is False
    assert "does not lie above 0" in capsys.readouterr().out
    assert nb04.check_which_control(lambda: ("hardest/sparing", "hard samples"), SAMPLES) is True
    assert "cannot credit the carriers" in capsys.readouterr().out
    # without a run: the paper's mechanism
    assert nb04.check_which_control(lambda: ("hardest/sparing", "hard samples")) is False
    assert "what does it do in the paper's mechanism" in capsys.readouterr().out


def test_which_control_bad_answers(capsys):
    for bad, said in [(lambda: "hardest/sparing", "return a pair (control, explanation)"),
                      (lambda: ("no carriers", "hard carriers"), "one of the notebook's arms"),
                      (lambda: ("hardest/sparing", "luck"), "the explanation is one of"),
                      (lambda: {}["x"], "KeyError")]:
        assert nb04.check_which_control(bad, CARRIERS) is False
        assert said in capsys.readouterr().out


def test_hard_carrier_shares_are_the_runs():
    t = nb04.hard_carrier_shares(CARRIERS)
    assert t["hard"] == np.mean([0.9, 1.0, 0.95]) and t["latent"] == pytest.approx(0.7)
    assert t["all"] == np.mean([round(75 * s) / 90 for s in (0.5, 0.6, 0.55)])
    assert t["among_pruned"] == 0.55 and t["prune_ratio"] == 0.25


# wrong answers to Exercise 4 that must fail, each with the hint aimed at it (all: 0.46 of the
# carriers; hard: 0.95; latent: 0.7; among the pruned c1 samples: 0.55; p = 0.25)
HARD_WRONG = [((0.46, 0.95), "swapped"),
              ((0.7, 0.46), "latent difficulty (the middle panel)"),
              ((0.55, 0.46), "the carriers' share among the c1 samples"),
              ((0.25, 0.46), "the prune ratio p"),
              ((0.95, 0.25), "second number is off"),
              ((0.75, 0.46), "read the 'hardest' bar again"),
              ((0.46, 0.46), "read the 'hardest' bar again")]


def test_hard_carriers_every_wrong_answer_fails_with_its_hint_in_stages(capsys):
    nb04._TRIES["hard"] = 0
    for k, (answer, said) in enumerate(HARD_WRONG):
        assert nb04.check_hard_carriers(lambda r, a=answer: a, CARRIERS) is False, answer
        out = capsys.readouterr().out
        assert said in out, (answer, out)
        stage = (nb04.HARD_NUDGE, nb04.HARD_IDEA)[k] if k < 2 else "the answer: the 'hardest' " \
            "arm removed 95% of the hard carriers and 46% of all carriers"
        assert stage in out, (answer, out)
    assert nb04.check_hard_carriers(lambda r: (0.93, 0.48), CARRIERS) is True     # an estimate
    out = capsys.readouterr().out
    assert "more of the hard carriers than of the carriers as a whole" in out
    assert "spares" not in out and "targets" not in out
    assert nb04._TRIES["hard"] == 0


def test_hard_carriers_pass_says_what_its_own_numbers_say(capsys):
    flat = fake_results(hard=(0.45, 0.5, 0.4))               # hard share close to the share of all
    t = nb04.hard_carrier_shares(flat)
    assert nb04.check_hard_carriers(lambda r: (t["hard"], t["all"]), flat) is True
    assert "no preference for the hard ones" in capsys.readouterr().out
    low = fake_results(hard=(0.1, 0.2, 0.15))
    t = nb04.hard_carrier_shares(low)
    assert nb04.check_hard_carriers(lambda r: (t["hard"], t["all"]), low) is True
    assert "fewer of the hard carriers" in capsys.readouterr().out


def test_hard_carriers_bad_answers(capsys):
    for bad, said in [(lambda r: 55, "return two fractions"), (lambda r: (55, 30), "not percentages"),
                      (lambda r: ("a", "b"), "return two fractions"), (lambda r: r[9], "IndexError")]:
        assert nb04.check_hard_carriers(bad, CARRIERS) is False
        assert said in capsys.readouterr().out
    assert nb04.check_hard_carriers(lambda r: (0.5, 0.3)) is False
    assert "cannot check without the run" in capsys.readouterr().out


def test_lead_vs_control_figure_and_takeaway():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from spurlab import Config
    from spurlab.plotting import lead_vs_control

    fig, take = lead_vs_control(CARRIERS, "hardest", "random")
    assert take.startswith(f"Takeaway (EL2N at epoch {Config().score_epoch}, c1 = class 4 ('ring'), "
                           "p = 0.25, 3 seeds): shortcut learned in 3 of 3 seeds")
    assert "SMR baseline 20.0%" in take
    assert "hardest minus random, SMR: -0.070" in take
    assert take.endswith("excludes 0: hardest leaves a lower SMR than random (better).")
    assert len(fig.axes) == 2
    plt.close(fig)
    fig, take = lead_vs_control(SAMPLES, "hardest/sparing", "hardest")
    assert "class 4 ('ring')" in take and "includes 0, not shown to differ" in take
    plt.close(fig)


def test_knobs_panel_reaches_every_knob(monkeypatch):
    import matplotlib
    matplotlib.use("Agg")

    import spurlab.pipeline
    from spurlab import Config

    from .stand_in import facts

    calls = []
    names = ("disk", "square", "cross", "triangle", "ring", "star")

    def fake_run_seeds(cfg, seeds, arms):
        calls.append((cfg, list(seeds), list(arms)))
        out = fake_results()
        for r in out:
            r.config = cfg.replace(seed=r.config.seed)
            r.scenario = facts(90, cfg.target_class, names, n_per_class=300)
            r.arms = {a: r.arms[a.split("/")[0]] for a in arms}
        return out

    monkeypatch.setattr(spurlab.pipeline, "run_seeds", fake_run_seeds)
    cfg = Config(epochs=6, score_epoch=2, target_class=4)
    panel = nb04.knobs_panel(cfg, [0, 1, 2], list(names))
    assert panel.values() == {"score": "el2n", "score_epoch": 2, "scope": "class", "target_class": 4}
    assert panel.controls["score_epoch"].max == 6
    results = panel.set(score="margin", score_epoch=5, scope="global", target_class=1).run()
    assert panel.error is None and len(results) == 3
    (ran, seeds, arms), = calls
    assert (ran.score, ran.score_epoch, ran.target_class, seeds) == ("margin", 5, 1, [0, 1, 2])
    assert arms == ["hardest/global", "random/global"]
    shown = "".join(o.get("text", "") for o in panel.output.outputs)      # the panel's output area
    assert "Takeaway (MARGIN at epoch 5, c1 = class 1 ('square')" in shown
    panel.set(scope="class").run()
    assert calls[-1][2] == ["hardest", "random"]
