"""How a benchmark writes its JSON: its numbers, the machine they were measured on
(:func:`spurlab.files.machine`) and the command that produced them, written atomically."""

import json
import sys

from spurlab.files import atomic_write_text, machine


def write(out, path, argv=None):
    """Write ``out`` with ``machine`` and ``command`` added to ``path`` (nothing when None)."""
    if path is None:
        return
    out = {**out, "machine": machine(),
           "command": "python " + " ".join([sys.argv[0], *(argv or sys.argv[1:])])}
    atomic_write_text(path, json.dumps(out, indent=1))
