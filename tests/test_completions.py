"""`curate score -s pass_rate --completions OUT`: every sampled completion with its verdict, and the RFT / DPO recipes of docs/feedback.md."""

from __future__ import annotations

import json

import polars as pl
import pytest

from curate.cli import app
from curate.engines import fake

ROWS = [{"id": f"q{i}", "text": f"What is {i} + {i}?", "answer": f"#### {2 * i}", "task_type": "math"} for i in range(6)]


@pytest.fixture
def answers(monkeypatch):
    """The fake model gets even samples right and odd ones wrong; row q0 it never gets right."""

    def respond(prompt, params, index):
        q = fake.prompt_text(prompt).rsplit("Question: ", 1)[-1]  # the row's question comes after the template's examples
        n = int(q.split("What is ")[1].split(" +")[0]) if "What is " in q else -1
        return f"{n} plus {n} is #### {2 * n}" if index % 2 == 0 and n != 0 else "I think #### 7"

    monkeypatch.setattr(fake, "_default_responder", respond)


def write_rows(tmp_path):
    src = tmp_path / "q.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    return src


@pytest.mark.parametrize("suffix", ["jsonl", "parquet"])
def test_every_sample_is_written_with_its_verdict(runner, tmp_path, answers, suffix):
    src = write_rows(tmp_path)
    out = tmp_path / f"rollouts.{suffix}"
    r = runner.invoke(
        app,
        [
            "score",
            str(src),
            "-s",
            "pass_rate",
            "--k",
            "4",
            "--engine",
            "fake",
            "--no-cache",
            "-o",
            str(tmp_path / "s.parquet"),
            "--completions",
            str(out),
            "--summary-json",
            str(tmp_path / "sum.json"),
        ],
    )
    assert r.exit_code == 0, r.output
    got = pl.read_ndjson(out) if suffix == "jsonl" else pl.read_parquet(out)
    assert got.columns == ["id", "sample_index", "completion", "passed", "tokens"]
    assert got.height == 6 * 4
    for i in range(1, 6):
        assert got.filter(pl.col("id") == f"q{i}").sort("sample_index")["passed"].to_list() == [True, False, True, False]
    assert got.filter(pl.col("id") == "q0")["passed"].sum() == 0
    assert got["tokens"].to_list() == [len(t.split()) for t in got["completion"].to_list()]  # the fake counts words as tokens
    scored = pl.read_parquet(tmp_path / "s.parquet")
    per_id = got.group_by("id").agg(pl.col("passed").sum().alias("c"))
    assert dict(per_id.iter_rows()) == dict(scored.select("id", "score_pass_rate_passes").iter_rows())
    assert json.loads((tmp_path / "sum.json").read_text())["completions"]["rows"] == 24


def test_rft_and_dpo_recipes(runner, tmp_path, answers):
    src = write_rows(tmp_path)
    out = tmp_path / "rollouts.parquet"
    r = runner.invoke(
        app,
        [
            "score",
            str(src),
            "-s",
            "pass_rate",
            "--k",
            "4",
            "--engine",
            "fake",
            "--no-cache",
            "-o",
            str(tmp_path / "s.parquet"),
            "--completions",
            str(out),
        ],
    )
    assert r.exit_code == 0, r.output
    # the two recipes, as docs/feedback.md writes them
    rollouts = pl.read_parquet(out)
    prompts = pl.read_ndjson(src).select("id", "text")
    rft = (
        rollouts.filter(pl.col("passed"))
        .join(prompts, on="id")
        .group_by("id", maintain_order=True)
        .agg(pl.col("text").first().alias("prompt"), pl.col("completion").first())
    )
    pairs = (
        rollouts.filter(pl.col("passed"))
        .group_by("id")
        .agg(pl.col("completion").first().alias("chosen"))
        .join(rollouts.filter(~pl.col("passed")).group_by("id").agg(pl.col("completion").first().alias("rejected")), on="id")
        .join(prompts, on="id")
        .select(pl.col("text").alias("prompt"), "chosen", "rejected")
    )
    assert rft.height == 5 and "q0" not in rft["id"].to_list()  # verified positives only
    assert pairs.height == 5 and (pairs["chosen"] != pairs["rejected"]).all()
    assert all("####" in c and "#### 7" not in c for c in pairs["chosen"].to_list())


def test_completions_need_pass_rate_and_a_file(runner, tmp_path, answers):
    src = write_rows(tmp_path)
    r = runner.invoke(app, ["score", str(src), "-s", "length", "-o", str(tmp_path / "s.parquet"), "--completions", str(tmp_path / "c.jsonl")])
    assert r.exit_code == 2 and "add -s pass_rate" in r.output
    r = runner.invoke(
        app, ["score", str(src), "-s", "pass_rate", "--engine", "fake", "--no-cache", "-o", str(tmp_path / "s.parquet"), "--completions", "-"]
    )
    assert r.exit_code == 2 and "name a .jsonl or .parquet file" in r.output


@pytest.mark.vllm
def test_completions_of_the_real_model(vllm_engine, tmp_path):
    import pyarrow as pa

    from curate.completions import CompletionSink
    from curate.engines import EngineConfig, open_engine
    from curate.score import score_batch

    eng = open_engine(EngineConfig(cache_dir=str(tmp_path / "cache"), seed=0), engine=vllm_engine)
    sink = CompletionSink(str(tmp_path / "c.parquet"), "id")
    table = pa.Table.from_pylist(ROWS[1:4])
    scored = score_batch(table, ["pass_rate"], "text", {"k": 2, "max_tokens": 48, "temperature": 0.7}, eng, completions=sink)
    sink.close()
    got = pl.read_parquet(tmp_path / "c.parquet")
    assert got.height == 3 * 2 and sorted(got["sample_index"].unique().to_list()) == [0, 1]
    assert (got["tokens"] > 0).all() and (got["tokens"] <= 48).all()
    passes = dict(got.group_by("id").agg(pl.col("passed").sum()).iter_rows())
    assert passes == dict(zip(scored["id"].to_pylist(), scored["score_pass_rate_passes"].to_pylist()))
