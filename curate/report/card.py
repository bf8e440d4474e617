"""The dataset card: README.md beside the data, stating how it was made and how to read it."""

from __future__ import annotations

import json
from typing import Any

from curate.report.facts import Facts
from curate.report.load import RunData
from curate.report.stats import ScoredStats


def _fmt(v: Any) -> str:
    if isinstance(v, bool) or v is None:
        return str(v)
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        return f"{v:,.4g}"
    if isinstance(v, str):
        return v
    return "`" + json.dumps(v, sort_keys=True, default=str) + "`"


def render_card(run: RunData, facts: Facts, stats: ScoredStats | None, report_name: str | None) -> str:
    name = run.root.resolve().name
    lines = [
        f"# {name}",
        "",
        "A curriculum-ordered training dataset made with `curate`" + (f" {facts.curate_version}" if facts.curate_version else "") + ".",
    ]
    if report_name:
        lines += ["", f"Pictures of the signals, their agreement, pass rates, synthesis and the curriculum: [{report_name}]({report_name})."]

    lines += ["", "## How to read it", ""]
    if facts.sets:
        cur = facts.sets.get("curriculum") or next(iter(facts.sets.values()))
        where = ", ".join(f"`{f}`" for f in cur["folders"]) or "`./`"
        lines += [
            f"**Read the shards in order and do not shuffle.** The curriculum is the order of the rows: shard by shard "
            f"(`part-00000-of-…` first) in {where}, row by row within each shard. Loaders and samplers that shuffle by default "
            "(`shuffle=True`, datatrove's tokenizer/merger, most trainer samplers) undo it; turn shuffling off.",
        ]
        if "baseline" in facts.sets:
            lines += [
                "",
                "`baseline/` holds the same content in seeded random order: train on it as well to check that the curriculum beats a random order.",
            ]
        lines += ["", "| set | shards | rows | folder |", "|---|---:|---:|---|"]
        for set_name, v in facts.sets.items():
            lines.append(f"| {set_name} | {v['shards']:,} | {v['rows']:,} | {', '.join(f'`{f}`' for f in v['folders']) or '—'} |")
        rel = _ordered_rel(run)
        lines += [
            "",
            "Each row carries `curriculum_step` (the training step that reads it), `curriculum_position` (its place in the run), "
            f"`curriculum_fraction` (the pacing fraction g(t) at that step) and `{facts.sort_key}`. `{rel}manifest.json` lists "
            f"every shard in training order with its rows, steps, difficulty range and checksum; `curate verify {rel or '.'}` "
            "checks a copy against it.",
        ]
        lines += [
            "",
            "Reading it in order:",
            "",
            "```python",
            "import json",
            "",
            "import pyarrow.parquet as pq",
            "",
            f'manifest = json.load(open("{rel}manifest.json"))',
            f"for shard in {_shards_expr(run.manifest or {})}:  # training order",
            f'    for batch in pq.ParquetFile("{rel}" + shard["{_path_key(run.manifest or {})}"]).iter_batches():  # rows in order',
            "        ...",
            "```",
        ]
    else:
        lines += ["No ordered shards in this folder (no `ordered/manifest.json`)."]

    lines += ["", "## Difficulty", ""]
    if facts.composite:
        lines += [
            "`difficulty` in [0, 1] (1 = hardest) is the weighted mean of each signal's empirical CDF, flipped by its direction:",
            "",
            "| column | direction | weight |",
            "|---|---|---:|",
        ]
        for c in facts.composite:
            lines.append(f"| `{c.get('column', '?')}` | {c.get('direction') or '—'} | {_fmt(c.get('weight', '—'))} |")
    elif facts.signals:
        lines.append("Signals: " + ", ".join(f"`{s}`" for s in facts.signals) + ".")
    else:
        lines.append("Signals: unknown (no score summary in this run).")
    if facts.signal_params:
        lines += ["", "Signal parameters: " + "; ".join(f"`{k}` {_fmt(v)}" for k, v in facts.signal_params.items()) + "."]

    lines += ["", "## Models", ""]
    lines += [f"- {role}: `{model}`" for role, model in facts.models.items()] or ["- none recorded (text signals only, or no summaries)"]

    lines += ["", "## Schedule", ""]
    lines.append(f"- schedule: `{facts.schedule}`" if facts.schedule else "- schedule: not recorded (no ordered set)")
    if facts.formula:
        lines.append(f"- pacing: `{facts.formula}`")
    if facts.params:
        lines.append(f"- parameters: {_fmt(facts.params)}")
    for k in ("by", "batch_size", "steps", "samples", "stages", "rows_per_shard", "baseline"):
        if facts.order_config.get(k) not in (None, "", [], {}):
            lines.append(f"- {k}: {_fmt(facts.order_config[k])}")
    lines.append(f"- seed: {_fmt(facts.seed) if facts.seed is not None else 'not recorded'}")

    lines += ["", "## Counts", ""]
    c = facts.counts
    labels = [
        ("rows_in", "rows in"),
        ("rows_out", "rows scored (out)"),
        ("quarantined", "quarantined by scoring"),
        ("synthesized_kept", "synthesized and kept"),
        ("synthesized_rows_in_scored", "synthesized rows in the scored set"),
        ("scored_rows", "rows in the scored files"),
    ]
    rows = [(label, c[k]) for k, label in labels if k in c]
    o = facts.order_rows
    for k, label in (
        ("input", "rows given to order"),
        ("ordered", "rows ordered"),
        ("read", "rows read in training order"),
        ("distinct_read", "distinct rows read"),
        ("quarantined", "quarantined by order"),
    ):
        if o.get(k) is not None:
            rows.append((label, o[k]))
    lines += [f"- {label}: {_fmt(v)}" for label, v in rows] or ["- no counts recorded"]
    if facts.reject_reasons:
        lines.append("- quarantine reasons: " + ", ".join(f"{k} {_fmt(v)}" for k, v in sorted(facts.reject_reasons.items(), key=lambda kv: -kv[1])))
    if stats is not None and stats.buckets:
        lines.append("- pass-rate buckets: " + ", ".join(f"{k} {_fmt(v)}" for k, v in stats.buckets.items()))

    lines += ["", "## Does the order help?", ""]
    lines += _compare_lines(run)

    if run.missing:
        lines += ["", "## Not in this folder", ""] + [f"- {m}" for m in run.missing]
    return "\n".join(lines) + "\n"


