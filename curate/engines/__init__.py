"""Model engines behind one small protocol: in-process vLLM, an OpenAI-compatible server, a fake.

`open_engine(EngineConfig(...))` picks the engine from the `ENGINES` registry (a `url` means
"openai"), builds it and wraps it in the request cache (see curate.cache), so every command and
library function gets reproducible, resumable model calls the same way.
"""

from __future__ import annotations

from typing import Any

from curate.engines.base import ENGINES, Completion, Engine, EngineConfig, Prompt, PromptScore, SamplingParams


def build_engine(cfg: EngineConfig) -> Any:
    """The bare engine named by `cfg` (no cache)."""
    name = "openai" if cfg.url and cfg.engine in ("vllm", "openai") else cfg.engine
    cls = ENGINES.get(name)
    from_config = getattr(cls, "from_config", None)
    return from_config(cfg) if from_config else cls(model=cfg.model, **cfg.extra)


def open_engine(cfg: EngineConfig | None = None, *, cached: bool = True, engine: Any = None) -> Any:
    """Open the engine described by `cfg`, wrapped in the request cache unless `cached=False`.

    `engine` lets a caller wrap an already built engine (e.g. a FakeEngine, or a shared vLLM engine
    in tests) the same way; closing the wrapper then leaves that engine open.
    """
    cfg = cfg or EngineConfig()
    eng = engine if engine is not None else build_engine(cfg)
    if not cached:
        return eng
    from curate.cache import CachedEngine, RequestCache, cache_root

    cache = RequestCache(cache_root(cfg.cache_dir) / "requests.sqlite")
    return CachedEngine(eng, cache, read=cfg.cache, seed=cfg.seed, close_engine=engine is None)


__all__ = [
    "ENGINES",
    "Completion",
    "Engine",
    "EngineConfig",
    "Prompt",
    "PromptScore",
    "SamplingParams",
    "build_engine",
    "open_engine",
]
