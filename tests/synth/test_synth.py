"""Synthesis on the fake engine: every branch of the funnel, lineage, dedup, decontamination, output."""

from __future__ import annotations

import json

import pytest
from synth_fakes import SEED_ROWS, Script, fake_engine, problem_json, words

from curate.synth import Mode, MonotonicPolicy, Output, SynthOptions, run, synthesize
from curate.synth.funnel import STAGES
from curate.synth.lineage import stable_id


def ladder_opts(**kw):
    base = dict(mode=Mode.ladder, harder=2, easier=1, sc_samples=4, sc_min_agree=3, k=4)
    base.update(kw)
    return SynthOptions(**base)


def defect_opts(**kw):
    base = dict(mode=Mode.defect, per_seed=2, critic_rounds=2, sc_samples=4, sc_min_agree=3, k=4, max_pass_rate=0.5)
    base.update(kw)
    return SynthOptions(**base)


def kept(cands):
    return [c for c in cands if c.alive]


def reasons(cands):
    return sorted(c.reason for c in cands if c.reason)


def assert_funnel_adds_up(cands, summary):
    f = summary["funnel"]["stages"]["total"]
    assert f["attempted"] == len(cands)
    assert f["kept"] == len(kept(cands))
    assert sum(summary["funnel"]["reasons"].get("total", {}).values()) == f["attempted"] - f["kept"]
    assert [f[s] for s in STAGES] == sorted((f[s] for s in STAGES), reverse=True)


def test_ladder_keeps_monotonic_variants_with_lineage():
    eng = fake_engine()
    cands, summary = run([SEED_ROWS[0]], ladder_opts(), eng, eng)
    k = kept(cands)
    assert sorted(c.level for c in k) == [-1, 1, 2]
    assert_funnel_adds_up(cands, summary)
    for c in k:
        row = c.row(ladder_opts(), eng.model)
        assert row["parent_id"] == "p1" and row["synth_mode"] == "ladder" and row["synth_round"] == 1
        assert row["id"] == stable_id("p1", c.op, c.problem)
        assert row["generator_model"] == "fake-gen"
        v = json.loads(row["verification"])
        assert v["answer_agreement"] == "4/4" and v["target_pass_rate"] == row["synth_target_pass_rate"]
        assert v["parent_pass_rate"] == 0.5
    ops = {c.level: c.op for c in k}
    assert ops[1] in ladder_opts().harder_ops and ops[-1] in ladder_opts().easier_ops
    # Level 2 was rewritten from level 1, not from the parent.
    lvl1 = next(c for c in k if c.level == 1)
    assert next(c for c in k if c.level == 2).source_text == lvl1.problem
    levels = summary["pass_rate_by_level"]["measured"]
    assert levels["-1"]["mean_pass_rate"] > levels["0"]["mean_pass_rate"] > levels["1"]["mean_pass_rate"] > levels["2"]["mean_pass_rate"]


def test_structured_output_requested_and_optional():
    eng = fake_engine()
    run([SEED_ROWS[0]], ladder_opts(harder=1, easier=0), eng, eng)
    gen_calls = [c for c in eng.calls if "Rewrite this problem" in json.dumps(c["prompts"])]
    assert gen_calls and gen_calls[0]["params"].json_schema["required"] == ["problem", "solution", "answer"]
    eng2 = fake_engine()
    run([SEED_ROWS[0]], ladder_opts(harder=1, easier=0, structured=False), eng2, eng2)
    assert all(c["params"].json_schema is None for c in eng2.calls)


