"""k-fold cross-validation: choose the regularisation, measure how well held-out rows are ranked.

Folds: `KFold` (regression) or `StratifiedKFold` (binary), shuffled with the seed. For every
candidate strength the feature state (IDF, medians, scales) is refitted on each fold's training
part, so nothing about a held-out row leaks into its prediction. The candidate with the best mean
fold Spearman (AUC for binary labels) wins; ties go to the stronger regularisation. The reported
figures are that candidate's, chosen on the same folds, so they are slightly optimistic.

Metrics (scipy / scikit-learn):
- per fold: Spearman ρ of prediction and label on the held-out rows (and ROC AUC for binary);
- pooled: Spearman over all out-of-fold predictions, each fold's centred on its own mean first
  (a held-out fold whose labels run high leaves a training mean that runs low: without the
  centring that shift alone makes pure noise look anti-correlated), with a percentile bootstrap
  95 % CI over rows (`scipy.stats.bootstrap`, paired, seeded).

Undefined figures are null with a note saying why (`spearman_note` on a fold; `spearman_ci95_note`,
`auc_ci95_note` on the pooled figures): Spearman needs three rows and more than one label and one
prediction value; the bootstrap CI needs every resample's statistic to exist, which fails when
some resamples draw a single label value (a label that is nearly constant over the rows).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from curate.fit.features import FeatureState, finite_or_none
from curate.fit.model import Learner

RIDGE_ALPHAS = (0.3, 1.0, 3.0, 10.0, 30.0)
LOGISTIC_CS = (0.1, 0.3, 1.0, 3.0, 10.0)
BOOTSTRAP_RESAMPLES = 1000


@dataclass
class CVResult:
    learner: str
    strength: float
    folds: list[dict[str, Any]]
    pooled: dict[str, Any]
    candidates: list[dict[str, Any]]
    oof: np.ndarray
    fold_of: np.ndarray
    splits: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"learner": self.learner, "strength": self.strength, "folds": self.folds, "pooled": self.pooled, "candidates": self.candidates}


def no_rank_correlation(pred: np.ndarray, label: np.ndarray) -> str | None:
    """Why Spearman of (prediction, label) is undefined, or None when it is defined."""
    if len(pred) < 3:
        return f"{len(pred)} rows (a rank correlation needs 3)"
    if np.ptp(label) == 0:
        return f"every label is {label[0]:g}"
    if np.ptp(pred) == 0:
        return "every prediction is the same"
    return None


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    from scipy.stats import spearmanr

    if no_rank_correlation(a, b) is not None:
        return float("nan")
    return float(spearmanr(a, b).statistic)


def auc(score: np.ndarray, y: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    if len(np.unique(y)) < 2:
        return float("nan")
    return float(roc_auc_score(y, score))


@dataclass(frozen=True)
class BootstrapCI:
    low: float | None
    high: float | None
    note: str | None = None  # why there is no CI


def bootstrap_ci(stat: Any, a: np.ndarray, b: np.ndarray, seed: int, undefined: str, n_resamples: int = BOOTSTRAP_RESAMPLES) -> BootstrapCI:
    """Percentile bootstrap 95 % CI of `stat(a, b)` over paired rows (scipy.stats.bootstrap).

    No CI when a resample's statistic is undefined (NaN: `undefined` says when that happens): the
    percentile of a distribution with holes is not a CI. scipy's DegenerateDataWarning for that case
    becomes the note.
    """
    import warnings

    from scipy.stats import DegenerateDataWarning, bootstrap

    if len(a) < 4:
        return BootstrapCI(None, None, f"{len(a)} rows (a bootstrap CI needs 4)")
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", DegenerateDataWarning)  # reported below, from the resamples themselves
        res = bootstrap(
            (a, b),
            stat,
            paired=True,
            vectorized=False,
            n_resamples=n_resamples,
            confidence_level=0.95,
            method="percentile",
            rng=np.random.default_rng(seed),
        )
    holes = int(np.count_nonzero(~np.isfinite(res.bootstrap_distribution)))
    if holes:
        return BootstrapCI(None, None, f"not computable: {holes:,} of {n_resamples:,} bootstrap resamples {undefined}")
    return BootstrapCI(finite_or_none(res.confidence_interval.low), finite_or_none(res.confidence_interval.high))


def make_splits(y: np.ndarray, kind: str, folds: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    from sklearn.model_selection import KFold, StratifiedKFold

    if kind == "binary":
        return list(StratifiedKFold(folds, shuffle=True, random_state=seed).split(np.zeros(len(y)), y))
    return list(KFold(folds, shuffle=True, random_state=seed).split(np.zeros(len(y))))


def cross_validate(
    state_fit: Any, blocks: list[Any], dense: np.ndarray, y: np.ndarray, kind: str, folds: int, seed: int, strengths: tuple[float, ...] | None = None
) -> CVResult:
    """Run the folds for every candidate strength; return the best candidate's out-of-fold figures.

    `state_fit(blocks, dense)` fits a `FeatureState` on a subset (rows already selected).
    """
    learner = "logistic" if kind == "binary" else "ridge"
    strengths = strengths or (LOGISTIC_CS if kind == "binary" else RIDGE_ALPHAS)
    splits = make_splits(y, kind, folds, seed)
    matrices = []
    for tr, te in splits:
        st: FeatureState = state_fit([b[tr] for b in blocks], dense[tr])
        matrices.append((st.transform([b[tr] for b in blocks], dense[tr]), st.transform([b[te] for b in blocks], dense[te])))
    metric = auc if kind == "binary" else spearman
    best: tuple[float, float] | None = None
    best_oof = np.zeros(len(y))
    candidates = []
    for s in strengths:
        oof = np.zeros(len(y))
        scores = []
        for (tr, te), (xtr, xte) in zip(splits, matrices):
            m = Learner(learner, s).fit(xtr, y[tr])
            oof[te] = m.decision(xte)
            scores.append(metric(oof[te], y[te]))
        mean = float(np.nanmean(scores)) if np.isfinite(scores).any() else float("nan")
        candidates.append({"strength": s, "mean_fold_metric": finite_or_none(mean)})
        key = -np.inf if np.isnan(mean) else mean
        # Strengths are tried from weakest to strongest; >= lets a stronger one win a tie.
        if best is None or key >= best[0]:
            best = (key, s)
            best_oof = oof
    assert best is not None
    strength = best[1]
    fold_of = np.zeros(len(y), dtype=np.int64)
    fold_rows = []
    for i, (tr, te) in enumerate(splits):
        fold_of[te] = i
        row: dict[str, Any] = {"fold": i, "train": len(tr), "test": len(te), "spearman": finite_or_none(spearman(best_oof[te], y[te]))}
        if (why := no_rank_correlation(best_oof[te], y[te])) is not None:
            row["spearman_note"] = f"no rank correlation: {why} among the held-out rows"
        if kind == "binary":
            row["auc"] = finite_or_none(auc(best_oof[te], y[te]))
        fold_rows.append(row)
    centred = best_oof.copy()
    for i in range(len(splits)):
        sel = fold_of == i
        centred[sel] -= centred[sel].mean()
    rho = spearman(centred, y)
    ci = bootstrap_ci(spearman, centred, y, seed, "drew a single label value (or a single prediction), which has no rank correlation")
    pooled: dict[str, Any] = {"spearman": finite_or_none(rho), "spearman_ci95": [ci.low, ci.high], "rows": len(y)}
    if (why := no_rank_correlation(centred, y)) is not None:
        pooled["spearman_note"] = f"no rank correlation: {why}"
    elif ci.note is not None:
        pooled["spearman_ci95_note"] = ci.note
    if kind == "binary":
        a = auc(best_oof, y)
        aci = bootstrap_ci(auc, best_oof, y, seed, "drew a single class, which has no AUC")
        pooled.update(auc=finite_or_none(a), auc_ci95=[aci.low, aci.high])
        if aci.note is not None:
            pooled["auc_ci95_note"] = aci.note
    else:
        pooled["rmse"] = finite_or_none(float(np.sqrt(np.mean((best_oof - y) ** 2))))
    return CVResult(learner, strength, fold_rows, pooled, candidates, best_oof, fold_of, splits)
