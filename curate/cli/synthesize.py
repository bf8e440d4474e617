"""`curate synthesize`: new, verified problems from scored data (defect-aware or difficulty ladders)."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Optional

import typer

from curate.cli._errors import handle
from curate.cli._options import (
    EngineOpt, FormatOpt, InputArg, NoCacheOpt, OutputOpt, RayAddressOpt, RayEngineCpusOpt, RayEnginesOpt, RejectsOpt, RowsPerShardOpt, SeedOpt,
    SummaryJsonOpt,
)


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
    mode: Annotated[ModeOpt, typer.Option("--mode", help="defect: new problems the target fails; ladder: harder and easier variants per row; hint: the problem plus the start of its solution; numeric: new numbers, answer recomputed.")] = ModeOpt.ladder,
    generator_model: Annotated[Optional[str], typer.Option("--generator-model", help="Model writing problems (default: the bundled SmolLM2-135M-Instruct).")] = None,
    target_model: Annotated[Optional[str], typer.Option("--target-model", help="Model whose pass rate is measured (default: the bundled model).")] = None,
    generator_engine_url: Annotated[Optional[str], typer.Option("--generator-engine-url", help="OpenAI-compatible server for the generator.")] = None,
    target_engine_url: Annotated[Optional[str], typer.Option("--target-engine-url", help="OpenAI-compatible server for the target.")] = None,
    critic_model: Annotated[Optional[str], typer.Option("--critic-model", help="Defect mode: model judging problems (default: the generator).")] = None,
    engine: EngineOpt = "vllm",
    rounds: Annotated[int, typer.Option("--rounds", min=1, help="Defect mode: rounds, each seeded from the previous round's kept problems.")] = 1,
    per_seed: Annotated[int, typer.Option("--per-seed", min=1, help="Defect mode: new problems per seed and round.")] = 2,
    critic_rounds: Annotated[int, typer.Option("--critic-rounds", min=0, help="Defect mode: refine a problem the critic rejects up to N times.")] = 2,
    max_pass_rate: Annotated[float, typer.Option("--max-pass-rate", min=0.0, max=1.0, help="Defect mode: keep only problems the target passes less often than this.")] = 0.5,
    seed_bucket: Annotated[list[str], typer.Option("--seed-bucket", help="Defect and hint modes: pass-rate buckets whose rows are seeds (repeatable).")] = ["frontier"],  # noqa: B006
    seed_max_pass_rate: Annotated[float, typer.Option("--seed-max-pass-rate", min=0.0, max=1.0, help="Defect and hint modes: rows with pass rate at most this are seeds too.")] = 0.5,
    max_seeds: Annotated[Optional[int], typer.Option("--max-seeds", min=1, help="Use at most this many seed rows.")] = None,
    harder: Annotated[int, typer.Option("--harder", "-L", min=0, help="Ladder mode: harder levels per seed.")] = 2,
    easier: Annotated[int, typer.Option("--easier", "-E", min=0, help="Ladder mode: easier levels per seed.")] = 1,
    monotonic: Annotated[PolicyOpt, typer.Option("--monotonic", help="Ladder variants whose measured pass rate breaks the order: drop or relabel.")] = PolicyOpt.drop,
    monotonic_margin: Annotated[float, typer.Option("--monotonic-margin", min=0.0, max=1.0, help="Required pass-rate drop per harder level.")] = 0.0,
    fractions: Annotated[Optional[list[str]], typer.Option("--fractions", help="Hint mode: rungs, fractions of the solution's steps or n-j (all but the last j), e.g. 0.25,0.5,n-1,1.")] = None,
    keep: Annotated[KeepOpt, typer.Option("--keep", help="Hint mode: per row only the smallest hint the target passes sometimes, or every rung.")] = KeepOpt.smallest_learnable,
    variants: Annotated[int, typer.Option("--variants", min=1, help="Numeric mode: new instances per level.")] = 2,
    harder_digits: Annotated[int, typer.Option("--harder-digits", min=0, help="Numeric mode: levels 1..D, with D more digits in every number.")] = 1,
    sc_samples: Annotated[int, typer.Option("--sc-samples", min=0, help="Self-consistency: generator solutions per new problem (0: off).")] = 4,
    sc_min: Annotated[Optional[int], typer.Option("--sc-min", min=1, help="Self-consistency: solutions that must match the stated answer (default: 3, at most --sc-samples).")] = None,
    k: Annotated[int, typer.Option("--k", min=1, help="Target samples per new problem for its pass rate.")] = 4,
    json_retries: Annotated[int, typer.Option("--json-retries", min=0, help="Re-ask this many times when the output is not valid JSON.")] = 2,
    no_structured: Annotated[bool, typer.Option("--no-structured", help="Do not request JSON-schema constrained decoding.")] = False,
    max_tokens: Annotated[int, typer.Option("--max-tokens", min=16, help="Token limit for generated problems.")] = 384,
    solve_max_tokens: Annotated[int, typer.Option("--solve-max-tokens", min=16, help="Token limit for solutions (self-consistency, target).")] = 256,
    decontaminate: Annotated[Optional[list[str]], typer.Option("--decontaminate", help="Benchmark file(s): drop new rows sharing an n-gram with them.")] = None,
    ngram: Annotated[int, typer.Option("--ngram", min=3, help="Decontamination n-gram size in words.")] = 8,
    near_dup_threshold: Annotated[float, typer.Option("--near-dup-threshold", min=0.0, max=1.0, help="MinHash Jaccard at which a new row is a near-duplicate.")] = 0.8,
    append: Annotated[bool, typer.Option("--append", help="Write the input rows followed by the new rows.")] = False,
    text_field: Annotated[str, typer.Option("--text-field", help="Column with the problem text.")] = "text",
    answer_field: Annotated[str, typer.Option("--answer-field", help="Column with the reference answer.")] = "answer",
    id_field: Annotated[str, typer.Option("--id-field", help="Column with row ids.")] = "id",
    task_field: Annotated[str, typer.Option("--task-field", help="Column with the task type (math, exact, ...; code and mc rows are skipped).")] = "task_type",
    solution_field: Annotated[str, typer.Option("--solution-field", help="Hint and numeric modes: column with the worked solution.")] = "solution",
    prompts_dir: Annotated[Optional[str], typer.Option("--prompts-dir", help="Directory overriding prompt files synth_*.txt.")] = None,
    fmt: FormatOpt = None,
    rows_per_shard: RowsPerShardOpt = 100_000,
    rejects: RejectsOpt = None,
    summary_json: SummaryJsonOpt = None,
    seed: SeedOpt = 0,
    no_cache: NoCacheOpt = False,
    executor: Annotated[str, typer.Option("--executor", help="Where model calls run: local (engines in this process) or ray (engine actors on a Ray cluster).")] = "local",
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
    from curate.engines.base import EngineConfig
    from curate.io.writers import Format
    from curate.synth import KeepPolicy, Mode, MonotonicPolicy, Output, SynthOptions, synthesize
    from curate.synth.engines import open_engines
    from curate.score import default_rejects_path
    from curate.synth.funnel import render_table
    from curate.cli._output import err_console

    opts = SynthOptions(
        mode=Mode(mode.value), text_field=text_field, answer_field=answer_field, id_field=id_field, task_field=task_field,
        solution_field=solution_field, fractions=tuple(fractions) if fractions else SynthOptions.fractions, keep=KeepPolicy(keep.value),
        variants=variants, harder_digits=harder_digits,
        seed_buckets=tuple(seed_bucket), seed_max_pass_rate=seed_max_pass_rate, max_seeds=max_seeds,
        per_seed=per_seed, rounds=rounds, critic_rounds=critic_rounds, max_pass_rate=max_pass_rate,
        harder=harder, easier=easier, monotonic=MonotonicPolicy(monotonic.value), monotonic_margin=monotonic_margin,
        sc_samples=sc_samples, sc_min_agree=sc_min if sc_min is not None else max(1, min(3, sc_samples)), k=k,
        json_retries=json_retries, structured=not no_structured, max_tokens=max_tokens, solve_max_tokens=solve_max_tokens,
        prompts_dir=prompts_dir, near_dup_threshold=near_dup_threshold, decontaminate=tuple(decontaminate or ()), ngram=ngram,
        append=append, seed=seed,
    )
    out = Output(output, Format(fmt.value) if fmt else None, rows_per_shard, rejects or default_rejects_path(output), summary_json)

    def cfg(model: str | None, url: str | None) -> EngineConfig:
        return EngineConfig(engine="openai" if url else engine, model=model, url=url, cache=not no_cache, seed=seed)

    from curate.executors import EXECUTORS, ExecutorConfig, open_executor
    from curate.cli._options import check_ray_options

    gen_cfg = cfg(generator_model, generator_engine_url)
    roles = (gen_cfg, cfg(target_model, target_engine_url), cfg(critic_model, None) if critic_model else gen_cfg)
    # On Ray, in-process engines become engine actors on the cluster; servers (--*-engine-url) are called from here.
    where = check_ray_options(executor, ray_address, ray_engines, ray_engine_cpus)
    EXECUTORS.get(where)
    on_cluster = where != "local" and any(not (c.url or c.engine == "openai") for c in roles)
    ex = open_executor(ExecutorConfig(where, address=ray_address, engines=ray_engines, engine_cpus=ray_engine_cpus)) if on_cluster else None
    try:
        engines = open_engines(*roles, executor=ex)
        try:
            summary = synthesize(input, opts, out, generator=engines.generator, target=engines.target, critic=engines.critic)
        finally:
            engines.close()
    finally:
        if ex is not None:
            ex.close()
    con = err_console()
    con.print(render_table(summary))
    gen = summary["json"].get("generate", {})
    con.print(
        f"{summary['new_rows']} new rows from {summary['seeds']} seeds → {summary['output']['path']}; "
        + (f"JSON parse rate {gen.get('parse_rate')} (first try {gen.get('first_try_parse_rate')}); " if gen else "")
        + f"{summary['rejects']} rejects → {summary['rejects_path'] or '-'}; {summary['seconds']} s",
        highlight=False,
    )
    if "monotonic" in summary:
        m = summary["monotonic"]
        con.print(f"monotonicity: {m['checked']} checked, {m['dropped']} dropped, {m['relabelled']} relabelled", highlight=False)


def register(app: typer.Typer) -> None:
    app.command("synthesize")(handle(synthesize_cmd))
