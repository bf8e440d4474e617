"""Training logs → one metric's (step, value) series per run.

Formats: HF `trainer_state.json` (`log_history`), a JSON array of log entries, JSONL (one entry a
line), CSV/TSV (W&B and TensorBoard exports), a run folder holding `trainer_state.json` (or its
last `checkpoint-N/`), and `curate trial` folders (`trial.json`, see docs/evidence.md).

A series is strictly increasing in step with finite values. Entries that do not carry the metric
(HF logs training and evaluation in separate entries) are not part of its series. Anything else
is an InputError naming the file: bad JSON, a non-numeric or non-finite value, steps that go
backwards, two different values at one step. The same value logged twice at one step (HF's
`trainer.evaluate()` after a final evaluation) counts once.
"""

from __future__ import annotations

import csv
import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from glob import glob
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from curate.errors import InputError, UsageError

# Step columns, most specific first. W&B's `_step` counts log calls, not optimiser steps, so the
# trainer's own step (`train/global_step`, written by HF's W&B callback) wins when both exist.
STEP_COLUMNS = ("step", "Step", "global_step", "train/global_step", "_step")
TENSORBOARD_COLUMNS = ("Wall time", "Step", "Value")  # TensorBoard's "Download CSV" of one scalar tag
TRAINER_STATE = "trainer_state.json"
TRIAL_MANIFEST = "trial.json"
TRIAL_FORMAT = "curate-trial/1"
CSV_SUFFIXES = {".csv": ",", ".tsv": "\t"}
JSONL_SUFFIXES = (".jsonl", ".ndjson")


@dataclass(frozen=True)
class Series:
    """One run's values of one metric, steps strictly increasing."""

    path: str  # what the user named (folder or file)
    file: str  # the file the values came from
    format: str  # hf_trainer_state | json_entries | jsonl | csv | tensorboard_csv
    metric: str
    column: str  # the column or key that held the metric
    steps: np.ndarray
    values: np.ndarray

    @property
    def first_step(self) -> float:
        return float(self.steps[0])

    @property
    def last_step(self) -> float:
        return float(self.steps[-1])


# -- arms ---------------------------------------------------------------------------------------


class TrialRun(BaseModel):
    model_config = ConfigDict(extra="allow")
    seed: int = Field(description="Seed of this run; runs pair across arms in seed order.")
    path: str = Field(description="Run folder (holding trainer_state.json) or log file, relative to the trial folder.")


class TrialArm(BaseModel):
    model_config = ConfigDict(extra="allow")  # what trial records about an arm (order, lr, ...) is passed over
    runs: list[TrialRun] = Field(min_length=1)


class TrialManifest(BaseModel):
    """`TRIAL_DIR/trial.json`: the contract between `curate trial` and `curate compare` (docs/evidence.md)."""

    model_config = ConfigDict(extra="allow")
    format: str = TRIAL_FORMAT
    baseline: str | None = None
    metric: str | None = None
    arms: dict[str, TrialArm] = Field(min_length=1)


@dataclass(frozen=True)
class Trial:
    root: Path
    baseline: str | None
    metric: str | None
    arms: dict[str, list[str]]  # arm → run paths, in seed order


def is_trial(path: str | Path) -> bool:
    return (Path(path) / TRIAL_MANIFEST).is_file()


def read_trial(folder: str | Path) -> Trial:
    """Arms and runs of a `curate trial` folder, from its trial.json."""
    root = Path(folder)
    file = root / TRIAL_MANIFEST
    if not file.is_file():
        raise InputError(f"{root} has no {TRIAL_MANIFEST}", "pass a folder `curate trial` wrote, or name runs with --arm NAME=PATH")
    data = _load_json(file)
    try:
        manifest = TrialManifest.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise InputError(
            f"{file}: {where}: {first['msg']}", 'trial.json needs {"arms": {NAME: {"runs": [{"seed": N, "path": ...}]}}} (docs/evidence.md)'
        ) from None
    if manifest.format != TRIAL_FORMAT:
        raise InputError(f"{file}: format '{manifest.format}' is not {TRIAL_FORMAT}", "upgrade curate, or rewrite the trial with this version")
    arms: dict[str, list[str]] = {}
    for name, arm in manifest.arms.items():
        _check_arm_name(name, str(file))
        seeds = [r.seed for r in arm.runs]
        if len(set(seeds)) != len(seeds):
            raise InputError(f"{file}: arm '{name}' lists seed {_first_repeat(seeds)} twice", "give each run of an arm its own seed")
        arms[name] = [str(root / r.path) for r in sorted(arm.runs, key=lambda r: r.seed)]
    return Trial(root, manifest.baseline, manifest.metric, arms)


