"""Write the ordered rows as Parquet shards: plan the shards, then gather the rows for each.

Two ways to gather (`--gather`, default auto):

* **memory** — the whole input is read into memory (row groups decoded in parallel, in the
  background while the index is built and the schedule drawn: `Preload`), and each shard's rows
  are taken from it. Chosen by auto when the input fits the memory budget (2.5× its uncompressed
  size). A shard's rows are taken in input order, one record batch at a time (a `take` on a
  many-chunk table copies every chunk), then put in training order inside the shard.
* **spill** — one streaming pass over the input row groups scatters every row into a temporary
  Arrow IPC bucket file per run of output shards (a row repeated by the schedule goes to every
  slot it fills), tagged with its slot. Each bucket (≤ a quarter of the budget and ≤ 32 MiB, so
  the random `take` stays in the CPU cache) is then read, sorted by slot and cut into its shards.
  Memory: the index plus one bucket; disk: one extra uncompressed copy of the input, in the
  temporary folder.

Both write byte-identical shards; shards are compressed on every core at once (Arrow releases the
GIL), each straight into its file and hashed on the way (no re-read for the manifest's sha256).
The spill mode's two steps are the module-level `scatter` (input batches → bucket parts) and `cut`
(one bucket's parts → its shards), so that `curate.order.gather_ray` runs the same code as Ray tasks.
"""

from __future__ import annotations

import hashlib
import io
import math
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

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
TOKENS = pa.field("curriculum_max_new_tokens", pa.int64())  # added with --token-budget
SCATTER_BYTES = 8 * 2**20  # input decoded per scatter step (spill mode); a step holds its rows about three times


@dataclass
class Sequence:
    """One ordered output (the curriculum, or the baseline): global rows in training order."""

    name: str  # "curriculum" | "baseline"
    prefix: str  # "" or "baseline/"
    rows: np.ndarray  # global row index per position
    fraction: np.ndarray  # curriculum_fraction per step
    batch_size: int
    max_new_tokens: np.ndarray | None = None  # curriculum_max_new_tokens per step (--token-budget), or no such column


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
    table = table.drop_columns([f.name for f in (*ADDED, TOKENS) if f.name in table.column_names])
    table = (
        table.append_column(ADDED[0], pa.array(step))
        .append_column(ADDED[1], pa.array(pos))
        .append_column(ADDED[2], pa.array(spec.seq.fraction[step]))
    )
    if spec.seq.max_new_tokens is not None:
        table = table.append_column(TOKENS, pa.array(spec.seq.max_new_tokens[step], pa.int64()))
    return table


class _HashingFile(io.RawIOBase):
    """A file being written, hashed as its bytes go by: the shard is neither held whole in memory nor read back."""

    def __init__(self, fh: BinaryIO):
        self._fh = fh
        self.sha256 = hashlib.sha256()
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self.sha256.update(data)
        self.size += len(data)
        return self._fh.write(data)


def _write(table: pa.Table, root: Path, spec: ShardSpec) -> dict:
    path = root / spec.path
    path.parent.mkdir(parents=True, exist_ok=True)
    # Parquet's bytes depend on how each column is chunked: one chunk per column in every gather mode
    # (a no-op for the single-chunk tables the modes build).
    table = table.combine_chunks()
    with open(path, "wb") as fh:
        sink = _HashingFile(fh)
        pq.write_table(table, sink, compression="zstd")
    return {"path": spec.path, "rows": table.num_rows, "bytes": sink.size, "sha256": sink.sha256.hexdigest()}


def release_unused() -> None:
    """Hand the memory Arrow's allocator keeps for reuse back to the system (mimalloc holds on to freed shards otherwise)."""
    pa.default_memory_pool().release_unused()


def write_threads() -> int:
    """Shards compressed at once: one per core (at most 8; each holds about three copies of a shard)."""
    return max(1, min(8, os.cpu_count() or 1))


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class Rows:
    """The input in memory, as record batches in global row order; `take` fetches rows by global index."""

    def __init__(self, tables: list[pa.Table], schema: pa.Schema):
        self.schema = schema
        self.batches = [b for t in tables for b in t.to_batches() if b.num_rows]
        self.starts = np.cumsum([0] + [b.num_rows for b in self.batches], dtype=np.int64)

    def take(self, rows: np.ndarray) -> pa.Table:
        """The rows at global indices `rows`, in that order, as one chunk per column."""
        if not len(rows):
            return self.schema.empty_table()
        by_row = np.argsort(rows, kind="stable")
        wanted = rows[by_row]
        cuts = np.searchsorted(wanted, self.starts)
        # In input order, one batch at a time: every `take` is on one contiguous batch and reads it front to back.
        parts = [self.batches[c].take(pa.array(wanted[cuts[c] : cuts[c + 1]] - self.starts[c])) for c in np.flatnonzero(cuts[1:] > cuts[:-1])]
        t = pa.Table.from_batches(parts, self.schema).combine_chunks()
        del parts  # so that at most two copies of the shard's rows are held at once: this one and the next
        back = np.empty(len(rows), dtype=np.int64)
        back[by_row] = np.arange(len(rows), dtype=np.int64)
        return t.take(pa.array(back))  # training order, inside one shard-sized chunk


