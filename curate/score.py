"""`curate score`: add difficulty signals to every row, then the composite `difficulty`.

Two passes, bounded memory:
1. Stream input batches; text signals run in a process pool (one batch per task, a bounded number
   in flight), model signals in this process with one engine. Scored batches stay in memory up to
   `SPOOL_AFTER_BYTES`; past that, all are spooled to a temporary folder of Parquet files, and
   only the composite columns' values stay in memory.
2. Sort those values once (the exact empirical CDF), then stream the spool again, add
   `difficulty`, conform every batch to one unified schema and write the output.
"""

from __future__ import annotations

import contextlib
import shutil
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from curate.defaults import DEFAULT_SIGNALS
from curate.difficulty import Composite
from curate.errors import EngineError, InputError, RejectRateExceeded, UsageError
from curate.executors import Executor, ExecutorConfig
from curate.io import Format, RejectWriter, conform, expand_inputs, input_hashes, open_sink, read_batches, unify_schemas
from curate.io.inputs import without_own_outputs
from curate.io.readers import ReadOptions, ReadStats
from curate.io.tempfiles import temp_dir
from curate.rowstore import RowStore
from curate.signals import SIGNALS, BatchContext, Signal
from curate.signals.base import as_arrow

if TYPE_CHECKING:
    import polars as pl

DIFFICULTY = "difficulty"
SPOOL_AFTER_BYTES = 32 << 20  # pass 1 keeps scored batches in memory up to this many bytes


@dataclass
class ScoreConfig:
    signals: list[str] = field(default_factory=lambda: list(DEFAULT_SIGNALS))
    text_field: str = "text"
    id_field: str = "id"
    output: str = "-"
    format: Format | None = None
    rows_per_shard: int = 100_000
    rejects: str | None = None
    weights: dict[str, float] = field(default_factory=dict)
    directions: dict[str, str] = field(default_factory=dict)
    workers: int | None = None
    batch_rows: int = 2048
    max_text_chars: int = 1_000_000
    signal_options: dict[str, Any] = field(default_factory=dict)
    engine: Any = None  # EngineConfig, used when a model signal is selected
    row_store: str | None = None  # SQLite file of per-row scores reused across runs
    executor: str = "local"  # where pass 1's text-signal batches run: local | ray (curate.executors)
    executor_address: str | None = None  # ray: cluster address; None starts a local Ray
    engine_actors: int = 1  # ray: engine actors serving model signals
    engine_cpus: float = 1.0  # ray: CPUs each engine actor reserves
    allow_engine_failures: float | None = None  # None: a row the engine fails on stops the run (exit 5); a rate: quarantine up to it
    seed: int = 0
    calibrate_on: str | None = None  # label column: composite directions and weights from its rank correlations
    calibrate_direction: str | None = None  # the label's direction (default: lower-is-harder for score_pass_rate)
    only_ids: str | None = None  # JSONL file of ids (e.g. suggest.jsonl): only these rows are scored
    completions: str | None = None  # pass_rate: write every sampled completion here (JSONL or Parquet)


@dataclass
class ScoreResult:
    rows_in: int = 0
    rows_out: int = 0
    quarantined: int = 0
    reject_reasons: dict[str, int] = field(default_factory=dict)
    rejects_path: str | None = None
    seconds: float = 0.0
    bytes_text: int = 0
    output: dict[str, Any] = field(default_factory=dict)
    signals: list[str] = field(default_factory=list)
    signal_params: dict[str, Any] = field(default_factory=dict)
    composite: list[dict[str, Any]] = field(default_factory=list)
    quantiles: dict[str, dict[str, float | None]] = field(default_factory=dict)
    agreement: dict[str, dict[str, float | None]] = field(default_factory=dict)
    inputs: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def check_reject_rate(self, max_rate: float | None) -> None:
        """Raise (exit code 4) when more than `max_rate` of the input rows were quarantined."""
        if max_rate is not None and self.rows_in and self.quarantined / self.rows_in > max_rate:
            raise RejectRateExceeded(
                f"{self.quarantined} of {self.rows_in} rows quarantined ({self.quarantined / self.rows_in:.1%}) > --max-reject-rate {max_rate:.1%}",
                f"see {self.rejects_path} for each row's reason",
            )

    def as_dict(self) -> dict[str, Any]:
        rate = self.rows_in / self.seconds if self.seconds else None
        return {
            "rows_in": self.rows_in,
            "rows_out": self.rows_out,
            "quarantined": self.quarantined,
            "reject_reasons": self.reject_reasons,
            "rejects_path": self.rejects_path,
            "seconds": round(self.seconds, 3),
            "rows_per_second": round(rate, 1) if rate else None,
            "mb_per_second": round(self.bytes_text / 1e6 / self.seconds, 3) if self.seconds else None,
            "output": self.output,
            "signals": self.signals,
            "signal_params": self.signal_params,
            "composite": self.composite,
            "quantiles": self.quantiles,
            "agreement_spearman": self.agreement,
            "inputs": self.inputs,
            **self.extra,
        }


