"""`order()`: read keys → sort → schedule → gather shards → baseline → manifest + picture, atomically."""

from __future__ import annotations

import math
import os
import shutil
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from curate.errors import InputError, UsageError, is_write_failure, output_error
from curate.io.tempfiles import temp_dir
from curate.order.index import Index, SortKey, Source, build_index, describe_sources, unified_schema
from curate.order.manifest import FORMAT_VERSION, MANIFEST, write_manifest
from curate.order.schedules import Params, Plan, get_schedule

DEFAULT_ROWS_PER_SHARD = 100_000
DEFAULT_STEPS = 1000
EXHAUSTED = ("widen", "repeat")
GATHER = ("auto", "memory", "spill")
EXECUTORS = ("local", "ray")
RUN_ONLY = ("gather", "memory_mb", "executor", "executor_address")  # how rows are gathered, not which: left out of the manifest
WHEN_SET = {"band": None, "mix_by": None, "mix": None, "token_budget": None, "token_decay": "linear"}  # recorded only when used
MEMORY_FACTOR = 2.5  # auto gathers in memory when the input's uncompressed size times this fits the memory budget
BUCKET_MAX = 32 * 2**20  # a bucket this small keeps the random `take` inside the CPU cache


@dataclass
class OrderConfig:
    inputs: list[str]
    output: str
    schedule: str = "linear"
    by: list[str] = field(default_factory=lambda: ["difficulty"])
    params: Params = field(default_factory=Params)
    steps: int | None = None
    batch_size: int | None = None
    num_samples: int | None = None
    exhausted: str = "widen"
    seed: int = 0
    stages: int = 1
    rows_per_shard: int | None = None
    shard_size_mb: float | None = None
    baseline: bool = True
    plot: bool = True
    id_field: str | None = "id"
    memory_mb: float | None = None  # gather budget; default: half the available memory
    gather: str = "auto"  # auto | memory | spill (see curate.order.gather); local executor only
    executor: str = "local"  # local (this process) | ray (curate.order.gather_ray, whatever the input size)
    executor_address: str | None = None  # ray: cluster address; None: $RAY_ADDRESS, else a new local Ray
    band: str | None = None  # COLUMN=LO:HI: keep rows in the band (curate.order.select)
    mix_by: str | None = None  # COLUMN whose values --mix weighs
    mix: dict[str, float] | None = None  # value → weight: each step's share of rows
    token_budget: str | None = None  # START:END: curriculum_max_new_tokens decaying over the run (curate.order.tokens)
    token_decay: str = "linear"  # linear | cosine


@dataclass
class Budget:
    samples: int
    steps: int
    batch_size: int


def resolve_budget(n: int, steps: int | None, batch_size: int | None, num_samples: int | None) -> Budget:
    """S rows in T steps of B: any two of (--steps, --batch-size, --num-samples) fix the third."""
    for flag, v in (("--steps", steps), ("--batch-size", batch_size), ("--num-samples", num_samples)):
        if v is not None and v < 1:
            raise UsageError(f"{flag} must be at least 1 (got {v})")
    if steps and batch_size and num_samples and steps * batch_size != num_samples:
        raise UsageError(
            f"--steps {steps} × --batch-size {batch_size} = {steps * batch_size}, not --num-samples {num_samples}",
            "give two of --steps, --batch-size, --num-samples",
        )
    if steps and batch_size:
        return Budget(steps * batch_size, steps, batch_size)
    s = num_samples or n
    if batch_size:
        return Budget(s, math.ceil(s / batch_size), batch_size)
    t = steps or min(DEFAULT_STEPS, s)
    if t > s:
        raise UsageError(f"--steps {t} is more than the {s} rows to read", "lower --steps or raise --num-samples")
    b = math.ceil(s / t)
    return Budget(s, math.ceil(s / b), b)


def _finite(flag: str, value: float) -> None:
    if not math.isfinite(value):
        raise UsageError(f"{flag} must be a finite number (got {value})")