class Preload:
    """Read the whole input into memory in the background: row groups decoded on `threads` threads (Arrow drops the GIL).

    `rows()` waits for the read and returns `Rows`; `close()` stops a read still under way (after the
    row groups being decoded) and waits for it, so nothing runs on after the caller has given up.
    """

    def __init__(self, sources: list[Source], schema: pa.Schema, threads: int | None = None):
        from concurrent.futures import ThreadPoolExecutor

        self._stop = threading.Event()
        self._pool = ThreadPoolExecutor(threads or write_threads())
        self._schema = schema
        self._parts = [
            self._pool.submit(self._read, s.path, groups, inner)
            for s in sources
            for groups, inner in _row_group_runs(s.path, threads or write_threads())
        ]

    def _read(self, path: str, groups: list[int], inner_threads: bool) -> pa.Table | None:
        if self._stop.is_set():
            return None
        return conform(pq.ParquetFile(path).read_row_groups(groups, use_threads=inner_threads), self._schema)

    def rows(self) -> Rows:
        tables = [f.result() for f in self._parts]
        self._parts = []
        return Rows([t for t in tables if t is not None], self._schema)

    def close(self) -> None:
        self._stop.set()
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._parts = []


def _row_group_runs(path: str, threads: int) -> list[tuple[list[int], bool]]:
    """One read per row group; a file with fewer row groups than threads is read whole, with Arrow's threads inside."""
    n = pq.ParquetFile(path).metadata.num_row_groups
    if n < threads:
        return [(list(range(n)), True)] if n else []
    return [([i], False) for i in range(n)]


def gather_in_memory(
    sources: list[Source],
    schema: pa.Schema,
    specs: list[ShardSpec],
    root: Path,
    on_shard: Callable[[ShardSpec, dict], None],
    threads: int | None = None,
    preload: Preload | None = None,
) -> None:
    """Write `specs` from the whole input held in memory (`preload`, when the read was started earlier)."""
    from concurrent.futures import ThreadPoolExecutor

    own = preload is None
    preload = preload or Preload(sources, schema)
    try:
        rows = preload.rows()
    finally:
        if own:
            preload.close()

    def one(spec: ShardSpec) -> dict:
        return _write(_with_order_columns(rows.take(spec.seq.rows[spec.start : spec.stop]), spec, schema), root, spec)

    # Shards are independent files, so several are gathered and compressed at once (Arrow drops the GIL).
    ex = ThreadPoolExecutor(threads or write_threads())
    try:
        futures = [ex.submit(one, spec) for spec in specs]
        for spec, fut in zip(specs, futures):
            on_shard(spec, fut.result())
    finally:
        ex.shutdown(wait=True, cancel_futures=True)


def gather_spill(
    sources: list[Source],
    schema: pa.Schema,
    specs: list[ShardSpec],
    root: Path,
    work: Path,
    bucket_rows: int,
    on_shard: Callable[[ShardSpec, dict], None],
    threads: int | None = None,
) -> None:
    import pyarrow.ipc as ipc

    bucket_of_shard = assign_buckets(specs, bucket_rows)
    n_buckets = max(bucket_of_shard, default=0) + 1
    rows, slots, buckets = slot_index(specs, bucket_of_shard)
    spill_schema = schema.append(pa.field(SLOT, pa.int64()))
    paths = [work / f"bucket-{b:05d}.arrow" for b in range(n_buckets)]
    writers: dict[int, ipc.RecordBatchFileWriter] = {}
    scatter_rows = scatter_rows_for(sources)
    try:
        for s in sources:
            # Read as it is decoded (pre-buffering would hold the whole compressed file in memory), one batch ahead in a
            # second thread; threads inside the decoder cost 3× the CPU on small batches.
            pf = pq.ParquetFile(s.path, pre_buffer=False)
            batches = pf.iter_batches(batch_size=scatter_rows, use_threads=False)
            for b, part in scatter(_ahead(batches), s.offset, rows, slots, buckets, schema):
                if b not in writers:
                    writers[b] = ipc.new_file(str(paths[b]), spill_schema)
                writers[b].write_table(part)
    finally:
        for w in writers.values():
            w.close()
    del rows, slots, buckets

    from concurrent.futures import ThreadPoolExecutor

    ex = ThreadPoolExecutor(threads or write_threads())
    try:
        for b in range(n_buckets):
            mine = [spec for spec, bb in zip(specs, bucket_of_shard) if bb == b]
            parts = []
            if paths[b].exists():
                with pa.memory_map(str(paths[b])) as src:
                    parts.append(ipc.open_file(src).read_all().combine_chunks())  # copied out of the mapping before it closes
            for spec, rec in zip(mine, cut(parts, mine, schema, root, ex.map)):
                on_shard(spec, rec)
            del parts
            release_unused()
            paths[b].unlink(missing_ok=True)
    finally:
        ex.shutdown(wait=True, cancel_futures=True)


