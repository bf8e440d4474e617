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

import glob
import gzip
import hashlib
import io
import json
import sys
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import orjson
import pyarrow as pa

from curate.errors import InputError
from curate.io.schema import conform, unify_schemas, value_to_str

DEFAULT_BATCH_ROWS = 2048
DEFAULT_MAX_TEXT_CHARS = 1_000_000
PARQUET_SUFFIXES = (".parquet", ".pq")
JSONL_SUFFIXES = (".jsonl", ".ndjson", ".json", ".jsonl.gz", ".ndjson.gz", ".json.gz")
CSV_SUFFIXES = (".csv", ".csv.gz", ".tsv", ".tsv.gz")
HF_META_FILES = ("state.json", "dataset_info.json", "dataset_dict.json")
RAW_PREVIEW_CHARS = 2000
GZIP_MAGIC = b"\x1f\x8b"


@dataclass
class Reject:
    """A quarantined input row: its content (as far as it could be read) and why.

    `line` is the 1-based line for JSONL (the item number in a JSON array document), pyarrow's
    physical row number for a malformed CSV row, and the 1-based data row for other tabular input.
    """

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
    # A JSONL line longer than this many bytes is rejected unread (None: 16 bytes per allowed text
    # char, at least 1 MiB — room for JSON escapes and other fields, but no multi-GB line in RAM).
    max_line_bytes: int | None = None

    def line_limit(self) -> int:
        return self.max_line_bytes if self.max_line_bytes else max(16 * self.max_text_chars, 1 << 20)


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


def _expand_dir(p: Path, spec: str) -> list[str]:
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
    )
    # Prefer Parquet shards when the folder mixes formats (e.g. beside a manifest.json), and treat
    # plain .json files (configs, summaries) as data only when nothing else is there.
    parquet = [f for f in files if _kind(f) == "parquet"]
    lines = [f for f in files if _kind(f) in ("jsonl", "csv", "arrow") and not f.lower().endswith(".json")]
    files = parquet or lines or [f for f in files if not f.endswith("manifest.json")]
    out.extend(files)
    if not out:
        raise InputError(f"no readable data files in directory '{spec}'", "expected .parquet, .jsonl[.gz], .json, .csv or .tsv files, or a saved HF dataset")
    return out


def expand_inputs(spec: str | Iterable[str]) -> list[str]:
    """Resolve one or more input specs (file, directory, glob, `-`) to a list of concrete sources."""
    specs = [spec] if isinstance(spec, str) else list(spec)
    if not specs:
        raise InputError("no input given", "pass a file, a directory, a glob, or '-' for JSONL on stdin")
    out: list[str] = []
    for s in specs:
        if s == "-":
            out.append("-")
            continue
        p = Path(s)
        if p.is_dir():
            out.extend(_expand_dir(p, s))
        elif p.is_file():
            out.append(str(p))
        elif any(ch in s for ch in "*?["):
            matches = sorted(glob.glob(s, recursive=True))
            if not matches:
                raise InputError(f"the pattern '{s}' matches no files", "check the glob, or quote it so the shell does not expand it")
            found: list[str] = []
            for m in matches:
                mp = Path(m)
                if mp.is_dir():
                    if _is_hf_dataset_dir(mp) or _is_hf_dataset_dict(mp):
                        found.extend(_expand_dir(mp, m))
                elif _kind(m) != "unknown" and mp.name not in HF_META_FILES:
                    found.append(m)
            if not found:
                raise InputError(f"the pattern '{s}' matches {len(matches)} path(s) but no data files", "expected .parquet, .jsonl[.gz], .json, .csv or .tsv files")
            out.extend(found)
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


def _canonical(payload: dict[str, Any]) -> bytes:
    try:
        return orjson.dumps(payload, option=orjson.OPT_SORT_KEYS | orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS, default=str)
    except (TypeError, orjson.JSONEncodeError):  # integers beyond 64 bits, lone surrogates
        return json.dumps(payload, sort_keys=True, default=str, ensure_ascii=True).encode()


def content_id(row: dict[str, Any], id_field: str | None) -> str:
    """A stable id derived from a row's content (all fields but the id, canonical JSON).

    Identical rows get identical ids: the id names the content, not the position.
    """
    payload = {k: v for k, v in row.items() if k != id_field}
    return "h" + hashlib.blake2b(_canonical(payload), digest_size=8).hexdigest()


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
        if opts.id_field and row.get(opts.id_field) is None:
            row[opts.id_field] = content_id(row, opts.id_field)
        good.append(row)
    return good, rejects


