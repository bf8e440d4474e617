"""The target model's measured pass rate on new problems: k samples, each checked against the answer.

A thin adapter over the project's pass-rate library (`curate.pass_rate.measure_pass_rate`: its
own few-shot prompts, sampling temperature and verifiers, every call through the request cache).
Its prompt differs from the generator's self-consistency prompt, so the target's samples are
independent draws even when generator and target are the same model.
"""

from __future__ import annotations

from curate.engines.base import Engine


def pass_rates(engine: Engine, problems: list[str], answers: list[str], k: int, max_tokens: int, tasks: list[str] | None = None) -> list[float]:
    """Measured pass rate per problem (0.0 when the verifier could not score it)."""
    if not problems:
        return []
    from curate.pass_rate import measure_pass_rate

    rows = [{"text": p, "answer": a, "task_type": tasks[i] if tasks else "math"} for i, (p, a) in enumerate(zip(problems, answers))]
    results = measure_pass_rate(engine, rows, k=k, max_tokens=max_tokens, text_field="text", answer_field="answer", task_type_field="task_type")
    return [r.rate if r.rate is not None else 0.0 for r in results]
