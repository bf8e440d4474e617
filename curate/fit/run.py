"""`fit`: train a difficulty predictor on the labelled rows of an input, save it, suggest rows to label.

Reads the input once. Labelled rows (label not null) are kept in memory; unlabelled rows are only
counted, or spooled to a temporary Parquet folder when `suggest` asks for rows to label. Rows the
reader quarantines (null or empty text, malformed lines) and rows whose label is unusable go to
the rejects file in the model folder with their reason. Every figure comes out in a `FitSummary`.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from curate.errors import InputError, UsageError
from curate.fit import labels as lab
from curate.fit.features import (
    LM_COLUMNS,
    FeatureSpec,
    FeatureState,
    build_spec,
    finite_or_none,
    name_hashed,
    parse_groups,
    texts_of,
)
from curate.fit.model import FittedModel, Learner
from curate.fit.store import SUGGEST, commit_dir, prepare_dir, write_model
from curate.io import (
    Reject,
    RejectWriter,
    conform,
    expand_inputs,
    input_hashes,
    read_batches,
    unify_schemas,
)
from curate.io.readers import ReadOptions
from curate.io.writers import jsonl_bytes

TOP_IMPORTANCES = 20
REJECTS = "rejects.jsonl"
CV_TABLE = "cv.parquet"


@dataclass
class FitConfig:
    label: str
    output: str
    text_field: str = "text"
    id_field: str = "id"
    extra_text: list[str] = field(default_factory=list)
    direction: str | None = None
    kind: str = "auto"
    features: list[str] = field(default_factory=list)
    folds: int = 5
    seed: int = 0
    suggest: int = 0
    batch_rows: int = 2048
    max_text_chars: int = 1_000_000


@dataclass
class FitSummary:
    rows_in: int = 0
    rows_labelled: int = 0
    rows_unlabelled: int = 0
    quarantined: int = 0
    reject_reasons: dict[str, int] = field(default_factory=dict)
    rejects_path: str | None = None
    seconds: float = 0.0
    model_dir: str = ""
    label: str = ""
    kind: str = ""
    direction: str = ""
    features: dict[str, Any] = field(default_factory=dict)
    learner: str = ""
    strength: float = 0.0
    cv: dict[str, Any] = field(default_factory=dict)
    importances: list[dict[str, Any]] = field(default_factory=list)
    suggest: dict[str, Any] | None = None
    training_sha256: str = ""
    inputs: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        out = asdict(self)
        out["seconds"] = round(self.seconds, 3)
        return out


def _is_null(col: Any) -> Any:
    null = pc.is_null(col)
    if pa.types.is_floating(col.type):
        null = pc.or_(null, pc.is_nan(col))
    return pc.fill_null(null, True)


def _training_sha256(table: pa.Table, cols: list[str]) -> str:
    """sha256 over the training rows' used columns, row by row, as canonical JSON."""
    h = hashlib.sha256()
    present = [c for c in cols if c in table.column_names]
    for batch in table.select(present).to_batches(4096):
        for row in batch.to_pylist():
            h.update(orjson.dumps(row, option=orjson.OPT_SORT_KEYS | orjson.OPT_SERIALIZE_NUMPY, default=str))
            h.update(b"\n")
    return h.hexdigest()


def _add_lm(table: pa.Table, spec: FeatureSpec, engine_factory: Callable[[], Any] | None) -> pa.Table:
    """`--features lm`: score the LM columns with the engine where the input lacks them."""
    missing = [c for c in LM_COLUMNS if c not in table.column_names or table.column(c).null_count == table.num_rows]
    if "lm" not in spec.groups or not missing or not table.num_rows:
        return table
    if engine_factory is None:
        raise UsageError(
            "--features lm needs a model engine",
            "run through `curate fit` (it opens one), or score the input with -s lm_perplexity -s lm_token_entropy first",
        )
    from curate.signals import SIGNALS, BatchContext

    engine = engine_factory()
    ctx = BatchContext(table=table, text_field=spec.text_field, engine=engine)
    for name in missing:
        vals = SIGNALS.get(name.removeprefix("score_"))().score(ctx)[name]
        arr = pa.array(vals, pa.float64(), from_pandas=True)
        table = table.set_column(table.column_names.index(name), name, arr) if name in table.column_names else table.append_column(name, arr)
    return table