def _safe_str(v: str, limit: int) -> str:
    try:
        v.encode("utf-8")
    except UnicodeEncodeError:
        v = v.encode("utf-8", "backslashreplace").decode("utf-8")
    if len(v) > limit:
        v = v[:limit] + f"…[{len(v) - limit} more chars]"
    return v


def _safe_row(row: dict[str, Any], limit: int = RAW_PREVIEW_CHARS) -> dict[str, Any]:
    """A row fit for the rejects file: valid UTF-8, long strings cut short."""
    out = {}
    for k, v in row.items():
        if isinstance(v, str):
            v = _safe_str(v, limit)
        elif isinstance(v, (list, dict)):
            s = value_to_str(v) or ""
            v = v if len(s) <= limit and not _has_surrogate(v) else _safe_str(s, limit)
        out[_safe_str(k, 200) if isinstance(k, str) else k] = v
    return out


def _has_surrogate(obj: Any) -> bool:
    """True when a parsed JSON value holds a lone surrogate (not encodable as UTF-8)."""
    if isinstance(obj, str):
        try:
            obj.encode("utf-8")
            return False
        except UnicodeEncodeError:
            return True
    if isinstance(obj, dict):
        return any(_has_surrogate(k) or _has_surrogate(v) for k, v in obj.items())
    if isinstance(obj, list):
        return any(_has_surrogate(v) for v in obj)
    return False


def rows_to_table(rows: list[dict[str, Any]]) -> pa.Table:
    """Build a table from dict rows: every key of every row is a column (missing → null); a column
    whose values mix incompatible types becomes strings (non-strings as JSON text)."""
    if not rows:
        return pa.table({})
    keys: dict[str, None] = {}
    for r in rows:
        keys.update(dict.fromkeys(r))
    cols: dict[str, pa.Array] = {}
    for k in keys:
        vals = [r.get(k) for r in rows]
        try:
            cols[k] = pa.array(vals)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, OverflowError, UnicodeEncodeError, ValueError):
            cols[k] = pa.array([value_to_str(v) for v in vals], pa.string())
    return pa.table(cols)


# --------------------------------------------------------------------------- JSONL


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
        return gzip.GzipFile(fileobj=fh, mode="rb")  # type: ignore[return-value]
    return fh


def _first_byte(fh: Any) -> bytes:
    """The first non-whitespace byte (after a UTF-8 BOM), without consuming anything."""
    head = fh.peek(4096) if hasattr(fh, "peek") else b""
    head = head.lstrip(b"\xef\xbb\xbf").lstrip()
    return head[:1]


def _parse_json(text: str) -> tuple[Any, str | None]:
    """(value, None) or (None, reason). orjson first; the stdlib for what orjson refuses (big ints, NaN)."""
    try:
        return orjson.loads(text), None
    except orjson.JSONDecodeError as exc:
        first = exc
    try:
        obj = json.loads(text)
    except (ValueError, RecursionError):
        return None, f"malformed JSON: {first.msg} (column {first.colno})"
    if _has_surrogate(obj):
        return None, "invalid UTF-8: a lone surrogate escape (\\ud800-\\udfff) in a string"
    return obj, None


