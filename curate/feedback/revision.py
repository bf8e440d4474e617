"""`feedback()`: an ordered folder + training observations → a revision folder, re-planned from step S on.

The revision is written with `curate.order`'s own shard code (`plan_shards`, `gather_local`,
`describe_shard`, `write_manifest`), from the parent's shards: positions [0, S·B) are the
parent's positions in the parent's order, so those rows — and, with the same shard layout,
every shard that lies wholly before S — are byte for byte the parent's. The baseline keeps the
parent baseline's first S·B rows too (its trainer has read them) and shuffles the re-planned rest.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from curate.errors import InputError, UsageError
from curate.feedback.posterior import match, prior, update
from curate.feedback.replan import Replanned, Strategies, replan
from curate.feedback.rows import PASSES, SAMPLES, OrderedRun, load_ordered
from curate.feedback.stats import (
    LossSuccess,
    OutcomeOptions,
    StatsReport,
    load_observations,
)


@dataclass
class FeedbackConfig:
    ordered: str
    stats: str
    step: int
    output: str
    drop_mastered: str | None = None
    band: str | None = None
    ucb_by: str | None = None
    ucb_temperature: float = 0.1
    prior_column: str | None = None
    prior_strength: float = 2.0
    predictor: str | None = None  # a `curate fit` model folder: its prediction is the prior of rows without a measured pass rate
    reward_threshold: float | None = None
    loss_success: str = "rank"
    id_field: str | None = None
    baseline: bool = True
    plot: bool = True
    seed: int | None = None  # default: the parent's


@dataclass
class FeedbackResult:
    manifest: dict[str, Any]
    report: StatsReport
    replanned: Replanned
    seconds: float = 0.0
    gathered: str = ""
    notes: list[str] = field(default_factory=list)


def feedback(cfg: FeedbackConfig, log: Any = None) -> FeedbackResult:
    """Write the revision of `cfg.ordered` re-planned from `cfg.step` into `cfg.output`; return what was done."""
    from curate.order.run import check_destination, move_into_place

    say = log or (lambda msg: None)
    t0 = time.perf_counter()
    strat = Strategies.parse(cfg.drop_mastered, cfg.band, cfg.ucb_by, cfg.ucb_temperature)
    outcomes = OutcomeOptions(cfg.reward_threshold, LossSuccess.parse(cfg.loss_success))
    if cfg.prior_strength < 0:
        raise UsageError(f"--prior-strength must be ≥ 0 (got {cfg.prior_strength})")
    src, out = Path(cfg.ordered).resolve(), Path(cfg.output).resolve()
    if src == out or src in out.parents:
        raise UsageError(f"-o {cfg.output} is the parent folder or inside it", "write the revision to a new folder beside the parent")
    run = load_ordered(src, [c for c in (PASSES, SAMPLES, cfg.prior_column, cfg.ucb_by, *(k.column for k in _keys(src))) if c], cfg.id_field)
    if cfg.ucb_by and cfg.ucb_by not in run.columns:
        raise UsageError(
            f"--ucb-by {cfg.ucb_by}: the rows in '{src}' have no column '{cfg.ucb_by}'", "pick a column the ordered rows carry (e.g. source)"
        )
    if not 0 <= cfg.step < run.steps:
        raise UsageError(
            f"--step {cfg.step} is outside the run's steps 0…{run.steps - 1}"
            if cfg.step < 0 or cfg.step > run.steps
            else f"--step {cfg.step} is the end of the run ({run.steps} steps): nothing is left to re-plan",
            "pass the number of steps the trainer has completed",
        )
    check_destination(out)
    at = cfg.step * run.batch_size
    say(f"read {run.positions:,} positions ({run.rows:,} rows) of {src}; the trainer has read {at:,}")

    obs, report = load_observations(cfg.stats, _stats_id(cfg.stats, run.id_field), outcomes)
    _check_steps(obs, cfg.step, run.steps, cfg.stats)
    predicted = None
    if cfg.predictor:
        from curate.feedback.posterior import predict

        predicted = predict(run, cfg.predictor)
    post = prior(run, cfg.prior_column, cfg.prior_strength, predicted)
    rows, known = match(obs, run, report)
    update(post, rows, known, report)
    if report.used == 0:
        raise InputError(
            f"no usable observation in '{cfg.stats}' ({_ignored(report)})", "check the ids and the outcome columns (see docs/feedback.md)"
        )
    seed = run.seed if cfg.seed is None else cfg.seed
    res = replan(run, np.arange(run.positions, dtype=np.int64), at, post, strat, seed, salt=run.revision + 1)
    say(f"re-planned {res.counts['remaining_reads']:,} unread position(s) → {res.counts['kept_reads']:,}")

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".curate-feedback-", dir=str(out.parent)))
    try:
        (tmp / "work").mkdir()
        (tmp / "out").mkdir()
        manifest, gathered = _write(run, cfg, res, post, report, strat, seed, tmp, out, say)
        move_into_place(tmp / "out", out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return FeedbackResult(manifest, report, res, time.perf_counter() - t0, gathered)


def _keys(folder: Path) -> list[Any]:
    import json

    from curate.order.index import SortKey

    try:
        by = json.loads((folder / "manifest.json").read_text())["config"].get("by") or ["difficulty"]
    except (OSError, ValueError, KeyError, TypeError):
        return []
    return [SortKey.parse(k) for k in by]


def _stats_id(path: str, id_field: str) -> str:
    """The stats' id column: the ordered rows' id field when the stats have it, else `id`."""
    if id_field == "id":
        return "id"
    try:
        from curate.feedback.stats import read_stats

        frame, _ = read_stats(path)
    except InputError:
        return id_field
    return id_field if id_field in frame.columns else "id"


def _check_steps(obs: Any, step: int, steps: int, path: str) -> None:
    """Observations from step S or later mean the trainer read past S: re-planning from S would change rows it has read."""
    import polars as pl

    late = obs.filter(pl.col("step") >= step)
    if late.is_empty():
        return
    hi = int(late["step"].max())
    if hi >= steps:
        raise InputError(
            f"'{path}' has {late.height:,} observation(s) at steps ≥ {step}, up to step {hi} — past the run's {steps} steps",
            "these stats are from another run or another curriculum; pass the stats of this one",
        )
    raise InputError(
        f"'{path}' has {late.height:,} observation(s) at steps ≥ --step {step} (up to step {hi}): the trainer has read past step {step}",
        f"pass --step {hi + 1} (the steps it has completed), so the rows it read are kept as they are",
    )


def _ignored(report: StatsReport) -> str:
    parts = [f"{report.rows:,} row(s)"]
    if report.unknown_ids:
        parts.append(f"{report.unknown_ids:,} with ids not in the curriculum (e.g. {', '.join(report.unknown_examples)})")
    if report.malformed:
        parts.append(f"{report.malformed:,} malformed")
    parts += [f"{n:,} {reason}" for reason, n in sorted(report.invalid.items())]
    if report.contradictory:
        parts.append(f"{report.contradictory:,} contradictory")
    if report.duplicates:
        parts.append(f"{report.duplicates:,} duplicate")
    return "; ".join(parts)


def _write(
    run: OrderedRun, cfg: FeedbackConfig, res: Replanned, post: Any, report: StatsReport, strat: Strategies, seed: int, tmp: Path, out: Path, say: Any
) -> tuple[dict[str, Any], str]:
    import polars
    import pyarrow
    import pyarrow.parquet as pq

    from curate import __version__
    from curate.io import input_hashes
    from curate.order import gather as G
    from curate.order.index import describe_sources, unified_schema
    from curate.order.manifest import write_manifest
    from curate.order.materialise import baseline as shuffle
    from curate.order.revision import POSTERIOR, prefix_digest
    from curate.order.run import describe_shard, gather_local
    from curate.order.tokens import token_budget

    root, work = tmp / "out", tmp / "work"
    b, at = run.batch_size, res.at
    parent_m = run.manifest
    cfg_p = parent_m["config"]
    files = list(run.shards) + (list(run.baseline_shards) if cfg.baseline else [])
    sources = describe_sources(files)
    schema = unified_schema(sources)
    steps = -(-len(res.plan) // b)
    tokens = token_budget(run.token_budget["spec"], run.token_budget["decay"], run.schedule_steps)[:steps] if run.token_budget else None
    seqs = [G.Sequence("curriculum", "", res.plan, res.fraction, b, tokens)]
    rng = np.random.default_rng(np.random.SeedSequence([seed, run.revision + 1, at, 1]))
    base_rows = None
    if cfg.baseline and run.baseline_shards:
        tail = res.plan[at:]
        base_rows = np.concatenate([run.positions + np.arange(at, dtype=np.int64), shuffle(tail, rng)])
        seqs.append(G.Sequence("baseline", "baseline/", base_rows, np.ones(steps), b, tokens))
    rps = int(cfg_p["resolved"].get("rows_per_shard") or 100_000)
    stages = int(cfg_p.get("stages") or 1)
    specs = [s for seq in seqs for s in G.plan_shards(seq, run.steps, stages, rps) if s.stop > s.start or len(seq.rows) == 0]
    key = run.keys[0].column if run.keys else "difficulty"
    key_vals = _column_values(files, key)
    records: dict[str, list[dict[str, Any]]] = {s.name: [] for s in seqs}

    def on_shard(spec: G.ShardSpec, rec: dict[str, Any]) -> None:
        vals = key_vals[spec.seq.rows[spec.start : spec.stop]] if key_vals is not None else None
        describe_shard(spec, rec, b, key, vals)
        records[spec.seq.name].append(rec)
        say(f"wrote {rec['path']} ({rec['rows']:,} rows)")

    gathered = gather_local(sources, schema, specs, root, work, on_shard, say=say)

    # every row's posterior, and what the re-plan did with it
    a0, b0 = post.alpha0, post.beta0
    pq.write_table(
        pyarrow.table(
            {
                "id": pyarrow.array([str(i) for i in run.ids.tolist()], pyarrow.string()),
                "prior_alpha": a0,
                "prior_beta": b0,
                "successes": post.s,
                "trials": post.m,
                "alpha": post.alpha,
                "beta": post.beta,
                "mean": post.mean,
                "status": pyarrow.array(res.status.astype(str).tolist(), pyarrow.string()),
            }
        ),
        str(root / POSTERIOR),
        compression="zstd",
    )
    prefix_cur, _ = prefix_digest([root / r["path"] for r in records["curriculum"]], at)
    prefix_base = prefix_digest([root / r["path"] for r in records["baseline"]], at)[0] if "baseline" in records else None
    if cfg.plot and key_vals is not None:
        from curate.order.plot import plot_curriculum

        all_vals = key_vals[: run.positions]
        plot_curriculum(
            root / "curriculum.png",
            key_vals[res.plan],
            all_vals,
            res.fraction,
            b,
            stages,
            f"curate feedback: revision {run.revision + 1}, re-planned from step {cfg.step:,}",
            key,
            key_vals[base_rows] if base_rows is not None else None,
        )
    from curate.order.gather import sha256_file

    manifest = {k: v for k, v in parent_m.items() if k not in ("revision", "parent", "feedback")}
    manifest["curate_version"] = __version__
    manifest["libraries"] = {"polars": polars.__version__, "pyarrow": pyarrow.__version__, "numpy": np.__version__}
    manifest["config"] = {**cfg_p, "resolved": {**cfg_p["resolved"], "samples": len(res.plan), "steps": steps, "schedule_steps": run.schedule_steps}}
    rows = dict(parent_m.get("rows") or {})
    rows.update(read=len(res.plan), distinct_read=len(np.unique(run.pos_row[res.plan])))
    manifest["rows"] = rows
    manifest["files"] = [p for p in ("curriculum.png", POSTERIOR) if (root / p).exists()]
    manifest["sets"] = {name: {"rows": sum(r["rows"] for r in recs), "shards": recs} for name, recs in records.items()}
    manifest["revision"] = run.revision + 1
    manifest["parent"] = run.manifest_sha256
    stats_hash = input_hashes([cfg.stats])[cfg.stats]
    manifest["feedback"] = {
        "step": cfg.step,
        "position": at,
        "parent_folder": os.path.relpath(run.folder, out),
        "parent_revision": run.revision,
        "stats": {"path": cfg.stats, "sha256": stats_hash.removeprefix("sha256:"), **_report_json(report)},
        "strategies": strat.describe(),
        "prior": {
            "rows": post.prior_source,
            "column": cfg.prior_column,
            "predictor": cfg.predictor,
            "strength": cfg.prior_strength if cfg.prior_column or cfg.predictor else None,
        },
        "outcomes": {"reward_threshold": cfg.reward_threshold, "loss_success": report.loss_success},
        "counts": res.counts,
        "shares": res.mixture,
        "posterior": {"path": POSTERIOR, "sha256": sha256_file(root / POSTERIOR), "rows": run.rows},
        "prefix": {"steps": cfg.step, "rows": at, "sha256": prefix_cur, "baseline_sha256": prefix_base},
        "seed": seed,
    }
    write_manifest(root, manifest)
    return manifest, gathered


def _report_json(report: StatsReport) -> dict[str, Any]:
    d = report.as_dict()
    d.pop("source", None)
    return d


def _column_values(files: list[str], column: str) -> np.ndarray | None:
    """`column` for every row of `files` (in order) as floats, when it is numeric."""
    import polars as pl

    try:
        s = pl.scan_parquet(files).select(column).collect()[column]
    except pl.exceptions.ColumnNotFoundError:  # shard entries then go without key statistics
        return None
    return s.cast(pl.Float64).to_numpy() if s.dtype.is_numeric() else None
