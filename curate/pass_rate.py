"""Pass rate: sample k answers per row from a model, verify each, summarise.

    from curate.engines import EngineConfig, open_engine
    from curate.pass_rate import measure_pass_rate
    results = measure_pass_rate(open_engine(EngineConfig()), rows, k=8, text_field="question")

Per row: c passes out of k samples, p̂ = c/k, a Wilson 95 % interval, a bucket (`mastered` c=k,
`learnable` 0<c<k, `frontier` c=0) and the unbiased pass@j = 1 − C(k−c, j)/C(k, j) (Chen et al.
2021) for each requested j ≤ k. Rows without a reference answer (or tests, for code) are not
sampled: their result carries `reason` and null scores. So are rows whose verifier cannot run on
this machine (code checks without bubblewrap): reason `not run: ...`, a CheckUnavailable warning,
and such results are never stored as finished, so a rerun after the fix computes them.

Adaptive sampling (`adaptive=True`) draws samples in rounds of `round_size` (default max(2, k/4))
and stops a row as soon as its bucket is decided, by this sequential rule:
  - at least one pass and one fail → `learnable`, which more samples can never change (exact);
  - after ≥ `min_samples` (default ⌈k/2⌉) samples that all agree → `mastered` / `frontier`
    (a bet: a row with true pass rate p shows m unanimous passes but not k with probability
    p^m − p^k, small unless p is high but below 1);
  - otherwise keep sampling, up to k.
A stopped row reports p̂, interval and pass@j (j ≤ m) over the m samples it drew; `tokens_saved`
estimates the tokens the remaining k − m samples would have cost (m's mean length × (k − m)).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from curate.engines.base import Prompt, SamplingParams

MASTERED, LEARNABLE, FRONTIER = "mastered", "learnable", "frontier"
NOT_RUN = "not run: "  # starts a reason that depends on this machine, not the row: recomputed on the next run


class CheckUnavailable(UserWarning):
    """Some rows could not be checked here (their verifier cannot run on this machine)."""


def final(reason: str | None) -> bool:
    """False for results a later run must recompute (the check could not run here), so no store keeps them."""
    return not (reason or "").startswith(NOT_RUN)


def wilson(c: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """Wilson score interval for c successes in n trials (default 95 %)."""
    if n <= 0:
        return (0.0, 1.0)
    p = c / n
    den = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    lo = 0.0 if c == 0 else max(0.0, centre - half)
    hi = 1.0 if c == n else min(1.0, centre + half)
    return (lo, hi)


def pass_at(c: int, n: int, j: int) -> float | None:
    """Unbiased pass@j from c passes in n samples: 1 − C(n−c, j)/C(n, j); None when j > n."""
    if j <= 0 or j > n:
        return None
    if n - c < j:
        return 1.0
    return 1.0 - math.comb(n - c, j) / math.comb(n, j)


def bucket(c: int, n: int) -> str:
    return MASTERED if c == n else FRONTIER if c == 0 else LEARNABLE


@dataclass
class PassRateResult:
    passes: int | None = None
    samples: int | None = None  # k, or fewer when adaptive sampling stopped early
    rate: float | None = None
    lo: float | None = None
    hi: float | None = None
    bucket: str | None = None
    pass_at: dict[int, float | None] = field(default_factory=dict)
    tokens: int = 0  # generated tokens spent on this row
    tokens_saved: int = 0  # estimated tokens adaptive sampling did not spend
    reason: str | None = None  # why the row has no score (e.g. "no reference")
    engine_failed: bool = False  # no score because the engine failed (not a property of the row: retry it)
    completions: list[str] = field(default_factory=list)
    completion_tokens: list[int] = field(default_factory=list)  # per kept completion (keep_completions)
    verdicts: list[bool] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # verifier reasons, per failed sample

    @property
    def scored(self) -> bool:
        return self.reason is None


def decided(c: int, m: int, k: int, min_samples: int) -> bool:
    """The adaptive stopping rule (see module docstring)."""
    if m >= k:
        return True
    if 0 < c < m:
        return True
    return m >= min_samples


@dataclass
class PassRateOptions:
    k: int = 8
    pass_at: tuple[int, ...] = ()
    adaptive: bool = False
    round_size: int | None = None
    min_samples: int | None = None
    max_tokens: int = 256
    temperature: float = 0.7  # as `curate score --temperature` and synthesis's target pass rate
    top_p: float = 0.95
    stop: tuple[str, ...] = ("\nQuestion:", "\nTask:")  # the templates' next-example markers
    text_field: str = "text"
    answer_field: str = "answer"
    task_type_field: str = "task_type"
    tests_field: str = "test_list"
    task_type: str | None = None  # force one task type for every row
    prompt_file: str | None = None  # override the built-in template for every task type
    batch_rows: int = 64  # rows per engine call: an interruption loses at most one batch
    keep_completions: bool = False


def build_prompt(row: Mapping[str, Any], task: str, opts: PassRateOptions, templates: dict[str, str]) -> Prompt:
    from curate import prompts

    if task not in templates:
        if opts.prompt_file:
            templates[task] = prompts.load(opts.prompt_file)
        else:
            # A task type without a template of its own (e.g. a plugin verifier) is asked like `exact`.
            name = f"pass_rate_{task}"
            templates[task] = prompts.load(name if prompts.exists(name) else "pass_rate_exact")
    text = prompts.render(templates[task], str(row.get(opts.text_field) or ""), row, opts.tests_field)
    return [{"role": "user", "content": text}]


def measure_pass_rate(
    engine: Any,
    rows: Sequence[Mapping[str, Any]],
    options: PassRateOptions | None = None,
    *,
    prompt_fn: Callable[[Mapping[str, Any], str], Prompt] | None = None,
    on_batch: Callable[[int], None] | None = None,
    **overrides: Any,
) -> list[PassRateResult]:
    """Pass rate for each row (same order). `overrides` set PassRateOptions fields, e.g. k=8."""
    from curate.verifiers import VERIFIERS, check, get_verifier, reference_of, resolve_task_type

    opts = replace(options or PassRateOptions(), **overrides)
    if opts.k < 1:
        from curate.errors import UsageError

        raise UsageError(f"k must be at least 1, got {opts.k}", "pass --k 8 (or any positive number of samples)")
    results = [PassRateResult() for _ in rows]
    not_run: dict[str, int] = {}
    tasks: list[str] = []
    todo: list[int] = []
    for i, row in enumerate(rows):
        task = resolve_task_type(opts.task_type or row.get(opts.task_type_field), row, opts.answer_field, opts.tests_field)
        tasks.append(task)
        if task not in VERIFIERS:  # the row is kept, unscored, with the reason
            results[i].reason = f"unknown task type '{task}'"
            continue
        v = get_verifier(task)
        if reference_of(v, row, opts.answer_field, opts.tests_field) is None:
            results[i].reason = "no reference"
            continue
        why = v.unavailable()
        if why:  # e.g. code checks without their sandbox: unscored, said so, never a silent 0
            results[i].reason = NOT_RUN + why
            not_run[why] = not_run.get(why, 0) + 1
            continue
        todo.append(i)
    for why, n in not_run.items():
        warnings.warn(
            f"{n} row(s) left without a pass rate: {why} (not stored as done: a rerun after the fix computes them)", CheckUnavailable, stacklevel=2
        )

    templates: dict[str, str] = {}
    round_size = opts.round_size or max(2, opts.k // 4)
    min_samples = opts.min_samples or math.ceil(opts.k / 2)
    passes = {i: 0 for i in todo}
    drawn = {i: 0 for i in todo}
    tokens = {i: 0 for i in todo}
    failed: set[int] = set()
    for start in range(0, len(todo), opts.batch_rows):
        batch = todo[start : start + opts.batch_rows]
        batch_prompts = {i: (prompt_fn(rows[i], tasks[i]) if prompt_fn else build_prompt(rows[i], tasks[i], opts, templates)) for i in batch}
        active = list(batch)
        while active:
            # Every active row in a round asks for the same number of samples: one engine call.
            groups: dict[tuple[int, int], list[int]] = {}  # (samples so far, samples wanted) → rows
            for i in active:
                want = opts.k - drawn[i] if not opts.adaptive else min(round_size, opts.k - drawn[i])
                groups.setdefault((drawn[i], want), []).append(i)
            for (m, n), idxs in groups.items():
                params = SamplingParams(max_tokens=opts.max_tokens, temperature=opts.temperature, top_p=opts.top_p, n=m + n, stop=tuple(opts.stop))
                # Asks for samples 0..m+n-1: the request cache serves the first m, so only n are generated.
                comps = engine.generate([batch_prompts[i] for i in idxs], params)
                for i, comp in zip(idxs, comps):
                    if comp.error:
                        results[i].reason = f"engine error: {comp.error}"
                        results[i].engine_failed = True
                        failed.add(i)
                        continue
                    new = range(drawn[i], min(len(comp.texts), m + n))
                    for j in new:
                        r = check(tasks[i], comp.texts[j], rows[i], answer_field=opts.answer_field, tests_field=opts.tests_field)
                        results[i].verdicts.append(r.ok)
                        if not r.ok:
                            results[i].failures.append(r.reason)
                        n_tok = comp.token_counts[j] if j < len(comp.token_counts) else 0
                        if opts.keep_completions:
                            results[i].completions.append(comp.texts[j])
                            results[i].completion_tokens.append(n_tok)
                        passes[i] += int(r.ok)
                        tokens[i] += n_tok
                    drawn[i] += len(new)
                    if not new:  # the engine returned nothing new: stop rather than loop
                        results[i].reason = "engine returned no samples"
                        results[i].engine_failed = True
                        failed.add(i)
            active = [
                i
                for i in active
                if i not in failed and not (decided(passes[i], drawn[i], opts.k, min_samples) if opts.adaptive else drawn[i] >= opts.k)
            ]
        if on_batch:
            on_batch(len(batch))

    for i in todo:
        if i in failed:
            continue
        c, m = passes[i], drawn[i]
        res = results[i]
        res.passes, res.samples, res.rate = c, m, c / m if m else None
        res.lo, res.hi = wilson(c, m)
        res.bucket = bucket(c, m)
        res.pass_at = {j: pass_at(c, m, j) for j in opts.pass_at}
        res.tokens = tokens[i]
        if m < opts.k and m:
            res.tokens_saved = round(tokens[i] / m * (opts.k - m))
    return results


def summarize(results: Sequence[PassRateResult]) -> dict[str, Any]:
    """Counts for a run summary: scored rows, skipped rows by reason, buckets, tokens."""
    skipped: dict[str, int] = {}
    buckets = {MASTERED: 0, LEARNABLE: 0, FRONTIER: 0}
    for r in results:
        if r.reason:
            skipped[r.reason] = skipped.get(r.reason, 0) + 1
        elif r.bucket:
            buckets[r.bucket] += 1
    return {
        "rows": len(results),
        "scored": sum(1 for r in results if r.scored),
        "skipped": skipped,
        "buckets": buckets,
        "tokens": sum(r.tokens for r in results),
        "tokens_saved": sum(r.tokens_saved for r in results),
    }
