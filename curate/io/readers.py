"""Stream rows from Parquet, JSONL (plain or .gz), CSV/TSV, saved HF datasets or stdin as Arrow tables.

Every reader yields `(pa.Table, list[Reject])` pairs. Rows that cannot be used — malformed JSON
lines, invalid UTF-8, null/empty/non-string or absurdly long text — never reach the table: they
come back as `Reject`s carrying the reason and where they were found. Every non-blank input line
(or row) ends up either in a table or in a reject. Problems with a whole input — it does not exist,
is empty, is truncated, lacks the text column — raise `InputError`.

Types are kept consistent across batches: `read_batches` widens each new batch's columns to what
earlier batches had (int + float → float, mixed kinds → string; a missing key → null), see
`curate.io.schema`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa

from curate.errors import InputError
from curate.io.inputs import CSV_SUFFIXES, JSONL_SUFFIXES, PARQUET_SUFFIXES, _kind, expand_inputs, input_hashes, is_stream
from curate.io.rows import DEFAULT_BATCH_ROWS, DEFAULT_MAX_TEXT_CHARS, ReadOptions, Reject, content_id, rows_to_table
from curate.io.schema import conform, unify_schemas, value_to_str

__all__ = [
    "CSV_SUFFIXES",
    "DEFAULT_BATCH_ROWS",
    "DEFAULT_MAX_TEXT_CHARS",
    "JSONL_SUFFIXES",
    "PARQUET_SUFFIXES",
    "ReadOptions",
    "ReadStats",
    "Reject",
    "content_id",
    "expand_inputs",
    "input_hashes",
    "read_batches",
    "read_table",
    "rows_to_table",
]


@dataclass
class ReadStats:
    """What `read_batches` saw; filled in as it reads (`duplicate_ids` once the last batch is out).

    `duplicate_ids` counts rows whose id equals an earlier row's (ids compared as text by a 64-bit
    hash; rows without an id get one from their content, so identical rows count as duplicates).
    Commands report it as a warning: duplicates are kept, but a trainer would see them twice.
    """

    rows: int = 0  # rows delivered in tables
    rejected: int = 0  # rows quarantined (returned as Rejects)
    duplicate_ids: int = 0
    sources: list[str] = field(default_factory=list)
    _hashes: list[np.ndarray] = field(default_factory=list, repr=False)

    def _add_ids(self, col: pa.ChunkedArray) -> None:
        import polars as pl

        t = col.type
        if not (pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_integer(t)):
            col = pa.chunked_array([pa.array([value_to_str(v) for v in col.to_pylist()], pa.string())])  # ids of odd types, as JSON text
        self._hashes.append(pl.from_arrow(col).cast(pl.String).hash(seed=0).to_numpy())  # type: ignore[union-attr]

    def _finish(self) -> None:
        if self._hashes:
            ids = np.concatenate(self._hashes)
            self.duplicate_ids = int(len(ids) - len(np.unique(ids)))
            self._hashes = []


def _reader_for(src: str, opts: ReadOptions) -> Iterator[tuple[pa.Table, list[Reject]]]:
    from curate.io.formats import READERS, dir_reader

    kind = _kind(src)
    if src == "-" or (kind == "unknown" and is_stream(src)):  # a pipe without a telling name: JSON Lines, like stdin
        kind = "jsonl"
    elif Path(src).is_dir():
        kind = dir_reader(Path(src)) or "unknown"
    if kind == "unknown":
        known = sorted({suf for name in READERS.names() for suf in READERS.get(name).suffixes})
        raise InputError(f"cannot tell the format of '{src}'", f"use a name ending in one of {', '.join(known)}, or a saved HF dataset folder")
    return READERS.get(kind).read(src, opts)


def read_batches(
    sources: str | Iterable[str], opts: ReadOptions | None = None, stats: ReadStats | None = None
) -> Iterator[tuple[pa.Table, list[Reject]]]:
    """Yield `(table, rejects)` for every batch of every source, in input order.

    Each table has every column seen so far, in first-seen order, with types widened to agree
    with earlier batches where they can (a later batch can still widen a type further: use
    `curate.io.unify_schemas` over all batch schemas, or a sink, which widens as it goes).
    `stats`, when given, counts rows, rejects and duplicate ids (8 bytes per row while reading).
    """
    opts = opts or ReadOptions()
    if opts.batch_rows < 1:
        raise InputError("batch size must be at least 1")
    srcs = expand_inputs(sources)
    if stats is not None:
        stats.sources = list(srcs)
    running: pa.Schema | None = None
    for src in srcs:
        for table, rejects in _reader_for(src, opts):
            if table.num_columns:
                running = table.schema if running is None else unify_schemas([running, table.schema])
                if not table.schema.equals(running):
                    table = conform(table, running)
            if stats is not None:
                stats.rows += table.num_rows
                stats.rejected += len(rejects)
                if opts.id_field and table.num_rows and opts.id_field in table.column_names:
                    stats._add_ids(table.column(opts.id_field))
            yield table, rejects
    if stats is not None:
        stats._finish()


def read_table(sources: str | Iterable[str], opts: ReadOptions | None = None) -> tuple[pa.Table, list[Reject]]:
    """Read everything into one table (for small inputs and tests). Schemas are unified."""
    tables: list[pa.Table] = []
    rejects: list[Reject] = []
    for t, r in read_batches(sources, opts):
        if t.num_rows:
            tables.append(t)
        rejects.extend(r)
    if not tables:
        return pa.table({}), rejects
    schema = unify_schemas(t.schema for t in tables)
    return pa.concat_tables([conform(t, schema) for t in tables]), rejects
