"""Plain facts about a run (config, models, counts, shard layout), read defensively from its summaries."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeGuard

from curate.report.load import RunData
from curate.report.stats import ScoredStats, manifest_shards, sort_key_column

FUNNEL_STAGES = ("attempted", "parsed", "verified", "novel", "kept")


def _num(v: Any) -> TypeGuard[int | float]:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


@dataclass
class Funnel:
    name: str  # summary file
    mode: str | None
    rows: list[tuple[str, dict[str, float]]]  # label → stage counts
    stages: list[str]
    reasons: dict[str, dict[str, int]]
    models: dict[str, str]

    @property
    def kept(self) -> int | None:
        for label, counts in self.rows:
            if label == "total":
                return int(counts.get("kept") or 0)
        vals = [v for v in (counts.get("kept") for _, counts in self.rows) if _num(v)]
        return int(sum(vals)) if vals else None


def read_funnel(name: str, summary: dict[str, Any]) -> Funnel:
    """Accept {"stages": {"mode/op": {...}}, "reasons": {...}} or nested {mode: {op: {...}}} (or a flat dict)."""
    raw = summary.get("funnel", {})
    reasons: dict[str, dict[str, int]] = {}
    rows: list[tuple[str, dict[str, float]]] = []
    if isinstance(raw, dict) and isinstance(raw.get("stages"), dict):
        reasons = {k: dict(v) for k, v in (raw.get("reasons") or {}).items() if isinstance(v, dict)}
        raw = raw["stages"]

    def walk(obj: Any, path: list[str]) -> None:
        if not isinstance(obj, dict):
            return
        if obj and all(_num(v) for v in obj.values()):
            rows.append(("/".join(path) or "all", {k: float(v) for k, v in obj.items()}))
            return
        for k, v in obj.items():
            if k in ("reasons", "drop_reasons") and isinstance(v, dict):
                for rk, rv in v.items():
                    if isinstance(rv, dict):
                        reasons["/".join(path + [rk]) or rk] = dict(rv)
                    elif _num(rv):
                        reasons.setdefault("/".join(path) or "all", {})[rk] = int(rv)
                continue
            walk(v, path + [str(k)])

    walk(raw, [])
    rows.sort(key=lambda r: r[0] == "total")
    seen = [s for _, c in rows for s in c]
    stages = [s for s in FUNNEL_STAGES if s in seen] + [s for s in dict.fromkeys(seen) if s not in FUNNEL_STAGES]
    if len(rows) > 1 and not any(label == "total" for label, _ in rows):
        rows.append(("total", {s: sum(c.get(s, 0) for _, c in rows) for s in stages}))
    models = {k: str(v) for k, v in summary.items() if k.endswith("_model") and v}
    return Funnel(name, summary.get("mode"), rows, stages, reasons, models)


@dataclass
class Facts:
    signals: list[str] = field(default_factory=list)
    composite: list[dict[str, Any]] = field(default_factory=list)
    signal_params: dict[str, Any] = field(default_factory=dict)
    models: dict[str, str] = field(default_factory=dict)  # role → model
    schedule: str | None = None
    formula: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    order_config: dict[str, Any] = field(default_factory=dict)
    seed: Any = None
    counts: dict[str, Any] = field(default_factory=dict)
    reject_reasons: dict[str, int] = field(default_factory=dict)
    order_rows: dict[str, Any] = field(default_factory=dict)
    sets: dict[str, dict[str, Any]] = field(default_factory=dict)  # set → {shards, rows, folder, files}
    sort_key: str = "difficulty"
    funnels: list[Funnel] = field(default_factory=list)
    curate_version: str | None = None


def _folder(path: str) -> str:
    return path.rsplit("/", 1)[0] + "/" if "/" in path else "./"


def gather_facts(run: RunData, stats: ScoredStats | None) -> Facts:
    f = Facts()
    s = run.score_summary or {}
    f.signals = [str(x) for x in s.get("signals") or []]
    f.composite = [c for c in s.get("composite") or [] if isinstance(c, dict)]
    f.signal_params = s.get("signal_params") or {}
    eng = s.get("engine")
    if isinstance(eng, dict) and eng.get("model"):
        f.models["scoring"] = f"{eng.get('model')} ({eng.get('name', '?')} engine)"
    for k in ("rows_in", "rows_out", "quarantined"):
        if _num(s.get(k)):
            f.counts[k] = s[k]
    f.reject_reasons = {str(k): v for k, v in (s.get("reject_reasons") or {}).items()}
    if s.get("seed") is not None:
        f.seed = s["seed"]

    for name, summary in run.synth_summaries.items():
        fun = read_funnel(name, summary)
        f.funnels.append(fun)
        for role, model in fun.models.items():
            f.models.setdefault(role.replace("_model", "") + (f" ({fun.mode})" if fun.mode else ""), model)
    kept = [fn.kept for fn in f.funnels if fn.kept is not None]
    if kept:
        f.counts["synthesized_kept"] = sum(kept)
    if stats is not None:
        f.counts["scored_rows"] = stats.rows
        if stats.synthesized:
            f.counts["synthesized_rows_in_scored"] = stats.synthesized

    m = run.manifest or {}
    cfg = m["config"] if isinstance(m.get("config"), dict) else {}
    resolved = cfg["resolved"] if isinstance(cfg.get("resolved"), dict) else {}
    f.order_config = {k: v for k, v in cfg.items() if k not in ("resolved", "inputs", "output")} | {
        k: v for k, v in resolved.items() if v is not None
    }
    sched = m.get("schedule")
    if isinstance(sched, dict):
        f.schedule, f.formula = sched.get("name"), sched.get("formula")
    elif sched:
        f.schedule = str(sched)
    f.schedule = f.schedule or (str(cfg["schedule"]) if cfg.get("schedule") else None)
    f.params = cfg["params"] if isinstance(cfg.get("params"), dict) else {}
    if cfg.get("seed") is not None:
        f.seed = cfg["seed"]
    elif m.get("seed") is not None:
        f.seed = m["seed"]
    f.curate_version = m.get("curate_version") or cfg.get("curate_version")
    f.order_rows = m["rows"] if isinstance(m.get("rows"), dict) else {}
    f.sort_key = sort_key_column(m) if m else "difficulty"
    prefix = ""
    if run.ordered is not None and run.ordered.resolve() != run.root.resolve():
        prefix = run.ordered.relative_to(run.root).as_posix() + "/"
    for set_name, entries in manifest_shards(m).items():
        paths = [str(e.get("path") or e.get("file") or "") for e in entries if isinstance(e, dict)]
        f.sets[set_name] = {
            "shards": len(paths),
            "rows": sum(int(e.get("rows") or 0) for e in entries if isinstance(e, dict)),
            "folders": sorted({(prefix + _folder(p)).replace("/./", "/") if prefix else _folder(p) for p in paths}),
            "first": paths[0] if paths else None,
            "last": paths[-1] if paths else None,
        }
    return f
