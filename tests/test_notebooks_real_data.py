"""Notebooks 01-05 on real data: the one-line switch (``SPURLAB_DATASET``), run end to end.

Every notebook of the series reads ``DATASET`` from ``SPURLAB_DATASET``. Here each runs under nbval
(as the suite runs them on the shapes) on small MNIST files in torchvision's real on-disk format,
written by the test (nothing is downloaded), in ``smoke`` mode: every cell, widget and exercise
check must run; the claim checks are the shapes' and are skipped, as the notebooks say.
"""

import json
import os
import pathlib
import subprocess
import sys

import pytest

from .test_real_datasets import write_mnist

ROOT = pathlib.Path(__file__).resolve().parents[1]
SERIES = ["01_shortcut", "02_hard_samples", "03_weak_signals", "04_pruning", "05_oracle"]


@pytest.mark.extended
@pytest.mark.slow
def test_notebooks_switch_to_real_data_with_one_line(tmp_path):
    data, cache = tmp_path / "data", tmp_path / "cache"
    write_mnist(data, n_train=800, n_test=400)
    env = {**os.environ, "SPURLAB_DATASET": "mnist", "SPURLAB_MODE": "smoke",
           "SPURLAB_DATA": str(data), "SPURLAB_CACHE_DIR": str(cache), "MPLBACKEND": "Agg"}
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=",
           "--nbval-lax", "--nbval-current-env", "--nbval-cell-timeout=600",
           *[str(ROOT / "notebooks" / f"{n}.ipynb") for n in SERIES]]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]
    # the runs the notebooks cached (01 and 02 use the disk cache) were on the MNIST files
    stored = [json.loads(p.read_text()) for p in cache.rglob("*.json")]
    configs = [s["payload"]["config"] for s in stored]
    assert configs and all(c.get("dataset") == "mnist" for c in configs), configs[:3]
    assert all(c.get("image_size") == 28 and c.get("n_train") == 600 for c in configs)
