"""A folder is read whole: every Parquet, JSONL and CSV/TSV file in it, none skipped silently."""

from __future__ import annotations

import gzip
import json

import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from curate.cli import app
from curate.io import expand_inputs, read_table


def mixed_folder(tmp_path):
    d = tmp_path / "mixed"
    d.mkdir()
    rows = [{"id": f"r{i:02d}", "text": f"row number {i} says hello"} for i in range(26)]
    pq.write_table(pa.Table.from_pylist(rows[:10]), d / "a.parquet")
    (d / "b.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows[10:16]))
    (d / "c.jsonl.gz").write_bytes(gzip.compress("".join(json.dumps(r) + "\n" for r in rows[16:19]).encode()))
    pcsv.write_csv(pa.Table.from_pylist(rows[19:23]), d / "d.csv")
    (d / "sub").mkdir()
    pcsv.write_csv(pa.Table.from_pylist(rows[23:]), d / "sub" / "e.tsv", pcsv.WriteOptions(delimiter="\t"))
    (d / "config.json").write_text('{"note": "settings, not rows"}')  # a plain .json beside data files is not data
    (d / "notes.md").write_text("# not data\n")
    return d, rows


def test_every_data_file_of_a_mixed_folder_is_read(tmp_path):
    d, rows = mixed_folder(tmp_path)
    assert [p.split("mixed/")[1] for p in expand_inputs(str(d))] == ["a.parquet", "b.jsonl", "c.jsonl.gz", "d.csv", "sub/e.tsv"]
    table, rejects = read_table(str(d))
    assert rejects == []
    assert sorted(table.column("id").to_pylist()) == [r["id"] for r in rows]


def test_json_files_are_data_when_they_are_the_only_kind(tmp_path):
    d = tmp_path / "j"
    d.mkdir()
    (d / "x.json").write_text(json.dumps([{"id": "a", "text": "one"}, {"id": "b", "text": "two"}]))
    assert read_table(str(d))[0].column("id").to_pylist() == ["a", "b"]


def test_score_of_a_mixed_folder_keeps_every_row(runner, tmp_path):
    d, rows = mixed_folder(tmp_path)
    out = tmp_path / "scored.jsonl"
    res = runner.invoke(app, ["score", str(d), "-s", "length", "-j", "1", "-o", str(out)])
    assert res.exit_code == 0, res.output
    got = [json.loads(line)["id"] for line in out.read_text().splitlines()]
    assert sorted(got) == [r["id"] for r in rows]