class _JsonlReader:
    """One JSONL source, line by line, in batches; also reads a JSON array document."""

    def __init__(self, source: str, opts: ReadOptions):
        self.source = source
        self.opts = opts
        self.name = "<stdin>" if source == "-" else source
        self.rows: list[dict[str, Any]] = []
        self.lines: list[int | None] = []
        self.rejects: list[Reject] = []
        self.checked = False
        self.seen_rows = 0
        self.any_rejects = False

    def _add(self, raw: bytes, lineno: int) -> None:
        if lineno == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        if not raw.strip():
            return
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            self.rejects.append(Reject(f"invalid UTF-8: bad byte at offset {exc.start} of the line", self.name, lineno, raw=raw.rstrip(b"\r\n").decode("utf-8", "replace")[:RAW_PREVIEW_CHARS]))
            return
        obj, problem = _parse_json(text)
        if problem:
            self.rejects.append(Reject(problem, self.name, lineno, raw=_safe_str(text.rstrip("\r\n"), RAW_PREVIEW_CHARS)))
            return
        self._add_obj(obj, lineno, text)

    def _add_obj(self, obj: Any, lineno: int, text: str | None = None) -> None:
        if not isinstance(obj, dict):
            kind = {list: "array", str: "string", int: "number", float: "number", bool: "boolean", type(None): "null"}.get(type(obj), type(obj).__name__)
            preview = text if text is not None else value_to_str(obj)
            self.rejects.append(Reject(f"not a JSON object (got a JSON {kind})", self.name, lineno, raw=_safe_str(preview or "", RAW_PREVIEW_CHARS)))
            return
        self.rows.append(obj)
        self.lines.append(lineno)
        self.seen_rows += 1
        if not self.checked and len(self.rows) >= min(self.opts.batch_rows, 64):
            _check_json_fields(self.rows, self.name, self.opts)
            self.checked = True

    def _flush(self, final: bool = False) -> Iterator[tuple[pa.Table, list[Reject]]]:
        if final and not self.checked and self.rows:
            _check_json_fields(self.rows, self.name, self.opts)
            self.checked = True
        if not (self.rows or self.rejects):
            return
        good, bad = _validate_rows(self.rows, self.lines, self.name, self.opts)
        out = (rows_to_table(good), self.rejects + bad)
        self.any_rejects = self.any_rejects or bool(out[1])
        self.rows, self.lines, self.rejects = [], [], []
        yield out

    def _too_long(self, fh: Any, head: bytes, lineno: int, limit: int) -> None:
        size = len(head)
        while not head.endswith(b"\n"):
            head = fh.readline(1 << 20)
            if not head:
                break
            size += len(head)
        preview = head[:200].decode("utf-8", "replace")
        self.rejects.append(Reject(f"line too long: {size} bytes > {limit} byte limit (raise --max-text-chars)", self.name, lineno, raw=preview))

    def __iter__(self) -> Iterator[tuple[pa.Table, list[Reject]]]:
        fh = _open_binary(self.source)
        lineno = 0
        try:
            try:
                first = _first_byte(fh)
                empty = not first and not fh.peek(1)
            except (OSError, EOFError, zlib.error) as exc:
                raise self._broken(exc, 0) from exc
            if empty:
                raise InputError(f"'{self.name}' is empty", "pass a file with one JSON object per line")
            if first == b"[":
                yield from self._json_document(fh)
                return
            limit = self.opts.line_limit()
            while True:
                try:
                    raw = fh.readline(limit + 1)
                except (OSError, EOFError, zlib.error) as exc:
                    raise self._broken(exc, lineno) from exc
                if not raw:
                    break
                lineno += 1
                if len(raw) > limit and not raw.endswith(b"\n"):
                    try:
                        self._too_long(fh, raw, lineno, limit)
                    except (OSError, EOFError, zlib.error) as exc:
                        raise self._broken(exc, lineno) from exc
                else:
                    self._add(raw, lineno)
                if len(self.rows) >= self.opts.batch_rows or len(self.rejects) >= self.opts.batch_rows:
                    yield from self._flush()
        finally:
            if fh is not sys.stdin.buffer:
                fh.close()
        if not self.seen_rows and not self.rejects and not self.any_rejects:
            raise InputError(f"'{self.name}' has no rows (only blank lines)", "pass a file with one JSON object per line")
        yield from self._flush(final=True)

    def _broken(self, exc: BaseException, lineno: int) -> InputError:
        where = f" after line {lineno}" if lineno else ""
        return InputError(
            f"'{self.name}' is truncated or corrupt{where}: {exc}",
            "re-create or re-download the file (for .gz, check it with: gzip -t FILE)",
        )

    def _json_document(self, fh: Any) -> Iterator[tuple[pa.Table, list[Reject]]]:
        """A whole-file JSON array of objects (not JSON Lines); falls back to lines if it is not one."""
        try:
            data = fh.read()
        except (OSError, EOFError, zlib.error) as exc:
            raise self._broken(exc, 0) from exc
        if data.startswith(b"\xef\xbb\xbf"):
            data = data[3:]
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        doc, problem = _parse_json(text) if text is not None else (None, "invalid UTF-8: not a UTF-8 document")
        if problem is None and isinstance(doc, list):
            for i, item in enumerate(doc, start=1):
                self._add_obj(item, i)
                if len(self.rows) >= self.opts.batch_rows:
                    yield from self._flush()
            yield from self._flush(final=True)
            return
        for lineno, raw in enumerate(data.splitlines(keepends=True), start=1):
            self._add(raw, lineno)
            if len(self.rows) >= self.opts.batch_rows:
                yield from self._flush()
        yield from self._flush(final=True)


