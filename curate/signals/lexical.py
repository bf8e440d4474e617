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

import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from curate.errors import UsageError
from curate.signals import _text
from curate.signals.base import HIGHER, SIGNALS, BatchContext, Column, Signal

THRESHOLD = 0.72
_kmax: dict[float, list[int]] = {}
_kmax_lock = threading.Lock()


def _max_types(threshold: float, n: int) -> list[int]:
    """table[c] = the most types k with k / c <= threshold (the same float test as the loop's)."""
    with _kmax_lock:
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
    threads = True  # polars, numpy and zlib release the GIL
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

    def score(self, ctx: BatchContext) -> dict[str, Any]:
        tok = _text.tokens(ctx)
        occ = _text.occurrences(ctx)
        n = tok.lengths
        distinct = np.diff(occ.distinct_offsets)
        with np.errstate(divide="ignore", invalid="ignore"):
            ttr = np.where(n > 0, distinct / n, 0.0)
        return {"score_lexical_diversity_mtld": mtld_many(tok, occ, self.threshold), "score_lexical_diversity_ttr": ttr}


_LOCKSTEP_WORDS = 4096  # longer texts take the per-text loop: a vector step per word would cost more


def mtld_many(tok: _text.Tokens, occ: _text.Occurrences, threshold: float = THRESHOLD) -> np.ndarray:
    """`mtld` of every text of a batch. Each pass is the loop of `_factors` run for all texts at
    once, one vector step per word position (a word repeats within the current factor when its
    previous occurrence lies inside it), so the factor counts and the float arithmetic are the same."""
    n = tok.lengths
    out = np.zeros(len(n), np.float64)
    short = np.flatnonzero((n > 0) & (n <= _LOCKSTEP_WORDS))
    if len(short):
        kmax = np.array(_max_types(threshold, int(n[short].max())), np.int64)
        total = np.zeros(len(short), np.float64)
        distinct = np.diff(occ.distinct_offsets)[short]
        for forward in (True, False):
            f = _factors_lockstep(tok.offsets, n, short, occ.prev if forward else occ.next, forward, threshold, kmax)
            nn = n[short]
            ttr = distinct / nn
            fallback = np.where(ttr == 1, 1.0, (1 - ttr) / (1 - threshold))
            f = np.where(f == 0, fallback, f)
            total = total + nn / f
        out[short] = total / 2
    for i in np.flatnonzero(n > _LOCKSTEP_WORDS).tolist():
        out[i] = mtld(tok.ids[tok.offsets[i] : tok.offsets[i + 1]].tolist(), threshold)
    return out


_WINDOW = 32  # word positions per vector step


def _factors_lockstep(
    offsets: np.ndarray, n: np.ndarray, rows: np.ndarray, seen: np.ndarray, forward: bool, threshold: float, kmax: np.ndarray
) -> np.ndarray:
    """`_factors` of `rows`, all at once. Each step looks at the next `_WINDOW` words of every text
    still going: running type and word counts by cumulative sums, and the first word (if any) that
    completes a factor; the next step starts after it, or after the window."""
    step = 1 if forward else -1
    pos = offsets[:-1][rows].copy() if forward else offsets[1:][rows] - 1  # next word to look at
    stop = offsets[1:][rows] if forward else offsets[:-1][rows] - 1  # one past the last word
    edge = pos.copy()  # where the current factor began
    count = np.zeros(len(rows), np.int64)
    types = np.zeros(len(rows), np.int64)
    factors = np.zeros(len(rows), np.int64)
    ahead = np.arange(_WINDOW, dtype=np.int64) * step
    live = np.arange(len(rows))
    while len(live):
        j = pos[live, None] + ahead  # (texts, window) word positions
        valid = (j < stop[live, None]) if forward else (j > stop[live, None])
        other = seen[np.where(valid, j, pos[live, None])]
        e = edge[live, None]
        repeat = valid & ((other >= e) if forward else (other <= e))
        t = types[live, None] + np.cumsum(valid & ~repeat, axis=1)
        c = count[live, None] + np.cumsum(valid, axis=1)
        done = repeat & (t <= kmax[c])
        hit = done.any(axis=1)
        first = np.argmax(done, axis=1)
        # a text whose window holds a factor's end: count it and start the next factor after it
        h = live[hit]
        factors[h] += 1
        pos[h] = j[hit, first[hit]] + step
        edge[h] = pos[h]
        count[h] = 0
        types[h] = 0
        # the others carry the window's counts on
        m = live[~hit]
        count[m] = c[~hit, -1]
        types[m] = t[~hit, -1]
        pos[m] += _WINDOW * step
        live = live[(pos[live] < stop[live]) if forward else (pos[live] > stop[live])]
    with np.errstate(divide="ignore", invalid="ignore"):
        partial = np.where(count > 0, (1 - types / count) / (1 - threshold), 0.0)
    return np.where(count > 0, factors + partial, factors.astype(np.float64))
