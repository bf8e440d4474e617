"""The report stage: report.html and a dataset card for a run folder (curate.report)."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field

from curate.stages.base import STAGES, Placement, Slot, StageOptions, Summary


class ReportOptions(StageOptions):
    """Options of `curate report` (and of a pipeline's `report:` stage)."""

    runner_fields: ClassVar[tuple[str, ...]] = ("folder",)

    folder: str
    """Run folder: scored.parquet or scored/, score-summary.json, synth-summary.json, ordered/."""
    output: str | None = None
    """Where the HTML page goes. Default: DIR/report.html."""
    scored: list[str] = Field(default_factory=list)
    """Scored rows to describe (Parquet file, folder or glob; repeatable)."""
    card: str | None = None
    """Where the dataset card goes. Default: DIR/README.md."""
    card_only: bool = False
    """Write only the dataset card."""
    no_card: bool = False
    """Write only the HTML page."""
    sample_rows: int = Field(1_000_000, ge=1000)
    """Above this many scored rows, pictures use an even sample."""
    compare: str | None = None
    """A `curate compare` result to show (compare.json or its folder). Default: DIR/compare/compare.json."""


class ReportSummary(Summary):
    stage: str = "report"
    html: str | None = None
    card: str | None = None
    missing: list[str] = Field(default_factory=list)
    sampled: bool = False


class ReportStage:
    name = "report"
    Options = ReportOptions

    def plan(self, slot: Slot) -> Placement:
        """The report describes the whole run folder: its inputs are the run's results."""
        names = [
            "scored.parquet",
            "score-summary.json",
            "synth-summary.json",
            "ordered/manifest.json",
            "feedback/manifest.json",
            "compare/compare.json",
            "trial/compare/compare.json",
        ]
        return Placement(
            {"folder": str(slot.run_dir)}, str(slot.run_dir / "report.html"), None, passes_rows=False, inputs=[str(slot.run_dir / n) for n in names]
        )

    def run(self, options: ReportOptions, ctx: Any) -> ReportSummary:
        import time

        from curate.errors import UsageError
        from curate.report import ReportOptions as Build
        from curate.report import build_report

        o = options
        if o.card_only and o.no_card:
            raise UsageError("--card-only and --no-card contradict each other", "pass one of them")
        if o.card_only and o.output:
            raise UsageError("--card-only writes no HTML page, so --output has nothing to name", "drop --output or --card-only")
        t0 = time.perf_counter()
        res = build_report(
            o.folder,
            Build(
                output=o.output,
                card=o.card,
                write_html=not o.card_only,
                write_card=not o.no_card,
                scored=list(o.scored),
                sample_rows=o.sample_rows,
                compare=o.compare,
            ),
        )
        return ReportSummary(
            rows_in=res.rows or 0,
            rows_out=res.rows or 0,
            seconds=time.perf_counter() - t0,
            html=str(res.html) if res.html else None,
            card=str(res.card) if res.card else None,
            missing=list(res.missing),
            sampled=res.sampled,
        )


STAGES.register("report")(ReportStage())
