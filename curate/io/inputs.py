"""Where rows come from: resolve input specs (file, directory, glob, stream, `-`) to sources, and open them.

A directory yields every data file in it, in path order, whatever the mix of formats (Parquet,
JSONL, CSV/TSV, Arrow; plain .json files only when the folder holds no other data file, since
beside data they are configs and summaries; hidden, `_`-prefixed and `*.rejects.jsonl` files
skipped), and any saved HF datasets inside it. A Parquet file's footer is read as it is listed,
so a truncated file fails at once, naming it. A FIFO, `/dev/fd/N` or another non-regular file is a
stream: read once, front to back (JSONL unless its name says CSV/TSV); `/dev/stdin` is `-`.
Files are opened with gzip detected by its magic number, not only by the name.
"""

from __future__ import annotations

import glob
import gzip
import hashlib
import io
import json
import os
import stat
import sys
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any, BinaryIO

from curate.errors import InputError

PARQUET_SUFFIXES = (".parquet", ".pq")
JSONL_SUFFIXES = (".jsonl", ".ndjson", ".json", ".jsonl.gz", ".ndjson.gz", ".json.gz")
CSV_SUFFIXES = (".csv", ".csv.gz", ".tsv", ".tsv.gz")
HF_META_FILES = ("state.json", "dataset_info.json", "dataset_dict.json")
GZIP_MAGIC = b"\x1f\x8b"
STDIN_PATHS = ("/dev/stdin", "/dev/fd/0", "/proc/self/fd/0")


def _kind(path: str) -> str:
    """The registered reader for a file name (curate.io.formats), or "unknown"."""
    from curate.io.formats import reader_name

    return reader_name(path)


