"""Hint mode: splitting solutions into steps, rungs, the Wilson monotonicity check, keep policies, lineage."""

from __future__ import annotations

import json

import pytest
from synth.modes import GSM_ROW, LINE_ROW, NO_SOLUTION_ROW, target

from curate.errors import UsageError
from curate.synth import KeepPolicy, Mode, Output, SynthOptions, run, synthesize
from curate.synth.funnel import STAGES
from curate.synth.hint import parse_rungs, split_steps


def opts(**kw):
    base = dict(mode=Mode.hint, k=4, fractions=("0.25", "0.5", "n-1", "1"), seed_max_pass_rate=1.0, keep=KeepPolicy.all)
    base.update(kw)
    return SynthOptions(**base)


def hints(text, ends):
    return [text[:e].strip() for e in ends]


def test_split_steps_lines_annotations_and_final_answer():
    text, ends = split_steps(GSM_ROW["solution"])
    assert hints(text, ends) == [
        "Ann has 16 - 3 = 13 eggs after breakfast.",
        "Ann has 16 - 3 = 13 eggs after breakfast.\nShe sells 13 - 4 = 9 eggs.",
        "Ann has 16 - 3 = 13 eggs after breakfast.\nShe sells 13 - 4 = 9 eggs.\nShe makes 9 * 2 = $18.",
        "Ann has 16 - 3 = 13 eggs after breakfast.\nShe sells 13 - 4 = 9 eggs.\nShe makes 9 * 2 = $18.\nThat is $18 every day.",
    ]
    assert "####" not in text and "<<" not in text


def test_split_steps_sentences_on_one_line():
    text, ends = split_steps(LINE_ROW["solution"])
    assert hints(text, ends) == ["60 * 2 = 120.", "60 * 2 = 120. 100 * 3 = 300.", "60 * 2 = 120. 100 * 3 = 300. 120 + 300 = 420"]
    text, ends = split_steps("It costs $3.50 a kilo, so 2 kilos cost 7.00 dollars.\n#### 7")
    assert len(ends) == 1  # decimals do not end a sentence
    assert split_steps("#### 5") == ("", [])
    assert split_steps("") == ("", [])


@pytest.mark.parametrize("n, sizes", [(4, [1, 2, 3, 4]), (2, [0, 1, 1, 2]), (5, [1, 2, 4, 5]), (1, [0, 0, 0, 1])])
def test_rung_sizes(n, sizes):
    assert [r.size(n) for r in parse_rungs(("0.25", "0.5", "n-1", "1"))] == sizes


def test_rungs_parse_lists_and_reject_nonsense():
    assert [r.label for r in parse_rungs(["0.25,0.5", "n-1", "n", "1/3"])] == ["0.25", "0.5", "n-1", "n", "1/3"]
    for bad in ("0", "1.5", "half", "n-x", "-0.5", ","):
        with pytest.raises(UsageError):
            parse_rungs((bad,))


