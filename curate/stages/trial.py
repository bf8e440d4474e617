"""The trial stage: train a small LM from scratch on a curriculum, its baseline and controls, then compare them (curate.trial)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator

from curate.stages.base import STAGES, Placement, Slot, StageOptions, Summary
from curate.stages.options import check_registered, split_names


class TrialOptions(StageOptions):
    """Options of `curate trial` (and of a pipeline's `trial:` stage)."""

    runner_fields = ("ordered", "output")

    ordered: str
    """A `curate order` output folder (manifest.json, the curriculum shards and baseline/)."""
    output: str
    """Trial folder: trial.json, runs/<arm>/seed-<n>/ (trainer_state.json, row_losses.jsonl), sweep/, data/, compare/."""
    seeds: int = Field(2, ge=1)
    """Runs per arm, seeds 0…N-1 (the seed sets the model's initialisation; runs pair across arms by seed). A 95 % CI from 2 seeds is ±12.7 standard errors, from 3 ±4.3: use 3–5 for a verdict."""
    controls: list[str] = Field(default_factory=list)
    """More arms ordered from the same rows with other schedules, e.g. anti,random (see `curate schedules`)."""
    lr: float = Field(1e-3, gt=0)
    """Learning rate of every arm when there is no --lr-sweep."""
    lr_sweep: list[float] = Field(default_factory=list)
    """Learning rates to try per arm, e.g. 3e-4,1e-3,3e-3: each arm keeps the one with the lowest held-out tune loss."""
    eval: str | None = None
    """Held-out text (any file `curate score` reads). Default: carve --eval-fraction of the rows out before ordering."""
    eval_fraction: float = Field(0.1, gt=0, lt=1)
    """Fraction of the rows held out (chosen by a hash of the id) when --eval is not given."""
    split_seed: int = 0
    """Seed of the id hash that chooses the held-out rows (and splits them into eval and tune)."""
    eval_every: int | None = Field(None, ge=1)
    """Evaluate every N steps (default: a tenth of the run); also at step 0 and at the last step."""
    max_steps: int | None = Field(None, ge=1)
    """Train this many steps of the order (default: all of it)."""
    device: Literal["auto", "cpu", "cuda", "mps"] = "auto"
    """Where to train: auto (CUDA when there is one), cpu, cuda, mps."""
    model: str = "llama"
    """Architecture trained from scratch: llama, gpt2, or a folder with a config.json (its weights are not used)."""
    layers: int = Field(2, ge=1, le=48)
    """Transformer blocks (llama and gpt2)."""
    width: int = Field(128, ge=32)
    """Hidden size (llama and gpt2; a multiple of 32: heads of 32 dimensions)."""
    max_length: int = Field(128, ge=4)
    """Tokens per row (longer rows are truncated)."""
    tokenizer: str | None = None
    """Tokenizer folder (default: the bundled SmolLM2 tokenizer)."""
    vocab: int = Field(4096, ge=0)
    """Output vocabulary: the N-1 tokens most frequent in the training rows keep their ids, all others share one; 0 keeps every token the text uses."""
    text_field: str = "text"
    """The text column of the ordered rows (and of --eval)."""
    lr_warmup: float = Field(0.05, ge=0, lt=1)
    """Fraction of the steps with a linear learning-rate warm-up (then cosine decay to 0)."""
    weight_decay: float = Field(0.01, ge=0)
    """AdamW weight decay."""

    @field_validator("controls", mode="before")
    @classmethod
    def _split_controls(cls, v: Any) -> Any:
        return split_names(v)

    @field_validator("controls")
    @classmethod
    def _known_controls(cls, v: list[str]) -> list[str]:
        from curate.order.schedules import SCHEDULES

        return check_registered(SCHEDULES, v)

    @field_validator("lr_sweep", mode="before")
    @classmethod
    def _split_sweep(cls, v: Any) -> Any:
        if isinstance(v, str | list | tuple):
            names = split_names(v)
            try:
                return [float(x) for x in names]
            except ValueError:
                raise ValueError(f"--lr-sweep takes numbers separated by commas (got {','.join(names)})") from None
        return v

    @field_validator("lr_sweep")
    @classmethod
    def _positive(cls, v: list[float]) -> list[float]:
        if any(not x > 0 for x in v):
            raise ValueError("every --lr-sweep value must be positive")
        return v


class TrialSummary(Summary):
    """rows_in: distinct rows of the ordered folder; rows_out: the rows left for training (all of them with --eval)."""

    stage: str = "trial"
    trial_json: str
    compare_json: str
    compare_png: str | None = None
    baseline: str = "baseline"
    arms: dict[str, dict[str, Any]] = Field(default_factory=dict)  # arm → lr, runs, final eval_loss per seed
    held_out: dict[str, Any] = Field(default_factory=dict)
    steps: int = 0
    verdicts: dict[str, str] = Field(default_factory=dict)
    notes: list[str] = Field(default_factory=list)
    compute: dict[str, Any] = Field(default_factory=dict)


class TrialStage:
    name = "trial"
    Options = TrialOptions

    def plan(self, slot: Slot) -> Placement:
        """The previous order stage's folder → `trial/` in the run folder; the rows flow past it."""
        from pathlib import Path

        ordered = slot.rows[0] if slot.rows else ""
        output = str(slot.run_dir / "trial")
        return Placement(
            {"ordered": ordered, "output": output},
            str(Path(output) / "trial.json"),
            str(slot.stages_dir / f"{slot.name}.summary.json"),
            passes_rows=False,
            inputs=[str(Path(ordered) / "manifest.json")],
        )

    def inputs(self, options: TrialOptions) -> list[str]:
        from pathlib import Path

        return [str(Path(options.ordered) / "manifest.json"), *([options.eval] if options.eval else [])]

    def run(self, options: TrialOptions, ctx: Any) -> TrialSummary:
        import time

        from curate.trial import TrialConfig, run_trial

        t0 = time.perf_counter()
        cfg = TrialConfig(**options.model_dump())
        res = run_trial(cfg, reporter=ctx)
        d, c = res.data, res.compare.data
        for note in c["notes"]:
            ctx.warn(note)
        arms = {
            name: {"lr": a["lr"], "runs": len(a["runs"]), "final_eval_loss": [r["final_eval_loss"] for r in a["runs"]]}
            for name, a in d["arms"].items()
        }
        return TrialSummary(
            rows_in=d["rows"]["source"],
            rows_out=d["rows"]["train"],
            seconds=time.perf_counter() - t0,
            trial_json=str(res.trial_json),
            compare_json=str(res.compare.json_path),
            compare_png=str(res.compare.png_path) if res.compare.png_path else None,
            baseline=d["baseline"],
            arms=arms,
            held_out=d["held_out"],
            steps=d["training"]["steps"],
            verdicts={k: v["verdict"] for k, v in c["vs_baseline"].items()},
            notes=res.notes + list(c["notes"]),
            compute=d["compute"],
            reused={"runs": sum(1 for r in res.runs if r.reused)},
        )


STAGES.register("trial")(TrialStage())
