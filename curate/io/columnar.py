"""Columnar inputs: Parquet files, Arrow IPC files, and folders written by `datasets.save_to_disk`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa

from curate.errors import InputError
from curate.io.formats import READERS, Reader
from curate.io.inputs import PARQUET_SUFFIXES, _empty_file, is_stream
from curate.io.rows import ReadOptions, Reject, _check_columns, _validate_table


def _read_parquet(source: str, opts: ReadOptions) -> Iterator[tuple[pa.Table, list[Reject]]]:
    import pyarrow.parquet as pq

    _seekable(source, "Parquet")
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


def _seekable(source: str, kind: str) -> None:
    if is_stream(source):
        raise InputError(f"'{source}' is a stream, but {kind} needs a file it can seek in", "save it to a file first, or stream JSON Lines instead")


def _read_arrow_stream(path: str) -> Iterator[pa.RecordBatch]:
    import pyarrow.ipc as ipc

    _seekable(path, "Arrow")
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


def _is_hf_dir(path: Path) -> bool:
    from curate.io.inputs import _is_hf_dataset_dir

    return _is_hf_dataset_dir(path)


READERS.register("parquet")(Reader("parquet", PARQUET_SUFFIXES, _read_parquet))
READERS.register("arrow")(Reader("arrow", (".arrow",), _read_arrow))
READERS.register("hf_dataset")(Reader("hf_dataset", (), _read_hf_dir, matches_dir=_is_hf_dir))