def _importances(model: FittedModel, x: Any, texts: dict[str, list[str]]) -> list[dict[str, Any]]:
    """Top coefficients of the full model, each times its feature's standard deviation over the training rows."""
    coef = np.asarray(model.coefs[0].todense()).ravel()
    sq = np.asarray(x.multiply(x).mean(axis=0)).ravel()
    mean = np.asarray(x.mean(axis=0)).ravel()
    std = np.sqrt(np.maximum(sq - mean**2, 0.0))
    eff = coef * std
    top = np.argsort(-np.abs(eff), kind="stable")[:TOP_IMPORTANCES]
    return [{"feature": name_hashed(model.state, int(i), texts), "weight": round(float(eff[i]), 6)} for i in top if eff[i] != 0]


def fit(
    inputs: list[str] | str, cfg: FitConfig, engine_factory: Callable[[], Any] | None = None, on_progress: Callable[[int], None] | None = None
) -> FitSummary:
    started = time.perf_counter()
    if cfg.folds < 2:
        raise UsageError(f"--folds {cfg.folds} is too few", "use at least 2 folds")
    if cfg.suggest < 0:
        raise UsageError(f"--suggest {cfg.suggest} is negative", "ask for 0 or more rows")
    if cfg.kind not in lab.KINDS:
        raise UsageError(f"unknown --kind '{cfg.kind}'", "use auto, regression or binary")
    if cfg.label in (cfg.text_field, cfg.id_field, *cfg.extra_text):
        raise UsageError(f"--label '{cfg.label}' is also a text or id column", "label with a column of its own")
    groups = parse_groups(cfg.features)
    direction = lab.resolve_direction(cfg.label, cfg.direction)
    sources = expand_inputs(inputs)
    summary = FitSummary(model_dir=str(cfg.output), label=cfg.label, direction=direction)
    tmp = prepare_dir(cfg.output)
    spool = Path(tempfile.mkdtemp(prefix="curate-fit-")) if cfg.suggest else None
    rejects = RejectWriter(str(tmp / REJECTS))
    try:
        labelled, spooled, schemas = _read(sources, cfg, summary, rejects, spool, on_progress)
        if not labelled:
            raise InputError(
                f"no row carries the label '{cfg.label}'" if summary.rows_in else "the input has no rows",
                "label some rows (a null label means unlabelled)",
            )
        table = pa.concat_tables([conform(t, unify_schemas([x.schema for x in labelled])) for t in labelled])
        raw = table.column(cfg.label).to_pylist()
        reasons = lab.usable(raw, cfg.label, cfg.kind)
        bad = {i: r for i, r in enumerate(reasons) if r}
        if bad:
            rows = table.take(pa.array(list(bad), pa.int64())).to_pylist()
            rejects.write([Reject(why, "label", row=r) for why, r in zip(bad.values(), rows)])
            good = pa.array([r is None for r in reasons])
            table = table.filter(good)
            raw = [v for v, r in zip(raw, reasons) if r is None]
        labels = lab.decide(raw, cfg.label, cfg.kind, cfg.folds)
        summary.rows_labelled = table.num_rows
        summary.kind = labels.kind
        spec = build_spec(table.schema, cfg.label, groups, cfg.text_field, cfg.extra_text)
        table = _add_lm(table, spec, engine_factory)

        state0 = FeatureState(spec)
        blocks, dense = state0.raw(table)
        from curate.fit.cv import cross_validate

        y = labels.values
        cv = cross_validate(lambda b, d: FeatureState.fit(spec, b, d), blocks, dense, y, labels.kind, cfg.folds, cfg.seed)
        state = FeatureState.fit(spec, blocks, dense)
        x = state.transform(blocks, dense)
        model = _final_model(state, cv, x, y, labels, cfg, direction)
        texts = {f: texts_of(table, f) for f in spec.text_fields}
        summary.importances = _importances(model, x, texts)
        summary.learner, summary.strength = cv.learner, cv.strength
        summary.cv = cv.as_dict()
        summary.features = {
            "groups": spec.groups,
            "text_fields": spec.text_fields,
            "columns": [c.name if c.field is None else f"{c.field}:{c.name}" for c in spec.columns],
            "n_features": state.n_features(),
        }
        used = [cfg.id_field, *spec.text_fields, *(c.name for c in spec.columns if c.field is None), cfg.label]
        summary.training_sha256 = _training_sha256(table, used)
        summary.inputs = input_hashes(sources) if "-" not in sources else {"-": "stdin"}
        model.meta = {
            "label_counts": _label_counts(y, labels.kind),
            "folds": cfg.folds,
            "seed": cfg.seed,
            "cv": summary.cv,
            "importances": summary.importances,
            "training": {"rows": len(y), "sha256": summary.training_sha256, "columns": used, "inputs": summary.inputs},
        }
        _write_cv_table(tmp / CV_TABLE, table, cfg, y, model, cv)
        write_model(tmp, model)
        if cfg.suggest:
            summary.suggest = _suggest(tmp, model, spooled, schemas, cfg)
        rejects.close()
        summary.quarantined = rejects.count
        summary.reject_reasons = rejects.reasons
        summary.rejects_path = str(Path(cfg.output) / REJECTS) if rejects.count else None
        if not rejects.count:
            (tmp / REJECTS).unlink(missing_ok=True)
        commit_dir(tmp, cfg.output)
    except BaseException:
        rejects.close()
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        if spool is not None:
            shutil.rmtree(spool, ignore_errors=True)
    summary.seconds = time.perf_counter() - started
    return summary


