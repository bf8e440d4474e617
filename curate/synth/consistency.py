"""Self-consistency: the generator solves its own problem n times; m answers must match the stated one."""

from __future__ import annotations

from curate.engines.base import Engine, SamplingParams
from curate.synth.answers import solution_matches
from curate.synth.generation import chat
from curate.synth.lineage import Candidate
from curate.synth.options import SynthOptions
from curate.synth.prompts import render


def self_consistency(engine: Engine, cands: list[Candidate], opts: SynthOptions) -> None:
    alive = [c for c in cands if c.alive]
    if opts.sc_samples <= 0 or not alive:
        return
    params = SamplingParams(max_tokens=opts.solve_max_tokens, temperature=opts.solve_temperature, n=opts.sc_samples)
    comps = engine.generate([chat(render("solve", opts.prompts_dir, problem=c.problem)) for c in alive], params)
    for c, comp in zip(alive, comps):
        c.sc_samples = opts.sc_samples
        c.agree = sum(1 for t in comp.texts[: opts.sc_samples] if solution_matches(t, c.answer, c.task))
        if c.agree < opts.sc_min_agree:
            c.drop("self_consistency", f"{c.agree}/{opts.sc_samples} solutions agree with the stated answer (need {opts.sc_min_agree})")