def check_params(p: Params) -> None:
    for flag, value in (("--start", p.start), ("--full-at", p.full_at), ("--warmup", p.warmup), ("--p", p.p), ("--sigma", p.sigma), ("c", p.c)):
        _finite(flag, value)
    if not 0 < p.start <= 1:
        raise UsageError(f"--start must be in (0, 1] (got {p.start})")
    if not 0 < p.full_at:
        raise UsageError(f"--full-at must be > 0 (got {p.full_at})")
    if p.k < 1:
        raise UsageError(f"--k must be at least 1 (got {p.k})")
    if not 0 <= p.warmup <= 1:
        raise UsageError(f"--warmup must be in [0, 1] (got {p.warmup})")
    if p.p <= 0:
        raise UsageError(f"--p must be > 0 (got {p.p})")
    if p.sigma < 0:
        raise UsageError(f"--sigma must be ≥ 0 (got {p.sigma})")
    if p.c <= 0:
        raise UsageError(f"the steepness c must be > 0 (got {p.c})")


def check_sizes(cfg: OrderConfig) -> None:
    """Shard and memory sizes: positive and finite."""
    if cfg.rows_per_shard is not None and cfg.shard_size_mb is not None:
        raise UsageError("--rows-per-shard and --shard-size-mb both given", "use one of them")
    if cfg.rows_per_shard is not None and cfg.rows_per_shard < 1:
        raise UsageError(f"--rows-per-shard must be at least 1 (got {cfg.rows_per_shard})")
    for flag, value in (("--shard-size-mb", cfg.shard_size_mb), ("--memory-mb", cfg.memory_mb)):
        if value is not None:
            _finite(flag, value)
            if value <= 0:
                raise UsageError(f"{flag} must be > 0 (got {value})")


def order(cfg: OrderConfig, log: Any = None, run_info: dict[str, Any] | None = None, executor: Any = None) -> dict[str, Any]:
    """Write the ordered shard set for `cfg` and return its manifest.

    `run_info`, when given, receives how the rows were gathered (`gather`: memory, spill or ray, and
    the executor's description). That is not in the manifest: every way of running writes the same one.
    `executor`: the Ray executor to gather on (`cfg.executor == "ray"`); by default one is opened
    for this call and closed at its end.
    """
    say = log or (lambda msg: None)
    info = run_info if run_info is not None else {}
    schedule = get_schedule(cfg.schedule)
    check_params(cfg.params)
    if cfg.exhausted not in EXHAUSTED:
        raise UsageError(f"--exhausted must be one of {', '.join(EXHAUSTED)} (got {cfg.exhausted!r})")
    if cfg.gather not in GATHER:
        raise UsageError(f"--gather must be one of {', '.join(GATHER)} (got {cfg.gather!r})")
    if cfg.executor not in EXECUTORS:
        raise UsageError(f"curate order runs on executor {' or '.join(EXECUTORS)}, not {cfg.executor!r}", "use --executor local or --executor ray")
    if cfg.executor == "ray" and cfg.gather != "auto":
        raise UsageError(
            f"--gather {cfg.gather} applies to the local executor: on Ray, Ray tasks gather the rows", "drop --gather, or use --executor local"
        )
    if cfg.stages < 1:
        raise UsageError(f"--stages must be at least 1 (got {cfg.stages})")
    check_sizes(cfg)
    if (cfg.mix_by is None) != (cfg.mix is None):
        raise UsageError("--mix-by and --mix go together", "give the column with --mix-by and the weights with --mix a=0.7,b=0.3")
    if cfg.token_budget is not None:
        from curate.order.tokens import token_budget

        token_budget(cfg.token_budget, cfg.token_decay, 1)  # checks the spec before any reading
    if cfg.band is not None:
        from curate.order.select import parse_band

        parse_band(cfg.band)
    keys = [SortKey.parse(spec) for spec in cfg.by] or [SortKey("difficulty")]
    out = Path(cfg.output)
    check_destination(out)
    owned = None
    if cfg.executor == "ray":  # connected before any reading, so an unreachable cluster fails at once
        if executor is None:
            from curate.executors import ExecutorConfig, open_executor

            executor = owned = open_executor(ExecutorConfig("ray", address=cfg.executor_address))
        info["executor"] = executor.describe()
    try:
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            tmp = temp_dir(".curate-order-", out.parent)
        except OSError as exc:
            raise output_error(out, exc) from exc
        try:
            manifest = _order_into(cfg, schedule, keys, tmp, say, info)
            move_into_place(tmp / "out", out)
            return manifest
        except OSError as exc:
            if is_write_failure(exc):  # a read-only or full disk under the output; the earlier output is untouched
                raise output_error(out, exc) from exc
            raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    finally:
        if owned is not None:
            owned.close()


