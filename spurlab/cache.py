"""The engine's one cache: results in memory for the session, and on disk as checksummed JSON
when a folder is given (``cache_dir=`` or the environment variable ``SPURLAB_CACHE_DIR``).

Keys are fingerprints (:func:`fingerprint`) of everything a step depends on: the config knobs
that matter to it, or a content hash of custom data and feature, plus the spurlab version.

Disk files are JSON (never pickle), written atomically, readable by the group and others as
the umask allows (a class can share one folder), each with a SHA-256 checksum of its payload.
A file that was read and failed its checksum or JSON parse is reported, deleted and
recomputed. A file that cannot be *read* (permissions, I/O error) is never deleted: the
caller is warned and recomputes, and the file stays for its owner.

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
import re
import warnings

from .files import atomic_write_text

_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@=+-]{0,199}$")


def _digest(payload):
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def fingerprint(*parts):
    """A short, file-name-safe key from JSON-able parts, tensors and arrays (by content).

    Examples
    --------
    >>> import torch
    >>> fingerprint("a", torch.zeros(3)) == fingerprint("a", torch.zeros(3))
    True
    >>> fingerprint("a", torch.zeros(3)) == fingerprint("a", torch.ones(3))
    False
    """
    h = hashlib.sha256()
    for p in parts:
        if hasattr(p, "detach"):                       # torch tensor
            p = p.detach().cpu().contiguous()
            h.update(f"tensor{tuple(p.shape)}{p.dtype}".encode())
            h.update(p.numpy().tobytes())
        elif hasattr(p, "dtype") and hasattr(p, "tobytes"):   # numpy array
            h.update(f"array{p.shape}{p.dtype}".encode())
            h.update(p.tobytes())
        else:
            h.update(json.dumps(p, sort_keys=True, default=repr).encode())
        h.update(b"|")
    return h.hexdigest()[:24]



class ResultCache:
    """Checksummed JSON files in ``folder``, one per key.

    Keys are file-name-safe strings (letters, digits and ``_.@=+-``); anything else, e.g. a
    path such as ``'../x'``, is refused so that no file is written outside the folder.
    """

    def __init__(self, folder):
        if not isinstance(folder, (str, os.PathLike)):
            raise TypeError(f"folder must be a path; got {type(folder).__name__}")
        self.folder = os.path.expanduser(os.fspath(folder))      # '~/cache' is the home's
        if os.path.exists(self.folder) and not os.path.isdir(self.folder):
            raise ValueError(f"cache folder {self.folder!r} exists and is not a folder")

    def path(self, key):
        if not isinstance(key, str) or not _KEY.match(key):
            raise ValueError(f"cache key must be 1-200 characters of letters, digits and _.@=+- "
                             f"(no path separators); got {key!r}")
        return os.path.join(self.folder, f"{key}.json")

    def get(self, key):
        """The stored payload, or ``None`` if absent, unreadable or corrupt."""
        p = self.path(key)
        try:
            with open(p, "rb") as f:
                raw = f.read()
        except FileNotFoundError:
            return None
        except OSError as exc:      # permissions, I/O: the file may be fine; keep it
            warnings.warn(f"cache file {p} could not be read ({exc}); recomputing, the file is "
                          "kept", RuntimeWarning, stacklevel=2)
            return None
        try:
            doc = json.loads(raw.decode())
            if not isinstance(doc, dict) or doc.get("sha256") != _digest(doc.get("payload")):
                raise ValueError("checksum mismatch")
            return doc["payload"]
        except (ValueError, KeyError, UnicodeDecodeError) as exc:
            warnings.warn(f"cache file {p} is corrupt ({exc}); it was removed and will be "
                          "recomputed", RuntimeWarning, stacklevel=2)
            try:
                os.unlink(p)
            except OSError:
                pass
            return None

    def put(self, key, payload):
        """Store a JSON-able payload atomically. A folder that cannot be written is reported
        with a warning (the result is still returned to the caller by the engine)."""
        p = self.path(key)
        try:
            atomic_write_text(p, json.dumps({"sha256": _digest(payload), "payload": payload}))
        except OSError as exc:
            warnings.warn(f"cache file {p} could not be written ({exc}); the result is kept in "
                          "memory only", RuntimeWarning, stacklevel=2)


DEFAULT_MEMORY_MB = 256      # the engine's memory cache, unless SPURLAB_CACHE_MEMORY_MB says: a
# 2 GB class server or Binder pod keeps room for the kernel (about 0.9 GB) and the notebook


def _sizeof(obj, seen):
    """Bytes an entry holds: tensors, arrays and models by their data, containers by their
    items (each object counted once)."""
    if id(obj) in seen:
        return 0
    seen.add(id(obj))
    if hasattr(obj, "element_size") and hasattr(obj, "nelement"):         # torch tensor
        return int(obj.element_size() * obj.nelement())
    if hasattr(obj, "nbytes") and hasattr(obj, "dtype"):                  # numpy array
        return int(obj.nbytes)
    if hasattr(obj, "parameters") and hasattr(obj, "buffers"):           # torch module
        return sum(_sizeof(t, seen) for t in (*obj.parameters(), *obj.buffers()))
    if isinstance(obj, dict):
        return sum(_sizeof(v, seen) for v in obj.values())
    if isinstance(obj, (list, tuple)):
        if obj and all(isinstance(v, (int, float, bool)) or v is None for v in obj):
            return 8 * len(obj)
        return sum(_sizeof(v, seen) for v in obj)
    if hasattr(obj, "__dict__"):                                         # Scenario, ImageSet
        return sum(_sizeof(v, seen) for v in vars(obj).values())
    return 0


class Cache:
    """Memory for the session, plus a :class:`ResultCache` on disk when a folder is given.

    Values are dicts; keys starting with ``_`` (e.g. ``'_model'``) stay in memory only. The
    memory holds at most ``max_mb`` megabytes (default ``$SPURLAB_CACHE_MEMORY_MB``, else
    :data:`DEFAULT_MEMORY_MB`) by the size of the tensors, models and scores it keeps; past it,
    the entries used least recently are forgotten (a disk copy, if any, stays), so a kernel that
    explores many settings stays flat in memory.
    """

    def __init__(self, max_mb=None):
        self.memory = {}
        self._sizes = {}
        self.max_mb = max_mb

    def budget(self):
        """The memory budget in bytes."""
        mb = self.max_mb if self.max_mb is not None else os.environ.get(
            "SPURLAB_CACHE_MEMORY_MB", DEFAULT_MEMORY_MB)
        given = mb
        try:
            mb = float(mb)
        except (TypeError, ValueError):
            mb = float("nan")
        if not 0 < mb < 2 ** 40:
            raise ValueError(f"SPURLAB_CACHE_MEMORY_MB must be a number of megabytes above 0 "
                             f"(and finite); got {given!r}")
        return int(mb * 2 ** 20)

    def nbytes(self):
        """Bytes the memory holds now (as counted for the budget)."""
        return sum(self._sizes.get(k, 0) for k in self.memory)

    @staticmethod
    def disk(cache_dir=None):
        folder = cache_dir if cache_dir is not None else os.environ.get("SPURLAB_CACHE_DIR")
        return ResultCache(folder) if folder else None

    def get(self, kind, key, cache_dir=None, *, need=()):
        """The value stored under ``(kind, key)``, from memory then disk; ``None`` if absent or
        if it lacks one of the memory-only fields in ``need``."""
        hit = self.memory.pop((kind, key), None)
        if hit is not None:
            self.memory[(kind, key)] = hit                # used now: the last to be forgotten
        else:
            disk = self.disk(cache_dir)
            stored = disk.get(f"{kind}-{key}") if disk else None
            if stored is not None:
                hit = self._remember((kind, key), stored)
        if hit is not None and all(n in hit for n in need):
            return hit
        return None

    def put(self, kind, key, value, cache_dir=None, *, memory_only=False):
        self._remember((kind, key), value)
        disk = None if memory_only else self.disk(cache_dir)
        if disk:
            disk.put(f"{kind}-{key}", {k: v for k, v in value.items() if not k.startswith("_")})
        return value

    def _remember(self, k, value):
        self.memory.pop(k, None)
        self.memory[k] = value
        self._sizes[k] = _sizeof(value, set())
        budget = self.budget()
        total = self.nbytes()
        for old in list(self.memory):                     # oldest first
            if total <= budget or old == k:
                break
            total -= self._sizes.pop(old, 0)
            del self.memory[old]
        return value

    def clear(self):
        self.memory.clear()
        self._sizes.clear()

    def info(self):
        kinds = {}
        for kind, _ in self.memory:
            kinds[kind] = kinds.get(kind, 0) + 1
        return kinds


CACHE = Cache()


def clear_cache():
    """Forget every result the engine keeps in memory (disk files stay)."""
    CACHE.clear()


def cache_info():
    """How many entries of each kind (baseline, arm, reference, ...) are in memory, as a dict."""
    return CACHE.info()


def cache_bytes():
    """Bytes the engine's memory cache holds (at most ``$SPURLAB_CACHE_MEMORY_MB`` megabytes)."""
    return CACHE.nbytes()


__all__ = ["CACHE", "DEFAULT_MEMORY_MB", "Cache", "ResultCache", "cache_bytes", "cache_info",
           "clear_cache", "fingerprint"]
