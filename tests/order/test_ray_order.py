"""`curate order --executor ray`: a local Ray (2 CPUs) writes the local executor's output folder, byte for byte."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from curate.order import OrderConfig, order
from curate.order import gather as G

ray = pytest.importorskip("ray")

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_data"
SIGNALS = ["length", "compression_ratio", "word_entropy"]


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> list[str]:
    """sample_data/ scored, then split: Parquet in 12-row row groups (some difficulties null), and JSONL with a broken line."""
    from curate.score import ScoreConfig, score

    d = tmp_path_factory.mktemp("inputs")
    score([str(SAMPLE)], ScoreConfig(signals=SIGNALS, output=str(d / "scored.parquet"), rejects=str(d / "score-rejects.jsonl"), workers=1))
    scored = pl.read_parquet(d / "scored.parquet")
    assert scored.height > 300
    head = scored.head(200).with_columns(pl.when(pl.int_range(pl.len()) % 37 == 5).then(None).otherwise(pl.col("difficulty")).alias("difficulty"))
    pq.write_table(head.to_arrow(), d / "a.parquet", row_group_size=12)
    tail = scored.slice(200).select("id", "text", "task_type", "difficulty")
    (d / "b.jsonl").write_text(tail.write_ndjson() + "{not json\n")
    return [str(d / "a.parquet"), str(d / "b.jsonl")]


@pytest.fixture
def small_pieces(monkeypatch):
    """One scatter task per row group, and buckets of a few shards: many tasks on both sides."""
    from curate.order import gather_ray

    monkeypatch.setattr(gather_ray, "RANGE_BYTES", 1)
    seen = {"ranges": 0, "buckets": 0}
    plan_ranges, assign_buckets = gather_ray.plan_ranges, G.assign_buckets

    def counting_ranges(*a):
        out = plan_ranges(*a)
        seen["ranges"] = len(out)
        return out

    def counting_buckets(*a):
        out = assign_buckets(*a)
        seen["buckets"] = max(out) + 1
        return out

    monkeypatch.setattr(gather_ray, "plan_ranges", counting_ranges)
    monkeypatch.setattr(G, "assign_buckets", counting_buckets)
    return seen


CASES = {
    "one-pass": dict(schedule="linear", batch_size=10, rows_per_shard=50),
    "repeats-stages": dict(schedule="root", num_samples=600, batch_size=8, stages=3, rows_per_shard=40, exhausted="repeat", seed=3),
}


@pytest.mark.parametrize("case", list(CASES))
def test_order_on_ray_writes_the_local_output_byte_for_byte(ray_cluster, inputs, small_pieces, tmp_path, case):
    cfg = dict(memory_mb=0.05, **CASES[case])  # small buckets for the spill and ray modes
    outs, how = {}, {}
    for name, kw in (("memory", {"gather": "memory"}), ("spill", {"gather": "spill"}), ("ray", {"executor": "ray"})):
        how[name] = {}
        order(OrderConfig(inputs, str(tmp_path / name), **cfg, **kw), run_info=how[name])
        outs[name] = _files(tmp_path / name)
    assert [h["gather"] for h in how.values()] == ["memory", "spill", "ray"]
    assert how["ray"]["executor"] == {"executor": "ray", "address": "local", "cluster_cpus": 2}
    assert small_pieces["ranges"] > 10 and small_pieces["buckets"] > 3

    m = json.loads(outs["ray"]["manifest.json"])
    shards = [s["path"] for s in m["sets"]["curriculum"]["shards"]]
    assert len(shards) > 5 and "baseline/" + shards[0] in outs["ray"]
    assert m["rows"]["quarantined"] == 7  # 6 null difficulties + 1 broken JSONL line
    assert {"rejects.jsonl", "curriculum.png", "manifest.json"} <= set(outs["ray"])
    if case == "repeats-stages":
        assert m["rows"]["read"] == 600 > m["rows"]["distinct_read"] and shards[0].startswith("stage-0/") and shards[-1].startswith("stage-2/")
    for name in ("memory", "spill"):
        assert list(outs[name]) == list(outs["ray"])
        for path, data in outs[name].items():
            assert outs["ray"][path] == data, f"{path} differs from the local {name} run"
    ordered = pl.read_parquet([str(tmp_path / "ray" / p) for p in shards])
    assert ordered["curriculum_position"].to_list() == list(range(m["rows"]["read"]))


def test_scatter_and_cut_give_the_same_shards_whatever_the_parts(tmp_path):
    """`cut` sorts by slot: parts in any order and any chunking write the same bytes."""
    t = pa.table({"x": np.arange(40) * 3, "s": [f"r{i}" * (i % 4) for i in range(40)]})
    seq = G.Sequence("curriculum", "", np.r_[np.arange(40)[::-1], np.arange(10)], np.ones(5), 10)
    specs = G.plan_shards(seq, 5, 1, 20)
    buckets = G.assign_buckets(specs, 25)
    rows, slots, bkts = G.slot_index(specs, buckets)
    assert buckets == [0, 1, 2]
    parts = list(G.scatter(t.to_batches(max_chunksize=7), 0, rows, slots, bkts, t.schema))
    written = []
    for k, arrange in enumerate((lambda ps: ps, lambda ps: ps[::-1])):
        recs = []
        for b in range(3):
            mine = [s for s, bb in zip(specs, buckets) if bb == b]
            recs += list(G.cut(arrange([p for bb, p in parts if bb == b]), mine, t.schema, tmp_path / str(k)))
        written.append(recs)
    assert written[0] == written[1]
    got = pl.read_parquet([str(tmp_path / "0" / r["path"]) for r in written[0]])
    assert got["x"].to_list() == (seq.rows * 3).tolist()


def test_cli_executor_ray_matches_local(ray_cluster, runner, inputs, tmp_path):
    from curate.cli import app

    outs = {}
    for ex in ("local", "ray"):
        res = runner.invoke(
            app, ["order", *inputs, "-o", str(tmp_path / ex), "--executor", ex, "--batch-size", "16", "--rows-per-shard", "64", "--stages", "2"]
        )
        assert res.exit_code == 0, res.output
        outs[ex] = _files(tmp_path / ex)
        assert ("gathered on Ray (local, 2 CPUs)" in res.output) == (ex == "ray")
    assert outs["ray"] == outs["local"]
    assert "--executor" in runner.invoke(app, ["order", "--help"]).output


def test_pipeline_with_executor_ray_matches_local(ray_cluster, runner, tmp_path):
    import yaml

    from curate.cli import app

    outs = {}
    for ex in ("local", "ray"):
        cfg = {
            "input": str(SAMPLE),
            "output": str(tmp_path / ex),
            "executor": ex,
            "stages": [{"score": {"signals": SIGNALS, "workers": 2}}, {"order": {"batch_size": 8, "rows_per_shard": 80, "stages": 2}}],
        }
        p = tmp_path / f"{ex}.yaml"
        p.write_text(yaml.safe_dump(cfg))
        res = runner.invoke(app, ["run", str(p)])
        assert res.exit_code == 0, res.output
        assert ("gathered on Ray" in res.output) == (ex == "ray")
        outs[ex] = _files(tmp_path / ex / "ordered")
    assert list(outs["ray"]) == list(outs["local"]) and len(outs["ray"]) > 5
    for path, data in outs["local"].items():
        if path == "manifest.json":  # it names its input, in each run's own folder, so the hash of its body differs too
            local, remote = (json.loads(outs[ex][path].decode().replace(str(tmp_path / ex), "RUN")) for ex in ("local", "ray"))
            local.pop("manifest_sha256"), remote.pop("manifest_sha256")
            assert local == remote
            continue
        assert outs["ray"][path] == data, path


class DieOnce(np.ndarray):
    """`curriculum_fraction` values whose first read in a Ray task kills that task's worker (a crash, or an OOM kill)."""

    marker = ""

    def __getitem__(self, key):
        if ray.get_runtime_context().get_task_id() and not os.path.exists(DieOnce.marker):
            Path(DieOnce.marker).write_text("died")
            os._exit(1)
        return np.asarray(self)[key]

    def __reduce__(self):  # the marker's path travels with the array to the worker
        return (_die_once_array, (np.asarray(self), DieOnce.marker))


