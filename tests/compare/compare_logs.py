"""Synthetic training logs with known curves, in every format `curate compare` reads."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

STEPS = np.arange(0, 1001, 100)


def curve(steps=STEPS, scale: float = 1.0, seed: int | None = 0, noise: float = 0.01, shift: float = 0.0) -> np.ndarray:
    """A decaying loss, times `scale`, plus `shift`, with seeded multiplicative noise (none when seed is None)."""
    steps = np.asarray(steps, dtype=float)
    base = 2.0 + 3.0 * np.exp(-steps / 300.0)
    if seed is not None:
        base = base * (1 + np.random.default_rng(seed).normal(0, noise, len(steps)))
    return scale * base + shift


def linear(steps=STEPS, scale: float = 1.0) -> np.ndarray:
    """5 − step/250, times `scale`: areas, finals and crossings have closed forms."""
    return scale * (5.0 - np.asarray(steps, dtype=float) / 250.0)


def hf_state(path: Path, steps, values, metric: str = "eval_loss", train: bool = True) -> Path:
    """A trainer_state.json shaped like HF Trainer's: separate train and eval entries, then the train summary."""
    path = Path(path)
    if path.suffix != ".json":
        path = path / "trainer_state.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    history = []
    for s, v in zip(steps, values):
        s = int(s)
        if train and s > 0:
            history.append({"epoch": s / 1000, "grad_norm": 1.0, "learning_rate": 1e-3, "loss": float(v) + 0.05, "step": s})
        history.append({"epoch": s / 1000, metric: float(v), f"{metric.removesuffix('_loss')}_runtime": 0.5, "step": s})
    history.append({"epoch": 1.0, "step": int(steps[-1]), "total_flos": 1.0, "train_loss": 3.0, "train_runtime": 10.0})
    state = {
        "best_metric": None,
        "epoch": 1.0,
        "eval_steps": 100,
        "global_step": int(steps[-1]),
        "log_history": history,
        "logging_steps": 100,
        "max_steps": int(steps[-1]),
    }
    path.write_text(json.dumps(state, indent=2))
    return path


def csv_log(path: Path, steps, values, step_col: str = "step", metric_col: str = "eval_loss", extra: dict | None = None, sep: str = ",") -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    extra = extra or {}
    with path.open("w", newline="") as fh:
        w = csv.writer(fh, delimiter=sep)
        w.writerow([step_col, metric_col, *extra])
        for i, (s, v) in enumerate(zip(steps, values)):
            w.writerow([int(s), repr(float(v)), *(col[i] for col in extra.values())])
    return path


def tensorboard_csv(path: Path, steps, values) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["Wall time", "Step", "Value"])
        for i, (s, v) in enumerate(zip(steps, values)):
            w.writerow([1.7e9 + i, int(s), repr(float(v))])
    return path


def wandb_history_csv(path: Path, steps, values, metric: str = "eval/loss") -> Path:
    """W&B history export: one row per log call, `_step` counting calls, the trainer step in train/global_step, gaps as empty cells."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["_step", "_runtime", "train/global_step", "train/loss", metric])
        call = 0
        for s, v in zip(steps, values):
            w.writerow([call, call * 1.5, int(s), repr(float(v) + 0.05), ""])
            w.writerow([call + 1, call * 1.5 + 0.1, int(s), "", repr(float(v))])
            call += 2
    return path


def jsonl_log(path: Path, steps, values, metric: str = "eval_loss") -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = []
    for s, v in zip(steps, values):
        lines.append(json.dumps({"step": int(s), "loss": float(v) + 0.05}))
        lines.append(json.dumps({"step": int(s), metric: float(v)}))
    path.write_text("\n".join(lines) + "\n")
    return path


def trial_folder(root: Path, arms: dict[str, list[tuple[int, np.ndarray]]], steps=STEPS, baseline: str = "baseline", **extra) -> Path:
    """A `curate trial` folder: runs/<arm>/seed-<n>/trainer_state.json and trial.json listing them (docs/evidence.md)."""
    root = Path(root)
    manifest: dict = {"format": "curate-trial/1", "baseline": baseline, "metric": "eval_loss", "arms": {}, **extra}
    for name, runs in arms.items():
        entries = []
        for seed, values in runs:
            rel = f"runs/{name}/seed-{seed}"
            hf_state(root / rel, steps, values)
            entries.append({"seed": seed, "path": rel})
        manifest["arms"][name] = {"runs": entries, "lr": 1e-3}
    (root / "trial.json").write_text(json.dumps(manifest, indent=2))
    return root
