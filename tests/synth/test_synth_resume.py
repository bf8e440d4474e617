"""Resumability through the request cache: a rerun redoes no finished engine call and writes the same rows."""

from __future__ import annotations

import json

import pytest
from synth_fakes import SEED_ROWS, Script, fake_engine

from curate.engines import EngineConfig, open_engine
from curate.synth import Mode, Output, SynthOptions, synthesize


class Boom(RuntimeError):
    pass


def opts():
    return SynthOptions(mode=Mode.defect, per_seed=2, critic_rounds=1, rounds=2, sc_samples=4, sc_min_agree=3, k=4)


def critic(text, n):
    # Reject every first-draft problem once, so refinement calls are part of the run; and drop
    # one of each pair for good (rejected again after refinement), so the rejects file has rows.
    if "new defect problem" in text:
        return json.dumps({"verdict": "reject", "reason": "unclear"})
    if "new refine problem" in text and "ans41" in text:
        return json.dumps({"verdict": "reject", "reason": "still unclear"})
    return None


def cached(tmp_path, name, inner):
    return open_engine(EngineConfig(engine="fake", cache_dir=str(tmp_path / name), seed=0), engine=inner)


def run_once(tmp_path, cache_name, out_name, inner):
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in SEED_ROWS))
    eng = cached(tmp_path, cache_name, inner)
    try:
        out = tmp_path / out_name
        summary = synthesize([str(src)], opts(), Output(str(out), rejects=str(tmp_path / (out_name + ".rej"))), generator=eng, target=eng)
    finally:
        eng.cache.close()
    rej = tmp_path / (out_name + ".rej")
    return out.read_bytes(), rej.read_bytes() if rej.exists() else b"", summary


def asked(engine):
    return [(json.dumps(p), json.dumps(c["params"].key(), sort_keys=True)) for c in engine.calls if c["method"] == "generate" for p in c["prompts"]]


def test_rerun_is_served_from_cache_with_identical_rows(tmp_path):
    first = fake_engine(Script(critic=critic, target_pass=0))
    out1, rej1, s1 = run_once(tmp_path, "c", "a.jsonl", first)
    assert first.calls and s1["new_rows"] > 0
    again = fake_engine(Script(critic=critic, target_pass=0))
    out2, rej2, s2 = run_once(tmp_path, "c", "b.jsonl", again)
    assert again.calls == []  # nothing regenerated
    assert out1 == out2 and rej1 == rej2
    assert s1["funnel"] == s2["funnel"]


def test_interrupted_run_resumes_without_redoing_finished_calls(tmp_path):
    reference = fake_engine(Script(critic=critic, target_pass=0))
    out_ref, rej_ref, _ = run_once(tmp_path, "ref", "ref.jsonl", reference)
    total = len(reference.calls)
    assert total >= 6

    script = Script(critic=critic, target_pass=0)
    state = {"calls": 0}

    killed = fake_engine(script)
    orig = killed.generate

    def generate(prompts, params):
        state["calls"] += 1
        if state["calls"] == total // 2:
            raise Boom("killed mid-run")
        return orig(prompts, params)

    killed.generate = generate  # type: ignore[method-assign]
    with pytest.raises(Boom):
        run_once(tmp_path, "resume", "r.jsonl", killed)
    finished = asked(killed)  # the killed call never reached the inner engine's record
    assert finished
    assert not (tmp_path / "r.jsonl").exists()  # nothing half-written

    resumed = fake_engine(Script(critic=critic, target_pass=0))
    out, rej, _ = run_once(tmp_path, "resume", "r.jsonl", resumed)
    assert out == out_ref and rej == rej_ref
    redone = set(asked(resumed)) & set(finished)
    assert not redone
    assert len(resumed.calls) < total
