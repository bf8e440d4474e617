"""Temporary files and folders named after their owner, so that a killed run's leftovers get swept.

A run cleans up its temporaries itself when it ends, fails, or is interrupted (Ctrl-C, SIGTERM).
Only SIGKILL (or a crash of the machine) leaves them behind. Names carry the owner —
`<prefix><host>-<pid>-<random>` — and every new temporary first sweeps its folder: an entry with
the same prefix, made on this host by a process that no longer exists, and untouched (it and its
direct children) for `STALE_AFTER` seconds, is removed. Entries of other hosts (shared storage),
of live processes, or that do not follow the pattern are never touched.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import time
from pathlib import Path

STALE_AFTER = 10 * 60  # seconds: longer than any pause between two writes of a live run


def _owner() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-"


def temp_dir(prefix: str, dir: str | os.PathLike[str] | None = None) -> Path:
    """A new private folder `<dir>/<prefix><host>-<pid>-XXXXXXXX` (dir: the system temp folder)."""
    parent = Path(dir) if dir is not None else Path(tempfile.gettempdir())
    sweep(parent, prefix)
    return Path(tempfile.mkdtemp(prefix=prefix + _owner(), dir=str(parent)))


def temp_file(prefix: str, suffix: str, dir: str | os.PathLike[str]) -> tuple[int, str]:
    """`tempfile.mkstemp` with an owner-tagged name, after sweeping `dir`: (fd, path)."""
    sweep(Path(dir), prefix)
    return tempfile.mkstemp(prefix=prefix + _owner(), suffix=suffix, dir=str(dir))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def _last_touched(path: Path) -> float:
    latest = path.lstat().st_mtime
    if path.is_dir() and not path.is_symlink():
        for child in path.iterdir():
            try:
                latest = max(latest, child.lstat().st_mtime)
            except OSError:
                continue
    return latest


def sweep(parent: Path, prefix: str, older_than: float = STALE_AFTER) -> list[Path]:
    """Remove the leftovers of dead runs of this host in `parent` (see the module docstring); return them."""
    host = socket.gethostname()
    removed: list[Path] = []
    try:
        entries = list(parent.iterdir())
    except OSError:
        return removed
    now = time.time()
    for entry in entries:
        name = entry.name
        if not name.startswith(prefix):
            continue
        parts = name[len(prefix) :].rsplit("-", 2)  # host (may hold '-'), pid, random part (has none)
        if len(parts) != 3 or parts[0] != host or not parts[1].isdigit() or int(parts[1]) == os.getpid() or _alive(int(parts[1])):
            continue
        try:
            if now - _last_touched(entry) < older_than:
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
        except OSError:  # gone already, or not ours to remove: leave it
            continue
        removed.append(entry)
    return removed
