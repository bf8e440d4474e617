"""Against a real HTTP server that fails (tests/engines/fault_server.py): `curate score` exits 5
naming the rows, stores nothing failed, and a rerun against the healthy server computes them."""

import json

import polars as pl
import pytest
import yaml

from curate.cli import app


@pytest.fixture
def rows(tmp_path, monkeypatch):
    monkeypatch.setenv("CURATE_REQUEST_CACHE", str(tmp_path / "rc"))
    src = tmp_path / "in.jsonl"
    src.write_text(
        "".join(json.dumps({"id": f"r{i}", "text": f"What is {i} + 1?", "answer": str(i + 1), "task_type": "math"}) + "\n" for i in range(3))
    )
    return src


def _score(runner, url, src, out, *extra):
    return runner.invoke(app, ["score", str(src), "-s", "pass_rate", "--engine-url", url, "--k", "2", "--max-tokens", "16", "-o", str(out), *extra])


def test_a_server_answering_500_exits_5_and_the_rerun_against_a_healthy_one_scores_every_row(runner, fault_server, rows, tmp_path):
    fault_server.mode = "500"
    res = _score(runner, fault_server.url, rows, tmp_path / "o.parquet", "--engine-timeout", "2")
    assert res.exit_code == 5, res.output
    assert "failed on 3 row(s)" in res.output and "500" in res.output
    assert fault_server.posts >= 3 * 2  # retried
    assert not (tmp_path / "o.parquet").exists()

    fault_server.mode = "ok"
    before = fault_server.posts
    res = _score(runner, fault_server.url, rows, tmp_path / "o.parquet")
    assert res.exit_code == 0, res.output
    assert fault_server.posts - before == 3  # the failures were never cached: every row asked again, once
    assert pl.read_parquet(tmp_path / "o.parquet")["score_pass_rate"].is_not_null().all()


@pytest.mark.parametrize("mode", ["html", "malformed", "null_content", "few_choices", "bad_shape", "hang"])
def test_every_kind_of_bad_reply_is_retried_then_counted_as_a_failure(runner, fault_server, rows, tmp_path, mode):
    fault_server.mode = mode
    res = _score(
        runner,
        fault_server.url,
        rows,
        tmp_path / "o.parquet",
        "--engine-timeout",
        "0.5",
        "--allow-engine-failures",
        "0.5",
        "--rejects",
        str(tmp_path / "rej.jsonl"),
    )
    assert res.exit_code == 5, res.output  # 3 of 3 rows failed: more than the allowed half
    rej = [json.loads(line) for line in (tmp_path / "rej.jsonl").read_text().splitlines()]
    assert [r["id"] for r in rej] == ["r0", "r1", "r2"] and all(r["reject_reason"].startswith("engine failure:") for r in rej)
    assert len(pl.read_parquet(tmp_path / "o.parquet")) == 0


def test_a_pipeline_forced_to_rerun_after_an_outage_sends_requests_again(runner, fault_server, rows, tmp_path):
    cfg = {
        "input": str(rows),
        "output": str(tmp_path / "run"),
        "engine": {"engine": "openai", "url": fault_server.url},
        "stages": [
            {"score": {"signals": ["pass_rate"], "k": 2, "max_tokens": 16, "engine_timeout": 2}},
            {"order": {"batch_size": 1, "no_plot": True}},
        ],
    }
    p = tmp_path / "p.yaml"
    p.write_text(yaml.safe_dump(cfg))
    fault_server.mode = "500"
    assert runner.invoke(app, ["run", str(p)]).exit_code == 5
    fault_server.mode = "ok"
    before = fault_server.posts
    res = runner.invoke(app, ["run", str(p), "--force"])
    assert res.exit_code == 0, res.output
    assert fault_server.posts - before == 3
    assert pl.read_parquet(tmp_path / "run" / "scored.parquet")["score_pass_rate"].is_not_null().all()
    assert (tmp_path / "run" / "ordered" / "manifest.json").exists()


def test_synthesis_against_a_failing_server_exits_5(runner, fault_server, rows, tmp_path):
    fault_server.mode = "500"
    res = runner.invoke(
        app,
        [
            "synthesize",
            str(rows),
            "--mode",
            "ladder",
            "-L",
            "1",
            "-E",
            "0",
            "--generator-engine-url",
            fault_server.url,
            "--target-engine-url",
            fault_server.url,
            "--engine-timeout",
            "1",
            "-o",
            str(tmp_path / "s.jsonl"),
        ],
    )
    assert res.exit_code == 5, res.output
    assert "failed on" in res.output and "rerun the same command" in res.output
