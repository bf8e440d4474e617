"""`curate compare`: does a curriculum beat its baseline? Training logs → CIs across seeds and a verdict."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from curate.cli._errors import handle
from curate.cli._options import flag, options
from curate.stages.compare import CompareOptions as O


def compare_cmd(
    output: Annotated[str, flag(O, "output", "--output", "-o")],
    runs: Annotated[Optional[list[str]], typer.Argument(help=O.help("runs"), show_default=False)] = None,
    arms: Annotated[list[str], flag(O, "arms", "--arm", "-a")] = [],
    baseline: Annotated[Optional[str], flag(O, "baseline")] = None,
    metric: Annotated[Optional[str], flag(O, "metric", "--metric", "-m")] = None,
    higher_is_better: Annotated[bool, flag(O, "higher_is_better")] = False,
    target: Annotated[Optional[float], flag(O, "target")] = None,
    no_plot: Annotated[bool, flag(O, "no_plot")] = False,
) -> None:
    """Compare training runs of several arms (several seeds each) with a baseline: final metric, area under the curve and steps to a target, with Student-t 95 % CIs across seeds and a verdict.

    Reads HF trainer_state.json (a run folder), CSV/JSONL logs (W&B and TensorBoard exports) and `curate trial` folders; writes compare.json and compare.png (docs/evidence.md).

    Example:

        curate compare --arm baseline=runs/base-s0,runs/base-s1 --arm root=runs/root-s0,runs/root-s1 -o out/compare

        curate compare out/trial -o out/compare --target 3.2
    """
    from rich.markup import escape

    from curate.cli._output import info, run_stage

    runs = runs or []
    res = run_stage("compare", options(O, locals()))
    for arm, text in res.verdicts.items():
        info(f"[bold]{escape(arm)}[/] vs {escape(res.baseline)}: {escape(text)}")
    info(
        f"[green]✓[/] {res.rows_in} runs in {len(res.runs)} arms → {escape(res.compare_json)}"
        + (f", {escape(res.compare_png)}" if res.compare_png else "")
    )


def register(app: typer.Typer) -> None:
    app.command("compare")(handle(compare_cmd))
