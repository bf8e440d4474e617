"""The label column: which rows carry one, its kind, its direction, and what is wrong with it.

- A null label means "not labelled": the row does not train (it may be suggested for labelling).
- A label that is present but unusable — text that is not a number, NaN, infinity — quarantines
  its row with a reason (`label: ...`), it is never silently dropped.
- Kind `auto`: a boolean column, or exactly the two values {0, 1}, is binary; any other numeric
  column is a regression. Text labels are binary only when asked (`--kind binary`) and have
  exactly two values (the one that sorts last counts as positive).
- Direction (default): `lower-is-harder` for a `score_pass_rate` label, else `higher-is-harder`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from curate.difficulty import DIRECTION_ALIASES
from curate.errors import InputError, UsageError
from curate.signals.base import HIGHER, LOWER

KINDS = ("auto", "regression", "binary")


def default_direction(label: str) -> str:
    return LOWER if label == "score_pass_rate" else HIGHER


def resolve_direction(label: str, given: str | None) -> str:
    if given is None:
        return default_direction(label)
    d = DIRECTION_ALIASES.get(given)
    if d is None:
        raise UsageError(f"unknown label direction '{given}'", "use higher-is-harder or lower-is-harder")
    return d


def parse_value(v: Any) -> tuple[float | None, str | None]:
    """(number, None), (None, None) for a missing label, or (None, reason) for an unusable one."""
    if v is None:
        return None, None
    if isinstance(v, bool):
        return float(v), None
    if isinstance(v, (int, float)):
        f = float(v)
        return (f, None) if math.isfinite(f) else (None, f"label: not a finite number ({v!r})")
    if isinstance(v, str):
        s = v.strip()
        if not s:
            return None, None
        try:
            f = float(s)
        except ValueError:
            return None, f"label: not a number ({s[:40]!r})"
        return (f, None) if math.isfinite(f) else (None, f"label: not a finite number ({s!r})")
    return None, f"label: not a number ({type(v).__name__})"


@dataclass
class Labels:
    values: np.ndarray  # float64, the label (binary: 0/1)
    kind: str
    positive: Any = None  # binary: the raw value counted as 1


def usable(raw: list[Any], label: str, kind: str) -> list[str | None]:
    """Per labelled row: None if its label is usable for `kind`, else the quarantine reason."""
    if kind == "binary":
        return [None] * len(raw)
    reasons = [parse_value(v)[1] for v in raw]
    strings = [v for v in raw if isinstance(v, str)]
    if strings and all(r is not None for r in reasons):
        raise InputError(
            f"label '{label}' is not numeric (values like {strings[0]!r})", "use a numeric label column, or --kind binary for a two-valued one"
        )
    return reasons


def decide(raw: list[Any], label: str, kind: str, folds: int) -> Labels:
    """Map the usable labelled rows' raw values to numbers; refuse labels nothing can be learnt from."""
    if kind not in KINDS:
        raise UsageError(f"unknown --kind '{kind}'", "use auto, regression or binary")
    if not raw:
        raise InputError(f"no row carries a usable value of the label '{label}'", "label some rows (nulls mean unlabelled)")
    if kind == "binary":
        distinct = sorted(set(raw))
        if len(distinct) != 2:
            raise InputError(f"--kind binary needs exactly two label values; '{label}' has {len(distinct)}", "use --kind regression")
        labels = Labels(np.array([1.0 if v == distinct[1] else 0.0 for v in raw]), "binary", distinct[1])
    else:
        values = np.array([parse_value(v)[0] for v in raw], dtype=np.float64)
        is_binary = kind == "auto" and (all(isinstance(v, bool) for v in raw) or set(np.unique(values).tolist()) == {0.0, 1.0})
        labels = Labels(values, "binary", True if all(isinstance(v, bool) for v in raw) else 1.0) if is_binary else Labels(values, "regression")
    uniq = np.unique(labels.values)
    if len(uniq) < 2:
        raise InputError(
            f"label '{label}' has one value ({raw[0]!r}) in all {len(raw)} labelled rows: there is nothing to learn",
            "label rows that differ, or choose another --label",
        )
    need = min_labelled(folds)
    if len(labels.values) < need:
        raise InputError(
            f"only {len(labels.values)} rows carry the label '{label}'; {folds}-fold cross-validation needs at least {need}",
            "label more rows, or lower --folds",
        )
    if labels.kind == "binary":
        counts = np.bincount(labels.values.astype(np.int64), minlength=2)
        if counts.min() < folds:
            raise InputError(
                f"label '{label}' has {int(counts.min())} rows of its rarer value; {folds}-fold cross-validation needs {folds}",
                "label more rows of that value, or lower --folds",
            )
    return labels


def min_labelled(folds: int) -> int:
    """Labelled rows needed: two per fold, and never fewer than 10."""
    return max(10, 2 * folds)
