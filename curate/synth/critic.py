"""Critic pass: judge well-posedness and the answer; refine rejected problems with the critique."""

from __future__ import annotations

from curate.engines.base import Engine
from curate.synth.generation import JsonStats, ask_json
from curate.synth.lineage import Candidate
from curate.synth.options import SynthOptions
from curate.synth.prompts import render
from curate.synth.schema import Critique, Problem


def critique_and_refine(critic: Engine, generator: Engine, cands: list[Candidate], opts: SynthOptions, stats: dict[str, JsonStats]) -> None:
    """Up to `critic_rounds` refinements; a problem still rejected after them is dropped (`critic_rejected`).

    A critique that cannot be parsed counts as a rejection: nothing unjudged is kept.
    """
    pending = [c for c in cands if c.alive]
    for rnd in range(opts.critic_rounds + 1):
        if not pending:
            return
        reqs = [render("critic", opts.prompts_dir, problem=c.problem, solution=c.solution, answer=c.answer) for c in pending]
        res = ask_json(
            critic,
            reqs,
            Critique,
            n=1,
            temperature=0.0,
            max_tokens=min(opts.max_tokens, 160),
            retries=opts.json_retries,
            structured=opts.structured,
            stats=stats["critic"],
            prompts_dir=opts.prompts_dir,
        )
        rejected: list[tuple[Candidate, str]] = []
        for c, (p,) in zip(pending, res):
            if p.obj is not None and p.obj.verdict == "accept":
                c.critic.append({"round": rnd, "verdict": "accept", "reason": p.obj.reason[:300]})
            else:
                why = p.obj.reason if p.obj is not None else f"critic output unusable: {p.error}"
                c.critic.append({"round": rnd, "verdict": "reject", "reason": why[:300]})
                rejected.append((c, why))
        if rnd == opts.critic_rounds:
            for c, why in rejected:
                c.drop("critic_rejected", f"still rejected after {opts.critic_rounds} refinement(s): {why[:200]}")
            return
        reqs = [
            render("refine", opts.prompts_dir, problem=c.problem, solution=c.solution, answer=c.answer, critique=why[:400]) for c, why in rejected
        ]
        res = ask_json(
            generator,
            reqs,
            Problem,
            n=1,
            temperature=opts.temperature,
            max_tokens=opts.max_tokens,
            retries=opts.json_retries,
            structured=opts.structured,
            stats=stats["refine"],
            prompts_dir=opts.prompts_dir,
        )
        pending = []
        for (c, _), (p,) in zip(rejected, res):
            if p.obj is None:
                c.raw = p.raw
                c.drop("refine_unparseable", p.error or "")
                continue
            c.problem, c.solution, c.answer = p.obj.problem, p.obj.solution, p.obj.answer
            c.notes["refinements"] = c.notes.get("refinements", 0) + 1
            pending.append(c)
