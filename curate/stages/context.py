"""The run context: one owner for everything a run opens.

A `RunContext` holds the run's defaults (engine, executor, where the request cache and row store
live) and a reporter for people (progress, notes, warnings). Stages ask it for resources:

    engine = ctx.engine(ctx.engine_config(model="my-model"), executor=ex)  # lazily started, cached
    ex = ctx.executor(ExecutorConfig("local", workers=2))                   # opened once per config

Each resource is opened the first time it is asked for, shared by every stage that asks again
with the same settings, and closed — engines first, executors (and Ray) last — when the context
closes, through one `ExitStack`. An in-process model engine is started on its first request-cache
miss only, so a rerun served from the cache never loads a model.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from curate.engines.base import EngineConfig
from curate.executors.base import ExecutorConfig


class Progress(Protocol):
    def update(self, advance: int = 0, total: int | None = None) -> None: ...


class Reporter(Protocol):
    """Where a run's messages for people go (the CLI prints them on stderr; the library is silent)."""

    def info(self, message: str) -> None: ...

    def warn(self, message: str) -> None: ...

    def progress(self, description: str, total: int | None = None, unit: str = "rows") -> contextlib.AbstractContextManager[Progress]: ...


class _NullProgress:
    def update(self, advance: int = 0, total: int | None = None) -> None:
        pass


class QuietReporter:
    """The library default: warnings go to Python's `warnings`, everything else nowhere."""

    def info(self, message: str) -> None:
        pass

    def warn(self, message: str) -> None:
        import warnings

        warnings.warn(message, stacklevel=2)

    @contextlib.contextmanager
    def progress(self, description: str, total: int | None = None, unit: str = "rows") -> Iterator[Progress]:
        yield _NullProgress()


@dataclass
class RunSettings:
    """A run's defaults, resolved once: stages override them with their own options."""

    engine: EngineConfig = field(default_factory=EngineConfig)
    executor: str = "local"
    executor_address: str | None = None
    request_cache: str | None = None  # folder of requests.sqlite; None: the cache root (see curate.engines)
    row_store: str | None = None  # SQLite file of per-row scores; None: no row store unless a stage names one
    state_dir: str | None = None  # a pipeline's .curate/ folder


class RunContext:
    """Opens engines and executors lazily, shares them between stages, closes them together."""

    def __init__(self, settings: RunSettings | None = None, reporter: Reporter | None = None):
        self.settings = settings or RunSettings()
        self.reporter: Reporter = reporter or QuietReporter()
        self._stack = contextlib.ExitStack()
        self._engines: list[tuple[tuple[Any, ...], Any]] = []
        self._executors: list[tuple[ExecutorConfig, Any]] = []
        self._stores: dict[str, Any] = {}
        self._closed = False

    # -- messages -----------------------------------------------------------------------------
    def info(self, message: str) -> None:
        self.reporter.info(message)

    def warn(self, message: str) -> None:
        self.reporter.warn(message)

    def progress(self, description: str, total: int | None = None, unit: str = "rows") -> contextlib.AbstractContextManager[Progress]:
        return self.reporter.progress(description, total, unit)

    # -- settings -----------------------------------------------------------------------------
    def engine_config(
        self,
        *,
        engine: str | None = None,
        url: str | None = None,
        model: str | None = None,
        cache: bool | None = None,
        seed: int | None = None,
        timeout: float | None = None,
    ) -> EngineConfig:
        """The run's engine settings with a stage's own overrides (None keeps the run's value).

        A URL with the default engine means an OpenAI-compatible server (see EngineConfig).
        """
        base = self.settings.engine
        cfg = replace(
            base,
            engine=engine or base.engine,
            url=url if url is not None else base.url,
            model=model if model is not None else base.model,
            cache=base.cache if cache is None else cache,
            seed=base.seed if seed is None else seed,
            timeout=base.timeout if timeout is None else timeout,
        )
        return cfg

    def executor_config(self, executor: str | None = None, address: str | None = None, **kwargs: Any) -> ExecutorConfig:
        """The run's executor with a stage's overrides; an address implies Ray."""
        addr = address if address is not None else self.settings.executor_address
        name = "ray" if addr else (executor or self.settings.executor)
        return ExecutorConfig(name, address=addr, **kwargs)

    # -- resources ----------------------------------------------------------------------------
    def executor(self, cfg: ExecutorConfig) -> Any:
        """The executor for `cfg`, opened on first use and closed with the context."""
        self._check_open()
        for c, ex in self._executors:
            if c == cfg:
                return ex
        from curate.executors import open_executor

        ex = open_executor(cfg)
        self._stack.callback(ex.close)
        self._executors.append((cfg, ex))
        return ex

    def engine(self, cfg: EngineConfig, executor: Any = None) -> Any:
        """The engine for `cfg` behind the request cache; started on its first cache miss.

        A server (`cfg.is_remote`) is always called from here; an in-process engine runs on the
        executor's engine actors when the executor has them (Ray), else in this process.
        """
        self._check_open()
        pool = None if cfg.is_remote else getattr(executor, "engine_pool", None)
        key = (cfg, id(executor) if pool is not None else None)
        for k, eng in self._engines:
            if k == key:
                return eng
        from curate.engines import open_engine

        eng = open_engine(cfg, executor=executor if pool is not None else None, cache_dir=self.settings.request_cache, lazy=True)
        self._stack.callback(eng.close)
        self._engines.append((key, eng))
        return eng

    def row_store_path(self, override: str | None = None) -> str | None:
        return override if override is not None else self.settings.row_store

    def row_store(self, path: str) -> Any:
        """The row store at `path`, opened once for the run (score stages of a pipeline share it)."""
        self._check_open()
        from pathlib import Path

        key = str(Path(path).expanduser().resolve())
        if key not in self._stores:
            from curate.rowstore import RowStore

            self._stores[key] = RowStore(path)
            self._stack.callback(self._stores[key].close)
        return self._stores[key]

    # -- lifetime -----------------------------------------------------------------------------
    def _check_open(self) -> None:
        if self._closed:
            from curate.errors import CurateError

            raise CurateError("this run context is closed")

    def close(self) -> None:
        """Close every engine, then every executor (in reverse order of opening)."""
        if self._closed:
            return
        self._closed = True
        # Executors were registered before the engines that run on them, so the stack closes
        # engines first and a Ray this run started last.
        self._stack.close()

    def __enter__(self) -> RunContext:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