def test_hint_ladder_lineage_and_levels():
    tgt = target(lambda q, steps: steps)  # more hint, more passes
    cands, summary = run([GSM_ROW, LINE_ROW], opts(), tgt, tgt)
    kept = [c for c in cands if c.alive]
    g = sorted((c for c in kept if c.parent_id == "g1"), key=lambda c: -c.level)
    assert [c.level for c in g] == [-1, -2, -3, -4]
    assert [c.notes["hint_steps"] for c in g] == ["1/4", "2/4", "3/4", "4/4"]
    assert g[2].notes["hint_rungs"] == ["n-1"] and g[3].notes["hint_rungs"] == ["1"]
    for c in g:
        row = c.row(opts(), None)
        assert row["synth_mode"] == "hint" and row["synth_op"] == "hint" and row["parent_id"] == "g1"
        assert row["answer"] == "18" and row["solution"] == GSM_ROW["solution"]
        assert row["text"] == f"{GSM_ROW['text']}\n\nHint: {row['synth_hint']}"
        assert row["generator_model"] is None
        v = json.loads(row["verification"])
        assert v["target_model"] == "fake-target" and v["target_pass_rate"] == row["synth_target_pass_rate"]
    assert [c.target_pass_rate for c in g] == [0.25, 0.5, 0.75, 1.0]
    line = sorted((c for c in kept if c.parent_id == "l1"), key=lambda c: -c.level)
    assert [c.notes["hint_rungs"] for c in line] == [["0.5"], ["n-1"], ["1"]]  # ⌊0.25·3⌋ = 0 steps is no hint
    by_rung = summary["pass_rate_by_rung"]
    assert by_rung["1"]["passes"] == 4 + 3 and by_rung["1"]["samples"] == 8
    levels = summary["pass_rate_by_level"]["measured"]
    assert levels["parent"]["pass_rate"] == 0.0 and levels["-1"]["n"] == 2 and levels["-1"]["mean_pass_rate"] == 0.25
    assert levels["-1"]["pass_rate"] == 2 / 8 and levels["-1"]["wilson"][0] < 0.25 < levels["-1"]["wilson"][1]
    f = summary["funnel"]["stages"]["total"]
    assert f["attempted"] == 7 == f["kept"]


def test_keep_smallest_learnable():
    tgt = target(lambda q, steps: 0 if steps < 2 else 4 if steps >= 4 else 2)
    cands, summary = run([GSM_ROW], opts(keep=KeepPolicy.smallest_learnable), tgt, tgt)
    kept = [c for c in cands if c.alive]
    assert [c.notes["hint_steps"] for c in kept] == ["2/4"]
    reasons = {c.notes["hint_steps"]: c.reason for c in cands}
    assert reasons == {"1/4": "not_learnable", "2/4": None, "3/4": "larger_hint", "4/4": "larger_hint"}
    assert summary["keep"] == {"kept": 1, "not_learnable": 1, "larger_hint": 2}
    # Nothing learnable: nothing kept, every rung says why.
    never = target(lambda q, steps: 0)
    cands, _ = run([GSM_ROW], opts(keep=KeepPolicy.smallest_learnable), never, never)
    assert not [c for c in cands if c.alive] and {c.reason for c in cands} == {"not_learnable"}


def test_monotonicity_within_the_wilson_interval():
    # Parent 0/4. The 1-step hint passes 4/4 (Wilson lower bound 0.51); larger hints pass 1/4 and 0/4: below it.
    tgt = target(lambda q, steps: {0: 0, 1: 4, 2: 1}.get(steps, 0))
    cands, summary = run([GSM_ROW], opts(), tgt, tgt)
    by = {c.notes["hint_steps"]: c for c in cands}
    assert by["1/4"].alive and by["2/4"].reason == "not_monotonic" and by["4/4"].reason == "not_monotonic"
    assert "Wilson" in by["2/4"].detail
    assert summary["monotonic"]["dropped"] == 3
    # A dip inside the interval is noise, not a violation: 3/4 then 2/4 (lower bound of 3/4 is 0.30).
    tgt = target(lambda q, steps: {0: 0, 1: 3}.get(steps, 2))
    cands, summary = run([GSM_ROW], opts(), tgt, tgt)
    assert all(c.alive for c in cands) and summary["monotonic"]["dropped"] == 0


def test_rows_without_steps_or_solution():
    tgt = target(lambda q, steps: 0)
    one_step = {**LINE_ROW, "id": "o1", "solution": "60 * 2 = 120\n#### 120", "answer": "120", "text": "What is 60 * 2?"}
    cands, summary = run([one_step, NO_SOLUTION_ROW, {**LINE_ROW, "id": "e1", "solution": "#### 420"}], opts(fractions=("0.5",)), tgt, tgt)
    assert summary["no_solution"] == 1 and summary["seeds"] == 2
    assert [(c.parent_id, c.reason) for c in cands] == [("o1", "no_steps"), ("e1", "no_steps")]
    assert all(c.stage == "attempted" for c in cands)


