"""Write Arrow tables as JSONL (stdout or file), one Parquet file, or a directory of Parquet shards.

Parquet outputs are written under a temporary name and moved into place on `close()`, so a crash
never leaves a file or shard set that looks complete.
"""

from __future__ import annotations

import enum
import gzip
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import IO, Any, Protocol

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from curate.errors import UsageError

SHARD_TEMPLATE = "part-{index:05d}-of-{total:05d}.parquet"
DEFAULT_ROWS_PER_SHARD = 100_000


class Format(str, enum.Enum):
    jsonl = "jsonl"
    parquet = "parquet"


def shard_name(index: int, total: int) -> str:
    return SHARD_TEMPLATE.format(index=index, total=total)


def conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """Reorder, add (as nulls) and cast columns so `table` matches `schema` exactly."""
    cols = []
    for f in schema:
        if f.name in table.column_names:
            col = table.column(f.name)
            if col.type != f.type:
                col = col.cast(f.type, safe=False)
            cols.append(col)
        else:
            cols.append(pa.nulls(table.num_rows, f.type))
    return pa.Table.from_arrays(cols, schema=schema)


def _dump_default(obj: Any) -> Any:
    if isinstance(obj, (bytes, bytearray)):
        return obj.decode("utf-8", "replace")
    return str(obj)


def jsonl_bytes(rows: list[dict[str, Any]]) -> bytes:
    opt = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_APPEND_NEWLINE
    return b"".join(orjson.dumps(r, option=opt, default=_dump_default) for r in rows)


class Sink(Protocol):
    def write(self, table: pa.Table) -> None: ...
    def close(self) -> dict[str, Any]: ...
    def abort(self) -> None: ...


class JsonlSink:
    """JSONL to stdout (`-`) or a file (gzip when the name ends in .gz)."""

    def __init__(self, dest: str):
        self.dest = dest
        self.rows = 0
        self._tmp: str | None = None
        if dest == "-":
            self._fh: IO[bytes] = sys.stdout.buffer
        else:
            Path(dest).parent.mkdir(parents=True, exist_ok=True)
            fd, self._tmp = tempfile.mkstemp(prefix=".curate-", suffix=".tmp", dir=str(Path(dest).parent))
            os.close(fd)
            self._fh = gzip.open(self._tmp, "wb") if dest.endswith(".gz") else open(self._tmp, "wb")  # type: ignore[assignment]

    def write(self, table: pa.Table) -> None:
        if table.num_rows == 0:
            return
        self._fh.write(jsonl_bytes(table.to_pylist()))
        self.rows += table.num_rows
        if self.dest == "-":
            try:
                self._fh.flush()
            except BrokenPipeError:
                _quiet_broken_pipe()

    def close(self) -> dict[str, Any]:
        if self.dest == "-":
            try:
                self._fh.flush()
            except BrokenPipeError:
                _quiet_broken_pipe()
        else:
            self._fh.close()
            assert self._tmp
            os.replace(self._tmp, self.dest)
        return {"path": self.dest, "rows": self.rows, "files": [] if self.dest == "-" else [self.dest]}

    def abort(self) -> None:
        if self.dest != "-" and self._tmp:
            self._fh.close()
            Path(self._tmp).unlink(missing_ok=True)


