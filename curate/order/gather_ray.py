"""`curate order --executor ray`: the spill gather's two steps as Ray tasks.

The driver keeps the index, the schedule's draw and the shard plan, so every shard's rows are fixed
before Ray sees them. Then:

* **scatter** — one task per run of input row groups (up to `RANGE_BYTES` uncompressed, at least
  one row group) reads its rows from the input file by path and returns one part per bucket it
  feeds (`gather.scatter`), each row tagged with its slot. The parts stay in Ray's object store.
* **cut** — one task per bucket (a run of whole shards, sized as in the local spill mode) receives
  its parts, sorts them by slot and writes its shards into the output's temporary folder
  (`gather.cut`), returning each shard's record.

The driver passes the records to `on_shard` in shard order, so the manifest is the local one.
Tasks whose worker or node died are retried (`MAX_RETRIES`); an exception raised by the code
itself is not. Files are read and written by path: on a multi-node cluster the inputs and the
output's parent folder must be on storage every node mounts at the same path.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from curate.executors.ray_errors import raise_task_error
from curate.order import gather as G
from curate.order.index import Source

RANGE_BYTES = 32 * 2**20  # uncompressed input per scatter task
MAX_RETRIES = 3  # per task, for a dead worker or node (Ray's default); errors raised by curate are not retried


@dataclass
class Range:
    """A run of row groups of one input file; `offset` is the global index of its first row."""

    path: str
    row_groups: list[int]
    offset: int
    rows: int


def plan_ranges(sources: list[Source], range_bytes: int) -> list[Range]:
    """Consecutive row groups of each file, up to `range_bytes` uncompressed per range (one row group at least)."""
    out: list[Range] = []
    for s in sources:
        meta = pq.ParquetFile(s.path).metadata
        offset, cur, size = s.offset, None, 0
        for i in range(meta.num_row_groups):
            rg = meta.row_group(i)
            if cur is None or (size and size + rg.total_byte_size > range_bytes):
                cur, size = Range(s.path, [], offset, 0), 0
                out.append(cur)
            cur.row_groups.append(i)
            cur.rows += rg.num_rows
            size += rg.total_byte_size
            offset += rg.num_rows
    return [r for r in out if r.rows]


def _scatter_task(rng: Range, rows: np.ndarray, slots: np.ndarray, buckets: np.ndarray, schema: pa.Schema) -> Any:
    """One input range → one table per bucket it feeds, in bucket order (a single table when it feeds one)."""
    pf = pq.ParquetFile(rng.path)
    parts: dict[int, list[pa.Table]] = {}
    for b, part in G.scatter(
        pf.iter_batches(batch_size=65536, row_groups=rng.row_groups, use_threads=False), rng.offset, rows, slots, buckets, schema
    ):
        parts.setdefault(b, []).append(part)
    out = tuple(pa.concat_tables(parts[b]) for b in sorted(parts))  # `cut` makes one chunk of all a bucket's parts
    return out[0] if len(out) == 1 else out


def _cut_task(specs: list[G.ShardSpec], schema: pa.Schema, root: str, *parts: pa.Table) -> list[dict]:
    return list(G.cut(list(parts), specs, schema, Path(root)))


def _light(specs: list[G.ShardSpec]) -> list[G.ShardSpec]:
    """The specs without their sequence's row array (the whole run's rows): a cut task needs only the fractions."""
    seqs = {id(s.seq): dataclasses.replace(s.seq, rows=np.empty(0, np.int64)) for s in specs}
    return [dataclasses.replace(s, seq=seqs[id(s.seq)]) for s in specs]


def gather_ray(
    sources: list[Source],
    schema: pa.Schema,
    specs: list[G.ShardSpec],
    root: Path,
    bucket_rows: int,
    on_shard: Callable[[G.ShardSpec, dict], None],
    range_bytes: int | None = None,
) -> None:
    """Gather and write every shard with Ray tasks on the connected cluster; `on_shard` is called in spec order."""
    import ray

    bucket_of_shard = G.assign_buckets(specs, bucket_rows)
    n_buckets = max(bucket_of_shard, default=0) + 1
    rows, slots, buckets = G.slot_index(specs, bucket_of_shard)
    scatter = ray.remote(max_retries=MAX_RETRIES, retry_exceptions=False)(_scatter_task)
    cut = ray.remote(max_retries=MAX_RETRIES, retry_exceptions=False)(_cut_task)

    mine: list[list[G.ShardSpec]] = [[] for _ in range(n_buckets)]
    for spec, b in zip(specs, bucket_of_shard):
        mine[b].append(spec)
    parts_of: list[list[Any]] = [[] for _ in range(n_buckets)]
    pending: list[Any] = []
    try:
        for rng in plan_ranges(sources, range_bytes or RANGE_BYTES):
            lo, hi = np.searchsorted(rows, [rng.offset, rng.offset + rng.rows])
            if hi == lo:
                continue  # no row of this range is read
            fed = np.unique(buckets[lo:hi]).tolist()
            refs: Any = scatter.options(num_returns=len(fed)).remote(rng, rows[lo:hi], slots[lo:hi], buckets[lo:hi], schema)
            pending.append(refs)
            for b, ref in zip(fed, refs if len(fed) > 1 else [refs]):
                parts_of[b].append(ref)
        del rows, slots, buckets
        cuts = [cut.remote(_light(mine[b]), schema, str(root), *parts_of[b]) for b in range(n_buckets)]
        # The cut tasks now hold the parts: dropping the driver's references lets Ray free each part once its bucket is cut.
        pending = list(cuts)
        del parts_of
        for b, ref in enumerate(cuts):
            for spec, rec in zip(mine[b], _get(ray, ref)):
                on_shard(spec, rec)
        pending = []
    finally:
        _stop(ray, pending)


def _get(ray: Any, ref: Any) -> Any:
    try:
        return ray.get(ref)
    except ray.exceptions.RayTaskError as exc:
        raise_task_error(exc, "a Ray task of `curate order`", keep=(OSError,))  # e.g. a full disk: the error itself


def _stop(ray: Any, pending: list[Any]) -> None:
    """After a failure: let the tasks still running end (cancelling the stragglers after 30 s), before the temporary folder is removed.

    Cancelling a task just as it completes can abort the driver inside Ray (a known race,
    ray-project/ray#54527), so only tasks that have not ended within the wait are cancelled.
    """
    refs = [r for p in pending for r in (p if isinstance(p, list) else [p])]
    if not refs:
        return
    _, running = ray.wait(refs, num_returns=len(refs), timeout=30)
    for r in running:
        ray.cancel(r, force=True)
    if running:
        ray.wait(running, num_returns=len(running), timeout=30)