def _first_repeat(items: list[Any]) -> Any:
    seen: set[Any] = set()
    for x in items:
        if x in seen:
            return x
        seen.add(x)
    return None


def _check_arm_name(name: str, where: str) -> None:
    if not name or not re.fullmatch(r"[A-Za-z0-9_.+-]+", name):
        raise UsageError(f"arm name '{name}' ({where}) is not a plain name", "use letters, digits and _ . + - (e.g. baseline, root, warmup-0.2)")


def parse_arm(spec: str) -> tuple[str, list[str]]:
    """`NAME=PATH[,PATH...]` → (NAME, paths). A path with * ? [ is a glob, expanded in sorted order."""
    name, sep, rest = spec.partition("=")
    name = name.strip()
    if not sep or not name or not rest.strip():
        raise UsageError(
            f"--arm '{spec}' is not NAME=PATH[,PATH...]", "e.g. --arm baseline=runs/base-s0,runs/base-s1 --arm root=runs/root-s0,runs/root-s1"
        )
    _check_arm_name(name, f"--arm {spec}")
    paths: list[str] = []
    for part in (p.strip() for p in rest.split(",")):
        if not part:
            raise UsageError(f"--arm '{spec}' has an empty path", "separate paths with single commas")
        if any(ch in part for ch in "*?["):
            hits = sorted(glob(part))
            if not hits:
                raise InputError(f"--arm {name}: '{part}' matches nothing", "check the pattern (quote it so the shell leaves it alone)")
            paths.extend(hits)
        else:
            paths.append(part)
    return name, paths


def resolve_arms(runs: Iterable[str] = (), arm_specs: Iterable[str] = ()) -> tuple[dict[str, list[str]], str | None, str | None]:
    """Trial folders and --arm specs → arms (name → run paths), plus a trial's baseline and metric."""
    arms: dict[str, list[str]] = {}
    baseline = metric = None
    sources: dict[str, str] = {}
    for folder in runs:
        if not is_trial(folder):
            hint = "a trial folder holds trial.json" if Path(folder).exists() else "it does not exist"
            raise UsageError(f"'{folder}' is not a `curate trial` folder ({hint})", f"name log files as arms: --arm NAME={folder}")
        trial = read_trial(folder)
        baseline = baseline or trial.baseline
        metric = metric or trial.metric
        for name, paths in trial.arms.items():
            if name in arms:
                raise UsageError(f"arm '{name}' is in both {sources[name]} and {folder}", "compare one trial at a time, or rename with --arm")
            arms[name], sources[name] = paths, folder
    for spec in arm_specs:
        name, paths = parse_arm(spec)
        if name in arms:
            raise UsageError(
                f"arm '{name}' is given twice ({sources[name]} and --arm {spec})", "give each arm once, with all its runs: --arm NAME=PATH,PATH"
            )
        arms[name], sources[name] = paths, f"--arm {spec}"
    return arms, baseline, metric


# -- files --------------------------------------------------------------------------------------


def resolve_log(path: str | Path) -> Path:
    """A log file as given, or a run folder's trainer_state.json (else its highest checkpoint-N's)."""
    p = Path(path)
    if p.is_file():
        return p
    if p.is_dir():
        if (p / TRAINER_STATE).is_file():
            return p / TRAINER_STATE
        checkpoints = [
            (int(m.group(1)), c) for c in p.glob("checkpoint-*") if (m := re.fullmatch(r"checkpoint-(\d+)", c.name)) and (c / TRAINER_STATE).is_file()
        ]
        if checkpoints:
            return max(checkpoints)[1] / TRAINER_STATE
        raise InputError(
            f"{p} holds no {TRAINER_STATE} (nor checkpoint-N/{TRAINER_STATE})", "pass the log file itself (trainer_state.json, .csv, .jsonl)"
        )
    raise InputError(f"run log '{p}' does not exist", "check the path given with --arm")