def test_malformed_json_is_repaired_then_recorded():
    calls = {"n": 0}

    def gen(kind, text, i):
        if kind == "ladder":
            return 'Sure! {"problem": "unfinished'
        return None  # the repair prompt gets a valid answer

    cands, summary = run([SEED_ROWS[0]], ladder_opts(harder=1, easier=0), fake_engine(Script(generate=gen)), fake_engine())
    assert summary["json"]["generate"]["parsed_after_retry"] == 1
    assert kept(cands) and kept(cands)[0].notes["json_attempts"] == 2
    del calls

    always_bad = Script(generate=lambda kind, text, i: "not json at all")
    eng = fake_engine(always_bad)
    cands, summary = run([SEED_ROWS[0]], ladder_opts(harder=1, easier=0, json_retries=2), eng, eng)
    assert reasons(cands) == ["unparseable"]
    assert summary["json"]["generate"] == {**summary["json"]["generate"], "requested": 1, "failed": 1, "parse_rate": 0.0}
    assert sum(1 for k, _ in always_bad.seen if k == "repair") == 2
    assert cands[0].raw == "not json at all" and cands[0].stage == "attempted"


@pytest.mark.parametrize(
    "output, reason",
    [
        ("", "empty"),
        ("   ", "empty"),
        (problem_json("I'm sorry, but I cannot help with that request today."), "refusal"),
        (problem_json("Reply with JSON only: a problem about apples and pears and plums."), "template_leak"),
        (problem_json("Tom has 3 apples and buys 4 more. How many apples does he have now?"), "near_duplicate_parent"),
        (problem_json("Hi."), "empty"),
    ],
)
def test_eliminator_reasons(output, reason):
    eng = fake_engine(Script(generate=lambda kind, text, i: output if kind in ("ladder", "repair") else None))
    cands, summary = run([SEED_ROWS[0]], ladder_opts(harder=1, easier=0, json_retries=1), eng, eng)
    assert reasons(cands) == [reason]
    assert summary["funnel"]["reasons"]["total"] == {reason: 1}
    assert_funnel_adds_up(cands, summary)


def test_chain_stops_after_an_eliminated_level():
    def gen(kind, text, i):
        return "" if kind in ("ladder", "repair") and "harder" in text else None

    eng = fake_engine(Script(generate=gen))
    cands, _ = run([SEED_ROWS[0]], ladder_opts(harder=3, easier=1, json_retries=0), eng, eng)
    assert sorted(c.level for c in cands) == [-1, 1]  # levels 2 and 3 never attempted


def test_self_consistency_failure():
    eng = fake_engine(Script(agree=2))
    cands, summary = run([SEED_ROWS[0]], ladder_opts(harder=1, easier=0), eng, eng)
    assert reasons(cands) == ["self_consistency"]
    assert cands[0].agree == 2 and cands[0].stage == "parsed"


def test_monotonicity_drop_and_relabel():
    # Every variant passes 3/4: the harder ones are easier than the parent (0.5).
    eng = fake_engine(Script(target_pass=3))
    cands, summary = run([SEED_ROWS[0]], ladder_opts(harder=2, easier=1), eng, eng)
    assert reasons(cands) == ["not_monotonic", "not_monotonic"]
    assert [c.level for c in kept(cands)] == [-1]
    assert summary["monotonic"] == {"checked": 3, "dropped": 2, "relabelled": 0}

    eng = fake_engine(Script(target_pass=3))
    cands, summary = run([SEED_ROWS[0]], ladder_opts(harder=2, easier=1, monotonic=MonotonicPolicy.relabel), eng, eng)
    assert not reasons(cands)
    assert sorted(c.level for c in cands) == [-3, -2, -1]
    assert summary["monotonic"]["relabelled"] == 3
    assert {c.notes["intended_level"] for c in cands} == {-1, 1, 2}


def test_parent_pass_rate_is_measured_when_missing():
    row = {k: v for k, v in SEED_ROWS[0].items() if not k.startswith("score_")}
    eng = fake_engine(Script())
    cands, summary = run([row], ladder_opts(harder=1, easier=0), eng, eng)
    assert summary["measured_parent_pass_rates"] == 1