def _read_jsonl(source: str, opts: ReadOptions) -> Iterator[tuple[pa.Table, list[Reject]]]:
    return iter(_JsonlReader(source, opts))


# --------------------------------------------------------------------------- columnar sources


def _utf8_rejects(table: pa.Table, source: str, first_row: int) -> tuple[pa.Table, list[Reject]]:
    """Drop rows whose string columns hold invalid UTF-8 (possible in CSV and in Parquet binary data)."""
    import pyarrow.compute as pc

    bad_mask: list[bool] | None = None
    bad_cols: dict[int, str] = {}
    for name in table.column_names:
        col = table.column(name)
        if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
            continue
        try:
            col.validate(full=True)
            continue
        except pa.ArrowInvalid:
            pass
        as_bytes = col.cast(pa.large_binary()).to_pylist()
        if bad_mask is None:
            bad_mask = [False] * table.num_rows
        for i, b in enumerate(as_bytes):
            if b is None:
                continue
            try:
                b.decode("utf-8")
            except UnicodeDecodeError:
                bad_mask[i] = True
                bad_cols.setdefault(i, name)
    if bad_mask is None:
        return table, []
    rejects = []
    for i in (i for i, bad in enumerate(bad_mask) if bad):
        row = {}
        for name in table.column_names:
            v = table.column(name)[i]
            row[name] = v.cast(pa.large_binary()).as_py().decode("utf-8", "replace") if pa.types.is_string(v.type) or pa.types.is_large_string(v.type) else v.as_py()
        rejects.append(Reject(f"invalid UTF-8: in column '{bad_cols[i]}'", source, first_row + i + 1, row=_safe_row(row)))
    return table.filter(pc.invert(pa.array(bad_mask))), rejects


def _text_column_as_string(table: pa.Table, tf: str, source: str, first_row: int) -> tuple[pa.Table, list[Reject]] | None:
    """Make the text column a string column if it is dictionary- or binary-encoded; None if it cannot be."""
    col = table.column(tf)
    t = col.type
    if pa.types.is_dictionary(t) and (pa.types.is_string(t.value_type) or pa.types.is_large_string(t.value_type)):
        return table.set_column(table.column_names.index(tf), tf, col.cast(t.value_type)), []
    if pa.types.is_binary(t) or pa.types.is_large_binary(t):
        target = pa.large_string() if pa.types.is_large_binary(t) else pa.string()
        viewed = pa.chunked_array([c.view(target) for c in col.chunks], target)
        as_str = table.set_column(table.column_names.index(tf), tf, viewed)
        return _utf8_rejects(as_str, source, first_row)
    if pa.types.is_null(t):
        return table.set_column(table.column_names.index(tf), tf, pa.nulls(table.num_rows, pa.string())), []
    return None


def _validate_table(table: pa.Table, source: str, opts: ReadOptions, first_row: int) -> tuple[pa.Table, list[Reject]]:
    """Vectorised fast path for columnar sources; row checks only for the rows that fail."""
    import pyarrow.compute as pc

    tf = opts.text_field
    rejects: list[Reject] = []
    if tf and opts.require_text and table.num_rows:
        col = table.column(tf)
        if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
            fixed = _text_column_as_string(table, tf, source, first_row)
            if fixed is None:
                rows = table.to_pylist()
                return pa.table({}), [Reject(f"text is not a string (column type {col.type})", source, first_row + i + 1, row=_safe_row(r)) for i, r in enumerate(rows)]
            table, rejects = fixed
            col = table.column(tf)
        lengths = pc.utf8_length(col)
        stripped = pc.utf8_length(pc.utf8_trim_whitespace(col))
        bad = pc.or_kleene(pc.is_null(col), pc.or_(pc.equal(stripped, 0), pc.greater(lengths, opts.max_text_chars)))
        bad = pc.fill_null(bad, True)
        if pc.any(bad).as_py():
            idx = pc.indices_nonzero(bad).to_pylist()
            for i in idx:
                row = table.slice(i, 1).to_pylist()[0]
                rejects.append(Reject(_text_problem(row.get(tf), opts.max_text_chars) or "invalid text", source, first_row + i + 1, row=_safe_row(row)))
            table = table.filter(pc.invert(bad))
    if opts.id_field:
        table = _fill_ids(table, opts)
    return table, rejects


