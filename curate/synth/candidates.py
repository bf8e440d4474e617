"""Generation stage: turn requests into parsed candidates (or `empty`/`unparseable` drops)."""

from __future__ import annotations

from dataclasses import dataclass

from curate.engines.base import Engine
from curate.synth.eliminator import check_parse
from curate.synth.funnel import advance
from curate.synth.generation import JsonStats, ask_json
from curate.synth.lineage import Candidate
from curate.synth.options import SynthOptions
from curate.synth.schema import Problem


@dataclass
class Request:
    prompt: str
    parent_id: str
    parent_text: str
    source_text: str  # the text this request rewrites (the parent, or the previous ladder level)
    mode: str
    op: str
    level: int | None
    round: int
    task: str


def generate_candidates(engine: Engine, requests: list[Request], n: int, opts: SynthOptions, stats: dict[str, JsonStats]) -> list[Candidate]:
    """`n` candidates per request, in request order, from one batched engine call."""
    out: list[Candidate] = []
    if requests:
        res = ask_json(
            engine,
            [r.prompt for r in requests],
            Problem,
            n=n,
            temperature=opts.temperature,
            max_tokens=opts.max_tokens,
            retries=opts.json_retries,
            structured=opts.structured,
            stats=stats["generate"],
            prompts_dir=opts.prompts_dir,
        )
        for r, samples in zip(requests, res):
            for i, p in enumerate(samples):
                c = Candidate(
                    parent_id=r.parent_id,
                    parent_text=r.parent_text,
                    mode=r.mode,
                    op=r.op,
                    level=r.level,
                    round=r.round,
                    sample=i,
                    task=r.task,
                    raw=p.raw,
                    source_text=r.source_text,
                )
                if p.obj is not None:
                    c.problem, c.solution, c.answer = p.obj.problem, p.obj.solution, p.obj.answer
                    c.notes["json_attempts"] = p.attempts
                check_parse(c, p.obj is not None, p.error)
                out.append(c)
    advance(out, "parsed")
    return out