def read_series(path: str | Path, metric: str) -> Series:
    """One metric's series from a run folder or log file."""
    file = resolve_log(path)
    suffix = file.suffix.lower()
    if suffix in CSV_SUFFIXES:
        fmt, column, pairs = _from_csv(file, metric, CSV_SUFFIXES[suffix])
    elif suffix in JSONL_SUFFIXES:
        fmt, column, pairs = "jsonl", metric, _from_entries(file, metric, _jsonl_entries(file), "line")
    elif suffix == ".json":
        data = _load_json(file)
        if isinstance(data, dict) and "log_history" in data:
            entries, fmt = data["log_history"], "hf_trainer_state"
            if not isinstance(entries, list):
                raise InputError(f"{file}: log_history is not a list", "pass the trainer_state.json HF Trainer wrote")
        elif isinstance(data, list):
            entries, fmt = data, "json_entries"
        else:
            raise InputError(f"{file} has no log_history", "pass HF's trainer_state.json, a JSON array of log entries, or a .jsonl/.csv log")
        column, pairs = metric, _from_entries(file, metric, enumerate(entries), "log_history entry" if fmt == "hf_trainer_state" else "entry")
    else:
        raise InputError(f"{file}: unknown log format '{file.suffix or '(no suffix)'}'", "use trainer_state.json, .json, .jsonl, .csv or .tsv")
    steps, values = _clean(file, metric, pairs)
    return Series(str(path), str(file), fmt, metric, column, steps, values)


def _load_json(file: Path) -> Any:
    try:
        text = file.read_text(encoding="utf-8-sig")  # a BOM (Excel, PowerShell) is not content
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{file} could not be read ({exc})", "check the file") from None
    if not text.strip():
        raise InputError(f"{file} is empty", "the run wrote no log yet; point at a finished run")
    try:
        return json.loads(text)  # the stdlib parser: HF writes NaN/Infinity literals, which are named below, not a parse error
    except json.JSONDecodeError as exc:
        raise InputError(f"{file} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})", "fix or regenerate the file") from None


def _jsonl_entries(file: Path) -> Iterable[tuple[int, Any]]:
    try:
        with file.open(encoding="utf-8-sig") as fh:
            for lineno, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    yield lineno, json.loads(line)
                except json.JSONDecodeError as exc:
                    raise InputError(f"{file}: line {lineno} is not valid JSON ({exc.msg})", "fix or drop that line") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{file} could not be read ({exc})", "check the file") from None


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _from_entries(file: Path, metric: str, entries: Iterable[tuple[int, Any]], unit: str) -> list[tuple[float, float, str]]:
    pairs: list[tuple[float, float, str]] = []
    keys: dict[str, None] = {}
    step_key: str | None = None
    seen = 0
    for where, entry in entries:
        seen += 1
        if not isinstance(entry, dict):
            raise InputError(f"{file}: {unit} {where} is not a JSON object", 'each log entry must be an object like {"step": 100, "eval_loss": 2.3}')
        keys.update(dict.fromkeys(entry))
        if metric not in entry:
            continue
        key = step_key if step_key in entry else next((k for k in STEP_COLUMNS if k in entry), None)
        if key is None:
            raise InputError(f"{file}: {unit} {where} has {metric} but no step ({' / '.join(STEP_COLUMNS)})", "log the step with each metric")
        step_key = step_key or key
        step, value = entry[key], entry[metric]
        if not _number(step):
            raise InputError(f"{file}: {unit} {where}: step {step!r} is not a number", "fix that entry")
        if not _number(value):
            raise InputError(f"{file}: {unit} {where}: {metric} {value!r} is not a number", "fix that entry")
        pairs.append((float(step), float(value), f"{unit} {where}"))
    if seen == 0:
        raise InputError(f"{file} holds no log entries", "the run logged nothing; point at a finished run")
    if not pairs:
        raise _no_metric(file, metric, [k for k in keys if k not in STEP_COLUMNS])
    return pairs


def _no_metric(file: Path, metric: str, names: list[str]) -> InputError:
    shown = ", ".join(names[:20]) + (" …" if len(names) > 20 else "")
    return InputError(f"{file} has no '{metric}' values (it has: {shown or 'nothing'})", "pick one with --metric")


