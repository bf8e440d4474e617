"""`curate report`: an HTML page with pictures and a dataset card for a run folder."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from curate.cli._errors import handle


@handle
def report_cmd(
    folder: Annotated[str, typer.Argument(help="Run folder: scored.parquet or scored/, score-summary.json, synth-summary.json, ordered/.")],
    output: Annotated[Optional[str], typer.Option("--output", "-o", help="Where the HTML page goes. Default: DIR/report.html.")] = None,
    scored: Annotated[list[str], typer.Option("--scored", help="Scored rows to describe (Parquet file, folder or glob; repeatable).")] = [],
    card: Annotated[Optional[str], typer.Option("--card", help="Where the dataset card goes. Default: DIR/README.md.")] = None,
    card_only: Annotated[bool, typer.Option("--card-only", help="Write only the dataset card.")] = False,
    no_card: Annotated[bool, typer.Option("--no-card", help="Write only the HTML page.")] = False,
    sample_rows: Annotated[int, typer.Option("--sample-rows", min=1000, help="Above this many scored rows, pictures use an even sample.")] = 1_000_000,
) -> None:
    """Write an HTML report (signal distributions, agreement, pass rates, synthesis funnel, curriculum) and a dataset card.

    Any part of the run may be missing: the page shows what exists and names what does not.

    Example:

        curate report out/

        curate report out/ -o out/report.html --scored out/scored.parquet

        curate report out/ --card-only
    """
    from rich.markup import escape

    from curate.cli._output import info
    from curate.errors import UsageError
    from curate.report import ReportOptions, build_report

    if card_only and no_card:
        raise UsageError("--card-only and --no-card contradict each other", "pass one of them")
    if card_only and output:
        raise UsageError("--card-only writes no HTML page, so --output has nothing to name", "drop --output or --card-only")
    opts = ReportOptions(output=output, card=card, write_html=not card_only, write_card=not no_card, scored=list(scored), sample_rows=sample_rows)
    res = build_report(folder, opts)
    for m in res.missing:
        info(f"[dim]not in this run: {escape(m)}[/]")
    if res.sampled:
        info(f"{res.rows:,} scored rows: pictures use an even sample of about {sample_rows:,}")
    if res.html:
        info(f"report: {escape(str(res.html))}")
    if res.card:
        info(f"dataset card: {escape(str(res.card))}")


def register(app: typer.Typer) -> None:
    app.command("report")(report_cmd)
