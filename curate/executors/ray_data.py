"""`ray`: the same batch functions under Ray Data `map_batches`, on a local or remote Ray cluster.

The driver streams input batches in windows (4 per cluster CPU, at most 512 MiB). Each window becomes a Ray
Data dataset (`from_arrow_refs`) mapped with `map_batches(fn, batch_size=None)` — one task per
input batch, any worker on any node — and its results come back in input order
(`preserve_order`). While one window runs, the driver reads the next, so the cluster stays busy
and driver memory stays bounded by two windows.

Ray Data retries a task whose worker or node died (system failures, without limit); an exception
raised by `fn` itself is not retried and fails the run.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from itertools import islice
from typing import Any

import pyarrow as pa

from curate.errors import UsageError, require
from curate.executors.base import EXECUTORS, BatchFn, ExecutorConfig
from curate.executors.ray_errors import raise_task_error

INSTALL = "pip install 'curate[ray]'"
WINDOW_BYTES = 512 * 2**20  # driver memory: two windows of input plus their results


def _apply(batch: pa.Table, fn: BatchFn, args: tuple[Any, ...]) -> pa.Table:
    return fn(batch, *args)


def recut(done: list[pa.Table], sizes: list[int]) -> list[pa.Table]:
    """Results cut back to the input batches' sizes, should Ray have split or merged blocks.

    Every recut column is one contiguous chunk, as a batch function's own output is, because
    Parquet's bytes depend on how a column is chunked.
    """
    if [t.num_rows for t in done] == sizes:
        return done
    whole = pa.concat_tables(done, promote_options="permissive")
    out, start = [], 0
    for n in sizes:
        out.append(whole.slice(start, n).combine_chunks())
        start += n
    return out


def _check_reachable(address: str | None, timeout: float = 5.0) -> None:
    """Fail fast when an explicit HOST:PORT (or ray://HOST:PORT) does not accept connections."""
    import socket

    if not address or address in ("auto", "local"):
        return
    hostport = address.removeprefix("ray://")
    host, _, port = hostport.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError("expected auto, HOST:PORT or ray://HOST:PORT")
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as exc:
        raise ConnectionError(f"nothing answers at {host}:{port} ({exc.strerror or exc})") from exc


@EXECUTORS.register("ray")
class RayExecutor:
    """Connects to (or starts) Ray once; shuts down only a Ray it started itself."""

    name = "ray"

    def __init__(self, cfg: ExecutorConfig | None = None):
        cfg = cfg or ExecutorConfig("ray")
        self.cfg = cfg
        self._pools: list[Any] = []
        self._requested = 0  # engine actors asked for through check_engine_pool (started or not)
        self._requested_resources = {"CPU": 0.0, "GPU": 0.0}
        ray = require("ray", INSTALL, "--executor ray")
        require("ray.data", INSTALL, "--executor ray")
        # No address: $RAY_ADDRESS when set (as Ray's own tools do), else a new local Ray just for this run.
        address = cfg.address or os.environ.get("RAY_ADDRESS") or "local"
        self.address = address
        self._owned = False
        if not ray.is_initialized():
            kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False, "logging_level": logging.WARNING}
            if address == "local":
                kwargs["num_cpus"] = cfg.workers  # None: all cores
            try:
                _check_reachable(address)  # Ray itself keeps retrying an unreachable address for minutes
                ray.init(address=address, **kwargs)
            except (ConnectionError, RuntimeError, ValueError) as exc:
                raise UsageError(
                    f"cannot connect to Ray at '{address}': {exc}",
                    "start a cluster with `ray start --head` (then --ray-address auto), or omit --ray-address to start a local Ray",
                ) from exc
            self._owned = True
        self.cpus = max(1, int(ray.cluster_resources().get("CPU", 1)))
        self.window = 4 * self.cpus

        import ray.data

        ctx = ray.data.DataContext.get_current()
        ctx.execution_options.preserve_order = True
        ctx.enable_progress_bars = False
        ctx.print_on_execution_start = False
        ctx.raise_original_map_exception = True  # a CurateError raised by `fn` reaches the caller as itself
        logging.getLogger("ray.data").setLevel(logging.WARNING)
        # "no available CPUs": said while engine actors and the previous window's tasks hold them all; that window frees them.
        logging.getLogger("ray.data.dataset").setLevel(logging.ERROR)
        logging.getLogger("ray.data._internal.progress").setLevel(logging.ERROR)  # "progress bars disabled"

    def _chunk(self, it: Iterator[pa.Table]) -> list[pa.Table]:
        """The next window: up to 4 batches per cluster CPU, and at most WINDOW_BYTES of input."""
        chunk: list[pa.Table] = []
        size = 0
        for table in islice(it, self.window):
            chunk.append(table)
            size += table.nbytes
            if size >= WINDOW_BYTES:
                break
        return chunk

    def map_batches(self, fn: BatchFn, batches: Iterable[pa.Table], *args: Any) -> Iterator[pa.Table]:
        it = iter(batches)
        with ThreadPoolExecutor(1, thread_name_prefix="curate-ray") as runner:
            prev: Future[list[pa.Table]] | None = None
            while True:
                chunk = self._chunk(it)
                cur = runner.submit(self._run_window, fn, chunk, args) if chunk else None
                if prev is not None:
                    yield from prev.result()
                if cur is None:
                    return
                prev = cur

    def _run_window(self, fn: BatchFn, chunk: list[pa.Table], args: tuple[Any, ...]) -> list[pa.Table]:
        import ray
        import ray.data

        todo = [t for t in chunk if t.num_rows]
        done: list[pa.Table] = []
        if todo:
            refs: list[Any] = [ray.put(t) for t in todo]
            ds: Any = ray.data.from_arrow_refs(refs)
            ds = ds.map_batches(_apply, fn_args=(fn, args), batch_format="pyarrow", batch_size=None, zero_copy_batch=True)
            try:
                done = ray.get(ds.to_arrow_refs())
            except ray.exceptions.RayTaskError as exc:
                raise_task_error(exc)
            done = recut(done, [t.num_rows for t in todo])
        results = iter(done)
        return [next(results) if t.num_rows else fn(t, *args) for t in chunk]

    def check_engine_pool(self, engine_cfg: Any) -> None:
        """Fail now if engine actors for `engine_cfg` could never be placed (before any actor starts)."""
        import ray

        from curate.engines.base import ENGINES
        from curate.executors.ray_engines import check_capacity

        ENGINES.get(engine_cfg.registry_name)
        gpus = self.cfg.engine_gpus if self.cfg.engine_gpus is not None else (1.0 if ray.cluster_resources().get("GPU", 0) >= 1 else 0.0)
        # what earlier pools of this executor hold, or will hold once they start
        reserved = {r: max(sum(p.resources[r] for p in self._pools), self._requested_resources[r]) for r in ("CPU", "GPU")}
        check_capacity(ray, self.cfg.engines, self.cfg.engine_cpus, gpus, self.cfg.spare_cpus, reserved)
        self._requested += self.cfg.engines
        self._requested_resources["CPU"] += self.cfg.engines * self.cfg.engine_cpus
        self._requested_resources["GPU"] += self.cfg.engines * gpus

    def engine_pool(self, engine_cfg: Any) -> Any:
        """Engine actors on the cluster for model calls (`curate.executors.ray_engines`)."""
        from curate.executors.ray_engines import RayEnginePool

        reserved = {r: sum(p.resources[r] for p in self._pools) for r in ("CPU", "GPU")}
        pool = RayEnginePool(
            engine_cfg, self.cfg.engines, self.cfg.engine_cpus, self.cfg.engine_gpus, spare_cpus=self.cfg.spare_cpus, reserved=reserved
        )
        self._pools.append(pool)
        return pool

    def describe(self) -> dict[str, Any]:
        out = {"executor": self.name, "address": self.address, "cluster_cpus": self.cpus}
        if self._pools or self._requested:
            # the engine actors this run asked for (a lazy pool starts them on its first cache miss)
            out["engine_actors"] = max(sum(p.size for p in self._pools), self._requested)
        return out

    def close(self) -> None:
        try:
            for pool in self._pools:
                pool.close()  # actors first: a shut-down Ray cannot kill them
        finally:
            self._pools = []
            if self._owned:
                import ray

                self._owned = False
                ray.shutdown()

    def __enter__(self) -> RayExecutor:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
