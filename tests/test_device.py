"""Threads as the user set them: an explicit OMP_NUM_THREADS (or MKL_NUM_THREADS) or a
torch.set_num_threads call is respected; spurlab only lowers torch's threads to the usable cores
when the user set none. Each case runs in a fresh interpreter (thread settings are per process
and read at import)."""

import json
import os
import subprocess
import sys

import pytest
import torch

from spurlab.device import get_device, usable_cpus

REPORT = ("import json, torch, spurlab\n"
          "from spurlab.device import user_set_threads, usable_cpus\n"
          "{before_get_device}\n"
          "dev = spurlab.get_device()\n"
          "out = dict(device=dev.type, threads=torch.get_num_threads(), usable=usable_cpus(),\n"
          "           user=user_set_threads())\n"
          "{after}\n"
          "print(json.dumps(out))\n")


def _fresh(env_threads=None, before_import="", before_get_device="", after=""):
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    env["CUDA_VISIBLE_DEVICES"] = ""          # the CPU branch of get_device, GPU or not
    if env_threads is not None:
        env["OMP_NUM_THREADS"] = str(env_threads)
    code = before_import + "\n" + REPORT.format(before_get_device=before_get_device, after=after)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_omp_num_threads_is_respected_and_an_explicit_configure_still_applies():
    after = ("from spurlab import configure_threads\n"
             "out['after_configure'] = (configure_threads(3), torch.get_num_threads())")
    got = _fresh(env_threads=1, after=after)
    assert got["device"] == "cpu"
    assert got["threads"] == 1, got                 # was overridden to the core count before
    assert got["user"] == "OMP_NUM_THREADS=1"
    assert got["after_configure"] == [3, 3]          # an explicit call is the user's choice


def test_set_num_threads_after_import_is_respected():
    got = _fresh(before_get_device="torch.set_num_threads(1)")
    assert got["threads"] == 1 and got["user"] == "torch.set_num_threads(1)", got


def test_without_a_user_choice_threads_are_capped_at_the_usable_cores():
    # more threads than cores (as torch's default can be in a container): lowered to the cores
    got = _fresh(before_import="import torch; torch.set_num_threads(%d)" % (usable_cpus() + 3))
    assert got["user"] is None and got["threads"] == got["usable"] == usable_cpus(), got


@pytest.mark.parametrize("device,exc,words", [
    ("gpu", ValueError, ["device", "'gpu'", "'cpu'"]),
    ("tpu", ValueError, ["device", "'tpu'"]),
    (3, TypeError, ["device", "3", "string"]),
    ("cuda:7", ValueError, ["device", "cuda"]),
])
def test_bad_devices_are_named(device, exc, words):
    if device == "cuda:7" and torch.cuda.device_count() > 7:
        pytest.skip("this machine has 8 GPUs")
    with pytest.raises(exc) as info:
        get_device(device)
    assert all(w in str(info.value) for w in words), str(info.value)


def test_cpu_device():
    assert get_device("cpu").type == "cpu" and get_device(torch.device("cpu")).type == "cpu"
