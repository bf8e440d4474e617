"""`--executor ray`: a local Ray (2 CPUs) gives the local executor's output, byte for byte."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pytest

from curate.signals.base import HIGHER, LOWER, SIGNALS, Column, Signal

ray = pytest.importorskip("ray")

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_data"


@SIGNALS.register("ray_words")
class RayWords(Signal):
    """Words, mean word length (NaN for a text without words: stored as null) and a word-count bucket."""

    name = "ray_words"
    description = "test signal"
    columns = (Column("", "words", HIGHER), Column("mean", "mean word length", HIGHER), Column("short", "words of ≤ 3 letters", LOWER))

    def score(self, ctx):
        words = [t.split() for t in ctx.texts]
        return {
            "score_ray_words": [float(len(w)) for w in words],
            "score_ray_words_mean": [sum(map(len, w)) / len(w) if w else float("nan") for w in words],
            "score_ray_words_short": [float(sum(len(x) <= 3 for x in w)) for w in words],
        }


def _files(root: Path) -> dict[str, bytes]:
    if root.is_file():
        return {root.name: root.read_bytes()}
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _inputs(tmp_path: Path) -> list[str]:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "b1", "text": ""}\n{"id": "b2"}\n{"id": "b3", "text": "   "}\n{"id": "b4", "text": "fine words here"}\n')
    return [str(SAMPLE), str(bad)]


def _score(tmp_path: Path, name: str, output: str, **kw) -> tuple[dict, dict[str, bytes], dict[str, bytes]]:
    from curate.score import ScoreConfig, score

    out = tmp_path / name / output
    out.parent.mkdir(parents=True)
    opts = ScoreConfig(signals=["toy_len", "ray_words"], output=str(out), rejects=str(out.parent / "rejects.jsonl"), **kw)
    summary = score(_inputs(tmp_path), opts).as_dict()
    return summary, _files(out), _files(out.parent / "rejects.jsonl")


@pytest.mark.parametrize("output,extra", [("o.parquet", {}), ("shards", {"rows_per_shard": 200}), ("o.jsonl", {})])
def test_score_on_ray_is_byte_identical_to_local(ray_cluster, tmp_path, output, extra):
    import toysignals  # noqa: F401  (registers toy_len)

    # 16-row batches: ~20 batches, more than one Ray window (4 per CPU), so windows are stitched in order.
    local, local_files, local_rejects = _score(tmp_path, "local", output, workers=2, batch_rows=16, **extra)
    on_ray, ray_files, ray_rejects = _score(tmp_path, "ray", output, executor="ray", batch_rows=16, **extra)
    assert on_ray["executor"] == {"executor": "ray", "address": "local", "cluster_cpus": 2}
    assert local["executor"]["executor"] == "local"
    assert on_ray["rows_in"] == local["rows_in"] > 300
    assert on_ray["quarantined"] == local["quarantined"] >= 2
    assert list(ray_files) == list(local_files)
    for name in local_files:
        assert ray_files[name] == local_files[name], name
    assert ray_rejects == local_rejects
    for key in ("quantiles", "agreement_spearman", "composite", "rows_out"):
        assert on_ray[key] == local[key]


def test_builtin_text_signals_on_ray_match_local(ray_cluster, tmp_path):
    from curate.score import DEFAULT_SIGNALS, ScoreConfig, score

    missing = [s for s in DEFAULT_SIGNALS if s not in SIGNALS]
    if missing:
        pytest.skip(f"built-in signals not available: {missing}")
    outs = []
    for name, kw in (("local", {"workers": 2}), ("ray", {"executor": "ray"})):
        out = tmp_path / f"{name}.parquet"
        score([str(SAMPLE)], ScoreConfig(output=str(out), rejects=str(tmp_path / f"{name}.rej"), batch_rows=64, **kw))
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]


def test_row_store_on_ray_reuses_rows_and_matches_local(ray_cluster, tmp_path):
    import toysignals  # noqa: F401

    from curate.score import ScoreConfig, score

    store = tmp_path / "rows.sqlite"
    common = dict(signals=["toy_len"], batch_rows=50, rejects=str(tmp_path / "r.jsonl"))
    first = score([str(SAMPLE)], ScoreConfig(output=str(tmp_path / "a.parquet"), executor="ray", row_store=str(store), **common))
    again = score([str(SAMPLE)], ScoreConfig(output=str(tmp_path / "b.parquet"), executor="ray", row_store=str(store), **common))
    score([str(SAMPLE)], ScoreConfig(output=str(tmp_path / "c.parquet"), workers=1, **common))
    assert first.extra["rows_computed"]["text"] > 0
    assert again.extra["rows_computed"]["text"] == 0
    assert (tmp_path / "a.parquet").read_bytes() == (tmp_path / "b.parquet").read_bytes() == (tmp_path / "c.parquet").read_bytes()


def test_cli_executor_ray_matches_local(ray_cluster, runner, tmp_path):
    import toysignals  # noqa: F401

    from curate.cli import app

    outs = []
    for ex in ("local", "ray"):
        out = tmp_path / f"{ex}.jsonl"
        res = runner.invoke(app, ["score", str(SAMPLE), "-s", "toy_len", "-s", "ray_words", "--executor", ex, "-o", str(out), "--batch-rows", "100"])
        assert res.exit_code == 0, res.output
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]
    assert len(outs[0].splitlines()) == sum(1 for f in SAMPLE.glob("*.jsonl") for _ in f.open())


def test_pipeline_with_executor_ray_matches_local(ray_cluster, runner, tmp_path):
    import toysignals  # noqa: F401
    import yaml

    from curate.cli import app

    outs = {}
    for ex in ("local", "ray"):
        cfg = {
            "input": str(SAMPLE),
            "output": str(tmp_path / ex),
            "executor": ex,
            "stages": [{"score": {"signals": ["toy_len", "ray_words"], "workers": 2}}],
        }
        p = tmp_path / f"{ex}.yaml"
        p.write_text(yaml.safe_dump(cfg))
        res = runner.invoke(app, ["run", str(p)])
        assert res.exit_code == 0, res.output
        outs[ex] = (tmp_path / ex / "scored.parquet").read_bytes()
    assert outs["ray"] == outs["local"]
    summary = json.loads((tmp_path / "ray" / "score-summary.json").read_text())
    assert summary["executor"]["executor"] == "ray"


def test_unknown_executor_is_a_usage_error(runner, tmp_path):
    import toysignals  # noqa: F401

    from curate.cli import app

    res = runner.invoke(app, ["score", str(SAMPLE), "-s", "toy_len", "--executor", "spark", "-o", str(tmp_path / "o.jsonl")])
    assert res.exit_code == 2
    assert "unknown executors 'spark'" in res.output and "local, ray" in res.output


def test_missing_ray_says_what_to_install(monkeypatch):
    from curate.errors import MissingDependency
    from curate.executors import ExecutorConfig, open_executor

    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(MissingDependency, match=r"curate\[ray\]"):
        open_executor(ExecutorConfig("ray"))


def test_unreachable_cluster_is_a_clean_error_without_waiting(monkeypatch, runner, tmp_path):
    import socket
    import time

    import toysignals  # noqa: F401

    from curate.cli import app

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    monkeypatch.setattr(ray, "init", lambda **kw: pytest.fail("ray.init must not be reached"))
    t0 = time.monotonic()
    res = runner.invoke(app, ["score", str(SAMPLE), "-s", "toy_len", "--ray-address", f"127.0.0.1:{port}", "-o", str(tmp_path / "o.jsonl")])
    assert res.exit_code == 2
    assert f"cannot connect to Ray at '127.0.0.1:{port}'" in res.output and "ray start --head" in res.output
    assert time.monotonic() - t0 < 10
    assert not (tmp_path / "o.jsonl").exists()


def _die_once(table: pa.Table, marker: str) -> pa.Table:
    """Kills its worker process the first time it runs (a node or worker failure), then works."""
    if not os.path.exists(marker):
        Path(marker).write_text("died")
        os._exit(1)
    return table.append_column("n", pa.array([len(str(v)) for v in table.column(0).to_pylist()], pa.int64()))


def _fail(table: pa.Table) -> pa.Table:
    from curate.errors import InputError

    raise InputError("row 3 has no usable text", "fix the input")


def test_a_dead_worker_is_retried_and_the_output_is_unchanged(ray_cluster, tmp_path):
    from curate.executors import ExecutorConfig, open_executor

    batches = [pa.table({"t": [f"{i}-{j}" for j in range(i + 1)]}) for i in range(6)]
    ex = open_executor(ExecutorConfig("ray"))
    try:
        out = list(ex.map_batches(_die_once, batches, str(tmp_path / "marker")))
    finally:
        ex.close()
    assert (tmp_path / "marker").exists()  # a worker did die
    assert out == [_die_once(b, str(tmp_path / "marker")) for b in batches]


def test_a_failing_batch_function_raises_its_own_error(ray_cluster):
    from curate.errors import InputError
    from curate.executors import ExecutorConfig, open_executor

    ex = open_executor(ExecutorConfig("ray"))
    with pytest.raises(InputError) as info:
        list(ex.map_batches(_fail, [pa.table({"t": ["a"]})]))
    assert str(info.value) == "row 3 has no usable text — fix the input"
    assert ray.is_initialized()  # a Ray the executor did not start is left running


def test_map_batches_keeps_order_and_empty_batches(ray_cluster, monkeypatch):
    from curate.executors import ExecutorConfig, open_executor
    from curate.executors.local import LocalExecutor

    monkeypatch.setattr("curate.executors.ray_data.WINDOW_BYTES", 200)  # windows also end on size
    sizes = [3, 0, 1, 7, 0, 0, 2] * 3  # 21 batches: more than the 8-batch window
    batches = [pa.table({"t": pa.array([f"{i}:{j}" for j in range(n)], pa.string())}) for i, n in enumerate(sizes)]
    ex = open_executor(ExecutorConfig("ray"))
    got = list(ex.map_batches(_die_once, batches, __file__))
    want = list(LocalExecutor(ExecutorConfig(workers=1)).map_batches(_die_once, batches, __file__))
    assert [t.num_rows for t in got] == sizes
    assert got == want


def test_recut_blocks_write_the_same_parquet_bytes(tmp_path):
    import pyarrow.parquet as pq

    from curate.executors.ray_data import recut

    batches = [pa.table({"t": [f"{i}:{j}" * (j % 5) for j in range(n)], "x": [float(j) for j in range(n)]}) for i, n in enumerate([5, 300, 1, 64])]
    whole = pa.concat_tables(batches)
    split = [whole.slice(0, 3), whole.slice(3, 200), whole.slice(203)]  # how Ray might have cut the blocks

    def raw(t: pa.Table) -> bytes:
        pq.write_table(t, tmp_path / "x.parquet")
        return (tmp_path / "x.parquet").read_bytes()

    back = recut(split, [b.num_rows for b in batches])
    assert [raw(t) for t in back] == [raw(t) for t in batches]
    assert recut(batches, [b.num_rows for b in batches]) is batches


def test_cli_does_not_import_ray():
    code = "import sys, curate.cli, curate.score, curate.executors; from curate.cli import app; print(json.dumps(sorted(m for m in ('ray', 'ray.data') if m in sys.modules)))"
    res = subprocess.run(
        [sys.executable, "-c", "import json; " + code], capture_output=True, text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}
    )
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout) == []
