"""A failed engine call is never a finished result: the run stops with exit 5 (or quarantines the
rows under --allow-engine-failures), nothing failed is stored, and a rerun computes exactly the
failed rows."""

import json

import polars as pl
import pytest

from curate.cli import app
from curate.engines.base import ENGINES, Completion
from curate.engines.fake import FakeEngine, prompt_text

STATE = {"broken": set()}  # question texts the engine fails on
CALLS: list[str] = []


class Flaky(FakeEngine):
    """Answers correctly, except for questions listed in STATE['broken'] (a failing server, say)."""

    @classmethod
    def from_config(cls, cfg):
        return cls(model="flaky-model")

    def generate(self, prompts, params):
        out = []
        for p in prompts:
            q = prompt_text(p).rsplit("Question:", 1)[-1].strip()  # the row's own question, after the few-shot examples
            CALLS.append(q)
            if any(b in q for b in STATE["broken"]):
                out.append(Completion(texts=[], error="HTTP 500 from the server"))
            else:
                n = sum(int(t) for t in q.split("What is ")[-1].split("?")[0].split(" + "))
                out.append(Completion(texts=[f"#### {n}"] * params.n, token_counts=[2] * params.n, finish_reasons=["stop"] * params.n))
        return out


ENGINES.add("flaky", Flaky)


@pytest.fixture
def rows(tmp_path, monkeypatch):
    monkeypatch.setenv("CURATE_REQUEST_CACHE", str(tmp_path / "rc"))
    STATE["broken"] = set()
    CALLS.clear()
    src = tmp_path / "in.jsonl"
    src.write_text(
        "".join(json.dumps({"id": f"r{i}", "text": f"What is {i} + {i}?", "answer": str(2 * i), "task_type": "math"}) + "\n" for i in range(10))
    )
    return src


def _score(runner, src, out, *extra):
    return runner.invoke(app, ["score", str(src), "-s", "pass_rate", "--engine", "flaky", "--k", "2", "-o", str(out), *extra])


def test_a_failing_engine_stops_the_run_and_a_rerun_computes_only_the_failed_rows(runner, rows, tmp_path):
    store = tmp_path / "rows.sqlite"
    STATE["broken"] = {"What is 3 + 3", "What is 7 + 7"}
    res = _score(runner, rows, tmp_path / "o.parquet", "--row-store", str(store))
    assert res.exit_code == 5, res.output
    assert "failed on 2 row(s)" in res.output and "HTTP 500" in res.output
    assert not (tmp_path / "o.parquet").exists()  # nothing half-written

    STATE["broken"] = set()  # the server is healthy again
    CALLS.clear()
    res = _score(runner, rows, tmp_path / "o.parquet", "--row-store", str(store), "--summary-json", str(tmp_path / "s.json"))
    assert res.exit_code == 0, res.output
    assert sorted(q.split("?")[0] for q in CALLS) == ["What is 3 + 3", "What is 7 + 7"]  # exactly the failed rows
    out = pl.read_parquet(tmp_path / "o.parquet")
    assert out["score_pass_rate"].to_list() == [1.0] * 10
    s = json.loads((tmp_path / "s.json").read_text())
    assert s["rows_computed"]["model"] == 2 and s["rows_reused"]["model"] == 8


def test_force_style_rerun_without_a_row_store_repeats_no_finished_call(runner, rows, tmp_path):
    STATE["broken"] = {"What is 5 + 5"}
    assert _score(runner, rows, tmp_path / "o.parquet").exit_code == 5
    STATE["broken"] = set()
    CALLS.clear()
    assert _score(runner, rows, tmp_path / "o.parquet").exit_code == 0
    assert [q.split("?")[0] for q in CALLS] == ["What is 5 + 5"]  # the request cache served the rest; the failure was never cached


def test_allowed_failures_are_quarantined_with_the_reason(runner, rows, tmp_path):
    STATE["broken"] = {"What is 2 + 2"}
    rej = tmp_path / "rej.jsonl"
    res = _score(
        runner, rows, tmp_path / "o.parquet", "--allow-engine-failures", "0.2", "--rejects", str(rej), "--summary-json", str(tmp_path / "s.json")
    )
    assert res.exit_code == 0, res.output
    out = pl.read_parquet(tmp_path / "o.parquet")
    quarantined = [json.loads(line) for line in rej.read_text().splitlines()]
    assert len(out) == 9 and [q["id"] for q in quarantined] == ["r2"]
    assert quarantined[0]["reject_reason"].startswith("engine failure:") and "HTTP 500" in quarantined[0]["reject_reason"]
    s = json.loads((tmp_path / "s.json").read_text())
    assert s["rows_in"] == s["rows_out"] + s["quarantined"] == 10
    assert s["engine_failures"]["rows"] == 1


def test_failures_above_the_allowed_rate_exit_5_with_the_output_and_rejects_written(runner, rows, tmp_path):
    STATE["broken"] = {"What is 1 + 1", "What is 2 + 2", "What is 4 + 4"}
    res = _score(runner, rows, tmp_path / "o.parquet", "--allow-engine-failures", "0.2", "--rejects", str(tmp_path / "rej.jsonl"))
    assert res.exit_code == 5, res.output
    assert "failed on 3 of 10 rows" in res.output
    assert len(pl.read_parquet(tmp_path / "o.parquet")) == 7 and len((tmp_path / "rej.jsonl").read_text().splitlines()) == 3
