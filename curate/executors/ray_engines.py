"""Model calls on a Ray cluster: a pool of actors, each holding one engine, behind the engine protocol.

    pool = RayEnginePool(EngineConfig(), size=2)      # two actors, each loads the model once
    engine = open_engine(cfg, engine=pool, close_engine=True)   # the request cache stays on the driver

The driver keeps the request cache, so only cache misses travel to the actors, and a rerun hits
the cache wherever the first run's calls were computed. A call's prompts are cut into `size`
contiguous runs and run i always goes to actor i: the same input gives the same calls to the same
actors, in the same order. With one actor (the default) every engine call is exactly the call the
local executor makes, so sampled outputs match it too.

An actor that dies (its worker or node lost) is restarted by Ray, which loads the model again and
retries the calls that were running (`max_restarts`, `max_task_retries`); an error raised by the
engine itself is not retried.
"""

from __future__ import annotations

from typing import Any

from curate.engines.base import Completion, EngineConfig, Prompt, PromptScore, SamplingParams
from curate.errors import CurateError, UsageError

RESTARTS = 3  # Ray restarts a dead engine actor this many times; its running calls are retried


class _EngineActor:
    """Lives in a Ray worker: one bare engine (no cache; the driver caches)."""

    def __init__(self, cfg: EngineConfig, omp_threads: str | None):
        import os

        # Ray sets OMP_NUM_THREADS to the actor's CPU count; the engine runs with the driver's setting
        # instead, as `--executor local` would. Thread counts change float sums, and so sampled tokens.
        if omp_threads is None:
            os.environ.pop("OMP_NUM_THREADS", None)
        else:
            os.environ["OMP_NUM_THREADS"] = omp_threads
        from curate.engines import build_engine

        # An engine that cannot start (missing package, bad model path) fails the first call with its own
        # error, which reaches the driver as itself; raised here, it would be an opaque "actor died".
        self.engine, self.failed = None, None
        try:
            self.engine = build_engine(cfg)
        except Exception as exc:
            self.failed = exc

    def describe(self) -> tuple[str, str]:
        if self.failed is not None:
            raise self.failed
        return self.engine.name, self.engine.model

    def generate(self, prompts: list[Prompt], params: SamplingParams) -> list[Completion]:
        return self.engine.generate(prompts, params)

    def score_prompts(self, texts: list[str], top_k: int = 0) -> list[PromptScore]:
        return self.engine.score_prompts(texts, top_k)

    def close(self) -> None:
        self.engine.close()


def _runs(n: int, parts: int) -> list[tuple[int, int]]:
    """`parts` contiguous, near-equal [start, stop) runs of range(n); empty runs left out."""
    bounds = [n * i // parts for i in range(parts + 1)]
    return [(a, b) for a, b in zip(bounds[:-1], bounds[1:]) if b > a]


class RayEnginePool:
    """The engine protocol over `size` Ray actors (`cpus` and `gpus` reserved by each)."""

    def __init__(self, cfg: EngineConfig, size: int = 1, cpus: float = 1.0, gpus: float | None = None):
        import ray

        from curate.engines.base import ENGINES

        ENGINES.get("openai" if cfg.url else cfg.engine)  # an unknown name fails here, before any actor starts
        if size < 1:
            raise UsageError(f"--ray-engines must be at least 1 (got {size})")
        total = ray.cluster_resources()
        if gpus is None:  # one GPU per engine on a cluster that has GPUs
            gpus = 1.0 if total.get("GPU", 0) >= 1 else 0.0
        # Actors hold their resources for the whole run; one CPU stays free for the batch tasks (text signals).
        need = {"CPU": size * cpus + 1, "GPU": size * gpus}
        short = [f"{need[r]:g} {r}s (the cluster has {total.get(r, 0):g})" for r in need if need[r] > total.get(r, 0)]
        if short:
            raise UsageError(
                f"{size} engine actor(s) and the batch tasks need {', '.join(short)}", "lower --ray-engines, or add nodes to the cluster"
            )
        remote = ray.remote(_EngineActor).options(num_cpus=cpus, num_gpus=gpus, max_restarts=RESTARTS, max_task_retries=RESTARTS)
        self._ray = ray
        import os

        self.actors = [remote.remote(cfg, os.environ.get("OMP_NUM_THREADS")) for _ in range(size)]
        self.size = size
        try:
            self.name, self.model = self._get([a.describe.remote() for a in self.actors])[0]
        except BaseException:
            self.close()
            raise

    def _get(self, refs: list[Any]) -> list[Any]:
        try:
            return self._ray.get(refs)
        except self._ray.exceptions.RayTaskError as exc:
            if isinstance(exc.cause, CurateError):
                raise exc.cause from None
            raise CurateError(f"a Ray engine actor failed: {exc.cause!r}", "see the Ray logs (/tmp/ray/session_latest/logs on its node)") from exc
        except self._ray.exceptions.RayActorError as exc:
            raise CurateError(f"a Ray engine actor died: {exc}", "see the Ray logs (/tmp/ray/session_latest/logs on its node)") from exc

    def _spread(self, method: str, items: list[Any], *args: Any) -> list[Any]:
        runs = _runs(len(items), self.size)
        refs = [getattr(self.actors[i], method).remote(items[a:b], *args) for i, (a, b) in enumerate(runs)]
        return [x for part in self._get(refs) for x in part]

    def generate(self, prompts: list[Prompt], params: SamplingParams) -> list[Completion]:
        return self._spread("generate", prompts, params) if prompts else []

    def score_prompts(self, texts: list[str], top_k: int = 0) -> list[PromptScore]:
        return self._spread("score_prompts", texts, top_k) if texts else []

    def describe(self) -> dict[str, Any]:
        return {"engine_actors": self.size}

    def close(self) -> None:
        for a in self.actors:
            self._ray.kill(a)
        self.actors = []
