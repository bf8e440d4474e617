"""Run a pipeline: each stage is the command itself, run in-process with the options from the file.

Resume and refresh:
- every stage writes its outputs atomically, then records a completion marker in
  `<output>/.curate/state.json` keyed by a hash of its options, its inputs' content and the curate
  version; a rerun skips stages whose key still matches, so a run killed at any moment continues
  with the first unfinished stage;
- score stages share a row store (`.curate/rows.sqlite`): rows already scored are reused, only new
  or changed rows are computed, batch by batch (so a killed stage also resumes mid-way);
- engine calls go through the request cache (`.curate/requests/` unless configured), so no
  finished model call is ever repeated.
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
from curate.errors import CurateError, InputError, RejectRateExceeded, UsageError
from curate.pipeline.config import RESERVED, PipelineConfig

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
    options: dict[str, Any]
    inputs: list[str]
    output: str
    summary: str | None


def _command(stage_type: str) -> Any:
    import typer.main

    from curate.cli import app

    group = typer.main.get_command(app)
    cmd = group.commands.get(stage_type)  # type: ignore[attr-defined]
    if cmd is None:
        raise UsageError(f"this curate has no '{stage_type}' command", f"available: {', '.join(sorted(group.commands))}")  # type: ignore[attr-defined]
    return cmd


def _params(cmd: Any) -> dict[str, Any]:
    return {p.name: p for p in cmd.params}


def _argv_for(cmd: Any, where: str, options: dict[str, Any]) -> list[str]:
    """Turn a stage's options into the command's own flags; unknown names are errors with the allowed list."""
    params = _params(cmd)
    allowed = sorted(n for n, p in params.items() if p.param_type_name == "option" and n not in RESERVED and n != "help")
    argv: list[str] = []
    for key, value in options.items():
        name = key.replace("-", "_")
        p = params.get(name)
        if p is None or p.param_type_name != "option" or name in RESERVED:
            raise UsageError(f"{where}: unknown key '{key}'", f"allowed keys: {', '.join(allowed)}")
        flag = max(p.opts, key=len)
        if p.is_flag and not getattr(p, "count", False):
            if value:
                argv.append(flag)
            elif p.secondary_opts:
                argv.append(max(p.secondary_opts, key=len))
            continue
        if value is None:
            continue
        values = value if isinstance(value, list) else [value]
        if isinstance(value, dict):
            values = [f"{k}={v}" for k, v in value.items()]
        if not p.multiple and len(values) != 1:
            raise UsageError(f"{where}: '{key}' takes one value, got {len(values)}")
        for v in values:
            argv += [flag, v if isinstance(v, str) else json.dumps(v) if isinstance(v, (dict, list)) else str(v).lower() if isinstance(v, bool) else str(v)]
    return argv


def _inject(cmd: Any, options: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    params = _params(cmd)
    out = dict(options)
    for k, v in defaults.items():
        if k in params and k not in out and v is not None:
            out[k] = v
    return out


def plan(cfg: PipelineConfig, base: Path) -> list[StagePlan]:
    out_dir = Path(cfg.output)
    stages = cfg.stage_list()
    last_of: dict[str, int] = {}
    for i, (t, _) in enumerate(stages):
        last_of[t] = i
    plans: list[StagePlan] = []
    current = [str(base / p) if not Path(p).is_absolute() and not any(c in p for c in "*?[") else p for p in cfg.input]
    for i, (t, opts) in enumerate(stages):
        name = f"{i + 1:02d}-{t}"
        summary: str | None = str(out_dir / "stages" / f"{name}.summary.json")
        if t == "score":
            output = str(out_dir / "scored.parquet") if last_of[t] == i else str(out_dir / "stages" / f"{name}.parquet")
            if last_of[t] == i:
                summary = str(out_dir / "score-summary.json")
        elif t == "synthesize":
            output = str(out_dir / "stages" / f"{name}.parquet")
        elif t == "order":
            output = str(out_dir / "ordered") if last_of[t] == i else str(out_dir / "stages" / name)
            summary = str(out_dir / "stages" / f"{name}.summary.json")
        else:  # report: reads the run folder's results, so its inputs are those files
            output = str(out_dir / "report.html")
            summary = None
            plans.append(StagePlan(i, t, name, opts, _report_inputs(out_dir), output, summary))
            continue
        plans.append(StagePlan(i, t, name, opts, list(current), output, summary))
        if t in ("score", "synthesize"):
            current = [output]
        elif t == "order":
            current = [output]
    return plans


def _report_inputs(out_dir: Path) -> list[str]:
    names = ["scored.parquet", "score-summary.json", "synth-summary.json", "ordered/manifest.json"]
    return [str(out_dir / n) for n in names]


def _stage_key(p: StagePlan, argv: list[str], cfg: PipelineConfig) -> str:
    from curate.io import input_hashes

    srcs = [s for s in p.inputs if Path(s).exists()]
    payload = {
        "type": p.type,
        "argv": argv,
        "inputs": input_hashes(srcs),
        "engine": cfg.engine.model_dump(),
        "version": __version__,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


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


def run_pipeline(cfg: PipelineConfig, opts: RunOptions) -> dict[str, Any]:
    out_dir = Path(cfg.output)
    if not out_dir.is_absolute():
        out_dir = opts.base_dir / out_dir
        cfg = cfg.model_copy(update={"output": str(out_dir)})
    state_dir = out_dir / STATE_DIR
    state_path = state_dir / "state.json"
    (out_dir / "stages").mkdir(parents=True, exist_ok=True)
    _clean_stale_temps(out_dir)
    previous_cache = os.environ.get("CURATE_REQUEST_CACHE")
    if not previous_cache:
        os.environ["CURATE_REQUEST_CACHE"] = str(state_dir / "requests")
    sessions: list[Any] = []

    def connect_ray() -> None:
        """One Ray for every stage of the run, opened when the first stage that runs needs it (not one start per stage)."""
        if not sessions and (cfg.executor == "ray" or cfg.ray_address):
            from curate.executors import ExecutorConfig, open_executor

            sessions.append(open_executor(ExecutorConfig("ray", address=cfg.ray_address)))

    try:
        return _run(cfg, opts, out_dir, state_dir, state_path, connect_ray)
    finally:
        for session in sessions:
            session.close()
        if not previous_cache:
            os.environ.pop("CURATE_REQUEST_CACHE", None)


def _run(cfg: PipelineConfig, opts: RunOptions, out_dir: Path, state_dir: Path, state_path: Path, connect_ray: Any) -> dict[str, Any]:
    state = {"stages": {}} if opts.force else _load_state(state_path)
    started = time.perf_counter()
    report: dict[str, Any] = {"pipeline_output": str(out_dir), "stages": []}
    eng = cfg.engine
    for p in plan(cfg, opts.base_dir):
        cmd = _command(p.type)
        where = f"stages[{p.index}].{p.type}"
        defaults: dict[str, Any] = {
            "seed": cfg.seed,
            "text_field": cfg.text_field,
            "id_field": cfg.id_field,
            "engine": eng.engine if not eng.url else "openai",
            "engine_url": eng.url,
            "model": eng.model,
            "no_cache": (not eng.cache) or None,
            "executor": "ray" if cfg.ray_address else cfg.executor if cfg.executor != "local" else None,
            "ray_address": cfg.ray_address,
        }
        options = _inject(cmd, p.options, defaults)
        argv = _argv_for(cmd, where, options)
        params = _params(cmd)
        if p.type == "report":
            full = [str(out_dir), *argv]
        else:
            full = [*p.inputs, "-o", p.output, *argv]
            if p.summary and "summary_json" in params:
                full += ["--summary-json", p.summary]
            if "row_store" in params:
                full += ["--row-store", str(state_dir / "rows.sqlite")]
            if "rejects" in params:
                full += ["--rejects", str(out_dir / "stages" / f"{p.name}.rejects.jsonl")]
        if p.type == "report":
            _merge_synth_summaries(out_dir, report)
        key = _stage_key(p, argv, cfg)
        done = state["stages"].get(p.name)
        entry: dict[str, Any] = {"name": p.name, "type": p.type, "output": p.output}
        if done and done.get("key") == key and Path(p.output).exists():
            entry["status"] = "skipped (unchanged)"
            entry["summary"] = _read_json(p.summary)
            report["stages"].append(entry)
            continue
        if p.type != "report":
            connect_ray()
        t0 = time.perf_counter()
        from curate.cli._output import info

        info(f"[bold]▶ {p.name}[/]: curate {p.type} {' '.join(full)}")
        rc = cmd.main(args=full, prog_name=f"curate {p.type}", standalone_mode=False)
        if rc not in (None, 0):
            raise CurateError(f"stage {p.name} failed (exit code {rc})", "see the message above; rerun `curate run` to resume from this stage")
        entry["status"] = "ran"
        entry["seconds"] = round(time.perf_counter() - t0, 3)
        entry["summary"] = _read_json(p.summary)
        report["stages"].append(entry)
        state["stages"][p.name] = {"key": key, "output": p.output, "finished": time.time()}
        _save_state(state_path, state)
        _check_gates(p, entry.get("summary") or {}, opts)
    _merge_synth_summaries(out_dir, report)
    report["seconds"] = round(time.perf_counter() - started, 3)
    report["changed"] = [s["name"] for s in report["stages"] if s["status"] == "ran"]
    return report


def _read_json(path: str | None) -> dict[str, Any] | None:
    if not path or not Path(path).exists():
        return None
    try:
        return json.loads(Path(path).read_text())
    except json.JSONDecodeError:
        return None


def _check_gates(p: StagePlan, summary: dict[str, Any], opts: RunOptions) -> None:
    rows_in = summary.get("rows_in") or 0
    rows_out = summary.get("rows_out")
    if opts.fail_on_empty and rows_out == 0:
        raise InputError(f"stage {p.name} produced no rows", "check the input and the rejects file; drop --fail-on-empty to allow it")
    q = summary.get("quarantined") or 0
    if opts.max_reject_rate is not None and rows_in and q / rows_in > opts.max_reject_rate:
        raise RejectRateExceeded(f"stage {p.name} quarantined {q} of {rows_in} rows ({q / rows_in:.1%}) > --max-reject-rate {opts.max_reject_rate:.1%}")


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
