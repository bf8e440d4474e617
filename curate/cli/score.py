"""`curate score` and `curate signals`."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from curate.cli._errors import handle
from curate.cli._options import (
    EngineOpt,
    EngineTimeoutOpt,
    EngineUrlOpt,
    ExecutorOpt,
    FormatOpt,
    InputArg,
    MaxRejectRateOpt,
    ModelOpt,
    NoCacheOpt,
    OutputOpt,
    RayAddressOpt,
    RayEngineCpusOpt,
    RayEnginesOpt,
    RejectsOpt,
    RowsPerShardOpt,
    SeedOpt,
    SummaryJsonOpt,
    flag,
    options,
)
from curate.defaults import DEFAULT_SIGNALS
from curate.stages.score import ScoreOptions as O


@handle
def score_cmd(
    inputs: InputArg,
    output: OutputOpt = "-",
    signals: Annotated[list[str], flag(O, "signals", "--signals", "-s")] = list(DEFAULT_SIGNALS),
    text_field: Annotated[str, flag(O, "text_field")] = "text",
    id_field: Annotated[str, flag(O, "id_field")] = "id",
    weight: Annotated[list[str], flag(O, "weight")] = [],
    direction: Annotated[list[str], flag(O, "direction")] = [],
    fmt: FormatOpt = None,
    rows_per_shard: RowsPerShardOpt = 100_000,
    rejects: RejectsOpt = None,
    max_reject_rate: MaxRejectRateOpt = None,
    summary_json: SummaryJsonOpt = None,
    workers: Annotated[Optional[int], flag(O, "workers", "--workers", "-j")] = None,
    executor: ExecutorOpt = "local",
    ray_address: RayAddressOpt = None,
    ray_engines: RayEnginesOpt = 1,
    ray_engine_cpus: RayEngineCpusOpt = 1.0,
    batch_rows: Annotated[int, flag(O, "batch_rows")] = 2048,
    max_text_chars: Annotated[int, flag(O, "max_text_chars")] = 1_000_000,
    k: Annotated[int, flag(O, "k")] = 8,
    pass_at: Annotated[list[int], flag(O, "pass_at")] = [],
    adaptive: Annotated[bool, flag(O, "adaptive")] = False,
    answer_field: Annotated[str, flag(O, "answer_field")] = "answer",
    task_type_field: Annotated[str, flag(O, "task_type_field")] = "task_type",
    max_tokens: Annotated[int, flag(O, "max_tokens")] = 256,
    temperature: Annotated[float, flag(O, "temperature")] = 0.7,
    engine: EngineOpt = "vllm",
    engine_url: EngineUrlOpt = None,
    model: ModelOpt = None,
    no_cache: NoCacheOpt = False,
    engine_timeout: EngineTimeoutOpt = None,
    allow_engine_failures: Annotated[Optional[float], flag(O, "allow_engine_failures")] = None,
    row_store: Annotated[Optional[str], flag(O, "row_store")] = None,
    predictor: Annotated[Optional[str], flag(O, "predictor")] = None,
    calibrate_on: Annotated[Optional[str], flag(O, "calibrate_on")] = None,
    calibrate_direction: Annotated[Optional[str], flag(O, "calibrate_direction")] = None,
    only_ids: Annotated[Optional[str], flag(O, "only_ids")] = None,
    seed: SeedOpt = 0,
) -> None:
    """Add difficulty signals and a composite `difficulty` in [0, 1] to every row.

    Example:

        curate score sample_data/ -o scored.parquet

        cat data.jsonl | curate score - | head

        curate score data.jsonl -s pass_rate -s length --k 8 -o scored.parquet

        curate score big/ -o scored/ --executor ray --ray-address auto

        curate score scored.parquet -s predicted --predictor model/ -o predicted.parquet
    """
    from curate.cli._output import run_stage
    from curate.cli._summary import print_summary, write_summary_json

    opts = options(O, locals())
    summary = run_stage("score", opts)
    data = summary.to_json()
    print_summary("score", data)
    if summary_json:
        write_summary_json(summary_json, data)
    summary.check_gates(max_reject_rate)


@handle
def signals_cmd() -> None:
    """List the available signals: columns, direction and definition.

    Example:

        curate signals
    """
    from rich.console import Console
    from rich.table import Table

    from curate.signals import SIGNALS, column_name

    table = Table(title="curate signals", show_lines=True)
    table.add_column("signal", style="bold")
    table.add_column("kind")
    table.add_column("columns (direction, in composite)")
    table.add_column("definition")
    for name in SIGNALS.names():
        cls = SIGNALS.get(name)
        cols = "\n".join(
            f"{column_name(name, c.part)} ({c.direction or 'info'}{', composite' if c.composite and c.direction else ''})" for c in cls.columns
        )
        table.add_row(name, cls.kind, cols, cls.description)
    Console().print(table)


def register(app: typer.Typer) -> None:
    app.command("score")(score_cmd)
    app.command("signals")(signals_cmd)
