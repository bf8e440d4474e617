"""Numeric mode through the synthesis machinery: lineage, levels, skipped rows, monotonicity, the CLI, Ray."""

from __future__ import annotations

import json
import re

import pytest
from synth.arith import annotations_hold, final, plain_steps_hold, value
from synth.modes import ALGEBRA_ROW, GSM_ROW, LINE_ROW, NO_SOLUTION_ROW, target

from curate.synth import Mode, Output, SynthOptions, run, synthesize


def opts(**kw):
    base = dict(mode=Mode.numeric, k=4, variants=2, harder_digits=2)
    base.update(kw)
    return SynthOptions(**base)


def test_variants_lineage_levels_and_exact_answers():
    tgt = target(lambda q, steps: 2)
    cands, summary = run([GSM_ROW, LINE_ROW], opts(), tgt, tgt)
    kept = [c for c in cands if c.alive]
    assert len(kept) == 2 * 3 * 2  # rows × levels 0..2 × variants
    for c in kept:
        row = c.row(opts(), None)
        assert row["synth_mode"] == "numeric" and row["synth_level"] in (0, 1, 2) and row["parent_id"] in ("g1", "l1")
        assert row["generator_model"] is None and row["synth_hint"] is None
        # Independent recomputation: from the new problem's numbers, with the problem's own formula...
        n = [int(x) for x in re.findall(r"\d+", row["text"])]
        expected = (n[0] - n[1] - n[2]) * n[3] if c.parent_id == "g1" else n[0] * n[1] + n[2] * n[3]
        assert value(row["answer"]) == expected == final(row["solution"])
        # ...and every written step re-evaluated.
        steps = annotations_hold(row["solution"]) if c.parent_id == "g1" else plain_steps_hold(row["solution"])
        assert steps and all(got == written for _, got, written in steps)
        v = json.loads(row["verification"])
        assert v["digits_added"] == row["synth_level"] and v["chain"][-1].endswith(f"= {row['answer']}")
    levels = summary["pass_rate_by_level"]["measured"]
    assert list(levels) == ["parent", "0", "1", "2"] and levels["1"]["samples"] == 2 * 2 * 4 and levels["1"]["pass_rate"] == 0.5
    assert summary["funnel"]["stages"]["total"]["kept"] == len(kept)


def test_rows_that_do_not_parse_are_one_reject_each_never_a_variant(tmp_path):
    src = tmp_path / "in.jsonl"
    wrong = {**LINE_ROW, "id": "w1", "solution": "60 * 2 = 120. 100 * 3 = 300. 120 + 300 = 430\n#### 430", "answer": "430"}
    src.write_text("".join(json.dumps(r) + "\n" for r in (ALGEBRA_ROW, wrong, NO_SOLUTION_ROW, LINE_ROW)))
    out, rej = tmp_path / "out.jsonl", tmp_path / "rej.jsonl"
    tgt = target(lambda q, steps: 1)
    summary = synthesize([str(src)], opts(variants=1, harder_digits=0), Output(str(out), rejects=str(rej)), generator=tgt, target=tgt)
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    rejects = {r["parent_id"]: r for r in map(json.loads, rej.read_text().splitlines())}
    assert [r["parent_id"] for r in rows] == ["l1"]
    assert rejects["a1"]["reject_reason"].startswith("unexplained_number:") and rejects["a1"]["reject_stage"] == "attempted"
    assert rejects["w1"]["reject_reason"].startswith("chain_mismatch:") and rejects["w1"]["reject_stage"] == "parsed"
    assert summary["no_solution"] == 1
    f = summary["funnel"]
    assert f["stages"]["total"]["attempted"] == 3 and f["reasons"]["total"] == {"chain_mismatch": 1, "unexplained_number": 1}


def test_harder_level_passed_more_often_is_dropped():
    # Parent and level 0 pass 0/4 (Wilson upper bound of 0/12 pooled: 0.24); level 1 (2-digit hours) passes 4/4.
    def passes(q, steps):
        return 4 if len(re.findall(r"\d+", q)[1]) == 2 else 0

    tgt = target(passes)
    cands, summary = run([LINE_ROW], opts(harder_digits=1), tgt, tgt)
    by = {(c.level, c.sample): c for c in cands}
    assert all(by[(0, i)].alive for i in range(2)) and all(by[(1, i)].reason == "not_monotonic" for i in range(2))
    assert summary["monotonic"]["dropped"] == 2