def check_destination(out: Path) -> None:
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / MANIFEST).exists())):
        raise UsageError(f"'{out}' exists and is not an earlier `curate order` output", "choose a new or empty folder for -o")


def move_into_place(src: Path, dest: Path) -> None:
    if not dest.exists():
        os.replace(src, dest)
        return
    old = src.parent / "previous"
    os.replace(dest, old)
    try:
        os.replace(src, dest)
    except OSError:
        os.replace(old, dest)  # the earlier output goes back where it was
        raise


def _order_into(cfg: OrderConfig, schedule: Any, keys: list[SortKey], tmp: Path, say: Any, info: dict[str, Any]) -> dict[str, Any]:
    from curate.io import expand_inputs, input_hashes
    from curate.order import gather as G

    work, root = tmp / "work", tmp / "out"
    work.mkdir()
    root.mkdir()
    srcs = expand_inputs(cfg.inputs)
    files, reader_rejects = _parquet_sources(srcs, work, cfg.id_field)
    sources = describe_sources(files)
    schema = unified_schema(sources) if sources else None
    label = ", ".join(cfg.inputs) if len(cfg.inputs) < 4 else f"{cfg.inputs[0]} (+{len(cfg.inputs) - 1} more)"
    if schema is None:
        raise InputError(f"{label} holds no rows", "check the input")
    # The manifest's sha256 of the inputs is taken while the rows are sorted and gathered (hashlib drops the GIL).
    stop = threading.Event()
    hasher = ThreadPoolExecutor(1, thread_name_prefix="curate-hash")
    hashes = hasher.submit(input_hashes, srcs, stop)
    preload = None
    try:
        if cfg.executor == "local" and gather_mode(sources, cfg.gather, cfg.memory_mb) == "memory":
            preload = G.Preload(sources, schema)  # the rows are read while the index is built and the schedule drawn
        return _ordered(cfg, schedule, keys, root, work, hashes, sources, schema, reader_rejects, label, preload, say, info)
    finally:
        stop.set()  # a failed run does not wait for the rest of a large input to be hashed
        hasher.shutdown(wait=True)
        if preload is not None:
            preload.close()


