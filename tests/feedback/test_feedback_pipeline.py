"""A pipeline's `feedback:` stage: planned after an order stage, run through the stage API, skipped when unchanged."""

from __future__ import annotations

import json

import polars as pl
import pytest
import yaml
from feedback_fixtures import scored

from curate.cli import app
from curate.errors import UsageError
from curate.pipeline import load_pipeline
from curate.pipeline.runner import plan


def pipeline(tmp_path, stages):
    p = tmp_path / "p.yaml"
    p.write_text(yaml.safe_dump({"input": str(scored(tmp_path / "in.parquet")), "output": str(tmp_path / "run"), "seed": 1, "stages": stages}))
    return p


def test_feedback_after_order_then_report(runner, tmp_path):
    stats = tmp_path / "stats.jsonl"
    stats.write_text("".join(json.dumps({"id": f"r{i:03d}", "step": 0, "correct": 1}) + "\n" for i in range(0, 120, 7)))
    stages = [
        {"order": {"batch_size": 6, "num_samples": 240, "no_plot": True}},
        {"feedback": {"stats": str(stats), "step": 3, "drop_mastered": "0.7", "no_plot": True}},
        {"report": {"no_card": True}},
    ]
    p = pipeline(tmp_path, stages)
    res = runner.invoke(app, ["run", str(p)])
    assert res.exit_code == 0, res.output
    run = tmp_path / "run"
    m = json.loads((run / "feedback" / "manifest.json").read_text())
    assert m["revision"] == 1 and m["feedback"]["step"] == 3
    assert "Revision chain" in (run / "report.html").read_text()
    first = pl.read_parquet(
        [str(run / "ordered" / s["path"]) for s in json.loads((run / "ordered" / "manifest.json").read_text())["sets"]["curriculum"]["shards"]]
    )
    again = pl.read_parquet([str(run / "feedback" / s["path"]) for s in m["sets"]["curriculum"]["shards"]])
    assert again.head(18).equals(first.head(18))
    from curate.pipeline.runner import RunOptions, run_pipeline

    rerun = run_pipeline(load_pipeline(p), RunOptions(base_dir=tmp_path))
    assert {s["type"]: s["status"] for s in rerun["stages"]}["feedback"] == "skipped (unchanged)"
    stats.write_text(stats.read_text() + json.dumps({"id": "r001", "step": 1, "correct": 0}) + "\n")  # new observations: it runs again
    rerun = run_pipeline(load_pipeline(p), RunOptions(base_dir=tmp_path))
    assert {s["type"]: s["status"] for s in rerun["stages"]}["feedback"] == "ran"
    summary = json.loads((run / "stages" / "02-feedback.summary.json").read_text())
    assert summary["revision"] == 1


def test_feedback_without_an_order_stage_is_refused(tmp_path):
    p = pipeline(tmp_path, [{"feedback": {"stats": "s.jsonl", "step": 1}}])
    with pytest.raises(UsageError, match="01-feedback: feedback re-plans an ordered folder"):
        plan(load_pipeline(p), tmp_path)


def test_the_runner_sets_the_folders(tmp_path):
    p = pipeline(tmp_path, [{"order": {}}, {"feedback": {"stats": "s.jsonl", "step": 1, "ordered": "x"}}])
    with pytest.raises(UsageError, match="'ordered' is set by `curate run` itself"):
        plan(load_pipeline(p), tmp_path)
