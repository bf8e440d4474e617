"""`curate synthesize` through the CLI, on a scripted fake engine registered like any engine."""

from __future__ import annotations

import json

import pytest
from synth_fakes import SEED_ROWS, Script

from curate.cli import app
from curate.engines.base import ENGINES
from curate.engines.fake import FakeEngine


class ScriptedFake(FakeEngine):
    @classmethod
    def from_config(cls, cfg):
        return cls(model=cfg.model or "fake-gen", responder=Script(target_pass=0))


ENGINES.add("synth-fake", ScriptedFake)


@pytest.fixture
def src(tmp_path, monkeypatch):
    monkeypatch.setenv("CURATE_CACHE_DIR", str(tmp_path / "cache"))
    p = tmp_path / "in.jsonl"
    p.write_text("".join(json.dumps(r) + "\n" for r in SEED_ROWS))
    return p


def test_cli_ladder_to_file(runner, src, tmp_path):
    out, rej, summ = tmp_path / "out.jsonl", tmp_path / "rej.jsonl", tmp_path / "s.json"
    res = runner.invoke(
        app,
        [
            "synthesize",
            str(src),
            "-o",
            str(out),
            "--engine",
            "synth-fake",
            "--mode",
            "ladder",
            "-L",
            "2",
            "-E",
            "1",
            "--rejects",
            str(rej),
            "--summary-json",
            str(summ),
        ],
    )
    assert res.exit_code == 0, res.output
    s = json.loads(summ.read_text())
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    total = s["funnel"]["stages"]["total"]
    assert len(rows) == total["kept"] == s["new_rows"]
    n_rej = len(rej.read_text().splitlines()) if rej.exists() else 0
    assert n_rej == total["attempted"] - total["kept"]
    for r in rows:
        assert r["parent_id"] in {"p1", "p2"} and r["synth_mode"] == "ladder" and r["generator_model"] == "fake-gen"
        assert json.loads(r["verification"])["target_k"] == 4


def test_cli_defect_to_stdout_with_append(runner, src, tmp_path):
    res = runner.invoke(
        app,
        ["synthesize", str(src), "--engine", "synth-fake", "--mode", "defect", "--per-seed", "1", "--append", "--rejects", str(tmp_path / "r.jsonl")],
    )
    assert res.exit_code == 0, res.output
    rows = [json.loads(line) for line in res.stdout.splitlines() if line.startswith("{")]
    assert [r["id"] for r in rows[:2]] == ["p1", "p2"]
    assert rows[2:] and all(r["synth_mode"] == "defect" for r in rows[2:])


def test_cli_missing_answer_column_is_a_clean_error(runner, tmp_path, monkeypatch):
    monkeypatch.setenv("CURATE_CACHE_DIR", str(tmp_path / "cache"))
    p = tmp_path / "in.jsonl"
    p.write_text(json.dumps({"id": "a", "text": "What is 2 + 2?"}) + "\n")
    res = runner.invoke(app, ["synthesize", str(p), "--engine", "synth-fake", "-o", str(tmp_path / "o.jsonl")])
    assert res.exit_code == 3
    assert "answer" in res.output


def test_cli_help_has_example(runner):
    res = runner.invoke(app, ["synthesize", "--help"])
    assert res.exit_code == 0 and "curate synthesize" in res.output and "--generator-model" in res.output