def resolve_signals(names: list[str]) -> list[type[Signal]]:
    out: list[type[Signal]] = []
    for n in names:
        for part in n.split(","):
            part = part.strip()
            if part:
                cls = SIGNALS.get(part)
                if cls not in out:
                    out.append(cls)
    if not out:
        raise UsageError("no signals selected", f"choose from: {', '.join(SIGNALS.names())}")
    return out


# ----------------------------------------------------------------------------- batch functions


def score_batch(
    table: pa.Table,
    signal_names: list[str],
    text_field: str,
    options: dict[str, Any],
    engine: Any = None,
    failures: dict[int, str] | None = None,
    completions: Any = None,
) -> pa.Table:
    """A pure batch → batch stage: the table with every selected signal's columns appended.

    `failures`, when given, receives the rows a signal could not score because its engine failed
    (row index → reason): their columns are placeholders, never results to keep. `completions`, when
    given, receives every sample `pass_rate` draws (`curate score --completions`).
    """
    ctx = BatchContext(table=table, text_field=text_field, options=options, engine=engine, completions=completions)
    classes = [SIGNALS.get(name) for name in signal_names]
    # all constructed first: one may start loading its tables while the others score
    sigs = [cls(**options.get(cls.name, {}) if isinstance(options.get(cls.name), dict) else {}) for cls in classes]
    for cls, sig in zip(classes, sigs):
        cols = sig.score(ctx)
        for f in cls.schema_fields():
            arr = as_arrow(cols[f.name], f.type)
            if f.name in table.column_names:
                table = table.set_column(table.column_names.index(f.name), f.name, arr)
            else:
                table = table.append_column(f.name, arr)
        ctx.table = table
    if failures is not None:
        failures.update(ctx.failures)
    return table


def _pool_task(table: pa.Table, signals: list[type[Signal]], text_field: str, options: dict[str, Any]) -> pa.Table:
    """Runs in an executor's worker: the classes travel with the task, so signals registered at run time work there too."""
    if not table.num_rows:
        return table
    for cls in signals:
        SIGNALS.add(cls.name, cls)
    out = score_batch(table, [cls.name for cls in signals], text_field, options)
    return out.select([f.name for cls in signals for f in cls.schema_fields()])  # only the new columns travel back


def _thread_task(table: pa.Table, signals: list[type[Signal]], text_field: str, options: dict[str, Any]) -> pa.Table:
    """`_pool_task` for signals whose work releases the GIL: the local executor runs it in threads."""
    return _pool_task(table, signals, text_field, options)


_thread_task.threads = True  # type: ignore[attr-defined]


def _null_nans(table: pa.Table, names: list[str]) -> pa.Table:
    """A missing score is null, never NaN, so stored and freshly computed rows are byte-identical."""
    import pyarrow.compute as pc

    for n in names:
        col = table.column(n)
        if pa.types.is_floating(col.type) and col.length():
            nan = pc.is_nan(col)
            if pc.any(nan).as_py():
                table = table.set_column(table.column_names.index(n), n, pc.if_else(nan, pa.scalar(None, col.type), col))
    return table


def _as_arrow_value(value: Any, typ: pa.DataType) -> Any:
    """Stored JSON back to what Arrow expects: map values are lists of (key, value) pairs."""
    if value is None or not pa.types.is_map(typ):
        return value
    if isinstance(value, dict):
        return [(typ.key_type.to_pandas_dtype().type(k) if pa.types.is_integer(typ.key_type) else k, v) for k, v in value.items()]
    return [tuple(kv) for kv in value]


