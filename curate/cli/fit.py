"""`curate fit`: learn a difficulty label from cheap features; `curate score -s predicted` applies it."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from curate.cli._errors import handle
from curate.cli._options import EngineUrlOpt, InputArg, ModelOpt, NoCacheOpt, SummaryJsonOpt, flag, options
from curate.stages.fit import FitOptions as O


@handle
def fit_cmd(
    inputs: InputArg,
    label: Annotated[str, flag(O, "label")],
    output: Annotated[str, flag(O, "output", "--output", "-o")],
    label_direction: Annotated[Optional[str], flag(O, "label_direction")] = None,
    kind: Annotated[str, flag(O, "kind")] = "auto",
    features: Annotated[list[str], flag(O, "features")] = ["signals", "text", "length"],
    extra_text: Annotated[list[str], flag(O, "extra_text")] = [],
    text_field: Annotated[str, flag(O, "text_field")] = "text",
    id_field: Annotated[str, flag(O, "id_field")] = "id",
    folds: Annotated[int, flag(O, "folds")] = 5,
    suggest: Annotated[int, flag(O, "suggest")] = 0,
    batch_rows: Annotated[int, flag(O, "batch_rows")] = 2048,
    max_text_chars: Annotated[int, flag(O, "max_text_chars")] = 1_000_000,
    engine: Annotated[Optional[str], flag(O, "engine")] = None,
    engine_url: EngineUrlOpt = None,
    model: ModelOpt = None,
    no_cache: NoCacheOpt = False,
    seed: Annotated[int, flag(O, "seed")] = 0,
    summary_json: SummaryJsonOpt = None,
) -> None:
    """Fit a predictor of a label (pass rate, level, rating) on the labelled rows; save it as a model folder.

    Rows whose label is null do not train. Prints cross-validated Spearman (with a bootstrap 95% CI)
    and the top features; `curate score -s predicted --predictor MODEL_DIR` then predicts every row.

    Example:

        curate fit scored.parquet --label score_pass_rate -o model/ --suggest 50

        curate score scored.parquet -s predicted --predictor model/ -o predicted.parquet
    """
    from curate.cli._output import run_stage
    from curate.cli._summary import write_summary_json

    summary = run_stage("fit", options(O, locals()))
    data = summary.to_json()
    _print(data)
    if summary_json:
        write_summary_json(summary_json, data)


def _print(data: dict) -> None:
    from rich.markup import escape

    from curate.cli._output import info

    cv = data.get("cv") or {}
    pooled = cv.get("pooled") or {}
    lo, hi = pooled.get("spearman_ci95") or (None, None)
    fmt = lambda v: "—" if v is None else f"{v:.3f}"  # noqa: E731
    info(
        f"[bold]fit[/]: {data['rows_labelled']:,} labelled rows ({data['rows_unlabelled']:,} unlabelled, {data['quarantined']:,} quarantined), "
        f"{data['kind']} by {data['learner']} (strength {data['strength']:g}) in {data['seconds']:.1f}s"
    )
    ci = lambda lo, hi, note: "95% CI not computable" if note else f"95% CI {fmt(lo)} … {fmt(hi)}"  # noqa: E731
    folds = cv.get("folds", [])
    info(
        f"  cross-validated Spearman {fmt(pooled.get('spearman'))} ({ci(lo, hi, pooled.get('spearman_ci95_note'))}); per fold: "
        + ", ".join(fmt(f.get("spearman")) for f in folds)
    )
    for key in ("spearman_note", "spearman_ci95_note"):
        if pooled.get(key):
            info(f"    {'pooled Spearman' if key == 'spearman_note' else '95% CI'} {escape(pooled[key])}")
    for note, where in _group(folds, "spearman_note").items():
        info(f"    — in fold{'s' if len(where) > 1 else ''} {', '.join(map(str, where))}: {escape(note)}")
    if "auc" in pooled:
        alo, ahi = pooled.get("auc_ci95") or (None, None)
        info(f"  AUC {fmt(pooled.get('auc'))} ({ci(alo, ahi, pooled.get('auc_ci95_note'))})")
        if pooled.get("auc_ci95_note"):
            info(f"    95% CI {escape(pooled['auc_ci95_note'])}")
    for imp in data.get("importances", [])[:10]:
        info(f"  {imp['weight']:+.4f}  {escape(imp['feature'])}")
    info(f"model: {escape(data['model_dir'])}")
    if data.get("suggest"):
        info(f"rows to label next: {escape(data['suggest']['path'])} ({data['suggest']['rows']} rows)")


def _group(folds: list[dict], key: str) -> dict[str, list[int]]:
    """The folds that carry a note under `key`, grouped by the note (in fold order)."""
    out: dict[str, list[int]] = {}
    for f in folds:
        if f.get(key):
            out.setdefault(f[key], []).append(f["fold"])
    return out


def register(app: typer.Typer) -> None:
    app.command("fit")(fit_cmd)
