"""CSV and TSV (plain or gzip), streamed in blocks with pyarrow."""

from __future__ import annotations

import io
import sys
import zlib
from collections.abc import Iterator
from typing import Any

import pyarrow as pa

from curate.errors import InputError
from curate.io.formats import READERS, Reader
from curate.io.inputs import CSV_SUFFIXES, _empty_file, _open_binary, is_stream
from curate.io.rows import RAW_PREVIEW_CHARS, ReadOptions, Reject, _check_columns, _safe_str, _utf8_rejects, _validate_table


class _Utf8Replacing(io.RawIOBase):
    """A byte stream with invalid UTF-8 replaced by U+FFFD (for CSV files pyarrow cannot parse as is)."""

    def __init__(self, fh: Any):
        import codecs

        self._fh = fh
        self._dec = codecs.getincrementaldecoder("utf-8")("replace")
        self._buf = b""
        self._eof = False

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        while not self._buf and not self._eof:
            chunk = self._fh.read(1 << 20)
            self._eof = not chunk
            self._buf = self._dec.decode(chunk, final=self._eof).encode("utf-8")
        n = min(len(b), len(self._buf))
        b[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        return n

    def close(self) -> None:
        self._fh.close()
        super().close()


def _quiet_unraisable(seen: list[BaseException | None]) -> Any:
    """pyarrow reports a failing CSV row callback as an 'Exception ignored' traceback on stderr: record it instead."""
    import contextlib

    @contextlib.contextmanager
    def ctx() -> Iterator[None]:
        old = sys.unraisablehook
        sys.unraisablehook = lambda u: seen.append(u.exc_value)
        try:
            yield
        finally:
            sys.unraisablehook = old

    return ctx()


def _read_csv(source: str, opts: ReadOptions) -> Iterator[tuple[pa.Table, list[Reject]]]:
    handles: list[Any] = []  # files opened here for pyarrow (a stream, or the UTF-8-repairing wrapper)
    try:
        yield from _read_csv_blocks(source, opts, handles)
    finally:
        for fh in handles:
            fh.close()


def _read_csv_blocks(source: str, opts: ReadOptions, handles: list[Any]) -> Iterator[tuple[pa.Table, list[Reject]]]:
    """CSV/TSV in 1 MiB blocks. Types are inferred from the first block; if a later block does not
    fit them, or a malformed row is also invalid UTF-8 (which pyarrow cannot report), the file is
    re-read in a more forgiving mode, skipping the rows already delivered."""
    import pyarrow.csv as pcsv

    if _empty_file(source):
        raise InputError(f"'{source}' is empty", "pass a CSV file with a header row")
    delim = "\t" if source.lower().endswith((".tsv", ".tsv.gz")) else ","
    state = {"skip_invalid": 0, "invalid_seen": 0}
    bad_lines: list[Reject] = []
    callback_errors: list[BaseException | None] = []
    mode: dict[str, Any] = {"all_strings": None, "replace": False}

    def on_invalid(row: Any) -> str:
        state["invalid_seen"] += 1
        if state["invalid_seen"] > state["skip_invalid"]:
            reason = f"malformed CSV row: {row.expected_columns} columns expected, {row.actual_columns} found"
            bad_lines.append(Reject(reason, source, row.number, raw=_safe_str(row.text, RAW_PREVIEW_CHARS) if row.text else None))
        return "skip"

    def open_reader() -> Any:
        names = mode["all_strings"]
        types = {n: pa.string() for n in names} if names else ({opts.text_field: pa.string()} if opts.text_field else None)
        if mode["replace"]:
            src: Any = io.BufferedReader(_Utf8Replacing(_open_binary(source)))
            handles.append(src)
        elif is_stream(source):  # pyarrow seeks in a file it opens itself: a stream is handed over open
            src = _open_binary(source)
            handles.append(src)
        else:
            src = source
        with _quiet_unraisable(callback_errors):
            return pcsv.open_csv(
                src,
                read_options=pcsv.ReadOptions(block_size=1 << 20),
                parse_options=pcsv.ParseOptions(delimiter=delim, newlines_in_values=True, invalid_row_handler=on_invalid),
                convert_options=pcsv.ConvertOptions(column_types=types, strings_can_be_null=False, check_utf8=False),
            )

    def can_recover(exc: BaseException) -> bool:
        """Switch to replacing invalid UTF-8 when that is what broke pyarrow's row callback."""
        if mode["replace"] or not any(isinstance(e, UnicodeDecodeError) for e in callback_errors):
            return False
        mode["replace"] = True
        once_only(exc)
        return True

    def once_only(exc: BaseException) -> None:
        """A stream cannot be read again in the more forgiving mode."""
        if is_stream(source):
            raise InputError(
                f"CSV stream '{source}' needs a second, more forgiving pass ({exc}), and a stream can be read only once", "save it to a file first"
            ) from exc

    try:
        reader = open_reader()
    except (pa.ArrowInvalid, OSError, EOFError, zlib.error) as exc:
        if not can_recover(exc):
            raise InputError(
                f"cannot read CSV file '{source}': {exc}", "check the delimiter, header row, encoding (UTF-8) and that the file is complete"
            ) from exc
        bad_lines.clear()  # nothing was delivered yet: the second reading reports every malformed row afresh
        state["invalid_seen"] = 0
        reader = open_reader()
    try:
        names = reader.schema.names
    except UnicodeDecodeError as exc:
        raise InputError(f"the header row of CSV file '{source}' is not valid UTF-8", "save the file as UTF-8") from exc
    _check_columns(names, source, opts)
    row = 0  # data rows already yielded (good or rejected for their content)
    skip = 0  # rows to drop after a restart
    while True:
        try:
            with _quiet_unraisable(callback_errors):
                rb = reader.read_next_batch()
        except StopIteration:
            break
        except (OSError, EOFError, zlib.error) as exc:
            raise InputError(f"CSV file '{source}' is truncated or corrupt after row {row}: {exc}", "re-create the file") from exc
        except pa.ArrowInvalid as exc:
            if can_recover(exc):
                pass
            elif mode["all_strings"] is None:
                # A later block does not fit the types inferred from the first: re-read as strings.
                once_only(exc)
                mode["all_strings"] = names
            else:
                raise InputError(
                    f"cannot read CSV file '{source}' after row {row}: {exc}", "check the delimiter, quoting and that the file is complete"
                ) from exc
            state["skip_invalid"], state["invalid_seen"] = state["invalid_seen"], 0
            bad_lines = []
            skip = row
            reader = open_reader()
            continue
        t = pa.Table.from_batches([rb])
        if skip:
            drop = min(skip, t.num_rows)
            t, skip = t.slice(drop), skip - drop
            if not t.num_rows:
                continue
        for off in range(0, t.num_rows, opts.batch_rows):
            part = t.slice(off, opts.batch_rows)
            good, utf_rej = _utf8_rejects(part, source, row, replaced=mode["replace"])
            good, rej = _validate_table(good, source, opts, row)
            row += part.num_rows
            yield good, bad_lines + utf_rej + rej
            bad_lines = []
    if bad_lines:
        yield pa.table({}), bad_lines


READERS.register("csv")(Reader("csv", CSV_SUFFIXES, _read_csv))