def _compare_lines(run: RunData) -> list[str]:
    data = run.compare
    if not isinstance(data, dict):
        return [
            "Not measured here: no `compare/compare.json`. Train on the curriculum and on `baseline/` (several seeds, "
            "each arm with its own tuned learning rate) and run `curate compare` on the logs."
        ]
    vs = data["vs_baseline"] if isinstance(data.get("vs_baseline"), dict) else {}
    better = "lower" if data.get("lower_is_better", True) else "higher"
    lines = [
        f"Measured with `curate compare` on `{data.get('metric', '?')}` ({better} is better), against the "
        f"`{data.get('baseline', 'baseline')}` arm (95 % Student-t CIs across seeds):",
        "",
    ]
    lines += [f"- **{name}**: {v.get('verdict')}" for name, v in vs.items() if isinstance(v, dict) and v.get("verdict")] or ["- no arm compared"]
    return lines


def _ordered_rel(run: RunData) -> str:
    if run.ordered is None or run.ordered.resolve() == run.root.resolve():
        return ""
    return run.ordered.relative_to(run.root).as_posix() + "/"


def _shards_expr(manifest: dict[str, Any]) -> str:
    if isinstance(manifest.get("sets"), dict):
        return 'manifest["sets"]["curriculum"]["shards"]'
    return 'manifest["shards"]'


def _path_key(manifest: dict[str, Any]) -> str:
    from curate.report.stats import manifest_shards

    for entries in manifest_shards(manifest).values():
        for e in entries:
            if isinstance(e, dict):
                return "path" if "path" in e else "file"
    return "path"
