"""Readers and writers: every input and output format, round trips, ids, kept columns, bad input."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import sys
import threading
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from curate.errors import InputError, UsageError
from curate.io import Format, ReadOptions, RejectWriter, conform, expand_inputs, input_hashes, open_sink, read_batches, read_table, unify_schemas
from curate.io.readers import content_id

ROWS = [
    {"id": "a", "text": "The cat sat on the mat.", "answer": "5", "level": 1},
    {"id": "b", "text": "Gradient descent minimises a loss.", "answer": "7", "level": 3},
    {"id": "c", "text": "What is 2 + 3?", "answer": "5", "level": 1},
]


def write_jsonl(path: Path, rows, gz: bool = False) -> Path:
    data = "".join(json.dumps(r) + "\n" for r in rows).encode()
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def write_raw(path: Path, data: bytes | str) -> Path:
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def reasons(rejects) -> list[str]:
    return [r.reason for r in rejects]


def use_stdin(monkeypatch, data: bytes) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))


# --------------------------------------------------------------------------- every input format


@pytest.mark.parametrize("name,gz", [("d.jsonl", False), ("d.ndjson", False), ("d.json", False), ("d.jsonl.gz", True), ("d.json.gz", True)])
def test_jsonl_plain_and_gzip(tmp_path, name, gz):
    table, rejects = read_table(str(write_jsonl(tmp_path / name, ROWS, gz=gz)))
    assert rejects == []
    assert table.to_pylist() == ROWS


def test_parquet_file_directory_and_glob(tmp_path):
    d = tmp_path / "shards"
    d.mkdir()
    pq.write_table(pa.Table.from_pylist(ROWS[:2]), d / "part-0.parquet")
    pq.write_table(pa.Table.from_pylist(ROWS[2:]), d / "part-1.parquet")
    (d / "manifest.json").write_text('{"rows": 3}')  # beside the shards, not data
    assert read_table(str(d / "part-0.parquet"))[0].to_pylist() == ROWS[:2]
    assert read_table(str(d))[0].to_pylist() == ROWS
    assert read_table(str(d / "part-*.parquet"))[0].to_pylist() == ROWS
    assert read_table([str(d / "part-1.parquet"), str(d / "part-0.parquet")])[0].to_pylist() == ROWS[2:] + ROWS[:2]


@pytest.mark.parametrize("name,sep", [("d.csv", ","), ("d.tsv", "\t")])
def test_csv_and_tsv(tmp_path, name, sep):
    lines = [sep.join(["id", "text", "answer", "level"])]
    lines += [sep.join([r["id"], r["text"], r["answer"], str(r["level"])]) for r in ROWS]
    table, rejects = read_table(str(write_raw(tmp_path / name, "\n".join(lines) + "\n")))
    assert rejects == []
    # the text column is always a string; other columns keep CSV type inference
    assert table.column("text").to_pylist() == [r["text"] for r in ROWS]
    assert table.column("level").to_pylist() == [1, 3, 1]


def test_csv_gz_and_quoted_newlines(tmp_path):
    data = 'id,text\n1,"two\nlines, and a comma"\n2,plain\n'
    table, rejects = read_table(str(write_raw(tmp_path / "d.csv.gz", gzip.compress(data.encode()))))
    assert rejects == []
    assert table.column("text").to_pylist() == ["two\nlines, and a comma", "plain"]


def test_saved_hf_dataset_and_dataset_dict(tmp_path):
    datasets = pytest.importorskip("datasets")
    ds = datasets.Dataset.from_list(ROWS)
    ds.save_to_disk(str(tmp_path / "ds"))
    table, rejects = read_table(str(tmp_path / "ds"))
    assert rejects == [] and table.to_pylist() == ROWS
    dd = datasets.DatasetDict({"train": datasets.Dataset.from_list(ROWS[:2]), "test": datasets.Dataset.from_list(ROWS[2:])})
    dd.save_to_disk(str(tmp_path / "dd"))
    table, rejects = read_table(str(tmp_path / "dd"))
    assert rejects == [] and sorted(table.column("id").to_pylist()) == ["a", "b", "c"]
    # a saved dataset inside a folder is read as a dataset, never its state.json as JSON lines
    assert read_table(str(tmp_path))[0].num_rows == 6


def test_stdin_jsonl_plain_and_gzipped(monkeypatch):
    data = "".join(json.dumps(r) + "\n" for r in ROWS).encode()
    use_stdin(monkeypatch, data)
    assert read_table("-")[0].to_pylist() == ROWS
    use_stdin(monkeypatch, gzip.compress(data))
    assert read_table("-")[0].to_pylist() == ROWS


def test_json_array_document_bom_and_crlf(tmp_path):
    p = write_raw(tmp_path / "arr.json", "\ufeff" + json.dumps(ROWS, indent=2))
    assert read_table(str(p))[0].to_pylist() == ROWS
    p = write_raw(tmp_path / "crlf.jsonl", "\ufeff" + "".join(json.dumps(r) + "\r\n" for r in ROWS))
    table, rejects = read_table(str(p))
    assert rejects == [] and table.to_pylist() == ROWS


def test_batches_are_bounded_by_batch_rows(tmp_path):
    rows = [{"text": f"row {i}"} for i in range(25)]
    p = write_jsonl(tmp_path / "d.jsonl", rows)
    sizes = [t.num_rows for t, _ in read_batches(str(p), ReadOptions(batch_rows=10))]
    assert sizes == [10, 10, 5]


# --------------------------------------------------------------------------- ids and columns


def test_all_columns_kept_including_nested(tmp_path):
    rows = [{"text": "x", "meta": {"a": 1, "b": [1, 2]}, "tags": ["p", "q"], "score": 0.5, "ok": True}]
    table, _ = read_table(str(write_jsonl(tmp_path / "d.jsonl", rows)))
    got = table.to_pylist()[0]
    assert {k: got[k] for k in rows[0]} == rows[0]
    assert set(table.column_names) == {"text", "meta", "tags", "score", "ok", "id"}


def test_missing_ids_get_stable_content_ids(tmp_path):
    rows = [{"text": "alpha", "n": 1}, {"text": "beta", "n": 2, "id": "keep-me"}, {"text": "gamma", "n": 3, "id": None}]
    p = write_jsonl(tmp_path / "d.jsonl", rows)
    ids = read_table(str(p))[0].column("id").to_pylist()
    assert ids[1] == "keep-me"
    assert ids[0].startswith("h") and ids[2].startswith("h") and ids[0] != ids[2]
    # same content → same id, whatever the position, the batch size or the file format
    assert read_table(str(p), ReadOptions(batch_rows=1))[0].column("id").to_pylist() == ids
    rev = write_jsonl(tmp_path / "r.jsonl", rows[::-1])
    assert read_table(str(rev))[0].column("id").to_pylist() == ids[::-1]
    pq.write_table(pa.Table.from_pylist([{"text": "alpha", "n": 1}]), tmp_path / "p.parquet")
    assert read_table(str(tmp_path / "p.parquet"))[0].column("id").to_pylist() == [ids[0]]
    assert ids[0] == content_id({"text": "alpha", "n": 1}, "id")


def test_integer_ids_with_gaps_become_strings(tmp_path):
    pq.write_table(pa.table({"id": pa.array([7, None], pa.int64()), "text": ["a", "b"]}), tmp_path / "p.parquet")
    ids = read_table(str(tmp_path / "p.parquet"))[0].column("id").to_pylist()
    assert ids[0] == "7" and ids[1].startswith("h")


def test_custom_text_and_id_fields(tmp_path):
    rows = [{"question": "What is 1 + 1?", "qid": 9}]
    table, _ = read_table(str(write_jsonl(tmp_path / "d.jsonl", rows)), ReadOptions(text_field="question", id_field="qid"))
    assert table.to_pylist() == rows


def test_heterogeneous_keys_and_types_across_batches(tmp_path):
    rows = [
        {"text": "a", "answer": 1},
        {"text": "b", "answer": 2},
        {"text": "c", "answer": "three", "extra": [1]},
        {"text": "d", "answer": 4.5, "late": {"k": "v"}},
        {"text": "e"},
    ]
    p = write_jsonl(tmp_path / "d.jsonl", rows)
    batches = [t for t, _ in read_batches(str(p), ReadOptions(batch_rows=2))]
    assert len(batches) == 3
    table, rejects = read_table(str(p), ReadOptions(batch_rows=2))
    assert rejects == []
    assert table.column("answer").to_pylist() == ["1", "2", "three", "4.5", None]
    assert table.column("extra").to_pylist() == [None, None, [1], None, None]
    assert table.column("late").to_pylist() == [None, None, None, {"k": "v"}, None]
    # within one batch, a key that only a later row has is still a column
    table, _ = read_table(str(p), ReadOptions(batch_rows=100))
    assert set(table.column_names) >= {"extra", "late"}


def test_files_with_different_columns_read_as_one_table(tmp_path):
    write_jsonl(tmp_path / "a.jsonl", [{"text": "x", "answer": "1"}])
    write_jsonl(tmp_path / "b.jsonl", [{"text": "y", "test_list": ["assert f() == 1"]}])
    table, _ = read_table(str(tmp_path))
    assert table.column("answer").to_pylist() == ["1", None]
    assert table.column("test_list").to_pylist() == [None, ["assert f() == 1"]]


def test_big_integers_and_nan_are_read_not_rejected(tmp_path):
    p = write_raw(tmp_path / "d.jsonl", '{"text": "a", "n": 123456789012345678901234567890}\n{"text": "b", "x": NaN}\n')
    table, rejects = read_table(str(p))
    assert rejects == [] and table.num_rows == 2
    # integers beyond 64 bits are kept, not rejected, and exact: as decimal strings
    assert table.column("n").to_pylist()[0] == "123456789012345678901234567890"


# --------------------------------------------------------------------------- bad rows → rejects


def test_bad_jsonl_rows_are_rejected_with_reason_and_line(tmp_path):
    lines = [
        json.dumps({"id": "ok", "text": "fine"}),
        "{not json",
        json.dumps({"text": None}),
        json.dumps({"text": ""}),
        json.dumps({"text": "   \n\t"}),
        json.dumps({"text": 42}),
        json.dumps({"text": ["a"]}),
        json.dumps([1, 2]),
        '"just a string"',
        json.dumps({"other": "no text key"}),
        '{"text": "lone \\ud800 surrogate"}',
        "",
        json.dumps({"text": "x" * 101}),
    ]
    data = "\n".join(lines).encode() + b"\n" + b'{"text": "bad \xff byte"}\n'
    table, rejects = read_table(str(write_raw(tmp_path / "d.jsonl", data)), ReadOptions(max_text_chars=100))
    assert table.column("id").to_pylist() == ["ok"]
    by_line = {r.line: r.reason for r in rejects}
    assert by_line[2].startswith("malformed JSON: ") and "column" in by_line[2]
    assert by_line[3] == "null text"
    assert by_line[4] == by_line[5] == "empty text"
    assert by_line[6] == "text is not a string (got int)"
    assert by_line[7] == "text is not a string (got list)"
    assert by_line[8].startswith("not a JSON object") and by_line[9].startswith("not a JSON object")
    assert by_line[10] == "missing text field 'text'"
    assert by_line[11].startswith("invalid UTF-8: a lone surrogate")
    assert by_line[13].startswith("text too long (101 chars > --max-text-chars 100)")
    assert by_line[14].startswith("invalid UTF-8: ")
    assert 12 not in by_line  # a blank line is neither a row nor a reject
    assert len(rejects) == 12
    rec = next(r for r in rejects if r.line == 2).to_record()
    assert rec["raw"] == "{not json" and rec["reject_source"].endswith("d.jsonl:2")


def test_absurdly_long_line_is_rejected_unread_and_reading_goes_on(tmp_path):
    long = json.dumps({"text": "y" * 50_000})
    data = f'{{"text": "before"}}\n{long}\n{{"text": "after"}}\n'
    opts = ReadOptions(max_line_bytes=10_000)
    table, rejects = read_table(str(write_raw(tmp_path / "d.jsonl", data)), opts)
    assert table.column("text").to_pylist() == ["before", "after"]
    assert len(rejects) == 1 and rejects[0].line == 2 and rejects[0].reason.startswith("line too long: ")
    assert len(rejects[0].raw) <= 200


def test_bad_parquet_and_csv_rows_are_rejected(tmp_path):
    pq.write_table(pa.table({"id": ["1", "2", "3", "4"], "text": ["ok", None, "  ", "z" * 20]}), tmp_path / "p.parquet")
    table, rejects = read_table(str(tmp_path / "p.parquet"), ReadOptions(max_text_chars=10))
    assert table.column("id").to_pylist() == ["1"]
    assert [(r.line, r.reason.split(" (")[0]) for r in rejects] == [(2, "null text"), (3, "empty text"), (4, "text too long")]
    csv = b"id,text\n1,good\n2,\n3,bad \xff utf8\n4,too,many,fields\n5,fine\n"
    table, rejects = read_table(str(write_raw(tmp_path / "d.csv", csv)))
    assert table.column("text").to_pylist() == ["good", "fine"]
    assert sorted(r.reason.split(":")[0] for r in rejects) == ["empty text", "invalid UTF-8", "malformed CSV row"]


def test_malformed_csv_row_with_invalid_utf8_is_a_reject_not_a_failure(tmp_path, capfd):
    p = write_raw(tmp_path / "d.csv", b"id,text\n1,ok\n2,a\xe5b\n3,a,b\xe5\n4,fine\n")
    table, rejects = read_table(str(p))
    assert table.column("text").to_pylist() == ["ok", "fine"]
    assert sorted(r.reason.split(":")[0] for r in rejects) == ["invalid UTF-8", "malformed CSV row"]
    assert "Traceback" not in capfd.readouterr().err


def test_non_string_text_columns(tmp_path):
    pq.write_table(pa.table({"text": pa.array([1, 2])}), tmp_path / "ints.parquet")
    table, rejects = read_table(str(tmp_path / "ints.parquet"))
    assert table.num_rows == 0 and [r.reason for r in rejects] == ["text is not a string (column type int64)"] * 2
    pq.write_table(pa.table({"text": pa.array([b"bytes ok", b"\xff\xfe"], pa.binary())}), tmp_path / "bin.parquet")
    table, rejects = read_table(str(tmp_path / "bin.parquet"))
    assert table.column("text").to_pylist() == ["bytes ok"] and rejects[0].reason.startswith("invalid UTF-8")
    pq.write_table(pa.table({"text": pa.array(["a", "b", "a"]).dictionary_encode()}), tmp_path / "dict.parquet")
    assert read_table(str(tmp_path / "dict.parquet"))[0].column("text").to_pylist() == ["a", "b", "a"]


def test_csv_column_changing_type_midway_is_read_as_strings(tmp_path):
    # more than one 1 MiB block, so the types are inferred before the odd value shows up
    n = 90_000
    lines = ["id,text,n"] + [f"{i},row {i},{i}" for i in range(n)] + [f"{n},last,not-a-number"] + [f"{n + 1},after,7"]
    p = write_raw(tmp_path / "d.csv", "\n".join(lines) + "\n")
    batches = list(read_batches(str(p), ReadOptions(batch_rows=10_000)))
    assert batches[0][0].schema.field("n").type == pa.int64()
    table, rejects = read_table(str(p))
    assert rejects == [] and table.num_rows == n + 2
    assert table.column("n").to_pylist()[-2:] == ["not-a-number", "7"] and table.column("n").to_pylist()[:2] == ["0", "1"]
    assert table.column("text").to_pylist()[-3:] == [f"row {n - 1}", "last", "after"]
    assert len(set(table.column("text").to_pylist())) == n + 2, "no row delivered twice"


# --------------------------------------------------------------------------- bad inputs → InputError


def assert_input_error(fn, *needles: str) -> InputError:
    with pytest.raises(InputError) as ei:
        fn()
    msg = str(ei.value)
    for n in needles:
        assert n in msg, msg
    assert ei.value.fix, "every InputError says how to fix it"
    return ei.value


def test_missing_text_column_names_existing_columns(tmp_path):
    p = write_jsonl(tmp_path / "d.jsonl", [{"question": "q", "answer": "a"}])
    assert_input_error(lambda: read_table(str(p)), "no field 'text'", "question, answer", "--text-field")
    pq.write_table(pa.table({"body": ["x"], "label": [1]}), tmp_path / "p.parquet")
    assert_input_error(lambda: read_table(str(tmp_path / "p.parquet")), "no column 'text'", "body, label")
    write_raw(tmp_path / "c.csv", "body,label\nx,1\n")
    assert_input_error(lambda: read_table(str(tmp_path / "c.csv")), "no column 'text'", "body, label")
    datasets = pytest.importorskip("datasets")
    datasets.Dataset.from_list([{"body": "x"}]).save_to_disk(str(tmp_path / "ds"))
    assert_input_error(lambda: read_table(str(tmp_path / "ds")), "no column 'text'", "body")


def test_truncated_and_corrupt_gzip(tmp_path):
    blob = gzip.compress(("".join(json.dumps({"text": f"row {i} " * 20}) + "\n" for i in range(2000))).encode())
    p = write_raw(tmp_path / "t.jsonl.gz", blob[: len(blob) // 2])
    assert_input_error(lambda: read_table(str(p)), "truncated or corrupt")
    p = write_raw(tmp_path / "c.jsonl.gz", blob[:20] + b"\x00" * 200 + blob[220:])
    assert_input_error(lambda: read_table(str(p)), "truncated or corrupt")


def test_empty_inputs(tmp_path, monkeypatch):
    for name in ("e.jsonl", "e.csv", "e.parquet", "e.jsonl.gz"):
        p = write_raw(tmp_path / name, b"" if not name.endswith(".gz") else gzip.compress(b""))
        assert_input_error(lambda p=p: read_table(str(p)), "empty")
    p = write_raw(tmp_path / "blank.jsonl", "\n  \n\n")
    assert_input_error(lambda: read_table(str(p)), "no rows")
    use_stdin(monkeypatch, b"")
    assert_input_error(lambda: read_table("-"), "<stdin>", "empty")


def test_directory_skips_rejects_files_and_globs_expand_directories(tmp_path):
    write_jsonl(tmp_path / "scored.jsonl", ROWS)
    write_jsonl(tmp_path / "scored.rejects.jsonl", [{"text": "bad", "reject_reason": "empty text"}])
    assert expand_inputs(str(tmp_path)) == [str(tmp_path / "scored.jsonl")]
    (tmp_path / "runs" / "a").mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist(ROWS), tmp_path / "runs" / "a" / "part-0.parquet")
    assert read_table(str(tmp_path / "runs" / "*"))[0].to_pylist() == ROWS


def test_parquet_on_stdin_is_a_clear_error(tmp_path, monkeypatch):
    pq.write_table(pa.Table.from_pylist(ROWS), tmp_path / "p.parquet")
    use_stdin(monkeypatch, (tmp_path / "p.parquet").read_bytes())
    assert_input_error(lambda: read_table("-"), "Parquet")


def test_missing_paths_dirs_and_globs(tmp_path):
    assert_input_error(lambda: expand_inputs(str(tmp_path / "nope.jsonl")), "does not exist")
    (tmp_path / "empty_dir").mkdir()
    (tmp_path / "empty_dir" / "notes.txt").write_text("hi")
    assert_input_error(lambda: expand_inputs(str(tmp_path / "empty_dir")), "no readable data files")
    assert_input_error(lambda: expand_inputs(str(tmp_path / "*.parquet")), "matches no files")
    assert_input_error(lambda: expand_inputs(str(tmp_path / "empty_dir" / "*")), "no data files")
    write_raw(tmp_path / "data.xyz", "x")
    assert_input_error(lambda: read_table(str(tmp_path / "data.xyz")), "cannot tell the format")


def test_corrupt_parquet(tmp_path):
    pq.write_table(pa.table({"text": ["x" * 100] * 100}), tmp_path / "p.parquet")
    data = (tmp_path / "p.parquet").read_bytes()
    write_raw(tmp_path / "cut.parquet", data[: len(data) // 2])
    assert_input_error(lambda: read_table(str(tmp_path / "cut.parquet")), "cannot read Parquet")


def test_input_hashes(tmp_path):
    p = write_jsonl(tmp_path / "d.jsonl", ROWS)
    h = input_hashes([str(p), "-"])
    assert h["-"] == "stdin" and h[str(p)] == "sha256:" + hashlib.sha256(p.read_bytes()).hexdigest()
    stop = threading.Event()
    stop.set()
    assert input_hashes([str(p)], stop) == {}  # stopped: nothing hashed is reported as complete


# --------------------------------------------------------------------------- outputs


def table_of(rows) -> pa.Table:
    return pa.Table.from_pylist(rows)


def test_jsonl_to_stdout(capsysbinary):
    sink = open_sink("-", None)
    sink.write(table_of(ROWS))
    info = sink.close()
    out = capsysbinary.readouterr().out
    assert [json.loads(x) for x in out.splitlines()] == ROWS and info["rows"] == 3 and info["files"] == []


@pytest.mark.parametrize("name", ["o.jsonl", "o.jsonl.gz", "o.ndjson.gz", "o.parquet"])
def test_file_outputs_round_trip_and_are_deterministic(tmp_path, name):
    digests = []
    for run in range(2):
        dest = tmp_path / f"run{run}" / name
        sink = open_sink(str(dest), table_of(ROWS).schema)
        sink.write(table_of(ROWS[:2]))
        sink.write(table_of(ROWS[2:]))
        info = sink.close()
        assert info == {"path": str(dest), "rows": 3, "files": [str(dest)]}
        assert read_table(str(dest))[0].to_pylist() == ROWS
        digests.append(dest.read_bytes())
        assert [p.name for p in dest.parent.iterdir()] == [name], "no temporary files left behind"
    assert digests[0] == digests[1]


def test_directory_of_shards(tmp_path):
    rows = [{"id": str(i), "text": f"t{i}"} for i in range(25)]
    dest = tmp_path / "out"
    sink = open_sink(str(dest), table_of(rows).schema, rows_per_shard=10)
    for i in range(0, 25, 7):
        sink.write(table_of(rows[i : i + 7]))
    info = sink.close()
    names = sorted(p.name for p in dest.iterdir())
    assert names == ["part-00000-of-00003.parquet", "part-00001-of-00003.parquet", "part-00002-of-00003.parquet"]
    assert [pq.ParquetFile(dest / n).metadata.num_rows for n in names] == [10, 10, 5]
    assert info["rows"] == 25 and read_table(str(dest))[0].to_pylist() == rows
    # writing again replaces the old shard set
    sink = open_sink(str(dest), table_of(rows).schema, rows_per_shard=100)
    sink.write(table_of(rows))
    sink.close()
    assert sorted(p.name for p in dest.iterdir()) == ["part-00000-of-00001.parquet"]


def test_empty_output_still_has_schema(tmp_path):
    schema = pa.schema([("id", pa.string()), ("text", pa.string())])
    for dest in (tmp_path / "e.parquet", tmp_path / "edir"):
        sink = open_sink(str(dest), schema)
        assert sink.close()["rows"] == 0
        assert pq.read_table(str(dest)).schema.names == ["id", "text"]


def test_sinks_widen_types_and_add_columns(tmp_path):
    first = pa.table({"id": ["1"], "text": ["a"], "answer": pa.array([5], pa.int64())})
    second = pa.table({"id": ["2"], "text": ["b"], "answer": ["five"], "new": [[1, 2]]})
    for dest, per_shard in ((tmp_path / "w.parquet", 1), (tmp_path / "wdir", 1), (tmp_path / "wdir2", 10)):
        sink = open_sink(str(dest), first.schema, rows_per_shard=per_shard)
        sink.write(first)
        sink.write(second)
        sink.close()
        got = read_table(str(dest))[0]
        assert got.column("answer").to_pylist() == ["5", "five"]
        assert got.column("new").to_pylist() == [None, [1, 2]]
        if dest.is_dir():
            schemas = {str(pq.read_schema(p)) for p in dest.iterdir()}
            assert len(schemas) == 1, "every shard has the same schema"
    # the usual case costs nothing: int into a float column just casts
    sink = open_sink(str(tmp_path / "f.parquet"), pa.schema([("text", pa.string()), ("x", pa.float64())]))
    sink.write(pa.table({"text": ["a"], "x": pa.array([1], pa.int64())}))
    sink.close()
    assert pq.read_schema(tmp_path / "f.parquet").field("x").type == pa.float64()


def test_abort_leaves_nothing(tmp_path):
    for name in ("a.parquet", "adir", "a.jsonl"):
        sink = open_sink(str(tmp_path / name), table_of(ROWS).schema)
        sink.write(table_of(ROWS))
        sink.abort()
    assert list(tmp_path.iterdir()) == []


def test_output_format_choices_and_errors(tmp_path):
    with pytest.raises(UsageError):
        open_sink(str(tmp_path / "out.csv"), None)
    with pytest.raises(UsageError):
        open_sink("-", None, Format.parquet)
    (tmp_path / "afile").write_text("x")
    with pytest.raises(UsageError):
        open_sink(str(tmp_path / "afile"), None, Format.parquet)
    (tmp_path / "adir").mkdir()
    with pytest.raises(UsageError):
        open_sink(str(tmp_path / "adir"), None, Format.jsonl)
    # --format overrides the name
    sink = open_sink(str(tmp_path / "x.data"), None, Format.jsonl)
    sink.write(table_of(ROWS))
    sink.close()
    assert (tmp_path / "x.data").read_text().count("\n") == 3


def test_reject_writer(tmp_path):
    p = write_raw(tmp_path / "d.jsonl", '{"text": "ok"}\n{oops\n{"text": ""}\n')
    _, rejects = read_table(str(p))
    w = RejectWriter(str(tmp_path / "rej" / "rejects.jsonl"))
    w.write(rejects)
    w.close()
    recs = [json.loads(x) for x in (tmp_path / "rej" / "rejects.jsonl").read_text().splitlines()]
    assert [r["reject_source"].rsplit(":", 1)[1] for r in recs] == ["2", "3"]
    assert w.count == 2 and w.reasons == {"malformed JSON": 1, "empty text": 1}
    assert RejectWriter(None).path is None  # counting only
    assert not (tmp_path / "never.jsonl").exists()


# --------------------------------------------------------------------------- schema helpers


def test_unify_and_conform():
    s = unify_schemas(
        [
            pa.schema([("a", pa.int64()), ("b", pa.null())]),
            pa.schema([("a", pa.float64()), ("b", pa.string()), ("c", pa.list_(pa.int64()))]),
            pa.schema([("c", pa.list_(pa.string()))]),
        ]
    )
    assert [(f.name, f.type) for f in s] == [("a", pa.float64()), ("b", pa.string()), ("c", pa.string())]
    t = conform(pa.table({"c": pa.array([[1, 2]]), "zz": [1]}), s)
    assert t.schema.names == ["a", "b", "c"] and t.to_pylist() == [{"a": None, "b": None, "c": "[1,2]"}]
    with pytest.raises(InputError):
        conform(pa.table({"a": ["not a number"]}), pa.schema([("a", pa.int64())]))


def test_sample_data_reads_cleanly():
    table, rejects = read_table("sample_data/")
    assert rejects == [] and table.num_rows >= 300
    assert set(table.column("task_type").to_pylist()) == {"math", "code", "mc", "text"}


def test_reading_without_a_text_field(tmp_path):
    """Stages that only reorder rows read with text_field=None: nothing is checked or rejected for text."""
    rows = [{"id": "1", "text": None}, {"id": "2", "n": 5}]
    p = write_jsonl(tmp_path / "d.jsonl", rows)
    for opts in (ReadOptions(text_field=None), ReadOptions(require_text=False)):
        table, rejects = read_table(str(p), opts)
        assert rejects == [] and table.column("id").to_pylist() == ["1", "2"]
    pq.write_table(pa.table({"id": ["1"], "body": ["x"]}), tmp_path / "p.parquet")
    write_raw(tmp_path / "c.csv", "id,body\n1,x\n")
    for name in ("p.parquet", "c.csv"):
        table, rejects = read_table(str(tmp_path / name), ReadOptions(text_field=None))
        assert rejects == [] and table.column("body").to_pylist() == ["x"]
