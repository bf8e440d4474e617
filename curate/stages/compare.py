"""The compare stage: training logs of several arms → CIs across seeds and a verdict per arm (curate.compare)."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field, ValidationInfo, field_validator

from curate.stages.base import STAGES, Placement, Slot, StageOptions, Summary


class CompareOptions(StageOptions):
    """Options of `curate compare` (and of a pipeline's `compare:` stage)."""

    runner_fields: ClassVar[tuple[str, ...]] = ("output",)

    output: str
    """Folder for compare.json and compare.png."""
    runs: list[str] = Field(default_factory=list)
    """`curate trial` folders: their trial.json names the arms, their runs and the baseline."""
    arms: list[str] = Field(default_factory=list, validate_default=True)
    """An arm and its runs, one per seed: NAME=PATH[,PATH...]; a PATH is a run folder with trainer_state.json or a .json/.jsonl/.csv log (globs allowed). Repeat for each arm."""
    baseline: str | None = None
    """The arm the others are compared with. Default: the trial's baseline, else 'baseline'."""
    metric: str | None = None
    """The logged metric to compare (e.g. eval_loss, loss, eval/accuracy). Default: the trial's, else eval_loss."""
    higher_is_better: bool = False
    """The metric is better when higher (accuracies); by default lower is better (losses)."""
    target: float | None = None
    """Also report the steps each run needs to reach this value of the metric, and compare them."""
    no_plot: bool = False
    """Do not draw compare.png."""

    @field_validator("arms")
    @classmethod
    def _some_arms(cls, v: list[str], info: ValidationInfo) -> list[str]:
        if not v and not info.data.get("runs"):
            from curate.errors import UsageError  # not a ValueError: pydantic passes it through as it is

            raise UsageError(
                "nothing to compare", "give a `curate trial` folder, or --arm NAME=PATH[,PATH...] for the baseline and for each other arm"
            )
        return v


class CompareSummary(Summary):
    """rows_in/rows_out count the runs read."""

    stage: str = "compare"
    compare_json: str
    compare_png: str | None = None
    metric: str
    lower_is_better: bool
    baseline: str
    runs: dict[str, int] = Field(default_factory=dict)  # arm → runs
    verdicts: dict[str, str] = Field(default_factory=dict)  # arm → verdict against the baseline
    findings: dict[str, dict[str, str]] = Field(default_factory=dict)
    notes: list[str] = Field(default_factory=list)


class CompareStage:
    name = "compare"
    Options = CompareOptions

    def inputs(self, options: CompareOptions) -> list[str]:
        """The log files (and trial.json files) a pipeline's completion marker is keyed by."""
        from pathlib import Path

        from curate.compare.readers import TRIAL_MANIFEST, resolve_arms, resolve_log
        from curate.errors import InputError

        arms, _, _ = resolve_arms(options.runs, options.arms)
        files = [str(Path(r) / TRIAL_MANIFEST) for r in options.runs]
        for paths in arms.values():
            for p in paths:
                try:
                    files.append(str(resolve_log(p)))
                except InputError:  # not written yet: keyed by its path; run() names it if it is still missing
                    files.append(p)
        return files

    def plan(self, slot: Slot) -> Placement:
        """Training logs → `compare/` in the run folder, where the report looks; the rows flow past it."""
        output = str(slot.run_dir / "compare")
        return Placement({"output": output}, output, str(slot.stages_dir / f"{slot.name}.summary.json"), passes_rows=False)

    def run(self, options: CompareOptions, ctx: Any) -> CompareSummary:
        import time

        from curate.compare import compare, resolve_arms
        from curate.compare.run import DEFAULT_BASELINE, DEFAULT_METRIC

        t0 = time.perf_counter()
        o = options
        arms, trial_baseline, trial_metric = resolve_arms(o.runs, o.arms)
        res = compare(
            arms,
            o.output,
            baseline=o.baseline or trial_baseline or DEFAULT_BASELINE,
            metric=o.metric or trial_metric or DEFAULT_METRIC,
            lower_is_better=not o.higher_is_better,
            target=o.target,
            plot=not o.no_plot,
        )
        d = res.data
        for note in d["notes"]:
            ctx.warn(note)
        n = sum(a["n_runs"] for a in d["arms"].values())
        return CompareSummary(
            rows_in=n,
            rows_out=n,
            seconds=time.perf_counter() - t0,
            compare_json=str(res.json_path),
            compare_png=str(res.png_path) if res.png_path else None,
            metric=d["metric"],
            lower_is_better=d["lower_is_better"],
            baseline=d["baseline"],
            runs={k: a["n_runs"] for k, a in d["arms"].items()},
            verdicts={k: v["verdict"] for k, v in d["vs_baseline"].items()},
            findings={k: v["findings"] for k, v in d["vs_baseline"].items()},
            notes=list(d["notes"]),
        )


STAGES.register("compare")(CompareStage())
