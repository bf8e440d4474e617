"""Run a pipeline: every stage is validated first, then run in-process through the stage API.

Each stage's options from the file are validated against that stage's options model
(curate.stages) before anything runs, so a typo in the last stage fails at once (exit 2). Stages
share one run context: one engine per model, one Ray for the whole run, one row store.

Resume and refresh:
- every stage writes its outputs atomically, then records a completion marker in
  `<output>/.curate/state.json` keyed by its validated options (canonical JSON), its inputs'
  content and the curate version; a rerun skips stages whose key still matches, so a run killed
  at any moment continues with the first unfinished stage;
- score stages share a row store (`.curate/rows.sqlite`): rows already scored are reused, only new
  or changed rows are computed, batch by batch (so a killed stage also resumes mid-way);
- engine calls go through the request cache (`.curate/requests/`), so no finished model call is
  ever repeated.

Relative paths (the input, the output and path-valued stage options) resolve against the
current directory, like the same paths given as flags.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from curate import __version__
from curate.pipeline.config import PipelineConfig

STATE_DIR = ".curate"


@dataclass
class RunOptions:
    max_reject_rate: float | None = None
    fail_on_empty: bool = False
    force: bool = False  # ignore completion markers and rerun every stage
    base_dir: Path = field(default_factory=Path.cwd)


@dataclass
class StagePlan:
    index: int
    type: str
    name: str
    options: Any  # the stage's validated options model
    inputs: list[str]
    output: str
    summary: str | None
    passes_rows: bool = True

    @property
    def where(self) -> str:
        return f"stages[{self.index}].{self.type}"


def _abs(path: str, base: Path) -> str:
    return path if Path(path).is_absolute() or any(c in path for c in "*?[") else str(base / path)


def plan(cfg: PipelineConfig, base: Path) -> list[StagePlan]:
    """Every stage's inputs, outputs and validated options, before any stage runs.

    Where a stage reads and writes is the stage's own answer (its `plan` hook; a row stage by
    default); the runner only threads the rows from one row stage to the next.
    """
    from curate.stages import build_options, get_stage
    from curate.stages.base import Slot, default_placement
    from curate.stages.options import split_names

    out_dir = Path(cfg.output)
    stages = cfg.stage_list()
    last_of = {t: i for i, (t, _) in enumerate(stages)}
    plans: list[StagePlan] = []
    current = [_abs(p, base) for p in cfg.input]
    last_model: str | None = None
    for i, (t, raw) in enumerate(stages):
        name = f"{i + 1:02d}-{t}"
        stage = get_stage(t)
        model = stage.Options
        values = {k.replace("-", "_"): v for k, v in raw.items()}
        for k, v in (("seed", cfg.seed), ("text_field", cfg.text_field), ("id_field", cfg.id_field)):
            if k in model.model_fields and k not in values:
                values[k] = v
        slot = Slot(out_dir, name, last_of[t] == i, list(current))
        hook = getattr(stage, "plan", None)
        place = hook(slot) if hook else default_placement(model, slot)
        uses_model = t == "score" and "predicted" in split_names(values.get("signals") or [])
        if uses_model and last_model and "predictor" not in values:
            values["predictor"] = last_model  # the model of the latest fit stage
        if uses_model and values.get("predictor"):
            values["predictor"] = _abs(values["predictor"], base)
        opts = build_options(model, values, f"stages[{i}].{t}", place.fixed)
        inputs = place.inputs if place.inputs is not None else list(place.fixed.get("inputs", []))
        if hasattr(stage, "inputs"):
            inputs = stage.inputs(opts)
        if uses_model and values.get("predictor"):
            inputs = inputs + [str(Path(values["predictor"]) / f) for f in ("model.json", "arrays.npz")]  # a refit model reruns the stage
        if t == "fit":
            last_model = place.output
        plans.append(StagePlan(i, t, name, opts, inputs, place.output, place.summary, place.passes_rows))
        if place.passes_rows:
            current = [place.output]
    return plans


def _stage_key(p: StagePlan, cfg: PipelineConfig) -> str:
    from curate.io import input_hashes

    srcs = [s for s in p.inputs if Path(s).exists()]
    payload = {
        "type": p.type,
        "options": p.options.model_dump(mode="json"),
        "inputs": input_hashes(srcs),
        "engine": cfg.engine.model_dump(),
        "executor": [cfg.executor, cfg.ray_address],
        "version": __version__,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _load_state(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return {"stages": {}}


def _save_state(path: Path, state: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=2))
    os.replace(tmp, path)


def _clean_stale_temps(out_dir: Path) -> None:
    """Remove temporaries of a run that was killed mid-write (they are never mistaken for results)."""
    for d in [out_dir, out_dir / "stages"]:
        if d.is_dir():
            for p in d.glob(".curate-*"):
                shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)


def run_settings(cfg: PipelineConfig, state_dir: Path) -> Any:
    """The run context's settings for a pipeline: its engine and executor, state under `.curate/`."""
    from curate.engines.base import EngineConfig
    from curate.stages import RunSettings

    eng = cfg.engine
    return RunSettings(
        engine=EngineConfig(engine=eng.engine, model=eng.model, url=eng.url, cache=eng.cache, seed=cfg.seed),
        executor="ray" if cfg.ray_address else cfg.executor,
        executor_address=cfg.ray_address,
        request_cache=str(state_dir / "requests"),
        row_store=str(state_dir / "rows.sqlite"),
        state_dir=str(state_dir),
    )


