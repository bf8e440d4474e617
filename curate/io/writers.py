"""Write Arrow tables as JSONL (stdout or file), one Parquet file, or a directory of Parquet shards.

Every output is written under a temporary name beside it (`.curate-<host>-<pid>-*`, see
`curate.io.tempfiles`) and moved into place on `close()`, so a crash never leaves a file or shard
set that looks complete, and an earlier output stays as it was until then. Files get the mode a
plain `open()` gives (0666 minus the umask), whatever the format. A location that cannot take the
output (read-only, full, no permission) raises `OutputError` (exit 7) naming the path.

A Parquet sink starts from the schema it is given (or the first table's) and widens it when a
later table brings a new column or a type that does not fit (see `curate.io.schema`): what was
already written under the narrower schema is rewritten, streaming, on `close()`. So no column is
dropped and no value truncated, and the common case (one schema throughout) costs nothing extra.
"""

from __future__ import annotations

import contextlib
import enum
import gzip
import os
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Protocol

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from curate.errors import UsageError, output_error
from curate.io.formats import WRITERS
from curate.io.schema import conform, has_empty_struct, unify_schemas, widen_type
from curate.io.tempfiles import temp_dir, temp_file

__all__ = ["Format", "JsonlSink", "ParquetDirSink", "ParquetFileSink", "RejectWriter", "Sink", "conform", "infer_format", "open_sink", "shard_name"]

SHARD_TEMPLATE = "part-{index:05d}-of-{total:05d}.parquet"
DEFAULT_ROWS_PER_SHARD = 100_000


class Format(str, enum.Enum):
    jsonl = "jsonl"
    parquet = "parquet"


def shard_name(index: int, total: int) -> str:
    return SHARD_TEMPLATE.format(index=index, total=total)


@contextlib.contextmanager
def writing(path: str | os.PathLike[str]) -> Iterator[None]:
    """OSErrors met while writing `path` become OutputError (exit 7) naming it; a closed pipe stays a BrokenPipeError."""
    try:
        yield
    except BrokenPipeError:
        raise
    except OSError as exc:
        raise output_error(path, exc) from exc


def umask() -> int:
    """The process's umask, read without changing it where /proc allows."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    old = os.umask(0o022)  # elsewhere: set and restore (not thread-safe, hence the /proc path first)
    os.umask(old)
    return old


def file_mode() -> int:
    """The mode `open()` gives a new file: 0666 minus the umask."""
    return 0o666 & ~umask()


def _dump_default(obj: Any) -> Any:
    if isinstance(obj, (bytes, bytearray)):
        return obj.decode("utf-8", "replace")
    return str(obj)


def _jsonable(obj: Any) -> Any:
    """What orjson refuses (integers beyond 64 bits, non-string keys) made representable."""
    if isinstance(obj, int) and not isinstance(obj, bool) and not -(2**63) <= obj < 2**64:
        return str(obj)
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, str):
        return obj.encode("utf-8", "backslashreplace").decode("utf-8") if not obj.isascii() else obj
    return obj


def jsonl_bytes(rows: list[dict[str, Any]]) -> bytes:
    opt = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_APPEND_NEWLINE
    out = []
    for r in rows:
        try:
            out.append(orjson.dumps(r, option=opt, default=_dump_default))
        except (TypeError, orjson.JSONEncodeError):
            out.append(orjson.dumps(_jsonable(r), option=opt, default=_dump_default))
    return b"".join(out)


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
        self._raw: IO[bytes] | None = None
        if dest == "-":
            self._fh: IO[bytes] = sys.stdout.buffer
        else:
            _check_dest(dest, want_dir=False)
            with writing(dest):
                Path(dest).parent.mkdir(parents=True, exist_ok=True)
                fd, self._tmp = temp_file(".curate-", ".tmp", Path(dest).parent)
                os.fchmod(fd, file_mode())  # mkstemp makes it 0600; outputs of every kind get the same mode
                self._raw = os.fdopen(fd, "wb")
            # No name and a zero mtime in the gzip header: the same rows give the same bytes.
            self._fh = gzip.GzipFile(filename="", mode="wb", fileobj=self._raw, mtime=0) if dest.lower().endswith(".gz") else self._raw  # type: ignore[assignment]

    def write(self, table: pa.Table) -> None:
        if table.num_rows == 0:
            return
        try:
            with writing(self.dest):
                self._fh.write(jsonl_bytes(table.to_pylist()))
                if self.dest == "-":
                    self._fh.flush()
        except BrokenPipeError:
            _quiet_broken_pipe()
        self.rows += table.num_rows

    def close(self) -> dict[str, Any]:
        if self.dest == "-":
            try:
                with writing("<stdout>"):
                    self._fh.flush()
            except BrokenPipeError:
                _quiet_broken_pipe()
        else:
            assert self._tmp
            with writing(self.dest):
                self._close_files()
                os.replace(self._tmp, self.dest)
        return {"path": self.dest, "rows": self.rows, "files": [] if self.dest == "-" else [self.dest]}

    def _close_files(self) -> None:
        self._fh.close()
        if self._raw is not None and self._raw is not self._fh:
            self._raw.close()

    def abort(self) -> None:
        if self.dest != "-" and self._tmp:
            with contextlib.suppress(OSError):  # e.g. a full disk refuses the last buffered bytes
                self._close_files()
            with contextlib.suppress(OSError):
                Path(self._tmp).unlink(missing_ok=True)


def _quiet_broken_pipe() -> None:
    """The reader (e.g. `head`) went away: stop writing without a traceback."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    raise SystemExit(0)


