"""Known ground truth: what `fit` must recover, and what it must not invent."""

import json
import math
import warnings

import numpy as np
import pyarrow as pa
from fitdata import make_rows
from scipy.stats import spearmanr

from curate.fit import FitConfig, fit, load_model


def test_monotone_label_of_one_feature_is_recovered(tmp_path, rows_file):
    rows = make_rows(300, seed=1, label=lambda r, rng: math.exp(r["score_x"] / 2))
    train, test = rows[:200], rows[200:]
    s = fit([rows_file(train)], FitConfig(label="y", output=str(tmp_path / "m"), seed=0))
    assert s.kind == "regression" and s.rows_labelled == 200
    assert s.cv["pooled"]["spearman"] > 0.95
    lo, hi = s.cv["pooled"]["spearman_ci95"]
    assert lo > 0.9 and hi <= 1.0
    assert s.importances[0]["feature"] == "score_x" and s.importances[0]["weight"] > 0
    model = load_model(tmp_path / "m")
    pred, std = model.predict(pa.Table.from_pylist(test))
    rho = spearmanr(pred, [r["y"] for r in test]).statistic
    assert rho > 0.95, rho
    assert (std >= 0).all() and np.isfinite(std).all()


def test_pure_noise_gives_a_ci_that_includes_zero(tmp_path, rows_file):
    rows = make_rows(300, seed=2, label=lambda r, rng: rng.gauss(0, 1))
    s = fit([rows_file(rows)], FitConfig(label="y", output=str(tmp_path / "m"), seed=0))
    lo, hi = s.cv["pooled"]["spearman_ci95"]
    assert lo < 0 < hi, (lo, hi)
    assert abs(s.cv["pooled"]["spearman"]) < 0.15


def test_binary_label_reports_auc(tmp_path, rows_file):
    rows = make_rows(200, seed=3, label=lambda r, rng: r["score_x"] > 5)
    s = fit([rows_file(rows)], FitConfig(label="y", output=str(tmp_path / "m")))
    assert s.kind == "binary" and s.learner == "logistic"
    assert s.cv["pooled"]["auc"] > 0.95
    assert all("auc" in f for f in s.cv["folds"])
    model = load_model(tmp_path / "m")
    p, _ = model.predict(pa.Table.from_pylist(rows[:20]))
    assert ((p >= 0) & (p <= 1)).all()
    hi = [pi for pi, r in zip(p, rows[:20]) if r["score_x"] > 7]
    lo = [pi for pi, r in zip(p, rows[:20]) if r["score_x"] < 3]
    assert min(hi) > max(lo)


def test_text_alone_carries_a_label(tmp_path, rows_file):
    """A label that is a word's count in the text, with no score column: the n-gram features find it."""
    rows = make_rows(240, seed=4, label=lambda r, rng: r["text"].split().count("omega") + r["text"].split().count("psi"))
    for r in rows:
        del r["score_x"]
    s = fit([rows_file(rows)], FitConfig(label="y", output=str(tmp_path / "m")))
    assert s.cv["pooled"]["spearman"] > 0.7
    names = [i["feature"] for i in s.importances[:6]]
    assert any("omega" in n or "psi" in n for n in names), names


def test_same_input_and_seed_give_identical_model_files(tmp_path, rows_file):
    rows = make_rows(120, seed=5, label=lambda r, rng: r["score_x"] + rng.gauss(0, 1), labelled=0.7)
    src = rows_file(rows)
    for name in ("a", "b"):
        fit([src], FitConfig(label="y", output=str(tmp_path / name), suggest=5, seed=3))
    for f in ("model.json", "arrays.npz", "suggest.jsonl", "cv.parquet"):
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes(), f


def test_model_json_records_what_the_issue_asks(tmp_path, rows_file):
    rows = make_rows(80, seed=6, label=lambda r, rng: 1 - r["score_x"] / 10)
    rows = [{**r, "score_pass_rate": r.pop("y")} for r in rows]
    fit([rows_file(rows)], FitConfig(label="score_pass_rate", output=str(tmp_path / "m")))
    meta = json.loads((tmp_path / "m" / "model.json").read_text())
    assert meta["label"] == "score_pass_rate" and meta["direction"] == "lower-is-harder"
    assert meta["curate_version"] and meta["format"] == "curate-fit/1"
    assert len(meta["training"]["sha256"]) == 64 and meta["training"]["rows"] == 80
    assert meta["features"]["groups"] == ["signals", "text", "length"]
    assert [c["name"] for c in meta["features"]["columns"]] == ["score_x"]  # the label's own column is not a feature
    assert meta["cv"]["pooled"]["spearman"] is not None and len(meta["cv"]["folds"]) == 5


