"""`curate trial`: does this curriculum beat its baseline? Train a small LM on each arm, several seeds, and compare."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from curate.cli._errors import handle
from curate.cli._options import SummaryJsonOpt, flag, options
from curate.stages.trial import TrialOptions as O


def trial_cmd(
    ordered: Annotated[str, typer.Argument(help=O.help("ordered"), show_default=False)],
    output: Annotated[str, flag(O, "output", "--output", "-o")],
    seeds: Annotated[int, flag(O, "seeds")] = 2,
    controls: Annotated[Optional[str], flag(O, "controls")] = None,
    lr: Annotated[float, flag(O, "lr")] = 1e-3,
    lr_sweep: Annotated[Optional[str], flag(O, "lr_sweep")] = None,
    eval: Annotated[Optional[str], flag(O, "eval")] = None,
    eval_fraction: Annotated[float, flag(O, "eval_fraction")] = 0.1,
    split_seed: Annotated[int, flag(O, "split_seed")] = 0,
    eval_every: Annotated[Optional[int], flag(O, "eval_every")] = None,
    max_steps: Annotated[Optional[int], flag(O, "max_steps")] = None,
    device: Annotated[str, flag(O, "device")] = "auto",
    model: Annotated[str, flag(O, "model")] = "llama",
    layers: Annotated[int, flag(O, "layers")] = 2,
    width: Annotated[int, flag(O, "width")] = 128,
    max_length: Annotated[int, flag(O, "max_length")] = 128,
    tokenizer: Annotated[Optional[str], flag(O, "tokenizer")] = None,
    vocab: Annotated[int, flag(O, "vocab")] = 4096,
    text_field: Annotated[str, flag(O, "text_field")] = "text",
    lr_warmup: Annotated[float, flag(O, "lr_warmup")] = 0.05,
    weight_decay: Annotated[float, flag(O, "weight_decay")] = 0.01,
    summary_json: SummaryJsonOpt = None,
) -> None:
    """Train a small causal LM from scratch on the curriculum, on its baseline/ and on control orders of the same rows, a few seeds each, with a learning rate tuned per arm; then compare them.

    Held-out text is carved out of the rows before ordering (or given with --eval). Writes one trainer_state.json and row_losses.jsonl per run, trial.json, and compare/ (docs/evidence.md).

    Example:

        curate trial out/ordered -o out/trial --seeds 3 --controls anti,random --lr-sweep 3e-4,1e-3,3e-3
    """
    values = {k: v for k, v in dict(locals()).items() if v is not None}
    from rich.markup import escape

    from curate.cli._output import info, run_stage
    from curate.cli._summary import write_summary_json

    res = run_stage("trial", options(O, values))
    for arm, a in res.arms.items():
        info(
            f"[bold]{escape(arm)}[/]: lr {a['lr']:g}, final eval_loss " + ", ".join("n/a" if v is None else f"{v:.4f}" for v in a["final_eval_loss"])
        )
    for arm, text in res.verdicts.items():
        info(f"[bold]{escape(arm)}[/] vs {escape(res.baseline)}: {escape(text)}")
    info(
        f"[green]✓[/] {sum(a['runs'] for a in res.arms.values())} runs in {len(res.arms)} arms, {res.steps} steps each → {escape(res.trial_json)}, "
        f"{escape(res.compare_json)} ({res.seconds / 60:.1f} min)"
    )
    if summary_json:
        write_summary_json(summary_json, res.to_json())


def register(app: typer.Typer) -> None:
    app.command("trial")(handle(trial_cmd))