class _Unit:
    """A group of signals scored together, optionally through the row store."""

    def __init__(self, signals: list[type[Signal]], fields: list[str] | None, salt: dict[str, Any], store: RowStore | None):
        self.signals = signals
        self.names = [s.name for s in signals]
        self.fields = [f for s in signals for f in s.schema_fields()]
        self.key_fields = fields  # None: every input column
        self.salt = {"signals": self.names, **salt}
        self.store = store
        self.computed = 0
        self.reused = 0
        self.not_final = 0  # rows left for a later run to finish (never stored)

    def split(self, table: pa.Table) -> tuple[pa.Table, Any]:
        """(rows that need computing, state to merge them back)."""
        if self.store is None or not table.num_rows:
            self.computed += table.num_rows
            return table, None
        fields = self.key_fields or [c for c in table.column_names if not c.startswith("score_") and c != DIFFICULTY]
        keys = self.store.keys(table, fields, self.salt)
        found = self.store.get_many(keys)
        first: dict[bytes, int] = {}
        for i, k in enumerate(keys):
            if k not in found and k not in first:
                first[k] = i
        missing = list(first.values())  # each distinct missing row once
        self.computed += len(missing)
        self.reused += table.num_rows - len(missing)
        return table.take(pa.array(missing, pa.int64())), (keys, found, missing)

    def merge(self, table: pa.Table, computed: pa.Table, state: Any, failures: dict[int, str] | None = None) -> tuple[pa.Table, dict[int, str]]:
        """`table` with the computed columns, and its rows whose computation failed (row → reason).

        A failed row is never a finished result: it is not stored, and the caller quarantines it
        or stops the run, so a rerun computes it again.
        """
        names = [f.name for f in self.fields]
        failures = failures or {}
        if state is None:
            computed = _null_nans(computed, names)
            for f in self.fields:
                col = computed.column(f.name)
                i = table.schema.get_field_index(f.name)
                table = table.set_column(i, f.name, col) if i >= 0 else table.append_column(f.name, col)
            return table, dict(failures)
        if computed.num_rows:
            computed = _null_nans(computed, names)
        keys, found, missing = state
        cols = {n: (computed.column(n).to_pylist() if computed.num_rows else []) for n in names}
        failed_keys = {keys[missing[j]]: why for j, why in failures.items()}
        new_items = [(keys[row], {n: cols[n][j] for n in names}) for j, row in enumerate(missing) if keys[row] not in failed_keys]
        # rows a signal could not finish here (e.g. code checks without a sandbox) are not stored either
        finished = [kv for kv in new_items if all(s.final(kv[1]) for s in self.signals)]
        self.not_final += len(new_items) - len(finished)
        self.store.put_many(finished)  # type: ignore[union-attr]
        self.computed -= len(failed_keys)
        values = {**found, **dict(new_items), **{k: {} for k in failed_keys}}
        for f in self.fields:
            vals = [_as_arrow_value(values[keys[i]].get(f.name), f.type) for i in range(table.num_rows)]
            arr = pa.array(vals, type=f.type)
            if f.name in table.column_names:
                table = table.set_column(table.column_names.index(f.name), f.name, arr)
            else:
                table = table.append_column(f.name, arr)
        return table, {i: failed_keys[k] for i, k in enumerate(keys) if k in failed_keys}


