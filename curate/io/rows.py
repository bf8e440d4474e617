"""Row-level checks shared by every reader: what a usable row is, why a row is quarantined, ids.

A row is usable when its text field holds a non-blank string of at most `max_text_chars`
characters; anything else becomes a `Reject` with a reason (the text before ':' is the reason's
stable category) and where it was found. Rows without an id get one derived from their content.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import orjson
import pyarrow as pa

from curate.errors import InputError
from curate.io.schema import has_empty_struct, value_to_str

DEFAULT_BATCH_ROWS = 2048
DEFAULT_MAX_TEXT_CHARS = 1_000_000
RAW_PREVIEW_CHARS = 2000


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


def _canonical(payload: dict[str, Any]) -> bytes:
    try:
        return orjson.dumps(payload, option=orjson.OPT_SORT_KEYS | orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS, default=str)
    except (TypeError, orjson.JSONEncodeError):  # integers beyond 64 bits, lone surrogates
        return json.dumps(payload, sort_keys=True, default=str, ensure_ascii=True).encode()


def content_id(row: dict[str, Any], id_field: str | None) -> str:
    """A stable id derived from a row's content (all fields but the id, canonical JSON).

    Identical rows get identical ids: the id names the content, not the position.
    """
    payload = {k: v for k, v in row.items() if k != id_field} if id_field in row else row
    return "h" + hashlib.blake2b(_canonical(payload), digest_size=8).digest().hex()


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
    tf = opts.text_field if opts.require_text else None
    idf = opts.id_field
    max_chars = opts.max_text_chars
    for row, line in zip(rows, lines):
        if tf:
            value = row.get(tf)
            # the common case first: a non-blank string of a sane length
            if not (type(value) is str and len(value) <= max_chars and value and not value.isspace()):
                problem = _text_problem(value, max_chars) if tf in row else f"missing text field '{tf}'"
                if problem:
                    rejects.append(Reject(problem, source, line, row=_safe_row(row)))
                    continue
        if idf and row.get(idf) is None:
            row[idf] = content_id(row, idf)
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
    whose values mix incompatible types becomes strings (non-strings as JSON text). So does a column
    holding an integer beyond the signed 64-bit range (its integers stay exact, as decimal digits),
    and one whose values are or hold empty objects `{}` (no Parquet file could store it)."""
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
            if has_empty_struct(cols[k].type):  # `{}` values: Parquet cannot store a struct without fields
                raise ValueError(k)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, OverflowError, UnicodeEncodeError, ValueError):
            cols[k] = pa.array([value_to_str(v) for v in vals], pa.string())
    return pa.table(cols)


def _utf8_rejects(table: pa.Table, source: str, first_row: int, replaced: bool = False) -> tuple[pa.Table, list[Reject]]:
    """Drop rows whose string columns hold invalid UTF-8 (possible in CSV and in Parquet binary data).

    `replaced`: the bytes were already decoded with U+FFFD for invalid sequences; flag rows holding it.
    """
    import pyarrow.compute as pc

    bad_mask: list[bool] | None = None
    bad_cols: dict[int, str] = {}
    for name in table.column_names:
        col = table.column(name)
        if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
            continue
        if replaced:
            hits = pc.fill_null(pc.match_substring(col, "\ufffd"), False)
            if pc.any(hits).as_py():
                if bad_mask is None:
                    bad_mask = [False] * table.num_rows
                for i in pc.indices_nonzero(hits).to_pylist():
                    bad_mask[i] = True
                    bad_cols.setdefault(i, name)
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
            row[name] = (
                v.cast(pa.large_binary()).as_py().decode("utf-8", "replace")
                if pa.types.is_string(v.type) or pa.types.is_large_string(v.type)
                else v.as_py()
            )
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


def _without_views(t: pa.DataType) -> pa.DataType:
    """The type with string/binary views (as polars writes them) replaced by their large plain kinds."""
    if pa.types.is_string_view(t):
        return pa.large_string()
    if pa.types.is_binary_view(t):
        return pa.large_binary()
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        inner = _without_views(t.value_type)
        return t if inner.equals(t.value_type) else (pa.list_ if pa.types.is_list(t) else pa.large_list)(inner)
    if pa.types.is_struct(t):
        fields = [t.field(i) for i in range(t.num_fields)]
        plain = [f.with_type(_without_views(f.type)) for f in fields]
        return t if all(a.type.equals(b.type) for a, b in zip(fields, plain)) else pa.struct(plain)
    return t


def _plain_views(table: pa.Table) -> pa.Table:
    """View-typed columns cast to plain ones, and empty-struct columns to JSON text: the rest of
    curate (and every Parquet writer) can store those."""
    for i, f in enumerate(table.schema):
        if has_empty_struct(f.type):
            table = table.set_column(i, f.with_type(pa.string()), pa.array([value_to_str(v) for v in table.column(i).to_pylist()], pa.string()))
            continue
        plain = _without_views(f.type)
        if not plain.equals(f.type):
            table = table.set_column(i, f.with_type(plain), table.column(i).cast(plain))
    return table


def _validate_table(table: pa.Table, source: str, opts: ReadOptions, first_row: int) -> tuple[pa.Table, list[Reject]]:
    """Vectorised fast path for columnar sources; row checks only for the rows that fail."""
    import pyarrow.compute as pc

    table = _plain_views(table)
    tf = opts.text_field
    rejects: list[Reject] = []
    if tf and opts.require_text and table.num_rows:
        col = table.column(tf)
        if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
            fixed = _text_column_as_string(table, tf, source, first_row)
            if fixed is None:
                rows = table.to_pylist()
                return pa.table({}), [
                    Reject(f"text is not a string (column type {col.type})", source, first_row + i + 1, row=_safe_row(r)) for i, r in enumerate(rows)
                ]
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
                rejects.append(
                    Reject(_text_problem(row.get(tf), opts.max_text_chars) or "invalid text", source, first_row + i + 1, row=_safe_row(row))
                )
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
