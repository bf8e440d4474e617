"""`curate synthesize`: new, verified problems from scored data (defect-aware or difficulty ladders)."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Optional

import typer

from curate.cli._errors import handle
from curate.cli._options import (
    EngineOpt,
    EngineTimeoutOpt,
    FormatOpt,
    InputArg,
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
from curate.stages.synthesize import SynthesizeOptions as O


class ModeOpt(str, Enum):
    defect = "defect"
    ladder = "ladder"
    hint = "hint"
    numeric = "numeric"


class KeepOpt(str, Enum):
    smallest_learnable = "smallest-learnable"
    all = "all"


class PolicyOpt(str, Enum):
    drop = "drop"
    relabel = "relabel"


def synthesize_cmd(
    input: InputArg,
    output: OutputOpt = "-",
    mode: Annotated[ModeOpt, flag(O, "mode")] = ModeOpt.ladder,
    generator_model: Annotated[Optional[str], flag(O, "generator_model")] = None,
    target_model: Annotated[Optional[str], flag(O, "target_model")] = None,
    generator_engine_url: Annotated[Optional[str], flag(O, "generator_engine_url")] = None,
    target_engine_url: Annotated[Optional[str], flag(O, "target_engine_url")] = None,
    critic_model: Annotated[Optional[str], flag(O, "critic_model")] = None,
    engine: EngineOpt = "vllm",
    rounds: Annotated[int, flag(O, "rounds")] = 1,
    per_seed: Annotated[int, flag(O, "per_seed")] = 2,
    critic_rounds: Annotated[int, flag(O, "critic_rounds")] = 2,
    max_pass_rate: Annotated[float, flag(O, "max_pass_rate")] = 0.5,
    seed_bucket: Annotated[list[str], flag(O, "seed_bucket")] = ["frontier"],  # noqa: B006
    seed_max_pass_rate: Annotated[float, flag(O, "seed_max_pass_rate")] = 0.5,
    max_seeds: Annotated[Optional[int], flag(O, "max_seeds")] = None,
    harder: Annotated[int, flag(O, "harder", "--harder", "-L")] = 2,
    easier: Annotated[int, flag(O, "easier", "--easier", "-E")] = 1,
    monotonic: Annotated[PolicyOpt, flag(O, "monotonic")] = PolicyOpt.drop,
    monotonic_margin: Annotated[float, flag(O, "monotonic_margin")] = 0.0,
    fractions: Annotated[Optional[list[str]], flag(O, "fractions")] = None,
    keep: Annotated[KeepOpt, flag(O, "keep")] = KeepOpt.smallest_learnable,
    variants: Annotated[int, flag(O, "variants")] = 2,
    harder_digits: Annotated[int, flag(O, "harder_digits")] = 1,
    sc_samples: Annotated[int, flag(O, "sc_samples")] = 4,
    sc_min: Annotated[Optional[int], flag(O, "sc_min")] = None,
    k: Annotated[int, flag(O, "k")] = 4,
    json_retries: Annotated[int, flag(O, "json_retries")] = 2,
    no_structured: Annotated[bool, flag(O, "no_structured")] = False,
    max_tokens: Annotated[int, flag(O, "max_tokens")] = 384,
    solve_max_tokens: Annotated[int, flag(O, "solve_max_tokens")] = 256,
    decontaminate: Annotated[Optional[list[str]], flag(O, "decontaminate")] = None,
    ngram: Annotated[int, flag(O, "ngram")] = 8,
    near_dup_threshold: Annotated[float, flag(O, "near_dup_threshold")] = 0.8,
    append: Annotated[bool, flag(O, "append")] = False,
    text_field: Annotated[str, flag(O, "text_field")] = "text",
    answer_field: Annotated[str, flag(O, "answer_field")] = "answer",
    id_field: Annotated[str, flag(O, "id_field")] = "id",
    task_type_field: Annotated[str, flag(O, "task_type_field")] = "task_type",
    task_field: Annotated[Optional[str], typer.Option("--task-field", hidden=True, help="Old spelling of --task-type-field.")] = None,
    solution_field: Annotated[str, flag(O, "solution_field")] = "solution",
    prompts_dir: Annotated[Optional[str], flag(O, "prompts_dir")] = None,
    fmt: FormatOpt = None,
    rows_per_shard: RowsPerShardOpt = 100_000,
    rejects: RejectsOpt = None,
    summary_json: SummaryJsonOpt = None,
    seed: SeedOpt = 0,
    no_cache: NoCacheOpt = False,
    engine_timeout: EngineTimeoutOpt = None,
    executor: Annotated[
        str, typer.Option("--executor", help="Where model calls run: local (engines in this process) or ray (engine actors on a Ray cluster).")
    ] = "local",
    ray_address: RayAddressOpt = None,
    ray_engines: RayEnginesOpt = 1,
    ray_engine_cpus: RayEngineCpusOpt = 1.0,
) -> None:
    """Write new, verified problems with lineage: harder/easier variants per row (ladder) or problems the target fails (defect).

    Example:

        curate synthesize scored.jsonl --mode ladder -L 2 -E 1 -o synth.jsonl

        curate synthesize scored.parquet --mode defect -o new.jsonl --executor ray --ray-engines 4

        curate synthesize scored.jsonl --mode hint --fractions 0.5,n-1,1 -o hints.jsonl

        curate synthesize scored.jsonl --mode numeric --variants 2 --harder-digits 1 -o numeric.jsonl
    """
    from curate.cli._output import err_console, run_stage
    from curate.cli._summary import write_summary_json
    from curate.synth.funnel import render_table

    values = dict(locals(), inputs=input, mode=mode.value, monotonic=monotonic.value, keep=keep.value)
    if task_field is not None:
        values["task_type_field"] = task_field
    summary = run_stage("synthesize", options(O, values))
    details = summary.to_json()
    if summary_json:
        write_summary_json(summary_json, details)
    con = err_console()
    con.print(render_table(details))
    gen = details["json"].get("generate", {})
    con.print(
        f"{details['new_rows']} new rows from {details['seeds']} seeds → {details['output']['path']}; "
        + (f"JSON parse rate {gen.get('parse_rate')} (first try {gen.get('first_try_parse_rate')}); " if gen else "")
        + f"{details['rejects']} rejects → {details['rejects_path'] or '-'}; {details['seconds']} s",
        highlight=False,
    )
    if "monotonic" in details:
        m = details["monotonic"]
        con.print(f"monotonicity: {m['checked']} checked, {m['dropped']} dropped, {m['relabelled']} relabelled", highlight=False)


def register(app: typer.Typer) -> None:
    app.command("synthesize")(handle(synthesize_cmd))