class _Scorer:
    """Runs text signals through an executor (a local process pool by default), in input order."""

    def __init__(
        self, unit: _Unit, signals: list[type[Signal]], text_field: str, options: dict[str, Any], executor: Executor | None, only: Any = None
    ):
        self.unit = unit
        self.signals = signals
        self.text_field = text_field
        self.options = options
        self.executor = executor
        self.only = only
        # What a worker reads: the text, and the columns a signal asks for (`Signal.input_columns`).
        self.reads = list(dict.fromkeys([text_field, *(c for s in signals for c in s.input_columns(options))]))

    def map(self, batches: Iterator[pa.Table]) -> Iterator[pa.Table]:
        if not self.unit.names or self.executor is None:
            yield from batches
            return
        # Batches handed to the executor, oldest first: (batch, the rows scored, their positions in it, the split state).
        pending: deque[tuple[pa.Table, pa.Table, list[int] | None, Any]] = deque()

        def todo() -> Iterator[pa.Table]:
            for table in batches:
                sub, positions = self.only.restrict(table) if self.only is not None else (table, None)
                rows, state = self.unit.split(sub) if sub.num_rows else (sub, "skip")
                pending.append((table, sub, positions, state))
                yield rows.select([c for c in self.reads if c in rows.column_names]) if rows.num_rows else rows  # workers read only these

        task = _thread_task if all(getattr(s, "threads", False) for s in self.signals) else _pool_task
        for computed in self.executor.map_batches(task, todo(), self.signals, self.text_field, self.options):
            table, sub, positions, state = pending.popleft()
            if isinstance(state, str):
                yield table if positions is None else _put_back(table, sub, positions, self.unit.fields)
                continue
            merged = self.unit.merge(sub, computed, state)[0]
            yield merged if positions is None else _put_back(table, merged, positions, self.unit.fields)


class _OnlyIds:
    """`--only-ids FILE`: score just the rows whose id the file lists; the others pass through unchanged."""

    def __init__(self, path: str, id_field: str):
        from curate.errors import InputError
        from curate.io import read_table
        from curate.io.readers import ReadOptions

        table, rejects = read_table([path], ReadOptions(text_field=None, id_field=None, require_text=False))
        col = "id" if "id" in table.column_names else id_field
        if col not in table.column_names:
            raise InputError(f"--only-ids {path} has no 'id' field", 'pass a JSONL file of {"id": ...} lines, e.g. MODEL_DIR/suggest.jsonl')
        self.ids = {str(v) for v in table.column(col).to_pylist() if v is not None}
        self.id_field = id_field
        self.matched: set[str] = set()

    def restrict(self, table: pa.Table) -> tuple[pa.Table, list[int]]:
        ids = table.column(self.id_field).to_pylist() if self.id_field in table.column_names else [None] * table.num_rows
        positions = [i for i, v in enumerate(ids) if v is not None and str(v) in self.ids]
        self.matched.update(str(ids[i]) for i in positions)
        return table.take(pa.array(positions, pa.int64())), positions


def _put_back(table: pa.Table, scored: pa.Table, positions: list[int], fields: list[pa.Field]) -> pa.Table:
    """`table` with `fields` taken from `scored` at `positions`; other rows keep their values (null if they had none)."""
    for f in fields:
        old = table.column(f.name).cast(f.type).to_pylist() if f.name in table.column_names else [None] * table.num_rows
        new = scored.column(f.name).to_pylist() if f.name in scored.column_names else [None] * len(positions)
        for j, i in enumerate(positions):
            old[i] = new[j]
        arr = pa.array([_as_arrow_value(v, f.type) for v in old], type=f.type)
        i = table.schema.get_field_index(f.name)
        table = table.set_column(i, f.name, arr) if i >= 0 else table.append_column(f.name, arr)
    return table


# ----------------------------------------------------------------------------- the command


def default_rejects_path(output: str) -> str:
    if output == "-":
        return "curate-rejects.jsonl"
    p = Path(output.rstrip("/"))
    stem = p.name
    for suf in (".parquet", ".pq", ".jsonl.gz", ".jsonl", ".ndjson", ".json"):
        if stem.endswith(suf):
            stem = stem[: -len(suf)]
            break
    return str(p.parent / f"{stem}.rejects.jsonl")


def estimate_rows(sources: list[str]) -> int | None:
    """A cheap row count for the progress bar's ETA (Parquet metadata; newline count for plain JSONL/CSV)."""
    total = 0
    from curate.io.inputs import is_stream

    for s in sources:
        if is_stream(s) or Path(s).is_dir() or s.endswith(".gz") or s.endswith(".arrow"):
            return None
        if s.endswith((".parquet", ".pq")):
            total += pq.ParquetFile(s).metadata.num_rows
        else:
            with open(s, "rb") as fh:
                total += sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 22), b""))
    return total


