"""Which unlabelled rows to label next: the most uncertain, spread over the feature space.

1. Every unlabelled row gets the predictor's fold-model spread (`score_predicted_std`).
2. The `pool` = the 5·N rows with the largest spread are the candidates (kept while streaming).
3. Their feature vectors are reduced to at most 32 dimensions (`TruncatedSVD`), L2-normalised,
   and split into N clusters (`KMeans`, seeded); each cluster contributes its most uncertain row.

So the N rows are uncertain *and* unlike each other: N near-copies of one confusing row would
teach the model one thing N times. Same input, model and seed → the same rows, in the same order
(by spread, largest first).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

POOL_FACTOR = 5
MAX_COMPONENTS = 32


@dataclass
class Candidates:
    """The most uncertain rows seen so far (at most `size`), with their predictions."""

    size: int
    tables: list[pa.Table] = field(default_factory=list)
    pred: np.ndarray = field(default_factory=lambda: np.empty(0))
    std: np.ndarray = field(default_factory=lambda: np.empty(0))

    def add(self, table: pa.Table, pred: np.ndarray, std: np.ndarray) -> None:
        if not table.num_rows or self.size <= 0:
            return
        whole = pa.concat_tables([*self.tables, table], promote_options="permissive") if self.tables else table
        p = np.concatenate([self.pred, pred])
        s = np.concatenate([self.std, std])
        if len(s) > self.size:
            order = np.lexsort((np.arange(len(s)), -s))[: self.size]  # largest spread; earlier rows win ties
            keep = np.sort(order)
            whole, p, s = whole.take(pa.array(keep)), p[keep], s[keep]
        self.tables, self.pred, self.std = [whole], p, s

    def table(self) -> pa.Table | None:
        return self.tables[0] if self.tables else None


def spread_pick(x: Any, std: np.ndarray, n: int, seed: int) -> list[int]:
    """Indices of `n` rows: one per KMeans cluster of the reduced features, each its cluster's most uncertain."""
    from sklearn.cluster import KMeans
    from sklearn.decomposition import TruncatedSVD
    from sklearn.preprocessing import normalize

    m = x.shape[0]
    if m <= n:
        return [int(i) for i in np.lexsort((np.arange(m), -std))]
    k = min(MAX_COMPONENTS, m - 1, x.shape[1] - 1)
    emb = TruncatedSVD(n_components=k, random_state=seed).fit_transform(x) if k >= 1 else np.asarray(x.todense())
    emb = normalize(emb)
    labels = KMeans(n_clusters=n, n_init=3, random_state=seed).fit_predict(emb)
    picks = []
    for c in range(n):
        members = np.flatnonzero(labels == c)
        if len(members):
            picks.append(int(members[np.lexsort((members, -std[members]))[0]]))
    picks.sort(key=lambda i: (-std[i], i))
    return picks


def suggest_rows(model: Any, batches: Iterable[pa.Table], n: int, seed: int) -> tuple[pa.Table | None, np.ndarray, np.ndarray]:
    """Stream unlabelled batches; return the chosen rows with their predictions and spreads."""
    pool = Candidates(size=POOL_FACTOR * n)
    for table in batches:
        if table.num_rows:
            pred, std = model.predict(table)
            pool.add(table, pred, std)
    cand = pool.table()
    if cand is None or n <= 0:
        return None, np.empty(0), np.empty(0)
    picks = spread_pick(model.features(cand), pool.std, n, seed)
    idx = pa.array(picks, pa.int64())
    return cand.take(idx), pool.pred[picks], pool.std[picks]