def test_same_seed_same_rows_and_seed_changes_numbers():
    tgt = target(lambda q, steps: 1)
    a, _ = run([GSM_ROW], opts(), tgt, tgt)
    b, _ = run([GSM_ROW], opts(), tgt, tgt)
    c, _ = run([GSM_ROW], opts(seed=1), tgt, tgt)
    assert [x.problem for x in a] == [x.problem for x in b] != [x.problem for x in c]


@pytest.fixture
def src(tmp_path, monkeypatch):
    monkeypatch.setenv("CURATE_CACHE_DIR", str(tmp_path / "cache"))
    p = tmp_path / "in.jsonl"
    p.write_text("".join(json.dumps(r) + "\n" for r in (GSM_ROW, LINE_ROW, ALGEBRA_ROW)))
    return p


def test_cli_numeric_and_hint(runner, src, tmp_path):
    from curate.cli import app

    out, summ = tmp_path / "n.jsonl", tmp_path / "n.json"
    res = runner.invoke(
        app,
        [
            "synthesize",
            str(src),
            "-o",
            str(out),
            "--engine",
            "fake",
            "--mode",
            "numeric",
            "--variants",
            "1",
            "--harder-digits",
            "1",
            "--summary-json",
            str(summ),
            "--rejects",
            str(tmp_path / "n.rej"),
        ],
    )
    assert res.exit_code == 0, res.output
    s = json.loads(summ.read_text())
    assert s["mode"] == "numeric" and s["new_rows"] == len(out.read_text().splitlines()) == 4 and s["generator_model"] is None
    assert "JSON parse rate" not in res.output
    out, summ = tmp_path / "h.jsonl", tmp_path / "h.json"
    res = runner.invoke(
        app,
        [
            "synthesize",
            str(src),
            "-o",
            str(out),
            "--engine",
            "fake",
            "--mode",
            "hint",
            "--fractions",
            "0.5,n-1",
            "--fractions",
            "1",
            "--keep",
            "all",
            "--seed-max-pass-rate",
            "1",
            "--summary-json",
            str(summ),
            "--rejects",
            str(tmp_path / "h.rej"),
        ],
    )
    assert res.exit_code == 0, res.output
    s = json.loads(summ.read_text())
    assert s["funnel"]["stages"]["total"]["attempted"] == 3 + 3 + 2 and set(s["pass_rate_by_rung"]) == {"0.5", "n-1", "1"}
    res = runner.invoke(app, ["synthesize", str(src), "--engine", "fake", "--mode", "hint", "--fractions", "0,5"])
    assert res.exit_code == 2 and "not a hint rung" in res.output


def test_new_modes_on_engine_actors_match_local(ray_cluster, tmp_path):
    from curate.engines.base import EngineConfig
    from curate.executors import ExecutorConfig, open_executor
    from curate.synth.engines import open_engines

    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in (GSM_ROW, LINE_ROW)))
    outs = {}
    for where in ("local", "ray"):
        results = []
        for mode in (Mode.hint, Mode.numeric):
            responder = target(lambda q, steps: min(steps, 3)).responder
            cfg = EngineConfig(engine="fake", model="fake-target", cache_dir=str(tmp_path / f"c-{where}"), extra={"responder": responder})
            ex = open_executor(ExecutorConfig(where)) if where == "ray" else None
            engines = open_engines(cfg, cfg, executor=ex)
            try:
                if ex is not None:
                    assert type(engines.target.engine).__name__ == "RayEnginePool"
                out = tmp_path / f"{where}-{mode.value}.jsonl"
                s = synthesize(
                    [str(src)],
                    SynthOptions(mode=mode, seed_max_pass_rate=1.0),
                    Output(str(out), rejects=str(tmp_path / f"{where}.rej")),
                    generator=engines.generator,
                    target=engines.target,
                )
            finally:
                engines.close()
                if ex is not None:
                    ex.close()
            results.append((out.read_bytes(), s["new_rows"]))
        outs[where] = results
    assert outs["ray"] == outs["local"]
    assert all(n > 0 for _, n in outs["local"])


def test_numeric_seeds_easiest_first_and_never_synthesized_rows():
    rows = [
        {**LINE_ROW, "id": "hard", "score_pass_rate": 0.0},
        {**GSM_ROW, "id": "easy", "score_pass_rate": 1.0},
        {**LINE_ROW, "id": "unknown"},
        {**GSM_ROW, "id": "variant", "score_pass_rate": 1.0, "parent_id": "easy"},
    ]
    tgt = target(lambda q, steps: 1)
    cands, summary = run(rows, opts(max_seeds=2, variants=1, harder_digits=0), tgt, tgt)
    assert [c.parent_id for c in cands] == ["easy", "hard"]
    assert summary["synthesized"] == 1 and summary["seeds"] == 2