def score(inputs: list[str], opts: ScoreConfig, on_progress: Callable[[int], None] | None = None, ctx: Any = None) -> ScoreResult:
    """Score `inputs` into `opts.output`. Engines, executors and the row store come from `ctx`
    (a `curate.stages.RunContext`; a private one, closed at the end, when not given)."""
    if ctx is None:
        from curate.stages.context import RunContext

        with RunContext() as private:
            return score(inputs, opts, on_progress, private)
    started = time.perf_counter()
    signals = resolve_signals(opts.signals)
    composite = Composite.build(signals, opts.weights, opts.directions, opts.signal_options)
    model_sigs = [s.name for s in signals if s.kind == "model"]
    # A text signal reading a column that a model signal of this run makes runs after the model signals, here.
    made = {c for s in signals if s.kind == "model" for c in s.column_names()}
    late = [s for s in signals if s.kind == "text" and made & set(s.input_columns(opts.signal_options))]
    text_sigs = [s.name for s in signals if s.kind == "text" and s not in late]
    rejects_path = opts.rejects if opts.rejects is not None else default_rejects_path(opts.output)
    sources, own = without_own_outputs(expand_inputs(inputs), opts.output, rejects_path)
    if not sources:
        raise InputError(
            f"the only input files are this command's own output ({', '.join(own[:3])})", "score another input, or write elsewhere with -o"
        )
    if own:
        ctx.warn(
            f"not reading {len(own)} input file(s) that are this command's own output or rejects: {', '.join(own[:3])}{' …' if len(own) > 3 else ''}"
        )
    summary = ScoreResult(signals=[s.name for s in signals], composite=composite.describe())
    summary.signal_params = {s.name: getattr(s, "params", lambda: {})() for s in signals if hasattr(s, "params")}

    # Text signals run on the executor's workers; on Ray, model signals run on its engine actors
    # (a server is called from here).
    from curate.engines import EngineConfig

    ecfg = opts.engine or EngineConfig(seed=opts.seed)
    on_ray = opts.executor != "local"
    engines_on_cluster = bool(model_sigs) and on_ray and not ecfg.is_remote
    executor: Executor | None = None
    engine = rejects = sink = None
    spool: Path | None = None
    completions = None
    if opts.completions is not None:
        if "pass_rate" not in model_sigs:
            raise UsageError("--completions writes pass_rate's samples, and pass_rate is not selected", "add -s pass_rate")
        from curate.completions import CompletionSink

        completions = CompletionSink(opts.completions, opts.id_field)
    try:
        if text_sigs or engines_on_cluster:
            spare = 1.0 if text_sigs else 0.0  # engine actors leave a CPU for the text-signal tasks
            executor = ctx.executor(
                ExecutorConfig(opts.executor, opts.workers, opts.executor_address, opts.engine_actors, opts.engine_cpus, spare_cpus=spare)
            )
        if model_sigs:
            engine = ctx.engine(ecfg, executor=executor if engines_on_cluster else None)
            summary.extra["engine"] = {"name": engine.name, "model": engine.model}

        rejects = RejectWriter(rejects_path)
        store = ctx.row_store(opts.row_store) if opts.row_store else None
        from curate import __version__

        pool_sigs = [s for s in signals if s.name in text_sigs]
        reads = [c for s in pool_sigs for c in s.input_columns(opts.signal_options)]
        prints = {s.name: fp for s in pool_sigs if (fp := s.fingerprint(opts.signal_options)) is not None}
        text_unit = _Unit(
            pool_sigs,
            list(dict.fromkeys([opts.text_field, *reads])),
            {"version": __version__, "options": {n: opts.signal_options.get(n) for n in text_sigs}, **({"fingerprints": prints} if prints else {})},
            store,
        )
        model_unit = _Unit(
            [s for s in signals if s.kind == "model"],
            None,
            {"version": __version__, "options": opts.signal_options, "model": summary.extra.get("engine")},
            None if completions is not None else store,  # rows reused from the store would have no completions to write
        )
        only = _OnlyIds(opts.only_ids, opts.id_field) if opts.only_ids else None
        scorer = _Scorer(text_unit, pool_sigs, opts.text_field, opts.signal_options, executor if text_sigs else None, only)
        calibrator = None
        if opts.calibrate_on:
            from curate.fit.calibrate import Calibrator
            from curate.fit.labels import resolve_direction

            calibrator = Calibrator(
                opts.calibrate_on, resolve_direction(opts.calibrate_on, opts.calibrate_direction), [c.name for c in composite.columns]
            )
        read_opts = ReadOptions(text_field=opts.text_field, id_field=opts.id_field, batch_rows=opts.batch_rows, max_text_chars=opts.max_text_chars)
        engine_failed: dict[str, int] = {}  # reason → rows the model engine failed on
        parts: list[pa.Table | Path] = []  # scored batches: held in memory, or spool files
        held: int | None = 0  # bytes held; None once spooling

        def keep(table: pa.Table) -> None:
            nonlocal spool, held
            if held is not None and held + table.nbytes <= SPOOL_AFTER_BYTES:
                parts.append(table)
                held += table.nbytes
                return
            if spool is None:
                spool = temp_dir("curate-score-")  # named for its owner: a later run sweeps it if this one is killed
            held = None
            for i, part in enumerate(parts + [table]):
                if isinstance(part, pa.Table):
                    path = spool / f"batch-{i:06d}.parquet"
                    pq.write_table(part, path, compression="lz4")
                    parts[i : i + 1] = [path]

        schemas: list[pa.Schema] = []

        read_stats = ReadStats()

        def batches(quarantine: RejectWriter) -> Iterator[pa.Table]:
            for table, rej in read_batches(sources, read_opts, stats=read_stats):
                quarantine.write(rej)
                summary.rows_in += table.num_rows + len(rej)
                if on_progress:
                    on_progress(table.num_rows + len(rej))
                yield table

        # Pass 1: score and spool.
        for table in scorer.map(batches(rejects)):
            if not table.num_rows:
                continue
            if DIFFICULTY in table.column_names:  # rescoring scored rows: difficulty is recomputed
                table = table.drop_columns([DIFFICULTY])
            if model_sigs:
                sub, positions = only.restrict(table) if only is not None else (table, None)
                todo, state = model_unit.split(sub)
                failures: dict[int, str] = {}
                computed = (
                    score_batch(todo, model_sigs, opts.text_field, opts.signal_options, engine, failures, completions) if todo.num_rows else todo
                )
                merged, failed = model_unit.merge(sub, computed, state, failures)
                if positions is None:
                    table = merged
                else:
                    table = _put_back(table, merged, positions, model_unit.fields)
                    failed = {positions[i]: why for i, why in failed.items()}
                if failed:
                    table = _engine_failures(table, failed, opts, rejects, engine_failed)
                    if not table.num_rows:
                        continue
            if late:
                sub, positions = only.restrict(table) if only is not None else (table, None)
                done = score_batch(sub, [s.name for s in late], opts.text_field, opts.signal_options) if sub.num_rows else sub
                table = done if positions is None else _put_back(table, done, positions, [f for s in late for f in s.schema_fields()])
            if calibrator is not None:
                calibrator.add(table)
            summary.bytes_text += int(pa.compute.sum(pa.compute.binary_length(table.column(opts.text_field))).as_py() or 0)
            composite.add(table)
            keep(table)
            schemas.append(table.schema)
        if calibrator is not None:
            _calibrate(summary, composite, calibrator, signals, opts)
        if only is not None:
            summary.extra["only_ids"] = {"listed": len(only.ids), "scored": len(only.matched), "not_found": len(only.ids - only.matched)}
        composite.finalize()

        # Pass 2: difficulty, unified schema, write.
        base = unify_schemas(schemas) if schemas else pa.schema([])
        score_fields = [f for s in signals for f in s.schema_fields()]
        fields = [f for f in base if f.name not in {sf.name for sf in score_fields} and f.name != DIFFICULTY]
        schema = pa.schema(fields + score_fields + [pa.field(DIFFICULTY, pa.float64())])
        sink = open_sink(opts.output, schema, opts.format, opts.rows_per_shard)
        diffs: list[np.ndarray] = []
        names = [f.name for f in score_fields]
        kept: list[pa.Table] = []  # spooled: the score columns of each part as pass 2 reads it back
        with ThreadPoolExecutor(1, thread_name_prefix="curate-describe") as aside:
            # Held in memory, the summary's quantiles and agreement are computed while the output is
            # compressed and written; spooled, from the score columns pass 2 reads anyway, after it:
            # reading the spool a second time costs more memory than the columns themselves.
            held_parts = [p for p in parts if isinstance(p, pa.Table)]
            described = None if spool is not None else aside.submit(_describe, summary, held_parts, names)
            for part in parts:
                # ParquetFile.read, not pq.read_table, which imports pandas; one chunk either way
                table = part.combine_chunks() if isinstance(part, pa.Table) else pq.ParquetFile(part).read()
                if described is None:
                    kept.append(table.select([c for c in names if c in table.column_names]))
                d = composite.difficulty(table)
                diffs.append(d)
                table = table.append_column(DIFFICULTY, as_arrow(d, pa.float64()))
                sink.write(conform(table, schema))
                summary.rows_out += table.num_rows
            summary.output = sink.close()
            sink = None
            if described is None:
                _describe(summary, kept, names)
            else:
                described.result()
        if diffs:
            d = np.concatenate(diffs)
            d = d[~np.isnan(d)]
            summary.quantiles[DIFFICULTY] = {f"p{int(q * 100)}": (float(np.quantile(d, q)) if len(d) else None) for q in (0.0, 0.1, 0.5, 0.9, 1.0)}
    except BaseException:
        if sink is not None:
            sink.abort()
        if completions is not None:
            completions.abort()
        if rejects is not None:
            rejects.abort()  # the old output and its rejects stay together
            rejects = None
        raise
    finally:
        with contextlib.ExitStack() as closing:  # both run even if one fails; engines and executors belong to ctx
            if spool is not None:
                closing.callback(shutil.rmtree, spool, ignore_errors=True)
            if rejects is not None:
                closing.callback(rejects.close)

    if executor is not None:
        summary.extra["executor"] = executor.describe()  # after the run: engine actors start on the first cache miss
    if engine is not None:
        summary.extra["engine"]["loaded"] = bool(getattr(engine, "started", True))  # False: every call was served by the request cache
    if completions is not None:
        summary.extra["completions"] = completions.close()
    summary.extra["rows_computed"] = {"text": text_unit.computed, "model": model_unit.computed}
    if model_unit.not_final:
        summary.extra["rows_not_final"] = model_unit.not_final
    summary.extra["rows_reused"] = {"text": text_unit.reused, "model": model_unit.reused}
    summary.quarantined = rejects.count
    summary.reject_reasons = rejects.reasons
    summary.rejects_path = rejects_path if rejects.count else None
    summary.inputs = input_hashes(sources) if "-" not in sources else {"-": "stdin"}
    if read_stats.duplicate_ids:
        summary.extra["duplicate_ids"] = read_stats.duplicate_ids
        ctx.warn(
            f"{read_stats.duplicate_ids:,} row(s) repeat an earlier row's id ('{opts.id_field}'): they are kept, so a trainer would see that id twice"
        )
    summary.seconds = time.perf_counter() - started
    if engine_failed:
        n = sum(engine_failed.values())
        summary.extra["engine_failures"] = {"rows": n, "reasons": dict(engine_failed), "allowed_rate": opts.allow_engine_failures}
        if summary.rows_in and n / summary.rows_in > (opts.allow_engine_failures or 0.0):
            raise EngineError(
                f"the model engine failed on {n} of {summary.rows_in} rows ({n / summary.rows_in:.1%}, more than --allow-engine-failures "
                f"{opts.allow_engine_failures:.1%}): {_top_reason(engine_failed)}; they are quarantined in {rejects_path}",
                "fix the engine and rerun the same command: finished rows are kept, only the failed ones are computed again",
            )
    return summary


