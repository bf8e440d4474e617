"""The composite `difficulty` ∈ [0, 1]: per-column empirical CDF, flipped by direction, weighted mean.

This is Platanios et al. (2019)'s "difficulty = CDF of a raw score": every signal is mapped to its
rank among all rows (ties get their average rank), so signals on different scales combine fairly
and pacing functions stay data-independent.

Memory: the CDF needs every row, but only the composite columns' values — never the text. Pass 1
keeps one float64 per row per composite column (80 MB for 10 M rows); `finalize()` sorts each, and
pass 2 maps any batch to CDF values with two binary searches per value. For
`mid-rank / N` with ties averaged: cdf(v) = (#(< v) + (#(== v) + 1) / 2) / N.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from curate.errors import UsageError
from curate.signals.base import HIGHER, LOWER, Direction, Signal, column_name, float_values

DIRECTION_ALIASES: dict[str, Direction] = {
    "higher-is-harder": HIGHER,
    "higher": HIGHER,
    "lower-is-harder": LOWER,
    "lower": LOWER,
}


@dataclass
class CompositeColumn:
    name: str
    direction: Direction
    weight: float


@dataclass
class Composite:
    """Which columns enter `difficulty`, with what direction and weight."""

    columns: list[CompositeColumn]
    _values: dict[str, list[np.ndarray]] = field(default_factory=dict)
    _sorted: dict[str, np.ndarray] = field(default_factory=dict)

    @classmethod
    def build(
        cls, signals: list[type[Signal]], weights: dict[str, float], directions: dict[str, str], options: dict[str, Any] | None = None
    ) -> Composite:
        """Default: each signal weighs 1, split evenly over its composite columns; overrides by signal or column name.

        `options` (the run's signal options) lets a signal state its columns' directions at run
        time (`Signal.columns_for`): `predicted` takes its label's.
        """
        known_signals = {s.name for s in signals}
        known_cols = {column_name(s.name, c.part) for s in signals for c in s.columns}
        for key in list(weights) + list(directions):
            if key not in known_signals and key not in known_cols and column_name(key) not in known_cols:
                raise UsageError(
                    f"--weight/--direction names '{key}', which is not a selected signal or score column",
                    f"use one of: {', '.join(sorted(known_signals | known_cols))}",
                )
        cols: list[CompositeColumn] = []
        for s in signals:
            parts = [c for c in (s.columns_for(options) if options is not None else s.columns) if c.direction is not None]
            default_in = [c for c in parts if c.composite]
            for c in parts:
                full = column_name(s.name, c.part)
                explicit = full in weights or column_name(full) in weights
                if not (c.composite or explicit):
                    continue
                w = weights.get(full, weights.get(s.name, 1.0) / max(1, len(default_in)) if c.composite else 0.0)
                d_raw = directions.get(full, directions.get(s.name, c.direction))
                d = DIRECTION_ALIASES.get(str(d_raw))
                if d is None:
                    raise UsageError(f"unknown direction '{d_raw}' for {full}", "use higher-is-harder or lower-is-harder")
                if w > 0:
                    cols.append(CompositeColumn(full, d, float(w)))
        return cls(cols)

    def add(self, table: pa.Table) -> None:
        """Pass 1: remember this batch's composite column values."""
        for c in self.columns:
            if c.name in table.column_names:
                arr = float_values(table.column(c.name))
                self._values.setdefault(c.name, []).append(arr)

    def finalize(self) -> None:
        for c in self.columns:
            parts = self._values.pop(c.name, [])
            allv = np.concatenate(parts) if parts else np.empty(0)
            allv = allv[~np.isnan(allv)]
            allv.sort()
            self._sorted[c.name] = allv

    def cdf(self, name: str, values: np.ndarray) -> np.ndarray:
        s = self._sorted[name]
        n = len(s)
        out = np.full(values.shape, np.nan)
        if n == 0:
            return out
        ok = ~np.isnan(values)
        lo = np.searchsorted(s, values[ok], side="left")
        hi = np.searchsorted(s, values[ok], side="right")
        out[ok] = (lo + (hi - lo + 1) / 2.0) / n
        return out

    def difficulty(self, table: pa.Table) -> np.ndarray:
        """Pass 2: weighted mean of direction-flipped CDFs; a row's missing signals are left out of its mean."""
        num = np.zeros(table.num_rows)
        den = np.zeros(table.num_rows)
        for c in self.columns:
            if c.name not in table.column_names:
                continue
            v = float_values(table.column(c.name))
            p = self.cdf(c.name, v)
            if c.direction == LOWER:
                p = 1.0 - p + (1.0 / max(1, len(self._sorted[c.name])))  # keep the mid-rank symmetric
            ok = ~np.isnan(p)
            num[ok] += c.weight * p[ok]
            den[ok] += c.weight
        with np.errstate(invalid="ignore", divide="ignore"):
            d = np.where(den > 0, num / den, np.nan)
        return np.clip(d, 0.0, 1.0)

    def describe(self) -> list[dict[str, Any]]:
        return [{"column": c.name, "direction": c.direction, "weight": c.weight} for c in self.columns]
