"""`curate trial` end to end on sample prose: a tiny model, a few steps, real HF Trainer on CPU."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from curate.cli import app

ROOT = Path(__file__).resolve().parents[2]
PROSE = ROOT / "sample_data" / "prose.jsonl"
TINY = ["--layers", "1", "--width", "64", "--max-length", "32", "--device", "cpu"]


@pytest.fixture(scope="module")
def ordered(tmp_path_factory) -> Path:
    """sample_data/prose.jsonl scored and ordered (root schedule, 8 rows a step, with its baseline)."""
    from curate.stages import RunContext, get_stage

    root = tmp_path_factory.mktemp("trial-src")
    with RunContext() as ctx:
        score, order = get_stage("score"), get_stage("order")
        score.run(score.Options(inputs=[str(PROSE)], output=str(root / "scored.parquet"), signals=["length", "word_entropy"]), ctx)
        order.run(
            order.Options(inputs=[str(root / "scored.parquet")], output=str(root / "ordered"), schedule="root", batch_size=8, no_plot=True), ctx
        )
    return root / "ordered"


@pytest.fixture(scope="module")
def full_trial(ordered, tmp_path_factory) -> tuple[Path, object]:
    """One CLI run with a control and an LR sweep: 3 arms × (2 sweep runs + 1 more seed), 3 steps each."""
    from typer.testing import CliRunner

    out = tmp_path_factory.mktemp("trial") / "t"
    res = CliRunner().invoke(
        app,
        [
            "trial",
            str(ordered),
            "-o",
            str(out),
            "--seeds",
            "2",
            "--controls",
            "anti",
            "--lr-sweep",
            "1e-3,3e-3",
            "--eval-fraction",
            "0.3",
            "--max-steps",
            "3",
            "--eval-every",
            "2",
            "--summary-json",
            str(out.parent / "s.json"),
            *TINY,
        ],
    )
    return out, res


def _losses(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "row_losses.jsonl").read_text().splitlines()]


def _eval_curve(run: Path) -> list[tuple[int, float]]:
    history = json.loads((run / "trainer_state.json").read_text())["log_history"]
    return [(e["step"], e["eval_loss"]) for e in history if "eval_loss" in e]


def test_cli_end_to_end_writes_the_trial_folder_compare_reads(full_trial):
    from curate.compare import read_trial

    out, res = full_trial
    assert res.exit_code == 0, res.output
    data = json.loads((out / "trial.json").read_text())
    assert data["format"] == "curate-trial/1" and data["baseline"] == "baseline" and data["metric"] == "eval_loss"
    assert list(data["arms"]) == ["root", "baseline", "anti"]
    trial = read_trial(out)
    for arm, paths in trial.arms.items():
        assert paths == [str(out / "runs" / arm / f"seed-{s}") for s in (0, 1)]
        for p in paths:
            curve = _eval_curve(Path(p))
            assert [s for s, _ in curve] == [0, 2, 3]  # step 0, every 2 steps, and the last step
            rows = _losses(Path(p))
            assert rows and all(set(r) == {"id", "step", "loss"} and r["loss"] > 0 for r in rows)
            assert sorted({r["step"] for r in rows}) == [0, 1, 2]
    cmp = json.loads((out / "compare" / "compare.json").read_text())
    assert set(cmp["vs_baseline"]) == {"root", "anti"} and cmp["metric"] == "eval_loss"
    summary = json.loads((out.parent / "s.json").read_text())
    assert summary["verdicts"] == {k: v["verdict"] for k, v in cmp["vs_baseline"].items()}
    assert "root vs baseline:" in " ".join(res.output.split())


def test_each_arm_picks_its_learning_rate_on_the_tune_split(full_trial):
    out, _ = full_trial
    data = json.loads((out / "trial.json").read_text())
    for arm, a in data["arms"].items():
        sweep = a["sweep"]
        assert set(sweep) == {"0.001", "0.003"}
        best = min(sweep, key=lambda k: (sweep[k]["eval_tune_loss"], float(k)))
        assert a["lr"] == float(best) and all(r["lr"] == a["lr"] for r in a["runs"])
        # seed 0 is the sweep's run at the chosen rate, not a second copy trained differently
        assert (out / "runs" / arm / "seed-0" / "row_losses.jsonl").read_bytes() == (out / sweep[best]["path"] / "row_losses.jsonl").read_bytes()
        tune = [
            e["eval_tune_loss"]
            for e in json.loads((out / sweep[best]["path"] / "trainer_state.json").read_text())["log_history"]
            if "eval_tune_loss" in e
        ]
        assert tune[-1] == sweep[best]["eval_tune_loss"]
    held = data["held_out"]
    assert held["how"] == "carved" and held["eval_rows"] >= 5 and held["tune_rows"] >= 5


def test_every_arm_reads_its_manifest_order_without_the_held_out_rows(full_trial):
    from curate.trial.data import stream_ids

    out, _ = full_trial
    data = json.loads((out / "trial.json").read_text())
    steps, batch = data["training"]["steps"], data["training"]["batch_size"]
    held = set()
    for a in data["arms"].values():
        ids = stream_ids(out / a["order"])
        for r in a["runs"]:
            logged = [x["id"] for x in _losses(out / r["path"])]
            assert logged == ids[: steps * batch]
        held |= set(ids)
    import polars

    train = set(polars.read_parquet(out / "data" / "train.parquet")["id"].to_list())
    assert held == train and len(train) + data["held_out"]["eval_rows"] + data["held_out"]["tune_rows"] == 100
    curriculum = stream_ids(out / "data" / "root")
    assert data["arms"]["baseline"]["order"] == "data/baseline" and data["arms"]["baseline"]["baseline_of"] == "data/root"
    assert stream_ids(out / "data" / "baseline") == stream_ids(out / "data" / "root", "baseline")  # the baseline arm reads root's baseline/
    assert curriculum != stream_ids(out / "data" / "baseline") and sorted(curriculum) == sorted(stream_ids(out / "data" / "anti"))


def test_given_eval_text_trains_the_folder_as_written_and_reruns_identically(ordered, tmp_path):
    """With --eval nothing is carved: the curriculum arm's logged ids are the given folder's manifest order."""
    from curate.trial import TrialConfig, run_trial
    from curate.trial.data import stream_ids

    held = tmp_path / "held.jsonl"
    held.write_text("".join(json.dumps({"id": f"h{i}", "text": f"A held-out sentence number {i} about rivers and hills."}) + "\n" for i in range(6)))
    kw = {"seeds": 1, "eval": str(held), "max_steps": 4, "layers": 1, "width": 64, "max_length": 32, "device": "cpu"}
    a = run_trial(TrialConfig(str(ordered), str(tmp_path / "a"), **kw))
    run_trial(TrialConfig(str(ordered), str(tmp_path / "b"), **{**kw, "seeds": 2}))
    assert a.data["arms"]["root"]["order"] == str(ordered)
    for arm, which in (("root", "curriculum"), ("baseline", "baseline")):
        logged = [x["id"] for x in _losses(tmp_path / "a" / "runs" / arm / "seed-0")]
        assert logged == stream_ids(ordered, which, "id")[: 4 * 8]
        # same seed → identical per-row losses and eval curve; another seed → different ones
        assert _losses(tmp_path / "a" / "runs" / arm / "seed-0") == _losses(tmp_path / "b" / "runs" / arm / "seed-0")
        assert _eval_curve(tmp_path / "a" / "runs" / arm / "seed-0") == _eval_curve(tmp_path / "b" / "runs" / arm / "seed-0")
        assert _losses(tmp_path / "b" / "runs" / arm / "seed-1") != _losses(tmp_path / "b" / "runs" / arm / "seed-0")
    assert a.data["held_out"] == {**a.data["held_out"], "how": "given", "eval_rows": 6, "tune_rows": 0}
    # rerunning into the same folder trains nothing and changes nothing
    before = (tmp_path / "a" / "runs" / "root" / "seed-0" / "row_losses.jsonl").read_bytes()
    again = run_trial(TrialConfig(str(ordered), str(tmp_path / "a"), **kw))
    assert all(r.reused for r in again.runs) and again.data["compute"]["trained_runs"] == 0
    assert (tmp_path / "a" / "runs" / "root" / "seed-0" / "row_losses.jsonl").read_bytes() == before


def test_stage_api_runs_a_trial(ordered, tmp_path):
    from curate.stages import RunContext, get_stage

    stage = get_stage("trial")
    opts = stage.Options(
        ordered=str(ordered), output=str(tmp_path / "t"), seeds=1, max_steps=2, layers=1, width=64, max_length=32, device="cpu", lr_sweep="2e-3"
    )  # one value: that rate, no sweep and no tune split
    with RunContext() as ctx:
        s = stage.run(opts, ctx)
    assert s.stage == "trial" and set(s.arms) == {"root", "baseline"} and s.steps == 2
    assert all(a["lr"] == 2e-3 for a in s.arms.values()) and s.held_out["tune_rows"] == 0
    assert s.verdicts["root"].startswith("no verdict")  # one seed per arm gives no CI
    assert Path(s.compare_json).is_file() and s.rows_in == 100 and s.rows_out == 100 - s.held_out["eval_rows"]


# -- bad input -------------------------------------------------------------------------------------


def _copy_without(src: Path, dest: Path, drop: str) -> Path:
    import shutil

    shutil.copytree(src, dest)
    target = dest / drop
    shutil.rmtree(target) if target.is_dir() else target.unlink()
    return dest


def test_an_ordered_folder_without_manifest_or_baseline_is_an_input_error(runner, ordered, tmp_path):
    no_manifest = _copy_without(ordered, tmp_path / "nm", "manifest.json")
    res = runner.invoke(app, ["trial", str(no_manifest), "-o", str(tmp_path / "t1"), *TINY])
    assert res.exit_code == 3 and "has no manifest.json" in res.output and "Traceback" not in res.output
    no_base = tmp_path / "nb"
    from curate.stages import RunContext, get_stage

    with RunContext() as ctx:
        o = get_stage("order")
        o.run(
            o.Options(
                inputs=[str(next(ordered.glob("part-*.parquet")))], output=str(no_base), schedule="root", batch_size=8, no_baseline=True, no_plot=True
            ),
            ctx,
        )
    res = runner.invoke(app, ["trial", str(no_base), "-o", str(tmp_path / "t2"), *TINY])
    assert res.exit_code == 3 and "has no baseline/" in res.output and "without --no-baseline" in res.output


def test_a_model_or_tokenizer_that_cannot_load_is_a_clear_error(runner, ordered, tmp_path):
    broken = tmp_path / "broken-model"
    broken.mkdir()
    (broken / "config.json").write_text("{not json")
    res = runner.invoke(app, ["trial", str(ordered), "-o", str(tmp_path / "t1"), "--model", str(broken), "--max-steps", "1", "--device", "cpu"])
    assert res.exit_code == 3 and f"--model '{broken}' cannot be loaded" in res.output and "Traceback" not in res.output
    res = runner.invoke(app, ["trial", str(ordered), "-o", str(tmp_path / "t2"), "--model", "no-such-architecture", *TINY[2:]])
    assert res.exit_code == 2 and "neither a preset" in res.output
    res = runner.invoke(app, ["trial", str(ordered), "-o", str(tmp_path / "t3"), "--tokenizer", str(tmp_path), *TINY])
    assert res.exit_code == 3 and "--tokenizer" in res.output and "cannot be loaded" in res.output


def test_too_few_rows_for_the_held_out_split_is_an_input_error(runner, ordered, tmp_path):
    res = runner.invoke(app, ["trial", str(ordered), "-o", str(tmp_path / "t"), "--eval-fraction", "0.02", *TINY])
    assert res.exit_code == 3 and "too few rows for held-out evaluation" in res.output and "raise --eval-fraction" in res.output
    held = tmp_path / "held.jsonl"
    held.write_text(json.dumps({"id": "h", "text": "only one held-out row"}) + "\n")
    res = runner.invoke(app, ["trial", str(ordered), "-o", str(tmp_path / "t2"), "--eval", str(held), *TINY])
    assert res.exit_code == 3 and "too few rows" in res.output


@pytest.mark.parametrize(
    "args, code, message",
    [
        (["--controls", "root"], 2, "repeats an arm"),
        (["--controls", "nope"], 2, "nope"),
        (["--lr-sweep", "1e-3,abc"], 2, "--lr-sweep takes numbers"),
        (["--max-steps", "999"], 2, "is more than the"),
        (["--width", "100"], 2, "not a multiple of 32"),
    ],
)
def test_bad_options_are_usage_errors(runner, ordered, tmp_path, args, code, message):
    res = runner.invoke(app, ["trial", str(ordered), "-o", str(tmp_path / "t"), *TINY, *args])
    assert res.exit_code == code, res.output
    assert message in " ".join(res.output.split()) and "Traceback" not in res.output


def test_an_output_folder_that_is_not_a_trial_is_refused(runner, ordered, tmp_path):
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "notes.txt").write_text("mine")
    res = runner.invoke(app, ["trial", str(ordered), "-o", str(tmp_path / "t"), *TINY])
    assert res.exit_code == 2 and "is not an earlier `curate trial` output" in res.output
    assert (tmp_path / "t" / "notes.txt").read_text() == "mine"


def test_a_pipeline_trial_stage_reads_the_order_stage_folder(tmp_path):
    from curate.errors import UsageError
    from curate.pipeline.config import load_pipeline
    from curate.pipeline.runner import plan

    spec = tmp_path / "p.yaml"
    spec.write_text(
        f"input: [{PROSE}]\noutput: {tmp_path / 'out'}\nstages:\n  - score: {{signals: [length]}}\n  - order: {{batch-size: 8}}\n"
        "  - trial: {seeds: 2, lr-sweep: [1e-3, 3e-3], controls: anti}\n"
    )
    plans = plan(load_pipeline(spec), tmp_path)
    trial = plans[-1]
    assert (
        trial.type == "trial"
        and trial.options.ordered == str(tmp_path / "out" / "ordered")
        and trial.output == str(tmp_path / "out" / "trial" / "trial.json")
    )
    assert (
        trial.options.lr_sweep == [1e-3, 3e-3]
        and trial.options.controls == ["anti"]
        and trial.inputs == [str(tmp_path / "out" / "ordered" / "manifest.json")]
    )
    spec.write_text(spec.read_text().replace("controls: anti}", "controls: anti, ordered: elsewhere}"))
    with pytest.raises(UsageError, match="'ordered' is set by `curate run` itself"):
        plan(load_pipeline(spec), tmp_path)
