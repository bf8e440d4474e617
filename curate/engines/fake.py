"""A deterministic in-memory engine for fast unit tests, registered like any other engine.

It answers with a `responder(prompt, params, sample_index) -> str` (default: a canned echo) and
records every call in `calls`, so tests can assert on what curate asked for.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from typing import Any

from curate.engines.base import ENGINES, Completion, Prompt, PromptScore, SamplingParams

Responder = Callable[[Prompt, SamplingParams, int], str]


def prompt_text(prompt: Prompt) -> str:
    """The text of a prompt: the string itself, or the last user message of a chat."""
    if isinstance(prompt, str):
        return prompt
    users = [m["content"] for m in prompt if m.get("role") == "user"]
    return users[-1] if users else (prompt[-1]["content"] if prompt else "")


def _default_responder(prompt: Prompt, params: SamplingParams, index: int) -> str:
    return f"fake answer {index} to: {prompt_text(prompt)[:40]}"


@ENGINES.register("fake")
class FakeEngine:
    name = "fake"

    def __init__(self, model: str = "fake-model", responder: Responder | None = None, **_: Any):
        self.model = model
        self.responder = responder or _default_responder
        self.calls: list[dict[str, Any]] = []

    @classmethod
    def model_name(cls, cfg: Any) -> str:
        return cfg.model or "fake-model"

    @classmethod
    def from_config(cls, cfg: Any) -> FakeEngine:
        return cls(model=cfg.model or "fake-model", **cfg.extra)

    def generate(self, prompts: list[Prompt], params: SamplingParams) -> list[Completion]:
        self.calls.append({"method": "generate", "prompts": list(prompts), "params": params})
        out = []
        for p in prompts:
            texts = [self.responder(p, params, i) for i in range(params.n)]
            out.append(Completion(texts=texts, token_counts=[len(t.split()) for t in texts], finish_reasons=["stop"] * len(texts)))
        return out

    def score_prompts(self, texts: list[str], top_k: int = 0) -> list[PromptScore]:
        """Pseudo log-probabilities: a fixed function of each word, so longer/rarer text scores worse."""
        self.calls.append({"method": "score_prompts", "texts": list(texts), "top_k": top_k})
        out = []
        for t in texts:
            lps = []
            tops = []
            for w in t.split() or [""]:
                h = int.from_bytes(hashlib.blake2b(w.encode(), digest_size=2).digest(), "big") / 65535
                lp = math.log(0.05 + 0.9 * (1 - h))
                lps.append(lp)
                tops.append({w: lp, "<other>": math.log(max(1e-9, 1 - math.exp(lp)))})
            out.append(PromptScore(token_logprobs=lps, top_logprobs=tops if top_k else None))
        return out

    def close(self) -> None:
        pass
