"""The model folder: JSON and NPZ only, so loading one runs no code from it.

    MODEL_DIR/
      model.json     format, curate and scikit-learn versions, label (name, kind, direction,
                     range), the feature spec and its sha256, learner and strength, CV metrics,
                     importances, sha256 of the training rows
      arrays.npz     IDF weights, dense-column medians/centres/scales, the coefficient rows
                     (CSR parts) and intercepts — numeric arrays, read with allow_pickle=False
      suggest.jsonl  (with --suggest) the rows to label next

No pickle, no joblib, no skops: the learners are linear, so the numbers are the whole model, and
`np.load(..., allow_pickle=False)` refuses object arrays. The folder is written beside its final
place and moved there whole, so a failed fit leaves no half-written model. Loading checks the
format, the curate version that wrote it and that the arrays fit the spec.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from curate.errors import InputError, UsageError
from curate.fit.features import FeatureSpec, FeatureState
from curate.fit.model import FittedModel

FORMAT = "curate-fit/1"
MODEL_JSON = "model.json"
ARRAYS = "arrays.npz"
SUGGEST = "suggest.jsonl"
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def spec_sha256(spec: FeatureSpec) -> str:
    return hashlib.sha256(spec.model_dump_json().encode()).hexdigest()


def _write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """`np.savez_compressed`, but with fixed entry times so the same model gives the same bytes."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(arrays):
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.ascontiguousarray(arrays[name]), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, buf.getvalue())


def model_arrays(model: FittedModel) -> dict[str, np.ndarray]:
    c = model.coefs.tocsr()
    out = model.state.arrays()
    out.update(
        coef_data=c.data.astype(np.float64),
        coef_indices=c.indices.astype(np.int64),
        coef_indptr=c.indptr.astype(np.int64),
        coef_shape=np.asarray(c.shape, np.int64),
        intercepts=np.asarray(model.intercepts, np.float64),
    )
    return out


def model_json(model: FittedModel) -> dict[str, Any]:
    import sklearn

    from curate import __version__

    return {
        "format": FORMAT,
        "curate_version": __version__,
        "sklearn_version": sklearn.__version__,
        "label": model.label,
        "kind": model.kind,
        "direction": model.direction,
        "label_range": list(model.label_range),
        "positive": model.positive,
        "learner": model.learner,
        "strength": model.strength,
        "features": model.state.spec.model_dump(mode="json"),
        "features_sha256": spec_sha256(model.state.spec),
        **model.meta,
    }


def prepare_dir(out: str | os.PathLike[str]) -> Path:
    """A fresh temporary folder beside `out`; `out` must be new, empty or an earlier model folder."""
    dest = Path(out)
    if dest.exists() and (not dest.is_dir() or (any(dest.iterdir()) and not (dest / MODEL_JSON).is_file())):
        raise UsageError(f"'{dest}' exists and is not a model folder", "choose a new or empty folder for -o")
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
    umask = os.umask(0)
    os.umask(umask)
    tmp.chmod(0o777 & ~umask)  # mkdtemp makes it private; the model folder is an ordinary folder
    return tmp


def write_model(tmp: Path, model: FittedModel) -> None:
    _write_npz(tmp / ARRAYS, model_arrays(model))
    (tmp / MODEL_JSON).write_text(json.dumps(model_json(model), indent=2, sort_keys=False, allow_nan=False) + "\n")


def commit_dir(tmp: Path, out: str | os.PathLike[str]) -> None:
    """Move the finished folder into place (an earlier model there is replaced whole)."""
    dest = Path(out)
    old = None
    if dest.exists():
        old = dest.with_name(f".{dest.name}.old-{os.getpid()}")
        os.replace(dest, old)
    os.replace(tmp, dest)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def save_model(model: FittedModel, out: str | os.PathLike[str]) -> Path:
    tmp = prepare_dir(out)
    try:
        write_model(tmp, model)
        commit_dir(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return Path(out)


def read_meta(path: str | os.PathLike[str]) -> dict[str, Any]:
    """model.json of a model folder, checked for format and curate version."""
    from curate import __version__

    d = Path(path)
    f = d / MODEL_JSON
    if not f.is_file():
        raise InputError(f"'{d}' is not a curate model folder (no {MODEL_JSON})", "pass the -o folder of `curate fit`")
    try:
        meta = json.loads(f.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"cannot read {f}: {exc}", "refit the model with `curate fit`") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise InputError(
            f"{f} is not a {FORMAT} model (format {meta.get('format') if isinstance(meta, dict) else None!r})",
            "refit the model with this curate's `curate fit`",
        )
    if meta.get("curate_version") != __version__:
        raise InputError(
            f"the model in '{d}' was fitted by curate {meta.get('curate_version')}; this is curate {__version__}",
            "refit it with `curate fit` (feature definitions may differ between versions)",
        )
    return meta


def load_model(path: str | os.PathLike[str]) -> FittedModel:
    """Load a model folder: JSON and numeric arrays only; any mismatch is an InputError."""
    import scipy.sparse as sp
    from pydantic import ValidationError

    d = Path(path)
    meta = read_meta(d)
    try:
        spec = FeatureSpec.model_validate(meta["features"])
    except (KeyError, ValidationError) as exc:
        raise InputError(f"the feature spec in {d / MODEL_JSON} is invalid: {exc}", "refit the model with `curate fit`") from None
    if meta.get("features_sha256") != spec_sha256(spec):
        raise InputError(f"the feature spec in {d / MODEL_JSON} does not match its recorded sha256", "refit the model with `curate fit`")
    try:
        with np.load(d / ARRAYS, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except FileNotFoundError:
        raise InputError(f"'{d}' has no {ARRAYS}", "refit the model with `curate fit`") from None
    except (ValueError, OSError, zipfile.BadZipFile, EOFError) as exc:
        raise InputError(f"cannot read {d / ARRAYS} as numeric arrays: {exc}", "refit the model with `curate fit`") from None
    try:
        state = FeatureState.from_arrays(spec, arrays)
        shape = tuple(int(v) for v in arrays["coef_shape"])
        coefs = sp.csr_matrix((arrays["coef_data"], arrays["coef_indices"], arrays["coef_indptr"]), shape=shape)
        intercepts = arrays["intercepts"].astype(np.float64)
    except (KeyError, ValueError, TypeError) as exc:
        raise InputError(f"{d / ARRAYS} is incomplete or inconsistent: {exc}", "refit the model with `curate fit`") from None
    if coefs.shape[1] != state.n_features() or len(intercepts) != coefs.shape[0] or coefs.dtype.kind != "f":
        raise InputError(f"the coefficients in {d / ARRAYS} do not fit the feature spec", "refit the model with `curate fit`")
    lo, hi = meta.get("label_range") or (float("-inf"), float("inf"))
    return FittedModel(
        state=state,
        kind=meta["kind"],
        learner=meta["learner"],
        strength=float(meta["strength"]),
        coefs=coefs,
        intercepts=intercepts,
        label=meta["label"],
        direction=meta["direction"],
        label_range=(float(lo), float(hi)),
        positive=meta.get("positive"),
        meta=meta,
    )