def _read(
    sources: list[str], cfg: FitConfig, summary: FitSummary, rejects: RejectWriter, spool: Path | None, on_progress: Callable[[int], None] | None
) -> tuple[list[pa.Table], list[Path], list[pa.Schema]]:
    opts = ReadOptions(text_field=cfg.text_field, id_field=cfg.id_field, batch_rows=cfg.batch_rows, max_text_chars=cfg.max_text_chars)
    labelled: list[pa.Table] = []
    spooled: list[Path] = []
    schemas: list[pa.Schema] = []
    seen_label = False
    for table, rej in read_batches(sources, opts):
        rejects.write(rej)
        summary.rows_in += table.num_rows + len(rej)
        if on_progress:
            on_progress(table.num_rows + len(rej))
        if not table.num_rows:
            continue
        table = _quarantine_extra_text(table, cfg, rejects)
        if cfg.label not in table.column_names:
            lab_mask = pa.array([False] * table.num_rows)
        else:
            seen_label = True
            lab_mask = pc.invert(_is_null(table.column(cfg.label)))
            if pa.types.is_string(table.column(cfg.label).type):
                lab_mask = pc.and_(lab_mask, pc.fill_null(pc.not_equal(pc.utf8_trim_whitespace(table.column(cfg.label)), ""), False))
        lab_rows = table.filter(lab_mask)
        if lab_rows.num_rows:
            labelled.append(lab_rows)
        rest = table.filter(pc.invert(lab_mask))
        summary.rows_unlabelled += rest.num_rows
        if spool is not None and rest.num_rows:
            path = spool / f"u-{len(spooled):06d}.parquet"
            pq.write_table(rest, path)
            spooled.append(path)
            schemas.append(rest.schema)
    if not seen_label and summary.rows_in:
        cols = sorted({n for t in labelled for n in t.column_names}) or _first_columns(sources, opts)
        raise InputError(f"label column '{cfg.label}' is not in the input", f"columns: {', '.join(cols)}")
    return labelled, spooled, schemas


def _first_columns(sources: list[str], opts: ReadOptions) -> list[str]:
    for table, _ in read_batches(sources, opts):
        if table.num_columns:
            return table.column_names
    return []


