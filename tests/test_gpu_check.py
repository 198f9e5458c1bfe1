"""benchmarks/gpu_check.py: its dry mode runs the CUDA code path on the CPU (bf16 autocast,
channels_last, packed seeds, bf16 scores, a ResNet-18 epoch) at tiny sizes, and its verdict
logic fails the run when a check or (outside the dry mode) a claim fails."""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "gpu_check.py"


def _module():
    spec = importlib.util.spec_from_file_location("gpu_check", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _run(*args, timeout=300):
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1"),
           "OMP_WAIT_POLICY": "PASSIVE", "MPLBACKEND": "Agg"}
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=ROOT)


def test_dry_run_runs_every_step_and_passes(tmp_path):
    out_json = tmp_path / "gpu_check.json"
    proc = _run("--dry-run", "--json", str(out_json))
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-3000:]
    out = proc.stdout
    for header in ("1. quick-mode run", "2. packed seeds", "3. EL2N and GraNd",
                   "4. CIFAR-10-sized ResNet-18 epochs", "5. one epoch of the CIFAR-10S reference"):
        assert header in out, out
    assert "[FAIL]" not in out and "claim(s) reported only (dry run)" in out
    doc = json.loads(out_json.read_text())
    assert doc["dry_run"] is True and doc["device"] == "cpu"
    checks = {r["name"]: r for r in doc["results"]}
    # the CUDA-only promises, exercised on the CPU
    assert checks["bf16 autocast was active in training"]["ok"]
    assert checks["channels_last was used in training"]["ok"]
    assert all(r["ok"] for r in doc["results"] if r["enforced"])
    assert all(not r["enforced"] for r in doc["results"] if r["kind"] == "claim")
    figs = doc["figures"]
    assert 0.9 <= figs["EL2N Spearman bf16 vs fp32 (300 samples)"] <= 1
    assert figs["ResNet-18 training throughput"] > 0
    assert figs["ResNet-18 forward FLOPs per 32x32 image"] == pytest.approx(1.11, abs=0.01)
    assert checks["the reference line: red channel, column 16, value 191"]["ok"]
    assert checks["the model is a ResNet-20 that normalises its input"]["ok"]
    assert figs["reference recipe throughput"] > 0


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_without_a_gpu_it_says_so_and_exits_2():
    proc = _run(timeout=120)
    assert proc.returncode == 2 and "no CUDA device" in proc.stderr and "--dry-run" in proc.stderr


def test_bad_json_path_is_refused_before_any_work(tmp_path):
    proc = _run("--dry-run", "--json", str(tmp_path), timeout=120)
    assert proc.returncode == 2 and "--json" in proc.stderr and "folder" in proc.stderr
    assert "1. quick-mode run" not in proc.stdout


def test_verdict_fails_on_a_failed_check_and_on_an_enforced_claim(capsys):
    gc = _module()
    r = gc.Report(enforce_claims=True)
    r.check("fine", True)
    assert r.exit_code() == 0
    r.check("hardest beats random", False, "0.2 vs 0.1", claim=True)
    assert r.exit_code() == 1
    dry = gc.Report(enforce_claims=False)
    dry.check("hardest beats random", False, claim=True)
    assert dry.exit_code() == 0
    dry.check("finite loss", False)
    assert dry.exit_code() == 1
    out = capsys.readouterr().out
    assert "[FAIL] claim: hardest beats random: 0.2 vs 0.1" in out and "[note] claim" in out


def test_rank_helpers():
    gc = _module()
    assert gc.spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1)
    assert gc.spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1)
    assert gc.spearman([1, 1, 2, 2], [1, 1, 2, 2]) == pytest.approx(1)   # ties averaged
    assert gc.top_overlap([4, 3, 2, 1], [4, 3, 1, 2], share=0.5) == 1.0
    assert gc.top_overlap([4, 3, 2, 1], [1, 2, 3, 4], share=0.5) == 0.0
