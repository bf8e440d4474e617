"""`curate order` refuses non-finite and non-positive parameters (exit 2) and quarantines infinite sort keys."""

from __future__ import annotations

import json
import math

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from curate.cli import app
from curate.errors import UsageError
from curate.order import OrderConfig, Params, order
from curate.order.run import check_params


@pytest.fixture
def scored(tmp_path):
    path = tmp_path / "in.parquet"
    pq.write_table(pa.table({"id": [f"r{i}" for i in range(20)], "text": ["x"] * 20, "difficulty": [i / 20 for i in range(20)]}), path)
    return path


@pytest.mark.parametrize(
    "flags,named",
    [
        (["--full-at", "inf"], "--full-at"),
        (["--full-at", "nan"], "--full-at"),
        (["--p", "inf"], "--p"),
        (["--p", "nan"], "--p"),
        (["--sigma", "inf"], "--sigma"),
        (["--sigma", "nan"], "--sigma"),
        (["--start", "inf"], "--start"),
        (["--warmup", "inf"], "--warmup"),
        (["--shard-size-mb", "nan"], "--shard-size-mb"),
        (["--shard-size-mb", "inf"], "--shard-size-mb"),
        (["--shard-size-mb", "0"], "--shard-size-mb"),
        (["--shard-size-mb", "-1"], "--shard-size-mb"),
        (["--memory-mb", "inf"], "--memory-mb"),
        (["--memory-mb", "nan"], "--memory-mb"),
    ],
)
def test_bad_numbers_are_usage_errors(runner, scored, tmp_path, flags, named):
    out = tmp_path / "out"
    res = runner.invoke(app, ["order", str(scored), "-o", str(out), "--schedule", "gaussian", "--no-plot", *flags])
    assert res.exit_code == 2, res.output
    assert res.output.startswith("Error: ") and (named in res.output or named.lstrip("-").replace("-", "_") in res.output), res.output
    assert not out.exists()


@pytest.mark.parametrize("field", ["start", "full_at", "warmup", "p", "sigma", "c"])
@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan])
def test_the_library_checks_every_parameter(field, value):
    with pytest.raises(UsageError):
        check_params(Params(**{field: value}))


@pytest.mark.parametrize(
    "cfg",
    [
        {"shard_size_mb": 0.0},
        {"shard_size_mb": -2.0},
        {"shard_size_mb": math.nan},
        {"rows_per_shard": 0},
        {"memory_mb": 0.0},
        {"memory_mb": math.inf},
    ],
)
def test_the_library_checks_sizes(scored, tmp_path, cfg):
    with pytest.raises(UsageError):
        order(OrderConfig([str(scored)], str(tmp_path / "out"), plot=False, **cfg))


def test_infinite_sort_keys_are_quarantined_with_a_reason(runner, tmp_path):
    path = tmp_path / "in.parquet"
    keys = [0.3, math.inf, -math.inf, math.nan, None, 0.1, 0.2]
    pq.write_table(pa.table({"id": [f"r{i}" for i in range(len(keys))], "text": ["x"] * len(keys), "difficulty": pa.array(keys, pa.float64())}), path)
    out = tmp_path / "out"
    res = runner.invoke(app, ["order", str(path), "-o", str(out), "--no-plot", "--batch-size", "1", "--schedule", "sorted"])
    assert res.exit_code == 0, res.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["rows"]["ordered"] == 3 and manifest["rows"]["quarantined"] == 4
    rejected = {r["id"]: r["reject_reason"] for r in map(json.loads, (out / "rejects.jsonl").read_text().splitlines())}
    assert rejected == {
        "r1": "infinite sort key 'difficulty'",
        "r2": "infinite sort key 'difficulty'",
        "r3": "NaN sort key 'difficulty'",
        "r4": "null sort key 'difficulty'",
    }
    ordered = pq.read_table(out / "part-00000-of-00001.parquet").column("id").to_pylist()
    assert ordered == ["r5", "r6", "r0"]
