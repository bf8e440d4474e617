"""`curate feedback`: training observations re-plan the unread rest of an ordered folder."""

from __future__ import annotations

from typing import Annotated

import typer

from curate.cli._errors import handle
from curate.cli._options import SummaryJsonOpt, flag, options
from curate.stages.feedback import FeedbackOptions as O


@handle
def feedback_cmd(
    ordered: Annotated[str, typer.Argument(help=O.help("ordered"))],
    stats: Annotated[str, flag(O, "stats")],
    step: Annotated[int, flag(O, "step")],
    output: Annotated[str, flag(O, "output", "--output", "-o")],
    drop_mastered: Annotated[str | None, flag(O, "drop_mastered")] = None,
    band: Annotated[str | None, flag(O, "band")] = None,
    ucb_by: Annotated[str | None, flag(O, "ucb_by")] = None,
    ucb_temperature: Annotated[float, flag(O, "ucb_temperature")] = 0.1,
    prior_column: Annotated[str | None, flag(O, "prior_column")] = None,
    prior_strength: Annotated[float, flag(O, "prior_strength")] = 2.0,
    predictor: Annotated[str | None, flag(O, "predictor")] = None,
    reward_threshold: Annotated[float | None, flag(O, "reward_threshold")] = None,
    loss_success: Annotated[str, flag(O, "loss_success")] = "rank",
    id_field: Annotated[str | None, flag(O, "id_field")] = None,
    no_baseline: Annotated[bool, flag(O, "no_baseline")] = False,
    no_plot: Annotated[bool, flag(O, "no_plot")] = False,
    seed: Annotated[int | None, flag(O, "seed")] = None,
    summary_json: SummaryJsonOpt = None,
) -> None:
    """Re-plan the steps a trainer has not read yet from what it observed (rewards, passes or losses per row); steps before --step stay byte for byte.

    Writes a new ordered folder whose manifest names its revision, its parent (sha256) and the feedback (docs/feedback.md); `curate verify` checks it against the parent.

    Example:

        curate feedback out/ordered --stats rollouts.jsonl --step 200 -o out/ordered-r1 --drop-mastered 0.9:4

        curate feedback out/ordered --stats losses.parquet --step 500 -o out/r1 --band 0.2:0.8 --ucb-by source
    """
    from curate.cli._output import run_stage
    from curate.cli._summary import write_summary_json

    summary = run_stage("feedback", options(O, locals()))
    if summary_json:
        write_summary_json(summary_json, summary.to_json())


def register(app: typer.Typer) -> None:
    app.command("feedback")(feedback_cmd)
