"""Per-step mixtures: every step takes a fixed share of its rows from each group (e.g. each `source`).

`quotas` splits each step's rows between the groups so that a group with weight w gets ⌊w·B⌋ or
⌈w·B⌉ of a step's B rows — within one row of w·B at every step — and the rounding errors carry
over from step to step, so over the run each group's total stays within one row of its share.

`interleave` applies them to an ordered sequence: each group's rows keep their order (the
schedule's), and step t takes its quota from the front of each group's queue. When a group runs
out of rows, `exhausted` decides: `share` gives its quota to the groups that still have rows (no
row repeats, the sequence keeps its length), `cycle` starts that group's queue again (the mixture
stays exact; the group's rows repeat).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


def step_sizes(total: int, batch_size: int, first: int | None = None) -> np.ndarray:
    """Rows per step for `total` rows in steps of `batch_size` (the first step may be shorter: `first`)."""
    sizes: list[int] = []
    left = total
    if first is not None and 0 < first < batch_size and left:
        sizes.append(min(first, left))
        left -= sizes[-1]
    full, rest = divmod(left, batch_size)
    sizes += [batch_size] * full + ([rest] if rest else [])
    return np.array(sizes, dtype=np.int64)


def quotas(weights: np.ndarray, size: int, carry: np.ndarray) -> np.ndarray:
    """One step's rows per group: ⌊w·size⌋, plus one for the groups furthest behind their share (updates `carry`)."""
    exact = weights * size
    base = np.floor(exact + 1e-12).astype(np.int64)
    carry += exact - base
    extra = int(size - base.sum())
    if extra > 0:
        # the groups with the largest accumulated shortfall get the extra rows (ties: lower group index)
        top = np.argsort(-carry, kind="stable")[:extra]
        base[top] += 1
        carry[top] -= 1.0
    return base


@dataclass
class Mixed:
    sequence: np.ndarray  # the entries in their new order
    per_group: dict[int, dict[str, int]] = field(default_factory=dict)  # group → rows, distinct entries used, repeats, unread


def interleave(
    sequence: np.ndarray,
    groups: np.ndarray,
    weights: np.ndarray,
    batch_size: int,
    total: int | None = None,
    exhausted: str = "share",
    first_step: int | None = None,
) -> Mixed:
    """Re-order `sequence` so that each step holds each group's share of rows.

    `groups[i]` is the group (0…G−1) of `sequence[i]`; `weights` (length G) sum to 1. `total` rows
    are emitted (default: the sequence's length); `first_step` is the size of a first, partial step.
    """
    w = np.asarray(weights, dtype=np.float64)
    g_count = len(w)
    queues = [sequence[groups == g] for g in range(g_count)]
    total = len(sequence) if total is None else total
    if exhausted == "share":
        total = min(total, len(sequence))
    heads = np.zeros(g_count, dtype=np.int64)
    used = np.zeros(g_count, dtype=np.int64)
    active = np.array([len(q) > 0 for q in queues]) & (w > 0)
    carry = np.zeros(g_count)
    out = np.empty(total, dtype=sequence.dtype)
    pos = 0
    for size in step_sizes(total, batch_size, first_step):
        size = int(size)
        while size:
            live = w * active
            if live.sum() <= 0:
                break
            share = live / live.sum()
            q = quotas(share, size, carry)
            short = False
            for g in np.flatnonzero(q):
                want = int(q[g])
                if exhausted == "share":
                    left = len(queues[g]) - heads[g]
                    take = min(want, left)
                    out[pos : pos + take] = queues[g][heads[g] : heads[g] + take]
                    heads[g] += take
                    pos += take
                    size -= take
                    used[g] += take
                    if heads[g] >= len(queues[g]):
                        active[g] = False
                        carry[g] = 0.0
                        short = short or take < want
                else:
                    idx = (heads[g] + np.arange(want)) % len(queues[g])
                    out[pos : pos + want] = queues[g][idx]
                    heads[g] += want
                    pos += want
                    size -= want
                    used[g] += want
            if not short:
                break
        if not active.any():
            break
    stats = {}
    for g in range(g_count):
        n = len(queues[g])
        stats[g] = {"rows": int(used[g]), "available": n, "repeats": int(max(0, used[g] - n)), "unread": int(max(0, n - used[g]))}
    return Mixed(out[:pos], stats)
