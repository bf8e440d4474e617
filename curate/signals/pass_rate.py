"""`pass_rate`: how often a model solves the row, from k verified samples (lower = harder).

Options (from `curate score` flags, in ctx.options, or per-signal): k (8), pass_at (list of j),
adaptive (False), answer_field ("answer"), task_type_field ("task_type"), tests_field
("test_list"), task_type (force one), max_tokens (256), temperature (0.7), prompt_file.
Rows without a reference answer (or tests) are not sampled: their scores are null and
`score_pass_rate_reason` says why; a reason starting `not run:` (the verifier cannot run on this
machine, e.g. code checks without bubblewrap) is not kept in the row store, so a rerun computes
it. Math, sampling rule and buckets: see curate.pass_rate.
With a completions sink in the batch context (`curate score --completions OUT`), every sampled
completion is written there: `{id, sample_index, completion, passed, tokens}`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa

from curate.signals.base import LOWER, SIGNALS, BatchContext, Column, Signal, column_name

_KEYS = (
    "k",
    "pass_at",
    "adaptive",
    "answer_field",
    "task_type_field",
    "tests_field",
    "task_type",
    "max_tokens",
    "temperature",
    "top_p",
    "prompt_file",
    "round_size",
    "min_samples",
)


def pass_rate_options(ctx_options: dict[str, Any], own: dict[str, Any]) -> Any:
    from curate.pass_rate import PassRateOptions

    merged = {k: v for k, v in {**ctx_options, **own}.items() if k in _KEYS and v is not None}
    if "pass_at" in merged:
        merged["pass_at"] = tuple(int(j) for j in merged["pass_at"])
    return PassRateOptions(**merged)


@SIGNALS.register("pass_rate")
class PassRate(Signal):
    name = "pass_rate"
    description = "Fraction of k sampled answers that a verifier accepts (needs a reference answer or tests)."
    kind = "model"
    columns = (
        Column("", "p̂ = passes / samples", LOWER),
        Column("passes", "samples the verifier accepted", None, False, pa.int64()),
        Column("k", "samples drawn (fewer than k when adaptive sampling stopped early)", None, False, pa.int64()),
        Column("lo", "Wilson 95% interval, lower end", None, False),
        Column("hi", "Wilson 95% interval, upper end", None, False),
        Column("bucket", "mastered (all pass) / learnable / frontier (none pass)", None, False, pa.string()),
        Column("pass_at", "unbiased pass@j for each requested j (map j → value)", None, False, pa.map_(pa.int32(), pa.float64())),
        Column("tokens", "generated tokens spent on the row", None, False, pa.int64()),
        Column("tokens_saved", "estimated tokens adaptive sampling did not spend", None, False, pa.int64()),
        Column("reason", "why the row has no pass rate (null when scored)", None, False, pa.string()),
    )

    @classmethod
    def final(cls, values: Mapping[str, Any]) -> bool:
        from curate.pass_rate import final

        return final(values.get(column_name(cls.name, "reason")))

    def score(self, ctx: BatchContext) -> dict[str, Sequence[Any]]:
        from curate.errors import UsageError
        from curate.pass_rate import measure_pass_rate

        if ctx.engine is None:
            raise UsageError("pass_rate needs a model engine", "run it through `curate score` (it opens one) or pass an engine in BatchContext")
        opts = pass_rate_options(ctx.options, self.options)
        opts.text_field = ctx.text_field
        opts.keep_completions = ctx.completions is not None
        rows = ctx.table.to_pylist()
        results = measure_pass_rate(ctx.engine, rows, opts)
        for i, r in enumerate(results):
            if r.engine_failed:
                ctx.fail(i, r.reason or "engine error")
        if ctx.completions is not None:
            ctx.completions.add(rows, results)
        c = lambda part: column_name(self.name, part)  # noqa: E731
        return {
            c(""): [r.rate for r in results],
            c("passes"): [r.passes for r in results],
            c("k"): [r.samples for r in results],
            c("lo"): [r.lo for r in results],
            c("hi"): [r.hi for r in results],
            c("bucket"): [r.bucket for r in results],
            c("pass_at"): [None if r.reason else [(j, v) for j, v in r.pass_at.items()] for r in results],
            c("tokens"): [None if r.reason else r.tokens for r in results],
            c("tokens_saved"): [None if r.reason else r.tokens_saved for r in results],
            c("reason"): [r.reason for r in results],
        }
