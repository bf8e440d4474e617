"""The score stage: difficulty signals and a composite `difficulty` for every row.

    from curate.stages import RunContext
    from curate.stages.score import ScoreOptions, ScoreStage
    with RunContext() as ctx:
        summary = ScoreStage().run(ScoreOptions(inputs=["data.jsonl"], output="scored.parquet"), ctx)

The two-pass, bounded-memory implementation is `curate.score.score`; this module is its typed
front: options, validation and the summary.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field, field_validator

from curate.defaults import DEFAULT_SIGNALS
from curate.stages.base import STAGES, Placement, Slot, Summary, default_placement
from curate.stages.options import (
    DirectionName,
    EngineActorFields,
    EngineFields,
    ExecutorFields,
    RowOutputFields,
    check_registered,
    parse_pairs,
    split_names,
)


class ScoreOptions(RowOutputFields, EngineFields, ExecutorFields, EngineActorFields):
    """Options of `curate score` (and of a pipeline's `score:` stage)."""

    runner_fields: ClassVar[tuple[str, ...]] = ("inputs", "output", "rejects", "row_store")

    signals: list[str] = Field(default_factory=lambda: list(DEFAULT_SIGNALS))
    """Signals to compute (repeat or comma-separate). See `curate signals`."""
    text_field: str = "text"
    """Column holding the text to score."""
    id_field: str = "id"
    """Column holding row ids; rows without one get a stable content hash."""
    weight: dict[str, float] = Field(default_factory=dict)
    """Composite weight, SIGNAL=W or COLUMN=W (repeatable). Default: 1 per signal."""
    direction: dict[str, DirectionName] = Field(default_factory=dict)
    """Override a direction, SIGNAL=higher-is-harder|lower-is-harder (repeatable)."""
    max_reject_rate: float | None = Field(None, ge=0.0, le=1.0)
    """Exit with code 4 when more than this fraction of rows is quarantined."""
    workers: int | None = Field(None, ge=1)
    """Worker processes (default: all cores)."""
    batch_rows: int = Field(2048, ge=1)
    """Rows per batch."""
    max_text_chars: int = Field(1_000_000, ge=1)
    """Longer texts are quarantined."""
    k: int = Field(8, ge=1)
    """pass_rate: samples per row."""
    pass_at: list[int] = Field(default_factory=list)
    """pass_rate: also report unbiased pass@j (repeatable)."""
    adaptive: bool = False
    """pass_rate: stop sampling a row once its bucket is decided."""
    answer_field: str = "answer"
    """pass_rate: column with the reference answer."""
    task_type_field: str = "task_type"
    """pass_rate: column choosing the verifier."""
    max_tokens: int = Field(256, ge=1)
    """pass_rate: tokens per sampled answer."""
    temperature: float = Field(0.7, ge=0.0)
    """pass_rate: sampling temperature."""
    row_store: str | None = None
    """SQLite file of per-row scores: reruns reuse unchanged rows and only compute new ones."""
    predictor: str | None = None
    """predicted: the model folder written by `curate fit`."""
    calibrate_on: str | None = None
    """Label column: set each composite column's direction and weight from its Spearman correlation with the label on the rows that have one."""
    calibrate_direction: DirectionName | None = None
    """Which end of the --calibrate-on label is harder. Default: lower-is-harder for score_pass_rate, else higher-is-harder."""
    only_ids: str | None = None
    """JSONL file with an "id" per line (e.g. MODEL_DIR/suggest.jsonl): score only those rows; the others pass through unchanged."""
    allow_engine_failures: float | None = Field(None, ge=0.0, le=1.0)
    """Quarantine rows the model engine fails on (after retries) and exit 0 while they are at most this fraction of the rows; without it such a row stops the run with exit code 5."""
    completions: str | None = None
    """pass_rate: also write every sampled completion, {id, sample_index, completion, passed, tokens}, to this .jsonl or .parquet file."""

    @field_validator("signals", mode="before")
    @classmethod
    def _split_signals(cls, v: Any) -> Any:
        return split_names(v)

    @field_validator("signals")
    @classmethod
    def _known_signals(cls, v: list[str]) -> list[str]:
        from curate.errors import UsageError
        from curate.signals import SIGNALS

        if not v:
            raise UsageError("no signals selected", f"choose from: {', '.join(SIGNALS.names())}")
        return check_registered(SIGNALS, v)

    @field_validator("weight", mode="before")
    @classmethod
    def _weight_pairs(cls, v: Any) -> Any:
        return parse_pairs(v, "--weight")

    @field_validator("direction", mode="before")
    @classmethod
    def _direction_pairs(cls, v: Any) -> Any:
        return parse_pairs(v, "--direction")


class ScoreSummary(Summary):
    stage: str = "score"
    rows_per_second: float | None = None
    mb_per_second: float | None = None
    output: dict[str, Any] = Field(default_factory=dict)
    signals: list[str] = Field(default_factory=list)
    signal_params: dict[str, Any] = Field(default_factory=dict)
    composite: list[dict[str, Any]] = Field(default_factory=list)
    quantiles: dict[str, dict[str, float | None]] = Field(default_factory=dict)
    agreement_spearman: dict[str, dict[str, float | None]] = Field(default_factory=dict)
    inputs: dict[str, str] = Field(default_factory=dict)

    @classmethod
    def from_result(cls, result: Any) -> ScoreSummary:
        """From `curate.score.ScoreResult`."""
        data = result.as_dict()
        fields = {k: data.pop(k) for k in list(data) if k in cls.model_fields}
        return cls(**fields, reused=dict(data.get("rows_reused") or {}), complete=not data.get("rows_not_final"), extra=data)

    def to_json(self) -> dict[str, Any]:
        data = super().to_json()
        data.pop("stage")
        data.pop("reused")  # reported as rows_reused / rows_computed per signal kind
        data.pop("complete")  # reported as rows_not_final
        return data


class ScoreStage:
    name = "score"
    Options = ScoreOptions

    def plan(self, slot: Slot) -> Placement:
        """The last score stage of a pipeline writes `scored.parquet` and `score-summary.json`."""
        p = default_placement(ScoreOptions, slot)
        if slot.last:
            p.output = p.fixed["output"] = str(slot.run_dir / "scored.parquet")
            p.summary = str(slot.run_dir / "score-summary.json")
        return p

    def run(self, options: ScoreOptions, ctx: Any) -> ScoreSummary:
        from curate.io import Format
        from curate.io.readers import expand_inputs
        from curate.score import ScoreConfig, estimate_rows, score

        executor = ctx.executor_config(options.executor, options.ray_address).name
        options.check_engine_actors(executor)
        seed = options.seed
        cfg = ScoreConfig(
            signals=list(options.signals),
            text_field=options.text_field,
            id_field=options.id_field,
            output=options.output,
            format=Format(options.format.value) if options.format else None,
            rows_per_shard=options.rows_per_shard,
            rejects=options.rejects,
            weights=dict(options.weight),
            directions=dict(options.direction),
            workers=options.workers,
            batch_rows=options.batch_rows,
            max_text_chars=options.max_text_chars,
            signal_options={
                "k": options.k,
                "pass_at": list(options.pass_at),
                "adaptive": options.adaptive,
                "answer_field": options.answer_field,
                "task_type_field": options.task_type_field,
                "max_tokens": options.max_tokens,
                "temperature": options.temperature,
                "seed": seed,
                **({"predictor": options.predictor} if options.predictor else {}),
            },
            engine=ctx.engine_config(
                engine=options.engine,
                url=options.engine_url,
                model=options.model,
                cache=False if options.no_cache else None,
                seed=seed,
                timeout=options.engine_timeout,
            ),
            allow_engine_failures=options.allow_engine_failures,
            row_store=ctx.row_store_path(options.row_store),
            executor=executor,
            executor_address=ctx.executor_config(options.executor, options.ray_address).address,
            engine_actors=options.ray_engines,
            engine_cpus=options.ray_engine_cpus,
            seed=seed,
            calibrate_on=options.calibrate_on,
            calibrate_direction=options.calibrate_direction,
            only_ids=options.only_ids,
            completions=options.completions,
        )
        if options.predictor and "predicted" not in options.signals:
            from curate.errors import UsageError

            raise UsageError("--predictor is for the predicted signal", "add -s predicted, or drop --predictor")
        total = estimate_rows(expand_inputs(options.inputs))
        with ctx.progress("scoring", total=total) as bar:
            result = score(options.inputs, cfg, on_progress=lambda n: bar.update(n), ctx=ctx)
        summary = ScoreSummary.from_result(result)
        if summary.rejects_path:
            ctx.info(f"quarantined rows: {summary.rejects_path}")
        return summary


STAGES.register("score")(ScoreStage())
