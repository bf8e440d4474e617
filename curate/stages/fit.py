"""The fit stage: a difficulty predictor trained on the labelled rows (curate.fit), saved as a model folder.

From Python:

    from curate.stages import RunContext
    from curate.stages.fit import FitOptions, FitStage
    with RunContext() as ctx:
        summary = FitStage().run(FitOptions(inputs=["scored.parquet"], label="score_pass_rate", output="model/"), ctx)
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator

from curate.stages.base import STAGES, Placement, Slot, Summary
from curate.stages.options import DirectionName, EngineFields, split_names


class FitOptions(EngineFields):
    """Options of `curate fit` (and of a pipeline's `fit:` stage)."""

    runner_fields = ("inputs", "output")

    inputs: list[str] = Field(min_length=1)
    """Input: Parquet file/dir/glob, JSONL (.jsonl/.jsonl.gz), CSV, a saved HF dataset folder, or '-' for JSONL on stdin."""
    output: str
    """Model folder to write (model.json, arrays.npz, cv.parquet; suggest.jsonl with --suggest)."""
    label: str
    """Column to learn; rows where it is null are unlabelled (they do not train)."""
    label_direction: DirectionName | None = None
    """Which end of the label is harder. Default: lower-is-harder for score_pass_rate, else higher-is-harder."""
    kind: Literal["auto", "regression", "binary"] = "auto"
    """auto: a boolean or 0/1 label is binary (logistic regression), any other number a regression (ridge)."""
    features: list[str] = Field(default_factory=lambda: ["signals", "text", "length"])
    """Feature groups: signals (score_* columns present), text (hashed word/char n-gram TF-IDF), length, lm (engine log-prob statistics; `lm` alone adds it to the defaults)."""
    extra_text: list[str] = Field(default_factory=list)
    """More text columns to learn from (e.g. a reference solution): their n-grams, lengths and text signals."""
    text_field: str = "text"
    """Column holding the text."""
    id_field: str = "id"
    """Column holding row ids."""
    folds: int = Field(5, ge=2)
    """Cross-validation folds (the model is chosen, and its metrics measured, on these)."""
    suggest: int = Field(0, ge=0)
    """Also write MODEL_DIR/suggest.jsonl: this many unlabelled rows to label next (most uncertain, spread over the feature space)."""
    batch_rows: int = Field(2048, ge=1)
    """Rows per read batch."""
    max_text_chars: int = Field(1_000_000, ge=1)
    """Longer texts are quarantined."""
    seed: int = 0
    """Random seed (folds, bootstrap, suggestions): same input and seed give the same model."""

    @field_validator("features", "extra_text", mode="before")
    @classmethod
    def _split(cls, v: Any) -> Any:
        return split_names(v)

    @field_validator("features")
    @classmethod
    def _groups(cls, v: list[str]) -> list[str]:
        from curate.fit.features import parse_groups

        return parse_groups(v)


class FitSummary(Summary):
    stage: str = "fit"
    rows_labelled: int = 0
    rows_unlabelled: int = 0
    model_dir: str = ""
    label: str = ""
    kind: str = ""
    direction: str = ""
    learner: str = ""
    strength: float = 0.0
    features: dict[str, Any] = Field(default_factory=dict)
    cv: dict[str, Any] = Field(default_factory=dict)
    importances: list[dict[str, Any]] = Field(default_factory=list)
    suggest: dict[str, Any] | None = None
    training_sha256: str = ""
    inputs: dict[str, str] = Field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        data = super().to_json()
        data.pop("reused")
        return data


class FitStage:
    name = "fit"
    Options = FitOptions

    def plan(self, slot: Slot) -> Placement:
        """In a pipeline: reads the current rows, writes DIR/model/ (the last fit stage) or stages/NAME/; passes the rows on unchanged."""
        output = str(slot.run_dir / "model") if slot.last else str(slot.stages_dir / slot.name)
        return Placement({"inputs": list(slot.rows), "output": output}, output, str(slot.stages_dir / f"{slot.name}.summary.json"), passes_rows=False)

    def run(self, options: FitOptions, ctx: Any) -> FitSummary:
        from curate.fit.run import FitConfig, fit

        o = options
        cfg = FitConfig(
            label=o.label,
            output=o.output,
            text_field=o.text_field,
            id_field=o.id_field,
            extra_text=list(o.extra_text),
            direction=o.label_direction,
            kind=o.kind,
            features=list(o.features),
            folds=o.folds,
            seed=o.seed,
            suggest=o.suggest,
            batch_rows=o.batch_rows,
            max_text_chars=o.max_text_chars,
        )

        def engine() -> Any:
            return ctx.engine(ctx.engine_config(engine=o.engine, url=o.engine_url, model=o.model, cache=False if o.no_cache else None, seed=o.seed))

        with ctx.progress("reading", total=None) as bar:
            res = fit(o.inputs, cfg, engine_factory=engine, on_progress=lambda n: bar.update(n))
        data = res.as_dict()
        summary = FitSummary(rows_out=res.rows_labelled, **{k: v for k, v in data.items() if k in FitSummary.model_fields})
        if summary.rejects_path:
            ctx.info(f"quarantined rows: {summary.rejects_path}")
        return summary


STAGES.register("fit")(FitStage())