def _fill_ids(table: pa.Table, opts: ReadOptions) -> pa.Table:
    idf = opts.id_field
    assert idf
    if idf in table.column_names:
        col = table.column(idf)
        if col.null_count == 0:
            return table
        rows = table.to_pylist()
        ids = [r[idf] if r[idf] is not None else content_id(r, idf) for r in rows]
        # Generated ids are strings, so a column that mixes them with other ids becomes strings.
        ids_arr = pa.array([value_to_str(i) for i in ids], pa.string())
        return table.set_column(table.column_names.index(idf), idf, ids_arr)
    rows = table.to_pylist()
    return table.append_column(idf, pa.array([content_id(r, idf) for r in rows], pa.string()))


def _empty_file(source: str) -> bool:
    try:
        return Path(source).stat().st_size == 0
    except OSError:
        return False


def _read_parquet(source: str, opts: ReadOptions) -> Iterator[tuple[pa.Table, list[Reject]]]:
    import pyarrow.parquet as pq

    if _empty_file(source):
        raise InputError(f"'{source}' is empty", "re-create the Parquet file")
    try:
        pf = pq.ParquetFile(source)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError(f"cannot read Parquet file '{source}': {exc}", "check the file is complete Parquet") from exc
    _check_columns(pf.schema_arrow.names, source, opts)
    row = 0
    batches = pf.iter_batches(batch_size=opts.batch_rows)
    while True:
        try:
            rb = next(batches)
        except StopIteration:
            break
        except (pa.ArrowInvalid, OSError) as exc:
            raise InputError(f"Parquet file '{source}' is corrupt after row {row}: {exc}", "re-create the file") from exc
        t = pa.Table.from_batches([rb])
        yield _validate_table(t, source, opts, row)
        row += rb.num_rows


def _read_arrow_stream(path: str) -> Iterator[pa.RecordBatch]:
    import pyarrow.ipc as ipc

    try:
        with pa.memory_map(path) as src:
            try:
                reader = ipc.open_stream(src)
            except pa.ArrowInvalid:
                src.seek(0)
                freader = ipc.open_file(src)
                for i in range(freader.num_record_batches):
                    yield freader.get_batch(i)
                return
            yield from reader
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError(f"cannot read Arrow file '{path}': {exc}", "check the file is complete Arrow IPC data") from exc


def _read_arrow(source: str, opts: ReadOptions) -> Iterator[tuple[pa.Table, list[Reject]]]:
    row = 0
    checked = False
    buf: list[pa.RecordBatch] = []
    n = 0

    def flush() -> tuple[pa.Table, list[Reject]]:
        t = pa.Table.from_batches(buf)
        return _validate_table(t, source, opts, row)

    for rb in _read_arrow_stream(source):
        if not checked:
            _check_columns(rb.schema.names, source, opts)
            checked = True
        buf.append(rb)
        n += rb.num_rows
        if n >= opts.batch_rows:
            yield flush()
            row += n
            buf, n = [], 0
    if buf:
        yield flush()


def _read_hf_dir(source: str, opts: ReadOptions) -> Iterator[tuple[pa.Table, list[Reject]]]:
    try:
        state = json.loads((Path(source) / "state.json").read_text())
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read '{Path(source) / 'state.json'}': {exc}", "re-save it with datasets.Dataset.save_to_disk") from exc
    files = [str(Path(source) / f["filename"]) for f in state.get("_data_files", [])]
    if not files:
        raise InputError(f"saved dataset '{source}' lists no data files", "re-save it with datasets.Dataset.save_to_disk")
    row_offset = 0
    for f in files:
        if not Path(f).exists():
            raise InputError(f"saved dataset '{source}' is missing its data file '{Path(f).name}'", "re-save it with datasets.Dataset.save_to_disk")
        for t, rej in _read_arrow(f, opts):
            # Report positions relative to the dataset, not to each data file.
            yield t, [Reject(r.reason, source, None if r.line is None else row_offset + r.line, r.row, r.raw) for r in rej]
            row_offset += t.num_rows + len(rej)


