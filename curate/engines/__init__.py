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
    cls = ENGINES.get(cfg.registry_name)
    from_config = getattr(cls, "from_config", None)
    return from_config(cfg) if from_config else cls(model=cfg.model, **cfg.extra)


def model_name(cfg: EngineConfig) -> str | None:
    """The model name an engine for `cfg` will report, when it can be known without starting it.

    The class's `model_name` hook is trusted only when it is declared where (or below where)
    `from_config` is: a subclass that changes how it is built may change the name too.
    """
    cls = ENGINES.get(cfg.registry_name)
    hook = getattr(cls, "model_name", None)
    if hook is None:
        return None
    mro = getattr(cls, "__mro__", (cls,))
    owner = next((c for c in mro if "model_name" in vars(c)), None)
    builder = next((c for c in mro if "from_config" in vars(c) or "__init__" in vars(c)), None)
    if owner is not None and builder is not None and mro.index(owner) > mro.index(builder):
        return None
    return hook(cfg)


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


class LazyEngine:
    """An engine started on its first use: a call, or a question only a started engine answers.

    `name` and `model` come from the engine class (`model_name` hook) without starting it, so a
    request cache in front of it serves a fully cached rerun with no model loaded.
    """

    def __init__(self, start: Any, name: str, model: str | None, *, owned: bool = True):
        self._start = start
        self._engine: Any = None
        self._owned = owned  # False: the started engine outlives this wrapper (the process-wide vLLM)
        self.name = name
        self._model = model

    @property
    def started(self) -> bool:
        return self._engine is not None

    @property
    def engine(self) -> Any:
        if self._engine is None:
            self._engine = self._start()
        return self._engine

    @property
    def model(self) -> str:
        return self._model if self._model is not None else self.engine.model

    def generate(self, prompts: list[Prompt], params: SamplingParams) -> list[Completion]:
        return self.engine.generate(prompts, params)

    def score_prompts(self, texts: list[str], top_k: int = 0) -> list[PromptScore]:
        return self.engine.score_prompts(texts, top_k)

    def __getattr__(self, item: str) -> Any:  # engine-specific extras (tokenizer, describe, ...) start it
        if item.startswith("_"):
            raise AttributeError(item)
        return getattr(self.engine, item)

    def close(self) -> None:
        if self._engine is not None and self._owned:
            self._engine.close()


def request_cache_path(cfg: EngineConfig, cache_dir: Any = None) -> Any:
    """`<cache_dir>/requests.sqlite` when given (a pipeline's state folder), else
    `$CURATE_REQUEST_CACHE/requests.sqlite`, else the cache root's."""
    import os
    from pathlib import Path

    from curate.cache import cache_root

    folder = cache_dir or os.environ.get("CURATE_REQUEST_CACHE")
    if folder:
        return Path(folder).expanduser() / "requests.sqlite"
    return cache_root(cfg.cache_dir) / "requests.sqlite"


def open_engine(
    cfg: EngineConfig | None = None, *, cached: bool = True, engine: Any = None, executor: Any = None, cache_dir: Any = None, lazy: bool = False
) -> Any:
    """Open the engine described by `cfg`, wrapped in the request cache unless `cached=False`.

    `engine` lets a caller wrap an already built engine (e.g. a FakeEngine, or a shared vLLM engine
    in tests) the same way; closing the wrapper then leaves that engine open. An `executor` that
    runs engines itself (`--executor ray`: a pool of engine actors) provides the engine instead;
    the cache stays here, and closing the wrapper closes the pool. `lazy=True` starts the engine
    (or the pool) on the first request-cache miss only. `cache_dir` is the request cache's folder
    (default: curate's cache root).
    """
    cfg = cfg or EngineConfig()
    pool = getattr(executor, "engine_pool", None) if engine is None and not cfg.is_remote else None
    if engine is not None:
        start, owned = (lambda: engine), False
    elif pool is not None:
        start, owned = (lambda: pool(cfg)), True
    elif cfg.registry_name == "vllm":
        start, owned = (lambda: shared_engine(cfg)), False
    else:
        start, owned = (lambda: build_engine(cfg)), True
    if engine is not None:
        eng = engine
    elif lazy:
        check = getattr(executor, "check_engine_pool", None) if pool is not None else None
        if check is not None:
            check(cfg)  # a pool the cluster can never hold fails now, not at the first cache miss
        eng, owned = LazyEngine(start, cfg.registry_name, model_name(cfg), owned=owned), True
    else:
        eng = start()
    if not cached:
        return eng
    from curate.cache import CachedEngine, RequestCache

    cache = RequestCache(request_cache_path(cfg, cache_dir))
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
    "LazyEngine",
    "model_name",
]
