"""`curate report`: an HTML page with pictures and a dataset card for a run folder."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from curate.cli._errors import handle
from curate.cli._options import flag, options
from curate.stages.report import ReportOptions as O


@handle
def report_cmd(
    folder: Annotated[str, typer.Argument(help=O.help("folder"))],
    output: Annotated[Optional[str], flag(O, "output", "--output", "-o")] = None,
    scored: Annotated[list[str], flag(O, "scored")] = [],
    card: Annotated[Optional[str], flag(O, "card")] = None,
    card_only: Annotated[bool, flag(O, "card_only")] = False,
    no_card: Annotated[bool, flag(O, "no_card")] = False,
    sample_rows: Annotated[int, flag(O, "sample_rows")] = 1_000_000,
    compare: Annotated[Optional[str], flag(O, "compare")] = None,
) -> None:
    """Write an HTML report (signal distributions, agreement, pass rates, synthesis funnel, curriculum, training comparison) and a dataset card.

    Any part of the run may be missing: the page shows what exists and names what does not.

    Example:

        curate report out/

        curate report out/ -o out/report.html --scored out/scored.parquet

        curate report out/ --card-only

        curate report out/ --compare runs/compare/
    """
    from rich.markup import escape

    from curate.cli._output import info, run_stage

    res = run_stage("report", options(O, locals()))
    for m in res.missing:
        info(f"[dim]not in this run: {escape(m)}[/]")
    if res.sampled:
        info(f"{res.rows_in:,} scored rows: pictures use an even sample of about {sample_rows:,}")
    if res.html:
        info(f"report: {escape(str(res.html))}")
    if res.card:
        info(f"dataset card: {escape(str(res.card))}")


def register(app: typer.Typer) -> None:
    app.command("report")(report_cmd)
