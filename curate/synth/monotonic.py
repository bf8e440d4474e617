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
