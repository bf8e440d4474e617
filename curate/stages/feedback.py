"""The feedback stage: training observations re-plan the unread rest of an ordered folder (curate.feedback)."""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from curate.stages.base import STAGES, StageOptions, Summary


class FeedbackOptions(StageOptions):
    """Options of `curate feedback` (and of a pipeline's `feedback:` stage)."""

    runner_fields = ("ordered", "output")

    ordered: str
    """The ordered folder the trainer is reading (written by `curate order` or `curate feedback`)."""
    output: str
    """New folder for the revision: the same shards up to --step, re-planned after, a manifest with revision, parent and feedback."""
    stats: str
    """Observations, JSONL/CSV/Parquet: {id, step?, reward | correct | passes + k | loss}, several rows per id allowed (docs/feedback.md)."""
    step: int = Field(ge=0)
    """S: the steps the trainer has completed; steps [0, S) are kept exactly, the rest is re-planned."""
    drop_mastered: str | None = None
    """TAU[:M]: rows whose posterior mean is ≥ TAU after ≥ M observed trials (default 1) leave the rest of the run (Progressive Data Dropout)."""
    band: str | None = None
    """LO:HI: the next steps read rows whose posterior mean is in the band, most uncertain first; the others wait behind them (Prompt Curriculum Learning)."""
    ucb_by: str | None = None
    """COLUMN: split each step between the column's values (e.g. source) by UCB1 on their mean |reward − posterior mean| (DUMP)."""
    ucb_temperature: float = Field(0.1, gt=0)
    """Softmax temperature turning --ucb-by scores into mixture weights (lower: greedier)."""
    prior_column: str | None = None
    """A column with each row's pass probability in [0, 1] (e.g. score_predicted), the prior of rows without a scored pass rate."""
    prior_strength: float = Field(2.0, ge=0)
    """Pseudo-observations the --prior-column value (or the --predictor prediction) is worth."""
    predictor: str | None = None
    """MODEL_DIR of `curate fit` (a pass-rate or binary label): its prediction is the prior of rows without a scored pass rate."""
    reward_threshold: float | None = None
    """Count reward ≥ this as a success (needed when rewards are not in [0, 1])."""
    loss_success: str = "rank"
    """How a loss becomes a success proxy: rank (1 − its rank among the losses), exp (exp(−loss)), or a number L (loss ≤ L)."""
    id_field: str | None = None
    """Row id column (default: the one the ordered folder was made with)."""
    no_baseline: bool = False
    """Do not write baseline/ (the parent baseline's read rows, then the re-planned rows shuffled)."""
    no_plot: bool = False
    """Do not draw curriculum.png."""
    seed: int | None = None
    """Random seed of the re-plan (default: the parent's)."""

    @model_validator(mode="after")
    def _strategies(self) -> FeedbackOptions:
        from curate.feedback.replan import Strategies
        from curate.feedback.stats import LossSuccess

        Strategies.parse(self.drop_mastered, self.band, self.ucb_by, self.ucb_temperature)
        LossSuccess.parse(self.loss_success)
        return self


class FeedbackSummary(Summary):
    """rows_in: positions of the parent; rows_out: positions of the revision."""

    stage: str = "feedback"
    output: str
    revision: int
    parent: str
    step: int
    position: int
    steps: dict[str, int] = Field(default_factory=dict)  # before / after
    counts: dict[str, int] = Field(default_factory=dict)
    stats: dict[str, Any] = Field(default_factory=dict)
    strategies: dict[str, Any] = Field(default_factory=dict)
    shares: dict[str, Any] | None = None
    gathered: str = ""