def _fits(have: pa.DataType, new: pa.DataType) -> bool:
    """True when values of type `new` can be stored in a column of type `have` without widening it."""
    if widen_type(have, new).equals(have):
        return True
    stringish = (pa.types.is_string, pa.types.is_large_string)
    return any(f(have) for f in stringish) and any(f(new) for f in stringish)


def parquet_safe(schema: pa.Schema) -> pa.Schema:
    """Parquet cannot store a struct with no fields (a JSON `{}`): such columns become JSON text."""
    if not any(has_empty_struct(f.type) for f in schema):
        return schema
    return pa.schema([f.with_type(pa.string()) if has_empty_struct(f.type) else f for f in schema], metadata=schema.metadata)


def _widened(schema: pa.Schema | None, incoming: pa.Schema) -> pa.Schema | None:
    """The schema a sink must switch to before writing a table with `incoming`, or None if `schema` holds it."""
    if schema is None:
        return parquet_safe(pa.schema([f.with_nullable(True) for f in incoming]))
    have = {f.name: f.type for f in schema}
    if all(f.name in have and _fits(have[f.name], f.type) for f in incoming):
        return None
    return parquet_safe(unify_schemas([schema, incoming]))


def _copy_conformed(src: Path, dest: Path, schema: pa.Schema, compression: str, writer: pq.ParquetWriter | None = None) -> None:
    """Stream a Parquet file into `dest` (or an open writer) under `schema`, batch by batch."""
    own = writer is None
    w = writer or pq.ParquetWriter(str(dest), schema, compression=compression)
    try:
        for rb in pq.ParquetFile(str(src)).iter_batches(batch_size=65536):
            w.write_table(conform(pa.Table.from_batches([rb]), schema))
    finally:
        if own:
            w.close()


def _check_dest(dest: str, want_dir: bool) -> None:
    p = Path(dest)
    if want_dir and p.exists() and not p.is_dir():
        raise UsageError(
            f"'{dest}' is a file, not a directory", "give a new directory name for Parquet shards, or a name ending in .parquet for one file"
        )
    if not want_dir and p.is_dir():
        raise UsageError(f"'{dest}' is a directory", "give a file name, or the directory alone for Parquet shards")


class ParquetFileSink:
    """One Parquet file. A table that needs a wider schema starts a new part; parts are merged on close."""

    def __init__(self, dest: str, schema: pa.Schema | None, compression: str = "zstd"):
        _check_dest(dest, want_dir=False)
        self.dest = dest
        self.schema = parquet_safe(schema) if schema is not None else None
        self.compression = compression
        with writing(dest):
            Path(dest).parent.mkdir(parents=True, exist_ok=True)
            self._tmpdir = temp_dir(".curate-", Path(dest).parent)
        self._parts: list[tuple[Path, pa.Schema]] = []
        self._writer: pq.ParquetWriter | None = None
        self.rows = 0

    def _open_part(self) -> pq.ParquetWriter:
        assert self.schema is not None
        path = self._tmpdir / f"part-{len(self._parts):05d}.parquet"
        self._writer = pq.ParquetWriter(str(path), self.schema, compression=self.compression)
        self._parts.append((path, self.schema))
        return self._writer

    def write(self, table: pa.Table) -> None:
        if not table.num_rows:
            return
        wider = _widened(self.schema, table.schema)
        if wider is not None:
            if self._writer:
                self._writer.close()
                self._writer = None
            self.schema = wider
        with writing(self.dest):
            writer = self._writer or self._open_part()
            writer.write_table(conform(table, self.schema))
        self.rows += table.num_rows

    def close(self) -> dict[str, Any]:
        with writing(self.dest):
            return self._close()

    def _close(self) -> dict[str, Any]:
        if self._writer:
            self._writer.close()
            self._writer = None
        if self.schema is None:
            self.schema = pa.schema([])
        if not self._parts:
            self._open_part().close()
            self._writer = None
        if len(self._parts) == 1:
            final = self._parts[0][0]
        else:
            final = self._tmpdir / "merged.parquet"
            with pq.ParquetWriter(str(final), self.schema, compression=self.compression) as w:
                for path, _ in self._parts:
                    _copy_conformed(path, final, self.schema, self.compression, writer=w)
        os.replace(final, self.dest)
        shutil.rmtree(self._tmpdir, ignore_errors=True)
        return {"path": self.dest, "rows": self.rows, "files": [self.dest]}

    def abort(self) -> None:
        _abort_writer(self)
        shutil.rmtree(self._tmpdir, ignore_errors=True)