def _die_once_array(values: np.ndarray, marker: str) -> DieOnce:
    DieOnce.marker = marker
    return values.view(DieOnce)


@dataclass
class DyingSequence(G.Sequence):
    def __post_init__(self):
        self.fraction = _die_once_array(np.asarray(self.fraction), DieOnce.marker)


def test_a_worker_killed_while_cutting_is_retried_and_the_output_is_unchanged(ray_cluster, inputs, monkeypatch, tmp_path):
    cfg = dict(batch_size=10, rows_per_shard=40, memory_mb=0.05)
    order(OrderConfig(inputs, str(tmp_path / "local"), **cfg))

    marker = tmp_path / "marker"
    monkeypatch.setattr(DieOnce, "marker", str(marker))
    monkeypatch.setattr(G, "Sequence", DyingSequence)
    order(OrderConfig(inputs, str(tmp_path / "ray"), executor="ray", **cfg))
    assert marker.exists()  # a cut task's worker did die
    assert _files(tmp_path / "ray") == _files(tmp_path / "local")


def test_unreachable_cluster_is_a_clean_error_before_any_work(monkeypatch, runner, inputs, tmp_path):
    import socket

    from curate.cli import app

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    monkeypatch.setattr(ray, "init", lambda **kw: pytest.fail("ray.init must not be reached"))
    res = runner.invoke(app, ["order", *inputs, "-o", str(tmp_path / "out"), "--ray-address", f"127.0.0.1:{port}"])
    assert res.exit_code == 2, res.output
    assert f"cannot connect to Ray at '127.0.0.1:{port}'" in res.output and "Traceback" not in res.output
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no output, no temporary folder


def test_an_error_in_a_task_stops_the_run_with_its_own_message_and_leaves_nothing(ray_cluster, monkeypatch, tmp_path):
    from curate.errors import InputError
    from curate.order import gather_ray

    good, bad = tmp_path / "in" / "good.parquet", tmp_path / "in" / "bad.parquet"
    good.parent.mkdir()
    pq.write_table(pa.table({"id": [f"r{i}" for i in range(100)], "difficulty": np.linspace(0, 1, 100)}), good, row_group_size=25)
    pq.write_table(pa.table({"id": [f"r{i}" for i in range(100)], "difficulty": [[i] for i in range(100)]}), bad, row_group_size=25)
    plan_ranges = gather_ray.plan_ranges

    def swapped(*a):  # the input changes under the run: the third range is read from a file of another type
        out = plan_ranges(*a)
        out[2].path = str(bad)
        return out

    monkeypatch.setattr(gather_ray, "RANGE_BYTES", 1)
    monkeypatch.setattr(gather_ray, "plan_ranges", swapped)
    with pytest.raises(InputError, match=r"^column .difficulty. holds list<element: int64> values that cannot be stored as double"):
        order(OrderConfig([str(good)], str(tmp_path / "out" / "o"), executor="ray", batch_size=10, rows_per_shard=20))
    assert list((tmp_path / "out").iterdir()) == []  # no output, no temporary folder
