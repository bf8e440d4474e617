"""`compare()`: read every run's log → per-arm curve statistics → differences to the baseline → compare.json + compare.png."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from curate.compare import stats
from curate.compare.readers import Series, read_series
from curate.compare.verdict import verdict
from curate.errors import InputError, UsageError

FORMAT = "curate-compare/1"
COMPARE_JSON = "compare.json"
COMPARE_PNG = "compare.png"
DEFAULT_BASELINE = "baseline"
DEFAULT_METRIC = "eval_loss"
_HIGHER_NAMES = re.compile(r"acc|accuracy|f1|bleu|rouge|exact_match|pass@|pass_rate|auroc|precision|recall|score", re.I)
_LOWER_NAMES = re.compile(r"loss|perplexity|ppl|error|nll|wer|cer", re.I)


@dataclass(frozen=True)
class CompareResult:
    output: Path
    json_path: Path
    png_path: Path | None
    data: dict[str, Any]  # what compare.json holds

    @property
    def verdicts(self) -> dict[str, str]:
        return {name: v["verdict"] for name, v in self.data["vs_baseline"].items()}


def _ci(ci: tuple[float, float] | None) -> list[float] | None:
    return None if ci is None else [ci[0], ci[1]]


def _direction_note(metric: str, lower_is_better: bool) -> str | None:
    if lower_is_better and _HIGHER_NAMES.search(metric) and not _LOWER_NAMES.search(metric):
        return f"{metric} is read as lower-is-better; if higher is better (an accuracy, a score), rerun with --higher-is-better"
    if not lower_is_better and _LOWER_NAMES.search(metric):
        return f"{metric} is read as higher-is-better (--higher-is-better); a loss is usually lower-is-better"
    return None


def compare(
    arms: Mapping[str, Sequence[str]],
    output: str | Path,
    *,
    baseline: str = DEFAULT_BASELINE,
    metric: str = DEFAULT_METRIC,
    lower_is_better: bool = True,
    target: float | None = None,
    confidence: float = stats.CONFIDENCE,
    plot: bool = True,
) -> CompareResult:
    """Compare each arm's runs with the baseline's; write OUTPUT/compare.json (and compare.png)."""
    if baseline not in arms:
        raise UsageError(
            f"no arm named '{baseline}' (arms: {', '.join(arms) or 'none'})", "name the baseline arm with --baseline NAME, or add --arm baseline=PATH"
        )
    if len(arms) < 2:
        raise UsageError(f"only the baseline arm '{baseline}' was given", "add an arm to compare with it: --arm NAME=PATH[,PATH...]")
    for name, paths in arms.items():
        if not paths:
            raise UsageError(f"arm '{name}' has no runs", f"--arm {name}=PATH[,PATH...]")
        dupes = {p for p in paths if list(paths).count(p) > 1}
        if dupes:
            raise UsageError(f"arm '{name}' lists {sorted(dupes)[0]} twice", "each run once: a repeated run is not another seed")
    if target is not None and not np.isfinite(target):
        raise UsageError(f"--target {target} is not a finite number", "pass the metric value to reach, e.g. --target 3.2")
    if not 0 < confidence < 1:
        raise UsageError(f"confidence level {confidence} is not between 0 and 1", "e.g. 0.95")

    series: dict[str, list[Series]] = {name: [_read(name, p, metric) for p in paths] for name, paths in arms.items()}
    window = stats.common_window(series)
    notes: list[str] = []
    if (n := _direction_note(metric, lower_is_better)) is not None:
        notes.append(n)
    ends = sorted({s.last_step for runs in series.values() for s in runs})
    starts = sorted({s.first_step for runs in series.values() for s in runs})
    if len(ends) > 1 or len(starts) > 1:
        notes.append(
            f"the runs cover different steps ({_span(starts)} to {_span(ends)}): final values and areas use steps "
            f"{window.start:g}–{window.end:g}, the range every run covers"
        )

    per: dict[str, dict[str, np.ndarray]] = {}
    out_arms: dict[str, Any] = {}
    for name, runs in series.items():
        finals = np.array([stats.final(s, window) for s in runs])
        aucs = np.array([stats.auc(s, window) for s in runs])
        reach = [stats.steps_to_target(s, target, lower_is_better) for s in runs] if target is not None else [None] * len(runs)
        per[name] = {"final": finals, "auc": aucs}
        entry: dict[str, Any] = {
            "runs": [
                {
                    "path": s.path,
                    "file": s.file,
                    "format": s.format,
                    "column": s.column,
                    "steps": [s.first_step, s.last_step],
                    "points": int(len(s.steps)),
                    "final": float(f),
                    "auc": float(a),
                    "steps_to_target": r,
                }
                for s, f, a, r in zip(runs, finals, aucs, reach)
            ],
            "n_runs": len(runs),
            "final": float(np.mean(finals)),
            "final_ci": _ci(stats.mean_ci(finals, level=confidence)),
            "auc": float(np.mean(aucs)),
            "auc_ci": _ci(stats.mean_ci(aucs, level=confidence)),
            "steps_to_target": None,
        }
        if target is not None:
            got = [r for r in reach if r is not None]
            every = len(got) == len(runs)
            entry["steps_to_target"] = {
                "target": target,
                "reached": len(got),
                "of": len(runs),
                "mean": float(np.mean(got)) if every else None,
                "ci": _ci(stats.mean_ci(np.array(got), level=confidence)) if every else None,
            }
            if every:
                per[name]["steps"] = np.array(got)
        out_arms[name] = entry

    vs: dict[str, Any] = {}
    base = per[baseline]
    n_base = len(series[baseline])
    for name in arms:
        if name == baseline:
            continue
        mine = per[name]
        d_final = stats.mean_difference(mine["final"], base["final"], level=confidence)
        d_auc = stats.mean_difference(mine["auc"], base["auc"], level=confidence)
        d_steps, steps_note, steps_means = None, None, None
        if target is not None:
            if "steps" in mine and "steps" in base:
                d_steps = stats.relative_difference(mine["steps"], base["steps"], level=confidence)
                if d_steps is None:
                    at_zero = " and ".join(n for n in (name, baseline) if np.any(per[n]["steps"] <= 0))
                    steps_note = (
                        f"{at_zero} {'is' if ' and ' not in at_zero else 'are'} at the target from step 0 (a ratio of steps needs steps above 0)"
                    )
                else:
                    steps_means = (_gmean(mine["steps"]), _gmean(base["steps"]))
            else:
                r_arm, r_base = out_arms[name]["steps_to_target"], out_arms[baseline]["steps_to_target"]
                steps_note = f"{name} reached it in {r_arm['reached']} of {r_arm['of']} runs, {baseline} in {r_base['reached']} of {r_base['of']}"
        for label, d, per_seed in (
            ("final", d_final, "difference"),
            ("mean over the window", d_auc, "difference"),
            ("steps to target", d_steps, "ratio"),
        ):
            if d is not None and d.no_spread:
                notes.append(_no_spread_note(name, baseline, label, per_seed, d))
        v = verdict(
            arm=name,
            baseline=baseline,
            metric=metric,
            lower_is_better=lower_is_better,
            window=(window.start, window.end),
            n_arm=len(series[name]),
            n_base=n_base,
            final=d_final,
            auc=d_auc,
            steps=d_steps,
            target=target,
            steps_means=steps_means,
            steps_note=steps_note,
        )
        vs[name] = {
            "pairing": d_final.pairing,
            "n_runs": [len(series[name]), n_base],
            "final_diff": d_final.estimate,
            "final_diff_ci": _ci(d_final.ci),
            "auc_diff": d_auc.estimate,
            "auc_diff_ci": _ci(d_auc.ci),
            "steps_to_target_change": None if d_steps is None else d_steps.estimate,
            "steps_to_target_change_ci": None if d_steps is None else _ci(d_steps.ci),
            "findings": v.findings,
            "verdict": v.text,
        }

    data = {
        "format": FORMAT,
        "metric": metric,
        "lower_is_better": lower_is_better,
        "baseline": baseline,
        "target": target,
        "window": {"start": window.start, "end": window.end, "grid_points": int(len(window.grid))},
        "confidence_intervals": {
            "method": "student-t",
            "library": "scipy.stats.ttest_1samp (an arm's mean; paired differences), scipy.stats.ttest_ind equal_var=False (unpaired: Welch)",
            "confidence_level": confidence,
        },
        "definitions": {
            "window": "steps from the latest first step to the earliest last step over all runs (the range every run covers)",
            "final": "the value at the window's end, linearly interpolated between logged steps; mean over an arm's runs",
            "auc": "area under the linearly interpolated curve over the window divided by its width (the curve's mean, metric's scale)",
            "steps_to_target": "first step at which a run's curve reaches the target (interpolated), over its own steps",
            "differences": "arm − baseline on the metric's scale; steps_to_target_change = gmean(arm) / gmean(baseline) − 1 (geometric means)",
            "confidence_intervals": "Student-t across seeds: of an arm's mean; of the per-seed differences when paired; Welch's when unpaired; "
            "for steps_to_target_change, on log steps and back-transformed with exp(·) − 1",
            "pairing": "paired by seed index when both arms have the same number of runs; unpaired (Welch) otherwise; no CI with one run",
        },
        "arms": out_arms,
        "vs_baseline": vs,
        "notes": notes,
    }
    out = Path(output)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--output '{out}' is a file", "pass a folder; compare.json and compare.png go inside it")
    out.mkdir(parents=True, exist_ok=True)
    png = None
    if plot:
        from curate.compare.plot import plot_compare

        png = out / COMPARE_PNG
        plot_compare(png, series, window, metric, baseline, target)
    path = out / COMPARE_JSON
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, allow_nan=False) + "\n", encoding="utf-8")
    tmp.replace(path)
    return CompareResult(out, path, png, data)


def _read(arm: str, path: str, metric: str) -> Series:
    try:
        return read_series(path, metric)
    except InputError as exc:  # the same error, saying which arm the run belongs to
        raise InputError(f"arm {arm}: {exc.what}", exc.fix) from None


def _gmean(x: np.ndarray) -> float:
    from scipy.stats import gmean

    return float(gmean(x))


def _no_spread_note(arm: str, baseline: str, label: str, per_seed: str, d: stats.Difference) -> str:
    what = f"every seed's {per_seed}" if d.pairing == "paired" else "every run of each arm"
    return f"{arm} vs {baseline}, {label}: {what} is the same, so its CI is that one value ({d.estimate:+.6g}): the seeds did not vary it"


def _span(values: list[float]) -> str:
    return f"{values[0]:g}" if len(values) == 1 else f"{values[0]:g}…{values[-1]:g}"
