"""Each row's pass probability as a Beta posterior: a prior from what curate measured, updated by what the trainer saw.

Prior (per row, REFERENCE §6):
* the row's scored pass rate, c passes of k samples (`score_pass_rate_passes`, `score_pass_rate_k`):
  Beta(1 + c, 1 + k − c);
* else a prior column holding a probability p (`--prior-column`, e.g. `score_predicted` of the
  `predicted` signal) with strength n₀ (`--prior-strength`): Beta(1 + n₀·p, 1 + n₀·(1 − p));
* else the prediction p of a `curate fit` model (`--predictor MODEL_DIR`), the same way;
* else the weak prior Beta(1, 1).

Update: s successes in m trials (summed over the row's observations, see `curate.feedback.stats`)
give Beta(α₀ + s, β₀ + m − s); the mean is α / (α + β). Fractional successes (rewards in [0, 1],
loss proxies) are pseudo-counts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl

from curate.errors import UsageError
from curate.feedback.rows import PASSES, SAMPLES, OrderedRun
from curate.feedback.stats import StatsReport, example_ids


@dataclass
class Posterior:
    alpha0: np.ndarray
    beta0: np.ndarray
    s: np.ndarray  # observed successes per row
    m: np.ndarray  # observed trials per row
    prior_source: dict[str, int] = field(default_factory=dict)  # how many rows got which prior
    obs_row: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))  # per observation: its row
    obs_rate: np.ndarray = field(default_factory=lambda: np.empty(0))  # per observation: s/m

    @property
    def alpha(self) -> np.ndarray:
        return self.alpha0 + self.s

    @property
    def beta(self) -> np.ndarray:
        return self.beta0 + self.m - self.s

    @property
    def mean(self) -> np.ndarray:
        return self.alpha / (self.alpha + self.beta)

    @property
    def uncertainty(self) -> np.ndarray:
        """p(1 − p) of the posterior mean: largest at p = ½, where a GRPO group's advantage signal peaks."""
        p = self.mean
        return p * (1 - p)


def predict(run: OrderedRun, model_dir: str) -> np.ndarray:
    """Each row's pass probability by a `curate fit` model (NaN where it gives none), read from the ordered shards.

    The model must predict a probability: a binary label, or a label within [0, 1] (a pass rate).
    """
    import polars as pl
    import pyarrow as pa

    from curate.errors import InputError
    from curate.fit.features import FeatureSpec
    from curate.fit.store import read_meta
    from curate.signals.base import BatchContext
    from curate.signals.predicted import Predicted

    meta = read_meta(model_dir)
    lo, hi = meta.get("label_range") or (float("-inf"), float("inf"))
    if meta.get("kind") != "binary" and not (0 <= float(lo) and float(hi) <= 1):
        raise UsageError(
            f"--predictor {model_dir} predicts '{meta.get('label')}' in [{lo}, {hi}], not a pass probability",
            "fit a model of a pass rate (e.g. --label score_pass_rate) or of a binary label",
        )
    spec = FeatureSpec.model_validate(meta["features"])
    wanted = list(dict.fromkeys([spec.text_field, *spec.extra_text, *spec.needed_columns()]))
    have = set(pl.scan_parquet(run.shards[0]).collect_schema().names()) if run.shards else set()
    missing = [c for c in wanted if c not in have]
    if missing:
        raise InputError(
            f"--predictor {model_dir} reads column(s) {', '.join(missing)}, which the ordered rows lack",
            "order rows that carry the model's features (score them as the model was fitted)",
        )
    frame = pl.scan_parquet(run.shards).select(wanted).collect()[run.first_pos.tolist()]
    table = frame.to_arrow()
    cols = Predicted(predictor=model_dir).score(BatchContext(table=pa.table(table), text_field=spec.text_field, options={"predictor": model_dir}))
    p = np.asarray(cols["score_predicted"], dtype=np.float64)
    return np.clip(p, 0.0, 1.0)


def prior(run: OrderedRun, prior_column: str | None = None, strength: float = 2.0, predicted: np.ndarray | None = None) -> Posterior:
    """The prior of every row (see the module docstring); `predicted` (from `predict`) fills rows without a measured pass rate."""
    n = run.rows
    a0, b0 = np.ones(n), np.ones(n)
    source = np.full(n, "uniform", dtype=object)
    if predicted is not None:
        ok = np.isfinite(predicted)
        a0[ok] = 1 + strength * predicted[ok]
        b0[ok] = 1 + strength * (1 - predicted[ok])
        source[ok] = "predictor"
    if prior_column is not None:
        if prior_column not in run.columns:
            raise UsageError(
                f"--prior-column {prior_column}: the ordered rows have no such column", "pick a column with a pass probability in [0, 1]"
            )
        p = np.asarray(run.columns[prior_column], dtype=np.float64)
        ok = np.isfinite(p) & (p >= 0) & (p <= 1)
        a0[ok] = 1 + strength * p[ok]
        b0[ok] = 1 + strength * (1 - p[ok])
        source[ok] = "prior_column"
    if PASSES in run.columns and SAMPLES in run.columns:
        c = np.asarray(run.columns[PASSES], dtype=np.float64)
        k = np.asarray(run.columns[SAMPLES], dtype=np.float64)
        ok = np.isfinite(c) & np.isfinite(k) & (k >= 1) & (c >= 0) & (c <= k)
        a0[ok] = 1 + c[ok]
        b0[ok] = 1 + k[ok] - c[ok]
        source[ok] = "pass_rate"
    kinds, counts = np.unique(source.astype(str), return_counts=True) if n else (np.array([]), np.array([]))
    return Posterior(a0, b0, np.zeros(n), np.zeros(n), {str(k): int(c) for k, c in zip(kinds, counts)})


def match(obs: pl.DataFrame, run: OrderedRun, report: StatsReport) -> tuple[np.ndarray, pl.DataFrame]:
    """Observation → row (unknown ids are counted in `report` and left out)."""
    rows = pl.DataFrame({"id": run.ids.tolist(), "_row": np.arange(run.rows, dtype=np.int64)}, schema={"id": pl.String, "_row": pl.Int64})
    joined = obs.join(rows, on="id", how="left", maintain_order="left")
    unknown = joined.filter(pl.col("_row").is_null())
    if unknown.height:
        report.unknown_ids += unknown.height
        report.unknown_examples = example_ids(unknown["id"].to_list())
    known = joined.filter(pl.col("_row").is_not_null())
    return known["_row"].to_numpy().astype(np.int64), known


def update(post: Posterior, rows: np.ndarray, obs: pl.DataFrame, report: StatsReport | None = None) -> Posterior:
    """Add the observations (already matched to `rows`) to the posterior."""
    s = obs["s"].to_numpy().astype(np.float64)
    m = obs["m"].to_numpy().astype(np.float64)
    np.add.at(post.s, rows, s)
    np.add.at(post.m, rows, m)
    post.obs_row = np.concatenate([post.obs_row, rows])
    post.obs_rate = np.concatenate([post.obs_rate, s / m])
    if report is not None:
        report.used += len(rows)
        report.trials += float(m.sum())
        for kind, cnt in obs.group_by("kind").len().iter_rows():
            report.kinds[kind] = report.kinds.get(kind, 0) + cnt
        steps = obs["step"].drop_nulls()
        report.without_step += obs.height - len(steps)
        if len(steps):
            lo, hi = int(steps.min()), int(steps.max())  # type: ignore[arg-type]
            report.steps = [lo, hi] if report.steps is None else [min(lo, report.steps[0]), max(hi, report.steps[1])]
    return post