def _from_csv(file: Path, metric: str, delimiter: str) -> tuple[str, str, list[tuple[float, float, str]]]:
    try:
        with file.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh, delimiter=delimiter)
            header = next(reader, None)
            rows = list(reader)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"{file} could not be read as CSV ({exc})", "check the file") from None
    if not header:
        raise InputError(f"{file} is empty", "the run wrote no log yet; point at a finished run")
    header = [h.strip() for h in header]
    if not rows:
        raise InputError(f"{file} has a header but no rows", "the run logged nothing; point at a finished run")
    fmt = "csv"
    if tuple(header) == TENSORBOARD_COLUMNS:
        fmt, column = "tensorboard_csv", "Value"  # one tag per file: the file is the metric
    else:
        column = _metric_column(file, header, metric)
    step_col = next((c for c in STEP_COLUMNS if c in header), None)
    if step_col is None:
        raise InputError(
            f"{file} has no step column (looked for {', '.join(STEP_COLUMNS)}; it has {', '.join(header)})", "export the log with its step column"
        )
    si, mi = header.index(step_col), header.index(column)
    pairs: list[tuple[float, float, str]] = []
    for lineno, row in enumerate(rows, 2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise InputError(f"{file}: line {lineno} has {len(row)} fields, the header {len(header)}", "fix that line")
        raw = row[mi].strip()
        if raw == "":
            continue  # not logged at this step (W&B exports one row per log call)
        step, value = _float(file, lineno, step_col, row[si]), _float(file, lineno, column, raw)
        pairs.append((step, value, f"line {lineno}"))
    if not pairs:
        raise InputError(f"{file}: column '{column}' is empty", "the run logged no values of this metric")
    return fmt, column, pairs


def _float(file: Path, lineno: int, column: str, raw: str) -> float:
    try:
        return float(raw.strip())
    except ValueError:
        raise InputError(f"{file}: line {lineno}: {column} '{raw.strip()}' is not a number", "fix that line") from None


def _metric_column(file: Path, header: list[str], metric: str) -> str:
    if metric in header:
        return metric
    # a W&B panel export names its columns "<run> - <metric>" plus __MIN/__MAX companions
    hits = [h for h in header if h.endswith(f" - {metric}")]
    if len(hits) == 1:
        return hits[0]
    if len(hits) > 1:
        raise InputError(
            f"{file} holds '{metric}' for several runs ({', '.join(hits)})", "export one run per file, or pass the full column name with --metric"
        )
    raise _no_metric(file, metric, [h for h in header if h not in STEP_COLUMNS])


def _clean(file: Path, metric: str, pairs: list[tuple[float, float, str]]) -> tuple[np.ndarray, np.ndarray]:
    steps: list[float] = []
    values: list[float] = []
    for step, value, where in pairs:
        if not math.isfinite(step):
            raise InputError(f"{file}: {where}: step is {step}", "fix that entry")
        if not math.isfinite(value):
            raise InputError(
                f"{file}: {where}: {metric} is {value} at step {step:g}",
                "a diverged or broken run has no comparable curve; fix the run, or leave it out of the arm (say so when you report)",
            )
        if steps and step < steps[-1]:
            raise InputError(
                f"{file}: {where}: step {step:g} comes after step {steps[-1]:g} — a restarted or concatenated log",
                "keep one run per file, steps in increasing order",
            )
        if steps and step == steps[-1]:
            if math.isclose(value, values[-1], rel_tol=1e-9, abs_tol=1e-12):
                continue  # the same evaluation logged twice (e.g. trainer.evaluate() after the last eval step)
            raise InputError(
                f"{file}: {where}: two different {metric} values at step {step:g} ({values[-1]:g} and {value:g})",
                "keep one value per step (a log of two runs, or two eval sets under one name?)",
            )
        steps.append(step)
        values.append(value)
    if len(steps) < 2:
        raise InputError(
            f"{file}: only one {metric} value (step {steps[0]:g})",
            "the curve, its area and the common step range need at least two logged steps; evaluate more often",
        )
    return np.asarray(steps, dtype=np.float64), np.asarray(values, dtype=np.float64)
