"""`curate run`: every stage validated before the first runs; a stage's exit code is the run's;
relative paths resolve against the current directory."""

import json
import os

import yaml

from curate.cli import app


def _pipeline(tmp_path, stages, **top):
    (tmp_path / "in.jsonl").write_text("".join(json.dumps({"id": f"r{i}", "text": f"row {i} " * (i + 1)}) + "\n" for i in range(8)))
    cfg = {"input": str(tmp_path / "in.jsonl"), "output": str(tmp_path / "run"), "stages": stages, **top}
    p = tmp_path / "p.yaml"
    p.write_text(yaml.safe_dump(cfg))
    return p


def test_a_bad_option_in_the_last_stage_fails_before_the_first_stage_runs(runner, tmp_path):
    p = _pipeline(tmp_path, [{"score": {"signals": ["length"], "workers": 1}}, {"order": {"schedule": "no-such-schedule"}}])
    res = runner.invoke(app, ["run", str(p)])
    assert res.exit_code == 2
    assert "stages[1].order" in res.output and "unknown schedules 'no-such-schedule'" in res.output
    assert not (tmp_path / "run" / "scored.parquet").exists()  # nothing ran


def test_unknown_signal_and_wrong_type_name_the_stage_and_the_expected_type(runner, tmp_path):
    p = _pipeline(tmp_path, [{"score": {"signals": ["length"], "workers": 1}}, {"score": {"signals": ["nope"]}}])
    res = runner.invoke(app, ["run", str(p)])
    assert res.exit_code == 2 and "stages[1].score" in res.output and "unknown signals 'nope'" in res.output
    p = _pipeline(tmp_path, [{"score": {"signals": ["length"], "k": "many"}}])
    res = runner.invoke(app, ["run", str(p)])
    assert res.exit_code == 2 and "stages[0].score: 'k'" in res.output and "expected int" in res.output


def test_a_key_the_runner_sets_itself_is_refused(runner, tmp_path):
    p = _pipeline(tmp_path, [{"score": {"signals": ["length"], "output": "elsewhere.parquet"}}])
    res = runner.invoke(app, ["run", str(p)])
    assert res.exit_code == 2 and "'output' is set by `curate run` itself" in res.output


def test_a_stage_exit_code_is_the_run_exit_code(runner, tmp_path):
    p = _pipeline(tmp_path, [{"score": {"signals": ["length"], "text_field": "body", "workers": 1}}])
    res = runner.invoke(app, ["run", str(p)])
    assert res.exit_code == 3, res.output  # input lacks the text column: the stage's own exit code, not 1
    assert "body" in res.output


def test_relative_paths_resolve_against_the_current_directory(runner, tmp_path, monkeypatch):
    work = tmp_path / "project"
    (work / "pipelines").mkdir(parents=True)
    (work / "data").mkdir()
    (work / "data" / "in.jsonl").write_text("".join(json.dumps({"id": f"r{i}", "text": f"row {i} " * (i + 1)}) + "\n" for i in range(8)))
    (work / "pipelines" / "p.yaml").write_text(
        yaml.safe_dump({"input": "data/in.jsonl", "output": "out/run", "stages": [{"score": {"signals": ["length"], "workers": 1}}]})
    )
    monkeypatch.chdir(work)
    res = runner.invoke(app, ["run", "pipelines/p.yaml"])
    assert res.exit_code == 0, res.output
    assert (work / "out" / "run" / "scored.parquet").exists()
    monkeypatch.chdir(work / "pipelines")  # from elsewhere the same relative names mean other paths
    res = runner.invoke(app, ["run", "p.yaml"])
    assert res.exit_code == 3 and "data/in.jsonl" in res.output
    assert not os.path.exists(work / "pipelines" / "out")
