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
])
def test_bad_input_exits_2_without_traceback(argv, match, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("spurlab: error:") and match in err and "Traceback" not in err


def test_console_script_help():
    out = subprocess.run([sys.executable, "-m", "spurlab.cli", "--help"], capture_output=True,
                         text=True)
    assert out.returncode == 0 and "demo" in out.stdout