def test_suggest_picks_distinct_unlabelled_rows(tmp_path, rows_file):
    rows = make_rows(300, seed=7, label=lambda r, rng: r["score_x"], labelled=0.2)
    s = fit([rows_file(rows)], FitConfig(label="y", output=str(tmp_path / "m"), suggest=12))
    got = [json.loads(line) for line in (tmp_path / "m" / "suggest.jsonl").read_text().splitlines()]
    unlabelled = {r["id"] for r in rows if r["y"] is None}
    assert s.suggest["rows"] == 12 and len({g["id"] for g in got}) == 12
    assert {g["id"] for g in got} <= unlabelled
    stds = [g["score_predicted_std"] for g in got]
    assert stds == sorted(stds, reverse=True)


def test_suggested_rows_are_more_uncertain_than_typical(tmp_path, rows_file):
    rows = make_rows(400, seed=8, label=lambda r, rng: r["score_x"] + rng.gauss(0, 0.5), labelled=0.15)
    fit([rows_file(rows)], FitConfig(label="y", output=str(tmp_path / "m"), suggest=10))
    model = load_model(tmp_path / "m")
    _, std = model.predict(pa.Table.from_pylist([r for r in rows if r["y"] is None]))
    got = [json.loads(line)["score_predicted_std"] for line in (tmp_path / "m" / "suggest.jsonl").read_text().splitlines()]
    assert np.median(got) > np.median(std)


def _nearly_constant_label(n: int = 200, odd: int = 4) -> list[dict]:
    """Every label 0 but `odd` rows at 0.5: some folds hold only zeros, and some bootstrap resamples draw no 0.5."""
    rows = make_rows(n, seed=12)
    for i, r in enumerate(rows):
        r["y"] = 0.5 if i % (n // odd) == 0 else 0.0
    return rows


def test_a_nearly_constant_label_says_why_figures_are_missing(tmp_path, rows_file):
    from scipy.stats import DegenerateDataWarning

    with warnings.catch_warnings():
        warnings.simplefilter("error", DegenerateDataWarning)  # scipy's warning becomes the note, never a raw warning
        s = fit([rows_file(_nearly_constant_label())], FitConfig(label="y", output=str(tmp_path / "m"), seed=0))
    pooled = s.cv["pooled"]
    assert pooled["spearman"] is not None and pooled["spearman_ci95"] == [None, None]
    note = pooled["spearman_ci95_note"]
    assert note.startswith("not computable: ") and "of 1,000 bootstrap resamples drew a single label value" in note
    assert int(note.removeprefix("not computable: ").split(" of ")[0]) > 0
    empty = [f for f in s.cv["folds"] if f["spearman"] is None]
    assert empty, "four odd rows in five folds: at least one fold holds only zeros"
    assert all(f["spearman_note"] == "no rank correlation: every label is 0 among the held-out rows" for f in empty)
    assert all("spearman_note" not in f for f in s.cv["folds"] if f["spearman"] is not None)
    meta = json.loads((tmp_path / "m" / "model.json").read_text())
    assert meta["cv"]["pooled"]["spearman_ci95_note"] == note  # model.json keeps its fields and gains the notes


def test_cli_prints_why_the_ci_and_fold_figures_are_missing(runner, tmp_path, rows_file):
    from curate.cli import app

    src = rows_file(_nearly_constant_label())
    res = runner.invoke(app, ["fit", src, "--label", "y", "-o", str(tmp_path / "m")])
    assert res.exit_code == 0, res.output
    out = " ".join(res.output.split())
    assert "(95% CI not computable); per fold: " in out and "— … —" not in out
    assert "95% CI not computable: " in out and "bootstrap resamples drew a single label value" in out
    folds = [f["fold"] for f in json.loads((tmp_path / "m" / "model.json").read_text())["cv"]["folds"] if f["spearman"] is None]
    where = f"fold{'s' if len(folds) > 1 else ''} {', '.join(map(str, folds))}"
    assert f"— in {where}: no rank correlation: every label is 0 among the held-out rows" in out
    assert "DegenerateDataWarning" not in out and "BCa" not in out
