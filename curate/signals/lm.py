"""Language-model signals from prompt log-probabilities: perplexity and mean token entropy.

`lm_perplexity` is exact: exp of the mean negative log-likelihood of the text's tokens under the
model (each token given the ones before it, the first given the document-start token).

`lm_token_entropy` is an approximation: an engine returns only the top-k log-probabilities per
position (option `lm_top_k`, default 10). With p_1..p_k those probabilities and r = 1 − Σp_i the
remaining mass, the remainder is lumped into one outcome:
    H ≈ −Σ p_i ln p_i − r ln r            (nats, averaged over positions)
Merging outcomes never increases entropy, so this is a lower bound on the true entropy; spreading
r over the other V − k tokens would give an upper bound (−r ln(r/(V−k))). For a small model on
ordinary text the top 10 usually hold most of the mass, so the bound is tight where entropy is low
and loose where the model is very unsure; it ranks texts consistently either way.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from curate.signals.base import HIGHER, SIGNALS, BatchContext, Column, Signal, column_name

DEFAULT_TOP_K = 10


def _scores(ctx: BatchContext, top_k: int) -> list[Any]:
    from curate.errors import UsageError

    if ctx.engine is None:
        raise UsageError("LM signals need a model engine", "run them through `curate score` (it opens one)")
    texts = [t if isinstance(t, str) else "" for t in ctx.texts]
    return ctx.cached(f"lm_scores:{top_k}", lambda: ctx.engine.score_prompts(texts, top_k=top_k))


def _top_k(ctx: BatchContext, own: dict[str, Any]) -> int:
    return int(own.get("lm_top_k") or ctx.options.get("lm_top_k") or DEFAULT_TOP_K)


def perplexity(token_logprobs: Sequence[float]) -> float | None:
    lps = [lp for lp in token_logprobs if lp is not None and math.isfinite(lp)]
    if not lps:
        return None
    return math.exp(-sum(lps) / len(lps))


def lumped_entropy(top: dict[str, float]) -> float:
    """Entropy (nats) of one position's top-k distribution with the remaining mass as one outcome."""
    ps = [math.exp(lp) for lp in top.values() if lp is not None and math.isfinite(lp)]
    h = -sum(p * math.log(p) for p in ps if p > 0)
    r = 1.0 - sum(ps)
    if r > 1e-12:
        h -= r * math.log(r)
    return h


@SIGNALS.register("lm_perplexity")
class LMPerplexity(Signal):
    name = "lm_perplexity"
    description = "Perplexity of the text under the reference model (exp mean NLL per token)."
    kind = "model"
    columns = (
        Column("", "exp(mean negative log-likelihood per token)", HIGHER),
        Column("tokens", "tokens scored", None, False, pa.int64()),
    )

    def score(self, ctx: BatchContext) -> dict[str, Sequence[Any]]:
        scores = _scores(ctx, _top_k(ctx, self.options))
        return {
            column_name(self.name): [perplexity(s.token_logprobs) for s in scores],
            column_name(self.name, "tokens"): [len(s.token_logprobs) for s in scores],
        }


@SIGNALS.register("lm_token_entropy")
class LMTokenEntropy(Signal):
    name = "lm_token_entropy"
    description = "Mean predictive entropy per token (nats; top-k with the remainder lumped: a lower bound)."
    kind = "model"
    columns = (Column("", "mean over positions of the lumped top-k entropy, in nats", HIGHER),)

    def score(self, ctx: BatchContext) -> dict[str, Sequence[Any]]:
        scores = _scores(ctx, _top_k(ctx, self.options))
        out = []
        for s in scores:
            tops = s.top_logprobs or []
            out.append(sum(lumped_entropy(t) for t in tops) / len(tops) if tops else None)
        return {column_name(self.name): out}
