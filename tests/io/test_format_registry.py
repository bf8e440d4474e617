"""Readers and writers are registries: a format registered like the built-ins is found by its suffix."""

import json

import pyarrow as pa

from curate.io import read_table
from curate.io.formats import READERS, WRITERS, Reader, reader_name
from curate.io.rows import ReadOptions, rows_to_table


def _read_lines(source, opts):
    rows = [{"id": f"l{i}", "text": line} for i, line in enumerate(open(source, encoding="utf-8").read().splitlines()) if line.strip()]
    yield rows_to_table(rows), []


def test_builtins_are_registered_by_name_and_suffix():
    assert {"parquet", "jsonl", "csv", "arrow", "hf_dataset"} <= set(READERS.names())
    assert {"jsonl", "parquet"} <= set(WRITERS.names())
    assert reader_name("x.jsonl.gz") == "jsonl" and reader_name("x.tsv.gz") == "csv" and reader_name("x.PQ") == "parquet"
    assert reader_name("x.unknown") == "unknown"


def test_a_registered_reader_reads_its_files_in_folders_too(tmp_path):
    READERS.register("lines")(Reader("lines", (".lines",), _read_lines))
    try:
        (tmp_path / "a.lines").write_text("first text\nsecond text\n")
        (tmp_path / "b.jsonl").write_text(json.dumps({"id": "j0", "text": "json text"}) + "\n")
        table, rejects = read_table([str(tmp_path)], ReadOptions())
        assert sorted(table.column("id").to_pylist()) == ["j0", "l0", "l1"] and rejects == []
    finally:
        READERS._items.pop("lines")


def test_writers_open_the_sink_for_the_format(tmp_path):
    from curate.io import open_sink

    for name in ("o.jsonl", "o.parquet", "shards"):
        sink = open_sink(str(tmp_path / name), None)
        sink.write(pa.table({"id": ["a"], "text": ["x"]}))
        sink.close()
    assert (
        (tmp_path / "o.jsonl").read_text().strip() and (tmp_path / "o.parquet").stat().st_size and list((tmp_path / "shards").glob("part-*.parquet"))
    )
