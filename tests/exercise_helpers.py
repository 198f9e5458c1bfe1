"""Shared by the exercise tests: load a notebook's solutions module from notebooks/solutions/."""

import functools
import importlib.util
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[1]


@functools.lru_cache(maxsize=None)
def solutions(nb):
    """``notebooks/solutions/<nb>.py`` as a module, e.g. ``solutions("nb02").hardest_k``."""
    spec = importlib.util.spec_from_file_location(f"solutions_{nb}",
                                                  ROOT / "notebooks" / "solutions" / f"{nb}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod
