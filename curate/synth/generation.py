"""Ask an engine for JSON, validate it, and re-ask with the error when it is malformed.

Requests are batched (one engine call per stage, all seeds together) and every call goes
through the engine as given — `open_engine` wraps it in the request cache, so a rerun replays
finished calls instead of redoing them.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel

from curate.engines.base import Engine, SamplingParams
from curate.synth.prompts import render
from curate.synth.schema import json_schema, parse_json

M = TypeVar("M", bound=BaseModel)


def chat(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


@dataclass
class Parsed:
    obj: Any  # the validated model, or None
    raw: str  # the last raw text seen
    error: str | None  # why it still failed
    attempts: int


@dataclass
class JsonStats:
    """Parse-rate bookkeeping: first-try successes, successes after repair, and failures."""

    requested: int = 0
    first_try: int = 0
    repaired: int = 0
    failed: int = 0

    def as_dict(self) -> dict[str, Any]:
        ok = self.first_try + self.repaired
        return {
            "requested": self.requested,
            "parsed_first_try": self.first_try,
            "parsed_after_retry": self.repaired,
            "failed": self.failed,
            "parse_rate": round(ok / self.requested, 4) if self.requested else None,
            "first_try_parse_rate": round(self.first_try / self.requested, 4) if self.requested else None,
        }


def ask_json(
    engine: Engine,
    requests: list[str],
    model: type[M],
    *,
    n: int,
    temperature: float,
    max_tokens: int,
    retries: int,
    structured: bool,
    stats: JsonStats,
    prompts_dir: str | None = None,
) -> list[list[Parsed]]:
    """For each request, `n` samples parsed into `model` (or None with the error after `retries` repairs)."""
    if not requests:
        return []
    schema = json_schema(model) if structured else None
    params = SamplingParams(max_tokens=max_tokens, temperature=temperature, n=n, json_schema=schema)
    comps = engine.generate([chat(r) for r in requests], params)
    out: list[list[Parsed]] = []
    for comp in comps:
        row = []
        for text in comp.texts[:n]:
            obj, err = parse_json(text, model)
            row.append(Parsed(obj, text, err, 1))
        out.append(row)
    stats.requested += sum(len(r) for r in out)
    stats.first_try += sum(1 for r in out for p in r if p.obj is not None)
    for attempt in range(retries):
        # Identical repair prompts are asked once with n = how many samples need them.
        groups: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for i, row in enumerate(out):
            for j, p in enumerate(row):
                if p.obj is None:
                    groups[render("repair", prompts_dir, request=requests[i], error=p.error or "invalid")].append((i, j))
        if not groups:
            break
        keys = sorted(groups)
        by_n: dict[int, list[str]] = defaultdict(list)
        for k in keys:
            by_n[len(groups[k])].append(k)
        for count, prompts in sorted(by_n.items()):
            p2 = SamplingParams(max_tokens=max_tokens, temperature=temperature, n=count, json_schema=schema)
            for prompt, comp in zip(prompts, engine.generate([chat(p) for p in prompts], p2)):
                for (i, j), text in zip(groups[prompt], comp.texts):
                    obj, err = parse_json(text, model)
                    out[i][j] = Parsed(obj, text, err, attempt + 2)
                    if obj is not None:
                        stats.repaired += 1
    stats.failed += sum(1 for r in out for p in r if p.obj is None)
    return out
