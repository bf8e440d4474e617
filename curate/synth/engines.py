"""Open the generator, target and critic engines; identical configurations share one engine.

A thin adapter over `curate.engines.open_engine` (which wraps every engine in the request
cache): one in-process vLLM model serves all roles when they name the same model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from curate.engines.base import Engine, EngineConfig


@dataclass
class Engines:
    generator: Engine
    target: Engine
    critic: Engine

    def close(self) -> None:
        seen: set[int] = set()
        for e in (self.generator, self.target, self.critic):
            if id(e) not in seen:
                seen.add(id(e))
                e.close()


def open_engines(generator: EngineConfig, target: EngineConfig, critic: EngineConfig | None = None, executor: Any = None) -> Engines:
    """`executor`: an executor with engine actors (Ray) runs the in-process engines there; servers are called from here."""
    from curate.engines import open_engine

    opened: list[tuple[EngineConfig, Engine]] = []

    def get(cfg: EngineConfig) -> Engine:
        for c, e in opened:
            if c == cfg:
                return e
        e = open_engine(cfg, executor=executor)  # a server is never run on engine actors (open_engine decides)
        opened.append((cfg, e))
        return e

    try:
        return Engines(get(generator), get(target), get(critic or generator))
    except BaseException:
        for _, e in opened:
            e.close()
        raise
