"""Solutions to the notebooks' exercises, one module per notebook (``nb01`` for notebook 01).
Kept out of the learner's way; ``tests/`` checks that each passes its notebook's auto-check."""
