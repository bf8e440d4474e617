"""Learned difficulty: fit a predictor of a label on cheap features, predict it for every row.

`fit` trains and saves one (`curate.fit.run`), `load_model` reads one back (JSON and NPZ, no code
runs), the `predicted` signal applies one inside `curate score`, and `curate.fit.calibrate` sets a
composite's directions and weights from a label without any model file. The loop: docs/fit.md.
"""

from __future__ import annotations

from typing import Any

__all__ = ["FitConfig", "FitSummary", "fit", "load_model"]


def __getattr__(name: str) -> Any:  # scikit-learn and scipy load only when a fit is used
    if name in ("FitConfig", "FitSummary", "fit"):
        from curate.fit import run

        return getattr(run, name)
    if name == "load_model":
        from curate.fit.store import load_model

        return load_model
    raise AttributeError(name)
