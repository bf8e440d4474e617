"""Ladder mode: per seed, L harder variants (Evol-Instruct in-depth operations) and E easier ones.

Each level is rewritten from the level before it (level 1 from the parent), one operation per
level, cycling through the operations from an offset derived from the seed id. A chain stops
at the first level the eliminator or self-consistency drops.
"""

from __future__ import annotations

import hashlib

from curate.engines.base import Engine
from curate.errors import UsageError
from curate.synth.candidates import Request, generate_candidates
from curate.synth.consistency import self_consistency
from curate.synth.eliminator import eliminate
from curate.synth.funnel import advance
from curate.synth.generation import JsonStats
from curate.synth.lineage import Candidate, Seed
from curate.synth.options import SynthOptions
from curate.synth.prompts import op_instructions, render


def _offset(seed_id: str, seed: int) -> int:
    return int.from_bytes(hashlib.blake2b(f"{seed}:{seed_id}".encode(), digest_size=4).digest(), "big")


def check_ops(opts: SynthOptions) -> None:
    known = op_instructions(opts.prompts_dir)
    for op in (*opts.harder_ops, *opts.easier_ops):
        if op not in known:
            raise UsageError(f"unknown ladder operation '{op}'", f"choose from: {', '.join(known)} (or add it to synth_ops.txt)")


def run_ladder(seeds: list[Seed], generator: Engine, opts: SynthOptions, stats: dict[str, JsonStats]) -> list[Candidate]:
    check_ops(opts)
    instr = op_instructions(opts.prompts_dir)
    # (seed id, direction) → text the next level is rewritten from; removed when a chain stops.
    source: dict[tuple[str, int], str] = {}
    for s in seeds:
        if opts.harder:
            source[(s.id, 1)] = s.text
        if opts.easier:
            source[(s.id, -1)] = s.text
    out: list[Candidate] = []
    for t in range(1, max(opts.harder, opts.easier) + 1):
        reqs = []
        for s in seeds:
            h = _offset(s.id, opts.seed)
            for sign, limit, ops in ((1, opts.harder, opts.harder_ops), (-1, opts.easier, opts.easier_ops)):
                src = source.get((s.id, sign))
                if src is None or t > limit or not ops:
                    continue
                op = ops[(h + t - 1) % len(ops)]
                reqs.append(
                    Request(
                        render("ladder", opts.prompts_dir, instruction=instr[op], problem=src), s.id, s.text, src, "ladder", op, sign * t, 1, s.task
                    )
                )
        if not reqs:
            break
        cands = generate_candidates(generator, reqs, 1, opts, stats)
        for c in cands:
            eliminate(c, list(dict.fromkeys([c.parent_text, c.source_text])), opts.parent_dup_threshold, opts.prompts_dir)
        self_consistency(generator, cands, opts)
        advance(cands, "verified")
        for c in cands:
            key = (c.parent_id, 1 if (c.level or 0) > 0 else -1)
            if c.alive:
                source[key] = c.problem
            else:
                source.pop(key, None)
        out.extend(cands)
    return out
