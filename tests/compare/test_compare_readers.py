"""Reading one metric from HF trainer_state.json, CSV (W&B, TensorBoard), JSONL and trial folders; bad files are clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from compare_logs import STEPS, csv_log, curve, hf_state, jsonl_log, tensorboard_csv, trial_folder, wandb_history_csv

from curate.compare import parse_arm, read_series, read_trial, resolve_arms
from curate.errors import InputError, UsageError

VALUES = curve(seed=3)


@pytest.mark.parametrize(
    "write, metric, fmt",
    [
        (lambda p: hf_state(p / "run", STEPS, VALUES), "eval_loss", "hf_trainer_state"),
        (lambda p: hf_state(p / "state.json", STEPS, VALUES), "eval_loss", "hf_trainer_state"),
        (lambda p: csv_log(p / "log.csv", STEPS, VALUES), "eval_loss", "csv"),
        (lambda p: csv_log(p / "log.tsv", STEPS, VALUES, step_col="global_step", sep="\t"), "eval_loss", "csv"),
        (
            lambda p: csv_log(
                p / "wb.csv",
                STEPS,
                VALUES,
                step_col="Step",
                metric_col="my-run - eval/loss",
                extra={"my-run - eval/loss__MIN": VALUES, "my-run - eval/loss__MAX": VALUES},
            ),
            "eval/loss",
            "csv",
        ),
        (lambda p: wandb_history_csv(p / "history.csv", STEPS, VALUES), "eval/loss", "csv"),
        (lambda p: tensorboard_csv(p / "run-eval-tag-loss.csv", STEPS, VALUES), "eval_loss", "tensorboard_csv"),
        (lambda p: jsonl_log(p / "log.jsonl", STEPS, VALUES), "eval_loss", "jsonl"),
    ],
    ids=["hf-folder", "hf-file", "csv", "tsv-global_step", "wandb-panel", "wandb-history", "tensorboard", "jsonl"],
)
def test_every_format_gives_the_same_series(tmp_path, write, metric, fmt):
    path = write(tmp_path)
    s = read_series(path, metric)
    assert s.format == fmt
    np.testing.assert_array_equal(s.steps, STEPS)
    np.testing.assert_array_equal(s.values, VALUES)  # repr() round-trips floats exactly


def test_wandb_history_uses_the_trainer_step_not_the_call_counter(tmp_path):
    s = read_series(wandb_history_csv(tmp_path / "h.csv", STEPS, VALUES), "eval/loss")
    assert s.steps[1] == 100  # `_step` there is 3 (the fourth log call)


def test_training_loss_is_a_metric_too(tmp_path):
    s = read_series(hf_state(tmp_path / "run", STEPS, VALUES), "loss")
    np.testing.assert_allclose(s.values, VALUES[1:] + 0.05)
    np.testing.assert_array_equal(s.steps, STEPS[1:])


def test_run_folder_falls_back_to_its_highest_checkpoint(tmp_path):
    hf_state(tmp_path / "out" / "checkpoint-200", STEPS[:3], VALUES[:3])
    hf_state(tmp_path / "out" / "checkpoint-1000", STEPS, VALUES)  # 1000 > 200 as numbers, not as text
    s = read_series(tmp_path / "out", "eval_loss")
    assert s.file.endswith("checkpoint-1000/trainer_state.json") and len(s.steps) == len(STEPS)


def test_same_value_twice_at_a_step_counts_once(tmp_path):
    """HF logs the final evaluation again when trainer.evaluate() follows an eval at the last step."""
    path = hf_state(tmp_path / "run", STEPS, VALUES)
    state = json.loads(path.read_text())
    state["log_history"].append({"epoch": 1.0, "eval_loss": float(VALUES[-1]), "step": 1000})
    path.write_text(json.dumps(state))
    s = read_series(path, "eval_loss")
    assert len(s.steps) == len(STEPS)


def _w(path: Path, content: str | bytes) -> Path:
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def _state(tmp_path: Path, history: list) -> Path:
    path = tmp_path / "trainer_state.json"
    path.write_text(json.dumps({"log_history": history}))
    return path


E = [{"step": 0, "eval_loss": 5.0}, {"step": 100, "eval_loss": 4.0}, {"step": 200, "eval_loss": 3.5}]


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: _state(p, E[:1] + [{"step": 100, "eval_loss": float("nan")}] + E[2:]), "eval_loss is nan at step 100"),
        (lambda p: _state(p, E[:2] + [{"step": 200, "eval_loss": float("inf")}]), "eval_loss is inf at step 200"),
        (lambda p: _state(p, [E[0], E[2], E[1]]), "step 100 comes after step 200"),
        (lambda p: _state(p, E + [{"step": 200, "eval_loss": 3.4}]), "two different eval_loss values at step 200"),
        (lambda p: _state(p, E[:2] + [{"step": 200, "eval_loss": "3.5"}]), "eval_loss '3.5' is not a number"),
        (lambda p: _state(p, E[:2] + [{"step": "200", "eval_loss": 3.5}]), "step '200' is not a number"),
        (lambda p: _state(p, E[:2] + [{"eval_loss": 3.5}]), "has eval_loss but no step"),
        (lambda p: _state(p, E[:2] + [[200, 3.5]]), "log_history entry 2 is not a JSON object"),
        (lambda p: _state(p, E[:1]), "only one eval_loss value (step 0)"),
        (lambda p: _state(p, [{"step": 0, "loss": 5.0}, {"step": 10, "loss": 4.0}]), "has no 'eval_loss' values (it has: loss)"),
        (lambda p: _state(p, []), "holds no log entries"),
        (lambda p: _w(p / "trainer_state.json", '{"log_history": [{"step": 0,}]}'), "is not valid JSON (line 1, column 29"),
        (lambda p: _w(p / "trainer_state.json", ""), "is empty"),
        (lambda p: _w(p / "trainer_state.json", "\n  \n"), "is empty"),
        (lambda p: _w(p / "trainer_state.json", '{"global_step": 3}'), "has no log_history"),
        (lambda p: _w(p / "trainer_state.json", '{"log_history": 3}'), "log_history is not a list"),
        (lambda p: _w(p / "log.csv", ""), "is empty"),
        (lambda p: _w(p / "log.csv", "step,eval_loss\n"), "has a header but no rows"),
        (lambda p: _w(p / "log.csv", "step,eval_loss\n0,5\n100,four\n"), "line 3: eval_loss 'four' is not a number"),
        (lambda p: _w(p / "log.csv", "step,eval_loss\n0,5\n100,nan\n"), "eval_loss is nan at step 100"),
        (lambda p: _w(p / "log.csv", "step,eval_loss\n0,5\n100\n"), "line 3 has 1 fields, the header 2"),
        (lambda p: _w(p / "log.csv", "epoch,eval_loss\n0,5\n1,4\n"), "has no step column"),
        (lambda p: _w(p / "log.csv", "step,loss\n0,5\n1,4\n"), "has no 'eval_loss' values (it has: loss)"),
        (lambda p: _w(p / "log.csv", "step,eval_loss\n0,\n1,\n"), "column 'eval_loss' is empty"),
        (lambda p: _w(p / "log.jsonl", '{"step": 0, "eval_loss": 5}\n{"step": 1, \n'), "line 2 is not valid JSON"),
        (lambda p: _w(p / "log.txt", "x"), "unknown log format '.txt'"),
        (lambda p: p / "nothing-here", "does not exist"),
        (lambda p: (p / "empty-dir").mkdir() or p / "empty-dir", "holds no trainer_state.json"),
        (lambda p: _w(p / "log.csv", b"step,eval_loss\n0,\xff\n"), "could not be read"),
    ],
    ids=[
        "nan",
        "inf",
        "backwards",
        "duplicate-step",
        "string-value",
        "string-step",
        "no-step",
        "not-object",
        "one-point",
        "missing-metric",
        "no-entries",
        "bad-json",
        "empty-text",
        "whitespace",
        "no-log-history",
        "log-history-type",
        "csv-empty",
        "csv-header-only",
        "csv-bad-number",
        "csv-nan",
        "csv-short-row",
        "csv-no-step",
        "csv-missing-metric",
        "csv-metric-empty",
        "jsonl-bad-line",
        "unknown-suffix",
        "missing",
        "empty-folder",
        "not-utf8",
    ],
)
def test_bad_logs_are_input_errors_naming_the_file(tmp_path, make, message):
    path = make(tmp_path)
    with pytest.raises(InputError) as err:
        read_series(path, "eval_loss")
    text = str(err.value)
    assert message in text
    assert str(path) in text
    assert err.value.fix  # says how to fix it


def test_wandb_panel_with_several_runs_is_ambiguous(tmp_path):
    path = csv_log(tmp_path / "panel.csv", STEPS, VALUES, step_col="Step", metric_col="a - eval/loss", extra={"b - eval/loss": VALUES})
    with pytest.raises(InputError, match="several runs"):
        read_series(path, "eval/loss")
    assert read_series(path, "b - eval/loss").column == "b - eval/loss"


def test_parse_arm_names_and_globs(tmp_path):
    for i in (2, 0, 1):
        hf_state(tmp_path / f"seed-{i}", STEPS, VALUES)
    assert parse_arm("root=a,b") == ("root", ["a", "b"])
    assert parse_arm(f"root={tmp_path}/seed-*")[1] == [str(tmp_path / f"seed-{i}") for i in (0, 1, 2)]
    for bad in ("root", "=a", "root=", "root=a,,b", "ro ot=a"):
        with pytest.raises(UsageError):
            parse_arm(bad)
    with pytest.raises(InputError, match="matches nothing"):
        parse_arm(f"root={tmp_path}/none-*")


def test_trial_folder_lists_arms_in_seed_order(tmp_path):
    root = trial_folder(tmp_path / "trial", {"baseline": [(1, VALUES), (0, VALUES)], "root": [(0, VALUES), (1, VALUES)]})
    trial = read_trial(root)
    assert trial.baseline == "baseline" and trial.metric == "eval_loss"
    assert trial.arms["baseline"] == [str(root / "runs/baseline/seed-0"), str(root / "runs/baseline/seed-1")]
    arms, baseline, metric = resolve_arms([str(root)], [f"extra={root}/runs/root/seed-0"])
    assert list(arms) == ["baseline", "root", "extra"] and baseline == "baseline"


@pytest.mark.parametrize(
    "manifest, message",
    [
        ({"arms": {}}, "arms"),
        ({"arms": {"a": {"runs": []}}}, "arms.a.runs"),
        ({"arms": {"a": {"runs": [{"seed": "x", "path": "p"}]}}}, "arms.a.runs.0.seed"),
        ({"arms": {"a": {"runs": [{"seed": 0}]}}}, "arms.a.runs.0.path"),
        ({"arms": {"a": {"runs": [{"seed": 0, "path": "p"}, {"seed": 0, "path": "q"}]}}}, "seed 0 twice"),
        ({"format": "curate-trial/9", "arms": {"a": {"runs": [{"seed": 0, "path": "p"}]}}}, "curate-trial/9"),
        ([1, 2], "(top level)"),
    ],
)
def test_bad_trial_json_is_an_input_error(tmp_path, manifest, message):
    (tmp_path / "trial.json").write_text(json.dumps(manifest))
    with pytest.raises(InputError) as err:
        read_trial(tmp_path)
    assert message in str(err.value) and "trial.json" in str(err.value)


def test_positional_runs_must_be_trial_folders(tmp_path):
    hf_state(tmp_path / "run", STEPS, VALUES)
    with pytest.raises(UsageError, match="not a `curate trial` folder"):
        resolve_arms([str(tmp_path / "run")], [])
    with pytest.raises(UsageError, match="given twice"):
        resolve_arms([], ["a=x", "a=y"])


def test_a_byte_order_mark_is_not_part_of_the_header(tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes("\ufeffstep,eval_loss\n0,5\n100,4\n".encode())
    assert list(read_series(path, "eval_loss").values) == [5.0, 4.0]
    path = tmp_path / "trainer_state.json"
    path.write_bytes("\ufeff".encode() + json.dumps({"log_history": E}).encode())
    assert list(read_series(path, "eval_loss").steps) == [0, 100, 200]