def _abort_writer(sink: Any) -> None:
    if sink._writer:
        with contextlib.suppress(OSError):  # a full disk refuses the footer too
            sink._writer.close()
        sink._writer = None


class ParquetDirSink:
    """Shards `part-00000-of-000NN.parquet` of `rows_per_shard` rows, named once the total is known.

    When a table needs a wider schema, the shard being filled is rewritten under it at once (it is
    at most one shard) and finished shards are rewritten on close, so every shard ends up with the
    same schema and the shard sizes stay exact.
    """

    def __init__(self, dest: str, schema: pa.Schema | None, rows_per_shard: int = DEFAULT_ROWS_PER_SHARD, compression: str = "zstd"):
        if rows_per_shard < 1:
            raise UsageError("--rows-per-shard must be at least 1")
        _check_dest(dest, want_dir=True)
        self.dest = Path(dest)
        self.schema = parquet_safe(schema) if schema is not None else None
        self.rows_per_shard = rows_per_shard
        self.compression = compression
        with writing(dest):
            self.dest.parent.mkdir(parents=True, exist_ok=True)
            self._tmpdir = temp_dir(".curate-", self.dest.parent)
        self._shards: list[Path] = []
        self._shard_schemas: list[pa.Schema] = []
        self._writer: pq.ParquetWriter | None = None
        self._in_shard = 0
        self.rows = 0

    def _roll(self) -> None:
        if self._writer:
            self._writer.close()
        if self.schema is None:
            self.schema = pa.schema([])
        path = self._tmpdir / f"shard-{len(self._shards):05d}.parquet"
        self._shards.append(path)
        self._shard_schemas.append(self.schema)
        self._writer = pq.ParquetWriter(str(path), self.schema, compression=self.compression)
        self._in_shard = 0

    def _widen_to(self, schema: pa.Schema) -> None:
        self.schema = schema
        if self._writer is None:
            return
        self._writer.close()
        old = self._shards[-1]
        new = old.with_name(old.stem + "w.parquet")
        self._writer = pq.ParquetWriter(str(new), schema, compression=self.compression)
        _copy_conformed(old, new, schema, self.compression, writer=self._writer)
        old.unlink()
        self._shards[-1] = new
        self._shard_schemas[-1] = schema

    def write(self, table: pa.Table) -> None:
        if table.num_rows:
            with writing(self.dest):
                self._write(table)

    def _write(self, table: pa.Table) -> None:
        wider = _widened(self.schema, table.schema)
        if wider is not None:
            self._widen_to(wider)
        assert self.schema is not None
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
        with writing(self.dest):
            return self._close()

    def _close(self) -> dict[str, Any]:
        if self._writer is None:
            self._roll()  # an empty result is still one (empty) shard with the right schema
        assert self._writer and self.schema is not None
        self._writer.close()
        self._writer = None
        for i, (path, schema) in enumerate(zip(self._shards, self._shard_schemas)):
            if not schema.equals(self.schema):
                fixed = path.with_name(path.stem + "c.parquet")
                _copy_conformed(path, fixed, self.schema, self.compression)
                path.unlink()
                self._shards[i] = fixed
        total = len(self._shards)
        final_tmp = self._tmpdir / "final"
        final_tmp.mkdir()
        files = []
        for i, p in enumerate(self._shards):
            name = shard_name(i, total)
            os.replace(p, final_tmp / name)
            files.append(str(self.dest / name))
        if self.dest.exists():
            for f in self.dest.glob("part-*-of-*.parquet"):
                f.unlink()
        self.dest.mkdir(parents=True, exist_ok=True)
        for f in sorted(final_tmp.iterdir()):
            os.replace(f, self.dest / f.name)
        shutil.rmtree(self._tmpdir, ignore_errors=True)
        return {"path": str(self.dest), "rows": self.rows, "files": files}

    def abort(self) -> None:
        _abort_writer(self)
        shutil.rmtree(self._tmpdir, ignore_errors=True)


PARQUET_OUT = (".parquet", ".pq")
JSONL_OUT = (".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz", ".json", ".json.gz")
UNSUPPORTED_OUT = (".csv", ".csv.gz", ".tsv", ".tsv.gz", ".txt", ".arrow", ".gz", ".zip")


