"""Executors: where batch → batch stages run.

    from curate.executors import ExecutorConfig, open_executor
    with open_executor(ExecutorConfig("ray")) as ex:
        for table in ex.map_batches(fn, batches, arg1, arg2):
            ...

`local` (a process pool on this machine, the default) and `ray` (Ray Data `map_batches` on a Ray
cluster) are registered by name in `EXECUTORS`, exactly as a third-party executor would be.
"""

from curate.executors.base import EXECUTORS, Executor, ExecutorConfig, open_executor

__all__ = ["EXECUTORS", "Executor", "ExecutorConfig", "open_executor"]
