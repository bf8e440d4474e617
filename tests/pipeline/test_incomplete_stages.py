"""A stage that leaves rows unfinished (code checks this machine cannot run) is not marked done:
the next `curate run` redoes it without --force, computing only those rows."""

import json

import pytest
import yaml

from curate.cli import app
from curate.verifiers.code import CodeVerifier


@pytest.fixture
def pipeline(tmp_path, monkeypatch):
    monkeypatch.setenv("CURATE_CACHE_DIR", str(tmp_path / "cache"))
    rows = [
        {"id": "m1", "text": "What is 1 + 1?", "answer": "2", "task_type": "math"},
        {"id": "c1", "text": "Write add(a, b).", "task_type": "code", "test_list": ["assert add(1, 2) == 3"]},
    ]
    (tmp_path / "in.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    cfg = {
        "input": str(tmp_path / "in.jsonl"),
        "output": str(tmp_path / "run"),
        "engine": {"engine": "fake"},
        "stages": [{"score": {"signals": ["pass_rate"], "k": 1}}],
    }
    p = tmp_path / "p.yaml"
    p.write_text(yaml.safe_dump(cfg))
    return p


def test_unfinished_rows_make_the_next_run_redo_the_stage(runner, pipeline, tmp_path, monkeypatch):
    monkeypatch.setattr(CodeVerifier, "unavailable", lambda self: "code checks need bubblewrap: apt-get install bubblewrap")
    res = runner.invoke(app, ["run", str(pipeline), "--summary-json", str(tmp_path / "s1.json")])
    assert res.exit_code == 0, res.output
    s1 = json.loads((tmp_path / "s1.json").read_text())
    assert s1["stages"][0]["status"] == "ran (incomplete: rerun to finish)"
    assert s1["stages"][0]["summary"]["rows_not_final"] == 1

    monkeypatch.setattr(CodeVerifier, "unavailable", lambda self: None)  # bubblewrap is installed now
    res = runner.invoke(app, ["run", str(pipeline), "--summary-json", str(tmp_path / "s2.json")])
    assert res.exit_code == 0, res.output
    s2 = json.loads((tmp_path / "s2.json").read_text())
    assert s2["changed"] == ["01-score"] and s2["stages"][0]["status"] == "ran"
    assert s2["stages"][0]["summary"]["rows_computed"]["model"] == 1  # only the code row; the math row came from the row store
    res = runner.invoke(app, ["run", str(pipeline), "--summary-json", str(tmp_path / "s3.json")])
    assert json.loads((tmp_path / "s3.json").read_text())["changed"] == []
