"""Turn a schedule into the exact sequence of rows a trainer reads.

Everything works on *ranks*: rank r is the r-th easiest row (after the tie-break). A draw returns
the ranks in training order (length S = the budget) and the pool fraction recorded per step.

Repeats. Step t draws its rows, seeded and uniformly, *without replacement* from the rows of the
easiest ⌈g(t)·N⌉ that have not been read yet in the current pass. When that pool has fewer unused
rows than the batch needs:

* `widen` (default): the step also takes the next-easiest unused rows, so every pass reads each
  row exactly once (a one-pass budget loses nothing and repeats nothing). The fraction recorded
  for that step is the widened pool, never less than g(t).
* `repeat`: a new round over the pool starts (its rows become unused again), so easy rows repeat
  and rows the pacing never reaches are not read. The recorded fraction is exactly g(t).

A budget longer than N starts a new pass each time all N rows have been read.
"""

from __future__ import annotations

import math

import numpy as np

from curate.order.schedules.base import Drawn, Plan


def _pool_sizes(plan: Plan) -> np.ndarray:
    return np.clip(np.ceil(plan.pace * plan.n - 1e-9).astype(np.int64), 1, plan.n)


def paced(plan: Plan, reverse: bool = False) -> Drawn:
    """Seeded draws from the easiest ⌈g(t)·N⌉ (the hardest, with `reverse`)."""
    n, rng = plan.n, plan.rng
    pools = _pool_sizes(plan)
    sizes = plan.step_sizes()
    out = np.empty(plan.samples, dtype=np.int64)
    frac = np.empty(plan.steps, dtype=np.float64)
    bag = np.empty(n, dtype=np.int64)  # unread rows of the current pool, unordered
    used = np.zeros(n, dtype=bool)  # read in this pass (widen) or round (repeat)
    m = 0  # rows in bag
    hi = 0  # ranks below hi have been offered to the bag
    pos = 0
    span = 0  # every used row is below span
    prev_pool = 0
    widen = plan.exhausted == "widen"

    def offer(lo: int, up: int) -> int:
        nonlocal m
        fresh = lo + np.flatnonzero(~used[lo:up])
        bag[m : m + len(fresh)] = fresh
        m += len(fresh)
        return len(fresh)

    for t in range(plan.steps):
        need = int(sizes[t])
        pool = int(pools[t])
        got: list[np.ndarray] = []
        top = 0
        if pool < prev_pool:  # the pacing went down (cyclical): rows above the pool leave the bag
            kept = bag[:m][bag[:m] < pool]
            m = len(kept)
            bag[:m] = kept
            hi = pool
        prev_pool = pool
        while need:
            if pool > hi:
                offer(hi, pool)
                hi = pool
            if m < need and widen and hi < n:  # widen the pool to the next-easiest unread rows
                want = need - m
                extra = _unread(used, hi, want)
                bag[m : m + len(extra)] = extra
                m += len(extra)
                hi = int(extra[-1]) + 1 if len(extra) == want else n
            top = max(top, hi)
            take = min(need, m)
            if take:
                rows = _take(bag, m, take, rng)
                used[rows] = True
                span = max(span, int(rows.max()) + 1)
                got.append(rows)
                m -= take
                need -= take
            if need:  # exhausted: a new pass (widen) or a new round over the pool (repeat)
                used[:span] = False
                for g in got:  # no duplicates inside a batch, unless the pool is smaller than the batch
                    used[g] = True
                if used[:pool].all():
                    used[:span] = False
                m, hi = 0, 0
        rows = np.concatenate(got) if len(got) > 1 else got[0]
        out[pos : pos + len(rows)] = rows
        frac[t] = top / n if widen else pool / n
        pos += len(rows)
    if reverse:
        out = n - 1 - out
    return Drawn(out, frac)


