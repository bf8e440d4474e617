"""The report's "Learned difficulty" section: a `curate fit` model folder found in the run.

Looked for at DIR/model/ (a pipeline's fit stage), DIR/stages/*-fit/ and any DIR/*/model.json
written by `curate fit`. Shows the label and learner, the cross-validated Spearman with its 95 %
CI and per fold (AUC for a binary label), predicted vs measured for the labelled rows (out of
fold, from cv.parquet), the top features and, for a pass-rate label, how often the predicted
bucket (mastered / learnable / frontier) agrees with the measured one. Also the calibration of
the score summary when `--calibrate-on` was used.
"""

from __future__ import annotations

import json
from html import escape
from pathlib import Path
from typing import Any

BUCKETS = ("mastered", "learnable", "frontier")


def find_models(root: Path) -> list[Path]:
    out = []
    for p in sorted({*root.glob("model.json"), *root.glob("*/model.json"), *root.glob("stages/*/model.json")}):
        try:
            if json.loads(p.read_text()).get("format", "").startswith("curate-fit/"):
                out.append(p.parent)
        except (OSError, ValueError, AttributeError):
            continue
    return out


def bucket(p: float, k: int) -> str:
    """The bucket a pass rate falls in with k samples: all pass (c = k), none (c = 0), or between (nearest c)."""
    c = round(p * k)
    return "mastered" if c >= k else "frontier" if c <= 0 else "learnable"


def bucket_agreement(measured: list[float], predicted: list[float], ks: list[int]) -> dict[str, Any]:
    table = {m: {p: 0 for p in BUCKETS} for m in BUCKETS}
    for m, p, k in zip(measured, predicted, ks):
        table[bucket(m, k)][bucket(p, k)] += 1
    n = sum(sum(r.values()) for r in table.values())
    agree = sum(table[b][b] for b in BUCKETS)
    return {"table": table, "rows": n, "agreement": agree / n if n else None}


def _fmt(v: Any) -> str:
    return "—" if v is None else f"{v:.3f}"


def _ci(lo: Any, hi: Any, note: str | None) -> str:
    """ "95% CI lo … hi", or the note saying why there is none."""
    return f"95% CI {escape(note)}" if note else f"95% CI {_fmt(lo)} … {_fmt(hi)}"


def render(root: Path, score_summary: dict[str, Any] | None, table: Any, missing: Any) -> str:
    """HTML for the section ("" when the run has neither a model nor a calibration); `table` and `missing` are the page's helpers."""
    from curate.report import charts

    out: list[str] = []
    cal = (score_summary or {}).get("calibration")
    if cal:
        rows = [
            [c, r.get("spearman"), r.get("direction", "—"), r.get("weight"), r.get("rows"), r.get("kept", "")]
            for c, r in cal.get("columns", {}).items()
        ]
        out.append(f"<h3>Composite calibrated on <code>{escape(cal['label'])}</code> ({cal['labelled_rows']:,} labelled rows)</h3>")
        out.append(table(["column", "Spearman with label", "direction", "weight", "rows", "kept default because"], rows, {1, 3, 4}))
        out.append(f'<p class="note">{escape(cal.get("rule", ""))}.</p>')
    models = find_models(root)
    if not models:
        return "".join(out)  # no section: fitting is optional
    for d in models:
        meta = json.loads((d / "model.json").read_text())
        cv = meta.get("cv") or {}
        pooled = cv.get("pooled") or {}
        lo, hi = pooled.get("spearman_ci95") or (None, None)
        out.append(
            f"<h3>Model <code>{escape(str(d.relative_to(root) if d.is_relative_to(root) else d))}</code>: "
            f"{escape(meta['label'])} ({escape(meta['kind'])}, {escape(meta['direction'])})</h3>"
        )
        line = (
            f"{escape(meta['learner'])} (strength {meta['strength']:g}) on {meta['training']['rows']:,} labelled rows, {meta.get('folds')}-fold CV: "
            f"<b>Spearman {_fmt(pooled.get('spearman'))}</b> ({_ci(lo, hi, pooled.get('spearman_ci95_note'))})"
        )
        if "auc" in pooled:
            alo, ahi = pooled.get("auc_ci95") or (None, None)
            line += f", AUC {_fmt(pooled['auc'])} ({_ci(alo, ahi, pooled.get('auc_ci95_note'))})"
        out.append(f"<p>{line}</p>")
        out.append(
            table(
                ["fold", "train rows", "test rows", "Spearman"] + (["AUC"] if meta["kind"] == "binary" else []),
                [
                    [f["fold"], f["train"], f["test"], f.get("spearman")] + ([f.get("auc")] if meta["kind"] == "binary" else [])
                    for f in cv.get("folds", [])
                ],
                {1, 2, 3, 4},
            )
        )
        notes = [f"fold {f['fold']}: {f['spearman_note']}" for f in cv.get("folds", []) if f.get("spearman_note")]
        if pooled.get("spearman_note"):
            notes.insert(0, f"pooled: {pooled['spearman_note']}")
        if notes:
            out.append(f'<p class="note">Spearman — {escape("; ".join(notes))}.</p>')
        out.append('<div class="row">')
        cvp = d / "cv.parquet"
        agreement = None
        if cvp.is_file():
            import pyarrow.parquet as pq

            t = pq.read_table(cvp)
            y, p = t.column("label").to_pylist(), t.column("predicted").to_pylist()
            out.append(f'<div class="fig">{charts.scatter(p, y, "measured vs predicted (out of fold)", "predicted", "measured")}</div>')
            if meta["label"] == "score_pass_rate" and "k" in t.column_names:
                ks = [k or 1 for k in t.column("k").to_pylist()]
                agreement = bucket_agreement(y, p, ks)
        out.append("</div>")
        imps = meta.get("importances") or []
        if imps:
            out.append(table(["feature", "weight (coefficient × feature sd)"], [[i["feature"], i["weight"]] for i in imps], {1}))
        if agreement and agreement["rows"]:
            tab = agreement["table"]
            out.append(
                f"<p>Bucket agreement, measured × predicted (out of fold): <b>{agreement['agreement']:.1%}</b> of {agreement['rows']:,} rows.</p>"
            )
            out.append(table(["measured \\ predicted", *BUCKETS], [[m, *[tab[m][q] for q in BUCKETS]] for m in BUCKETS], {1, 2, 3}))
    return "".join(out)