def infer_format(dest: str, fmt: Format | None) -> tuple[Format, bool]:
    """(format, is_directory) for an output spec."""
    low = dest.lower()
    if fmt is not None:
        fmt = Format(fmt)
        if fmt == Format.parquet and dest == "-":
            raise UsageError("Parquet cannot be written to stdout", "give -o a name ending in .parquet or a directory, or use --format jsonl")
        if fmt == Format.jsonl and dest != "-" and Path(dest).is_dir():
            raise UsageError(f"'{dest}' is a directory", "JSONL output needs a file name or '-'")
        is_dir = fmt == Format.parquet and not low.endswith(PARQUET_OUT)
        return fmt, is_dir
    if dest == "-":
        return Format.jsonl, False
    if low.endswith(PARQUET_OUT):
        return Format.parquet, False
    if low.endswith(JSONL_OUT):
        return Format.jsonl, False
    if low.endswith(UNSUPPORTED_OUT):
        raise UsageError(
            f"cannot write '{dest}': that output format is not supported",
            "write '-', a .jsonl or .jsonl.gz file, a .parquet file, or a directory of Parquet shards",
        )
    return Format.parquet, True


def open_sink(dest: str, schema: pa.Schema | None, fmt: Format | None = None, rows_per_shard: int = DEFAULT_ROWS_PER_SHARD) -> Sink:
    """Open an output: `-` (JSONL on stdout), `*.jsonl[.gz]`, `*.parquet`, or a directory of shards.

    For Parquet, `schema` is the starting schema (None: the first table's); it widens as needed.
    The sink comes from the writer registered for the format (curate.io.formats.WRITERS).
    """
    kind, is_dir = infer_format(dest, fmt)
    sink: Sink = WRITERS.get(kind.value).open(dest, schema, rows_per_shard, is_dir)
    return sink


@dataclass(frozen=True)
class _Writer:
    name: str
    suffixes: tuple[str, ...]
    file_sink: Any
    dir_sink: Any = None

    def open(self, dest: str, schema: pa.Schema | None, rows_per_shard: int, is_dir: bool) -> Sink:
        if is_dir:
            if self.dir_sink is None:
                raise UsageError(f"the {self.name} writer cannot write a directory ('{dest}')", f"give -o a file name ending in {self.suffixes[0]}")
            return self.dir_sink(dest, schema, rows_per_shard)
        return self.file_sink(dest) if self.name == "jsonl" else self.file_sink(dest, schema)


WRITERS.register("jsonl")(_Writer("jsonl", JSONL_OUT, JsonlSink))
WRITERS.register("parquet")(_Writer("parquet", PARQUET_OUT, ParquetFileSink, ParquetDirSink))


class RejectWriter:
    """Quarantined rows as JSONL, each with `reject_reason` and `reject_source`.

    Written to a temporary file beside `path` and moved into place by `close()`, together with the
    run's other outputs: a run with no rejects removes an older rejects file at `path` (it would
    contradict this run's output), and a run that fails (`abort()`) leaves the old one as it was.
    """

    def __init__(self, path: str | None):
        self.path = path
        self.count = 0
        self.reasons: dict[str, int] = {}
        self._fh: IO[bytes] | None = None
        self._tmp: Path | None = None

    def write(self, rejects: list[Any]) -> None:
        if not rejects:
            return
        for r in rejects:
            key = r.reason.split(":")[0].split("(")[0].strip()
            self.reasons[key] = self.reasons.get(key, 0) + 1
        self.count += len(rejects)
        if self.path is None:
            return
        with writing(self.path):
            if self._fh is None:
                dest = Path(self.path)
                dest.parent.mkdir(parents=True, exist_ok=True)
                fd, tmp = temp_file(".curate-rejects-", ".tmp", dest.parent)
                os.fchmod(fd, file_mode())
                self._tmp = Path(tmp)
                self._fh = os.fdopen(fd, "wb")
            self._fh.write(jsonl_bytes([r.to_record() for r in rejects]))

    def close(self) -> None:
        """Put this run's rejects in place (or remove a stale file when there are none)."""
        if self._fh:
            fh, self._fh = self._fh, None
            with writing(self.path or "rejects"):
                fh.close()
                os.replace(self._tmp, self.path)  # type: ignore[arg-type]
            self._tmp = None
        elif self.path is not None and self.count == 0 and Path(self.path).is_file():
            with writing(self.path):
                Path(self.path).unlink()

    def abort(self) -> None:
        """The run failed: drop this run's rejects and keep whatever was at `path` before."""
        if self._fh:
            with contextlib.suppress(OSError):  # a full disk refuses the last buffered bytes
                self._fh.close()
            self._fh = None
        if self._tmp is not None:
            with contextlib.suppress(OSError):
                self._tmp.unlink(missing_ok=True)
            self._tmp = None
