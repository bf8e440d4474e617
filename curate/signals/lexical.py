"""`lexical_diversity`: MTLD (McCarthy & Jarvis 2010), and the type-token ratio.

MTLD walks the words keeping a running type-token ratio (TTR); each time it falls to the
threshold (0.72, option `threshold`) a factor is complete and the count restarts. A last,
unfinished segment adds the partial factor (1 - TTR) / (1 - threshold). MTLD = words / factors,
averaged over a forward and a backward pass; a pass that never falls to the threshold and ends
at TTR 1 counts one factor (so MTLD = the number of words). This is `lexicalrichness`' `mtld()`
on the same words (a test checks it).

- `score_lexical_diversity_mtld`: higher = more varied vocabulary = harder. In the composite.
- `score_lexical_diversity_ttr`: distinct words / words. It falls as texts get longer whatever
  their vocabulary, so it is reported but stays out of `difficulty` unless weighted explicitly.

Words are those of `_text` (textstat's, lowercased). A text without words scores 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from curate.errors import UsageError
from curate.signals import _text
from curate.signals.base import HIGHER, SIGNALS, BatchContext, Column, Signal

THRESHOLD = 0.72
_kmax: dict[float, list[int]] = {}


def _max_types(threshold: float, n: int) -> list[int]:
    """table[c] = the most types k with k / c <= threshold (the same float test as the loop's)."""
    table = _kmax.setdefault(threshold, [0])
    for c in range(len(table), n + 1):
        k = min(c, int(threshold * c) + 1)
        while k > 0 and k / c > threshold:
            k -= 1
        table.append(k)
    return table


def _factors(words: Sequence[str], threshold: float, kmax: list[int]) -> float:
    seen: set[str] = set()
    add = seen.add
    count = types = 0
    factors = 0.0
    for w in words:
        count += 1
        if w in seen:  # only a repeat can lower the ratio
            if types <= kmax[count]:
                factors += 1
                seen = set()
                add = seen.add
                count = types = 0
        else:
            add(w)
            types += 1
    if count:
        factors += (1 - types / count) / (1 - threshold)
    return factors


def mtld(words: Sequence[str], threshold: float = THRESHOLD) -> float:
    n = len(words)
    if not n:
        return 0.0
    kmax = _max_types(threshold, n)
    total = 0.0
    for seq in (words, words[::-1]):
        f = _factors(seq, threshold, kmax)
        if f == 0:  # never fell to the threshold and ended at TTR 1
            ttr = len(set(words)) / n
            f = 1.0 if ttr == 1 else (1 - ttr) / (1 - threshold)
        total += n / f
    return total / 2


@SIGNALS.register()
class LexicalDiversity(Signal):
    name = "lexical_diversity"
    description = "MTLD (McCarthy & Jarvis 2010, threshold 0.72, forward/backward mean); TTR informational. Higher = harder."
    columns = (
        Column("mtld", "measure of textual lexical diversity (threshold 0.72)", HIGHER),
        Column("ttr", "type-token ratio: distinct words / words (length-dependent)", HIGHER, composite=False),
    )

    def __init__(self, **options: Any):
        super().__init__(**options)
        unknown = sorted(set(options) - {"threshold"})
        if unknown:
            raise UsageError(f"lexical_diversity takes the option 'threshold', not {unknown}", "e.g. threshold=0.72")
        threshold = options.get("threshold", THRESHOLD)
        if isinstance(threshold, bool) or not isinstance(threshold, (int, float)):
            raise UsageError(f"lexical_diversity threshold must be a number, not {threshold!r}", "the standard is 0.72")
        self.threshold = float(threshold)
        if not 0.0 < self.threshold < 1.0:
            raise UsageError(f"lexical_diversity threshold must be in (0, 1), not {self.threshold}", "the standard is 0.72")

    @classmethod
    def params(cls) -> dict[str, Any]:
        return {"threshold": THRESHOLD}

    def score(self, ctx: BatchContext) -> dict[str, Sequence[Any]]:
        ws = _text.words(ctx)
        counts = _text.word_counts(ctx)
        with _text.gc_paused():
            diversity = [mtld(w, self.threshold) for w in ws]
        return {
            "score_lexical_diversity_mtld": diversity,
            "score_lexical_diversity_ttr": [len(c) / len(w) if w else 0.0 for w, c in zip(ws, counts)],
        }
