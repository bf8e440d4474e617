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


_SHARED: dict[tuple[Any, ...], Any] = {}


def shared_engine(cfg: EngineConfig) -> Any:
    """One in-process vLLM engine per (model, seed, length limit) for the whole process.

    Loading the model is the expensive part, and a pipeline or a test session opens the same engine
    many times: they all get this one, closed when the process exits.
    """
    import atexit

    key = (cfg.engine, cfg.model, cfg.seed, cfg.max_model_len, repr(sorted(cfg.extra.items())))
    if key not in _SHARED:
        _SHARED[key] = build_engine(cfg)
        atexit.register(_SHARED[key].close)
    return _SHARED[key]


def request_cache_path(cfg: EngineConfig) -> Any:
    """`<cfg.cache_dir>/requests.sqlite`, else `$CURATE_REQUEST_CACHE/requests.sqlite`, else the cache root's."""
    import os
    from pathlib import Path

    from curate.cache import cache_root

    if cfg.cache_dir:
        return Path(cfg.cache_dir).expanduser() / "requests.sqlite"
    env = os.environ.get("CURATE_REQUEST_CACHE")
    return (Path(env).expanduser() if env else cache_root()) / "requests.sqlite"


def open_engine(cfg: EngineConfig | None = None, *, cached: bool = True, engine: Any = None, executor: Any = None) -> Any:
    """Open the engine described by `cfg`, wrapped in the request cache unless `cached=False`.

    `engine` lets a caller wrap an already built engine (e.g. a FakeEngine, or a shared vLLM engine
    in tests) the same way; closing the wrapper then leaves that engine open. An `executor` that
    runs engines itself (`--executor ray`: a pool of engine actors) provides the engine instead;
    the cache stays here, and closing the wrapper closes the pool.
    """
    cfg = cfg or EngineConfig()
    pool = getattr(executor, "engine_pool", None) if engine is None else None
    if pool is not None:
        eng, owned = pool(cfg), True
    else:
        shared = engine is None and cfg.engine == "vllm" and not cfg.url
        eng = engine if engine is not None else shared_engine(cfg) if shared else build_engine(cfg)
        owned = engine is None and not shared
    if not cached:
        return eng
    from curate.cache import CachedEngine, RequestCache

    cache = RequestCache(request_cache_path(cfg))
    return CachedEngine(eng, cache, read=cfg.cache, seed=cfg.seed, close_engine=owned)


__all__ = [
    "ENGINES",
    "Completion",
    "Engine",
    "EngineConfig",
    "Prompt",
    "PromptScore",
    "SamplingParams",
    "build_engine",
    "shared_engine",
    "open_engine",
]
