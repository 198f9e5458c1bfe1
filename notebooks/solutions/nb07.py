"""Solution to notebook 07's exercise (kept out of the learner's way; tested)."""

from spurlab.atlas import load_atlas


def backfire_pick():
    """A cell where pruning the hardest 20% backfires, read from the atlas (None if none)."""
    cells = [k for k, v in load_atlas().verdicts(0.2).items() if v == "backfires"]
    return cells[0] if cells else None
