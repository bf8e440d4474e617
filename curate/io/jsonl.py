"""JSON Lines (plain or gzip, a file or stdin), and whole-file JSON arrays of objects.

Lines are read with a length limit, so one absurd line never lands in memory whole. Each non-blank
line becomes a row or a `Reject` (invalid UTF-8, malformed JSON with its column, not an object,
too long); blank lines are skipped. orjson reads integers beyond 64 bits as floats, so a line with
a run of 19 digits is parsed by the stdlib instead: such integers stay exact (and their column
becomes decimal strings, see `rows_to_table`).

A plain file is first read in blocks by Arrow's C++ JSON reader (`pyarrow.json`, several threads).
A block is taken as it is only when it holds nothing that would be quarantined or typed otherwise
row by row: one JSON object per line, no blank line, every row with every field, fields of
string, integer or boolean type only, every text a non-blank string within the length limit.
Any other block is read line by line as before, from the start of the batch it falls in, until a
batch ends past it: the batches, their rows and their rejects are the same either way.
"""

from __future__ import annotations

import io
import json
import re
import sys
import zlib
from collections.abc import Generator, Iterator
from typing import Any

import orjson
import pyarrow as pa

from curate.errors import InputError
from curate.io.formats import READERS, Reader
from curate.io.inputs import JSONL_SUFFIXES, _open_binary
from curate.io.rows import RAW_PREVIEW_CHARS, ReadOptions, Reject, _check_json_fields, _has_surrogate, _safe_str, _validate_rows, rows_to_table
from curate.io.schema import value_to_str

