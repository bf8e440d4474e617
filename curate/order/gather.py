"""Write the ordered rows as Parquet shards: plan the shards, then gather the rows for each.

Two ways to gather (`--gather`, default auto):

* **memory** — read the input once as one Arrow table and `take` each shard's rows. Chosen by
  auto only for inputs up to 32 MiB uncompressed that fit the memory budget.
* **spill** — one streaming pass over the input row groups scatters every row into a temporary
  Arrow IPC bucket file per run of output shards (a row repeated by the schedule goes to every
  slot it fills), tagged with its slot. Each bucket (≤ a quarter of the budget and ≤ 32 MiB, so
  the random `take` stays in the CPU cache) is then read, sorted by slot and cut into its shards.
  Memory: the index plus one bucket; disk: one extra uncompressed copy of the input, in the
  temporary folder. Measured faster than `memory` on large inputs too.

Both write byte-identical shards; shards are compressed two at a time (Arrow releases the GIL).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from curate.io.writers import conform, shard_name
from curate.order.index import Source

SLOT = "__curate_slot"
ADDED = (
    pa.field("curriculum_step", pa.int64()),
    pa.field("curriculum_position", pa.int64()),
    pa.field("curriculum_fraction", pa.float64()),
)


@dataclass
class Sequence:
    """One ordered output (the curriculum, or the baseline): global rows in training order."""

    name: str  # "curriculum" | "baseline"
    prefix: str  # "" or "baseline/"
    rows: np.ndarray  # global row index per position
    fraction: np.ndarray  # curriculum_fraction per step
    batch_size: int


@dataclass
class ShardSpec:
    seq: Sequence
    path: str  # relative to the output folder
    start: int  # first position
    stop: int  # one past the last position
    stage: int
    slot0: int = 0  # first slot in the concatenation of all sequences (spill mode)


def plan_shards(seq: Sequence, steps: int, stages: int, rows_per_shard: int) -> list[ShardSpec]:
    """Stages split the steps evenly; shards hold whole steps when rows_per_shard ≥ the batch size."""
    b = seq.batch_size
    per = (rows_per_shard // b) * b if rows_per_shard >= b else rows_per_shard
    total = len(seq.rows)
    specs: list[ShardSpec] = []
    for k in range(stages):
        start = min(total, (steps * k // stages) * b)
        stop = total if k == stages - 1 else min(total, (steps * (k + 1) // stages) * b)
        bounds = list(range(start, stop, per)) or [start]
        n = len(bounds)
        folder = seq.prefix + (f"stage-{k}/" if stages > 1 else "")
        for i, s in enumerate(bounds):
            specs.append(ShardSpec(seq, folder + shard_name(i, n), s, min(stop, s + per), k))
    return specs


def _with_order_columns(table: pa.Table, spec: ShardSpec, schema: pa.Schema) -> pa.Table:
    pos = np.arange(spec.start, spec.stop, dtype=np.int64)
    step = pos // spec.seq.batch_size
    table = conform(table, schema)
    # Re-ordering an ordered set: the new order replaces the old one's columns.
    table = table.drop_columns([f.name for f in ADDED if f.name in table.column_names])
    return (
        table.append_column(ADDED[0], pa.array(step))
        .append_column(ADDED[1], pa.array(pos))
        .append_column(ADDED[2], pa.array(spec.seq.fraction[step]))
    )


def _write(table: pa.Table, root: Path, spec: ShardSpec) -> dict:
    path = root / spec.path
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, str(path), compression="zstd")
    return {"path": spec.path, "rows": table.num_rows, "bytes": path.stat().st_size, "sha256": sha256_file(path)}


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def gather_in_memory(sources: list[Source], schema: pa.Schema, specs: list[ShardSpec], root: Path, on_shard: Callable[[ShardSpec, dict], None], threads: int = 2) -> None:
    from concurrent.futures import ThreadPoolExecutor

    tables = [conform(pq.read_table(s.path), schema) for s in sources]
    table = pa.concat_tables(tables).combine_chunks() if tables else schema.empty_table()
    del tables

    def one(spec: ShardSpec) -> dict:
        part = table.take(pa.array(spec.seq.rows[spec.start : spec.stop]))
        return _write(_with_order_columns(part, spec, schema), root, spec)

    # Shards are independent files, so two are gathered and compressed at once (Arrow drops the GIL).
    ex = ThreadPoolExecutor(max(1, threads))
    try:
        futures = [ex.submit(one, spec) for spec in specs]
        for spec, fut in zip(specs, futures):
            on_shard(spec, fut.result())
    finally:
        ex.shutdown(wait=True, cancel_futures=True)


def gather_spill(
    sources: list[Source], schema: pa.Schema, specs: list[ShardSpec], root: Path, work: Path, bucket_rows: int, on_shard: Callable[[ShardSpec, dict], None],
    threads: int = 2,
) -> None:
    import pyarrow.ipc as ipc

    # Slots number every output position of every sequence; buckets are runs of whole shards.
    slot = 0
    bucket_of_shard, bucket, in_bucket = [], 0, 0
    for spec in specs:
        spec.slot0 = slot
        slot += spec.stop - spec.start
        if in_bucket and in_bucket + (spec.stop - spec.start) > bucket_rows:
            bucket, in_bucket = bucket + 1, 0
        bucket_of_shard.append(bucket)
        in_bucket += spec.stop - spec.start
    n_buckets = bucket + 1
    slot_rows = np.concatenate([spec.seq.rows[spec.start : spec.stop] for spec in specs]) if specs else np.empty(0, np.int64)
    slot_bucket = np.repeat(np.array(bucket_of_shard, dtype=np.int32), [s.stop - s.start for s in specs])
    order = np.argsort(slot_rows, kind="stable")
    sorted_rows = slot_rows[order]
    del slot_rows

    spill_schema = schema.append(pa.field(SLOT, pa.int64()))
    paths = [work / f"bucket-{b:05d}.arrow" for b in range(n_buckets)]
    writers: dict[int, ipc.RecordBatchFileWriter] = {}
    try:
        for s in sources:
            pf = pq.ParquetFile(s.path)
            offset = s.offset
            # decoded one batch ahead in a second thread; threads inside the decoder cost 3× the CPU on small batches
            for rb in _ahead(pf.iter_batches(batch_size=65536, use_threads=False)):
                lo, hi = np.searchsorted(sorted_rows, [offset, offset + rb.num_rows])
                if hi > lo:
                    slots = order[lo:hi]
                    local = sorted_rows[lo:hi] - offset
                    buckets = slot_bucket[slots]
                    by_bucket = np.argsort(buckets, kind="stable")
                    t = conform(pa.Table.from_batches([rb]), schema).take(pa.array(local[by_bucket]))
                    t = t.append_column(SLOT, pa.array(slots[by_bucket]))
                    ordered = buckets[by_bucket]
                    cuts = [0, *(np.flatnonzero(np.diff(ordered)) + 1).tolist(), len(ordered)]
                    for a, z in zip(cuts[:-1], cuts[1:]):  # one copy per input batch, zero-copy slices per bucket
                        b = int(ordered[a])
                        if b not in writers:
                            writers[b] = ipc.new_file(str(paths[b]), spill_schema)
                        writers[b].write_table(t.slice(a, z - a))
                offset += rb.num_rows
    finally:
        for w in writers.values():
            w.close()
    del order, sorted_rows

    from concurrent.futures import ThreadPoolExecutor

    ex = ThreadPoolExecutor(max(1, threads))
    try:
        for b in range(n_buckets):
            mine = [spec for spec, bb in zip(specs, bucket_of_shard) if bb == b]
            if paths[b].exists():
                with pa.memory_map(str(paths[b])) as src:
                    t = ipc.open_file(src).read_all().combine_chunks()  # take on many chunks is several times slower
                t = t.take(pc.sort_indices(t, [(SLOT, "ascending")]))
                first = mine[0].slot0
            else:
                t, first = spill_schema.empty_table(), 0

            def one(spec: ShardSpec, t: pa.Table = t, first: int = first) -> dict:
                part = t.slice(spec.slot0 - first, spec.stop - spec.start).drop_columns([SLOT])
                return _write(_with_order_columns(part, spec, schema), root, spec)

            futures = [ex.submit(one, spec) for spec in mine]
            for spec, fut in zip(mine, futures):
                on_shard(spec, fut.result())
            del t
            paths[b].unlink(missing_ok=True)
    finally:
        ex.shutdown(wait=True, cancel_futures=True)


def _ahead(it: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """Yield from `it`, computing the next item in a background thread (Arrow decodes without the GIL)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as ex:
        fut = ex.submit(next, it, None)
        while (item := fut.result()) is not None:
            fut = ex.submit(next, it, None)
            yield item


def bucket_rows_for(budget_bytes: int, bytes_per_row: float) -> int:
    return max(1, int(budget_bytes / 4 / max(bytes_per_row, 1.0)))


def shard_rows_for_mb(mb: float, bytes_per_row: float) -> int:
    return max(1, math.floor(mb * 1e6 / max(bytes_per_row, 1.0)))


def read_rows(sources: list[Source], schema: pa.Schema, rows: list[int]) -> Iterator[dict]:
    """Fetch a few rows by global index (used for quarantined rows)."""
    want = sorted(rows)
    for s in sources:
        local = [r - s.offset for r in want if s.offset <= r < s.offset + s.rows]
        if local:
            t = conform(pq.read_table(s.path), schema).take(pa.array(local))
            yield from t.to_pylist()
