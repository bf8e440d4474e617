"""`run_trial()`: held-out split → one ordered folder per arm → LR sweep → seeds → trial.json → compare.

Layout of the trial folder (the part `curate compare` reads is its contract, docs/evidence.md):

    TRIAL_DIR/
      trial.json                                  # arms, runs, chosen LRs, held-out split, settings, compute
      runs/<arm>/seed-<n>/trainer_state.json      # HF Trainer state (log_history with eval_loss)
      runs/<arm>/seed-<n>/row_losses.jsonl        # {"id", "step", "loss"} per row read
      runs/<arm>/seed-<n>/run.json                # what made the run (its key), final losses, tokens, seconds
      sweep/<arm>/lr-<lr>/…                       # the LR sweep's runs (seed 0), same files
      data/                                       # train.parquet and the arms' ordered folders
      compare/compare.json, compare.png           # curate compare on the runs

**Learning rate per arm.** With `lr_sweep`, each arm trains seed 0 once per learning rate and
keeps the one with the lowest `eval_tune_loss` at the last step (ties: the smaller rate; a run
whose loss is not finite is never chosen). The tune split is held-out text that is not the eval
split, so the loss that picks the rate is not the loss that is compared. That seed-0 run is the
arm's seed-0 run (the same seed and rate would train it again identically); the other seeds train
at the chosen rate. Without a sweep every arm trains at `lr`.

**Resuming.** Each run is written atomically with a key (a hash of its arm's manifest, seed,
rate, held-out ids, tokenizer, settings and versions); a rerun with the same options reuses every
finished run and trains only what is missing.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from curate.errors import CurateError, InputError, UsageError
from curate.trial.data import BASELINE, Arm, Source
from curate.trial.model import ModelSpec
from curate.trial.train import EVAL_METRIC, TUNE_METRIC, Corpus, RunResult, TrainSettings

TRIAL_JSON = "trial.json"
MARKER = ".curate-trial"
DEVICES = ("auto", "cpu", "cuda", "mps")


@dataclass
class TrialConfig:
    ordered: str
    output: str
    seeds: int = 3
    controls: list[str] = field(default_factory=list)
    lr: float = 1e-3
    lr_sweep: list[float] = field(default_factory=list)
    eval: str | None = None
    eval_fraction: float = 0.1
    split_seed: int = 0
    eval_every: int | None = None
    max_steps: int | None = None
    device: str = "auto"
    model: str = "llama"
    layers: int = 2
    width: int = 128
    max_length: int = 128
    tokenizer: str | None = None
    vocab: int = 4096  # 0: every token the text uses
    text_field: str = "text"
    lr_warmup: float = 0.05
    weight_decay: float = 0.01


@dataclass
class TrialResult:
    trial_json: Path
    data: dict[str, Any]
    runs: list[RunResult]
    compare: Any  # curate.compare.CompareResult
    notes: list[str]


class _Say:
    """Messages and progress for people; the library stays silent without a reporter."""

    def __init__(self, reporter: Any):
        self.r = reporter

    def info(self, msg: str) -> None:
        if self.r is not None:
            self.r.info(msg)

    def warn(self, msg: str) -> None:
        if self.r is not None:
            self.r.warn(msg)

    def progress(self, description: str, total: int, unit: str) -> Any:
        import contextlib

        if self.r is None:
            return contextlib.nullcontext(None)
        return self.r.progress(description, total, unit)


def _check_output(out: Path) -> None:
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / MARKER).exists())):
        raise UsageError(f"'{out}' exists and is not an earlier `curate trial` output", "choose a new or empty folder for -o")


def _resolve_device(device: str) -> str:
    import torch

    if device not in DEVICES:
        raise UsageError(f"--device must be one of {', '.join(DEVICES)} (got {device!r})")
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise UsageError("--device cuda, but torch sees no CUDA device", "use --device cpu (or auto)")
    if device == "mps" and not torch.backends.mps.is_available():
        raise UsageError("--device mps, but torch sees no MPS device", "use --device cpu (or auto)")
    return device


def _check_config(cfg: TrialConfig) -> None:
    from curate.order.schedules import SCHEDULES

    if cfg.seeds < 1:
        raise UsageError(f"--seeds must be at least 1 (got {cfg.seeds})")
    for c in cfg.controls:
        SCHEDULES.get(c)
    for v in [cfg.lr, *cfg.lr_sweep]:
        if not (v > 0 and math.isfinite(v)):
            raise UsageError(f"learning rates must be positive (got {v})", "e.g. --lr-sweep 3e-4,1e-3,3e-3")
    if len(set(cfg.lr_sweep)) != len(cfg.lr_sweep):
        raise UsageError(f"--lr-sweep {','.join(f'{v:g}' for v in cfg.lr_sweep)} repeats a value", "give each learning rate once")
    if not 0 < cfg.eval_fraction < 1:
        raise UsageError(f"--eval-fraction must be in (0, 1) (got {cfg.eval_fraction})")
    if cfg.vocab == 1 or cfg.vocab < 0:
        raise UsageError(f"--vocab must be 0 (every token) or at least 2 (got {cfg.vocab})")
    if not 0 <= cfg.lr_warmup < 1:
        raise UsageError(f"--lr-warmup must be in [0, 1) (got {cfg.lr_warmup})")
    ModelSpec(cfg.model, cfg.layers, cfg.width, cfg.max_length).check()


def _key(payload: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str).encode()).hexdigest()


def _lr_label(lr: float) -> str:
    return f"lr-{lr:g}"


def _rel(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()


def run_trial(cfg: TrialConfig, reporter: Any = None) -> TrialResult:
    """Run the whole trial described by `cfg`; see the module docstring and docs/evidence.md."""
    import transformers

    import curate
    from curate.trial import data as D
    from curate.trial.model import build_model, build_vocab, load_tokenizer, model_config, tokenize

    say = _Say(reporter)
    t_start = time.perf_counter()
    load_start = os.getloadavg()
    _check_config(cfg)
    out = Path(cfg.output)
    _check_output(out)
    src = D.read_source(cfg.ordered, cfg.text_field)
    device = _resolve_device(cfg.device)
    sweep = list(cfg.lr_sweep) if len(cfg.lr_sweep) > 1 else []
    base_lr = cfg.lr_sweep[0] if len(cfg.lr_sweep) == 1 else cfg.lr  # a one-value sweep is that rate
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_text("a `curate trial` output folder\n")

    frame = D.distinct_rows(src)
    if cfg.eval is None:
        held = D.carve(frame, src, cfg.eval_fraction, cfg.split_seed, tune=bool(sweep))
    else:
        held = D.given(cfg.eval, cfg.text_field, src.id_field, cfg.split_seed, bool(sweep), set(frame[src.text_field].to_list()))
    notes = list(held.notes)
    for n in notes:
        say.warn(n)
    say.info(f"held-out text ({held.how}): {len(held.eval):,} eval rows" + (f", {len(held.tune):,} tune rows for the LR sweep" if sweep else ""))
    arms = D.prepare_arms(src, frame, held, cfg.controls, out / "data", say.info)

    tok, tok_name = load_tokenizer(cfg.tokenizer)
    train = D.training_rows(frame, src, held)
    train_ids = [str(v) for v in train[src.id_field].to_list()]
    splits = {"eval": held.eval, **({"tune": held.tune} if sweep else {})}
    texts = [str(t) for t in train[src.text_field].to_list()] + [t for rows in splits.values() for _, t in rows]
    vocab, token_rows = build_vocab(tokenize(tok, texts, cfg.max_length), counted=len(train_ids), max_size=cfg.vocab or None)
    rows = dict(zip(train_ids, token_rows[: len(train_ids)]))
    held_rows: dict[str, list[Any]] = {}
    at = len(train_ids)
    for name, split in splits.items():
        held_rows[name] = token_rows[at : at + len(split)]
        at += len(split)
    corpus = Corpus(vocab.size, rows, held_rows)
    build_model(model_config(ModelSpec(cfg.model, cfg.layers, cfg.width, cfg.max_length), vocab.size))  # fails here, not after the first run
    say.info(
        f"tokenized {len(train_ids):,} training rows ({sum(len(r) for r in rows.values()):,} tokens after truncation to {cfg.max_length}); "
        f"vocabulary of the trial: {vocab.size:,} ids for the tokenizer's {len(tok):,} tokens"
        + (f" (the {vocab.size - 1:,} most frequent in the training rows, and one for all others)" if vocab.shared else "")
    )

    lengths = {a.name: len(D.stream_ids(a.folder, D.CURRICULUM, src.id_field)) for a in arms}
    if len(set(lengths.values())) != 1:
        notes.append("the arms read different numbers of rows: " + ", ".join(f"{k} {v}" for k, v in lengths.items()))
        say.warn(notes[-1])
    stream_steps = math.ceil(min(lengths.values()) / src.batch_size)
    if cfg.max_steps is not None and cfg.max_steps > stream_steps:
        raise UsageError(
            f"--max-steps {cfg.max_steps} is more than the {stream_steps} steps of {src.batch_size} rows the arms hold",
            "lower --max-steps, or order a longer run (`curate order --steps/--num-samples`)",
        )
    steps = cfg.max_steps or stream_steps
    if steps < stream_steps:
        notes.append(
            f"the trial trains {steps} of the {stream_steps} steps the order was planned for: a curriculum arm reads only its first "
            f"{steps / stream_steps:.0%} (the easier part); order with --steps {steps} for a schedule paced to this budget"
        )
        say.warn(notes[-1])
    settings = TrainSettings(
        ModelSpec(cfg.model, cfg.layers, cfg.width, cfg.max_length),
        steps,
        src.batch_size,
        cfg.eval_every or max(1, steps // 10),
        cfg.lr_warmup,
        cfg.weight_decay,
        device,
    )
    common = {
        "settings": settings.describe(),
        "held_out": held.describe(cfg.eval_fraction, cfg.split_seed, cfg.eval),
        "tokenizer": tok_name,
        "vocab": vocab.size,
        "versions": [curate.__version__, transformers.__version__, __import__("torch").__version__],
    }
    digests = {a.name: D.manifest_digest(a.folder) for a in arms}

    def key(arm: Arm, seed: int, lr: float) -> str:
        return _key({**common, "arm": arm.name, "manifest": digests[arm.name], "seed": seed, "lr": lr})

    plan = _plan(arms, cfg.seeds, sweep, base_lr, out)
    total_steps = steps * len(plan)
    results: list[RunResult] = []
    trained = {"steps": 0, "seconds": 0.0, "runs": 0, "trained": 0}
    with say.progress(f"curate trial: {len(plan)} runs", total_steps, "steps") as bar:
        chosen: dict[str, float] = {}
        sweep_losses: dict[str, dict[float, float]] = {a.name: {} for a in arms}

        def step_cb(n: int) -> None:
            if bar is not None:
                bar.update(n)

        def do(arm: Arm, seed: int, lr: float, where: Path) -> RunResult:
            from curate.trial.train import reuse, train_run

            k = key(arm, seed, lr)
            r = reuse(where, k)
            trained["runs"] += 1
            if r is not None:
                step_cb(steps)
                say.info(f"{arm.name} seed {seed} lr {lr:g}: reused ({_rel(where, out)})")
                return r
            r = train_run(arm, seed, lr, where, corpus, settings, src.id_field, k, step_cb)
            trained["steps"] += steps
            trained["trained"] += 1
            trained["seconds"] += r.seconds
            eta = trained["seconds"] / trained["steps"] * steps * (len(plan) - trained["runs"])
            say.info(
                f"{arm.name} seed {seed} lr {lr:g}: {EVAL_METRIC} {r.final.get(EVAL_METRIC, float('nan')):.4f}"
                + (f", {TUNE_METRIC} {r.final[TUNE_METRIC]:.4f}" if TUNE_METRIC in r.final else "")
                + f" ({r.seconds:.0f} s); {trained['runs']}/{len(plan)} runs, about {_minutes(eta)} left"
            )
            return r

        for arm in arms:  # the sweep first: it decides each arm's rate
            for lr in sweep:
                r = do(arm, 0, lr, out / "sweep" / arm.name / _lr_label(lr))
                results.append(r)
                sweep_losses[arm.name][lr] = r.final.get(TUNE_METRIC, float("nan"))
            chosen[arm.name] = _choose(arm.name, sweep_losses[arm.name], notes, say) if sweep else base_lr
        for arm in arms:
            for seed in range(cfg.seeds):
                where = out / "runs" / arm.name / f"seed-{seed}"
                lr = chosen[arm.name]
                if sweep and seed == 0:
                    src_run = out / "sweep" / arm.name / _lr_label(lr)
                    if where.exists():
                        shutil.rmtree(where)
                    where.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copytree(src_run, where)
                    r0 = next(r for r in results if r.arm == arm.name and r.lr == lr and r.seed == 0)
                    results.append(
                        RunResult(arm.name, 0, lr, where, r0.final, r0.tokens, r0.rows, r0.rows_without_loss, r0.seconds, reused=r0.reused)
                    )
                    continue
                results.append(do(arm, seed, lr, where))

    finals = [r for r in results if r.path.parent.parent.name == "runs"]
    data = _trial_json(cfg, src, arms, held, settings, out, finals, chosen, sweep_losses, sweep, base_lr, tok_name, vocab.size, notes)
    data["rows"] = {"source": frame.height, "train": train.height, "eval": len(held.eval), "tune": len(held.tune)}
    data["compute"] = {
        "seconds": round(time.perf_counter() - t_start, 1),
        "trained_runs": trained["trained"],
        "trained_steps": trained["steps"],
        "training_seconds": round(trained["seconds"], 1),
        "device": device,
        "threads": __import__("torch").get_num_threads(),
        "load_average_start": [round(x, 2) for x in load_start],
        "load_average_end": [round(x, 2) for x in os.getloadavg()],
    }
    path = out / TRIAL_JSON
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2, allow_nan=False) + "\n")
    os.replace(tmp, path)
    cmp = _compare(out)
    return TrialResult(path, data, finals, cmp, notes)


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.0f} min" if seconds >= 90 else f"{seconds:.0f} s"


def _plan(arms: list[Arm], seeds: int, sweep: list[float], lr: float, out: Path) -> list[tuple[str, int, float]]:
    runs = [(a.name, 0, v) for a in arms for v in sweep]
    runs += [(a.name, s, lr) for a in arms for s in range(1 if sweep else 0, seeds)]
    return runs


def _choose(arm: str, losses: dict[float, float], notes: list[str], say: _Say) -> float:
    ok = {lr: v for lr, v in losses.items() if math.isfinite(v)}
    if not ok:
        raise CurateError(
            f"every learning rate of the sweep diverged for arm '{arm}' ({TUNE_METRIC} not finite)", "give smaller values to --lr-sweep"
        )
    best = min(ok, key=lambda lr: (ok[lr], lr))
    ordered = sorted(losses)
    if len(ordered) > 1 and best in (ordered[0], ordered[-1]):
        edge = "smallest" if best == ordered[0] else "largest"
        notes.append(f"arm '{arm}': the best learning rate is the sweep's {edge} ({best:g}); a rate beyond it may be better — widen --lr-sweep")
        say.warn(notes[-1])
    say.info(f"{arm}: learning rate {best:g} ({TUNE_METRIC} " + ", ".join(f"{lr:g}: {v:.4f}" for lr, v in sorted(losses.items())) + ")")
    return best


def _trial_json(
    cfg: TrialConfig,
    src: Source,
    arms: list[Arm],
    held: Any,
    settings: TrainSettings,
    out: Path,
    finals: list[RunResult],
    chosen: dict[str, float],
    sweep_losses: dict[str, dict[float, float]],
    sweep: list[float],
    base_lr: float,
    tok_name: str,
    vocab: int,
    notes: list[str],
) -> dict[str, Any]:
    from curate.trial import data as D

    arms_out: dict[str, Any] = {}
    for a in arms:
        runs = sorted((r for r in finals if r.arm == a.name), key=lambda r: r.seed)
        entry: dict[str, Any] = {
            "runs": [{"seed": r.seed, "path": _rel(r.path, out), "lr": r.lr, "final_eval_loss": _num(r.final.get(EVAL_METRIC))} for r in runs],
            "lr": chosen[a.name],
            **a.record(out),
            "rows": runs[0].rows if runs else None,
            "tokens": runs[0].tokens if runs else None,
        }
        if sweep:
            entry["sweep"] = {
                f"{lr:g}": {"path": _rel(out / "sweep" / a.name / _lr_label(lr), out), TUNE_METRIC: _num(v)}
                for lr, v in sorted(sweep_losses[a.name].items())
            }
        arms_out[a.name] = entry
    return {
        "format": "curate-trial/1",
        "baseline": BASELINE,
        "metric": EVAL_METRIC,
        "arms": arms_out,
        "source": {"ordered": str(src.folder), "manifest_sha256": D.manifest_digest(src.folder), "schedule": src.schedule},
        "held_out": held.describe(cfg.eval_fraction if cfg.eval is None else None, cfg.split_seed, cfg.eval),
        "lr_selection": (
            "per arm: seed 0 trained at each --lr-sweep value; the lowest eval_tune_loss at the last step wins "
            "(ties: the smaller rate; non-finite losses never win); that run is the arm's seed 0"
        )
        if sweep
        else f"every arm at {base_lr:g}",
        "lr_sweep": sweep,
        "seeds": cfg.seeds,
        "seeds_vary": "the model's initialisation; every seed of an arm reads the same order",
        "training": settings.describe(),
        "tokenizer": tok_name,
        "vocab_size": vocab,
        "row_losses": "runs/<arm>/seed-<n>/row_losses.jsonl: {id, step, loss}, loss = the row's mean next-token NLL before that step's update",
        "notes": notes,
    }


def _num(v: float | None) -> float | None:
    return v if v is not None and math.isfinite(v) else None


def _compare(out: Path) -> Any:
    from curate.compare import compare, resolve_arms

    arms, baseline, metric = resolve_arms([str(out)], [])
    try:
        return compare(arms, out / "compare", baseline=baseline or BASELINE, metric=metric or EVAL_METRIC)
    except InputError as exc:
        raise InputError(f"the trial's runs are written, but comparing them failed: {exc.what}", exc.fix or f"see {out / TRIAL_JSON}") from None
