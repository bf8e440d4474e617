"""Column types that must survive reading: string views, integers beyond 64 bits, and duplicate ids counted."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq
import pytest

from curate.cli import app
from curate.io import ReadOptions, ReadStats, read_batches, read_table

BIG = 123456789012345678901234567890
U64 = 18446744073709551615


@pytest.mark.parametrize("typ", [pa.string_view(), pa.large_string()], ids=["string_view", "large_string"])
def test_view_and_large_text_columns_are_read(tmp_path, typ):
    t = pa.table({"id": ["a", "b", "c"], "text": pa.array(["foo bar", "baz", " "], typ), "src": pa.array(["x", "y", "z"], pa.string_view())})
    pq.write_table(t, tmp_path / "v.parquet")
    with ipc.new_file(str(tmp_path / "v.arrow"), t.schema) as w:
        w.write_table(t)
    for name in ("v.parquet", "v.arrow"):
        table, rejects = read_table(str(tmp_path / name))
        assert table.column("text").to_pylist() == ["foo bar", "baz"], name
        assert table.column("src").to_pylist() == ["x", "y"], name
        assert [r.reason for r in rejects] == ["empty text"], name


def test_score_accepts_a_string_view_text_column(runner, tmp_path):
    pq.write_table(pa.table({"id": ["a", "b"], "text": pa.array(["foo bar", "baz qux quux"], pa.string_view())}), tmp_path / "v.parquet")
    out = tmp_path / "scored.parquet"
    res = runner.invoke(app, ["score", str(tmp_path / "v.parquet"), "-s", "length", "-j", "1", "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert pq.read_table(out).column("score_length_words").to_pylist() == [2, 3]


def big_jsonl(path):
    rows = [
        {"id": "a", "text": "one", "n": 5},
        {"id": "b", "text": "two", "n": BIG},
        {"id": "c", "text": "three", "n": U64},
        {"id": "d", "text": "four", "n": -(2**63) - 1},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@pytest.mark.parametrize("batch_rows", [1, 100])
def test_integers_beyond_64_bits_are_kept_exact_as_strings(tmp_path, batch_rows):
    table, _ = read_table(str(big_jsonl(tmp_path / "big.jsonl")), ReadOptions(batch_rows=batch_rows))
    assert table.column("n").to_pylist() == ["5", str(BIG), str(U64), str(-(2**63) - 1)]


def test_a_big_integer_in_a_json_array_document(tmp_path):
    p = tmp_path / "doc.json"
    p.write_text(json.dumps([{"text": "a", "n": 5}, {"text": "b", "n": BIG}]))
    assert read_table(str(p))[0].column("n").to_pylist() == ["5", str(BIG)]


@pytest.mark.parametrize("out_name", ["scored.jsonl", "scored.parquet"])
def test_score_passes_big_integers_through_exactly(runner, tmp_path, out_name):
    out = tmp_path / out_name
    res = runner.invoke(app, ["score", str(big_jsonl(tmp_path / "big.jsonl")), "-s", "length", "-j", "1", "-o", str(out), "--batch-rows", "1"])
    assert res.exit_code == 0, res.output
    got = [json.loads(x)["n"] for x in out.read_text().splitlines()] if out_name.endswith(".jsonl") else pq.read_table(out).column("n").to_pylist()
    assert got == ["5", str(BIG), str(U64), str(-(2**63) - 1)]


def test_plain_integers_stay_integers(tmp_path):
    p = tmp_path / "small.jsonl"
    p.write_text('{"text": "a", "n": 5}\n{"text": "c", "n": 2.5}\n')
    table, _ = read_table(str(p))
    assert table.column("n").to_pylist() == [5.0, 2.5]  # an int and a float widen to float, as documented
    p.write_text('{"text": "a", "n": 5}\n{"text": "b", "n": 9223372036854775807}\n')
    table, _ = read_table(str(p))
    assert table.column("n").type == pa.int64() and table.column("n").to_pylist() == [5, 2**63 - 1]


def test_duplicate_ids_are_counted_in_the_stats(tmp_path):
    p = tmp_path / "dups.jsonl"
    ids = ["a", "b", "a", "c", "b", "a"]
    lines = [json.dumps({"id": i, "text": f"text {n}"}) for n, i in enumerate(ids)]
    lines += [json.dumps({"text": "same"}), json.dumps({"text": "same"}), json.dumps({"text": ""})]  # equal content, equal derived id
    p.write_text("\n".join(lines) + "\n")
    stats = ReadStats()
    got = sum(t.num_rows for t, _ in read_batches(str(p), ReadOptions(batch_rows=2), stats=stats))
    assert got == 8 and stats.rows == 8 and stats.rejected == 1
    assert stats.duplicate_ids == 4  # a twice, b once, the second "same"


@pytest.mark.parametrize(
    "ids,dups", [([1, 2, 3], 0), ([1, 2, 1], 1), ([[1], [2], [1]], 1), ([1.5, 2.5, 1.5], 1)], ids=["int", "int-dup", "list", "float"]
)
def test_ids_of_any_type_are_compared(tmp_path, ids, dups):
    p = tmp_path / "ids.parquet"
    pq.write_table(pa.table({"id": ids, "text": ["x", "y", "z"]}), p)
    stats = ReadStats()
    list(read_batches(str(p), stats=stats))
    assert stats.duplicate_ids == dups and stats.rows == 3


@pytest.mark.parametrize("command", ["score", "order"])
def test_empty_objects_pass_through_as_json_text(runner, tmp_path, command):
    src = tmp_path / "e.jsonl"
    src.write_text('{"text": "one", "x": {}, "difficulty": 0.1}\n{"text": "two", "x": {"a": {}}, "difficulty": 0.2}\n')
    out = tmp_path / ("e.parquet" if command == "score" else "ordered")
    extra = ["-s", "length", "-j", "1"] if command == "score" else ["--no-plot", "--schedule", "sorted"]
    res = runner.invoke(app, [command, str(src), "-o", str(out), *extra])
    assert res.exit_code == 0, res.output
    table = pq.read_table(out if command == "score" else out / "part-00000-of-00001.parquet")
    assert table.column("x").to_pylist() == ["{}", '{"a":{}}']
