"""JSON Lines (plain or gzip, a file or stdin), and whole-file JSON arrays of objects.

Lines are read with a length limit, so one absurd line never lands in memory whole. Each non-blank
line becomes a row or a `Reject` (invalid UTF-8, malformed JSON with its column, not an object,
too long); blank lines are skipped. orjson reads integers beyond 64 bits as floats, so a line with
a run of 19 digits is parsed by the stdlib instead: such integers stay exact (and their column
becomes decimal strings, see `rows_to_table`).
"""

from __future__ import annotations

import io
import json
import re
import sys
import zlib
from collections.abc import Iterator
from typing import Any

import orjson
import pyarrow as pa

from curate.errors import InputError
from curate.io.inputs import _open_binary
from curate.io.rows import RAW_PREVIEW_CHARS, ReadOptions, Reject, _check_json_fields, _has_surrogate, _safe_str, _validate_rows, rows_to_table
from curate.io.schema import value_to_str


def _first_byte(fh: Any) -> bytes:
    """The first non-whitespace byte (after a UTF-8 BOM), without consuming anything."""
    head = fh.peek(4096) if hasattr(fh, "peek") else b""
    head = head.lstrip(b"\xef\xbb\xbf").lstrip()
    return head[:1]


# 19 digits in a row: possibly an integer beyond 64 bits (-2^63 - 1 has 19), which orjson reads as a float.
_LONG_DIGITS = re.compile(rb"[0-9]{19}")
_LONG_DIGITS_STR = re.compile(r"[0-9]{19}")
_UNPARSED = object()


def _parse_json(text: str) -> tuple[Any, str | None]:
    """(value, None) or (None, reason). orjson first; the stdlib for what orjson refuses (NaN) or
    would read inexactly (integers beyond 64 bits)."""
    first: Any = None
    if not _LONG_DIGITS_STR.search(text):
        try:
            return orjson.loads(text), None
        except orjson.JSONDecodeError as exc:
            first = exc
    try:
        obj = json.loads(text)
    except (ValueError, RecursionError) as exc:
        err = first or exc
        col = getattr(err, "colno", None)
        return None, f"malformed JSON: {getattr(err, 'msg', err)}" + (f" (column {col})" if col else "")
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
        if not raw or raw.isspace():
            return
        obj: Any = _UNPARSED
        if not _LONG_DIGITS.search(raw):
            try:  # the fast path: orjson validates UTF-8 itself
                obj = orjson.loads(raw)
            except orjson.JSONDecodeError:
                pass
        if obj is _UNPARSED:
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                preview = raw.rstrip(b"\r\n").decode("utf-8", "replace")[:RAW_PREVIEW_CHARS]
                self.rejects.append(Reject(f"invalid UTF-8: bad byte at offset {exc.start} of the line", self.name, lineno, raw=preview))
                return
            obj, problem = _parse_json(text)
            if problem:
                self.rejects.append(Reject(problem, self.name, lineno, raw=_safe_str(text.rstrip("\r\n"), RAW_PREVIEW_CHARS)))
                return
        self._add_obj(obj, lineno, None if type(obj) is dict else raw.rstrip(b"\r\n").decode("utf-8", "replace"))

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
            if self.source == "-" and fh.peek(4)[:4] == b"PAR1":
                raise InputError("stdin holds Parquet, but '-' reads JSON Lines", "pass the Parquet file's path instead of piping it")
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
            if fh is not getattr(sys.stdin, "buffer", None):
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
            if not doc:
                raise InputError(f"'{self.name}' has no rows (an empty JSON array)", "pass a file with one JSON object per line")
            for i, item in enumerate(doc, start=1):
                self._add_obj(item, i)
                if len(self.rows) >= self.opts.batch_rows:
                    yield from self._flush()
            yield from self._flush(final=True)
            return
        for lineno, raw in enumerate(io.BytesIO(data), start=1):  # split on \n only, as when streaming
            self._add(raw, lineno)
            if len(self.rows) >= self.opts.batch_rows:
                yield from self._flush()
        yield from self._flush(final=True)


def _read_jsonl(source: str, opts: ReadOptions) -> Iterator[tuple[pa.Table, list[Reject]]]:
    return iter(_JsonlReader(source, opts))

