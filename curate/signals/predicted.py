"""`predicted`: a label predicted by a model from `curate fit` (option `predictor`: its folder).

- `score_predicted`: the prediction on the label's own scale (a pass rate, a level, the
  probability of the positive class for a binary label). Its direction is the label's as fitted
  (`lower-is-harder` for a pass rate), so `difficulty` can be the prediction alone
  (`-s predicted`) or one signal among others (`--weight predicted=2`).
- `score_predicted_std`: the spread (standard deviation) of the cross-validation fold models'
  predictions — large where the labelled rows say little. Informational.

A text signal: it runs in score's worker processes (or Ray tasks) like the others. The model is
read once per process (JSON and NPZ, no code runs) and kept for every later batch. Features the
model needs that come from text signals are computed here from the text; those from model
signals (`score_lm_*`) must be columns of the input. A row whose extra text field is null gets a
null prediction.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from curate.signals.base import (
    HIGHER,
    SIGNALS,
    BatchContext,
    Column,
    Signal,
    column_name,
)


@lru_cache(maxsize=4)
def _load(path: str, mtime_ns: int) -> Any:
    from curate.fit.store import load_model

    return load_model(path)


def load_predictor(path: str | os.PathLike[str]) -> Any:
    """The model in `path`, loaded once per process (reloaded if its model.json changes)."""
    from curate.errors import InputError
    from curate.fit.store import MODEL_JSON

    p = Path(path).resolve()
    try:
        mtime = (p / MODEL_JSON).stat().st_mtime_ns
    except OSError:
        raise InputError(f"'{path}' is not a curate model folder (no {MODEL_JSON})", "pass the -o folder of `curate fit` to --predictor") from None
    return _load(str(p), mtime)


def predictor_path(ctx_options: dict[str, Any], own: dict[str, Any]) -> str:
    from curate.errors import UsageError

    path = own.get("predictor") or ctx_options.get("predictor")
    if not path:
        raise UsageError("the predicted signal needs a model", "pass --predictor MODEL_DIR (the -o folder of `curate fit`)")
    return str(path)


@SIGNALS.register()
class Predicted(Signal):
    name = "predicted"
    description = "A label predicted by a `curate fit` model (--predictor DIR), on the label's scale, with the label's direction."
    columns = (
        Column("", "the fitted model's prediction of its label (direction: the label's)", HIGHER),
        Column("std", "spread of the cross-validation fold models' predictions", None, False),
    )

    @classmethod
    def columns_for(cls, options: dict[str, Any]) -> tuple[Column, ...]:
        """The columns with the fitted label's direction (read from the model's JSON only)."""
        from curate.fit.store import read_meta

        own = options.get(cls.name) if isinstance(options.get(cls.name), dict) else {}
        meta = read_meta(predictor_path(options, own or {}))
        main = Column("", f"prediction of '{meta['label']}' by the model fitted with `curate fit`", meta["direction"])
        return (main, cls.columns[1])

    @classmethod
    def fingerprint(cls, options: dict[str, Any]) -> Any:
        import hashlib

        from curate.fit.store import ARRAYS, read_meta

        own = options.get(cls.name) if isinstance(options.get(cls.name), dict) else {}
        path = Path(predictor_path(options, own or {}))
        meta = read_meta(path)
        arrays = hashlib.sha256((path / ARRAYS).read_bytes()).hexdigest() if (path / ARRAYS).is_file() else None
        return {"features": meta.get("features_sha256"), "arrays": arrays}

    @classmethod
    def input_columns(cls, options: dict[str, Any]) -> list[str]:
        """Input columns besides the text that the model reads (its extra text fields and model-signal features)."""
        from curate.fit.features import FeatureSpec
        from curate.fit.store import read_meta

        own = options.get(cls.name) if isinstance(options.get(cls.name), dict) else {}
        spec = FeatureSpec.model_validate(read_meta(predictor_path(options, own or {}))["features"])
        return [*spec.extra_text, *spec.needed_columns()]

    def score(self, ctx: BatchContext) -> dict[str, Sequence[Any]]:
        import pyarrow as pa
        import pyarrow.compute as pc

        from curate.errors import InputError

        model = load_predictor(predictor_path(ctx.options, self.options))
        spec = model.state.spec
        table = ctx.table
        if ctx.text_field != spec.text_field:
            table = table.append_column(spec.text_field, table.column(ctx.text_field)) if spec.text_field not in table.column_names else table
        n = table.num_rows
        ok = np.ones(n, dtype=bool)
        for f in spec.extra_text:
            if f not in table.column_names:
                raise InputError(f"the model reads the text column '{f}', which the input does not have", f"score an input with a '{f}' column")
            ok &= ~np.asarray(pc.fill_null(pc.is_null(table.column(f)), True))
        pred = np.full(n, np.nan)
        std = np.full(n, np.nan)
        if ok.any():
            sub = table if ok.all() else table.filter(pa.array(ok))
            p, s = model.predict(sub)
            pred[ok], std[ok] = p, s
        return {column_name(self.name): pred.tolist(), column_name(self.name, "std"): std.tolist()}
