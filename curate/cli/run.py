"""`curate run`: a pipeline file, resumable and incremental."""

from __future__ import annotations

from typing import Annotated

import typer

from curate.cli._errors import handle
from curate.cli._options import MaxRejectRateOpt, SummaryJsonOpt


@handle
def run_cmd(
    pipeline: Annotated[str, typer.Argument(help="Pipeline YAML file (see pipelines/).")],
    set_: Annotated[list[str], typer.Option("--set", help="Override a value: KEY.PATH=VALUE, e.g. stages.0.score.k=4 (repeatable).")] = [],
    max_reject_rate: MaxRejectRateOpt = None,
    fail_on_empty: Annotated[bool, typer.Option("--fail-on-empty", help="Exit non-zero when a stage produces no rows.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Rerun every stage, ignoring completion markers.")] = False,
    summary_json: SummaryJsonOpt = None,
) -> None:
    """Run a pipeline file: its stages in order, skipping those already done with the same inputs.

    A killed run continues where it stopped; a rerun on grown input only computes the new rows.

    Example:

        curate run pipelines/demo.yaml

        curate run pipelines/pretrain-text.yaml --set input=my_corpus/ --set output=out/pretrain
    """
    from pathlib import Path

    from curate.cli._output import CliReporter, info
    from curate.cli._summary import write_summary_json
    from curate.pipeline import RunOptions, load_pipeline, run_pipeline

    cfg = load_pipeline(pipeline, set_)
    result = run_pipeline(
        cfg, RunOptions(max_reject_rate=max_reject_rate, fail_on_empty=fail_on_empty, force=force, base_dir=Path.cwd()), reporter=CliReporter()
    )
    for s in result["stages"]:
        info(f"  {s['name']:<16} {s['status']:<20} → {s['output']}")
    info(f"[bold]done[/] in {result['seconds']:.1f}s; changed: {', '.join(result['changed']) or 'nothing'}")
    if summary_json:
        write_summary_json(summary_json, result)


def register(app: typer.Typer) -> None:
    app.command("run")(run_cmd)