def is_stream(path: str) -> bool:
    """True for `-` and for paths that can be read only once (FIFOs, `/dev/fd/N`, character devices)."""
    if path == "-":
        return True
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def check_parquet(path: str) -> None:
    """InputError naming `path` unless its Parquet footer can be read (a truncated file cannot)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if _empty_file(path):
        raise InputError(f"'{path}' is empty", "re-create the Parquet file")
    try:
        pq.read_metadata(path)
    except (pa.ArrowException, OSError) as exc:
        raise InputError(f"cannot read Parquet file '{path}': {exc}", "the file is truncated or not Parquet: re-create it") from exc


def _is_hf_dataset_dir(path: Path) -> bool:
    return path.is_dir() and (path / "state.json").exists() and (path / "dataset_info.json").exists()


def _is_hf_dataset_dict(path: Path) -> bool:
    return path.is_dir() and (path / "dataset_dict.json").exists()


def _hf_splits(path: Path) -> list[str]:
    """The split folders of a saved DatasetDict, in the order it lists them."""
    try:
        splits = json.loads((path / "dataset_dict.json").read_text()).get("splits") or []
    except (OSError, ValueError, AttributeError) as exc:
        raise InputError(f"cannot read '{path / 'dataset_dict.json'}': {exc}", "re-save it with datasets.DatasetDict.save_to_disk") from exc
    out = [str(path / s) for s in splits if _is_hf_dataset_dir(path / s)]
    if not out:
        raise InputError(f"saved DatasetDict '{path}' has no readable splits", "re-save it with datasets.DatasetDict.save_to_disk")
    return out


def _is_rejects_file(name: str) -> bool:
    """Quarantine files written beside outputs (`<stem>.rejects.jsonl`) are not data."""
    low = name.lower()
    return low.endswith((".rejects.jsonl", ".rejects.jsonl.gz")) or low == "curate-rejects.jsonl"


def _ordered_shards(p: Path) -> list[str] | None:
    """A `curate order` output folder: its curriculum shards in training order (not baseline/, its reshuffled copy)."""

    m = p / "manifest.json"
    if not m.is_file():
        return None
    try:
        shards = json.loads(m.read_text())["sets"]["curriculum"]["shards"]
        paths = [p / s["path"] for s in shards]
    except (ValueError, KeyError, TypeError):
        return None  # some other manifest: the folder is read as a plain folder
    missing = [str(f.relative_to(p)) for f in paths if not f.is_file()]
    if missing:
        raise InputError(
            f"'{p}' is a `curate order` output missing {len(missing)} shard(s): {', '.join(missing[:3])}", f"run `curate verify {p}`, or order again"
        )
    return [str(f) for f in paths] or None


def _expand_dir(p: Path, spec: str, required: bool = True) -> list[str]:
    ordered = _ordered_shards(p)
    if ordered:
        return ordered
    if _is_hf_dataset_dir(p):
        return [str(p)]
    if _is_hf_dataset_dict(p):
        return _hf_splits(p)
    datasets_dirs = sorted(d for d in p.rglob("*") if d.is_dir() and (_is_hf_dataset_dir(d) or _is_hf_dataset_dict(d)))
    top_datasets = [d for d in datasets_dirs if not any(o != d and o in d.parents for o in datasets_dirs)]
    out: list[str] = []
    for d in top_datasets:
        out.extend(_expand_dir(d, spec))
    files = sorted(
        str(f)
        for f in p.rglob("*")
        if f.is_file()
        and _kind(f.name) != "unknown"
        and not any(part.startswith((".", "_")) for part in f.relative_to(p).parts)
        and not any(d in f.parents for d in top_datasets)
        and f.name not in HF_META_FILES
        and not _is_rejects_file(f.name)
    )
    # Every data file is read; plain .json files (configs, summaries) only when nothing else is there.
    data = [f for f in files if not f.lower().endswith(".json")]
    files = data or [f for f in files if not f.endswith("manifest.json")]
    out.extend(files)
    if not out and required:
        raise InputError(
            f"no readable data files in directory '{spec}'", "expected .parquet, .jsonl[.gz], .json, .csv or .tsv files, or a saved HF dataset"
        )
    return out


def expand_inputs(spec: str | Iterable[str]) -> list[str]:
    """Resolve one or more input specs (file, directory, glob, stream, `-`) to a list of concrete sources.

    Every Parquet file listed must have a readable footer (InputError naming it otherwise).
    """
    specs = [spec] if isinstance(spec, str) else list(spec)
    if not specs:
        raise InputError("no input given", "pass a file, a directory, a glob, or '-' for JSONL on stdin")
    out: list[str] = []
    for s in specs:
        if s == "-" or s in STDIN_PATHS:
            out.append("-")
            continue
        p = Path(s)
        if p.is_dir():
            out.extend(_expand_dir(p, s))
        elif p.is_file():
            out.append(str(p))
        elif is_stream(s):
            out.append(s)
        elif any(ch in s for ch in "*?["):
            matches = sorted(glob.glob(s, recursive=True))
            if not matches:
                raise InputError(f"the pattern '{s}' matches no files", "check the glob, or quote it so the shell does not expand it")
            found: list[str] = []
            for m in matches:
                mp = Path(m)
                if mp.is_dir():
                    found.extend(_expand_dir(mp, m, required=False))
                elif _kind(m) != "unknown" and mp.name not in HF_META_FILES:
                    found.append(m)
            if not found:
                raise InputError(
                    f"the pattern '{s}' matches {len(matches)} path(s) but no data files", "expected .parquet, .jsonl[.gz], .json, .csv or .tsv files"
                )
            out.extend(found)
        else:
            raise InputError(f"input '{s}' does not exist", "pass a file, a directory, a glob, or '-' for JSONL on stdin")
    for f in out:
        if _kind(f) == "parquet" and not is_stream(f):
            check_parquet(f)
    return out


def input_hashes(sources: list[str], stop: threading.Event | None = None) -> dict[str, str]:
    """sha256 of every input file (stdin is recorded as 'stdin', another stream as 'stream': read once, never hashed).

    `stop`: set from another thread, the hashing ends at the next MiB read and what it returns is incomplete."""
    out: dict[str, str] = {}
    for s in sources:
        if s == "-":
            out[s] = "stdin"
            continue
        if is_stream(s):
            out[s] = "stream"
            continue
        p = Path(s)
        files = sorted(f for f in p.rglob("*") if f.is_file()) if p.is_dir() else [p]
        h = hashlib.sha256()
        for f in files:
            with open(f, "rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    if stop is not None and stop.is_set():
                        return out
                    h.update(chunk)
        out[s] = "sha256:" + h.hexdigest()
    return out


def _empty_file(source: str) -> bool:
    """A regular file of 0 bytes (a stream's size says nothing)."""
    try:
        st = os.stat(source)
    except OSError:
        return False
    return stat.S_ISREG(st.st_mode) and st.st_size == 0


def _open_binary(path: str) -> BinaryIO:
    """Open a file or stdin for reading bytes, transparently un-gzipping gzip data (by magic number)."""
    if path == "-":
        fh: Any = sys.stdin.buffer
    else:
        try:
            fh = open(path, "rb")
        except OSError as exc:
            raise InputError(f"cannot open '{path}': {exc.strerror or exc}", "check the path and its permissions") from exc
    if not hasattr(fh, "peek"):
        fh = io.BufferedReader(fh)
    if fh.peek(2)[:2] == GZIP_MAGIC:
        return _GzipReader(fh)  # type: ignore[return-value]
    return fh


class _GzipReader(gzip.GzipFile):
    """A GzipFile over an open file that closes that file too (except stdin)."""

    def __init__(self, fh: Any):
        super().__init__(fileobj=fh, mode="rb")
        self._outer = fh

    def close(self) -> None:
        try:
            super().close()
        finally:
            if self._outer is not getattr(sys.stdin, "buffer", None):
                self._outer.close()


def without_own_outputs(sources: list[str], *outputs: str | None) -> tuple[list[str], list[str]]:
    """(sources a command may read, sources it must skip): never its own output file, the files
    inside its output folder, or its rejects file — a rerun into the same folder would read them."""
    own = [Path(o).resolve() for o in outputs if o and o != "-"]
    keep: list[str] = []
    skipped: list[str] = []
    for s in sources:
        if s == "-":
            keep.append(s)
            continue
        p = Path(s).resolve()
        if any(p == o or o in p.parents for o in own):
            skipped.append(s)
        else:
            keep.append(s)
    return keep, skipped
