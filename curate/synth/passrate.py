"""The target model's measured pass rate on new problems: k samples, each checked against the answer.

Uses the project's pass-rate library (`curate.pass_rate.measure_pass_rate`: its own prompts and
verifiers, cached like every engine call) when present; otherwise a built-in fallback with the
solve prompt at temperature 1.0. Either way the target's samples are drawn with a different
prompt or temperature than the generator's self-consistency samples, so they are independent
draws even when generator and target are the same model.
"""

from __future__ import annotations

from curate.engines.base import Engine, SamplingParams
from curate.synth.answers import solution_matches
from curate.synth.generation import chat
from curate.synth.prompts import render

FALLBACK_TEMPERATURE = 1.0


def pass_rates(engine: Engine, problems: list[str], answers: list[str], k: int, max_tokens: int,
               prompts_dir: str | None = None, tasks: list[str] | None = None) -> list[float]:
    if not problems:
        return []
    try:
        from curate.pass_rate import measure_pass_rate
    except ImportError:
        return _fallback(engine, problems, answers, k, max_tokens, prompts_dir)
    rows = [{"text": p, "answer": a, "task_type": (tasks[i] if tasks else "math")} for i, (p, a) in enumerate(zip(problems, answers))]
    results = measure_pass_rate(engine, rows, k=k, max_tokens=max_tokens, text_field="text", answer_field="answer", task_type_field="task_type")
    return [r.rate if r.rate is not None else 0.0 for r in results]


def _fallback(engine: Engine, problems: list[str], answers: list[str], k: int, max_tokens: int, prompts_dir: str | None) -> list[float]:
    params = SamplingParams(max_tokens=max_tokens, temperature=FALLBACK_TEMPERATURE, n=k)
    comps = engine.generate([chat(render("solve", prompts_dir, problem=p)) for p in problems], params)
    return [sum(1 for t in comp.texts[:k] if solution_matches(t, a)) / k for comp, a in zip(comps, answers)]