def _calibrate(summary: ScoreResult, composite: Composite, calibrator: Any, signals: list[type[Signal]], opts: ScoreConfig) -> None:
    """`--calibrate-on`: directions and weights from the label's rank correlations (curate.fit.calibrate)."""
    from curate.fit.calibrate import apply
    from curate.signals.base import column_name

    user = set(opts.weights) | set(opts.directions)
    fixed = {
        c.name
        for c in composite.columns
        for s in signals
        if c.name.startswith(column_name(s.name)) and (s.name in user or c.name in user or c.name.removeprefix("score_") in user)
    }
    rows = calibrator.labelled_rows()
    result = calibrator.solve() if rows else {}
    if rows:
        apply(composite, result, fixed)
    summary.composite = composite.describe()
    summary.extra["calibration"] = {
        "label": calibrator.label,
        "direction": calibrator.direction,
        "labelled_rows": rows,
        "rule": "direction = sign, weight = |Spearman| of each column with the label on labelled rows",
        "columns": result,
        "user_set": sorted(fixed),
        "applied": bool(rows) and any("weight" in r for r in result.values()),
    }


def _top_reason(reasons: dict[str, int]) -> str:
    why, count = max(reasons.items(), key=lambda kv: kv[1])
    return f"{why!r}" + (f" ({count} rows; {len(reasons) - 1} other reasons)" if len(reasons) > 1 else "")


