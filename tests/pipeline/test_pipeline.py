"""`curate run`: validation, stage chaining, completion markers, incremental refresh."""

import json

import polars as pl
import pytest
import toysignals  # noqa: F401  (registers toy_len)
import yaml

from curate.cli import app
from curate.errors import UsageError
from curate.pipeline import load_pipeline


def write_rows(path, n, start=0):
    with open(path, "a") as fh:
        for i in range(start, start + n):
            fh.write(json.dumps({"id": f"r{i}", "text": f"row {i} " + "word " * (i % 17 + 1) + "z" * (i % 3)}) + "\n")


def pipeline_file(tmp_path, stages, **top):
    cfg = {"input": str(tmp_path / "in.jsonl"), "output": str(tmp_path / "run"), "seed": 1, "stages": stages, **top}
    p = tmp_path / "p.yaml"
    p.write_text(yaml.safe_dump(cfg))
    return p


def test_unknown_top_level_key_names_path_and_allowed(tmp_path):
    p = pipeline_file(tmp_path, [{"score": {}}], bogus=1)
    with pytest.raises(UsageError) as e:
        load_pipeline(p)
    assert "unknown key 'bogus'" in str(e.value) and "stages" in str(e.value)


def test_unknown_engine_key(tmp_path):
    p = pipeline_file(tmp_path, [{"score": {}}], engine={"engine": "fake", "nope": 2})
    with pytest.raises(UsageError, match="engine.nope"):
        load_pipeline(p)


def test_unknown_stage_option_lists_allowed(runner, tmp_path):
    write_rows(tmp_path / "in.jsonl", 5)
    p = pipeline_file(tmp_path, [{"score": {"signals": ["toy_len"], "kk": 3}}])
    res = runner.invoke(app, ["run", str(p)])
    assert res.exit_code == 2
    assert "stages[0].score: unknown key 'kk'" in res.output and "signals" in res.output


def test_set_overrides(tmp_path):
    p = pipeline_file(tmp_path, [{"score": {"signals": ["toy_len"]}}])
    cfg = load_pipeline(p, ["seed=7", "stages.0.score.workers=1"])
    assert cfg.seed == 7 and cfg.stage_list()[0][1]["workers"] == 1
    with pytest.raises(UsageError):
        load_pipeline(p, ["stages.5.score.k=1"])


def test_rerun_skips_and_refresh_computes_only_new_rows(runner, tmp_path):
    write_rows(tmp_path / "in.jsonl", 40)
    p = pipeline_file(tmp_path, [{"score": {"signals": ["toy_len"], "workers": 1}}])
    s1 = tmp_path / "s1.json"
    res = runner.invoke(app, ["run", str(p), "--summary-json", str(s1)])
    assert res.exit_code == 0, res.output
    first = pl.read_parquet(tmp_path / "run" / "scored.parquet")
    assert len(first) == 40
    # Unchanged input: nothing runs.
    s2 = tmp_path / "s2.json"
    res = runner.invoke(app, ["run", str(p), "--summary-json", str(s2)])
    assert res.exit_code == 0
    assert json.loads(s2.read_text())["changed"] == []
    # Ten new rows: only they are computed; old rows' signals are byte-identical.
    write_rows(tmp_path / "in.jsonl", 10, start=1000)
    s3 = tmp_path / "s3.json"
    res = runner.invoke(app, ["run", str(p), "--summary-json", str(s3)])
    assert res.exit_code == 0
    summary = json.loads(s3.read_text())
    assert summary["changed"] == ["01-score"]
    stage = summary["stages"][0]["summary"]
    assert stage["rows_computed"]["text"] == 10 and stage["rows_in"] == 50
    second = pl.read_parquet(tmp_path / "run" / "scored.parquet")
    cols = ["id", "score_toy_len", "score_toy_len_z"]
    assert second.head(40).select(cols).equals(first.select(cols))


def test_fail_on_empty_and_reject_gate(runner, tmp_path):
    (tmp_path / "in.jsonl").write_text('{"text": ""}\n{"text": null}\n')
    p = pipeline_file(tmp_path, [{"score": {"signals": ["toy_len"], "workers": 1}}])
    res = runner.invoke(app, ["run", str(p), "--fail-on-empty"])
    assert res.exit_code == 3 and "produced no rows" in res.output
    res = runner.invoke(app, ["run", str(p), "--max-reject-rate", "0.1", "--force"])
    assert res.exit_code == 4
