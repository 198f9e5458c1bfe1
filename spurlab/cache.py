"""A result cache on disk: JSON files (never pickle), written atomically, each carrying a
SHA-256 checksum of its payload. A corrupt or truncated file is detected, reported with a
warning, deleted and recomputed; it is never loaded.

Examples
--------
>>> import tempfile
>>> cache = ResultCache(tempfile.mkdtemp())
>>> cache.get("k") is None
True
>>> cache.put("k", {"smr": 0.25}); cache.get("k")
{'smr': 0.25}
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings

from .experiment import atomic_write_text


def _digest(payload):
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def cache_key(*parts):
    """A short, file-name-safe key from any JSON-able parts (config string, arms, version...)."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:24]


class ResultCache:
    """JSON files in ``folder``, one per key, checksummed."""

    def __init__(self, folder):
        self.folder = os.fspath(folder)

    def path(self, key):
        return os.path.join(self.folder, f"{key}.json")

    def get(self, key):
        """The stored payload, or ``None`` if absent or corrupt (corrupt files are removed)."""
        p = self.path(key)
        if not os.path.exists(p):
            return None
        try:
            with open(p) as f:
                doc = json.load(f)
            if not isinstance(doc, dict) or doc.get("sha256") != _digest(doc.get("payload")):
                raise ValueError("checksum mismatch")
            return doc["payload"]
        except (OSError, ValueError, KeyError) as exc:
            warnings.warn(f"cache file {p} is corrupt ({exc}); it was removed and will be "
                          "recomputed", RuntimeWarning, stacklevel=2)
            try:
                os.unlink(p)
            except OSError:
                pass
            return None

    def put(self, key, payload):
        """Store a JSON-able payload atomically."""
        atomic_write_text(self.path(key), json.dumps({"sha256": _digest(payload),
                                                      "payload": payload}))
