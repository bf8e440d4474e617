"""Readers and writers, registered by name like every other plugin.

A reader turns one source into `(table, rejects)` batches; a writer opens a sink. Built-ins
register themselves in the modules that implement them (Parquet, Arrow and saved HF datasets in
curate/io/columnar.py, JSON Lines in curate/io/jsonl.py, CSV/TSV in curate/io/delimited.py, the
sinks in curate/io/writers.py), exactly as an extension would:

    from curate.io.formats import READERS, Reader
    READERS.register("xml")(Reader("xml", (".xml",), read_xml))

A file's reader is chosen by its name's longest matching suffix; a folder is a dataset of its own
when a reader's `matches_dir` says so (a saved HF dataset).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from curate.registry import Registry


@runtime_checkable
class ReaderPlugin(Protocol):
    """`read(source, options)` yields `(pa.Table, list[Reject])` per batch.

    Optional hook: `matches_dir(path) -> bool`, for a folder that is one dataset rather than a
    folder of files.
    """

    @property
    def name(self) -> str: ...
    @property
    def suffixes(self) -> tuple[str, ...]: ...

    def read(self, source: str, options: Any) -> Iterator[tuple[Any, list[Any]]]: ...


@dataclass(frozen=True)
class Reader:
    name: str
    suffixes: tuple[str, ...]
    read: Callable[[str, Any], Iterator[tuple[Any, list[Any]]]]
    matches_dir: Callable[[Path], bool] | None = None


@runtime_checkable
class WriterPlugin(Protocol):
    """`open(dest, schema, rows_per_shard, is_dir)` returns a sink (`write(table)`, `close()`, `abort()`)."""

    @property
    def name(self) -> str: ...
    @property
    def suffixes(self) -> tuple[str, ...]: ...

    def open(self, dest: str, schema: Any, rows_per_shard: int, is_dir: bool) -> Any: ...


READERS: Registry[ReaderPlugin] = Registry("readers", ("curate.io.columnar", "curate.io.jsonl", "curate.io.delimited"))
WRITERS: Registry[WriterPlugin] = Registry("writers", ("curate.io.writers",))


def reader_name(path: str) -> str:
    """The reader for a file by its name (longest matching suffix), or "unknown"."""
    low = path.lower()
    best, best_len = "unknown", 0
    for name in READERS.names():
        for suf in READERS.get(name).suffixes:
            if low.endswith(suf) and len(suf) > best_len:
                best, best_len = name, len(suf)
    return best


def dir_reader(path: Path) -> str | None:
    """The reader for a folder that is one dataset (e.g. a saved HF dataset), or None."""
    for name in READERS.names():
        hook = getattr(READERS.get(name), "matches_dir", None)
        if hook is not None and hook(path):
            return name
    return None
