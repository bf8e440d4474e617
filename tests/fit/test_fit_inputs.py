"""Bad input: a clear error or a quarantined row with a reason, never a traceback, nothing written half."""

import json

import numpy as np
import pyarrow as pa
import pytest
from fitdata import make_rows

from curate.errors import InputError, UsageError
from curate.fit import FitConfig, fit, load_model


def _fit(tmp_path, src, **kw):
    return fit([src], FitConfig(output=str(tmp_path / "m"), **{"label": "y", **kw}))


def _assert_nothing_written(tmp_path):
    assert not (tmp_path / "m").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".m.")]  # no temporary folder left


@pytest.mark.parametrize(
    "rows,message",
    [
        (lambda: [{k: v for k, v in r.items() if k != "y"} for r in make_rows(30)], "label column 'y' is not in the input"),
        (lambda: [{**r, "y": None} for r in make_rows(30)], "no row carries the label 'y'"),
        (lambda: [{**r, "y": 3} for r in make_rows(30)], "has one value (3) in all 30 labelled rows"),
        (lambda: [{**r, "y": "hard"} for r in make_rows(30)], "label 'y' is not numeric"),
        (lambda: make_rows(8), "only 8 rows carry the label 'y'; 5-fold cross-validation needs at least 10"),
    ],
    ids=["missing", "all-null", "constant", "non-numeric", "too-few"],
)
def test_unusable_label_is_a_clear_error_and_writes_nothing(tmp_path, rows_file, rows, message):
    with pytest.raises(InputError) as exc:
        _fit(tmp_path, rows_file(rows()))
    assert message in str(exc.value)
    assert exc.value.fix
    _assert_nothing_written(tmp_path)


def test_too_few_rows_of_a_binary_class(tmp_path, rows_file):
    rows = make_rows(40, label=lambda r, rng: r["id"] in ("r0001", "r0002"))
    with pytest.raises(InputError, match="2 rows of its rarer value; 5-fold cross-validation needs 5"):
        _fit(tmp_path, rows_file(rows))


def test_unparseable_labels_and_null_texts_are_quarantined_with_reasons(tmp_path, rows_file):
    rows = make_rows(40, seed=1)
    rows[3]["y"] = "n/a"
    rows[5]["y"] = "inf"
    rows[7]["text"] = None
    rows[9]["y"] = "4.5"  # a number written as text is a number
    s = _fit(tmp_path, rows_file(rows))
    assert s.rows_in == 40 and s.rows_labelled == 37 and s.quarantined == 3
    rejects = [json.loads(line) for line in (tmp_path / "m" / "rejects.jsonl").read_text().splitlines()]
    reasons = sorted(r["reject_reason"] for r in rejects)
    assert any(r.startswith("label: not a number ('n/a')") for r in reasons)
    assert any(r.startswith("label: not a finite number") for r in reasons)
    assert any("text" in r for r in reasons)
    assert {r["id"] for r in rejects} == {"r0003", "r0005", "r0007"}


def test_null_extra_text_is_quarantined(tmp_path, rows_file):
    rows = [{**r, "solution": r["text"][::-1]} for r in make_rows(40, seed=2)]
    rows[4]["solution"] = None
    s = _fit(tmp_path, rows_file(rows), extra_text=["solution"])
    assert s.quarantined == 1 and s.reject_reasons
    assert "solution:score_length_words" in s.features["columns"]


def test_bad_options_are_usage_errors(tmp_path, rows_file):
    src = rows_file(make_rows(30))
    with pytest.raises(UsageError, match="unknown feature group 'words'"):
        _fit(tmp_path, src, features=["words"])
    with pytest.raises(UsageError, match="unknown label direction"):
        _fit(tmp_path, src, direction="up")
    with pytest.raises(UsageError, match="is also a text or id column"):
        _fit(tmp_path, src, label="text")
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "notes.txt").write_text("mine")
    with pytest.raises(UsageError, match="exists and is not a model folder"):
        _fit(tmp_path, src)
    assert (tmp_path / "m" / "notes.txt").read_text() == "mine"


@pytest.fixture
def model_dir(tmp_path, rows_file):
    _fit(tmp_path, rows_file(make_rows(40, seed=3)))
    return tmp_path / "m"


def test_model_from_another_curate_version_is_refused(model_dir):
    meta = json.loads((model_dir / "model.json").read_text())
    meta["curate_version"] = "0.0.1"
    (model_dir / "model.json").write_text(json.dumps(meta))
    with pytest.raises(InputError, match="fitted by curate 0.0.1"):
        load_model(model_dir)


def test_model_with_edited_features_is_refused(model_dir):
    meta = json.loads((model_dir / "model.json").read_text())
    meta["features"]["hash_bits"] = 12
    (model_dir / "model.json").write_text(json.dumps(meta))
    with pytest.raises(InputError, match="does not match its recorded sha256"):
        load_model(model_dir)


def test_arrays_with_objects_are_never_unpickled(model_dir, tmp_path):
    """An arrays.npz carrying a pickled object is refused, and the pickle does not run."""
    marker = tmp_path / "ran"
    evil = np.empty(1, dtype=object)
    evil[0] = _Boom(str(marker))
    np.savez(model_dir / "arrays.npz", center=evil)
    with pytest.raises(InputError, match="cannot read .* as numeric arrays"):
        load_model(model_dir)
    assert not marker.exists()


class _Boom:
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_truncated_arrays_are_an_input_error(model_dir):
    data = (model_dir / "arrays.npz").read_bytes()
    (model_dir / "arrays.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError):
        load_model(model_dir)


def test_missing_model_signal_column_at_prediction_is_an_input_error(tmp_path, rows_file):
    rows = [{**r, "score_lm_perplexity": float(i % 7), "score_lm_token_entropy": float(i % 3)} for i, r in enumerate(make_rows(40, seed=4))]
    _fit(tmp_path, rows_file(rows), features=["signals", "lm"])
    model = load_model(tmp_path / "m")
    with pytest.raises(InputError, match="needs column 'score_lm_perplexity'.*-s lm_perplexity"):
        model.predict(pa.Table.from_pylist([{"text": "a b c", "score_x": 1.0}]))


def test_not_a_model_folder(tmp_path):
    with pytest.raises(InputError, match="not a curate model folder"):
        load_model(tmp_path)