def _quiet_broken_pipe() -> None:
    """The reader (e.g. `head`) went away: stop writing without a traceback."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    raise SystemExit(0)


class ParquetFileSink:
    def __init__(self, dest: str, schema: pa.Schema, compression: str = "zstd"):
        self.dest = dest
        self.schema = schema
        Path(dest).parent.mkdir(parents=True, exist_ok=True)
        fd, self._tmp = tempfile.mkstemp(prefix=".curate-", suffix=".parquet.tmp", dir=str(Path(dest).parent))
        os.close(fd)
        self._writer = pq.ParquetWriter(self._tmp, schema, compression=compression)
        self.rows = 0

    def write(self, table: pa.Table) -> None:
        if table.num_rows:
            self._writer.write_table(conform(table, self.schema))
            self.rows += table.num_rows

    def close(self) -> dict[str, Any]:
        self._writer.close()
        os.replace(self._tmp, self.dest)
        return {"path": self.dest, "rows": self.rows, "files": [self.dest]}

    def abort(self) -> None:
        self._writer.close()
        Path(self._tmp).unlink(missing_ok=True)


class ParquetDirSink:
    """Shards `part-00000-of-000NN.parquet` of `rows_per_shard` rows, named once the total is known."""

    def __init__(self, dest: str, schema: pa.Schema, rows_per_shard: int = DEFAULT_ROWS_PER_SHARD, compression: str = "zstd"):
        if rows_per_shard < 1:
            raise UsageError("--rows-per-shard must be at least 1")
        self.dest = Path(dest)
        self.schema = schema
        self.rows_per_shard = rows_per_shard
        self.compression = compression
        self.dest.parent.mkdir(parents=True, exist_ok=True)
        self._tmpdir = Path(tempfile.mkdtemp(prefix=".curate-", dir=str(self.dest.parent)))
        self._shards: list[Path] = []
        self._writer: pq.ParquetWriter | None = None
        self._in_shard = 0
        self.rows = 0

    def _roll(self) -> None:
        if self._writer:
            self._writer.close()
        path = self._tmpdir / f"shard-{len(self._shards):05d}.parquet"
        self._shards.append(path)
        self._writer = pq.ParquetWriter(str(path), self.schema, compression=self.compression)
        self._in_shard = 0

    def write(self, table: pa.Table) -> None:
        table = conform(table, self.schema)
        off = 0
        while off < table.num_rows:
            if self._writer is None or self._in_shard >= self.rows_per_shard:
                self._roll()
            take = min(self.rows_per_shard - self._in_shard, table.num_rows - off)
            assert self._writer
            self._writer.write_table(table.slice(off, take))
            self._in_shard += take
            off += take
            self.rows += take

    def close(self) -> dict[str, Any]:
        if self._writer is None:
            self._roll()  # an empty result is still one (empty) shard with the right schema
        assert self._writer
        self._writer.close()
        total = len(self._shards)
        final_tmp = self._tmpdir / "final"
        final_tmp.mkdir()
        files = []
        for i, p in enumerate(self._shards):
            name = shard_name(i, total)
            os.replace(p, final_tmp / name)
            files.append(str(self.dest / name))
        if self.dest.exists():
            stale = [f for f in self.dest.glob("part-*-of-*.parquet")]
            for f in stale:
                f.unlink()
        self.dest.mkdir(parents=True, exist_ok=True)
        for f in sorted(final_tmp.iterdir()):
            os.replace(f, self.dest / f.name)
        shutil.rmtree(self._tmpdir, ignore_errors=True)
        return {"path": str(self.dest), "rows": self.rows, "files": files}

    def abort(self) -> None:
        if self._writer:
            self._writer.close()
        shutil.rmtree(self._tmpdir, ignore_errors=True)


def infer_format(dest: str, fmt: Format | None) -> tuple[Format, bool]:
    """(format, is_directory) for an output spec."""
    if fmt is not None:
        is_dir = fmt == Format.parquet and not dest.lower().endswith((".parquet", ".pq"))
        if fmt == Format.jsonl and dest != "-" and Path(dest).is_dir():
            raise UsageError(f"'{dest}' is a directory", "JSONL output needs a file name or '-'")
        return fmt, is_dir
    if dest == "-":
        return Format.jsonl, False
    low = dest.lower()
    if low.endswith((".parquet", ".pq")):
        return Format.parquet, False
    if low.endswith((".jsonl", ".jsonl.gz", ".ndjson", ".json")):
        return Format.jsonl, False
    return Format.parquet, True


def open_sink(dest: str, schema: pa.Schema | None, fmt: Format | None = None, rows_per_shard: int = DEFAULT_ROWS_PER_SHARD) -> Sink:
    """Open an output: `-` (JSONL on stdout), `*.jsonl[.gz]`, `*.parquet`, or a directory of shards."""
    kind, is_dir = infer_format(dest, fmt)
    if kind == Format.jsonl:
        return JsonlSink(dest)
    if schema is None:
        raise UsageError("Parquet output needs a schema")
    if is_dir:
        return ParquetDirSink(dest, schema, rows_per_shard)
    return ParquetFileSink(dest, schema)


class RejectWriter:
    """Quarantined rows as JSONL, each with `reject_reason` and `reject_source`. Created on first write."""

    def __init__(self, path: str | None):
        self.path = path
        self.count = 0
        self.reasons: dict[str, int] = {}
        self._fh: IO[bytes] | None = None

    def write(self, rejects: list[Any]) -> None:
        if not rejects:
            return
        for r in rejects:
            key = r.reason.split(":")[0].split("(")[0].strip()
            self.reasons[key] = self.reasons.get(key, 0) + 1
        self.count += len(rejects)
        if self.path is None:
            return
        if self._fh is None:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            self._fh = open(self.path, "wb")
        self._fh.write(jsonl_bytes([r.to_record() for r in rejects]))

    def close(self) -> None:
        if self._fh:
            self._fh.close()
