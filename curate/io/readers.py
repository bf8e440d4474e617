"""Stream rows from Parquet, JSONL (plain or .gz), CSV, saved HF datasets or stdin as Arrow tables.

Every reader yields `(pa.Table, list[Reject])` pairs. Rows that cannot be used — malformed JSON
lines, invalid UTF-8, null/empty/non-string or absurdly long text — never reach the table: they
come back as `Reject`s carrying the reason and where they were found.
"""

from __future__ import annotations

import glob
import gzip
import hashlib
import json
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import orjson
import pyarrow as pa

from curate.errors import InputError

DEFAULT_BATCH_ROWS = 2048
DEFAULT_MAX_TEXT_CHARS = 1_000_000
PARQUET_SUFFIXES = (".parquet", ".pq")
JSONL_SUFFIXES = (".jsonl", ".ndjson", ".json", ".jsonl.gz", ".ndjson.gz", ".json.gz")
CSV_SUFFIXES = (".csv", ".csv.gz", ".tsv")


@dataclass
class Reject:
    """A quarantined input row: its content (as far as it could be read) and why."""

    reason: str
    source: str
    line: int | None = None
    row: dict[str, Any] | None = None
    raw: str | None = None

    def to_record(self) -> dict[str, Any]:
        rec: dict[str, Any] = dict(self.row) if self.row else {}
        if self.raw is not None and not self.row:
            rec["raw"] = self.raw
        rec["reject_reason"] = self.reason
        rec["reject_source"] = self.source if self.line is None else f"{self.source}:{self.line}"
        return rec


@dataclass
class ReadOptions:
    text_field: str | None = "text"
    id_field: str | None = "id"
    batch_rows: int = DEFAULT_BATCH_ROWS
    max_text_chars: int = DEFAULT_MAX_TEXT_CHARS
    require_text: bool = True
    extra: dict[str, Any] = field(default_factory=dict)


def _kind(path: str) -> str:
    low = path.lower()
    if low.endswith(PARQUET_SUFFIXES):
        return "parquet"
    if low.endswith(JSONL_SUFFIXES):
        return "jsonl"
    if low.endswith(CSV_SUFFIXES):
        return "csv"
    if low.endswith(".arrow"):
        return "arrow"
    return "unknown"


def _is_hf_dataset_dir(path: Path) -> bool:
    return path.is_dir() and (path / "state.json").exists() and (path / "dataset_info.json").exists()


def expand_inputs(spec: str | Iterable[str]) -> list[str]:
    """Resolve one or more input specs (file, directory, glob, `-`) to a list of concrete sources."""
    specs = [spec] if isinstance(spec, str) else list(spec)
    out: list[str] = []
    for s in specs:
        if s == "-":
            out.append("-")
            continue
        p = Path(s)
        if _is_hf_dataset_dir(p):
            out.append(str(p))
        elif p.is_dir():
            files = sorted(
                str(f)
                for f in p.rglob("*")
                if f.is_file() and _kind(f.name) != "unknown" and not any(part.startswith((".", "_")) for part in f.relative_to(p).parts)
            )
            # A directory of shards: prefer Parquet when the folder mixes formats (e.g. a manifest.json).
            parquet = [f for f in files if _kind(f) == "parquet"]
            files = parquet or [f for f in files if not f.endswith("manifest.json")]
            if not files:
                raise InputError(f"no readable data files in directory '{s}'", "expected .parquet, .jsonl[.gz], .csv files or a saved HF dataset")
            out.extend(files)
        elif any(ch in s for ch in "*?["):
            files = sorted(glob.glob(s, recursive=True))
            if not files:
                raise InputError(f"the pattern '{s}' matches no files", "check the glob, or quote it so the shell does not expand it")
            out.extend(files)
        elif p.is_file():
            out.append(str(p))
        else:
            raise InputError(f"input '{s}' does not exist", "pass a file, a directory, a glob, or '-' for JSONL on stdin")
    return out


