"""One training run: a fresh model, one arm's rows in that arm's order, HF `Trainer`, per-row losses.

The rows are read through curate's curriculum sampler (`curate.sampler.CurriculumSampler`, with
`curate.integrations.hf.CurriculumMixin` as the Trainer's train sampler), in the ordered folder's
manifest order;
batches hold `batch_size` consecutive rows, so with the folder's own batch size trainer step t
reads curriculum step t. Losses:

- the training loss is the mean next-token NLL over the batch's predicted tokens (padding
  excluded), the usual token-weighted mean;
- each row's loss (`row_losses.jsonl`: `{"id", "step", "loss"}`) is its own mean next-token NLL
  under the model that read it, before that step's update; `step` is the number of optimizer
  steps done before (0-based, equal to the row's `curriculum_step`). A row of one token has no
  next token to predict and so no loss: it is counted, not logged;
- `eval_loss` (and `eval_tune_loss` when the LR sweep has a tune split) is the mean NLL per
  predicted token over the whole held-out split, evaluated at step 0, every `eval_every` steps and
  at the last step.

Reproducible: the seed fixes the initialisation, the order is the folder's, torch runs with
deterministic algorithms, and there is no dropout. The same seed on the same machine gives
identical losses.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from curate.trial.data import Arm
from curate.trial.model import ModelSpec, build_model

ROW_LOSSES = "row_losses.jsonl"
RUN_JSON = "run.json"
TRAINER_STATE = "trainer_state.json"
EVAL_METRIC = "eval_loss"
TUNE_METRIC = "eval_tune_loss"


@dataclass(frozen=True)
class TrainSettings:
    """What every run of a trial shares."""

    spec: ModelSpec
    steps: int
    batch_size: int
    eval_every: int
    lr_warmup: float  # fraction of the steps with a linear LR warm-up, then cosine decay to 0
    weight_decay: float
    device: str  # cpu | cuda | mps (resolved)

    @property
    def warmup_steps(self) -> int:
        return int(round(self.lr_warmup * self.steps))

    def describe(self) -> dict[str, Any]:
        return {
            **self.spec.describe(),
            "steps": self.steps,
            "batch_size": self.batch_size,
            "eval_every": self.eval_every,
            "optimizer": "AdamW (HF Trainer default: betas 0.9, 0.999, eps 1e-8)",
            "weight_decay": self.weight_decay,
            "lr_schedule": f"linear warm-up over {self.warmup_steps} steps, then cosine decay to 0 at step {self.steps}",
            "max_grad_norm": 1.0,
            "device": self.device,
        }


@dataclass
class Corpus:
    """The trial's text, tokenized once: training rows by id, held-out splits as lists of rows."""

    vocab_size: int
    rows: dict[str, np.ndarray]
    held: dict[str, list[np.ndarray]]  # eval, and tune when the LR sweep picks on it


@dataclass
class RunResult:
    arm: str
    seed: int
    lr: float
    path: Path
    final: dict[str, float]  # last eval_loss / eval_tune_loss
    tokens: int  # tokens the run predicted (its loss terms)
    rows: int
    rows_without_loss: int
    seconds: float
    reused: bool = False


@contextlib.contextmanager
def deterministic() -> Iterator[None]:
    """torch's deterministic algorithms for the duration of a run (restored afterwards)."""
    import torch

    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    before = torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(True)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(before)


def _pad(rows: list[np.ndarray]) -> tuple[Any, Any, Any]:
    import torch

    width = max(1, max(len(r) for r in rows))
    ids = torch.zeros((len(rows), width), dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, : len(r)] = torch.from_numpy(np.asarray(r, dtype=np.int64))
        mask[i, : len(r)] = 1
    labels = ids.masked_fill(mask == 0, -100)
    return ids, mask, labels


def row_nll(model: Any, input_ids: Any, attention_mask: Any, labels: Any) -> tuple[Any, Any]:
    """(summed next-token NLL per row, predicted tokens per row)."""
    import torch.nn.functional as F

    logits = model(input_ids=input_ids, attention_mask=attention_mask).logits[:, :-1].float()
    target = labels[:, 1:]
    nll = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), target.reshape(-1), ignore_index=-100, reduction="none").view(target.shape)
    counted = target != -100
    return (nll * counted).sum(dim=1), counted.sum(dim=1)