def assign_buckets(specs: list[ShardSpec], bucket_rows: int) -> list[int]:
    """Number every output position of every sequence (its slot, from `spec.slot0`); group runs of whole shards into buckets.

    A bucket holds at most `bucket_rows` rows, or one shard when a shard is larger. Returns each shard's bucket.
    """
    slot = 0
    bucket_of_shard, bucket, in_bucket = [], 0, 0
    for spec in specs:
        spec.slot0 = slot
        slot += spec.stop - spec.start
        if in_bucket and in_bucket + (spec.stop - spec.start) > bucket_rows:
            bucket, in_bucket = bucket + 1, 0
        bucket_of_shard.append(bucket)
        in_bucket += spec.stop - spec.start
    return bucket_of_shard


def slot_index(specs: list[ShardSpec], bucket_of_shard: list[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For every slot, sorted by input row: (global input row, slot, bucket). A row repeated by the schedule has several slots."""
    if not specs:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.int32)
    slot_rows = np.concatenate([spec.seq.rows[spec.start : spec.stop] for spec in specs])
    slot_bucket = np.repeat(np.array(bucket_of_shard, dtype=np.int32), [s.stop - s.start for s in specs])
    order = np.argsort(slot_rows, kind="stable")
    return slot_rows[order], order, slot_bucket[order]


def scatter(
    batches: Iterable[pa.RecordBatch], offset: int, rows: np.ndarray, slots: np.ndarray, buckets: np.ndarray, schema: pa.Schema
) -> Iterator[tuple[int, pa.Table]]:
    """Input batches (the first is global row `offset`) → (bucket, part): every row once per slot it fills, its slot in SLOT.

    `rows`, `slots`, `buckets` are `slot_index`'s arrays, or the slice of them that covers these batches.
    """
    for rb in batches:
        lo, hi = np.searchsorted(rows, [offset, offset + rb.num_rows])
        if hi > lo:
            by_bucket = np.argsort(buckets[lo:hi], kind="stable")
            local = rows[lo:hi][by_bucket] - offset
            t = conform(pa.Table.from_batches([rb]), schema).take(pa.array(local))
            t = t.append_column(SLOT, pa.array(slots[lo:hi][by_bucket]))
            ordered = buckets[lo:hi][by_bucket]
            cuts = [0, *(np.flatnonzero(np.diff(ordered)) + 1).tolist(), len(ordered)]
            for a, z in zip(cuts[:-1], cuts[1:]):  # one copy per input batch, zero-copy slices per bucket
                yield int(ordered[a]), t.slice(a, z - a)
        offset += rb.num_rows


def cut(parts: list[pa.Table], specs: list[ShardSpec], schema: pa.Schema, root: Path, map_: Callable[..., Iterable[dict]] = map) -> Iterable[dict]:
    """One bucket's parts (any order) → its shards' records (path, rows, bytes, sha256), in spec order.

    `parts` is emptied once its rows are copied out, so the caller's list does not keep them alive.

    The parts become one chunk per column before the `take`: a take on many chunks is several times slower,
    and the written bytes must not depend on how the parts were split.
    """
    if parts:
        t = pa.concat_tables(parts).combine_chunks()
        parts.clear()  # let go of the unsorted rows: only the sorted copy is held while the shards are written
        t = t.take(pc.sort_indices(t, [(SLOT, "ascending")]))
        first = specs[0].slot0
    else:
        t, first = schema.append(pa.field(SLOT, pa.int64())).empty_table(), 0

    def one(spec: ShardSpec) -> dict:
        part = t.slice(spec.slot0 - first, spec.stop - spec.start).drop_columns([SLOT])
        return _write(_with_order_columns(part, spec, schema), root, spec)

    return map_(one, specs)


def _ahead(it: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """Yield from `it`, computing the next item in a background thread (Arrow decodes without the GIL)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as ex:
        fut = ex.submit(next, it, None)
        while (item := fut.result()) is not None:
            fut = ex.submit(next, it, None)
            yield item


def scatter_rows_for(sources: list[Source]) -> int:
    """Input rows decoded per scatter step: about `SCATTER_BYTES` of them (two steps are in flight), 1,024 to 65,536 rows."""
    total = sum(s.bytes_uncompressed for s in sources)
    per_row = total / max(1, sum(s.rows for s in sources))
    return int(min(65536, max(1024, SCATTER_BYTES / max(per_row, 1.0))))


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