FAST_BLOCK_BYTES = 2 << 20  # bytes handed to Arrow's JSON reader at a time
FAST_GIVE_UP = 3  # blocks in a row that need the line reader: the rest of the file is read by lines
# str.isspace() characters: what Python's strip() removes, so a text of only these is "empty text"
_PY_SPACE = "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680" + "".join(chr(c) for c in range(0x2000, 0x200B)) + "\u2028\u2029\u202f\u205f\u3000"


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
            kind = {list: "array", str: "string", int: "number", float: "number", bool: "boolean", type(None): "null"}.get(
                type(obj), type(obj).__name__
            )
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
        fh: Any = _open_binary(self.source)  # buffered: it has peek()
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
            fast = self.source != "-" and isinstance(fh, io.BufferedReader) and fh.seekable()
            until = 0  # read line by line up to here, then in blocks again
            failed = 0
            while True:
                if fast and not self.rows and not self.rejects and fh.tell() >= until:
                    handover = yield from self._fast_blocks(fh, lineno, limit)
                    if handover is None:
                        break
                    offset, lineno, until, taken = handover
                    failed = 0 if taken else failed + 1
                    fast = failed < FAST_GIVE_UP
                    fh.seek(offset)
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

    def _fast_blocks(self, fh: Any, lineno: int, limit: int) -> Generator[tuple[pa.Table, list[Reject]], None, tuple[int, int, int, bool] | None]:
        """Batches from blocks Arrow's JSON reader takes as they are, from `fh`'s position (a line
        start, `lineno` lines read). Returns None at the end of the file, or, at a block that
        needs the line reader, (offset, line number, end of that block, whether any block was
        taken): where the line reader starts (the first row not yet yielded) and how far it must
        read before blocks resume."""
        import numpy as np

        batch = self.opts.batch_rows
        start = fh.tell()
        pending: list[pa.Table] = []
        pending_rows = 0
        starts: list[np.ndarray] = []  # file offset of each pending row's line
        carry = b""
        taken = False
        while True:
            try:
                data = fh.read(FAST_BLOCK_BYTES)
            except (OSError, EOFError, zlib.error) as exc:
                raise self._broken(exc, lineno) from exc
            buf = carry + data
            cut = len(buf) if not data else buf.rfind(b"\n") + 1
            if data and not cut:  # no line end yet
                if len(buf) > limit:
                    return self._handover(start, starts, lineno - pending_rows, start + len(buf), taken)
                carry = buf
                continue
            block, carry = buf[:cut], buf[cut:]
            if not block:
                break
            table, line_starts = self._clean_block(block, start, limit)
            if table is None or (pending and not table.schema.equals(pending[0].schema)):
                return self._handover(start, starts, lineno - pending_rows, start + len(block), taken)
            taken = True
            pending.append(table)
            starts.append(line_starts)
            pending_rows += table.num_rows
            lineno += table.num_rows
            self.seen_rows += table.num_rows
            self.checked = True
            start += len(block)
            while pending_rows >= batch:
                rows = pa.concat_tables(pending) if len(pending) > 1 else pending[0]
                yield rows.slice(0, batch), []
                rest = rows.slice(batch)
                pending = [rest] if rest.num_rows else []
                offsets = np.concatenate(starts)[batch:]
                starts = [offsets] if len(offsets) else []
                pending_rows -= batch
        if pending:
            yield (pa.concat_tables(pending) if len(pending) > 1 else pending[0]), []
        return None

    def _handover(self, start: int, starts: list[Any], first_line: int, until: int, taken: bool) -> tuple[int, int, int, bool]:
        return (int(starts[0][0]) if starts else start), first_line, until, taken

    def _clean_block(self, block: bytes, offset: int, limit: int) -> tuple[pa.Table | None, Any]:
        """The block as a table, and each line's file offset; (None, None) if any line of it needs
        the line reader."""
        import numpy as np
        import polars as pl
        import pyarrow.compute as pc
        import pyarrow.json as pj

        bom = offset == 0 and block.startswith(b"\xef\xbb\xbf")
        body = block[3:] if bom else block
        raw = np.frombuffer(body, np.uint8)
        ends = np.flatnonzero(raw == 10)
        if len(ends) and ends[-1] == len(body) - 1:
            line_ends = ends
        else:
            line_ends = np.append(ends, len(body))  # the last line has no line end
        line_starts = np.concatenate(([0], line_ends[:-1] + 1))
        if not len(line_ends) or int(np.max(line_ends - line_starts)) >= limit:
            return None, None
        # Every line must open an object ('{' first): a blank line or a top-level value is the
        # line reader's (and pyarrow 26 crashes on a block whose first value is a bare null).
        if len(body) == 0 or line_starts[-1] >= len(body) or not np.all(raw[line_starts] == ord("{")):
            return None, None
        try:
            table = pj.read_json(pa.BufferReader(body), read_options=pj.ReadOptions(block_size=max(1 << 16, len(body) // 4 + 1)))
            table.validate(full=True)  # Arrow's JSON parser passes invalid UTF-8 through
            str(table.schema)  # field names too
        except Exception:  # any parse problem: the line reader finds and quarantines it
            return None, None
        tf = self.opts.text_field
        if table.num_rows != len(line_ends) or (tf and self.opts.require_text and tf not in table.column_names):
            return None, None
        for col in table.columns:
            if col.null_count or not (pa.types.is_string(col.type) or pa.types.is_int64(col.type) or pa.types.is_boolean(col.type)):
                return None, None
        table = table.combine_chunks()
        if tf and self.opts.require_text:
            text = table.column(tf)
            if not pa.types.is_string(text.type):
                return None, None
            if pc.max(pc.utf8_length(text)).as_py() > self.opts.max_text_chars:
                return None, None
            blank = ~pl.Series(text.chunk(0) if text.num_chunks else text).str.contains(f"[^{''.join(_PY_SPACE)}]")
            if blank.any():
                return None, None
        if self.opts.id_field:
            from curate.io.rows import _fill_ids

            table = _fill_ids(table, self.opts)
        return table, line_starts + offset + (3 if bom else 0)

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


READERS.register("jsonl")(Reader("jsonl", JSONL_SUFFIXES, _read_jsonl))
