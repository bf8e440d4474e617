"""The predicted signal inside `curate score`: local pool, CLI, calibration, --only-ids, Ray."""

import json
import subprocess
import sys

import polars as pl
import pytest
from fitdata import make_rows
from scipy.stats import spearmanr

from curate.cli import app
from curate.fit import FitConfig, fit


@pytest.fixture
def pass_rate_model(tmp_path, rows_file):
    """A model of a pass-rate label that falls with text length (so its direction is lower-is-harder)."""
    rows = make_rows(160, seed=11, label=lambda r, rng: max(0.0, 1 - len(r["text"].split()) / 25), labelled=0.5)
    rows = [{"id": r["id"], "text": r["text"], "score_pass_rate": r["y"]} for r in rows]
    src = rows_file(rows)
    fit([src], FitConfig(label="score_pass_rate", output=str(tmp_path / "m"), suggest=8))
    return tmp_path / "m", src, rows


def test_cli_fit_then_score_predicted(runner, tmp_path, pass_rate_model):
    model, src, rows = pass_rate_model
    res = runner.invoke(app, ["fit", src, "--label", "score_pass_rate", "-o", str(tmp_path / "m2"), "--summary-json", str(tmp_path / "f.json")])
    assert res.exit_code == 0, res.output
    assert "cross-validated Spearman" in res.output
    data = json.loads((tmp_path / "f.json").read_text())
    assert data["direction"] == "lower-is-harder" and data["rows_labelled"] == sum(r["score_pass_rate"] is not None for r in rows)
    out = tmp_path / "p.parquet"
    res = runner.invoke(
        app,
        ["score", src, "-s", "predicted", "--predictor", str(tmp_path / "m2"), "-o", str(out), "-j", "2", "--summary-json", str(tmp_path / "s.json")],
    )
    assert res.exit_code == 0, res.output
    df = pl.read_parquet(out)
    assert df.height == len(rows) and df["score_predicted"].null_count() == 0
    summary = json.loads((tmp_path / "s.json").read_text())
    assert summary["composite"] == [{"column": "score_predicted", "direction": "lower-is-harder", "weight": 1.0}]
    # lower predicted pass rate = harder: difficulty runs against the prediction
    assert spearmanr(df["score_predicted"], df["difficulty"]).statistic < -0.99
    unl = df.filter(pl.Series([r["score_pass_rate"] is None for r in rows]))
    truth = [max(0.0, 1 - len(t.split()) / 25) for t in unl["text"]]
    assert spearmanr(unl["score_predicted"], truth).statistic > 0.8


def test_predicted_needs_a_model(runner, tmp_path, rows_file):
    src = rows_file(make_rows(5))
    res = runner.invoke(app, ["score", src, "-s", "predicted", "-o", str(tmp_path / "o.jsonl")])
    assert res.exit_code == 2 and "needs a model" in res.output and "--predictor" in res.output
    res = runner.invoke(app, ["score", src, "-s", "predicted", "--predictor", str(tmp_path), "-o", str(tmp_path / "o.jsonl")])
    assert res.exit_code == 3 and "not a curate model folder" in res.output
    res = runner.invoke(app, ["score", src, "--predictor", str(tmp_path), "-o", str(tmp_path / "o.jsonl")])
    assert res.exit_code == 2 and "-s predicted" in res.output


def test_fit_bad_label_exit_code_and_message(runner, tmp_path, rows_file):
    src = rows_file(make_rows(20))
    res = runner.invoke(app, ["fit", src, "--label", "nope", "-o", str(tmp_path / "m")])
    assert res.exit_code == 3
    assert "label column 'nope' is not in the input" in res.output and "Traceback" not in res.output
    assert not (tmp_path / "m").exists()


def test_only_ids_scores_just_the_suggested_rows(runner, tmp_path, pass_rate_model):
    model, src, rows = pass_rate_model
    out = tmp_path / "o.parquet"
    res = runner.invoke(
        app,
        [
            "score",
            src,
            "-s",
            "predicted",
            "--predictor",
            str(model),
            "--only-ids",
            str(model / "suggest.jsonl"),
            "-o",
            str(out),
            "-j",
            "1",
            "--summary-json",
            str(tmp_path / "s.json"),
        ],
    )
    assert res.exit_code == 0, res.output
    wanted = {json.loads(line)["id"] for line in (model / "suggest.jsonl").read_text().splitlines()}
    df = pl.read_parquet(out)
    assert df.height == len(rows)  # the other rows pass through
    scored = set(df.filter(pl.col("score_predicted").is_not_null())["id"])
    assert scored == wanted and len(wanted) == 8
    assert json.loads((tmp_path / "s.json").read_text())["only_ids"] == {"listed": 8, "scored": 8, "not_found": 0}