def held_out_loss(model: Any, rows: list[np.ndarray], batch_size: int, device: Any) -> float:
    """Mean NLL per predicted token over `rows`."""
    import torch

    total, count = 0.0, 0
    was_training = model.training
    model.eval()
    with torch.no_grad():
        for i in range(0, len(rows), batch_size):
            ids, mask, labels = _pad(rows[i : i + batch_size])
            s, n = row_nll(model, ids.to(device), mask.to(device), labels.to(device))
            total += float(s.sum().double())
            count += int(n.sum())
    if was_training:
        model.train()
    return total / count if count else float("nan")


class _RowLog:
    def __init__(self, path: Path):
        self.file = path.open("w", encoding="utf-8")
        self.rows = 0
        self.without_loss = 0
        self.tokens = 0

    def write(self, ids: list[str], step: int, sums: Any, counts: Any) -> None:
        for rid, s, n in zip(ids, sums.tolist(), counts.tolist()):
            self.rows += 1
            if n == 0:
                self.without_loss += 1
                continue
            self.tokens += int(n)
            self.file.write(json.dumps({"id": rid, "step": step, "loss": s / n}) + "\n")

    def close(self) -> None:
        self.file.close()


def _trainer_class() -> type:
    from transformers import Trainer

    from curate.integrations.hf import CurriculumMixin

    class TrialTrainer(CurriculumMixin, Trainer):
        """HF Trainer reading the curriculum sampler's order; logs each row's loss; exact held-out loss."""

        loss_is_scaled_for_ga = False  # compute_loss returns a per-batch mean
        row_log: _RowLog
        held_out: dict[str, list[np.ndarray]]

        def compute_loss(
            self, model: Any, inputs: dict[str, Any], return_outputs: bool = False, num_items_in_batch: Any = None, **kwargs: Any
        ) -> Any:
            ids = inputs.pop("row_ids")
            sums, counts = row_nll(model, inputs["input_ids"], inputs["attention_mask"], inputs["labels"])
            loss = sums.sum() / counts.sum().clamp(min=1)
            if model.training:
                self.row_log.write(ids, int(self.state.global_step), sums.detach(), counts)
            return (loss, None) if return_outputs else loss

        def evaluate(self, eval_dataset: Any = None, ignore_keys: Any = None, metric_key_prefix: str = "eval") -> dict[str, float]:
            metrics = {
                (EVAL_METRIC if name == "eval" else f"eval_{name}_loss"): held_out_loss(
                    self.model, rows, self.args.per_device_eval_batch_size, self.args.device
                )
                for name, rows in self.held_out.items()
            }
            self.log(dict(metrics))
            self.control = self.callback_handler.on_evaluate(self.args, self.state, self.control, metrics)
            return metrics

    return TrialTrainer


def _collator(corpus: Corpus, id_field: str) -> Callable[[list[dict[str, Any]]], dict[str, Any]]:
    def collate(features: list[dict[str, Any]]) -> dict[str, Any]:
        ids = [str(f[id_field]) for f in features]
        input_ids, mask, labels = _pad([corpus.rows[i] for i in ids])
        return {"input_ids": input_ids, "attention_mask": mask, "labels": labels, "row_ids": ids}

    return collate


