"""Numbers behind the pictures, computed with polars on score columns only (sampled when large)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

DIFFICULTY = "difficulty"
PASS_RATE = "score_pass_rate"
BUCKET = "score_pass_rate_bucket"
BUCKET_ORDER = ("mastered", "learnable", "frontier")
SYNTH_COLUMNS = ("parent_id", "synth_mode", "synth_op", "synth_level", "synth_round", "generator_model")
GROUP_COLUMNS = ("task_type", "source")
DEFAULT_SAMPLE_ROWS = 1_000_000
HIST_BINS = 30
MAX_CORR_COLUMNS = 20


@dataclass
class Histogram:
    column: str
    counts: list[int]
    edges: list[float]
    n: int
    nulls: int
    mean: float | None
    values: list[float] | None = None  # discrete columns: one bar per value (counts align with values)
    width: float | None = None


@dataclass
class ScoredStats:
    rows: int
    sampled_rows: int
    sample_every: int  # 1 = every row was used
    numeric: list[str]
    histograms: list[Histogram] = field(default_factory=list)
    corr_columns: list[str] = field(default_factory=list)
    corr: list[list[float | None]] = field(default_factory=list)
    corr_n: list[list[int]] = field(default_factory=list)
    buckets: dict[str, int] = field(default_factory=dict)
    heatmap: dict[str, Any] | None = None  # {rows: [labels], cols: [labels], counts: [[int]]}
    synthesized: int = 0
    synth_ops: list[dict[str, Any]] = field(default_factory=list)
    synth_levels: list[dict[str, Any]] = field(default_factory=list)
    groups: dict[str, list[tuple[str, int]]] = field(default_factory=dict)

    @property
    def sampled(self) -> bool:
        return self.sample_every > 1


def _is_numeric(dtype: Any) -> bool:
    return dtype.is_numeric() and not str(dtype).startswith("Boolean")


def _scan(files: list[str], wanted: set[str] | None = None) -> tuple[Any, dict[str, Any]]:
    """One LazyFrame over files whose schemas may differ (synthesized rows add columns)."""
    import polars as pl

    schemas = [pl.read_parquet_schema(f) for f in files]
    union: dict[str, Any] = {}
    for s in schemas:
        for k, v in s.items():
            union.setdefault(k, v)
    frames = []
    for f, s in zip(files, schemas):
        cols = [c for c in s if wanted is None or c in wanted]
        frames.append(pl.scan_parquet(f).select(cols))
    lf = frames[0] if len(frames) == 1 else pl.concat(frames, how="diagonal_relaxed")
    return lf, union


def _histogram(col: str, values: Any, nulls: int) -> Histogram:
    import numpy as np

    v = values[np.isfinite(values)]
    if not len(v):
        return Histogram(col, [], [], 0, nulls, None)
    uniq = np.unique(v)
    if len(uniq) <= 12:  # discrete (pass rate c/k, small counts): one bar per value
        span = float(uniq[-1] - uniq[0])
        step = float(np.min(np.diff(uniq))) if len(uniq) > 1 else 1.0
        width = max(step, span / 40) * 0.8 if span else 0.8
        counts = [int((v == u).sum()) for u in uniq]
        return Histogram(col, counts, [], len(v), nulls, float(v.mean()), uniq.astype(float).tolist(), width)
    binned, edges = np.histogram(v, bins=HIST_BINS)
    return Histogram(col, binned.astype(int).tolist(), edges.tolist(), len(v), nulls, float(v.mean()))


def spearman(df: Any, columns: list[str]) -> tuple[list[list[float | None]], list[list[int]]]:
    """Pairwise Spearman (rank, then Pearson) on rows where both columns have a value (NaN counts as missing).

    Complete columns are ranked once; only pairs involving a column with gaps rank per pair."""
    import polars as pl

    k = len(columns)
    mat: list[list[float | None]] = [[1.0 if i == j else None for j in range(k)] for i in range(k)]
    cnt = [[0] * k for _ in range(k)]
    if not k:
        return mat, cnt
    cast = df.select([pl.col(c).cast(pl.Float64).fill_nan(None) for c in columns])
    present = [cast.height - n for n in cast.null_count().row(0)]
    complete = [present[i] == cast.height for i in range(k)]
    ranked = cast.select([pl.col(c).rank() for c, ok in zip(columns, complete) if ok])
    fast, slow = [], []
    for i, a in enumerate(columns):
        cnt[i][i] = present[i]
        for j in range(i + 1, k):
            b = columns[j]
            if complete[i] and complete[j]:
                fast.append(pl.corr(a, b).alias(f"r{i}_{j}"))
            else:
                ok = pl.col(a).is_not_null() & pl.col(b).is_not_null()
                slow += [pl.corr(pl.col(a).filter(ok).rank(), pl.col(b).filter(ok).rank()).alias(f"r{i}_{j}"), ok.sum().alias(f"n{i}_{j}")]
    row: dict[str, Any] = {}
    if fast:
        row |= ranked.select(fast).row(0, named=True)
    if slow:
        row |= cast.select(slow).row(0, named=True)
    for i in range(k):
        for j in range(i + 1, k):
            r = row.get(f"r{i}_{j}")
            r = None if r is None or (isinstance(r, float) and math.isnan(r)) else round(float(r), 3)
            mat[i][j] = mat[j][i] = r
            cnt[i][j] = cnt[j][i] = int(row.get(f"n{i}_{j}", cast.height) or 0)
    return mat, cnt


def _heatmap(df: Any) -> dict[str, Any] | None:
    """Rows: difficulty in fifths; columns: pass rate values (or fifths when continuous)."""
    import numpy as np

    if DIFFICULTY not in df.columns or PASS_RATE not in df.columns:
        return None
    both = df.select(DIFFICULTY, PASS_RATE).drop_nulls().drop_nans()
    if not both.height:
        return None
    d = both[DIFFICULTY].to_numpy().astype(float)
    p = both[PASS_RATE].to_numpy().astype(float)
    d_edges = np.linspace(0.0, 1.0, 6)
    d_idx = np.clip(np.digitize(d, d_edges[1:-1]), 0, 4)
    uniq = np.unique(p)
    if len(uniq) <= 11:
        cols = [f"{u:.3g}" for u in uniq]
        p_idx = np.searchsorted(uniq, p)
    else:
        p_edges = np.linspace(0.0, 1.0, 6)
        cols = [f"{a:.1f}–{b:.1f}" for a, b in zip(p_edges[:-1], p_edges[1:])]
        p_idx = np.clip(np.digitize(p, p_edges[1:-1]), 0, 4)
    counts = np.zeros((5, len(cols)), dtype=int)
    np.add.at(counts, (d_idx, p_idx), 1)
    rows = [f"{a:.1f}–{b:.1f}" for a, b in zip(d_edges[:-1], d_edges[1:])]
    return {"rows": rows, "cols": cols, "counts": counts.tolist(), "n": int(both.height)}


def _counts(lf: Any, col: str) -> list[tuple[str, int]]:
    import polars as pl

    out = lf.group_by(col).agg(pl.len().alias("n")).sort("n", descending=True).collect()
    return [("(none)" if k is None else str(k), int(n)) for k, n in out.iter_rows()]


INFO_SUFFIXES = ("_passes", "_k", "_lo", "_hi", "_tokens", "_tokens_saved")


def agreement_columns(numeric: list[str], signal_columns: list[str] | None) -> list[str]:
    """The columns worth correlating: every signal column but pass-rate bookkeeping; the composite's first
    (when there are more than fit), difficulty last."""
    cols = [c for c in numeric if not c.endswith(INFO_SUFFIXES) and c != DIFFICULTY]
    first = [c for c in cols if signal_columns and c in signal_columns]
    cols = (first + [c for c in cols if c not in first])[: MAX_CORR_COLUMNS - 1]
    cols = [c for c in numeric if c in cols]  # back in data order
    return cols + ([DIFFICULTY] if DIFFICULTY in numeric else [])


def scored_stats(files: list[str], sample_rows: int = DEFAULT_SAMPLE_ROWS, signal_columns: list[str] | None = None) -> ScoredStats:
    """Distributions, Spearman matrix, buckets, pass-rate heatmap and synthesis counts of scored rows.

    `signal_columns` (e.g. the composite's columns) picks the columns of the correlation matrix."""
    import polars as pl

    lf, schema = _scan(files)
    numeric = [c for c, t in schema.items() if c.startswith("score_") and _is_numeric(t)]
    if DIFFICULTY in schema and _is_numeric(schema[DIFFICULTY]):
        numeric.append(DIFFICULTY)
    rows = int(lf.select(pl.len()).collect().item())
    every = max(1, math.ceil(rows / sample_rows)) if sample_rows else 1
    score_lf = lf.select(numeric) if numeric else None
    df = None
    if score_lf is not None:
        df = (score_lf.gather_every(every) if every > 1 else score_lf).collect()
    st = ScoredStats(rows=rows, sampled_rows=df.height if df is not None else rows, sample_every=every, numeric=numeric)
    if df is not None:
        for c in [c for c in numeric if not c.endswith(INFO_SUFFIXES)] or numeric:
            s = df[c].cast(pl.Float64)
            st.histograms.append(_histogram(c, s.drop_nulls().to_numpy(), int(s.null_count())))
        varying = [c for c in agreement_columns(numeric, signal_columns) if df[c].cast(pl.Float64).drop_nulls().drop_nans().n_unique() > 1]
        st.corr_columns = varying
        st.corr, st.corr_n = spearman(df, st.corr_columns)
        st.heatmap = _heatmap(df)
    if BUCKET in schema:
        got = dict(_counts(lf.select(BUCKET), BUCKET))
        st.buckets = {b: got.pop(b, 0) for b in BUCKET_ORDER} | got
    if "synth_mode" in schema or "parent_id" in schema:
        present = [c for c in ("synth_mode", "synth_op") if c in schema]
        marker = pl.col("synth_mode").is_not_null() if "synth_mode" in schema else pl.col("parent_id").is_not_null()
        syn = lf.filter(marker)
        st.synthesized = int(syn.select(pl.len()).collect().item())
        aggs = [pl.len().alias("rows")]
        if DIFFICULTY in schema:
            aggs.append(pl.col(DIFFICULTY).mean().alias("mean_difficulty"))
        if PASS_RATE in schema:
            aggs.append(pl.col(PASS_RATE).mean().alias("mean_pass_rate"))
        if present and st.synthesized:
            st.synth_ops = syn.group_by(present).agg(aggs).sort(present).collect().to_dicts()
        if "synth_level" in schema:
            lv = lf.with_columns(pl.when(marker).then(pl.col("synth_level")).otherwise(0).alias("_level"))
            st.synth_levels = lv.group_by("_level").agg(aggs).sort("_level").rename({"_level": "level"}).collect().to_dicts()
    for g in GROUP_COLUMNS:
        if g in schema:
            st.groups[g] = _counts(lf.select(g), g)[:30]
    return st


@dataclass
class ShardStat:
    set: str
    path: str
    rows: int
    stage: Any
    steps: list[int] | None
    difficulty: dict[str, float] | None
    fraction: dict[str, float] | None  # min/max pacing fraction g(t) within the shard
    checksum: str | None


def manifest_shards(manifest: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Shard entries per set ('curriculum', 'baseline', ...), for either manifest layout."""
    sets = manifest.get("sets")
    if isinstance(sets, dict):
        return {name: list((s or {}).get("shards") or []) for name, s in sets.items()}
    out: dict[str, list[dict[str, Any]]] = {}
    if isinstance(manifest.get("shards"), list):
        out["curriculum"] = list(manifest["shards"])
    base = manifest.get("baseline")
    if isinstance(base, dict) and isinstance(base.get("shards"), list):
        out["baseline"] = list(base["shards"])
    elif isinstance(base, list):
        out["baseline"] = list(base)
    return out


def sort_key_column(manifest: dict[str, Any]) -> str:
    by = (manifest.get("config") or {}).get("by")
    if isinstance(by, list) and by:
        return str(by[0]).split(":")[0]
    if isinstance(by, str) and by:
        return by.split(":")[0]
    return DIFFICULTY


def shard_stats(root: Any, manifest: dict[str, Any]) -> list[ShardStat]:
    """Per shard, in training order: rows, steps, difficulty min/mean/max and pacing fraction.

    Values the manifest carries are used as they are; the rest are read from the shard files
    (two columns each)."""
    import polars as pl

    key = sort_key_column(manifest)
    out: list[ShardStat] = []
    for name, entries in manifest_shards(manifest).items():
        for e in entries:
            if not isinstance(e, dict):
                continue
            path = str(e.get("path") or e.get("file") or "")
            diff = e.get(key) or e.get(DIFFICULTY)
            steps = e.get("steps") or e.get("step_range")
            frac = None
            file = root / path
            # baseline shards are only read when the manifest lacks their statistics
            if file.is_file() and (name != "baseline" or not isinstance(diff, dict)):
                schema = pl.read_parquet_schema(file)
                aggs = []
                if not isinstance(diff, dict) and key in schema:
                    aggs += [pl.col(key).min().alias("dmin"), pl.col(key).mean().alias("dmean"), pl.col(key).max().alias("dmax")]
                if "curriculum_fraction" in schema:
                    aggs += [pl.col("curriculum_fraction").min().alias("fmin"), pl.col("curriculum_fraction").max().alias("fmax")]
                if not steps and "curriculum_step" in schema:
                    aggs += [pl.col("curriculum_step").min().alias("smin"), pl.col("curriculum_step").max().alias("smax")]
                if aggs:
                    r = pl.scan_parquet(file).select(aggs).collect().row(0, named=True)
                    if "dmin" in r and r["dmin"] is not None:
                        diff = {"min": r["dmin"], "mean": r["dmean"], "max": r["dmax"]}
                    if r.get("fmin") is not None:
                        frac = {"min": r["fmin"], "max": r["fmax"]}
                    if r.get("smin") is not None:
                        steps = [r["smin"], r["smax"]]
            out.append(
                ShardStat(
                    name,
                    path,
                    int(e.get("rows") or 0),
                    e.get("stage"),
                    list(steps) if steps else None,
                    diff if isinstance(diff, dict) else None,
                    frac,
                    e.get("sha256") or e.get("checksum"),
                )
            )
    return out


CURVE_MIN_SHARDS = 20  # with fewer shards, the curve is drawn over equal segments of the run instead
CURVE_SEGMENTS = 40


def segment_stats(root: Any, manifest: dict[str, Any], segments: int = CURVE_SEGMENTS) -> list[ShardStat]:
    """Sort key min/mean/max and pacing fraction over equal segments of each set, read from its shards in order.

    Reads two columns; used when a set has too few shards for a per-shard curve to show the pacing."""
    import polars as pl

    key = sort_key_column(manifest)
    out: list[ShardStat] = []
    for name, entries in manifest_shards(manifest).items():
        files = [root / str(e.get("path") or e.get("file") or "") for e in entries if isinstance(e, dict)]
        if not files or not all(f.is_file() for f in files):
            continue
        schemas = [pl.read_parquet_schema(f) for f in files]
        if not all(key in s for s in schemas):
            continue
        frac = all("curriculum_fraction" in s for s in schemas) and name != "baseline"
        cols = [key] + (["curriculum_fraction"] if frac else [])
        lf = pl.concat([pl.scan_parquet(f).select(cols) for f in files], how="diagonal_relaxed").with_row_index("_pos")
        total = int(lf.select(pl.len()).collect().item())
        if not total:
            continue
        w = min(segments, max(10, total // 5), total)
        aggs = [
            pl.len().alias("n"),
            pl.col("_pos").min().alias("a"),
            pl.col("_pos").max().alias("b"),
            pl.col(key).min().alias("dmin"),
            pl.col(key).mean().alias("dmean"),
            pl.col(key).max().alias("dmax"),
        ]
        if frac:
            aggs += [pl.col("curriculum_fraction").min().alias("fmin"), pl.col("curriculum_fraction").max().alias("fmax")]
        seg = (pl.col("_pos").cast(pl.Int64) * w // total).alias("_seg")
        rows = lf.group_by(seg).agg(aggs).sort("_seg").collect().to_dicts()
        for r in rows:
            out.append(
                ShardStat(
                    name,
                    f"rows {r['a']:,}–{r['b']:,}",
                    int(r["n"]),
                    None,
                    None,
                    {"min": r["dmin"], "mean": r["dmean"], "max": r["dmax"]} if r["dmin"] is not None else None,
                    {"min": r["fmin"], "max": r["fmax"]} if frac and r.get("fmin") is not None else None,
                    None,
                )
            )
    return out
