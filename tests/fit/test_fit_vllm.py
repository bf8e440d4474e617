"""End to end on the real bundled model: measure pass rates on sample arithmetic, fit on part, predict the rest."""

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from scipy.stats import spearmanr

from curate.engines import EngineConfig
from curate.fit import FitConfig, fit
from curate.score import ScoreConfig, score

pytestmark = pytest.mark.vllm
ROOT = Path(__file__).resolve().parents[2]


def test_fit_on_measured_pass_rates_predicts_held_out_rows(vllm_engine, tmp_path):
    rows = [json.loads(line) for line in (ROOT / "sample_data" / "math.jsonl").read_text().splitlines()][::6]  # 25 rows, levels 1–5
    src = tmp_path / "math.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    scored = tmp_path / "scored.parquet"
    score(
        [str(src)],
        ScoreConfig(
            signals=["length", "word_entropy", "pass_rate"],
            output=str(scored),
            workers=1,
            signal_options={"k": 4, "max_tokens": 40, "temperature": 0.7, "seed": 0},
            engine=EngineConfig(cache_dir=str(tmp_path / "cache")),
        ),
    )
    table = pq.read_table(scored)
    measured = np.array(table.column("score_pass_rate").to_pylist(), dtype=float)
    assert np.nanmax(measured) > np.nanmin(measured), measured  # the model solves some rows and not others
    held = np.arange(len(rows)) % 3 == 2
    label = pa.array([None if h else v for h, v in zip(held, measured)], pa.float64())
    train = table.set_column(table.column_names.index("score_pass_rate"), "score_pass_rate", label)
    pq.write_table(train, tmp_path / "train.parquet")
    s = fit([str(tmp_path / "train.parquet")], FitConfig(label="score_pass_rate", output=str(tmp_path / "model"), folds=3, suggest=3))
    assert s.direction == "lower-is-harder" and s.rows_labelled == 17 and s.suggest["rows"] == 3
    pq.write_table(table.filter(pa.array(held)).select(["id", "text"]), tmp_path / "rest.parquet")
    score(
        [str(tmp_path / "rest.parquet")],
        ScoreConfig(signals=["predicted"], output=str(tmp_path / "pred.parquet"), workers=1, signal_options={"predictor": str(tmp_path / "model")}),
    )
    pred = pq.read_table(tmp_path / "pred.parquet").column("score_predicted").to_numpy()
    assert ((pred >= 0) & (pred <= 1)).all()
    rho = spearmanr(pred, measured[held]).statistic
    print(f"held-out Spearman of predicted vs measured pass rate: {rho:.3f} (8 rows; CV on 17: {s.cv['pooled']['spearman']:.3f})")
    assert rho > 0, (pred, measured[held])