def train_run(
    arm: Arm,
    seed: int,
    lr: float,
    out: Path,
    corpus: Corpus,
    settings: TrainSettings,
    id_field: str,
    key: str,
    on_step: Callable[[int], None] | None = None,
) -> RunResult:
    """Train one run into `out` (written atomically: trainer_state.json, row_losses.jsonl, run.json)."""
    import torch
    import transformers
    from transformers import PrinterCallback, ProgressCallback, TrainerCallback, TrainingArguments

    from curate.models import offline_env
    from curate.sampler import CurriculumSampler
    from curate.trial.model import model_config

    offline_env()
    transformers.logging.set_verbosity_error()
    t0 = time.perf_counter()
    tmp = out.with_name(f".{out.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    row_log = _RowLog(tmp / ROW_LOSSES)

    class _Steps(TrainerCallback):
        def on_step_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            if on_step is not None:
                on_step(1)

    import datasets

    bars = not datasets.are_progress_bars_disabled()
    datasets.disable_progress_bars()  # stderr carries the trial's own progress
    try:
        with deterministic():
            transformers.set_seed(seed)
            model = build_model(model_config(settings.spec, corpus.vocab_size))
            sampler = CurriculumSampler(arm.folder, id_field=id_field)
            dataset = sampler.dataset.select_columns([id_field])
            args = TrainingArguments(
                output_dir=str(tmp / "hf"),
                per_device_train_batch_size=settings.batch_size,
                per_device_eval_batch_size=max(settings.batch_size, 32),
                max_steps=settings.steps,
                learning_rate=lr,
                lr_scheduler_type="cosine",
                warmup_steps=settings.warmup_steps,
                weight_decay=settings.weight_decay,
                max_grad_norm=1.0,
                logging_steps=settings.eval_every,
                eval_strategy="steps",
                eval_steps=settings.eval_every,
                eval_on_start=True,
                save_strategy="no",
                report_to="none",
                disable_tqdm=True,
                remove_unused_columns=False,
                dataloader_num_workers=0,
                seed=seed,
                data_seed=seed,
                use_cpu=settings.device == "cpu",
            )
            trainer = _trainer_class()(
                model=model, args=args, train_dataset=dataset, eval_dataset=dataset, data_collator=_collator(corpus, id_field), curriculum=sampler
            )
            trainer.row_log = row_log
            trainer.held_out = corpus.held
            trainer.remove_callback(PrinterCallback)
            trainer.remove_callback(ProgressCallback)
            trainer.add_callback(_Steps())
            trainer.train()
            if not any(e.get("step") == trainer.state.global_step and EVAL_METRIC in e for e in trainer.state.log_history):
                trainer.evaluate()
            trainer.state.save_to_json(str(tmp / TRAINER_STATE))
            shutil.rmtree(tmp / "hf", ignore_errors=True)
            del trainer, model
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
    finally:
        row_log.close()
        if bars:
            datasets.enable_progress_bars()
    state = json.loads((tmp / TRAINER_STATE).read_text())
    final = _final(state["log_history"])
    result = RunResult(arm.name, seed, lr, out, final, row_log.tokens, row_log.rows, row_log.without_loss, time.perf_counter() - t0)
    (tmp / RUN_JSON).write_text(json.dumps(_run_record(result, key), indent=2) + "\n")
    if out.exists():
        shutil.rmtree(out)
    os.replace(tmp, out)
    return result


def _final(history: list[dict[str, Any]]) -> dict[str, float]:
    final: dict[str, float] = {}
    for e in history:
        for k in (EVAL_METRIC, TUNE_METRIC):
            if k in e:
                final[k] = float(e[k])
    return final


def _run_record(r: RunResult, key: str) -> dict[str, Any]:
    return {
        "key": key,
        "arm": r.arm,
        "seed": r.seed,
        "lr": r.lr,
        "final": {k: (v if math.isfinite(v) else None) for k, v in r.final.items()},
        "tokens": r.tokens,
        "rows": r.rows,
        "rows_without_loss": r.rows_without_loss,
        "seconds": round(r.seconds, 3),
    }


def reuse(out: Path, key: str) -> RunResult | None:
    """The finished run in `out` when it was made with the same inputs and settings (`key`)."""
    try:
        rec = json.loads((out / RUN_JSON).read_text())
    except (OSError, ValueError):
        return None
    if rec.get("key") != key or not (out / TRAINER_STATE).is_file() or not (out / ROW_LOSSES).is_file():
        return None
    final = {k: (float("nan") if v is None else float(v)) for k, v in rec["final"].items()}
    return RunResult(
        rec["arm"], rec["seed"], rec["lr"], out, final, rec["tokens"], rec["rows"], rec["rows_without_loss"], rec["seconds"], reused=True
    )
