"""`word_entropy`: Shannon entropy, in bits, of a text's word distribution.

    H = -sum_w p(w) log2 p(w),  p(w) = count(w) / words  =  log2(N) - sum_w c_w log2(c_w) / N

over the words of `_text` (textstat's, lowercased). "a b a b" has 1 bit; a text of N distinct
words has log2(N); a text without words, or one word repeated, has 0. Direction: higher = more
varied, less predictable wording = harder (REFERENCE §1). It grows with length as well as with
vocabulary (Spearman 0.36 with MATH levels, the same as length).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from curate.signals import _text
from curate.signals.base import HIGHER, SIGNALS, BatchContext, Column, Signal


class _XLogX(dict[int, float]):
    def __missing__(self, c: int) -> float:
        v = c * math.log2(c)
        if c < 1 << 16:
            self[c] = v
        return v


_xlogx = _XLogX()


def entropy_of_counts(counts: dict[str, int]) -> float:
    if len(counts) < 2:
        return 0.0
    n = sum(counts.values())
    h = math.log2(n) - sum(map(_xlogx.__getitem__, counts.values())) / n
    return max(h, 0.0)  # a single repeated word: log2(n) - n log2(n) / n rounds to about 0


def word_entropy(words: list[str]) -> float:
    return entropy_of_counts(_text.count_words(words))


@SIGNALS.register()
class WordEntropy(Signal):
    name = "word_entropy"
    threads = True  # polars, numpy and zlib release the GIL
    description = "Shannon entropy (bits) of the text's word distribution. Higher = harder."
    columns = (Column("", "Shannon entropy in bits of the word frequencies", HIGHER),)

    def score(self, ctx: BatchContext) -> dict[str, Any]:
        return {"score_word_entropy": entropy_many(_text.tokens(ctx), _text.occurrences(ctx))}


def _table(values: np.ndarray, f: Callable[[int], float]) -> np.ndarray:
    """table[v] = f(v) for every distinct positive v among `values` (0 elsewhere)."""
    table = np.zeros(int(values.max(initial=0)) + 1, np.float64)
    present = np.flatnonzero(np.bincount(values, minlength=1))
    present = present[present > 0]
    table[present] = [f(int(v)) for v in present]
    return table


def entropy_many(tok: _text.Tokens, occ: _text.Occurrences) -> np.ndarray:
    """`entropy_of_counts` of every text of a batch: the same terms, summed in the same order."""
    n = tok.lengths
    distinct = np.diff(occ.distinct_offsets)
    xlogx = _table(occ.first_counts, _xlogx.__getitem__)[occ.first_counts]  # the same Python floats
    s = _text.sequential_sums(xlogx, occ.distinct_offsets)
    log2n = _table(n, math.log2)[n]
    with np.errstate(divide="ignore", invalid="ignore"):
        h = log2n - s / n
    h = np.where(0.0 > h, 0.0, h)
    return np.where(distinct < 2, 0.0, h)
