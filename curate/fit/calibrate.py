"""`--calibrate-on COLUMN`: a composite whose directions and weights come from a label, without a model file.

The rule, for every column that enters `difficulty` (and that the user did not set with
`--weight` or `--direction`):

    ρ = Spearman(column, label)       over rows where both are present (scipy.stats.spearmanr),
                                      with the label flipped when lower is harder (a pass rate)
    direction = higher-is-harder if ρ ≥ 0 else lower-is-harder
    weight    = |ρ|

so a signal that tracks the label strongly counts for more, one that runs against it is turned
round, and one unrelated to it counts for almost nothing. With fewer than `MIN_ROWS` labelled rows
for a column, or a constant column or label, the column keeps its default direction and weight,
and the summary says why. Without labelled rows at all, every default stands.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from curate.signals.base import HIGHER, LOWER

MIN_ROWS = 10


def _floats(table: pa.Table, name: str) -> np.ndarray:
    if name not in table.column_names:
        return np.full(table.num_rows, np.nan)
    col = table.column(name)
    typ = col.type
    if not (pa.types.is_integer(typ) or pa.types.is_floating(typ) or pa.types.is_boolean(typ)):
        from curate.fit.labels import parse_value

        return np.array([np.nan if (v := parse_value(x)[0]) is None else v for x in col.to_pylist()], dtype=np.float64)
    out = col.to_numpy(zero_copy_only=False).astype(np.float64)
    out[~np.isfinite(out)] = np.nan
    return out


@dataclass
class Calibrator:
    """Collects, per batch, the composite columns and the label (aligned by row), then solves the rule."""

    label: str
    direction: str  # the label's: higher-is-harder | lower-is-harder
    columns: list[str]
    _values: dict[str, list[np.ndarray]] = field(default_factory=dict)
    _label: list[np.ndarray] = field(default_factory=list)

    def add(self, table: pa.Table) -> None:
        lab = _floats(table, self.label)
        keep = ~np.isnan(lab)
        if not keep.any():
            return
        self._label.append(lab[keep])
        for c in self.columns:
            self._values.setdefault(c, []).append(_floats(table, c)[keep])

    def labelled_rows(self) -> int:
        return int(sum(len(a) for a in self._label))

    def solve(self) -> dict[str, dict[str, Any]]:
        """Per column: {"direction", "weight", "spearman", "rows"} or {"kept": reason}."""
        from scipy.stats import spearmanr

        y = np.concatenate(self._label) if self._label else np.empty(0)
        if self.direction == LOWER:
            y = -y
        out: dict[str, dict[str, Any]] = {}
        for c in self.columns:
            x = np.concatenate(self._values.get(c, [])) if self._values.get(c) else np.empty(0)
            ok = ~np.isnan(x) & ~np.isnan(y) if len(x) else np.zeros(0, bool)
            n = int(ok.sum())
            if n < MIN_ROWS:
                out[c] = {"kept": f"{n} labelled rows with a value (need {MIN_ROWS})", "rows": n}
                continue
            if np.ptp(x[ok]) == 0 or np.ptp(y[ok]) == 0:
                out[c] = {"kept": "constant over the labelled rows", "rows": n}
                continue
            rho = float(spearmanr(x[ok], y[ok]).statistic)
            out[c] = {"direction": HIGHER if rho >= 0 else LOWER, "weight": round(abs(rho), 6), "spearman": round(rho, 6), "rows": n}
        return out


def apply(composite: Any, result: dict[str, dict[str, Any]], fixed: set[str]) -> None:
    """Set `composite`'s directions and weights from `result`; columns in `fixed` (user-set) are left alone."""
    from curate.difficulty import CompositeColumn

    cols = []
    for c in composite.columns:
        r = result.get(c.name, {})
        if c.name in fixed or "weight" not in r:
            cols.append(c)
        elif r["weight"] > 0:
            cols.append(CompositeColumn(c.name, r["direction"], float(r["weight"])))
    if cols:
        composite.columns = cols
