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


# --------------------------------------------------------------------------- a shared machine

def _policy(policy, code, env_threads=None, busy=0):
    """Run ``code`` (it sets ``out``) in a fresh interpreter with SPURLAB_THREADS=policy, beside
    ``busy`` busy processes."""
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    env["CUDA_VISIBLE_DEVICES"] = ""
    if policy is not None:
        env["SPURLAB_THREADS"] = policy
    if env_threads is not None:
        env["OMP_NUM_THREADS"] = str(env_threads)
    loops = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(busy)]
    try:
        proc = subprocess.run([sys.executable, "-c", "import json, torch, spurlab as sl\n"
                               "from spurlab.device import adapt_threads\nout = {}\n" + code
                               + "\nprint(json.dumps(out))"], capture_output=True, text=True,
                              env=env, timeout=120)
    finally:
        for p in loops:
            p.kill()
            p.wait()
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_the_all_policy_keeps_the_thread_count_whatever_the_load():
    alone = _policy("all", "out['n'] = adapt_threads()")
    busy = _policy("all", "import time; time.sleep(0.5); out['n'] = adapt_threads()", busy=1)
    # the child's count is torch's own in a fresh interpreter, capped at the usable cores; this
    # process's count says nothing about it (an xdist worker runs with OMP_NUM_THREADS=1)
    own = _policy("all", "out['n'] = torch.get_num_threads()", busy=0)
    assert alone["n"] == busy["n"] == min(own["n"], usable_cpus())


def test_a_fixed_count_and_the_users_own_count_stand():
    assert _policy("1", "out['n'] = adapt_threads(); out['t'] = torch.get_num_threads()") == \
        {"n": 1, "t": 1}
    got = _policy("free", "out['n'] = adapt_threads()", env_threads=1, busy=1)
    assert got["n"] == 1                                   # OMP_NUM_THREADS wins over the policy


@pytest.mark.skipif(usable_cpus() < 2, reason="needs 2 cores to leave one free")
def test_the_default_policy_leaves_busy_cores_to_others():
    code = ("from spurlab.device import free_cores, thread_policy\nimport time\n"
            "time.sleep(0.3)\nout['free'] = free_cores(window=0.5); out['n'] = adapt_threads()\n"
            "out['policy'] = thread_policy()")
    crowded = _policy(None, code, busy=usable_cpus())
    assert crowded["policy"] == "free" and crowded["n"] == 1 and crowded["free"] < 1
    alone = _policy(None, code)
    assert alone["n"] >= 1
    # "alone" means without our busy loops; under xdist the other worker's tests can fill the
    # cores too, and then there is nothing free to compare (it measured 0.0 once, with 1,600
    # tests running beside it)
    if alone["free"] >= 1:
        assert alone["free"] > crowded["free"] + 0.5


def test_a_bad_policy_is_named(monkeypatch):
    from spurlab.device import thread_policy

    for bad in ("some", "0", "-2"):
        monkeypatch.setenv("SPURLAB_THREADS", bad)
        with pytest.raises(ValueError, match="SPURLAB_THREADS must be 'free', 'all' or a number"):
            thread_policy()
    monkeypatch.setenv("SPURLAB_THREADS", " 3 ")
    assert thread_policy() == 3


def test_undo_malloc_trim_acts_only_where_dask_set_the_variable():
    import subprocess
    import sys

    code = ("from spurlab.device import undo_malloc_trim as u; "
            "print(u(), u())")                  # once per process
    env = {k: v for k, v in __import__("os").environ.items() if k != "MALLOC_TRIM_THRESHOLD_"}
    plain = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    dask = subprocess.run([sys.executable, "-c", code], env={**env, "MALLOC_TRIM_THRESHOLD_": "65536"},
                          capture_output=True, text=True)
    assert plain.stdout.split() == ["False", "False"], plain.stderr
    assert dask.stdout.split() == ["True", "False"], dask.stderr
