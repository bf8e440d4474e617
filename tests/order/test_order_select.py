"""`curate order --band`, `--mix-by/--mix` and `--token-budget`: what is kept, how each step is mixed, the budget column."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from curate.cli import app
from curate.errors import UsageError
from curate.order import OrderConfig, order
from curate.order.tokens import token_budget


def make(path: Path, n: int = 300) -> Path:
    rng = np.random.default_rng(5)
    rate = np.round(rng.random(n), 2)
    rate[:10] = np.nan
    pq.write_table(
        pa.table(
            {
                "id": [f"d{i}" for i in range(n)],
                "difficulty": rng.random(n),
                "score_pass_rate": pa.array(rate, from_pandas=True),
                "source": np.where(np.arange(n) % 4 == 0, "gsm", np.where(np.arange(n) % 4 == 1, "code", "prose")),
            }
        ),
        path,
    )
    return path


def rows(out: Path) -> pl.DataFrame:
    m = json.loads((out / "manifest.json").read_text())
    return pl.read_parquet([str(out / s["path"]) for s in m["sets"]["curriculum"]["shards"]])


def test_band_keeps_rows_in_the_band_and_counts_the_rest(runner, tmp_path):
    src = make(tmp_path / "in.parquet")
    r = runner.invoke(app, ["order", str(src), "-o", str(tmp_path / "o"), "--band", "score_pass_rate=0.1:0.9", "--batch-size", "10", "--no-plot"])
    assert r.exit_code == 0, r.output
    t = pl.read_parquet(src)
    rate = t["score_pass_rate"]
    inside = int(((rate >= 0.1) & (rate <= 0.9)).sum())
    got = rows(tmp_path / "o")
    assert got.height == inside and got["score_pass_rate"].min() >= 0.1 and got["score_pass_rate"].max() <= 0.9
    band = json.loads((tmp_path / "o" / "manifest.json").read_text())["rows"]["band"]
    assert band == {
        "column": "score_pass_rate",
        "lo": 0.1,
        "hi": 0.9,
        "kept": inside,
        "below": int((rate < 0.1).sum()),
        "above": int((rate > 0.9).sum()),
        "null": 10,
    }
    assert band["kept"] + band["below"] + band["above"] + band["null"] == t.height
    assert "left out (" in r.output


def test_mix_holds_every_step_within_one_row(tmp_path):
    src = make(tmp_path / "in.parquet")
    m = order(OrderConfig([str(src)], str(tmp_path / "o"), batch_size=16, mix_by="source", mix={"gsm": 0.5, "code": 0.25, "prose": 0.25}, plot=False))
    got = rows(tmp_path / "o")
    assert got.height == 300
    for step, part in got.group_by("curriculum_step", maintain_order=True):
        size = part.height
        for value, w in (("gsm", 0.5), ("code", 0.25), ("prose", 0.25)):
            assert abs(int((part["source"] == value).sum()) - w * size) < 1 + 1e-9, (step, value)
    vals = m["rows"]["mix"]["values"]
    assert vals["gsm"]["read"] == 150 and vals["gsm"]["repeats"] == 75  # 75 gsm rows read twice to hold their half
    assert vals["prose"]["unread"] == 150 - 75
    assert m["config"]["mix"] == {"gsm": 0.5, "code": 0.25, "prose": 0.25} and m["config"]["mix_by"] == "source"


def test_mix_errors_name_what_is_wrong(tmp_path):
    src = make(tmp_path / "in.parquet")
    with pytest.raises(UsageError, match="no row has source = 'math'"):
        order(OrderConfig([str(src)], str(tmp_path / "a"), mix_by="source", mix={"math": 1.0}, plot=False))
    with pytest.raises(UsageError, match="go together"):
        order(OrderConfig([str(src)], str(tmp_path / "b"), mix_by="source", plot=False))
    with pytest.raises(UsageError, match="no column 'topic'"):
        order(OrderConfig([str(src)], str(tmp_path / "c"), mix_by="topic", mix={"a": 1.0}, plot=False))


def test_mix_left_out_values_are_counted(tmp_path):
    src = make(tmp_path / "in.parquet")
    m = order(OrderConfig([str(src)], str(tmp_path / "o"), batch_size=10, mix_by="source", mix={"gsm": 1, "code": 1}, plot=False))
    assert m["rows"]["mix"]["left_out"] == 150 and m["rows"]["ordered"] == 150
    assert set(rows(tmp_path / "o")["source"].unique().to_list()) == {"gsm", "code"}


@pytest.mark.parametrize("decay", ["linear", "cosine"])
def test_token_budget_column_decays_over_the_run(tmp_path, decay):
    src = make(tmp_path / "in.parquet")
    m = order(OrderConfig([str(src)], str(tmp_path / decay), batch_size=30, token_budget="2048:512", token_decay=decay, plot=False))
    got = rows(tmp_path / decay)
    per_step = got.group_by("curriculum_step", maintain_order=True).agg(pl.col("curriculum_max_new_tokens").unique())
    assert all(len(v) == 1 for v in per_step["curriculum_max_new_tokens"].to_list())  # one budget per step
    budget = [v[0] for v in per_step["curriculum_max_new_tokens"].to_list()]
    steps = len(budget)
    u = np.arange(steps) / (steps - 1)
    d = 1 - u if decay == "linear" else (1 + np.cos(math.pi * u)) / 2
    assert budget == np.rint(512 + 1536 * d).astype(int).tolist()
    assert budget[0] == 2048 and budget[-1] == 512
    assert "curriculum_max_new_tokens" in m["columns_added"]
    base = json.loads((tmp_path / decay / "manifest.json").read_text())["sets"]["baseline"]["shards"]
    assert "curriculum_max_new_tokens" in pq.read_schema(tmp_path / decay / base[0]["path"]).names


def test_bad_specs_are_usage_errors(runner, tmp_path):
    src = make(tmp_path / "in.parquet")
    for flags, msg in (
        (["--band", "score_pass_rate:0.1:0.9"], "COLUMN=LO:HI"),
        (["--band", "score_pass_rate=0.9:0.1"], "LO ≤ HI"),
        (["--mix-by", "source", "--mix", "gsm=high"], "not a number"),
        (["--token-budget", "big"], "START:END"),
        (["--token-decay", "step"], "linear"),
        (["--band", "source=0:1"], "not numeric"),
    ):
        r = runner.invoke(app, ["order", str(src), "-o", str(tmp_path / "x"), *flags])
        assert r.exit_code == 2 and msg in r.output, (flags, r.output)
    with pytest.raises(UsageError):
        token_budget("0:10", "linear", 3)


def test_unused_options_leave_the_manifest_as_before(tmp_path):
    src = make(tmp_path / "in.parquet")
    m = order(OrderConfig([str(src)], str(tmp_path / "o"), plot=False))
    assert not {"band", "mix", "mix_by", "token_budget", "token_decay"} & set(m["config"])
    assert not {"band", "mix"} & set(m["rows"]) and m["columns_added"] == ["curriculum_step", "curriculum_position", "curriculum_fraction"]