def _engine_failures(table: pa.Table, failed: dict[int, str], opts: ScoreConfig, rejects: Any, tally: dict[str, int]) -> pa.Table:
    """Rows the model engine failed on: quarantined with the reason when --allow-engine-failures is
    given, else the run stops at once (exit 5) — they are never written as scored rows."""
    from curate.io.readers import Reject

    for why in failed.values():
        tally[why] = tally.get(why, 0) + 1
    if opts.allow_engine_failures is None:
        n = sum(tally.values())
        raise EngineError(
            f"the model engine failed on {n} row(s): {_top_reason(tally)}",
            "check the engine (--engine-url, --engine-timeout) and rerun the same command: finished rows are kept and only the failed ones "
            "are computed again; or pass --allow-engine-failures RATE to quarantine such rows and go on",
        )
    drop = sorted(failed)
    bad = table.take(pa.array(drop, pa.int64())).to_pylist()
    rejects.write([Reject(f"engine failure: {failed[i]}", "engine", None, row=row) for i, row in zip(drop, bad)])
    keep = np.ones(table.num_rows, dtype=bool)
    keep[drop] = False
    return table.filter(pa.array(keep))


def _quantile(s: pl.Series, q: float) -> float | None:
    v = s.quantile(q) if len(s) else None
    return None if v is None else float(v)


