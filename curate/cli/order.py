"""`curate order`, `curate schedules`, `curate verify`: paced, sharded Parquet and its checks."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from curate.cli._errors import handle
from curate.cli._options import InputArg, RayAddressOpt, SeedOpt, flag, options
from curate.stages.order import OrderOptions as O


def order(
    inputs: InputArg,
    output: Annotated[str, flag(O, "output", "--output", "-o")],
    schedule: Annotated[str, flag(O, "schedule", "--schedule")] = "linear",
    schedule_short: Annotated[Optional[str], typer.Option("-s", hidden=True, help="Old spelling of --schedule.")] = None,
    by: Annotated[Optional[list[str]], flag(O, "by")] = None,
    steps: Annotated[Optional[int], flag(O, "steps")] = None,
    batch_size: Annotated[Optional[int], flag(O, "batch_size")] = None,
    num_samples: Annotated[Optional[int], flag(O, "num_samples")] = None,
    start: Annotated[float, flag(O, "start")] = 0.1,
    full_at: Annotated[float, flag(O, "full_at")] = 1.0,
    k: Annotated[int, flag(O, "k")] = 5,
    warmup: Annotated[float, flag(O, "warmup")] = 0.2,
    p: Annotated[float, flag(O, "p")] = 2.0,
    sigma: Annotated[float, flag(O, "sigma")] = 0.1,
    exhausted: Annotated[str, flag(O, "exhausted")] = "widen",
    stages: Annotated[int, flag(O, "stages")] = 1,
    rows_per_shard: Annotated[Optional[int], flag(O, "rows_per_shard")] = None,
    shard_size_mb: Annotated[Optional[float], flag(O, "shard_size_mb")] = None,
    no_baseline: Annotated[bool, flag(O, "no_baseline")] = False,
    no_plot: Annotated[bool, flag(O, "no_plot")] = False,
    id_field: Annotated[str, flag(O, "id_field")] = "id",
    memory_mb: Annotated[Optional[float], flag(O, "memory_mb")] = None,
    gather: Annotated[str, flag(O, "gather")] = "auto",
    executor: Annotated[str, flag(O, "executor")] = "local",
    ray_address: RayAddressOpt = None,
    seed: SeedOpt = 0,
    band: Annotated[Optional[str], flag(O, "band")] = None,
    mix_by: Annotated[Optional[str], flag(O, "mix_by")] = None,
    mix: Annotated[Optional[str], flag(O, "mix")] = None,
    token_budget: Annotated[Optional[str], flag(O, "token_budget")] = None,
    token_decay: Annotated[str, flag(O, "token_decay")] = "linear",
) -> None:
    """Order scored rows by a pacing schedule into Parquet shards, a random baseline and a manifest.

    Example:

        curate order scored.parquet -o out/ --schedule root --steps 500 --batch-size 32

        curate order scored.parquet -o out/ --band score_pass_rate=0.1:0.9 --mix-by source --mix gsm=0.7,math=0.3 --token-budget 1024:256

        curate order /data/scored/ -o /data/ordered/ --executor ray --ray-address auto
    """
    from curate.cli._output import run_stage

    run_stage("order", options(O, locals(), schedule=schedule_short or schedule))  # the stage reports what it wrote


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
    if r.get("note"):
        info(f"[dim]{r['note']}[/]")
    info(f"[green]✓[/] {r['shards']} shard(s) match {folder}/manifest.json ({', '.join(f'{k}: {v:,} rows' for k, v in r['rows'].items())})")
    rev = r.get("revision")
    if rev:
        against = "the parent's" if rev.get("parent", "not found") != "not found" else "the recorded digest (parent folder not found)"
        info(f"[green]✓[/] revision {rev['revision']}: the first {rev['prefix_rows']:,} rows match {against}; no dropped row is read after them")


def register(app: typer.Typer) -> None:
    app.command("order")(handle(order))
    app.command("schedules")(handle(schedules))
    app.command("verify")(handle(verify))