def test_calibrate_on_turns_and_weighs_signals_by_the_label(runner, tmp_path, rows_file):
    """Longer = easier here: calibration must flip length and weigh it above an unrelated signal."""
    rows = make_rows(120, seed=12, label=lambda r, rng: -len(r["text"]))
    src = rows_file(rows)
    res = runner.invoke(
        app,
        [
            "score",
            src,
            "-s",
            "length",
            "-s",
            "compression_ratio",
            "--calibrate-on",
            "y",
            "-o",
            str(tmp_path / "o.parquet"),
            "-j",
            "1",
            "--summary-json",
            str(tmp_path / "s.json"),
        ],
    )
    assert res.exit_code == 0, res.output
    s = json.loads((tmp_path / "s.json").read_text())
    comp = {c["column"]: c for c in s["composite"]}
    assert comp["score_length_words"]["direction"] == "lower-is-harder"
    assert comp["score_length_words"]["weight"] > 0.8
    assert s["calibration"]["applied"] and s["calibration"]["labelled_rows"] == 120
    df = pl.read_parquet(tmp_path / "o.parquet")
    assert spearmanr(df["difficulty"], df["y"]).statistic > 0.7
    # without labelled rows the defaults stand
    src2 = rows_file([{**r, "y": None} for r in rows], "nolabel.jsonl")
    res = runner.invoke(
        app,
        [
            "score",
            src2,
            "-s",
            "length",
            "--calibrate-on",
            "y",
            "-o",
            str(tmp_path / "o2.parquet"),
            "-j",
            "1",
            "--summary-json",
            str(tmp_path / "s2.json"),
        ],
    )
    s2 = json.loads((tmp_path / "s2.json").read_text())
    assert s2["composite"] == [{"column": "score_length_words", "direction": "higher-is-harder", "weight": 1.0}]
    assert s2["calibration"]["applied"] is False


def test_help_does_not_import_sklearn():
    code = "import sys, curate.cli; print(','.join(m for m in ('sklearn', 'scipy') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_predicted_on_ray_matches_local(ray_cluster, tmp_path, pass_rate_model):
    from curate.score import ScoreConfig, score

    model, src, rows = pass_rate_model
    outs = {}
    for ex in ("local", "ray"):
        out = tmp_path / f"{ex}.parquet"
        score(
            [src],
            ScoreConfig(
                signals=["predicted", "length"], output=str(out), executor=ex, workers=2, batch_rows=32, signal_options={"predictor": str(model)}
            ),
        )
        outs[ex] = out.read_bytes()
    assert outs["ray"] == outs["local"]


def test_pipeline_fit_then_score_predicted(runner, tmp_path, pass_rate_model):
    model, src, rows = pass_rate_model
    pipe = tmp_path / "p.yaml"
    pipe.write_text(f"""
input: {src}
output: {tmp_path / "run"}
stages:
  - score: {{signals: [length]}}
  - fit: {{label: score_pass_rate, suggest: 4}}
  - score: {{signals: [predicted, length]}}
""")
    res = runner.invoke(app, ["run", str(pipe)])
    assert res.exit_code == 0, res.output
    df = pl.read_parquet(tmp_path / "run" / "scored.parquet")
    assert df["score_predicted"].null_count() == 0
    assert (tmp_path / "run" / "model" / "model.json").is_file()
    res = runner.invoke(app, ["run", str(pipe), "--summary-json", str(tmp_path / "again.json")])
    assert res.exit_code == 0, res.output
    assert json.loads((tmp_path / "again.json").read_text())["changed"] == []  # nothing reruns


def test_lm_featured_model_runs_after_the_lm_signals_of_the_same_command(tmp_path, rows_file):
    """`-s lm_perplexity -s lm_token_entropy -s predicted`: the predicted signal waits for the model signals' columns."""
    from curate.engines import EngineConfig
    from curate.score import ScoreConfig, score

    rows = make_rows(60, seed=13, label=lambda r, rng: len(r["text"]))
    raw = rows_file([{"id": r["id"], "text": r["text"]} for r in rows], "raw.jsonl")
    fake = EngineConfig(engine="fake", cache_dir=str(tmp_path / "cache"))
    score([raw], ScoreConfig(signals=["lm_perplexity", "lm_token_entropy"], output=str(tmp_path / "lm.parquet"), workers=1, engine=fake))
    lm = pl.read_parquet(tmp_path / "lm.parquet").with_columns(pl.Series("y", [r["y"] for r in rows]))
    lm.write_parquet(tmp_path / "train.parquet")
    fit([str(tmp_path / "train.parquet")], FitConfig(label="y", output=str(tmp_path / "m"), features=["lm"]))
    meta = json.loads((tmp_path / "m" / "model.json").read_text())
    assert {"score_lm_perplexity", "score_lm_token_entropy"} <= {c["name"] for c in meta["features"]["columns"]}
    score(
        [raw],
        ScoreConfig(
            signals=["lm_perplexity", "lm_token_entropy", "predicted"],
            output=str(tmp_path / "p.parquet"),
            workers=2,
            engine=fake,
            signal_options={"predictor": str(tmp_path / "m")},
        ),
    )
    df = pl.read_parquet(tmp_path / "p.parquet")
    assert df["score_predicted"].null_count() == 0
    assert spearmanr(df["score_predicted"], [r["y"] for r in rows]).statistic > 0.8