class FeedbackStage:
    name = "feedback"
    Options = FeedbackOptions

    def plan(self, slot: Any) -> Any:
        """In a pipeline: re-plan the ordered folder the row stage before wrote → `feedback/` (or `stages/NAME/`), where the report looks."""
        from pathlib import Path

        from curate.errors import UsageError
        from curate.stages.base import Placement

        rows = list(slot.rows)
        if len(rows) != 1 or Path(rows[0]).suffix.lower() in (".parquet", ".jsonl", ".json", ".csv", ".tsv", ".gz", ".arrow"):
            raise UsageError(
                f"{slot.name}: feedback re-plans an ordered folder, but the rows before it are {', '.join(rows)}",
                "put it after an order stage (or give an ordered folder as the pipeline's input)",
            )
        output = str(slot.run_dir / "feedback") if slot.last else str(slot.stages_dir / slot.name)
        return Placement({"ordered": rows[0], "output": output}, output, str(slot.stages_dir / f"{slot.name}.summary.json"))

    def inputs(self, options: FeedbackOptions) -> list[str]:
        """What a pipeline's completion marker is keyed by: the parent's manifest and the stats."""
        from pathlib import Path

        return [
            str(Path(options.ordered) / "manifest.json"),
            options.stats,
            *([str(Path(options.predictor) / "model.json")] if options.predictor else []),
        ]

    def run(self, options: FeedbackOptions, ctx: Any) -> FeedbackSummary:
        from curate.feedback.revision import FeedbackConfig, feedback

        o = options
        res = feedback(
            FeedbackConfig(
                ordered=o.ordered,
                stats=o.stats,
                step=o.step,
                output=o.output,
                drop_mastered=o.drop_mastered,
                band=o.band,
                ucb_by=o.ucb_by,
                ucb_temperature=o.ucb_temperature,
                prior_column=o.prior_column,
                prior_strength=o.prior_strength,
                predictor=o.predictor,
                reward_threshold=o.reward_threshold,
                loss_success=o.loss_success,
                id_field=o.id_field,
                baseline=not o.no_baseline,
                plot=not o.no_plot,
                seed=o.seed,
            )
        )
        m, rep, c = res.manifest, res.report, res.replanned.counts
        stats = m["feedback"]["stats"]
        if rep.ignored:
            ctx.warn(f"{rep.ignored:,} of {rep.rows:,} stats row(s) not used: {_why(stats)}")
        ctx.info(_done_line(m, c, o.output))
        return FeedbackSummary(
            rows_in=c["remaining_reads"] + res.replanned.at,
            rows_out=len(res.replanned.plan),
            quarantined=0,
            seconds=res.seconds,
            output=o.output,
            revision=m["revision"],
            parent=m["parent"],
            step=o.step,
            position=res.replanned.at,
            steps={"before": c["steps_before"], "after": c["steps_after"]},
            counts=c,
            stats=stats,
            strategies=m["feedback"]["strategies"],
            shares=m["feedback"]["shares"],
            gathered=res.gathered,
        )


def _why(stats: dict[str, Any]) -> str:
    parts = []
    if stats.get("unknown_ids"):
        parts.append(f"{stats['unknown_ids']:,} unknown id(s) (e.g. {', '.join(stats.get('unknown_examples') or [])})")
    if stats.get("malformed"):
        parts.append(f"{stats['malformed']:,} malformed line(s)")
    parts += [f"{n:,} {reason}" for reason, n in sorted((stats.get("invalid") or {}).items())]
    if stats.get("contradictory"):
        parts.append(f"{stats['contradictory']:,} contradictory")
    if stats.get("duplicates"):
        parts.append(f"{stats['duplicates']:,} duplicate(s)")
    return "; ".join(parts)


def _done_line(m: dict[str, Any], c: dict[str, int], output: str) -> str:
    fb = m["feedback"]
    what = [
        f"{c[k]:,} {label}"
        for k, label in (
            ("dropped_reads", "read(s) of mastered rows dropped"),
            ("in_band_reads", "in the band first"),
            ("deferred_reads", "deferred"),
        )
        if k in c
    ]
    kept = f"steps 0–{fb['step'] - 1} kept ({fb['position']:,} rows)" if fb["step"] else "nothing read yet"
    return (
        f"[green]✓[/] revision {m['revision']}: {kept}, "
        f"{c['kept_reads']:,} re-planned in {c['steps_after'] - fb['step']:,} steps" + (f" ({', '.join(what)})" if what else "") + f" → {output}"
    )


STAGES.register("feedback")(FeedbackStage())
