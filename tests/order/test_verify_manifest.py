"""`curate verify` checks the manifest against itself and against the hash of its own body."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from curate.cli import app
from curate.errors import VerifyError
from curate.order import OrderConfig, order, verify
from curate.order.manifest import BODY_HASH


@pytest.fixture
def out(tmp_path):
    n = 300
    pq.write_table(
        pa.table({"id": [f"d{i}" for i in range(n)], "text": ["x"] * n, "difficulty": np.random.default_rng(0).random(n)}), tmp_path / "in.parquet"
    )
    order(OrderConfig([str(tmp_path / "in.parquet")], str(tmp_path / "out"), batch_size=10, rows_per_shard=100, stages=2, plot=False))
    return tmp_path / "out"


def load(out):
    return json.loads((out / "manifest.json").read_text())


def save(out, m):
    (out / "manifest.json").write_text(json.dumps(m, indent=2))


def run_verify(runner, out):
    r = runner.invoke(app, ["verify", str(out)])
    return r.exit_code, " ".join(r.output.split())


def body_hash(m):
    body = {k: v for k, v in m.items() if k != BODY_HASH}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()).hexdigest()


def test_the_manifest_records_the_hash_of_its_body(runner, out):
    m = load(out)
    assert m[BODY_HASH] == body_hash(m)
    assert run_verify(runner, out)[0] == 0


@pytest.mark.parametrize("keep_hash", [True, False], ids=["hashed", "old-manifest"])
def test_swapped_shard_entries(runner, out, keep_hash):
    m = load(out)
    shards = m["sets"]["curriculum"]["shards"]
    shards[0], shards[1] = shards[1], shards[0]
    if not keep_hash:
        del m[BODY_HASH]
    save(out, m)
    code, text = run_verify(runner, out)
    assert code == 6, text
    assert "curriculum entry 0 (stage-0/part-00001-of-00002.parquet)" in text and "out of order" in text
    assert ("body hash" in text) == keep_hash


@pytest.mark.parametrize("keep_hash", [True, False], ids=["hashed", "old-manifest"])
def test_edited_row_count(runner, out, keep_hash):
    m = load(out)
    m["sets"]["baseline"]["shards"][2]["rows"] = 99
    if not keep_hash:
        del m[BODY_HASH]
    save(out, m)
    code, text = run_verify(runner, out)
    assert code == 6, text
    assert "baseline entry 2 (baseline/stage-1/part-00000-of-00002.parquet): 99 rows listed, but its positions 150-249 hold 100" in text
    assert "baseline/stage-1/part-00000-of-00002.parquet: the file holds 100 rows, the manifest lists 99" in text
    assert "baseline: 299 rows in its shards, but the set lists 300" in text


@pytest.mark.parametrize("keep_hash", [True, False], ids=["hashed", "old-manifest"])
def test_a_shard_deleted_with_its_entry(runner, out, keep_hash):
    m = load(out)
    gone = m["sets"]["curriculum"]["shards"].pop(1)
    (out / gone["path"]).unlink()
    if not keep_hash:
        del m[BODY_HASH]
    save(out, m)
    code, text = run_verify(runner, out)
    assert code == 6, text
    assert "stage-0/: shard numbering incomplete (1 of 2 listed: part-00001-of-00002.parquet missing)" in text
    assert "curriculum entry 1 (stage-1/part-00000-of-00002.parquet): positions start at 150, expected 100" in text


def test_a_consistent_edit_is_caught_by_the_body_hash(runner, out):
    m = load(out)
    m["sets"]["curriculum"]["shards"][0]["difficulty"]["mean"] = 0.5
    save(out, m)
    code, text = run_verify(runner, out)
    assert code == 6 and "manifest.json was changed after `curate order` wrote it (body hash differs)" in text


def test_an_old_manifest_without_the_hash_still_verifies_with_a_note(out):
    m = load(out)
    del m[BODY_HASH]
    save(out, m)
    r = verify(out)
    assert r["shards"] == 8 and "no body hash" in r["note"]


def test_steps_must_match_positions(out):
    m = load(out)
    m["sets"]["curriculum"]["shards"][3]["steps"] = [25, 28]
    del m[BODY_HASH]
    save(out, m)
    with pytest.raises(
        VerifyError, match=r"stage-1/part-00001-of-00002.parquet\): steps \[25, 28\] do not match positions 250-299 \(steps \[25, 29\]\)"
    ):
        verify(out)


def test_set_total_must_match_the_budget(out):
    m = load(out)
    m["config"]["resolved"]["samples"] = 310
    del m[BODY_HASH]
    save(out, m)
    with pytest.raises(VerifyError, match="curriculum: 300 rows in its shards, but the budget is 310"):
        verify(out)