def _unread(used: np.ndarray, start: int, want: int) -> np.ndarray:
    """The first `want` unread ranks at or after `start`, scanning in growing chunks."""
    found: list[np.ndarray] = []
    have, lo, chunk = 0, start, max(4096, 2 * want)
    while have < want and lo < len(used):
        hit = lo + np.flatnonzero(~used[lo : lo + chunk])
        found.append(hit[: want - have])
        have += len(found[-1])
        lo += chunk
        chunk *= 2
    return np.concatenate(found) if found else np.empty(0, dtype=np.int64)


def _take(bag: np.ndarray, m: int, k: int, rng: np.random.Generator) -> np.ndarray:
    """Remove k uniformly chosen rows from bag[:m] (in random order), filling holes from the tail."""
    if k == m:
        sel = rng.permutation(m)
        return bag[:m][sel].copy()
    sel = rng.choice(m, size=k, replace=False)
    taken = bag[sel].copy()
    tail = m - k
    in_tail = sel[sel >= tail]
    keep = np.ones(k, dtype=bool)
    keep[in_tail - tail] = False
    holes = np.sort(sel[sel < tail])
    bag[holes] = bag[tail:m][keep]
    return taken


def _passes(plan: Plan, one_pass) -> np.ndarray:
    """Concatenate passes (each a permutation of the N ranks) until S rows, then cut."""
    parts, total = [], 0
    while total < plan.samples:
        p = one_pass()
        parts.append(p)
        total += len(p)
    return np.concatenate(parts)[: plan.samples]


def _read_fraction(plan: Plan) -> np.ndarray:
    """Fraction of the sorted data read by the end of each step, within its pass."""
    ends = np.cumsum(plan.step_sizes())
    within = ends - ((ends - 1) // plan.n) * plan.n
    return within / plan.n


def sequential(plan: Plan) -> Drawn:
    """Plain easiest → hardest order, pass after pass; no sampling."""
    ranks = _passes(plan, lambda: np.arange(plan.n, dtype=np.int64))
    return Drawn(ranks, _read_fraction(plan))


def uniform(plan: Plan) -> Drawn:
    ranks = _passes(plan, lambda: plan.rng.permutation(plan.n).astype(np.int64))
    return Drawn(ranks, np.ones(plan.steps))


def warmup_then_shuffle(plan: Plan) -> Drawn:
    """The first W of the budget in sorted order, the rest of each pass shuffled uniformly."""
    w = min(plan.samples, math.ceil(plan.params.warmup * plan.samples))
    cut = min(w, plan.n)
    first = np.arange(plan.n, dtype=np.int64)
    first[cut:] = cut + plan.rng.permutation(plan.n - cut)
    ranks = np.concatenate([first, _passes(plan, lambda: plan.rng.permutation(plan.n).astype(np.int64))])[: plan.samples]
    frac = np.ones(plan.steps)
    ends = np.cumsum(plan.step_sizes())
    in_warm = ends <= cut
    frac[in_warm] = ends[in_warm] / plan.n
    return Drawn(ranks, frac)


def interleave(plan: Plan) -> Drawn:
    """Round-robin over K equal difficulty bins (bin 0 = easiest), a random row of the bin each time."""
    k = max(1, min(plan.params.k, plan.n))
    bins = (np.arange(plan.n) * k) // plan.n

    def one_pass() -> np.ndarray:
        within = np.empty(plan.n, dtype=np.int64)
        for b in range(k):
            idx = np.flatnonzero(bins == b)
            within[idx] = plan.rng.permutation(len(idx))
        return np.lexsort((bins, within)).astype(np.int64)

    return Drawn(_passes(plan, one_pass), np.ones(plan.steps))


def moving_target(plan: Plan) -> Drawn:
    """Each row is read near the moment the target quantile μ(t) = t/T reaches its own quantile."""
    q = (np.arange(plan.n) + 0.5) / plan.n

    def one_pass() -> np.ndarray:
        return np.argsort(q + plan.params.sigma * plan.rng.standard_normal(plan.n), kind="stable").astype(np.int64)

    return Drawn(_passes(plan, one_pass), plan.pace.copy())


def baseline(ranks: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The random-order control: the same rows (same multiset, same count), uniformly shuffled."""
    return ranks[rng.permutation(len(ranks))]
