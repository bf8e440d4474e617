"""Seed selection: which input rows synthesis starts from.

Ladder: every usable row (text and reference answer, a supported task), in input order.
Defect and hint: rows the target fails — bucket in `seed_buckets`, or pass rate at most
`seed_max_pass_rate`; rows without a pass rate are measured on the target first. Lowest pass
rate first, then input order.
Numeric: every usable row, the easiest first (highest pass rate; rows without one last), then
input order: harder numbers are most useful where the target already succeeds.
Hint and numeric need a worked solution and never start from a synthesized row (one with a
`parent_id`). `max_seeds` caps every mode.
"""

from __future__ import annotations

from typing import Any

from curate.engines.base import Engine
from curate.synth.answers import reference_answer
from curate.synth.lineage import Seed
from curate.synth.options import Mode, SynthOptions
from curate.synth.passrate import pass_rates

UNSUPPORTED_TASKS = {"code", "python", "mbpp", "humaneval", "choice", "mc", "mcq", "multiple_choice", "multiple-choice"}


def _float(v: Any) -> float | None:
    try:
        return None if v is None else float(v)
    except (TypeError, ValueError):
        return None


def usable_rows(rows: list[dict[str, Any]], opts: SynthOptions) -> tuple[list[Seed], dict[str, int]]:
    seeds: list[Seed] = []
    skipped = {"no_answer": 0, "unsupported_task": 0}
    needs_solution = opts.mode in (Mode.hint, Mode.numeric)
    if needs_solution:
        skipped.update(no_solution=0, synthesized=0)
    for r in rows:
        if needs_solution and r.get("parent_id") is not None:
            skipped["synthesized"] += 1
            continue
        task = str(r.get(opts.task_field) or "math")
        ans = r.get(opts.answer_field)
        if task.lower() in UNSUPPORTED_TASKS:
            skipped["unsupported_task"] += 1
            continue
        if ans is None or not str(ans).strip():
            skipped["no_answer"] += 1
            continue
        if needs_solution and not str(r.get(opts.solution_field) or "").strip():
            skipped["no_solution"] += 1
            continue
        ans = reference_answer(str(ans))
        k = _float(r.get(f"{opts.pass_rate_field}_k"))
        seeds.append(
            Seed(str(r[opts.id_field]), str(r[opts.text_field]), ans, task, _float(r.get(opts.pass_rate_field)), r, int(k) if k is not None else None)
        )
    return seeds, skipped


def measure_missing(seeds: list[Seed], target: Engine, opts: SynthOptions) -> int:
    """Fill in pass rates the input did not carry; returns how many were measured."""
    todo = [s for s in seeds if s.pass_rate is None]
    for s, pr in zip(
        todo, pass_rates(target, [s.text for s in todo], [s.answer for s in todo], opts.k, opts.solve_max_tokens, [s.task for s in todo])
    ):
        s.pass_rate, s.samples = pr, opts.k
    return len(todo)


def select_seeds(rows: list[dict[str, Any]], opts: SynthOptions, target: Engine) -> tuple[list[Seed], dict[str, Any]]:
    seeds, info = usable_rows(rows, opts)
    info_out: dict[str, Any] = {"input_rows": len(rows), **info, "measured_seed_pass_rates": 0}
    if opts.mode in (Mode.ladder, Mode.numeric):
        if opts.mode == Mode.numeric:
            seeds = sorted(seeds, key=lambda s: -(s.pass_rate if s.pass_rate is not None else -1.0))  # stable: input order within ties
        chosen = seeds[: opts.max_seeds] if opts.max_seeds is not None else seeds
    else:
        buckets = set(opts.seed_buckets)
        by_bucket = [s for s in seeds if s.row.get(opts.bucket_field) in buckets] if buckets else []
        rest = [s for s in seeds if s not in by_bucket]
        info_out["measured_seed_pass_rates"] = measure_missing(rest, target, opts)
        pool = by_bucket + [s for s in rest if s.pass_rate is not None and s.pass_rate <= opts.seed_max_pass_rate]
        order = {id(s): i for i, s in enumerate(seeds)}
        pool.sort(key=lambda s: (s.pass_rate if s.pass_rate is not None else 0.0, order[id(s)]))
        chosen = pool[: opts.max_seeds] if opts.max_seeds is not None else pool
    info_out["seeds"] = len(chosen)
    return chosen, info_out
