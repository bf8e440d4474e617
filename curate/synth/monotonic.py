"""Monotonicity check: along a ladder the target's measured pass rate must not rise with the level.

Per seed the parent sits at level 0 with its pass rate p0. `drop`: walking outward from the parent,
a harder level is kept only when its pass rate is at most the last kept level's minus the margin
(an easier level: at least plus the margin); the others are dropped as `not_monotonic`. `relabel`:
nothing is dropped; variants are ranked by measured pass rate (ties keep their intended order) and
renumbered outward from the parent, so `synth_level` always agrees with the measurement; the
intended level is kept in the verification record.
"""

from __future__ import annotations

from collections import defaultdict

from curate.synth.lineage import Candidate
from curate.synth.options import MonotonicPolicy


def check_ladders(cands: list[Candidate], parent_rates: dict[str, float], policy: MonotonicPolicy, margin: float) -> dict[str, int]:
    stats = {"checked": 0, "dropped": 0, "relabelled": 0}
    ladders: dict[str, list[Candidate]] = defaultdict(list)
    for c in cands:
        if c.alive and c.target_pass_rate is not None:
            ladders[c.parent_id].append(c)
    for pid, rungs in ladders.items():
        p0 = parent_rates.get(pid)
        stats["checked"] += len(rungs)
        for c in rungs:
            c.notes["parent_pass_rate"] = p0
        if p0 is None:
            continue
        if policy == MonotonicPolicy.drop:
            for sign in (1, -1):
                prev = p0
                for c in sorted((c for c in rungs if (c.level or 0) * sign > 0), key=lambda c: abs(c.level or 0)):
                    pr = c.target_pass_rate
                    assert pr is not None
                    ok = pr <= prev - margin if sign > 0 else pr >= prev + margin
                    if ok:
                        prev = pr
                        c.notes["monotonic"] = "ok"
                    else:
                        c.notes["monotonic"] = "dropped"
                        c.drop("not_monotonic", f"level {c.level} pass rate {pr:.2f} vs {prev:.2f} on the level before")
                        stats["dropped"] += 1
        else:

            def rank(c: Candidate) -> tuple[float, int]:
                return (-(c.target_pass_rate or 0.0), c.level or 0)

            easier = sorted((c for c in rungs if rank(c) < (-p0, 0)), key=rank, reverse=True)
            harder = sorted((c for c in rungs if rank(c) >= (-p0, 0)), key=rank)
            for i, c in enumerate(easier):
                _relabel(c, -(i + 1), stats)
            for i, c in enumerate(harder):
                _relabel(c, i + 1, stats)
    return stats


def _relabel(c: Candidate, level: int, stats: dict[str, int]) -> None:
    c.notes["intended_level"] = c.level
    if level != c.level:
        stats["relabelled"] += 1
        c.notes["monotonic"] = "relabelled"
        c.level = level
    else:
        c.notes["monotonic"] = "ok"


def _counts(rate: float | None, k: int) -> tuple[int, int]:
    return (round((rate or 0.0) * k), k)


def check_rungs(cands: list[Candidate], parents: dict[str, tuple[float | None, int]]) -> dict[str, int]:
    """Hint and numeric rungs: the order may break only within the Wilson interval.

    Per parent, level 0 pools the parent's measured passes with any level-0 variants. Walking
    outward, a harder variant is dropped as `not_monotonic` when its pass rate is above the Wilson
    95 % upper bound of the last level with kept variants (pooled), an easier one when it is below
    that level's lower bound. Variants of one level are compared with the same pool.
    """
    from curate.pass_rate import wilson

    stats = {"checked": 0, "dropped": 0, "relabelled": 0}
    ladders: dict[str, list[Candidate]] = defaultdict(list)
    for c in cands:
        if c.alive and c.target_pass_rate is not None and c.level is not None:
            ladders[c.parent_id].append(c)
    for pid, rungs in ladders.items():
        rate, k = parents.get(pid, (None, 0))
        base = [_counts(rate, k)] if rate is not None else []
        base += [_counts(c.target_pass_rate, c.target_k) for c in rungs if c.level == 0]
        for c in rungs:
            c.notes["parent_pass_rate"] = rate
        for sign in (1, -1):
            pool = base
            levels = sorted({abs(c.level or 0) for c in rungs if (c.level or 0) * sign > 0})
            for lvl in levels:
                this = [c for c in rungs if c.level == sign * lvl]
                passes, n = sum(p for p, _ in pool), sum(m for _, m in pool)
                lo, hi = wilson(passes, n) if n else (0.0, 1.0)
                kept = []
                for c in this:
                    stats["checked"] += 1
                    pr = c.target_pass_rate or 0.0
                    if (sign > 0 and pr > hi) or (sign < 0 and pr < lo):
                        c.notes["monotonic"] = "dropped"
                        side = "above the upper" if sign > 0 else "below the lower"
                        c.drop(
                            "not_monotonic",
                            f"level {c.level} pass rate {pr:.2f} is {side} Wilson bound {hi if sign > 0 else lo:.2f} "
                            f"of the level before ({passes}/{n})",
                        )
                        stats["dropped"] += 1
                    else:
                        c.notes["monotonic"] = "ok"
                        kept.append(_counts(c.target_pass_rate, c.target_k))
                if kept:
                    pool = kept
        for c in rungs:
            if c.level == 0:
                c.notes["monotonic"] = "same level"
    return stats


def pooled_by_level(cands: list[Candidate], parents: dict[str, tuple[float | None, int]]) -> dict[str, dict[str, dict[str, object]]]:
    """Target pass rate per level (`parent`: the seeds that have variants), over every measured variant and over the kept ones.

    Each entry: rows `n`, the mean of their pass rates, and the pooled passes / samples with a Wilson 95 % interval.
    """
    measured: dict[str, list[tuple[int, int]]] = defaultdict(list)
    kept: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for pid in sorted({c.parent_id for c in cands if c.target_pass_rate is not None}):
        rate, k = parents.get(pid, (None, 0))
        if rate is not None:
            measured["parent"].append(_counts(rate, k))
    for c in cands:
        if c.target_pass_rate is not None and c.level is not None:
            measured[str(c.level)].append(_counts(c.target_pass_rate, c.target_k))
            if c.alive:
                kept[str(c.level)].append(_counts(c.target_pass_rate, c.target_k))

    def table(groups: dict[str, list[tuple[int, int]]]) -> dict[str, dict[str, object]]:
        order = sorted(groups, key=lambda g: (g != "parent", int(g) if g != "parent" else 0))
        return {g: pooled(groups[g]) for g in order}

    return {"measured": table(measured), "kept": table(kept)}


def pooled(counts: list[tuple[int, int]]) -> dict[str, object]:
    """For (passes, samples) pairs: rows, mean pass rate, pooled passes, samples, pass rate and its Wilson 95 % interval."""
    from curate.pass_rate import wilson

    p, n = sum(a for a, _ in counts), sum(b for _, b in counts)
    lo, hi = wilson(p, n)
    mean = sum(a / b for a, b in counts if b) / len(counts) if counts else None
    return {
        "n": len(counts),
        "mean_pass_rate": None if mean is None else round(mean, 4),
        "passes": p,
        "samples": n,
        "pass_rate": round(p / n, 4) if n else None,
        "wilson": [round(lo, 4), round(hi, 4)],
    }
