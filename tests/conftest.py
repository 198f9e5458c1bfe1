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
