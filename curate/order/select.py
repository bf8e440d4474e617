"""Order-time learnability and mixing: keep rows in a band of a column, and mix each step across a column's values.

* `--band COLUMN=LO:HI` keeps rows whose COLUMN is in [LO, HI] (e.g. `score_pass_rate=0.1:0.9`:
  neither mastered nor hopeless); rows below, above or without a value are left out of the run and
  counted in the manifest (`rows.band`).
* `--mix-by COLUMN --mix a=0.7,b=0.3`: every step takes 70 % of its rows from rows whose COLUMN is
  `a` and 30 % from `b`, within one row (`curate.order.mix.quotas`), each value's rows in the
  schedule's order. A value whose rows run out starts over on them (they repeat), so the mixture
  holds for the whole budget; rows of a value left with unread rows at the end are counted. Rows
  whose value has no weight are left out and counted (`rows.mix`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from curate.errors import InputError, UsageError
from curate.order.index import Index, Source, column_values, keep


def parse_band(spec: str) -> tuple[str, float, float]:
    col, sep, rng = str(spec).rpartition("=")
    lo, sep2, hi = rng.partition(":")
    try:
        a, b = float(lo), float(hi)
    except ValueError:
        a = b = math.nan
    if not sep or not sep2 or not col.strip() or not (math.isfinite(a) and math.isfinite(b)) or a > b:
        raise UsageError(f"--band {spec!r}: expected COLUMN=LO:HI with LO ≤ HI (e.g. score_pass_rate=0.1:0.9)")
    return col.strip(), a, b


def parse_mix(value: str | dict[str, Any]) -> dict[str, float]:
    """`a=0.7,b=0.3` (or a mapping) → weights normalised to sum to 1."""
    items: dict[str, Any] = dict(value) if isinstance(value, dict) else {}
    if not isinstance(value, dict):
        for part in str(value).split(","):
            if not part.strip():
                continue
            k, sep, v = part.partition("=")
            if not sep or not k.strip():
                raise UsageError(f"--mix {value!r}: expected VALUE=WEIGHT,VALUE=WEIGHT (e.g. gsm=0.7,math=0.3)")
            items[k.strip()] = v
    weights: dict[str, float] = {}
    for k, v in items.items():
        try:
            w = float(v)
        except (TypeError, ValueError):
            raise UsageError(f"--mix: weight of {k!r} is not a number ({v!r})") from None
        if not math.isfinite(w) or w < 0:
            raise UsageError(f"--mix: weight of {k!r} must be a number ≥ 0 (got {v!r})")
        weights[str(k)] = w
    total = sum(weights.values())
    if not weights or total <= 0:
        raise UsageError(f"--mix {value!r}: give at least one weight > 0")
    return {k: w / total for k, w in weights.items()}


def band(index: Index, sources: list[Source], spec: str) -> tuple[Index, dict[str, Any]]:
    col, lo, hi = parse_band(spec)
    values = column_values(sources, col, "--band")
    if not values.dtype.is_numeric():
        raise UsageError(f"--band {spec!r}: column '{col}' is not numeric ({values.dtype})", "band a numeric column such as score_pass_rate")
    v = values.cast(float).to_numpy()
    v_idx = v[index.rows]
    null = np.isnan(v_idx)
    below, above = (v_idx < lo) & ~null, (v_idx > hi) & ~null
    mask = np.zeros(len(v), dtype=bool)
    mask[index.rows[~(null | below | above)]] = True
    kept = keep(index, mask)
    info = {"column": col, "lo": lo, "hi": hi, "kept": kept.n, "below": int(below.sum()), "above": int(above.sum()), "null": int(null.sum())}
    if kept.n == 0:
        raise InputError(
            f"no row has {col} in [{lo:g}, {hi:g}] ({info['below']:,} below, {info['above']:,} above, {info['null']:,} without a value)",
            "widen --band or check the column",
        )
    return kept, info


def mix_groups(index: Index, sources: list[Source], column: str, weights: dict[str, float]) -> tuple[Index, np.ndarray, np.ndarray, dict[str, Any]]:
    """Rows whose value has a weight; each global row's group (−1: none) and the weights by group."""
    values = column_values(sources, column, "--mix-by")
    labels = np.array(["" if x is None else str(x) for x in values.to_list()], dtype=object)
    names = list(weights)
    present = set(labels[index.rows].tolist())
    absent = [n for n in names if n not in present]
    if absent:
        raise UsageError(
            f"--mix names {', '.join(repr(a) for a in absent)}, but no row has {column} = {absent[0]!r}",
            f"values of {column}: {', '.join(sorted(present)[:10])}",
        )
    code = np.full(len(labels), -1, dtype=np.int64)
    for g, n in enumerate(names):
        code[labels == n] = g
    left_out = code[index.rows] < 0
    kept = keep(index, code >= 0)
    info = {"column": column, "weights": {n: round(w, 12) for n, w in weights.items()}, "left_out": int(left_out.sum())}
    return kept, code, np.array([weights[n] for n in names]), info


def mix(ranks: np.ndarray, index: Index, code: np.ndarray, w: np.ndarray, batch_size: int, info: dict[str, Any]) -> np.ndarray:
    """The drawn ranks re-ordered so each step holds each value's share (a value that runs out repeats)."""
    from curate.order.mix import interleave

    groups = code[index.rows[ranks]]
    mixed = interleave(ranks, groups, w, batch_size, total=len(ranks), exhausted="cycle")
    names = list(info["weights"])
    info["values"] = {
        names[g]: {"read": st["rows"], "rows": st["available"], "repeats": st["repeats"], "unread": st["unread"]} for g, st in mixed.per_group.items()
    }
    return mixed.sequence
