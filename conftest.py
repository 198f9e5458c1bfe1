"""Settings for the whole test session (tests/ and notebooks/), loaded before either folder's.

Under pytest-xdist (the README's ``-n 2``) every worker gets its share of the cores: the tiny
CNN gains nothing from a second intra-op thread (notebook 04 under nbval: 101 s with one thread,
103 s with two on a 2-core machine), so two workers with one thread each run the suite about
twice as fast as one worker with two. The notebook kernels inherit the settings through the
environment.
"""

import os

_workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT") or 0)
if _workers > 1:
    from spurlab.device import usable_cpus

    _threads = str(max(1, usable_cpus() // _workers))
    os.environ["OMP_NUM_THREADS"] = os.environ["MKL_NUM_THREADS"] = _threads
    # idle OpenMP threads must sleep, not spin: two processes training at once ran 5.7x slower
    # each with spinning threads (14.1 s instead of 2.5 s for the same 2 epochs), 1.05x passive
    os.environ["OMP_WAIT_POLICY"] = "PASSIVE"

    import torch

    torch.set_num_threads(int(_threads))

# One engine cache on disk for the whole run, shared by both workers and every notebook kernel
# (which inherit the environment): notebooks 01, 02, 04 and 05 all train the quick default's
# baselines and no-carrier models for seeds 0-2, and each is trained once. A fresh folder per
# run (xdist's run id), so nothing stale is reused; a cache the user set is left alone.
if "SPURLAB_CACHE_DIR" not in os.environ:
    import tempfile

    _run = os.environ.get("PYTEST_XDIST_TESTRUNUID") or f"pid{os.getpid()}"
    os.environ["SPURLAB_CACHE_DIR"] = os.path.join(tempfile.gettempdir(),
                                                   f"spurlab-test-cache-{_run}")
