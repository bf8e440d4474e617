"""`curate order`, `curate schedules`, `curate verify`: paced, sharded Parquet and its checks."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from curate.cli._errors import handle
from curate.cli._options import InputArg, RayAddressOpt, SeedOpt

# Not the shared ExecutorOpt: `order` has no process pool; locally it gathers in this process.
ExecutorOpt = Annotated[str, typer.Option("--executor", help="Where shards are gathered and written: local (this process) or ray (Ray tasks; --gather is for local).")]
ByOpt = Annotated[Optional[list[str]], typer.Option("--by", help="Sort key column, easiest first; repeat for ties; add ':desc' to reverse (e.g. --by score_length_words:desc). Default: difficulty.")]


def order(
    inputs: InputArg,
    output: Annotated[str, typer.Option("--output", "-o", help="Output folder: shards, baseline/, manifest.json, curriculum.png.")],
    schedule: Annotated[str, typer.Option("--schedule", "-s", help="Pacing schedule (see `curate schedules`).")] = "linear",
    by: ByOpt = None,
    steps: Annotated[Optional[int], typer.Option("--steps", help="T: training steps (default: one pass in up to 1,000 steps).")] = None,
    batch_size: Annotated[Optional[int], typer.Option("--batch-size", help="B: rows per step.")] = None,
    num_samples: Annotated[Optional[int], typer.Option("--num-samples", help="S: rows to read in total (default: one pass, N).")] = None,
    start: Annotated[float, typer.Option("--start", help="b: fraction of the sorted data available at the first step.")] = 0.1,
    full_at: Annotated[float, typer.Option("--full-at", help="a: fraction of the budget after which all data is available.")] = 1.0,
    k: Annotated[int, typer.Option("--k", help="K: baby steps (step), bins (interleaved), cycles (cyclical).")] = 5,
    warmup: Annotated[float, typer.Option("--warmup", help="W: fraction of the budget read in curriculum order (warmup).")] = 0.2,
    p: Annotated[float, typer.Option("--p", help="p of the p-root competence function (root; 2 = sqrt).")] = 2.0,
    sigma: Annotated[float, typer.Option("--sigma", help="Width of the moving target in difficulty quantiles (gaussian).")] = 0.1,
    exhausted: Annotated[str, typer.Option("--exhausted", help="When a step's pool has no unread rows left: 'widen' (take the next-easiest; no repeats, no loss) or 'repeat' (start a new round over the pool).")] = "widen",
    stages: Annotated[int, typer.Option("--stages", min=1, help="Write stage-0/ … stage-K-1/ (equal runs of steps) for stage-wise training.")] = 1,
    rows_per_shard: Annotated[Optional[int], typer.Option("--rows-per-shard", min=1, help="Rows per shard (rounded down to whole steps; default 100,000).")] = None,
    shard_size_mb: Annotated[Optional[float], typer.Option("--shard-size-mb", help="Approximate uncompressed MB per shard, instead of --rows-per-shard.")] = None,
    no_baseline: Annotated[bool, typer.Option("--no-baseline", help="Do not write the seeded random-order baseline/.")] = False,
    no_plot: Annotated[bool, typer.Option("--no-plot", help="Do not draw curriculum.png.")] = False,
    id_field: Annotated[str, typer.Option("--id-field", help="Row id column; its hash with --seed breaks ties.")] = "id",
    memory_mb: Annotated[Optional[float], typer.Option("--memory-mb", min=0.001, help="Memory budget for gathering rows (default: half the free memory); larger inputs spill to disk.")] = None,
    gather: Annotated[str, typer.Option("--gather", help="How rows are gathered into shards: auto, memory (read the input once, whole) or spill (bucketed, bounded memory).")] = "auto",
    executor: ExecutorOpt = "local",
    ray_address: RayAddressOpt = None,
    seed: SeedOpt = 0,
) -> None:
    """Order scored rows by a pacing schedule into Parquet shards, a random baseline and a manifest.

    Example:

        curate order scored.parquet -o out/ --schedule root --steps 500 --batch-size 32

        curate order /data/scored/ -o /data/ordered/ --executor ray --ray-address auto
    """
    from curate.cli._output import info
    from curate.order import OrderConfig, Params
    from curate.order import order as run

    cfg = OrderConfig(
        inputs=inputs, output=output, schedule=schedule, by=by or ["difficulty"],
        params=Params(start=start, full_at=full_at, k=k, warmup=warmup, p=p, sigma=sigma),
        steps=steps, batch_size=batch_size, num_samples=num_samples, exhausted=exhausted, seed=seed, stages=stages,
        rows_per_shard=rows_per_shard, shard_size_mb=shard_size_mb, baseline=not no_baseline, plot=not no_plot,
        id_field=id_field, memory_mb=memory_mb, gather=gather, executor="ray" if ray_address else executor, executor_address=ray_address,
    )
    how: dict = {}
    m = run(cfg, run_info=how)
    cur = m["sets"]["curriculum"]
    c = m["config"]["resolved"]
    info(
        f"[green]✓[/] {cur['rows']:,} rows in {c['steps']:,} steps of {c['batch_size']:,} → {len(cur['shards'])} shard(s) in {output}"
        + (f", baseline/ ({len(m['sets']['baseline']['shards'])} shard(s))" if "baseline" in m["sets"] else "")
        + (f"; {m['rows']['quarantined']:,} row(s) quarantined in rejects.jsonl" if m["rows"]["quarantined"] else "")
        + _gathered(how)
    )


def _gathered(how: dict) -> str:
    if how.get("gather") == "ray":
        ex = how["executor"]
        return f"; gathered on Ray ({ex['address']}, {ex['cluster_cpus']} CPUs)"
    return f"; gathered {'in memory' if how.get('gather') == 'memory' else 'through spill buckets'}"


def schedules() -> None:
    """List the pacing schedules with their formulas (name<TAB>formula on stdout).

    Example:  curate schedules
    """
    from curate.order import SCHEDULES, get_schedule

    for name in SCHEDULES.names():
        typer.echo(f"{name}\t{get_schedule(name).formula}")


def verify(folder: Annotated[str, typer.Argument(help="A folder written by `curate order`.")]) -> None:
    """Check a shard set against its manifest.json: exit 6 naming any missing, truncated or altered shard.

    Example:  curate verify out/
    """
    from curate.cli._output import info
    from curate.order import verify as check

    r = check(folder)
    info(f"[green]✓[/] {r['shards']} shard(s) match {folder}/manifest.json ({', '.join(f'{k}: {v:,} rows' for k, v in r['rows'].items())})")


def register(app: typer.Typer) -> None:
    app.command("order")(handle(order))
    app.command("schedules")(handle(schedules))
    app.command("verify")(handle(verify))
