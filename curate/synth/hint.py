"""Hint mode (Reverse Curriculum RL, GHPO, Adaptive Guidance): the problem plus the start of its solution.

Steps: the reference solution with GSM8K's `<<…>>` calculator annotations removed and everything
from its `####` final-answer marker on withheld. Its non-empty lines are the steps; a solution
on a single line is split into sentences (after `.`, `!` or `?` followed by white space).

Rungs (`fractions`): a fraction f with 0 < f ≤ 1 gives the first ⌊f·n⌋ of a row's n steps, and
`n-j` all but the last j (`n`: all steps). Per row, rungs are ordered by hint size; rungs that
give the same hint are one variant (every label is recorded) and rungs with no step are left
out. `synth_level` is −rank (−1: the smallest hint). The variant's text is the problem and the
hint in the `synth_hint.txt` template; its answer is the parent's, so it is correct by
construction. `keep_smallest_learnable` keeps per row only the smallest hint the target passes
sometimes but not always.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

from curate.errors import UsageError
from curate.pass_rate import bucket
from curate.synth.lineage import Candidate, Seed
from curate.synth.options import SynthOptions
from curate.synth.prompts import render

OP = "hint"
_ANNOTATION = re.compile(r"<<[^<>]*>>")
_SENTENCE_END = re.compile(r"[.!?](?=\s+\S)")


@dataclass(frozen=True)
class Rung:
    label: str
    fraction: Fraction | None = None
    drop_last: int = 0  # for `n-j` rungs

    def size(self, n: int) -> int:
        return int(self.fraction * n) if self.fraction is not None else n - self.drop_last


def parse_rungs(specs: tuple[str, ...] | list[str]) -> list[Rung]:
    """`0.25`, `1/2`, `n-1`, `n` (comma-separated lists allowed) → rungs; bad ones are usage errors."""
    out: list[Rung] = []
    for spec in specs:
        for part in str(spec).split(","):
            p = part.strip().replace(" ", "")
            if not p:
                continue
            m = re.fullmatch(r"n(?:-(\d+))?", p)
            if m:
                out.append(Rung(p, drop_last=int(m.group(1) or 0)))
                continue
            try:
                f = Fraction(p)
            except (ValueError, ZeroDivisionError):
                f = None
            if f is None or not 0 < f <= 1:
                raise UsageError(
                    f"--fractions: '{p}' is not a hint rung", "use fractions in (0, 1] such as 0.25,0.5,1, or n-1 for all steps but the last"
                )
            out.append(Rung(p, fraction=f))
    if not out:
        raise UsageError("--fractions is empty", "give at least one rung, e.g. --fractions 0.5,n-1,1")
    return out


def split_steps(solution: str) -> tuple[str, list[int]]:
    """(the solution without annotations and final answer, end offset of each step in it)."""
    text = _ANNOTATION.sub("", solution)
    cut = text.find("####")
    text = (text[:cut] if cut >= 0 else text).rstrip()
    lines = [m for m in re.finditer(r"[^\n]*\S[^\n]*", text)]
    if len(lines) > 1:
        return text, [m.end() for m in lines]
    if not lines:
        return text, []
    return text, [m.end() for m in _SENTENCE_END.finditer(text)] + [len(text)]


def run_hints(seeds: list[Seed], opts: SynthOptions) -> list[Candidate]:
    rungs = parse_rungs(opts.fractions)
    out: list[Candidate] = []
    for s in seeds:
        solution = str(s.row.get(opts.solution_field) or "")
        text, ends = split_steps(solution)
        n = len(ends)
        sizes: dict[int, list[str]] = {}
        for r in rungs:
            k = r.size(n)
            if 1 <= k <= n:
                sizes.setdefault(k, []).append(r.label)
        if not sizes:
            c = Candidate(parent_id=s.id, parent_text=s.text, mode="hint", op=OP, level=None, round=1, task=s.task, source_text=s.text)
            c.drop("no_steps", f"the solution has {n} step{'s' if n != 1 else ''}: no rung of {', '.join(r.label for r in rungs)} gives a hint")
            out.append(c)
            continue
        for rank, (k, labels) in enumerate(sorted(sizes.items()), start=1):
            hint = text[: ends[k - 1]].strip()
            c = Candidate(
                parent_id=s.id,
                parent_text=s.text,
                mode="hint",
                op=OP,
                level=-rank,
                round=1,
                task=s.task,
                source_text=s.text,
                problem=render("hint", opts.prompts_dir, problem=s.text, hint=hint),
                solution=solution,
                answer=s.answer,
                hint=hint,
            )
            c.notes.update({"hint_steps": f"{k}/{n}", "hint_rungs": labels})
            c.stage = "parsed"
            out.append(c)
    return out


def keep_smallest_learnable(cands: list[Candidate]) -> dict[str, int]:
    """Per parent, keep the smallest surviving hint whose target pass count is 0 < c < k; drop the rest."""
    stats = {"kept": 0, "not_learnable": 0, "larger_hint": 0}
    ladders: dict[str, list[Candidate]] = {}
    for c in cands:
        if c.alive and c.target_pass_rate is not None:
            ladders.setdefault(c.parent_id, []).append(c)
    for rungs in ladders.values():
        chosen: Candidate | None = None
        for c in sorted(rungs, key=lambda c: -(c.level or 0)):
            passes = round((c.target_pass_rate or 0.0) * c.target_k)
            if chosen is not None:
                c.drop("larger_hint", f"the smaller hint at level {chosen.level} is already learnable")
                stats["larger_hint"] += 1
            elif bucket(passes, c.target_k) == "learnable":
                chosen = c
                stats["kept"] += 1
            else:
                c.drop("not_learnable", f"the target passed {passes}/{c.target_k} ({bucket(passes, c.target_k)})")
                stats["not_learnable"] += 1
    return stats


def pass_rate_by_rung(cands: list[Candidate]) -> dict[str, dict[str, object]]:
    """Pooled target pass rate per configured rung label (a variant counts for every label it serves)."""
    from curate.synth.monotonic import pooled

    groups: dict[str, list[tuple[int, int]]] = {}
    for c in cands:
        if c.target_pass_rate is not None:
            for label in c.notes.get("hint_rungs", []):
                groups.setdefault(label, []).append((round(c.target_pass_rate * c.target_k), c.target_k))
    return {label: pooled(v) for label, v in groups.items()}