def _describe(summary: ScoreResult, parts: list[pa.Table], columns: list[str]) -> None:
    """Quantiles per score column and Spearman agreement between numeric score columns, from the
    scored batches held in memory (or their score columns, read back from the spool)."""
    import polars as pl

    if not parts:
        return
    frames = [pl.from_arrow(t.select([c for c in columns if c in t.column_names])) for t in parts]
    lf = pl.concat(frames, how="diagonal_relaxed").lazy()  # type: ignore[type-var, union-attr]  # polars types from_arrow as DataFrame | Series
    present = [c for c in columns if c in lf.collect_schema().names() and lf.collect_schema()[c].is_numeric()]
    if not present:
        return
    # One column at a time, each kept only as its ranks, not every column and its ranks at once.
    qs = (0.0, 0.1, 0.5, 0.9, 1.0)
    ranks: dict[str, np.ndarray] = {}  # float64, NaN where the value is missing
    for c in present:
        col = lf.select(c).collect().to_series()
        s = col.drop_nans().drop_nulls() if col.dtype.is_float() else col.drop_nulls()
        summary.quantiles[c] = {f"p{int(q * 100)}": _quantile(s, q) for q in qs}
        del s
        if col.dtype.is_float():
            col = col.fill_nan(None)
        ranks[c] = col.rank("average").cast(pl.Float64).to_numpy()
        del col
    for a in present:
        summary.agreement[a] = {}
        for b in present:
            if a == b:
                summary.agreement[a][b] = 1.0
                continue
            both = ~(np.isnan(ranks[a]) | np.isnan(ranks[b]))
            ra, rb = ranks[a][both], ranks[b][both]
            if len(ra) > 2 and ra.std() and rb.std():
                summary.agreement[a][b] = round(float(np.corrcoef(ra, rb)[0, 1]), 4)
            else:
                summary.agreement[a][b] = None