def input_hashes(sources: list[str]) -> dict[str, str]:
    """sha256 of every input file (stdin is recorded as '-')."""
    out: dict[str, str] = {}
    for s in sources:
        if s == "-":
            out[s] = "stdin"
            continue
        p = Path(s)
        files = sorted(f for f in p.rglob("*") if f.is_file()) if p.is_dir() else [p]
        h = hashlib.sha256()
        for f in files:
            with open(f, "rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    h.update(chunk)
        out[s] = "sha256:" + h.hexdigest()
    return out


def content_id(row: dict[str, Any], id_field: str | None) -> str:
    """A stable id derived from a row's content (all fields but the id, canonical JSON)."""
    payload = {k: v for k, v in row.items() if k != id_field}
    data = orjson.dumps(payload, option=orjson.OPT_SORT_KEYS | orjson.OPT_SERIALIZE_NUMPY, default=str)
    return "h" + hashlib.blake2b(data, digest_size=8).hexdigest()


# --------------------------------------------------------------------------- row validation


def _text_problem(value: Any, max_chars: int) -> str | None:
    if value is None:
        return "null text"
    if not isinstance(value, str):
        return f"text is not a string (got {type(value).__name__})"
    if not value.strip():
        return "empty text"
    if len(value) > max_chars:
        return f"text too long ({len(value)} chars > --max-text-chars {max_chars})"
    return None


def _validate_rows(rows: list[dict[str, Any]], lines: list[int | None], source: str, opts: ReadOptions) -> tuple[list[dict[str, Any]], list[Reject]]:
    good: list[dict[str, Any]] = []
    rejects: list[Reject] = []
    tf = opts.text_field
    for row, line in zip(rows, lines):
        if tf and opts.require_text:
            problem = _text_problem(row.get(tf), opts.max_text_chars) if tf in row else f"missing text field '{tf}'"
            if problem:
                rejects.append(Reject(problem, source, line, row=_safe_row(row)))
                continue
            if isinstance(row[tf], str):
                try:
                    row[tf].encode("utf-8")
                except UnicodeEncodeError:
                    rejects.append(Reject("invalid UTF-8 in text (lone surrogate)", source, line, row=_safe_row(row)))
                    continue
        if opts.id_field and row.get(opts.id_field) is None:
            row[opts.id_field] = content_id(row, opts.id_field)
        good.append(row)
    return good, rejects


def _safe_row(row: dict[str, Any], limit: int = 2000) -> dict[str, Any]:
    out = {}
    for k, v in row.items():
        if isinstance(v, str):
            try:
                v.encode("utf-8")
            except UnicodeEncodeError:
                v = v.encode("utf-8", "backslashreplace").decode("utf-8")
            if len(v) > limit:
                v = v[:limit] + f"…[{len(v) - limit} more chars]"
        out[k] = v
    return out


def rows_to_table(rows: list[dict[str, Any]]) -> pa.Table:
    """Build a table from dict rows; columns whose values mix incompatible types become JSON strings."""
    if not rows:
        return pa.table({})
    keys: dict[str, None] = {}
    for r in rows:
        keys.update(dict.fromkeys(r))
    try:
        # Columns from every row, not only the first (pa.Table.from_pylist takes the first row's keys).
        return pa.Table.from_pydict({k: [r.get(k) for r in rows] for k in keys})
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        cols: dict[str, pa.Array] = {}
        for k in keys:
            vals = [r.get(k) for r in rows]
            try:
                cols[k] = pa.array(vals)
            except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
                cols[k] = pa.array([None if v is None else (v if isinstance(v, str) else json.dumps(v, default=str)) for v in vals], pa.string())
        return pa.table(cols)


# --------------------------------------------------------------------------- format readers


def _open_binary(path: str) -> BinaryIO:
    if path == "-":
        return sys.stdin.buffer
    if path.lower().endswith(".gz"):
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return open(path, "rb")


def _read_jsonl(source: str, opts: ReadOptions) -> Iterator[tuple[pa.Table, list[Reject]]]:
    fh = _open_binary(source)
    name = "<stdin>" if source == "-" else source
    rows: list[dict[str, Any]] = []
    lines: list[int | None] = []
    rejects: list[Reject] = []
    checked = False
    try:
        for lineno, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                rejects.append(Reject(f"invalid UTF-8 at byte {exc.start}", name, lineno, raw=raw.decode("utf-8", "replace")[:2000]))
                continue
            try:
                obj = orjson.loads(text)
            except orjson.JSONDecodeError as exc:
                rejects.append(Reject(f"malformed JSON: {exc}", name, lineno, raw=text[:2000]))
                continue
            if not isinstance(obj, dict):
                rejects.append(Reject(f"line is a JSON {type(obj).__name__}, not an object", name, lineno, raw=text[:2000]))
                continue
            rows.append(obj)
            lines.append(lineno)
            if not checked and len(rows) >= min(opts.batch_rows, 64):
                _check_json_fields(rows, name, opts)
                checked = True
            if len(rows) >= opts.batch_rows:
                good, bad = _validate_rows(rows, lines, name, opts)
                yield rows_to_table(good), rejects + bad
                rows, lines, rejects = [], [], []
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        rejects.append(Reject(f"file is truncated or unreadable: {exc}", name))
    finally:
        if fh is not sys.stdin.buffer:
            fh.close()
    if not checked and rows:
        _check_json_fields(rows, name, opts)
    good, bad = _validate_rows(rows, lines, name, opts)
    if good or rejects or bad:
        yield rows_to_table(good), rejects + bad


def _validate_table(table: pa.Table, source: str, opts: ReadOptions, first_row: int) -> tuple[pa.Table, list[Reject]]:
    """Vectorised fast path for columnar sources; falls back to row checks only when something is wrong."""
    import pyarrow.compute as pc

    tf = opts.text_field
    rejects: list[Reject] = []
    if tf and opts.require_text and table.num_rows:
        col = table.column(tf)
        if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
            rows = table.to_pylist()
            return pa.table({}), [Reject(f"text is not a string (column type {col.type})", source, first_row + i, row=_safe_row(r)) for i, r in enumerate(rows)]
        lengths = pc.utf8_length(col)
        stripped = pc.utf8_length(pc.utf8_trim_whitespace(col))
        bad = pc.or_kleene(pc.is_null(col), pc.or_(pc.equal(stripped, 0), pc.greater(lengths, opts.max_text_chars)))
        bad = pc.fill_null(bad, True)
        if pc.any(bad).as_py():
            idx = pc.indices_nonzero(bad).to_pylist()
            for i in idx:
                row = table.slice(i, 1).to_pylist()[0]
                rejects.append(Reject(_text_problem(row.get(tf), opts.max_text_chars) or "invalid text", source, first_row + i, row=_safe_row(row)))
            table = table.filter(pc.invert(bad))
    if opts.id_field:
        table = _fill_ids(table, opts)
    return table, rejects


def _fill_ids(table: pa.Table, opts: ReadOptions) -> pa.Table:
    import pyarrow.compute as pc

    idf = opts.id_field
    assert idf
    if idf in table.column_names:
        col = table.column(idf)
        if col.null_count == 0:
            return table
        rows = table.to_pylist()
        ids = [r[idf] if r[idf] is not None else content_id(r, idf) for r in rows]
        ids_arr = pa.array([str(i) for i in ids]) if pa.types.is_string(col.type) else pa.array(ids)
        return table.set_column(table.column_names.index(idf), idf, ids_arr)
    rows = table.to_pylist()
    return table.append_column(idf, pa.array([content_id(r, idf) for r in rows], pa.string()))


def _read_parquet(source: str, opts: ReadOptions) -> Iterator[tuple[pa.Table, list[Reject]]]:
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(source)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError(f"cannot read Parquet file '{source}': {exc}", "check the file is complete Parquet") from exc
    _check_columns(pf.schema_arrow.names, source, opts)
    row = 0
    for rb in pf.iter_batches(batch_size=opts.batch_rows):
        t = pa.Table.from_batches([rb])
        yield _validate_table(t, source, opts, row)
        row += rb.num_rows


def _read_arrow_stream(path: str) -> Iterator[pa.RecordBatch]:
    import pyarrow.ipc as ipc

    with pa.memory_map(path) as src:
        try:
            reader = ipc.open_stream(src)
        except pa.ArrowInvalid:
            reader = ipc.open_file(src)
            for i in range(reader.num_record_batches):
                yield reader.get_batch(i)
            return
        yield from reader


def _read_hf_dir(source: str, opts: ReadOptions) -> Iterator[tuple[pa.Table, list[Reject]]]:
    state = json.loads((Path(source) / "state.json").read_text())
    files = [str(Path(source) / f["filename"]) for f in state.get("_data_files", [])]
    if not files:
        raise InputError(f"saved dataset '{source}' lists no data files", "re-save it with datasets.Dataset.save_to_disk")
    row = 0
    checked = False
    for f in files:
        buf: list[pa.RecordBatch] = []
        n = 0
        for rb in _read_arrow_stream(f):
            if not checked:
                _check_columns(rb.schema.names, source, opts)
                checked = True
            buf.append(rb)
            n += rb.num_rows
            if n >= opts.batch_rows:
                t = pa.Table.from_batches(buf)
                yield _validate_table(t, source, opts, row)
                row += t.num_rows
                buf, n = [], 0
        if buf:
            t = pa.Table.from_batches(buf)
            yield _validate_table(t, source, opts, row)
            row += t.num_rows


def _read_csv(source: str, opts: ReadOptions) -> Iterator[tuple[pa.Table, list[Reject]]]:
    import pyarrow.csv as pcsv

    delim = "\t" if source.lower().endswith(".tsv") else ","
    bad_lines: list[Reject] = []

    def on_invalid(row: Any) -> str:
        bad_lines.append(Reject(f"malformed CSV row: {row.expected_columns} columns expected, {row.actual_columns} found", source, row.number, raw=row.text[:2000] if row.text else None))
        return "skip"

    try:
        reader = pcsv.open_csv(
            source,
            read_options=pcsv.ReadOptions(block_size=1 << 20),
            parse_options=pcsv.ParseOptions(delimiter=delim, newlines_in_values=True, invalid_row_handler=on_invalid),
            convert_options=pcsv.ConvertOptions(column_types={opts.text_field: pa.string()} if opts.text_field else None, strings_can_be_null=False),
        )
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError(f"cannot read CSV file '{source}': {exc}", "check the delimiter, header row and encoding (UTF-8)") from exc
    _check_columns(reader.schema.names, source, opts)
    row = 0
    while True:
        try:
            rb = reader.read_next_batch()
        except StopIteration:
            break
        except pa.ArrowInvalid as exc:
            bad_lines.append(Reject(f"unreadable CSV block: {exc}", source))
            break
        t = pa.Table.from_batches([rb])
        good, rej = _validate_table(t, source, opts, row)
        row += rb.num_rows
        yield good, bad_lines + rej
        bad_lines = []
    if bad_lines:
        yield pa.table({}), bad_lines


def _check_json_fields(rows: list[dict[str, Any]], source: str, opts: ReadOptions) -> None:
    tf = opts.text_field
    if tf and opts.require_text and not any(tf in r for r in rows):
        keys: dict[str, None] = {}
        for r in rows:
            keys.update(dict.fromkeys(r))
        raise InputError(
            f"'{source}' has no field '{tf}' in its first {len(rows)} rows; its fields are: {', '.join(keys) or '(none)'}",
            "pick the text field with --text-field",
        )


def _check_columns(names: list[str], source: str, opts: ReadOptions) -> None:
    if opts.text_field and opts.require_text and opts.text_field not in names:
        raise InputError(
            f"'{source}' has no column '{opts.text_field}'; its columns are: {', '.join(names) or '(none)'}",
            "pick the text column with --text-field",
        )


def read_batches(sources: str | Iterable[str], opts: ReadOptions | None = None) -> Iterator[tuple[pa.Table, list[Reject]]]:
    """Yield `(table, rejects)` for every batch of every source, in input order."""
    opts = opts or ReadOptions()
    srcs = expand_inputs(sources)
    for src in srcs:
        if src == "-":
            gen = _read_jsonl(src, opts)
        elif _is_hf_dataset_dir(Path(src)):
            gen = _read_hf_dir(src, opts)
        else:
            kind = _kind(src)
            if kind == "parquet":
                gen = _read_parquet(src, opts)
            elif kind == "jsonl":
                gen = _read_jsonl(src, opts)
            elif kind == "csv":
                gen = _read_csv(src, opts)
            elif kind == "arrow":
                gen = ((_validate_table(pa.Table.from_batches([rb]), src, opts, 0)) for rb in _read_arrow_stream(src))
            else:
                raise InputError(f"cannot tell the format of '{src}'", "use a .parquet, .jsonl, .jsonl.gz, .json, .csv or .tsv name, or a saved HF dataset folder")
        yield from gen


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
    return pa.concat_tables(tables, promote_options="permissive"), rejects
