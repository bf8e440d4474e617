"""`curate score` and `curate signals`."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from curate.cli._errors import handle
from curate.defaults import DEFAULT_SIGNALS
from curate.cli._options import (
    check_ray_options,
    EngineOpt,
    EngineUrlOpt,
    ExecutorOpt,
    FormatOpt,
    IdFieldOpt,
    InputArg,
    MaxRejectRateOpt,
    ModelOpt,
    NoCacheOpt,
    OutputOpt,
    RayAddressOpt,
    RayEnginesOpt,
    RayEngineCpusOpt,
    RejectsOpt,
    RowsPerShardOpt,
    SeedOpt,
    SummaryJsonOpt,
    TextFieldOpt,
    WorkersOpt,
)

SignalsOpt = Annotated[
    list[str],
    typer.Option("--signals", "-s", help="Signals to compute (repeat or comma-separate). See `curate signals`."),
]
WeightOpt = Annotated[list[str], typer.Option("--weight", help="Composite weight, SIGNAL=W or COLUMN=W (repeatable). Default: 1 per signal.")]
DirectionOpt = Annotated[
    list[str], typer.Option("--direction", help="Override a direction, SIGNAL=higher-is-harder|lower-is-harder (repeatable).")
]


def _pairs(values: list[str], flag: str) -> dict[str, str]:
    from curate.errors import UsageError

    out = {}
    for v in values:
        if "=" not in v:
            raise UsageError(f"{flag} expects NAME=VALUE, got '{v}'", f"e.g. {flag} readability=2")
        k, _, val = v.partition("=")
        out[k.strip()] = val.strip()
    return out


@handle
def score_cmd(
    inputs: InputArg,
    output: OutputOpt = "-",
    signals: SignalsOpt = list(DEFAULT_SIGNALS),
    text_field: TextFieldOpt = "text",
    id_field: IdFieldOpt = "id",
    weight: WeightOpt = [],
    direction: DirectionOpt = [],
    fmt: FormatOpt = None,
    rows_per_shard: RowsPerShardOpt = 100_000,
    rejects: RejectsOpt = None,
    max_reject_rate: MaxRejectRateOpt = None,
    summary_json: SummaryJsonOpt = None,
    workers: WorkersOpt = None,
    executor: ExecutorOpt = "local",
    ray_address: RayAddressOpt = None,
    ray_engines: RayEnginesOpt = 1,
    ray_engine_cpus: RayEngineCpusOpt = 1.0,
    batch_rows: Annotated[int, typer.Option("--batch-rows", min=1, help="Rows per batch.")] = 2048,
    max_text_chars: Annotated[int, typer.Option("--max-text-chars", min=1, help="Longer texts are quarantined.")] = 1_000_000,
    k: Annotated[int, typer.Option("--k", min=1, help="pass_rate: samples per row.")] = 8,
    pass_at: Annotated[list[int], typer.Option("--pass-at", help="pass_rate: also report unbiased pass@j (repeatable).")] = [],
    adaptive: Annotated[bool, typer.Option("--adaptive", help="pass_rate: stop sampling a row once its bucket is decided.")] = False,
    answer_field: Annotated[str, typer.Option("--answer-field", help="pass_rate: column with the reference answer.")] = "answer",
    task_type_field: Annotated[str, typer.Option("--task-type-field", help="pass_rate: column choosing the verifier.")] = "task_type",
    max_tokens: Annotated[int, typer.Option("--max-tokens", min=1, help="pass_rate: tokens per sampled answer.")] = 256,
    temperature: Annotated[float, typer.Option("--temperature", min=0.0, help="pass_rate: sampling temperature.")] = 0.7,
    engine: EngineOpt = "vllm",
    engine_url: EngineUrlOpt = None,
    model: ModelOpt = None,
    no_cache: NoCacheOpt = False,
    row_store: Annotated[
        Optional[str], typer.Option("--row-store", help="SQLite file of per-row scores: reruns reuse unchanged rows and only compute new ones.")
    ] = None,
    seed: SeedOpt = 0,
) -> None:
    """Add difficulty signals and a composite `difficulty` in [0, 1] to every row.

    Example:

        curate score sample_data/ -o scored.parquet

        cat data.jsonl | curate score - | head

        curate score data.jsonl -s pass_rate -s length --k 8 -o scored.parquet

        curate score big/ -o scored/ --executor ray --ray-address auto
    """
    from curate.cli._output import info, progress
    from curate.cli._summary import print_summary, write_summary_json
    from curate.engines.base import EngineConfig
    from curate.io import Format
    from curate.io.readers import expand_inputs
    from curate.score import ScoreOptions, estimate_rows, score

    weights = {k_: float(v) for k_, v in _pairs(weight, "--weight").items()}
    opts = ScoreOptions(
        signals=signals,
        text_field=text_field,
        id_field=id_field,
        output=output,
        format=Format(fmt.value) if fmt else None,
        rows_per_shard=rows_per_shard,
        rejects=rejects,
        weights=weights,
        directions=_pairs(direction, "--direction"),
        workers=workers,
        batch_rows=batch_rows,
        max_text_chars=max_text_chars,
        signal_options={
            "k": k,
            "pass_at": list(pass_at),
            "adaptive": adaptive,
            "answer_field": answer_field,
            "task_type_field": task_type_field,
            "max_tokens": max_tokens,
            "temperature": temperature,
            "seed": seed,
        },
        engine=EngineConfig(engine="openai" if engine_url else engine, model=model, url=engine_url, cache=not no_cache, seed=seed),
        row_store=row_store,
        executor=check_ray_options(executor, ray_address, ray_engines, ray_engine_cpus),
        executor_address=ray_address,
        engine_actors=ray_engines,
        engine_cpus=ray_engine_cpus,
        seed=seed,
    )
    total = estimate_rows(expand_inputs(inputs))
    with progress("scoring", total=total) as bar:
        summary = score(inputs, opts, on_progress=lambda n: bar.update(n))
    print_summary("score", summary.as_dict())
    if summary_json:
        write_summary_json(summary_json, summary.as_dict())
    if summary.rejects_path:
        info(f"quarantined rows: {summary.rejects_path}")
    summary.check_reject_rate(max_reject_rate)


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