def test_defect_critic_reject_then_refine_accepts():
    def critic(text, n):
        return json.dumps({"verdict": "reject", "reason": "the answer is wrong"}) if "new defect problem" in text else None

    script = Script(critic=critic, target_pass=0)
    eng = fake_engine(script)
    cands, summary = run([SEED_ROWS[1]], defect_opts(per_seed=1), eng, eng)
    (c,) = cands
    assert c.alive and c.notes["refinements"] == 1
    assert [v["verdict"] for v in c.critic] == ["reject", "accept"]
    refine_prompts = [t for k, t in script.seen if k == "refine"]
    assert len(refine_prompts) == 1 and "the answer is wrong" in refine_prompts[0]
    v = json.loads(c.verification())
    assert v["critic_verdict"] == "accept" and v["target_pass_rate"] == 0.0
    assert c.mode == "defect" and c.level is None and c.parent_id == "p2"


def test_defect_critic_keeps_rejecting():
    script = Script(critic=lambda text, n: json.dumps({"verdict": "reject", "reason": "ambiguous"}), target_pass=0)
    eng = fake_engine(script)
    cands, summary = run([SEED_ROWS[1]], defect_opts(per_seed=1, critic_rounds=2), eng, eng)
    assert reasons(cands) == ["critic_rejected"]
    assert len(cands[0].critic) == 3 and sum(1 for k, _ in script.seen if k == "refine") == 2


def test_defect_unparseable_critique_counts_as_rejection():
    eng = fake_engine(Script(critic=lambda text, n: "looks fine to me", target_pass=0))
    cands, _ = run([SEED_ROWS[1]], defect_opts(per_seed=1, critic_rounds=0, json_retries=0), eng, eng)
    assert reasons(cands) == ["critic_rejected"]


def test_defect_keeps_only_what_the_target_fails():
    eng = fake_engine(Script(target_pass=2))  # pass rate 0.5, not below 0.5
    cands, summary = run(SEED_ROWS, defect_opts(), eng, eng)
    assert reasons(cands) == ["target_pass_rate"] * 4
    assert summary["seeds"] == 2
    eng = fake_engine(Script(target_pass=1))
    cands, summary = run(SEED_ROWS, defect_opts(), eng, eng)
    assert len(kept(cands)) == 4
    assert_funnel_adds_up(cands, summary)
    # Seeds: the frontier row first, then the row with pass rate <= 0.5.
    assert [c.parent_id for c in cands] == ["p2", "p2", "p1", "p1"]


def test_defect_seed_selection_by_bucket_and_rate():
    eng = fake_engine(Script(target_pass=0))
    _, summary = run(SEED_ROWS, defect_opts(seed_max_pass_rate=0.2), eng, eng)
    assert summary["seeds"] == 1
    _, summary = run(SEED_ROWS, defect_opts(seed_buckets=(), seed_max_pass_rate=0.6, max_seeds=1), eng, eng)
    assert summary["seeds"] == 1


def test_defect_rounds_seed_from_previous_round():
    eng = fake_engine(Script(target_pass=0))
    cands, summary = run([SEED_ROWS[1]], defect_opts(per_seed=1, rounds=3), eng, eng)
    assert [c.round for c in cands] == [1, 2, 3]
    assert cands[1].parent_id == cands[0].id and cands[2].parent_id == cands[1].id
    assert all(c.alive for c in cands)


def test_dedup_against_input_and_among_new_rows():
    dup_of_input = "A farmer has twelve cows and buys nine more cows at the market. How many cows now?"
    rows = [SEED_ROWS[0], {"id": "x", "text": dup_of_input, "answer": "21", "score_pass_rate": 0.5}]
    base = words("shared", 14)

    def gen(kind, text, i):
        if kind != "defect":
            return None
        if "Tom has" in text:
            # Sample 0 copies another input row; samples 1 and 2 are near-identical to each other.
            return [
                problem_json(dup_of_input + " ans7 agree4 pass0"),
                problem_json(f"{base} ans7 agree4 pass0 one"),
                problem_json(f"{base} ans7 agree4 pass0 two"),
            ][i]
        return None

    eng = fake_engine(Script(generate=gen))
    cands, summary = run(rows, defect_opts(per_seed=3, max_seeds=1, parent_dup_threshold=0.95), eng, eng)
    assert reasons(cands) == ["near_duplicate", "near_duplicate"] or reasons(cands) == ["duplicate_exact", "near_duplicate"]
    by_sample = {c.sample: c for c in cands}
    assert by_sample[0].reason in ("duplicate_exact", "near_duplicate") and "input:x" in by_sample[0].detail
    assert by_sample[1].alive and by_sample[2].reason == "near_duplicate" and by_sample[1].id in by_sample[2].detail


