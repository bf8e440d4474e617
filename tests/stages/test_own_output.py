"""A command never reads its own output (or rejects) as input: `curate score DIR -o DIR` twice gives the same rows."""

import json

import polars as pl

from curate.cli import app


def test_scoring_a_folder_into_itself_twice_keeps_the_rows(runner, tmp_path):
    d = tmp_path / "data"
    d.mkdir()
    pl.DataFrame({"id": [f"r{i}" for i in range(12)], "text": [f"row number {i} " * (i + 1) for i in range(12)]}).write_parquet(d / "input.parquet")
    for _ in range(3):
        res = runner.invoke(app, ["score", str(d), "-o", str(d / "scored"), "-s", "length", "-j", "1"])
        assert res.exit_code == 0, res.output
    out = pl.read_parquet(d / "scored")
    assert sorted(out["id"].to_list()) == sorted(f"r{i}" for i in range(12))
    assert "own output" in res.output


def test_a_stale_rejects_file_does_not_survive_a_clean_rerun(runner, tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text('{"id": "a", "text": "fine text here"}\n{"id": "b", "text": null}\n')
    out = tmp_path / "o.parquet"
    assert runner.invoke(app, ["score", str(src), "-o", str(out), "-s", "length", "-j", "1"]).exit_code == 0
    rejects = tmp_path / "o.rejects.jsonl"
    assert len(rejects.read_text().splitlines()) == 1
    src.write_text('{"id": "a", "text": "fine text here"}\n')  # the bad row is fixed
    assert runner.invoke(app, ["score", str(src), "-o", str(out), "-s", "length", "-j", "1"]).exit_code == 0
    assert not rejects.exists()  # the outputs of one run agree with each other


def test_a_failed_run_keeps_the_previous_output_and_its_rejects(runner, tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text('{"id": "a", "text": "fine text here"}\n{"id": "b", "text": null}\n')
    out = tmp_path / "o.parquet"
    assert runner.invoke(app, ["score", str(src), "-o", str(out), "-s", "length", "-j", "1"]).exit_code == 0
    before = out.read_bytes(), (tmp_path / "o.rejects.jsonl").read_bytes()
    res = runner.invoke(app, ["score", str(src), "-o", str(out), "-s", "length", "--weight", "nope=1"])
    assert res.exit_code == 2
    assert (out.read_bytes(), (tmp_path / "o.rejects.jsonl").read_bytes()) == before


def test_duplicate_ids_are_kept_and_warned_about_with_a_count(runner, tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"id": i % 3, "text": f"text number {i}"}) + "\n" for i in range(7)))
    res = runner.invoke(
        app, ["score", str(src), "-o", str(tmp_path / "o.parquet"), "-s", "length", "-j", "1", "--summary-json", str(tmp_path / "s.json")]
    )
    assert res.exit_code == 0, res.output
    assert "4 row(s) repeat an earlier row's id" in res.output
    assert json.loads((tmp_path / "s.json").read_text())["duplicate_ids"] == 4
    assert len(pl.read_parquet(tmp_path / "o.parquet")) == 7
