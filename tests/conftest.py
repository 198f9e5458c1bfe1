import pytest
import torch

from spurlab import load_dataset


@pytest.fixture(scope="session")
def small_data():
    """A small shapes split, shared by the fast tests."""
    return load_dataset("shapes", n_train=600, n_test=180, seed=0)


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


@pytest.fixture(autouse=True)
def _no_shared_disk_cache(monkeypatch):
    """The root conftest gives the notebooks one disk cache for the run; unit tests count
    trainings and cache entries, so they start without it (a test that wants a disk cache
    passes its own folder)."""
    monkeypatch.delenv("SPURLAB_CACHE_DIR", raising=False)
