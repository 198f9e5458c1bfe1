import pytest
import torch

from spurlab import load_dataset
from spurlab.builds import build_atlas


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


TINY = "n_train=300 n_test=150 epochs=2 score_epoch=2 batch_size=32"
TINY_GRID = {"thickness": [1, 2], "salience": [1.0], "prevalence": [0.3, 0.9], "prune_ratio": [0.1, 0.3]}


@pytest.fixture(scope="session")
def tiny_atlas(tmp_path_factory):
    """A real (tiny) atlas built by build_atlas, with its disk cache."""
    folder = tmp_path_factory.mktemp("atlas")
    path = folder / "atlas.json.gz"
    build_atlas(path, config=TINY, grid=TINY_GRID, arms=("hardest", "random", "hardest/sparing"),
                seeds=(0, 1), cache_dir=folder / "cache", command="test", progress=None)
    return path


def patch_fit(monkeypatch, replacement):
    """Replace the one recipe (``spurlab.recipe.fit``) wherever the engine calls it: the steps,
    the scenario builder and the training dynamics."""
    from spurlab import build, dynamics, recipe, steps

    for mod in (recipe, steps, build, dynamics):
        monkeypatch.setattr(mod, "fit", replacement)


def real_fit():
    from spurlab import recipe

    return recipe.fit