def _ordered(
    cfg: OrderConfig,
    schedule: Any,
    keys: list[SortKey],
    root: Path,
    work: Path,
    hashes: Future[dict[str, str]],
    sources: list[Source],
    schema: Any,
    reader_rejects: list[Any],
    label: str,
    preload: Any,
    say: Any,
    info: dict[str, Any],
) -> dict[str, Any]:
    from curate import __version__
    from curate.order import gather as G
    from curate.order.materialise import baseline as shuffle_baseline
    from curate.order.materialise import paced

    index = build_index(sources, keys, cfg.id_field, cfg.seed, label)
    if index.n == 0:
        raise InputError(
            f"{label} has no row with a usable sort key ({len(index.rejected)} null, NaN or infinite)",
            "check the key column, or pick another with --by",
        )
    say(f"sorted {index.n:,} rows by {', '.join(k.column + (':desc' if k.descending else '') for k in keys)}")
    selected: dict[str, Any] = {}
    if cfg.band is not None:
        from curate.order import select

        index, selected["band"] = select.band(index, sources, cfg.band)
        b = selected["band"]
        say(
            f"--band {b['column']}: kept {b['kept']:,} rows in [{b['lo']:g}, {b['hi']:g}]; {b['below']:,} below, {b['above']:,} above, {b['null']:,} without a value"
        )
    if cfg.mix is not None and cfg.mix_by is not None:
        from curate.order import select

        index, mix_code, mix_w, selected["mix"] = select.mix_groups(index, sources, cfg.mix_by, cfg.mix)

    budget = resolve_budget(index.n, cfg.steps, cfg.batch_size, cfg.num_samples)
    if cfg.stages > budget.steps:
        raise UsageError(f"--stages {cfg.stages} is more than the {budget.steps} steps", "lower --stages or raise --steps")
    seeds = np.random.SeedSequence(cfg.seed).spawn(2)
    plan = Plan(
        index.n,
        budget.samples,
        budget.steps,
        budget.batch_size,
        cfg.params,
        np.random.default_rng(seeds[0]),
        schedule.pacing(budget.steps, cfg.params),
        cfg.exhausted,
    )
    drawn = (schedule.draw or paced)(plan)
    if "mix" in selected:
        from curate.order import select

        drawn = type(drawn)(select.mix(drawn.ranks, index, mix_code, mix_w, budget.batch_size, selected["mix"]), drawn.fraction)
    say(f"{schedule.name}: {budget.samples:,} rows in {budget.steps:,} steps of {budget.batch_size:,}")
    tokens = None
    if cfg.token_budget is not None:
        from curate.order.tokens import token_budget

        tokens = token_budget(cfg.token_budget, cfg.token_decay, budget.steps)
    seq_rows = index.rows[drawn.ranks]
    sequences = [G.Sequence("curriculum", "", seq_rows, drawn.fraction, budget.batch_size, tokens)]
    base_ranks = None
    if cfg.baseline:
        base_ranks = shuffle_baseline(drawn.ranks, np.random.default_rng(seeds[1]))
        sequences.append(G.Sequence("baseline", "baseline/", index.rows[base_ranks], np.ones(budget.steps), budget.batch_size, tokens))

    total_bytes = sum(s.bytes_uncompressed for s in sources)
    bytes_per_row = total_bytes / max(1, sum(s.rows for s in sources))
    rps = cfg.rows_per_shard or (G.shard_rows_for_mb(cfg.shard_size_mb, bytes_per_row) if cfg.shard_size_mb else DEFAULT_ROWS_PER_SHARD)
    specs = [spec for seq in sequences for spec in G.plan_shards(seq, budget.steps, cfg.stages, rps)]

    rank_of: dict[str, np.ndarray] = {"curriculum": drawn.ranks}
    if base_ranks is not None:
        rank_of["baseline"] = base_ranks
    records: dict[str, list[dict[str, Any]]] = {seq.name: [] for seq in sequences}

    def on_shard(spec: G.ShardSpec, rec: dict[str, Any]) -> None:
        ranks = rank_of[spec.seq.name][spec.start : spec.stop]
        describe_shard(spec, rec, budget.batch_size, keys[0].column, index.primary[ranks] if index.primary is not None else None)
        records[spec.seq.name].append(rec)
        say(f"wrote {rec['path']} ({rec['rows']:,} rows)")

    picture = None
    if cfg.plot and index.primary is not None:
        from concurrent.futures import ThreadPoolExecutor

        from curate.order.plot import plot_curriculum

        # Drawn on a thread of its own while the shards are gathered (mostly Arrow code, outside the GIL).
        painter = ThreadPoolExecutor(1)
        picture = painter.submit(
            plot_curriculum,
            root / "curriculum.png",
            index.primary[drawn.ranks],
            index.primary,
            drawn.fraction,
            budget.batch_size,
            cfg.stages,
            f"curate order: {cfg.schedule} schedule, {budget.samples:,} rows in {budget.steps:,} steps of {budget.batch_size:,}",
            keys[0].column,
            index.primary[base_ranks] if base_ranks is not None else None,
        )
        painter.shutdown(wait=False)
    try:
        _gather(cfg, sources, schema, specs, root, work, on_shard, bytes_per_row, preload, say, info)
    except BaseException:
        if picture is not None and not picture.cancel():
            from concurrent.futures import wait

            wait([picture])  # never leave the thread drawing into a folder about to be removed
        raise

    say("shards written")
    rejects = _write_rejects(root, reader_rejects, index, sources, schema)
    if picture is not None:
        picture.result()  # re-raises what drawing raised
        say("picture drawn")
    import polars
    import pyarrow

    config = asdict(cfg)
    for name in ("output", *RUN_ONLY):
        config.pop(name)
    for name, unset in WHEN_SET.items():  # options not used leave the manifest as it was before they existed
        if config[name] == unset or (name == "token_decay" and config["token_budget"] is None):
            config.pop(name)
    config["by"] = [f"{k.column}:{'desc' if k.descending else 'asc'}" for k in keys]
    config["resolved"] = {"samples": budget.samples, "steps": budget.steps, "batch_size": budget.batch_size, "rows_per_shard": rps}
    manifest = {
        "format_version": FORMAT_VERSION,
        "curate_version": __version__,
        "libraries": {"polars": polars.__version__, "pyarrow": pyarrow.__version__, "numpy": np.__version__},
        "inputs": hashes.result(),
        "config": config,
        "schedule": {"name": schedule.name, "formula": schedule.formula},
        "tie_break": f"polars hash of '{cfg.id_field}' (or the row number when absent) with seed {cfg.seed}",
        "rows": {
            "input": index.total_rows + len(reader_rejects),
            "ordered": index.n,
            "quarantined": rejects,
            "read": budget.samples,
            "distinct_read": int(np.count_nonzero(np.bincount(drawn.ranks, minlength=index.n))),
            **selected,
        },
        "columns_added": [f.name for f in G.ADDED] + ([G.TOKENS.name] if tokens is not None else []),
        "files": [p for p in ("curriculum.png", "rejects.jsonl") if (root / p).exists()],
        "sets": {name: {"rows": sum(r["rows"] for r in recs), "shards": recs} for name, recs in records.items()},
    }
    write_manifest(root, manifest)
    return manifest