def _read_csv(source: str, opts: ReadOptions) -> Iterator[tuple[pa.Table, list[Reject]]]:
    import pyarrow.csv as pcsv

    if _empty_file(source):
        raise InputError(f"'{source}' is empty", "pass a CSV file with a header row")
    delim = "\t" if source.lower().endswith((".tsv", ".tsv.gz")) else ","
    state = {"skip_invalid": 0, "invalid_seen": 0}
    bad_lines: list[Reject] = []

    def on_invalid(row: Any) -> str:
        state["invalid_seen"] += 1
        if state["invalid_seen"] > state["skip_invalid"]:
            reason = f"malformed CSV row: {row.expected_columns} columns expected, {row.actual_columns} found"
            bad_lines.append(Reject(reason, source, row.number, raw=_safe_str(row.text, RAW_PREVIEW_CHARS) if row.text else None))
        return "skip"

    def open_reader(all_strings: list[str] | None) -> Any:
        types = {n: pa.string() for n in all_strings} if all_strings else ({opts.text_field: pa.string()} if opts.text_field else None)
        try:
            return pcsv.open_csv(
                source,
                read_options=pcsv.ReadOptions(block_size=1 << 20),
                parse_options=pcsv.ParseOptions(delimiter=delim, newlines_in_values=True, invalid_row_handler=on_invalid),
                convert_options=pcsv.ConvertOptions(column_types=types, strings_can_be_null=False, check_utf8=False),
            )
        except (pa.ArrowInvalid, OSError, EOFError, zlib.error) as exc:
            raise InputError(f"cannot read CSV file '{source}': {exc}", "check the delimiter, header row, encoding (UTF-8) and that the file is complete") from exc

    reader = open_reader(None)
    names = reader.schema.names
    _check_columns(names, source, opts)
    row = 0  # data rows already yielded (good or rejected for their content)
    skip = 0  # rows to drop after a restart with all-string columns
    restarted = False
    while True:
        try:
            rb = reader.read_next_batch()
        except StopIteration:
            break
        except (OSError, EOFError, zlib.error) as exc:
            raise InputError(f"CSV file '{source}' is truncated or corrupt after row {row}: {exc}", "re-create the file") from exc
        except pa.ArrowInvalid as exc:
            if restarted:
                raise InputError(f"cannot read CSV file '{source}' after row {row}: {exc}", "check the delimiter, quoting and that the file is complete") from exc
            # A later block does not fit the types inferred from the first: re-read everything as
            # strings and skip what was already delivered.
            restarted = True
            state["skip_invalid"], state["invalid_seen"] = state["invalid_seen"], 0
            bad_lines = []
            skip = row
            reader = open_reader(names)
            continue
        t = pa.Table.from_batches([rb])
        if skip:
            drop = min(skip, t.num_rows)
            t, skip = t.slice(drop), skip - drop
            if not t.num_rows:
                continue
        for off in range(0, t.num_rows, opts.batch_rows):
            part = t.slice(off, opts.batch_rows)
            good, utf_rej = _utf8_rejects(part, source, row)
            good, rej = _validate_table(good, source, opts, row)
            row += part.num_rows
            yield good, bad_lines + utf_rej + rej
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


def _reader_for(src: str, opts: ReadOptions) -> Iterator[tuple[pa.Table, list[Reject]]]:
    if src == "-":
        return _read_jsonl(src, opts)
    if _is_hf_dataset_dir(Path(src)):
        return _read_hf_dir(src, opts)
    kind = _kind(src)
    if kind == "parquet":
        return _read_parquet(src, opts)
    if kind == "jsonl":
        return _read_jsonl(src, opts)
    if kind == "csv":
        return _read_csv(src, opts)
    if kind == "arrow":
        return _read_arrow(src, opts)
    raise InputError(f"cannot tell the format of '{src}'", "use a .parquet, .jsonl, .jsonl.gz, .json, .csv or .tsv name, or a saved HF dataset folder")


def read_batches(sources: str | Iterable[str], opts: ReadOptions | None = None) -> Iterator[tuple[pa.Table, list[Reject]]]:
    """Yield `(table, rejects)` for every batch of every source, in input order.

    Each table has every column seen so far, in first-seen order, with types widened to agree
    with earlier batches where they can (a later batch can still widen a type further: use
    `curate.io.unify_schemas` over all batch schemas, or a sink, which widens as it goes).
    """
    opts = opts or ReadOptions()
    if opts.batch_rows < 1:
        raise InputError("batch size must be at least 1")
    srcs = expand_inputs(sources)
    running: pa.Schema | None = None
    for src in srcs:
        for table, rejects in _reader_for(src, opts):
            if table.num_columns:
                running = table.schema if running is None else unify_schemas([running, table.schema])
                if not table.schema.equals(running):
                    table = conform(table, running)
            yield table, rejects


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
