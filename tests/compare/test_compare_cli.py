"""`curate compare` on the command line, through the stage API, and as a pipeline stage."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from compare_logs import STEPS, curve, hf_state, trial_folder

from curate.cli import app


def _arms(tmp_path: Path, scale: float = 0.9) -> list[str]:
    base = ",".join(str(hf_state(tmp_path / "logs" / "baseline" / f"seed-{s}", STEPS, curve(seed=s)).parent) for s in (0, 1, 2))
    root = ",".join(str(hf_state(tmp_path / "logs" / "root" / f"seed-{s}", STEPS, curve(seed=s, scale=scale)).parent) for s in (0, 1, 2))
    return ["--arm", f"baseline={base}", "--arm", f"root={root}"]


def test_cli_writes_json_and_picture_and_prints_the_verdict(runner, tmp_path):
    res = runner.invoke(app, ["compare", *_arms(tmp_path), "--target", "3.2", "-o", str(tmp_path / "cmp")])
    assert res.exit_code == 0, res.output
    data = json.loads((tmp_path / "cmp" / "compare.json").read_text())
    assert (tmp_path / "cmp" / "compare.png").stat().st_size > 0
    verdict = data["vs_baseline"]["root"]["verdict"]
    assert "lower (better)" in verdict and "reaches 3.2 in" in verdict
    assert f"root vs baseline: {verdict}" in " ".join(res.output.split())  # Rich wraps long lines
    assert data["target"] == 3.2 and data["lower_is_better"] is True


def test_cli_reads_a_trial_folder_and_globs(runner, tmp_path):
    trial = trial_folder(
        tmp_path / "trial", {"baseline": [(s, curve(seed=s)) for s in (0, 1)], "warmup": [(s, curve(seed=s, shift=0.2)) for s in (0, 1)]}
    )
    extra = f"anti={trial}/runs/warmup/seed-*"
    res = runner.invoke(app, ["compare", str(trial), "--arm", extra, "-o", str(tmp_path / "cmp"), "--no-plot"])
    assert res.exit_code == 0, res.output
    data = json.loads((tmp_path / "cmp" / "compare.json").read_text())
    assert list(data["arms"]) == ["baseline", "warmup", "anti"]
    assert data["vs_baseline"]["warmup"]["findings"]["final"] == "worse"
    assert not (tmp_path / "cmp" / "compare.png").exists()


def test_higher_is_better_and_metric_flags(runner, tmp_path):
    for arm, scale in (("baseline", 1.0), ("root", 1.1)):
        for s in (0, 1):
            hf_state(tmp_path / arm / f"s{s}", STEPS, 0.1 * curve(seed=s, scale=scale), metric="eval_accuracy")
    args = ["compare", "--arm", f"baseline={tmp_path}/baseline/s*", "--arm", f"root={tmp_path}/root/s*", "-o", str(tmp_path / "cmp"), "--no-plot"]
    res = runner.invoke(app, [*args, "-m", "eval_accuracy", "--higher-is-better"])
    assert res.exit_code == 0, res.output
    data = json.loads((tmp_path / "cmp" / "compare.json").read_text())
    assert data["vs_baseline"]["root"]["findings"]["final"] == "better" and data["lower_is_better"] is False


@pytest.mark.parametrize(
    "args, code, message",
    [
        ([], 2, "nothing to compare"),
        (["--arm", "baseline"], 2, "is not NAME=PATH"),
        (["--arm", "root=x"], 2, "no arm named 'baseline'"),
        (["--arm", "baseline=nope", "--arm", "root=nope2"], 3, "arm baseline: run log 'nope' does not exist"),
    ],
)
def test_cli_usage_and_input_errors(runner, tmp_path, args, code, message):
    res = runner.invoke(app, ["compare", "-o", str(tmp_path / "cmp"), *args])
    assert res.exit_code == code, res.output
    assert message in " ".join(res.output.split())


@pytest.mark.parametrize(
    "content",
    [
        '{"log_history": [',
        '{"log_history": [{"step": 0, "eval_loss": NaN}, {"step": 1, "eval_loss": 2}]}',
        '{"log_history": [{"step": 5, "eval_loss": 2}, {"step": 1, "eval_loss": 3}]}',
    ],
    ids=["truncated", "nan", "backwards"],
)
def test_console_script_turns_broken_logs_into_one_error_line(tmp_path, content):
    args = _arms(tmp_path)
    bad = tmp_path / "logs" / "root" / "seed-1" / "trainer_state.json"
    bad.write_text(content)
    out = subprocess.run([sys.executable, "-m", "curate", "compare", *args, "-o", str(tmp_path / "cmp")], capture_output=True, text=True)
    assert out.returncode == 3, out.stderr
    assert "Traceback" not in out.stderr and out.stdout == ""
    assert out.stderr.startswith(f"Error: arm root: {bad}") and out.stderr.count("\n") == 1


def test_stage_api_from_python(tmp_path):
    from curate.stages import RunContext, get_stage

    args = _arms(tmp_path)
    stage = get_stage("compare")
    with RunContext() as ctx:
        summary = stage.run(stage.Options(arms=[args[1], args[3]], output=str(tmp_path / "cmp"), target=3.2), ctx)
    assert summary.runs == {"baseline": 3, "root": 3} and summary.rows_in == 6
    assert summary.findings["root"]["final"] == "better"
    assert summary.verdicts["root"] == json.loads(Path(summary.compare_json).read_text())["vs_baseline"]["root"]["verdict"]


def test_pipeline_stage_then_report(tmp_path, monkeypatch):
    from curate.pipeline import RunOptions, load_pipeline, run_pipeline

    args = _arms(tmp_path)
    (tmp_path / "rows.jsonl").write_text('{"id": "a", "text": "one"}\n')
    pipe = tmp_path / "p.yaml"
    pipe.write_text(
        json.dumps({"input": "rows.jsonl", "output": "out", "stages": [{"compare": {"arms": [args[1], args[3]], "target": 3.2}}, {"report": {}}]})
    )
    monkeypatch.chdir(tmp_path)
    first = run_pipeline(load_pipeline(pipe), RunOptions(base_dir=tmp_path))
    assert [s["status"] for s in first["stages"]] == ["ran", "ran"]
    data = json.loads((tmp_path / "out" / "compare" / "compare.json").read_text())
    html = (tmp_path / "out" / "report.html").read_text()
    assert data["vs_baseline"]["root"]["findings"]["final"] == "better"
    assert "root vs baseline:" in html and "data:image/png;base64," in html
    again = run_pipeline(load_pipeline(pipe), RunOptions(base_dir=tmp_path))
    assert [s["status"] for s in again["stages"]] == ["skipped (unchanged)"] * 2
    hf_state(tmp_path / "logs" / "root" / "seed-1", STEPS, curve(seed=1))  # a log changes: compare and report rerun
    third = run_pipeline(load_pipeline(pipe), RunOptions(base_dir=tmp_path))
    assert [s["status"] for s in third["stages"]] == ["ran", "ran"]


def test_pipeline_rejects_unknown_compare_keys(tmp_path):
    from curate.errors import UsageError
    from curate.pipeline import RunOptions, load_pipeline, run_pipeline

    pipe = tmp_path / "p.yaml"
    pipe.write_text(
        json.dumps({"input": "x.jsonl", "output": str(tmp_path / "out"), "stages": [{"compare": {"arms": ["a=b"], "output": "elsewhere"}}]})
    )
    with pytest.raises(UsageError, match="'output' is set by `curate run` itself"):
        run_pipeline(load_pipeline(pipe), RunOptions(base_dir=tmp_path))
