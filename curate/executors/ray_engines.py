"""Model calls on a Ray cluster: a pool of actors, each holding one engine, behind the engine protocol.

    with open_executor(ExecutorConfig("ray", engines=2)) as ex:     # two actors, each loads the model once
        engine = open_engine(EngineConfig(), executor=ex)           # a RayEnginePool behind the driver's request cache

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

import os
from typing import Any

from curate.engines.base import Completion, EngineConfig, Prompt, PromptScore, SamplingParams
from curate.errors import CurateError, UsageError
from curate.executors.ray_errors import RAY_LOGS, raise_task_error

RESTARTS = 3  # Ray restarts a dead engine actor this many times; its running calls are retried
PLACEMENT_TIMEOUT = float(os.environ.get("CURATE_RAY_PLACEMENT_TIMEOUT", "120"))  # seconds to wait for the actors' resources


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

    def _engine(self) -> Any:
        if self.failed is not None:  # a (restarted) actor whose engine did not start
            raise self.failed
        return self.engine

    def describe(self) -> tuple[str, str]:
        return self._engine().name, self._engine().model

    def generate(self, prompts: list[Prompt], params: SamplingParams) -> list[Completion]:
        return self._engine().generate(prompts, params)

    def score_prompts(self, texts: list[str], top_k: int = 0) -> list[PromptScore]:
        return self._engine().score_prompts(texts, top_k)

    def close(self) -> None:
        if self.engine is not None:
            self.engine.close()


def _runs(n: int, parts: int) -> list[tuple[int, int]]:
    """`parts` contiguous, near-equal [start, stop) runs of range(n); empty runs left out."""
    bounds = [n * i // parts for i in range(parts + 1)]
    return [(a, b) for a, b in zip(bounds[:-1], bounds[1:]) if b > a]


class RayEnginePool:
    """The engine protocol over `size` Ray actors (`cpus` and `gpus` reserved by each).

    The actors' resources are reserved first, as one placement group, so a pool the cluster cannot
    hold fails with a clear error (`PLACEMENT_TIMEOUT`) instead of waiting forever. `spare_cpus`
    stay free for batch tasks; `reserved` is what other pools of the same run hold already.
    """

    def __init__(
        self,
        cfg: EngineConfig,
        size: int = 1,
        cpus: float = 1.0,
        gpus: float | None = None,
        *,
        spare_cpus: float = 0.0,
        reserved: dict[str, float] | None = None,
    ):
        import ray
        from ray.util.placement_group import placement_group
        from ray.util.scheduling_strategies import PlacementGroupSchedulingStrategy

        from curate.engines.base import ENGINES

        ENGINES.get(cfg.registry_name)  # an unknown name fails here, before any actor starts
        if size < 1:
            raise UsageError(f"--ray-engines must be at least 1 (got {size})")
        total = ray.cluster_resources()
        if gpus is None:  # one GPU per engine on a cluster that has GPUs
            gpus = 1.0 if total.get("GPU", 0) >= 1 else 0.0
        self.resources = {"CPU": size * cpus, "GPU": size * gpus}
        check_capacity(ray, size, cpus, gpus, spare_cpus, reserved or {})
        bundle = {"CPU": cpus, **({"GPU": gpus} if gpus else {})}
        self._ray = ray
        self._pg = placement_group([bundle] * size, strategy="SPREAD")  # one engine per node where the cluster allows
        self.actors: list[Any] = []
        self.size = size
        try:
            ready, _ = ray.wait([self._pg.ready()], timeout=PLACEMENT_TIMEOUT)
            if not ready:
                free = ray.available_resources()
                raise UsageError(
                    f"Ray could not place {size} engine actor(s) of {_fmt(bundle)} within {PLACEMENT_TIMEOUT:g} s "
                    f"(free now: {_fmt({r: free.get(r, 0.0) for r in bundle})}; other jobs may hold the rest)",
                    "lower --ray-engines or --ray-engine-cpus, or wait for the cluster to free up (CURATE_RAY_PLACEMENT_TIMEOUT sets the wait)",
                )
            remote = ray.remote(max_restarts=RESTARTS, max_task_retries=RESTARTS)(_EngineActor)
            threads = os.environ.get("OMP_NUM_THREADS")
            for i in range(size):
                where = PlacementGroupSchedulingStrategy(self._pg, placement_group_bundle_index=i)
                self.actors.append(remote.options(num_cpus=cpus, num_gpus=gpus, scheduling_strategy=where).remote(cfg, threads))
            self.name, self.model = self._get([a.describe.remote() for a in self.actors])[0]
        except BaseException:
            self.close()
            raise

    def _get(self, refs: list[Any]) -> list[Any]:
        try:
            return self._ray.get(refs)
        except self._ray.exceptions.RayTaskError as exc:
            raise_task_error(exc, "a Ray engine actor")
        except self._ray.exceptions.RayActorError as exc:
            raise CurateError(f"a Ray engine actor died: {exc}", RAY_LOGS) from exc

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
        """Kill the actors and free their resources; safe to call twice, and after a lost cluster."""
        actors, self.actors = self.actors, []
        for a in actors:
            try:
                self._ray.kill(a)
            except Exception:  # the actor, its node or the cluster is gone already
                pass
        pg, self._pg = self._pg, None
        if pg is not None:
            try:
                from ray.util.placement_group import remove_placement_group

                remove_placement_group(pg)
            except Exception:
                pass


def _fmt(res: dict[str, float]) -> str:
    return " and ".join(f"{v:g} {k}{'s' if v != 1 else ''}" for k, v in res.items())


def check_capacity(ray: Any, size: int, cpus: float, gpus: float, spare_cpus: float, reserved: dict[str, float]) -> None:
    """Fail at once when the pool can never fit: not in the cluster's totals, or one actor not on any node."""
    total = ray.cluster_resources()
    need = {"CPU": size * cpus + spare_cpus + reserved.get("CPU", 0.0), "GPU": size * gpus + reserved.get("GPU", 0.0)}
    short = [f"{need[r]:g} {r}s (the cluster has {total.get(r, 0):g})" for r in need if need[r] > total.get(r, 0)]
    if short:
        parts = [f"{size} engine actor(s)"]
        if reserved.get("CPU") or reserved.get("GPU"):
            parts.append("the run's other engine actors")
        if spare_cpus:
            parts.append("the batch tasks")
        raise UsageError(
            f"{', '.join(parts[:-1]) + ' and ' + parts[-1] if len(parts) > 1 else parts[0]} need {', '.join(short)}",
            "lower --ray-engines or --ray-engine-cpus, or add nodes to the cluster",
        )
    nodes = [n.get("Resources", {}) for n in ray.nodes() if n.get("Alive")]
    if nodes and not any(n.get("CPU", 0) >= cpus and n.get("GPU", 0) >= gpus for n in nodes):
        biggest = max(n.get("CPU", 0) for n in nodes)
        raise UsageError(
            f"one engine actor needs {_fmt({'CPU': cpus, **({'GPU': gpus} if gpus else {})})} on one node; the largest node has {biggest:g} CPUs",
            "lower --ray-engine-cpus",
        )