def test_exact_duplicate_among_new_rows():
    same = problem_json("The same brand new question about seven boxes of pens ans5 agree4 pass0", "5")
    eng = fake_engine(Script(generate=lambda kind, text, i: same if kind == "defect" else None))
    cands, _ = run([SEED_ROWS[1]], defect_opts(per_seed=2), eng, eng)
    assert reasons(cands) == ["duplicate_exact"]


def test_decontamination(tmp_path):
    bench = tmp_path / "bench.jsonl"
    eng = fake_engine(Script(target_pass=0))
    cands, _ = run([SEED_ROWS[1]], defect_opts(per_seed=2), eng, eng)
    leaked = cands[0].problem
    bench.write_text(json.dumps({"question": "Prefix words. " + leaked + " Suffix.", "answer": "1"}) + "\n")
    txt = tmp_path / "bench.txt"
    txt.write_text("nothing in common here at all, really nothing in common")
    eng = fake_engine(Script(target_pass=0))
    cands, summary = run([SEED_ROWS[1]], defect_opts(per_seed=2, decontaminate=(str(bench), str(txt)), ngram=8), eng, eng)
    assert reasons(cands) == ["contaminated"]
    assert summary["decontamination"]["hits"] == {str(bench): 1, str(txt): 0}
    assert str(bench) in cands[0].detail


def test_write_outputs_rejects_and_summary(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in SEED_ROWS))
    out, rej, summ = tmp_path / "out.jsonl", tmp_path / "rej.jsonl", tmp_path / "s.json"
    eng = fake_engine()
    summary = synthesize([str(src)], ladder_opts(), Output(str(out), rejects=str(rej), summary_json=str(summ)), generator=eng, target=eng)
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    rejected = [json.loads(line) for line in rej.read_text().splitlines()]
    f = summary["funnel"]["stages"]["total"]
    assert len(rows) == f["kept"] == summary["new_rows"] and len(rejected) == f["attempted"] - f["kept"]
    assert all(r["reject_reason"] and r["reject_stage"] in STAGES for r in rejected)
    assert {r["parent_id"] for r in rows} <= {"p1", "p2"}
    assert json.loads(summ.read_text())["funnel"] == summary["funnel"]
    # Parquet and --append: input rows first, then the new rows, lineage null on input rows.
    import pyarrow.parquet as pq

    pout = tmp_path / "out.parquet"
    synthesize([str(src)], ladder_opts(append=True), Output(str(pout), rejects=str(rej)), generator=eng, target=eng)
    t = pq.read_table(pout).to_pylist()
    assert [r["id"] for r in t[:2]] == ["p1", "p2"] and t[0]["parent_id"] is None
    assert len(t) == 2 + len(rows) and t[0]["score_pass_rate"] == 0.5 and t[2]["score_pass_rate"] is None


def test_run_is_deterministic():
    a, _ = run(SEED_ROWS, ladder_opts(), fake_engine(), fake_engine())
    b, _ = run(SEED_ROWS, ladder_opts(), fake_engine(), fake_engine())
    assert [c.row(ladder_opts(), "m") for c in a] == [c.row(ladder_opts(), "m") for c in b]


def test_bad_options_are_usage_errors():
    from curate.errors import UsageError

    eng = fake_engine()
    with pytest.raises(UsageError):
        run(SEED_ROWS, ladder_opts(sc_samples=2, sc_min_agree=3), eng, eng)
    with pytest.raises(UsageError, match="unknown ladder operation"):
        run(SEED_ROWS, ladder_opts(harder_ops=("nope",)), eng, eng)
    with pytest.raises(UsageError):
        run(SEED_ROWS, ladder_opts(harder=0, easier=0), eng, eng)
