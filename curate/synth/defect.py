"""Defect-aware mode (WarriorMath): new problems aimed at what the target fails, verified twice.

Per seed the generator writes `per_seed` problems exercising the same skill, each with a worked
solution and final answer; the critic judges each and rejected ones are refined with the critique
(up to `critic_rounds` times); self-consistency confirms the answer. The pipeline then keeps the
novel ones the target still fails (pass rate below `max_pass_rate`); later rounds seed from them.
"""

from __future__ import annotations

from curate.engines.base import Engine
from curate.synth.candidates import Request, generate_candidates
from curate.synth.consistency import self_consistency
from curate.synth.critic import critique_and_refine
from curate.synth.eliminator import eliminate
from curate.synth.funnel import advance
from curate.synth.generation import JsonStats
from curate.synth.lineage import Candidate, Seed
from curate.synth.options import SynthOptions
from curate.synth.prompts import render


def run_defect_round(
    seeds: list[Seed], rnd: int, generator: Engine, critic: Engine, opts: SynthOptions, stats: dict[str, JsonStats]
) -> list[Candidate]:
    reqs = [Request(render("defect", opts.prompts_dir, problem=s.text), s.id, s.text, s.text, "defect", "defect", None, rnd, s.task) for s in seeds]
    cands = generate_candidates(generator, reqs, opts.per_seed, opts, stats)
    for c in cands:
        eliminate(c, [c.parent_text], opts.parent_dup_threshold, opts.prompts_dir)
    critique_and_refine(critic, generator, cands, opts, stats)
    for c in cands:  # a refinement may have produced a refusal or a copy of the parent
        if c.notes.get("refinements"):
            eliminate(c, [c.parent_text], opts.parent_dup_threshold, opts.prompts_dir)
    self_consistency(generator, cands, opts)
    advance(cands, "verified")
    return cands