def run_pipeline(cfg: PipelineConfig, opts: RunOptions, reporter: Any = None) -> dict[str, Any]:
    """Run `cfg`'s stages in order, skipping finished ones; returns what ran and each stage's summary."""
    from curate.stages import RunContext

    out_dir = Path(cfg.output)
    if not out_dir.is_absolute():
        out_dir = opts.base_dir / out_dir
        cfg = cfg.model_copy(update={"output": str(out_dir)})
    plans = plan(cfg, opts.base_dir)  # every stage validated before the first one runs
    from curate.io import expand_inputs

    expand_inputs([_abs(p, opts.base_dir) for p in cfg.input])  # a missing input fails before anything is written
    state_dir = out_dir / STATE_DIR
    (out_dir / "stages").mkdir(parents=True, exist_ok=True)
    _clean_stale_temps(out_dir)
    with RunContext(run_settings(cfg, state_dir), reporter) as ctx:
        return _run(cfg, opts, plans, out_dir, state_dir / "state.json", ctx)


def _run(cfg: PipelineConfig, opts: RunOptions, plans: list[StagePlan], out_dir: Path, state_path: Path, ctx: Any) -> dict[str, Any]:
    from curate.stages import get_stage

    state = {"stages": {}} if opts.force else _load_state(state_path)
    started = time.perf_counter()
    report: dict[str, Any] = {"pipeline_output": str(out_dir), "stages": []}
    for p in plans:
        if p.type == "report":
            _merge_synth_summaries(out_dir, report)
        key = _stage_key(p, cfg)
        done = state["stages"].get(p.name)
        entry: dict[str, Any] = {"name": p.name, "type": p.type, "output": p.output}
        if done and done.get("key") == key and Path(p.output).exists():
            entry["status"] = "skipped (unchanged)"
            entry["summary"] = _read_json(p.summary)
            report["stages"].append(entry)
            continue
        t0 = time.perf_counter()
        ctx.info(f"[bold]▶ {p.name}[/]: {p.type} {' '.join(p.inputs) if p.passes_rows else ''} → {p.output}")
        summary = get_stage(p.type).run(p.options, ctx)
        data = summary.to_json()
        if p.summary:
            _write_json(Path(p.summary), data)
        entry["status"] = "ran"
        entry["seconds"] = round(time.perf_counter() - t0, 3)
        if p.passes_rows:
            ctx.info(
                f"  {p.name}: {summary.rows_in:,} rows in, {summary.rows_out:,} out, {summary.quarantined:,} quarantined in {entry['seconds']:.1f}s"
            )
        entry["summary"] = data if p.summary else None
        report["stages"].append(entry)
        if summary.complete:
            state["stages"][p.name] = {"key": key, "output": p.output, "finished": time.time()}
        else:  # rows left unfinished (e.g. code checks this machine cannot run): the next run redoes the stage
            state["stages"].pop(p.name, None)
            entry["status"] = "ran (incomplete: rerun to finish)"
        _save_state(state_path, state)
        summary.check_gates(getattr(p.options, "max_reject_rate", None), name=p.name)
        summary.check_gates(opts.max_reject_rate, opts.fail_on_empty, name=p.name)
    _merge_synth_summaries(out_dir, report)
    report["seconds"] = round(time.perf_counter() - started, 3)
    report["changed"] = [s["name"] for s in report["stages"] if s["status"].startswith("ran")]
    return report


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, default=str) + "\n")


def _read_json(path: str | None) -> dict[str, Any] | None:
    if not path or not Path(path).exists():
        return None
    try:
        return json.loads(Path(path).read_text())
    except json.JSONDecodeError:
        return None


def _merge_synth_summaries(out_dir: Path, report: dict[str, Any]) -> None:
    synth = [s for s in report["stages"] if s["type"] == "synthesize" and s.get("summary")]
    if not synth:
        return
    merged: dict[str, Any] = {"stages": [{"name": s["name"], **s["summary"]} for s in synth], "funnel": {}}
    for s in synth:
        for mode, ops in (s["summary"].get("funnel") or {}).items():
            dst = merged["funnel"].setdefault(mode, {})
            if isinstance(ops, dict):
                for op, counts in ops.items():
                    if isinstance(counts, dict):
                        d = dst.setdefault(op, {})
                        for k, v in counts.items():
                            if isinstance(v, (int, float)):
                                d[k] = d.get(k, 0) + v
    (out_dir / "synth-summary.json").write_text(json.dumps(merged, indent=2, default=str) + "\n")
