"""The typed record (spurlab.results): a result carries the scenario it ran on, every table,
text and figure reads the class, the carriers and the groups from it, it round-trips to
versioned JSON, and rows for sweeps and the atlas come from one function."""

import json
import pathlib
import re

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

import spurlab as sl  # noqa: E402
from spurlab.flatten import key, row_verdict, rows  # noqa: E402
from spurlab.plotting import (  # noqa: E402
    composition_bars,
    group_accuracy_bars,
    lead_vs_control,
    occupancy_bars,
    plot_result,
    pruned_gallery,
    pruning_takeaway,
    seeds_table,
)
from spurlab.results import SCHEMA, Result  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _readme_block():
    """The README's "library in a few calls" block: its bring-your-own part, as written."""
    text = (ROOT / "README.md").read_text()
    block = text.split("## The library in a few calls", 1)[1].split("```python", 1)[1].split("```", 1)[0]
    return block


@pytest.fixture(scope="module")
def byo():
    """The README's bring-your-own example (digits, a corner pattern, target_class=9), run as
    the README writes it (its first lines define cfg); returns its namespace."""
    ns = {}
    exec(compile(_readme_block(), "README.md", "exec"), ns)      # noqa: S102 - the README's own code
    return ns


def test_the_readme_example_reports_class_9_everywhere(byo, capsys):
    mine, sc = byo["mine"], byo["sc"]
    facts = mine.scenario
    assert facts.target_class == 9 and facts.target_name == "9" and facts.custom
    assert mine.config.target_class == 4             # the config's default: not what was run
    assert facts.n_carriers == int(sc.carrier.sum()) and facts.feature == "corner"
    name = "class 9 ('9')"
    assert name in mine.table() and "class 4" not in mine.table()
    assert "class 4" not in capsys.readouterr().out           # what the README's prints showed
    assert name in seeds_table([mine]) or "c1" in seeds_table([mine])
    for text in (pruning_takeaway([mine]), lead_vs_control([mine], "hardest", "random")[1],
                 composition_bars([mine])[1], plot_result(mine)[1]):
        assert name in text and "class 4" not in text, text
    fig, take = occupancy_bars([mine], ["hardest", "random"])
    assert "'9'" in take and "'9'" in fig.axes[0].get_title()
    fig, take = group_accuracy_bars([mine])
    assert "'9' images with the corner" in take
    fig, take = pruned_gallery(mine, sc, "hardest", n_target=4, n_other=2)
    assert "'9' images pruned" in take
    plt.close("all")


def test_the_carriers_each_arm_removed_are_what_its_pruned_indices_say(byo):
    mine, sc = byo["mine"], byo["sc"]
    carriers = set(mine.scenario.carrier_indices)
    assert carriers == set(sc.carrier_indices.tolist())
    groups = sc.train_groups.numpy()
    for name, arm in mine.arms.items():
        assert arm.carriers_pruned == len(carriers & set(arm.pruned)), name
        assert list(arm.pruned_by_group) == np.bincount(
            groups[list(arm.pruned)], minlength=len(mine.scenario.group_sizes)).tolist()
        assert arm.n_kept == mine.scenario.n_train - len(arm.pruned)
    assert mine.arms["hardest/oracle"].labels_used == "training"
    assert mine.arms["hardest"].labels_used == mine.arms["random"].labels_used == "none"
    # composition_bars counts the same carriers
    take = composition_bars([mine])[1]
    for name in ("hardest", "random"):
        assert f"{name} removes {mine.arms[name].carriers_pruned / mine.carriers:.0%}" in take
    plt.close("all")


def test_the_facts_are_the_scenarios(small_data):
    train, test = small_data
    sc = sl.make_scenario(train, test, sl.Line(salience=0.5), target_class=2, prevalence=0.5, seed=1)
    f = sl.ScenarioFacts.of(sc, dataset="shapes", scale="custom")
    assert f.target_class == 2 and f.target_name == sl.SHAPE_CLASSES[2] and f.feature == "line"
    assert f.carrier_indices == tuple(sc.carrier_indices.tolist())
    assert list(f.group_sizes) == np.bincount(sc.train_groups.numpy(), minlength=12).tolist()
    assert f.n_target == int((train.labels == 2).sum()) and f.n_train == len(train)
    assert f.group_names[5] == f"{sl.SHAPE_CLASSES[2]} + line" and f.carrier_group == 5
    assert f.n_stamped_test == len(sc.stamped_test)


def test_the_scale_is_the_preset_the_run_matches():
    assert sl.run(sl.preset("smoke"), arms=[], reference=False).scenario.scale == "smoke"
    assert sl.run(sl.preset("smoke", epochs=2, score_epoch=1), arms=[],
                  reference=False).scenario.scale == "custom"


def test_save_and_load_keep_the_whole_record(tmp_path):
    r = sl.run(sl.preset("smoke"), arms=["hardest", "jtt"])
    r.save(tmp_path / "r.json")
    back = Result.load(tmp_path / "r.json")
    for field in ("config", "scenario", "baseline", "reference", "arms", "shortcut", "scores",
                  "score_model"):
        assert getattr(back, field) == getattr(r, field), field
    assert back.table() == r.table()
    doc = json.loads((tmp_path / "r.json").read_text())
    assert doc["schema"] == SCHEMA and doc["verdict_text"] == r.verdict().text()


def test_an_old_result_file_is_refused_with_what_to_do(tmp_path):
    old = {"config": sl.Config().to_dict(), "config_string": "seed=3", "baseline": {"smr": 0.1},
           "arms": {}, "reference": None, "regime_percentile": 50.0, "carriers": 10,
           "scenario": "line on 10 rings", "timings": {}, "environment": {}}
    p = tmp_path / "old.json"
    p.write_text(json.dumps(old))
    with pytest.raises(ValueError, match=r"before results had a schema.*sl\.run\('seed=3'\)") as e:
        Result.load(p)
    assert str(p) in str(e.value)
    with pytest.raises(ValueError, match="schema must be 'spurlab-result/2'"):
        Result.from_dict({**json.loads(json.dumps(sl.run(sl.preset("smoke"), arms=[]).to_dict())),
                          "schema": "spurlab-result/9"})


def test_rows_are_the_one_flattening_of_a_result():
    r = sl.run(sl.preset("smoke"), arms=["hardest", "hardest/oracle"])
    row = rows(r)
    assert row[key("smr", "baseline")] == r.baseline.smr
    assert row[key("smr", "hardest")] == r.arms["hardest"].metrics.smr
    assert row[key("carriers_pruned", "hardest/oracle")] == r.arms["hardest/oracle"].carriers_pruned
    assert row["learned"] == r.shortcut.learned and row["excess_lo"] == r.shortcut.ci95[0]
    assert row["target_class"] == 4 and row["n_test"] == r.scenario.n_stamped_test
    assert row_verdict(row) == r.shortcut
    assert json.loads(json.dumps(row)) == row                      # JSON-able as it is


def test_metric_keys_are_built_in_one_module():
    """Flat keys like f"smr_{arm}" are built by spurlab.flatten.key alone."""
    pattern = re.compile(r"""f["'](smr|clean_accuracy|worst_group|carriers_pruned|occupancy|excess)\w*_\{""")
    where = sorted(str(p.relative_to(ROOT)) for folder in ("spurlab", "scripts", "benchmarks")
                   for p in (ROOT / folder).rglob("*.py") if pattern.search(p.read_text()))
    assert where == [], where