def _quarantine_extra_text(table: pa.Table, cfg: FitConfig, rejects: RejectWriter) -> pa.Table:
    for f in cfg.extra_text:
        if f not in table.column_names:
            raise InputError(f"extra text column '{f}' is not in the input", f"columns: {', '.join(table.column_names)}")
        col = table.column(f)
        bad = _is_null(col)
        if pc.any(bad).as_py():
            rows = table.filter(bad).to_pylist()
            rejects.write([Reject(f"extra text: '{f}' is null", "input", row=r) for r in rows])
            table = table.filter(pc.invert(bad))
    return table


def _final_model(state: FeatureState, cv: Any, x: Any, y: np.ndarray, labels: Any, cfg: FitConfig, direction: str) -> FittedModel:
    import scipy.sparse as sp

    learners = [Learner(cv.learner, cv.strength).fit(x, y)]
    learners += [Learner(cv.learner, cv.strength).fit(x[tr], y[tr]) for tr, _ in cv.splits]
    coefs = sp.csr_matrix(np.vstack([m.weights for m in learners]))
    intercepts = np.array([m.intercept for m in learners])
    rng = (float(y.min()), float(y.max())) if labels.kind == "regression" else (0.0, 1.0)
    positive = labels.positive.item() if hasattr(labels.positive, "item") else labels.positive
    return FittedModel(
        state=state,
        kind=labels.kind,
        learner=cv.learner,
        strength=cv.strength,
        coefs=coefs,
        intercepts=intercepts,
        label=cfg.label,
        direction=direction,
        label_range=rng,
        positive=positive,
    )


def _label_counts(y: np.ndarray, kind: str) -> dict[str, Any]:
    if kind == "binary":
        return {"0": int((y == 0).sum()), "1": int((y == 1).sum())}
    return {"min": float(y.min()), "median": float(np.median(y)), "max": float(y.max()), "distinct": len(np.unique(y))}


def _write_cv_table(path: Path, table: pa.Table, cfg: FitConfig, y: np.ndarray, model: FittedModel, cv: Any) -> None:
    """Out-of-fold predictions of the labelled rows (label scale), for the report's predicted-vs-measured view."""
    oof = model._link(cv.oof[:, None])[:, 0]
    cols: dict[str, Any] = {
        "id": table.column(cfg.id_field) if cfg.id_field in table.column_names else pa.array([None] * table.num_rows, pa.string()),
        "label": pa.array(y, pa.float64()),
        "predicted": pa.array(oof, pa.float64()),
        "fold": pa.array(cv.fold_of, pa.int64()),
    }
    if "score_pass_rate_k" in table.column_names:
        cols["k"] = table.column("score_pass_rate_k").cast(pa.int64())
    pq.write_table(pa.table(cols), path)


def _suggest(tmp: Path, model: FittedModel, spooled: list[Path], schemas: list[pa.Schema], cfg: FitConfig) -> dict[str, Any]:
    from curate.fit.suggest import suggest_rows

    schema = unify_schemas(schemas) if schemas else None

    def batches() -> Iterator[pa.Table]:
        for p in spooled:
            yield conform(pq.read_table(p), schema) if schema is not None else pq.read_table(p)

    rows, pred, std = suggest_rows(model, batches(), cfg.suggest, cfg.seed)
    out = tmp / SUGGEST
    records = []
    if rows is not None:
        ids = rows.column(cfg.id_field).to_pylist() if cfg.id_field in rows.column_names else [None] * rows.num_rows
        texts = texts_of(rows, cfg.text_field)
        for rank, (i, t, p, s) in enumerate(zip(ids, texts, pred, std)):
            records.append(
                {
                    "id": i,
                    "rank": rank,
                    "score_predicted": finite_or_none(float(p)),
                    "score_predicted_std": finite_or_none(float(s)),
                    cfg.text_field: t,
                }
            )
    out.write_bytes(jsonl_bytes(records) if records else b"")
    return {
        "path": str(Path(cfg.output) / SUGGEST),
        "rows": len(records),
        "pool": len(records) and min(5 * cfg.suggest, sum(pq.ParquetFile(p).metadata.num_rows for p in spooled)),
    }
