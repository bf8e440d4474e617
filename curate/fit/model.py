"""The learner and the fitted predictor.

Learners are scikit-learn's: `Ridge` for a numeric label, `LogisticRegression` (L2) for a binary
one, on the sparse feature matrix of `curate.fit.features`. Linear models were measured here
against gradient boosting (HistGradientBoosting) on the same features and won (BENCHMARKS.md,
"curate fit"); they also reduce to a coefficient vector, which is what makes the model file plain
numbers.

A fitted predictor holds the full model (trained on every labelled row) and the k fold models of
the chosen cross-validation candidate, all on one feature state. Its prediction is the full
model's, on the label's scale (clipped to the labelled range for a regression, a probability of
the positive class for a binary label); its uncertainty is the standard deviation of the fold
models' predictions — a committee spread, not a calibrated interval.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from curate.fit.features import FeatureState


class Learner:
    """One linear model: `ridge` (alpha = strength) or `logistic` (C = strength)."""

    def __init__(self, name: str, strength: float):
        self.name = name
        self.strength = strength
        self.coef: np.ndarray | None = None
        self.intercept = 0.0

    def fit(self, x: Any, y: np.ndarray) -> Learner:
        # Only the columns some training row uses: a column of zeros gets a zero coefficient from
        # either learner, and dropping the hashed columns no row hits makes the solve small.
        used = np.unique(x.indices) if hasattr(x, "indices") else np.arange(x.shape[1])
        xs = x[:, used]
        if self.name == "ridge":
            from sklearn.linear_model import Ridge

            m = Ridge(alpha=self.strength).fit(xs, y)
            coef, self.intercept = np.asarray(m.coef_, np.float64).ravel(), float(m.intercept_)
        else:
            from sklearn.linear_model import LogisticRegression

            m = LogisticRegression(C=self.strength, max_iter=2000).fit(xs, y.astype(np.int64))
            coef, self.intercept = np.asarray(m.coef_, np.float64).ravel(), float(np.ravel(m.intercept_)[0])
        self.coef = np.zeros(x.shape[1])
        self.coef[used] = coef
        return self

    @property
    def weights(self) -> np.ndarray:
        """The coefficient of every feature column (set by `fit`)."""
        assert self.coef is not None
        return self.coef

    def decision(self, x: Any) -> np.ndarray:
        return np.asarray(x @ self.weights).ravel() + self.intercept


@dataclass
class FittedModel:
    """A fitted predictor: feature state + coefficient rows (row 0: full model, 1..k: fold models)."""

    state: FeatureState
    kind: str  # regression | binary
    learner: str
    strength: float
    coefs: Any  # scipy.sparse CSR, shape (1 + k, n_features)
    intercepts: np.ndarray
    label: str
    direction: str
    label_range: tuple[float, float] = (float("-inf"), float("inf"))
    positive: Any = None  # binary: the label value counted as 1
    meta: dict[str, Any] = field(default_factory=dict)

    def _link(self, z: np.ndarray) -> np.ndarray:
        if self.kind == "binary":
            from scipy.special import expit

            return expit(z)
        return np.clip(z, *self.label_range)

    def predict_matrix(self, x: Any) -> tuple[np.ndarray, np.ndarray]:
        z = np.asarray((x @ self.coefs.T).todense() if hasattr(x @ self.coefs.T, "todense") else x @ self.coefs.T)
        z = z + self.intercepts[None, :]
        p = self._link(z)
        pred = p[:, 0]
        std = p[:, 1:].std(axis=1, ddof=1) if p.shape[1] > 2 else np.zeros(len(pred))
        return pred, std

    def predict(self, table: pa.Table) -> tuple[np.ndarray, np.ndarray]:
        """(prediction on the label's scale, fold-model spread) for every row of `table`."""
        blocks, dense = self.state.raw(table)
        return self.predict_matrix(self.state.transform(blocks, dense))

    def features(self, table: pa.Table) -> Any:
        blocks, dense = self.state.raw(table)
        return self.state.transform(blocks, dense)
