"""The executor protocol: map a pure batch function over a stream of Arrow tables, in order."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from curate.registry import Registry

if TYPE_CHECKING:
    import pyarrow as pa

BatchFn = Callable[..., "pa.Table"]


@dataclass
class ExecutorConfig:
    name: str = "local"
    workers: int | None = None  # local: processes (default: all cores); ray: CPUs of a Ray started here
    address: str | None = None  # ray: "auto", HOST:PORT or ray://HOST:10001; None: $RAY_ADDRESS, else a new local Ray
    engines: int = 1  # ray: engine actors for model calls (each loads the model once)
    engine_cpus: float = 1.0  # ray: CPUs reserved by each engine actor
    engine_gpus: float | None = None  # ray: GPUs per engine actor; None: 1 on a cluster with GPUs, else 0
    spare_cpus: float = 0.0  # ray: CPUs engine actors must leave free (for the batch tasks of the same run)


class Executor(Protocol):
    """Runs `fn(table, *args)` for every table and yields the results in input order.

    `fn` must be a module-level function (it is pickled by reference and imported on the worker)
    with no hidden state: the same call gives the same bytes wherever it runs. Input is consumed
    lazily with a bounded number of batches in flight, so memory does not grow with the input.
    """

    name: str

    def map_batches(self, fn: BatchFn, batches: Iterable[pa.Table], *args: Any) -> Iterator[pa.Table]: ...

    def describe(self) -> dict[str, Any]: ...

    def close(self) -> None: ...

    def __enter__(self) -> Executor: ...

    def __exit__(self, *exc: Any) -> None: ...


EXECUTORS: Registry[Callable[[ExecutorConfig], Executor]] = Registry(
    "executors", {"local": "curate.executors.local", "ray": "curate.executors.ray_data"}
)


def open_executor(cfg: ExecutorConfig | None = None) -> Executor:
    """The executor named in `cfg` (default: local). Call `.close()` when done."""
    cfg = cfg or ExecutorConfig()
    return EXECUTORS.get(cfg.name)(cfg)
