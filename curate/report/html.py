"""The self-contained HTML page: one file, inline SVG pictures, no scripts, no network."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from html import escape
from pathlib import Path
from typing import Any

from curate.report import charts
from curate.report.facts import Facts
from curate.report.load import RunData
from curate.report.stats import ScoredStats, ShardStat

SECTIONS = [
    ("overview", "Overview"),
    ("config", "Configuration"),
    ("signals", "Signal distributions"),
    ("agreement", "Signal agreement"),
    ("pass-rate", "Pass rate"),
    ("fit", "Learned difficulty"),
    ("synthesis", "Synthesis funnel"),
    ("curriculum", "Curriculum"),
    ("compare", "Training comparison"),
]
OPTIONAL_SECTIONS = {"fit"}  # shown only when the run has one (a run without `curate fit` lacks nothing)
MAX_SHARD_ROWS = 40

CSS = """
:root { --fg:#1d2330; --muted:#5b6472; --line:#e2e6ec; --bg:#f6f7f9; --accent:#3b6ea8; --warn:#9a5b00; --warnbg:#fff6e5; }
* { box-sizing:border-box; }
body { margin:0; font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif; color:var(--fg); background:var(--bg); }
header { background:#1f2a3a; color:#fff; padding:18px 32px; }
header h1 { margin:0; font-size:22px; font-weight:600; }
header p { margin:4px 0 0; color:#c8d1dd; font-size:13px; }
nav { background:#fff; border-bottom:1px solid var(--line); padding:8px 32px; position:sticky; top:0; z-index:1; }
nav a { color:var(--accent); text-decoration:none; margin-right:18px; font-size:13px; white-space:nowrap; }
main { max-width:1160px; margin:0 auto; padding:8px 24px 48px; }
section { background:#fff; border:1px solid var(--line); border-radius:8px; padding:16px 22px; margin:18px 0; }
h2 { font-size:17px; margin:0 0 10px; }
h3 { font-size:14px; margin:16px 0 6px; }
p.note, .muted { color:var(--muted); font-size:13px; }
.missing { background:var(--warnbg); color:var(--warn); border-left:3px solid #e0a030; padding:8px 12px; border-radius:4px; margin:8px 0; font-size:13px; }
.warning { background:#fdecea; color:#8a1f11; border-left:3px solid #d9534f; padding:8px 12px; border-radius:4px; margin:8px 0; }
.tiles { display:flex; flex-wrap:wrap; gap:12px; margin:6px 0 10px; }
.tile { border:1px solid var(--line); border-radius:6px; padding:8px 14px; min-width:140px; background:#fbfcfd; }
.tile .v { font-size:20px; font-weight:600; }
.tile .k { color:var(--muted); font-size:12px; }
table { border-collapse:collapse; margin:6px 0 10px; font-size:13px; }
th, td { border-bottom:1px solid var(--line); padding:4px 12px 4px 0; text-align:left; vertical-align:top; }
th { font-weight:600; color:#333; }
td.n, th.n { text-align:right; font-variant-numeric:tabular-nums; }
code { font:12px/1.4 ui-monospace,"DejaVu Sans Mono",monospace; background:#f0f2f5; padding:1px 4px; border-radius:3px; }
.fig { overflow-x:auto; margin:8px 0; }
.fig svg { max-width:100%; height:auto; }
.row { display:flex; flex-wrap:wrap; gap:24px; align-items:flex-start; }
.caution { background:#eef4fb; color:#1f3b5c; border-left:3px solid var(--accent); padding:8px 12px; border-radius:4px; margin:8px 0; font-size:13px; }
img.png { max-width:100%; border:1px solid var(--line); border-radius:4px; }
"""


def _n(v: Any) -> str:
    if isinstance(v, bool) or v is None:
        return escape(str(v))
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        return f"{v:,.4g}"
    return escape(str(v))


def _table(head: list[str], rows: Sequence[Sequence[Any]], numeric: set[int] | None = None) -> str:
    numeric = numeric or set()
    th = "".join(f'<th class="n">{escape(h)}</th>' if i in numeric else f"<th>{escape(h)}</th>" for i, h in enumerate(head))
    body = "".join(
        "<tr>"
        + "".join(f'<td class="n">{_n(c)}</td>' if i in numeric else f"<td>{c if isinstance(c, Markup) else _n(c)}</td>" for i, c in enumerate(r))
        + "</tr>"
        for r in rows
    )
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


class Markup(str):
    """Already-escaped HTML for a table cell."""


def _code(v: Any) -> Markup:
    text = v if isinstance(v, str) else json.dumps(v, sort_keys=True, default=str)
    return Markup(f"<code>{escape(text)}</code>")


def _missing(text: str) -> str:
    return f'<div class="missing">{escape(text)}</div>'


def _fig(svg: str) -> str:
    return f'<div class="fig">{svg}</div>'


def _tiles(items: list[tuple[str, Any]]) -> str:
    return (
        '<div class="tiles">'
        + "".join(f'<div class="tile"><div class="v">{_n(v)}</div><div class="k">{escape(k)}</div></div>' for k, v in items)
        + "</div>"
    )


def _first(d: dict[str, Any], *keys: str) -> Any:
    for k in keys:
        v = d.get(k)
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return v
    return "—"


def _ladder_levels(summary: dict[str, Any]) -> str:
    """Measured target pass rate per ladder level (0 = the parents): levels should get harder."""
    by = summary.get("pass_rate_by_level")
    if not isinstance(by, dict):
        return ""
    measured = by["measured"] if isinstance(by.get("measured"), dict) else {}
    kept = by["kept"] if isinstance(by.get("kept"), dict) else {}
    levels = sorted(set(measured) | set(kept), key=lambda x: float(x) if str(x).lstrip("-").replace(".", "").isdigit() else 0)
    if not levels:
        return ""
    rows = []
    for lv in levels:
        m, k = measured.get(lv) or {}, kept.get(lv) or {}
        rows.append([lv, m.get("n", "—"), m.get("mean_pass_rate", "—"), k.get("n", "—"), k.get("mean_pass_rate", "—")])
    out = '<p class="note">Target pass rate by ladder level (0 = the seed rows, negative = easier variants): harder levels should pass less.</p>'
    out += _table(["level", "measured", "mean pass rate", "kept", "kept mean pass rate"], rows, {1, 2, 3, 4})
    mono = summary.get("monotonic")
    if isinstance(mono, dict) and mono:
        out += '<p class="note">Monotonicity check: ' + ", ".join(f"{escape(str(k))} {_n(v)}" for k, v in mono.items()) + ".</p>"
    return out


def _overview(run: RunData, facts: Facts, stats: ScoredStats | None) -> str:
    c = facts.counts
    tiles = [
        (label, c[k])
        for k, label in (
            ("rows_in", "rows in (score)"),
            ("rows_out", "rows scored"),
            ("quarantined", "quarantined"),
            ("synthesized_kept", "synthesized, kept"),
            ("synthesized_rows_in_scored", "synthesized rows in scored set"),
        )
        if k in c
    ]
    if stats is not None:
        tiles.append(("rows in scored files", stats.rows))
    o = facts.order_rows
    if o.get("ordered") is not None:
        tiles.append(("rows ordered", o["ordered"]))
    if o.get("read") is not None:
        tiles.append(("rows read in training order", o["read"]))
    if o.get("quarantined"):
        tiles.append(("quarantined by order", o["quarantined"]))
    out = [_tiles(tiles) if tiles else _missing("No row counts: neither a score summary, scored rows nor a manifest was found.")]
    if run.stage_summaries:
        rows = []
        for name, d in run.stage_summaries.items():
            reasons = d.get("reject_reasons") or {}
            top = ", ".join(f"{k} {v}" for k, v in sorted(reasons.items(), key=lambda kv: -kv[1])[:4]) if isinstance(reasons, dict) else ""
            rows.append(
                [
                    name,
                    _first(d, "rows_in", "input_rows"),
                    _first(d, "rows_out", "rows_written", "new_rows"),
                    _first(d, "quarantined", "rejects"),
                    top or "—",
                    _first(d, "seconds"),
                ]
            )
        out.append("<h3>Pipeline stages</h3>" + _table(["stage", "rows in", "rows out", "quarantined", "reasons", "seconds"], rows, {1, 2, 3, 5}))
    if facts.reject_reasons:
        out.append(
            "<h3>Quarantine reasons (score)</h3>" + _table(["reason", "rows"], sorted(facts.reject_reasons.items(), key=lambda kv: -kv[1]), {1})
        )
    elif c.get("quarantined") == 0:
        out.append('<p class="note">Scoring quarantined no rows.</p>')
    if stats is not None and stats.groups:
        parts = []
        for g, counts in stats.groups.items():
            parts.append(f"<div><h3>rows by {escape(g)}</h3>" + _table([g, "rows"], [list(x) for x in counts], {1}) + "</div>")
        out.append('<div class="row">' + "".join(parts) + "</div>")
    if run.missing or run.problems:
        items = "".join(f"<li>{escape(m)}</li>" for m in run.missing) + "".join(f"<li>{escape(p)}</li>" for p in run.problems)
        out.append(f'<div class="missing"><b>Parts not in this run</b> (their sections are left out):<ul>{items}</ul></div>')
    return "".join(out)


def _config(facts: Facts) -> str:
    out = []
    if facts.composite:
        composite = [[_code(x.get("column", "?")), x.get("direction") or "—", x.get("weight", "—")] for x in facts.composite]
        out.append("<h3>Signals in the composite <code>difficulty</code></h3>" + _table(["column", "direction", "weight"], composite, {2}))
        out.append(
            '<p class="note">Composite: per-signal empirical CDF, flipped by direction, weighted mean → <code>difficulty</code> in [0, 1] (1 = hardest).</p>'
        )
    elif facts.signals:
        out.append("<h3>Signals</h3><p>" + ", ".join(f"<code>{escape(s)}</code>" for s in facts.signals) + "</p>")
    else:
        out.append(_missing("Signals and weights unknown: no score summary."))
    if facts.signal_params:
        out.append("<h3>Signal parameters</h3>" + _table(["signal", "parameters"], [[k, _code(v)] for k, v in facts.signal_params.items()]))
    if facts.models:
        out.append("<h3>Models</h3>" + _table(["role", "model"], [[k, v] for k, v in facts.models.items()]))
    rows: list[list[Any]] = []
    if facts.schedule:
        rows.append(["schedule", _code(facts.schedule)])
    if facts.formula:
        rows.append(["pacing", _code(facts.formula)])
    if facts.params:
        rows.append(["schedule parameters", _code(facts.params)])
    rows.append(["seed", "—" if facts.seed is None else _code(facts.seed)])
    skip = {"schedule", "params", "seed"}
    for k, v in facts.order_config.items():
        if k not in skip and v not in (None, [], {}, ""):
            rows.append([k, _code(v)])
    if facts.curate_version:
        rows.append(["curate version", facts.curate_version])
    out.append("<h3>Ordering</h3>" + _table(["setting", "value"], rows))
    return "".join(out)


def _signals(stats: ScoredStats | None) -> str:
    if stats is None:
        return _missing("No scored rows: distributions need scored.parquet or scored/ (or --scored PATH).")
    if not stats.histograms:
        return _missing("The scored rows have no numeric score_* or difficulty columns.")
    note = '<p class="note">One histogram per numeric score column (pass-rate bookkeeping such as passes, k, interval ends and tokens left out); dashed line = mean. Columns with few distinct values (e.g. pass rate c/k) get one bar per value.</p>'
    return note + _sample_note(stats) + _fig(charts.histograms(stats.histograms))


def _sample_note(stats: ScoredStats) -> str:
    if not stats.sampled:
        return ""
    return (
        f'<p class="note"><b>Sampled:</b> {stats.rows:,} rows are more than the limit, so these pictures use one row in every '
        f"{stats.sample_every:,} rows, evenly spaced ({stats.sampled_rows:,} rows). Counts elsewhere use all rows.</p>"
    )


def _agreement(stats: ScoredStats | None, run: RunData) -> str:
    if stats is None or len(stats.corr_columns) < 2:
        agree = (run.score_summary or {}).get("agreement_spearman")
        if isinstance(agree, dict) and len(agree) >= 2:
            cols = list(agree)
            vals = [[(agree.get(a) or {}).get(b) for b in cols] for a in cols]
            return '<p class="note">From the score summary (no scored rows to recompute from).</p>' + _fig(
                charts.matrix(vals, cols, cols, "Spearman correlation between signals", signed=True, cbar="Spearman ρ")
            )
        return _missing("Needs at least two varying score columns in the scored rows.")
    labels = [c.removeprefix("score_") for c in stats.corr_columns]
    full = stats.corr_n[0][0] if stats.corr_n else 0
    partial = sorted({n for r in stats.corr_n for n in r if n != full}) if stats.corr_n else []
    note = (
        '<p class="note">Spearman ρ of each pair of columns (rank, then Pearson) on rows where both have a value. '
        "Positive = the two agree on which rows are higher. Read each signal's direction from the configuration.</p>"
    )
    if partial:
        note += f'<p class="note">Some pairs cover fewer rows (a signal is missing on some rows): smallest pair n = {min(min(r) for r in stats.corr_n):,}.</p>'
    return (
        note
        + _sample_note(stats)
        + _fig(charts.matrix(stats.corr, labels, labels, "Spearman correlation between signals", signed=True, cbar="Spearman ρ"))
    )


def _pass_rate(stats: ScoredStats | None) -> str:
    if stats is None:
        return _missing("No scored rows.")
    out = ['<div class="row">']
    if stats.heatmap:
        hm = stats.heatmap
        out.append(
            _fig(
                charts.matrix(
                    hm["counts"],
                    hm["rows"],
                    hm["cols"],
                    f"rows by difficulty and pass rate (n={hm['n']:,})",
                    signed=False,
                    cbar="rows",
                    fmt="{:,.0f}",
                    size=(max(4.5, 0.5 * len(hm["cols"]) + 2.4), 3.2),
                    xlabel="pass rate (score_pass_rate)",
                    ylabel="difficulty",
                )
            )
        )
    else:
        out.append(_missing("No difficulty × pass-rate picture: the rows lack score_pass_rate or difficulty (run `curate score -s pass_rate`)."))
    if stats.buckets:
        labels = list(stats.buckets)
        colours = {"mastered": charts.GREEN, "learnable": charts.BLUE, "frontier": charts.RED}
        out.append(
            _fig(charts.bars(labels, [stats.buckets[k] for k in labels], "pass-rate buckets", colors=[colours.get(k, charts.GREY) for k in labels]))
        )
        out.append("</div>")
        out.append(
            '<p class="note">mastered: every sample passed (c = k); learnable: some passed; frontier: none passed (c = 0). '
            "Learnable rows carry the training signal for RL (groups with c = 0 or c = k have zero advantage).</p>"
        )
    else:
        out.append("</div>")
        if stats.heatmap:
            out.append(_missing("No score_pass_rate_bucket column."))
    return "".join(out)


def _fit(run: RunData) -> str:
    from curate.report.fit import render

    return render(run.root, run.score_summary, lambda head, rows, num=None: _table(head, rows, num), _missing)


def _synthesis(run: RunData, facts: Facts, stats: ScoredStats | None) -> str:
    out = []
    if not facts.funnels:
        out.append(_missing("No synthesis summary (synth-summary.json): this run did not synthesize, or its summary is elsewhere."))
    for fn in facts.funnels:
        title = f"{fn.name}" + (f" — mode {fn.mode}" if fn.mode else "")
        out.append(f"<h3>{escape(title)}</h3>")
        if not fn.rows:
            out.append(_missing("The summary has no funnel counts."))
            continue
        rows = []
        for label, counts in fn.rows:
            reasons = fn.reasons.get(label) or {}
            top = ", ".join(f"{k} {v}" for k, v in sorted(reasons.items(), key=lambda kv: -kv[1])[:4])
            rows.append([Markup(f"<b>{escape(label)}</b>") if label == "total" else label, *[int(counts.get(s) or 0) for s in fn.stages], top or "—"])
        out.append(_table(["mode/op", *fn.stages, "top drop reasons"], rows, set(range(1, len(fn.stages) + 1))))
        bars = [r for r in fn.rows if r[0] != "total"] or fn.rows
        out.append(_fig(charts.funnel(bars, fn.stages, "candidates reaching each stage")))
        out.append(_ladder_levels(run.synth_summaries.get(fn.name) or {}))
    if stats is not None and stats.synth_ops:
        keys = [k for k in stats.synth_ops[0] if k not in ("rows", "mean_difficulty", "mean_pass_rate")]
        cols = keys + [k for k in ("rows", "mean_difficulty", "mean_pass_rate") if k in stats.synth_ops[0]]
        out.append(
            "<h3>Synthesized rows in the scored set</h3>"
            + _table(cols, [[r[k] for k in cols] for r in stats.synth_ops], set(range(len(keys), len(cols))))
        )
    if stats is not None and len(stats.synth_levels) > 1:
        cols = list(stats.synth_levels[0])
        out.append(
            "<h3>By ladder level (0 = original rows)</h3>" + _table(cols, [[r[k] for k in cols] for r in stats.synth_levels], set(range(len(cols))))
        )
    return "".join(out)


def _curriculum(run: RunData, facts: Facts, shards: list[ShardStat], curve: list[ShardStat], unit: str) -> str:
    if run.ordered is None:
        return _missing("No ordered dataset (ordered/manifest.json): run `curate order` to get shards in training order.")
    out = [
        '<div class="warning"><b>Read the shards in order, without shuffling.</b> The curriculum is the order of rows across '
        "<code>part-*.parquet</code> files; a shuffling loader (e.g. <code>shuffle=True</code>) undoes it. "
        "<code>baseline/</code> holds the same rows in seeded random order, for a fair comparison run.</div>"
    ]
    if facts.sets:
        rows = [[name, v["shards"], v["rows"], ", ".join(v["folders"]) or "—"] for name, v in facts.sets.items()]
        out.append(_table(["set", "shards", "rows", "folder"], rows, {1, 2}))
    if run.manifest and run.manifest.get("revision"):
        out.append(_revisions(run.ordered))
    if any(s.difficulty for s in curve):
        if unit != "shard":
            out.append(
                f'<p class="note">With {len([s for s in shards if s.set != "baseline"])} shard(s), the curve is drawn over '
                f"{len([s for s in curve if s.set != 'baseline'])} equal segments of the run, read from the shards in order.</p>"
            )
        out.append(_fig(charts.curriculum(curve, facts.sort_key, unit)))
    elif run.manifest is None:
        out.append(_missing(f"{run.ordered / 'manifest.json'} could not be read: no shard layout."))
    elif shards:
        out.append(_missing(f"The shards carry no {facts.sort_key} statistics and their files could not be read."))
    else:
        out.append(_missing("The manifest lists no shards."))
    png = run.ordered / "curriculum.png"
    if png.is_file():
        data = base64.b64encode(png.read_bytes()).decode()
        out.append(
            f'<h3>curriculum.png (from <code>curate order</code>)</h3><img class="png" alt="difficulty along the run" src="data:image/png;base64,{data}">'
        )
    cur = [s for s in shards if s.set != "baseline"]
    if cur:
        show = cur if len(cur) <= MAX_SHARD_ROWS else cur[: MAX_SHARD_ROWS // 2] + cur[-MAX_SHARD_ROWS // 2 :]
        rows = []
        for s in show:
            d = s.difficulty or {}
            rows.append(
                [
                    s.set,
                    Markup(f"<code>{escape(s.path)}</code>"),
                    s.rows,
                    "—" if s.stage is None else s.stage,
                    "—" if not s.steps else f"{s.steps[0]:,}–{s.steps[-1]:,}",
                    d.get("min", "—"),
                    d.get("mean", "—"),
                    d.get("max", "—"),
                    "—" if not s.fraction else f"{s.fraction['min']:.3f}–{s.fraction['max']:.3f}",
                ]
            )
        note = "" if len(show) == len(cur) else f'<p class="note">{len(cur):,} shards; the first and last {MAX_SHARD_ROWS // 2} are listed.</p>'
        out.append(
            "<h3>Shards in training order</h3>"
            + note
            + _table(["set", "file", "rows", "stage", "steps", f"{facts.sort_key} min", "mean", "max", "g(t)"], rows, {2, 5, 6, 7})
        )
    return "".join(out)


def _revisions(folder: Path) -> str:
    """The revision chain of a `curate feedback` folder, newest first."""
    from curate.order.revision import revision_chain

    chain = revision_chain(folder)
    rows = []
    for e in chain:
        c = e.get("counts") or {}
        strat = ", ".join(f"{k} {' '.join(f'{a}={b}' for a, b in v.items())}" for k, v in (e.get("strategies") or {}).items()) or "—"
        did = (
            ", ".join(
                f"{label} {c[k]:,}"
                for k, label in (("dropped_reads", "dropped"), ("in_band_reads", "in band"), ("deferred_reads", "deferred"))
                if k in c
            )
            or "—"
        )
        parent = {"ok": "matches", "changed": "changed since", "missing": "not found"}.get(str(e.get("parent_status")), "—")
        rows.append(
            [
                e.get("revision", 0),
                Markup(f"<code>{escape(Path(str(e['folder'])).name)}</code>"),
                "—" if e.get("step") is None else e["step"],
                strat,
                did,
                e.get("rows", "—"),
                e.get("steps", "—"),
                parent if e.get("revision") else "—",
            ]
        )
    return (
        "<h3>Revision chain (curate feedback), newest first</h3>"
        '<p class="note">Each revision keeps the steps its trainer had read (before <i>step</i>) and re-plans the rest from the observations; '
        "<code>curate verify</code> checks the kept steps against the parent.</p>"
        + _table(["revision", "folder", "re-planned from step", "strategies", "reads", "rows", "steps", "parent manifest"], rows, {0, 2, 5, 6})
    )


def _ci_cell(value: Any, ci: Any, pct: bool = False) -> str:
    """`v [lo, hi]` for a table cell; `v (no CI)` without one; — when there is no value."""
    if not _number(value):
        return "—"
    f = (lambda x: f"{x * 100:+.1f} %") if pct else (lambda x: f"{x:.4g}")
    if isinstance(ci, list) and len(ci) == 2 and all(_number(x) for x in ci):
        return f"{f(value)} [{f(ci[0])}, {f(ci[1])}]"
    return f"{f(value)} (no CI)"


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _compare(run: RunData) -> str:
    data = run.compare
    if data is None:
        if run.compare_dir is not None:
            return _missing(f"{run.compare_dir / 'compare.json'} could not be read (see the overview).")
        return _missing(
            "No training comparison (compare/compare.json): train on the curriculum and on baseline/ with a few seeds each, "
            "then `curate compare --arm baseline=RUN,RUN --arm curriculum=RUN,RUN -o DIR/compare`."
        )
    metric = escape(str(data.get("metric", "?")))
    better = "lower" if data.get("lower_is_better", True) else "higher"
    base = str(data.get("baseline", "baseline"))
    window = data["window"] if isinstance(data.get("window"), dict) else {}
    out = [
        f'<p class="note">Metric <code>{metric}</code> ({better} is better), baseline arm <code>{escape(base)}</code>; '
        + (
            f"final values and areas over steps {_n(window['start'])}–{_n(window['end'])}, the range every run covers. "
            if _number(window.get("start")) and _number(window.get("end"))
            else ""
        )
        + "95 % CIs: Student-t across seeds (paired by seed where the arms have equal seed counts, Welch otherwise); "
        "a difference counts only when its CI excludes 0.</p>"
    ]
    vs = data["vs_baseline"] if isinstance(data.get("vs_baseline"), dict) else {}
    for name, v in vs.items():
        if isinstance(v, dict) and v.get("verdict"):
            out.append(f"<p><b>{escape(str(name))} vs {escape(base)}:</b> {escape(str(v['verdict']))}</p>")
    arms = data["arms"] if isinstance(data.get("arms"), dict) else {}
    rows = []
    for name, a in arms.items():
        if not isinstance(a, dict):
            continue
        reach = a.get("steps_to_target") if isinstance(a.get("steps_to_target"), dict) else None
        steps = "—"
        if reach:
            steps = f"{reach.get('reached', '?')} of {reach.get('of', '?')} runs"
            if _number(reach.get("mean")):
                steps = _ci_cell(reach["mean"], reach.get("ci")) + f" ({steps})"
        runs = a.get("runs")
        rows.append(
            [
                name,
                len(runs) if isinstance(runs, list) else a.get("n_runs", "—"),
                _ci_cell(a.get("final"), a.get("final_ci")),
                _ci_cell(a.get("auc"), a.get("auc_ci")),
                steps,
            ]
        )
    target = data.get("target")
    head = [
        "arm",
        "runs",
        f"final {data.get('metric', '')} [95 % CI]",
        "mean over the window (AUC) [95 % CI]",
        f"steps to {target:g}" if _number(target) else "steps to target",
    ]
    if rows:
        out.append("<h3>Per arm</h3>" + _table(head, rows, {1}))
    rows = []
    for name, v in vs.items():
        if not isinstance(v, dict):
            continue
        found = v["findings"] if isinstance(v.get("findings"), dict) else {}
        rows.append(
            [
                name,
                v.get("pairing", "—"),
                _ci_cell(v.get("final_diff"), v.get("final_diff_ci")),
                _ci_cell(v.get("auc_diff"), v.get("auc_diff_ci")),
                _ci_cell(v.get("steps_to_target_change"), v.get("steps_to_target_change_ci"), pct=True),
                ", ".join(f"{k}: {x}" for k, x in found.items()) or "—",
            ]
        )
    if rows:
        out.append(
            f"<h3>Versus {escape(base)} (arm − baseline)</h3>"
            + _table(["arm", "pairing", "final difference", "AUC difference", "steps to target", "findings"], rows)
        )
    notes = [n for n in data.get("notes") or [] if isinstance(n, str)]
    if notes:
        out.append('<p class="note">' + "<br>".join(escape(n) for n in notes) + "</p>")
    out.append(
        '<div class="caution"><b>Before trusting a gain:</b> curricula often only make up for a badly tuned optimiser. '
        "Give each arm its own best learning rate (picked on held-out data), use the same token budget and schedule, "
        "and several seeds; look at early and mid-training as well as the end.</div>"
    )
    png = (run.compare_dir / "compare.png") if run.compare_dir is not None else None
    if png is not None and png.is_file():
        b64 = base64.b64encode(png.read_bytes()).decode()
        out.append(f'<h3>compare.png</h3><img class="png" alt="{metric} by step per arm" src="data:image/png;base64,{b64}">')
    else:
        out.append(_missing("No compare.png beside compare.json (it was run without the picture)."))
    return "".join(out)


def render_page(
    run: RunData,
    facts: Facts,
    stats: ScoredStats | None,
    shards: list[ShardStat],
    card: str | None,
    curve: list[ShardStat] | None = None,
    curve_unit: str = "shard",
) -> str:
    body = {
        "overview": _overview(run, facts, stats),
        "config": _config(facts),
        "signals": _signals(stats),
        "agreement": _agreement(stats, run),
        "pass-rate": _pass_rate(stats),
        "fit": _fit(run),
        "synthesis": _synthesis(run, facts, stats),
        "curriculum": _curriculum(run, facts, shards, shards if curve is None else curve, curve_unit),
        "compare": _compare(run),
    }
    shown = [(sid, title) for sid, title in SECTIONS if body[sid] or sid not in OPTIONAL_SECTIONS]
    nav = "".join(f'<a href="#{sid}">{escape(title)}</a>' for sid, title in shown)
    sections = "".join(f'<section id="{sid}"><h2>{escape(title)}</h2>{body[sid]}</section>' for sid, title in shown)
    from curate import __version__

    card_line = f' · dataset card: <a style="color:#9cc3ff" href="{escape(card)}">{escape(card)}</a>' if card else ""
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>curate report — {escape(run.root.name or str(run.root))}</title>'
        f"<style>{CSS}</style></head><body>"
        f'<header><h1>curate report</h1><p>run folder <code style="background:#2c3a4f;color:#fff">{escape(str(run.root))}</code> · curate {escape(__version__)}{card_line}</p></header>'
        f"<nav>{nav}</nav><main>{sections}</main></body></html>\n"
    )


def write_page(path: Path, html: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(path)
