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


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    from scipy.stats import spearmanr

    if len(a) < 3 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")
    return float(spearmanr(a, b).statistic)


def auc(score: np.ndarray, y: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    if len(np.unique(y)) < 2:
        return float("nan")
    return float(roc_auc_score(y, score))


def bootstrap_ci(stat: Any, a: np.ndarray, b: np.ndarray, seed: int, n_resamples: int = BOOTSTRAP_RESAMPLES) -> tuple[float | None, float | None]:
    """Percentile bootstrap 95 % CI of `stat(a, b)` over paired rows (scipy.stats.bootstrap)."""
    from scipy.stats import bootstrap

    if len(a) < 4:
        return None, None
    with np.errstate(invalid="ignore", divide="ignore"):
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
    return finite_or_none(res.confidence_interval.low), finite_or_none(res.confidence_interval.high)


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
        if kind == "binary":
            row["auc"] = finite_or_none(auc(best_oof[te], y[te]))
        fold_rows.append(row)
    centred = best_oof.copy()
    for i in range(len(splits)):
        sel = fold_of == i
        centred[sel] -= centred[sel].mean()
    rho = spearman(centred, y)
    lo, hi = bootstrap_ci(spearman, centred, y, seed)
    pooled: dict[str, Any] = {"spearman": finite_or_none(rho), "spearman_ci95": [lo, hi], "rows": len(y)}
    if kind == "binary":
        a = auc(best_oof, y)
        alo, ahi = bootstrap_ci(auc, best_oof, y, seed)
        pooled.update(auc=finite_or_none(a), auc_ci95=[alo, ahi])
    else:
        pooled["rmse"] = finite_or_none(float(np.sqrt(np.mean((best_oof - y) ** 2))))
    return CVResult(learner, strength, fold_rows, pooled, candidates, best_oof, fold_of, splits)
