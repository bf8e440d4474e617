"""The funnel: attempted → parsed → verified → novel → kept, per mode and operation, with drop reasons."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from curate.synth.lineage import Candidate

STAGES = ("attempted", "parsed", "verified", "novel", "kept")

# Which stage a drop reason stops a candidate before.
REASON_STAGE = {
    "empty": "parsed",
    "unparseable": "parsed",
    "no_steps": "parsed",  # hint: the solution gives no hint of at least one step
    "no_chain": "parsed",  # numeric: no arithmetic chain, or one that cannot be rewritten
    "unexplained_number": "parsed",
    "unused_number": "parsed",
    "chain_mismatch": "verified",  # numeric: the chain does not reproduce its own steps or answer
    "no_valid_instance": "verified",
    "refusal": "verified",
    "template_leak": "verified",
    "near_duplicate_parent": "verified",
    "critic_rejected": "verified",
    "refine_unparseable": "verified",
    "self_consistency": "verified",
    "duplicate_exact": "novel",
    "near_duplicate": "novel",
    "contaminated": "novel",
    "target_pass_rate": "kept",
    "not_monotonic": "kept",
    "not_learnable": "kept",  # hint, keep smallest-learnable: the target passes this rung never or always
    "larger_hint": "kept",  # hint, keep smallest-learnable: a smaller hint is already learnable
}


def advance(cands: list[Candidate], stage: str) -> None:
    """Mark every still-alive candidate as having reached `stage`."""
    for c in cands:
        if c.alive:
            c.stage = stage


def funnel(cands: list[Candidate]) -> dict[str, Any]:
    """Counts per `mode/op` and in total; for every row, attempted = kept + dropped."""
    by: dict[str, dict[str, int]] = defaultdict(lambda: {s: 0 for s in STAGES})
    reasons: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for c in cands:
        key = f"{c.mode}/{c.op}"
        reached = STAGES.index(c.stage)
        for tot in (key, "total"):
            for s in STAGES[: reached + 1]:
                by[tot][s] += 1
            if c.reason:
                reasons[tot][c.reason] += 1
    return {
        "stages": {k: dict(v) for k, v in sorted(by.items(), key=lambda kv: (kv[0] == "total", kv[0]))},
        "reasons": {k: dict(sorted(v.items())) for k, v in sorted(reasons.items())},
    }


def render_table(summary: dict[str, Any]) -> Any:
    from rich.table import Table

    t = Table(title=f"curate synthesize --mode {summary['mode']}", title_justify="left")
    t.add_column("operation")
    for s in STAGES:
        t.add_column(s, justify="right")
    t.add_column("drop reasons")
    f = summary["funnel"]
    for key, counts in f["stages"].items():
        rs = f["reasons"].get(key, {})
        top = ", ".join(f"{r} {n}" for r, n in sorted(rs.items(), key=lambda kv: -kv[1])[:3])
        t.add_row(key.split("/", 1)[-1], *(str(counts[s]) for s in STAGES), top, style="bold" if key == "total" else None)
    return t