def test_hint_variants_are_not_near_duplicates_of_their_parent_but_decontamination_applies(tmp_path):
    tgt = target(lambda q, steps: steps)
    cands, _ = run([GSM_ROW], opts(), tgt, tgt)
    assert all(c.alive for c in cands)  # each variant contains its parent's text
    bench = tmp_path / "bench.jsonl"
    bench.write_text(json.dumps({"question": GSM_ROW["text"]}) + "\n")
    cands, summary = run([GSM_ROW], opts(decontaminate=(str(bench),)), tgt, tgt)
    assert {c.reason for c in cands} == {"contaminated"}


def test_write_rows_rejects_and_rerun_from_cache(tmp_path):
    from curate.engines import EngineConfig, open_engine

    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in (GSM_ROW, LINE_ROW, NO_SOLUTION_ROW)))
    outs = []
    for attempt in range(2):
        inner = target(lambda q, steps: 0 if steps < 2 else 2)
        eng = open_engine(EngineConfig(engine="fake", cache_dir=str(tmp_path / "cache"), seed=0), engine=inner)
        out, rej = tmp_path / f"out{attempt}.jsonl", tmp_path / f"rej{attempt}.jsonl"
        summary = synthesize([str(src)], opts(keep=KeepPolicy.smallest_learnable), Output(str(out), rejects=str(rej)), generator=eng, target=eng)
        eng.cache.close()
        rows = [json.loads(line) for line in out.read_text().splitlines()]
        rejects = [json.loads(line) for line in rej.read_text().splitlines()]
        f = summary["funnel"]["stages"]["total"]
        assert len(rows) == f["kept"] == 2 and len(rejects) == f["attempted"] - f["kept"]
        assert all(r["reject_reason"] and r["reject_stage"] in STAGES for r in rejects)
        assert {r["synth_hint"] is not None for r in rows} == {True}
        outs.append((out.read_bytes(), rej.read_bytes(), len(inner.calls)))
    assert outs[0][:2] == outs[1][:2]  # the same rows, byte for byte
    assert outs[0][2] > 0 and outs[1][2] == 0  # the rerun asked the model nothing


def test_bad_hint_options_are_usage_errors():
    from curate.synth import MonotonicPolicy

    tgt = target(lambda q, steps: 0)
    with pytest.raises(UsageError, match="not a hint rung"):
        run([GSM_ROW], opts(fractions=("2",)), tgt, tgt)
    with pytest.raises(UsageError, match="applies to ladder mode"):
        run([GSM_ROW], opts(monotonic=MonotonicPolicy.relabel), tgt, tgt)


def test_the_report_shows_pass_rate_per_hint_level():
    from curate.report.html import _ladder_levels

    tgt = target(lambda q, steps: steps)
    _, summary = run([GSM_ROW], opts(), tgt, tgt)
    html = _ladder_levels(summary)
    assert '<tr><td>parent</td><td class="n">1</td><td class="n">0</td>' in html
    for level, rate in (("-1", "0.25"), ("-2", "0.5"), ("-3", "0.75"), ("-4", "1")):
        assert f'<tr><td>{level}</td><td class="n">1</td><td class="n">{rate}</td>' in html


def test_pipeline_file_passes_rungs_as_a_list(runner, tmp_path, monkeypatch):
    from curate.cli import app

    monkeypatch.setenv("CURATE_CACHE_DIR", str(tmp_path / "cache"))
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in (GSM_ROW, LINE_ROW)))
    p = tmp_path / "p.yaml"
    p.write_text(
        f"input: {src}\noutput: {tmp_path / 'run'}\nengine: {{engine: fake}}\nstages:\n"
        "  - synthesize: {mode: hint, fractions: [0.5, n-1], keep: all, seed_max_pass_rate: 1.0}\n"
    )
    res = runner.invoke(app, ["run", str(p)])
    assert res.exit_code == 0, res.output
    summary = json.loads((tmp_path / "run" / "synth-summary.json").read_text())["stages"][0]
    assert set(summary["pass_rate_by_rung"]) == {"0.5", "n-1"} and summary["funnel"]["stages"]["total"]["attempted"] == 4