def _gather(
    cfg: OrderConfig,
    sources: list[Source],
    schema: Any,
    specs: list[Any],
    root: Path,
    work: Path,
    on_shard: Any,
    bytes_per_row: float,
    preload: Any,
    say: Any,
    info: dict[str, Any],
) -> None:
    from curate.order import gather as G

    if cfg.executor == "ray":
        from curate.order.gather_ray import gather_ray

        info["gather"] = "ray"
        say(f"gathering on Ray ({info['executor']['cluster_cpus']} CPUs)")
        gather_ray(sources, schema, specs, root, G.bucket_rows_for(min(_memory_budget(cfg.memory_mb), 4 * BUCKET_MAX), bytes_per_row), on_shard)
    else:
        info["gather"] = gather_local(sources, schema, specs, root, work, on_shard, cfg.gather, cfg.memory_mb, say, preload)


def describe_shard(spec: Any, rec: dict[str, Any], batch_size: int, key: str, values: np.ndarray | None) -> None:
    """A shard's manifest entry: its stage, steps, positions and the first sort key's min/mean/max."""
    rec.update(
        stage=spec.stage, steps=[spec.start // batch_size, max(spec.start, spec.stop - 1) // batch_size], positions=[spec.start, spec.stop - 1]
    )
    if values is not None and len(values):
        rec[key] = {"min": float(values.min()), "mean": float(values.mean()), "max": float(values.max())}


def gather_mode(sources: list[Source], gather: str = "auto", memory_mb: float | None = None) -> str:
    """memory or spill: what `--gather` asks for; for auto, memory when the input fits the budget."""
    if gather != "auto":
        return gather
    total_bytes = sum(s.bytes_uncompressed for s in sources)
    return "memory" if total_bytes * MEMORY_FACTOR <= _memory_budget(memory_mb) else "spill"


def gather_local(
    sources: list[Source],
    schema: Any,
    specs: list[Any],
    root: Path,
    work: Path,
    on_shard: Any,
    gather: str = "auto",
    memory_mb: float | None = None,
    say: Any = None,
    preload: Any = None,
) -> str:
    """Write `specs` from `sources` in this process, in memory or through spill buckets (see curate.order.gather); returns which.

    `preload`: a `gather.Preload` of `sources` started earlier (memory mode only), so the read overlaps other work.
    """
    from curate.order import gather as G

    mode = gather_mode(sources, gather, memory_mb)
    if mode == "memory":
        G.gather_in_memory(sources, schema, specs, root, on_shard, preload=preload)
        return "memory"
    total_bytes = sum(s.bytes_uncompressed for s in sources)
    bytes_per_row = total_bytes / max(1, sum(s.rows for s in sources))
    if say and gather == "auto":
        say(f"input is {total_bytes / 2**20:,.0f} MiB uncompressed, more than the memory budget allows: gathering through spill buckets")
    G.gather_spill(sources, schema, specs, root, work, G.bucket_rows_for(min(_memory_budget(memory_mb), 4 * BUCKET_MAX), bytes_per_row), on_shard)
    return "spill"


def _memory_budget(memory_mb: float | None) -> int:
    return int(memory_mb * 2**20) if memory_mb else _default_memory()


def _default_memory() -> int:
    """Half the memory available now: MemAvailable (free memory plus what the page cache can give back) where Linux tells it."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024 // 2
    except OSError:
        pass
    try:
        avail = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # pragma: no cover
        avail = 4 << 30
    return avail // 2


def _parquet_sources(srcs: list[str], work: Path, id_field: str | None) -> tuple[list[str], list[Any]]:
    """Parquet files are read in place; anything else (JSONL, CSV, stdin, HF folders) is spooled to Parquet once."""
    import pyarrow.parquet as pq

    from curate.io import read_batches
    from curate.io.readers import ReadOptions, _kind

    files: list[str] = []
    rejects: list[Any] = []
    pending: list[Any] = []

    def flush_pending() -> None:
        if not pending:
            return
        for t, rej in read_batches(list(pending), ReadOptions(text_field=None, require_text=False, id_field=id_field, batch_rows=65536)):
            rejects.extend(rej)
            if t.num_rows:
                path = work / f"spool-{len(files):05d}.parquet"
                pq.write_table(t, str(path), compression="lz4")
                files.append(str(path))
        pending.clear()

    for s in srcs:
        if s != "-" and _kind(s) == "parquet":
            flush_pending()
            files.append(s)
        else:
            pending.append(s)
    flush_pending()
    return files, rejects


def _write_rejects(root: Path, reader_rejects: list[Any], index: Index, sources: list[Source], schema: Any) -> int:
    from curate.io import RejectWriter
    from curate.io.readers import Reject
    from curate.order.gather import read_rows

    if not reader_rejects and not index.rejected:
        return 0
    w = RejectWriter(str(root / "rejects.jsonl"))
    w.write(reader_rejects)
    reasons = dict(index.rejected)
    src_of = {r: next(s.path for s in sources if s.offset <= r < s.offset + s.rows) for r in reasons}
    rows = list(read_rows(sources, schema, list(reasons)))
    w.write([Reject(reasons[r], src_of[r], None, row=row) for r, row in zip(sorted(reasons), rows)])
    w.close()
    return w.count
