"""`curate verify`: a shard set against its manifest."""

import json
import shutil

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from curate.cli import app
from curate.order import OrderConfig, order


def make_input(path, n):
    pq.write_table(pa.table({"id": [f"d{i}" for i in range(n)], "text": ["x"] * n, "difficulty": np.random.default_rng(0).random(n)}), path)
    return path


@pytest.fixture
def out(tmp_path):
    data = make_input(tmp_path / "in.parquet", n=300)
    order(OrderConfig([str(data)], str(tmp_path / "out"), batch_size=10, rows_per_shard=100, stages=2, plot=False))
    return tmp_path / "out"


def verify(runner, out):
    r = runner.invoke(app, ["verify", str(out)])
    return r.exit_code, " ".join(r.output.split())


def test_a_good_set_passes(runner, out):
    code, text = verify(runner, out)
    assert code == 0, text
    assert "8 shard(s) match" in text


def test_missing_shard(runner, out):
    (out / "stage-1" / "part-00001-of-00002.parquet").unlink()
    code, text = verify(runner, out)
    assert code == 6
    assert "stage-1/part-00001-of-00002.parquet: missing" in text


def test_truncated_shard(runner, out):
    p = out / "baseline" / "stage-0" / "part-00000-of-00002.parquet"
    p.write_bytes(p.read_bytes()[:-100])
    code, text = verify(runner, out)
    assert code == 6 and "baseline/stage-0/part-00000-of-00002.parquet: truncated" in text


def test_altered_shard_same_size(runner, out):
    p = out / "stage-0" / "part-00001-of-00002.parquet"
    data = bytearray(p.read_bytes())
    data[len(data) // 2] ^= 0xFF
    p.write_bytes(bytes(data))
    code, text = verify(runner, out)
    assert code == 6 and "stage-0/part-00001-of-00002.parquet: altered" in text


def test_extra_shard_and_missing_manifest(runner, out):
    shutil.copy(out / "stage-0" / "part-00000-of-00002.parquet", out / "stage-0" / "part-00002-of-00002.parquet")
    code, text = verify(runner, out)
    assert code == 6 and "stage-0/part-00002-of-00002.parquet: not in the manifest" in text
    (out / "manifest.json").unlink()
    code, text = verify(runner, out)
    assert code == 6 and "has no manifest.json" in text


def test_bad_manifest(runner, out):
    (out / "manifest.json").write_text(json.dumps({"format_version": 99}))
    code, text = verify(runner, out)
    assert code == 6 and "format_version 99" in text
