"""`local`: a process pool on this machine (inline when one worker is asked for).

A batch function that sets `threads = True` (its work runs in native code that releases the GIL:
polars, numpy, zlib) runs in a thread pool instead: no worker processes to start, nothing pickled.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Executor as _Pool
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import pyarrow as pa

from curate.executors.base import EXECUTORS, BatchFn, ExecutorConfig


def _mp_context() -> Any:
    import multiprocessing as mp

    # forkserver: workers start from a clean process, safe with the thread pools of polars/arrow.
    # The server imports the scoring code and signal modules once; every worker forks from it warm.
    if "forkserver" not in mp.get_all_start_methods():
        return mp.get_context("spawn")
    ctx = mp.get_context("forkserver")
    from curate.signals.base import SIGNALS

    ctx.set_forkserver_preload(["curate.score", *SIGNALS.builtin_modules])
    return ctx


@EXECUTORS.register("local")
class LocalExecutor:
    """One batch per task, at most two tasks per worker in flight; results in input order."""

    name = "local"

    def __init__(self, cfg: ExecutorConfig | None = None):
        cfg = cfg or ExecutorConfig()
        self.workers = max(1, cfg.workers or os.cpu_count() or 1)
        self._pool: _Pool | None = None
        self._threads: _Pool | None = None

    def map_batches(self, fn: BatchFn, batches: Iterable[pa.Table], *args: Any) -> Iterator[pa.Table]:
        if self.workers == 1:
            for table in batches:
                yield fn(table, *args)
            return
        if getattr(fn, "threads", False):
            if self._threads is None:
                self._threads = ThreadPoolExecutor(self.workers, thread_name_prefix="curate-batch")
            pool = self._threads
        else:
            if self._pool is None:
                from concurrent.futures import ProcessPoolExecutor

                self._pool = ProcessPoolExecutor(self.workers, mp_context=_mp_context())
            pool = self._pool
        inflight: deque[Future[pa.Table]] = deque()
        for table in batches:
            inflight.append(pool.submit(fn, table, *args))
            while len(inflight) >= 2 * self.workers:
                yield inflight.popleft().result()
        while inflight:
            yield inflight.popleft().result()

    def describe(self) -> dict[str, Any]:
        return {"executor": self.name, "workers": self.workers}

    def close(self) -> None:
        for pool in (self._pool, self._threads):
            if pool is not None:
                pool.shutdown(cancel_futures=True)
        self._pool = self._threads = None

    def __enter__(self) -> LocalExecutor:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
