import json
import subprocess
import sys

import pytest

from spurlab.cli import main


def test_run_command_writes_json_and_figure(tmp_path, capsys):
    j, f = tmp_path / "r.json", tmp_path / "fig.png"
    rc = main(["run", "n_train=600 n_test=120 epochs=2 score_epoch=1", "--arms", "hardest,random",
               "--json", str(j), "--figure", str(f), "--quiet"])
    out = capsys.readouterr().out
    assert rc == 0 and "baseline (ERM)" in out and "Takeaway" in out
    d = json.loads(j.read_text())
    assert set(d["arms"]) == {"hardest", "random"}
    assert f.stat().st_size > 10_000


@pytest.mark.parametrize("argv,match", [
    (["run", "salience=3"], "salience"),
    (["run", "prune_ratio=1.2"], "prune_ratio"),
    (["run", "epochs=1 score_epoch=1", "--arms", "hardest/everyone"], "scope"),
    (["demo", "--seed", "-1"], "seed"),
    (["demo", "--seeds", "0"], "--seeds"),
])
def test_bad_input_exits_2_without_traceback(argv, match, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("spurlab: error:") and match in err and "Traceback" not in err


def test_console_script_help():
    out = subprocess.run([sys.executable, "-m", "spurlab.cli", "--help"], capture_output=True,
                         text=True)
    assert out.returncode == 0 and "demo" in out.stdout


def test_demo_over_seeds_prints_mean_and_spread(tmp_path, capsys):
    import argparse

    from spurlab import Config, cli

    args = argparse.Namespace(seed=3, seeds=2, quiet=True, figure=str(tmp_path / "f.png"),
                              json=str(tmp_path / "r.json"))
    cfg = Config.from_string("n_train=600 n_test=120 epochs=2 score_epoch=1")
    results = cli._report_seeds(cfg, ["hardest", "random", "easiest"], args)
    out = capsys.readouterr().out
    assert [r.config.seed for r in results] == [3, 4]
    base = [r.baseline.smr for r in results]
    mean, sd = sum(base) / 2, (abs(base[0] - base[1]) / 2 ** 0.5)
    assert f"{mean:.3f} ± {sd:.3f}" in out and "differ across CPUs" in out and "Takeaway" in out
    assert json.loads((tmp_path / "r.json").read_text())["seeds"] == [3, 4]
    assert (tmp_path / "f.png").stat().st_size > 10_000


# --------------------------------------------------------------------------- spurlab playground

def test_playground_command_prefers_voila_then_jupyterlab():
    from spurlab.cli import playground_command

    has = {"voila": None, "jupyterlab": object()}
    cmd = playground_command("p.ipynb", 9000, find_spec=lambda n: has.get(n))
    assert cmd[1:] == ["-m", "jupyterlab", "p.ipynb", "--ServerApp.port=9000"]
    has["voila"] = object()
    assert playground_command("p.ipynb", 9000, find_spec=lambda n: has.get(n))[1:4] == \
        ["-m", "voila", "p.ipynb"]
    assert playground_command("p.ipynb", 9000, find_spec=lambda n: None) is None


def test_spurlab_playground_writes_its_notebook_and_prints_the_command(tmp_path, capsys,
                                                                       monkeypatch):
    from spurlab.cli import main

    monkeypatch.setattr("importlib.util.find_spec", lambda n, *a: None)
    assert main(["playground", "--dir", str(tmp_path), "--print-command"]) == 1
    assert "neither Voila nor JupyterLab" in capsys.readouterr().err
    monkeypatch.setattr("importlib.util.find_spec",
                        lambda n, *a: object() if n == "jupyterlab" else None)
    assert main(["playground", "--dir", str(tmp_path), "--print-command"]) == 0
    nb = tmp_path / "playground.ipynb"
    assert "Playground()" in nb.read_text() and str(nb) in capsys.readouterr().out
    nb.write_text(nb.read_text().replace("Playground()", "Playground()  # mine"))
    assert main(["playground", "--dir", str(tmp_path), "--print-command"]) == 0
    assert "# mine" in nb.read_text()                       # an edited copy is kept


@pytest.mark.parametrize("args, match", [(["--port", "0"], "--port must be in 1-65535"),
                                         (["--dir", "/no/such/folder"], "--dir must be")])
def test_spurlab_playground_bad_arguments(args, match, capsys):
    from spurlab.cli import main

    assert main(["playground", "--print-command", *args]) == 2
    assert match in capsys.readouterr().err
