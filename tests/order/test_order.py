"""`curate order` end to end: shards in training order, baseline, manifest, picture, determinism, atomicity."""

import hashlib
import json
import math
import threading
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from curate.cli import app
from curate.errors import InputError
from curate.order import OrderConfig, Params, order
from curate.order import gather as G


def make_input(path: Path, n: int = 600, seed: int = 0, ties: bool = False) -> Path:
    rng = np.random.default_rng(seed)
    diff = np.round(rng.random(n), 2) if ties else rng.random(n)
    pq.write_table(
        pa.table(
            {
                "id": [f"doc-{i:05d}" for i in range(n)],
                "text": [f"sample text number {i} " * (1 + i % 5) for i in range(n)],
                "difficulty": diff,
                "score_length_words": rng.integers(1, 50, n),
                "source": ["a", "b", "c"][0:1] * n,
            }
        ),
        path,
    )
    return path


@pytest.fixture
def data(tmp_path):
    return make_input(tmp_path / "scored.parquet")


def shard_files(out: Path, set_name: str = "curriculum") -> list[str]:
    m = json.loads((out / "manifest.json").read_text())
    return [str(out / s["path"]) for s in m["sets"][set_name]["shards"]]


def run(runner, *args):
    return runner.invoke(app, [str(a) for a in args])


def test_cli_writes_ordered_shards_baseline_manifest_and_picture(runner, data, tmp_path):
    out = tmp_path / "out"
    r = run(runner, "order", data, "-o", out, "--schedule", "linear", "--steps", 30, "--batch-size", 20, "--rows-per-shard", 130, "--seed", 7)
    assert r.exit_code == 0, r.output
    names = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert names == [
        "baseline/part-00000-of-00005.parquet",
        "baseline/part-00001-of-00005.parquet",
        "baseline/part-00002-of-00005.parquet",
        "baseline/part-00003-of-00005.parquet",
        "baseline/part-00004-of-00005.parquet",
        "curriculum.png",
        "manifest.json",
        "part-00000-of-00005.parquet",
        "part-00001-of-00005.parquet",
        "part-00002-of-00005.parquet",
        "part-00003-of-00005.parquet",
        "part-00004-of-00005.parquet",
    ]
    assert (out / "curriculum.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    files = shard_files(out)
    seq = pl.scan_parquet(files).collect()  # polars keeps the file order
    assert seq["curriculum_position"].to_list() == list(range(600))
    assert seq["curriculum_step"].to_list() == [i // 20 for i in range(600)]
    assert set(pq.read_schema(files[0]).names) >= {"id", "text", "difficulty", "score_length_words", "source"}
    # shards hold whole steps: 130 rows per shard rounds down to 120 (6 steps of 20)
    assert [pq.ParquetFile(f).metadata.num_rows for f in files] == [120] * 5

    # every step's rows come from the easiest ⌈g(t)·N⌉ (by rank of difficulty), and g(t) is recorded
    src = pl.read_parquet(data).sort("difficulty")
    rank = {i: k for k, i in enumerate(src["id"].to_list())}
    for step, grp in seq.group_by("curriculum_step", maintain_order=True):
        frac = grp["curriculum_fraction"][0]
        assert frac >= min(1, 0.1 + 0.9 * (step[0] + 1) / 30) - 1e-9
        assert max(rank[i] for i in grp["id"]) < math.ceil(frac * 600 - 1e-9)
    assert sorted(seq["id"].to_list()) == sorted(src["id"].to_list())  # one pass: nothing lost, nothing repeated


def test_datasets_reads_the_shards_in_order(runner, data, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / "hf-cache"))
    import datasets

    out = tmp_path / "out"
    order(OrderConfig([str(data)], str(out), schedule="root", steps=60, batch_size=10, rows_per_shard=100, stages=3))
    files = shard_files(out)
    assert [Path(f).parent.name for f in files] == ["stage-0"] * 2 + ["stage-1"] * 2 + ["stage-2"] * 2
    ds = datasets.load_dataset("parquet", data_files=files, split="train")
    assert ds["curriculum_position"] == list(range(600))
    expected = pl.read_parquet(files)["id"].to_list()
    assert ds["id"] == expected


def test_baseline_same_rows_same_count_other_order(data, tmp_path):
    out = tmp_path / "out"
    m = order(OrderConfig([str(data)], str(out), schedule="quadratic", num_samples=900, batch_size=30, exhausted="repeat", seed=3))
    cur = pl.read_parquet(shard_files(out))
    base = pl.read_parquet(shard_files(out, "baseline"))
    assert cur.height == base.height == 900 == m["sets"]["baseline"]["rows"]
    assert sorted(cur["id"].to_list()) == sorted(base["id"].to_list())
    assert cur["id"].to_list() != base["id"].to_list()
    assert base["curriculum_position"].to_list() == list(range(900))
    assert cur.head(300)["difficulty"].mean() < base.head(300)["difficulty"].mean()


def test_manifest_records_config_inputs_and_per_shard_stats(data, tmp_path):
    out = tmp_path / "out"
    m = order(OrderConfig([str(data)], str(out), schedule="step", steps=20, batch_size=30, rows_per_shard=150, seed=11, params=Params(k=3)))
    on_disk = json.loads((out / "manifest.json").read_text())
    assert on_disk == m
    assert m["format_version"] == 1 and m["curate_version"]
    assert m["inputs"] == {str(data): "sha256:" + hashlib.sha256(data.read_bytes()).hexdigest()}  # hashed beside the sort
    assert m["config"]["seed"] == 11 and m["config"]["schedule"] == "step" and m["config"]["params"]["k"] == 3
    assert m["config"]["resolved"] == {"samples": 600, "steps": 20, "batch_size": 30, "rows_per_shard": 150}
    shards = m["sets"]["curriculum"]["shards"]
    assert [s["steps"] for s in shards] == [[0, 4], [5, 9], [10, 14], [15, 19]]
    assert [s["positions"] for s in shards] == [[0, 149], [150, 299], [300, 449], [450, 599]]
    for s in shards:
        t = pl.read_parquet(out / s["path"])
        assert s["rows"] == t.height
        assert s["difficulty"]["min"] == pytest.approx(t["difficulty"].min())
        assert s["difficulty"]["mean"] == pytest.approx(t["difficulty"].mean())
        assert s["difficulty"]["max"] == pytest.approx(t["difficulty"].max())
        assert len(s["sha256"]) == 64 and s["bytes"] == (out / s["path"]).stat().st_size


def _bytes(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*.parquet"))}


def test_same_input_and_seed_give_byte_identical_shards(tmp_path):
    data = make_input(tmp_path / "in.parquet", ties=True)
    cfg = dict(schedule="linear", steps=25, batch_size=24, rows_per_shard=100)
    order(OrderConfig([str(data)], str(tmp_path / "a"), seed=5, **cfg))
    order(OrderConfig([str(data)], str(tmp_path / "b"), seed=5, **cfg))
    order(OrderConfig([str(data)], str(tmp_path / "c"), seed=6, **cfg))
    a, b, c = _bytes(tmp_path / "a"), _bytes(tmp_path / "b"), _bytes(tmp_path / "c")
    assert a == b
    assert a != c
    assert (tmp_path / "a" / "manifest.json").read_text().replace("/a", "/b") == (tmp_path / "b" / "manifest.json").read_text()


def test_ties_are_broken_by_id_hash_not_input_order(tmp_path):
    data = make_input(tmp_path / "in.parquet", n=300, ties=True)
    shuffled = pl.read_parquet(data).sample(fraction=1.0, shuffle=True, seed=1)
    shuffled.write_parquet(tmp_path / "shuffled.parquet")
    ids = []
    for name in ("in", "shuffled"):
        order(OrderConfig([str(tmp_path / f"{name}.parquet")], str(tmp_path / f"o-{name}"), schedule="sorted", baseline=False, plot=False, seed=2))
        ids.append(pl.read_parquet(shard_files(tmp_path / f"o-{name}"))["id"].to_list())
    assert ids[0] == ids[1]
    d = pl.read_parquet(shard_files(tmp_path / "o-in"))["difficulty"].to_list()
    assert d == sorted(d)


def test_spill_gather_writes_the_same_bytes_as_in_memory(data, tmp_path):
    cfg = dict(schedule="cyclical", num_samples=1000, batch_size=25, rows_per_shard=100, stages=2, seed=4)
    how: list[dict] = [{}, {}, {}]
    order(OrderConfig([str(data)], str(tmp_path / "mem"), **cfg), run_info=how[0])
    order(OrderConfig([str(data)], str(tmp_path / "spill"), memory_mb=0.01, **cfg), run_info=how[1])  # many small buckets
    order(OrderConfig([str(data)], str(tmp_path / "forced"), gather="spill", **cfg), run_info=how[2])
    assert [h["gather"] for h in how] == ["memory", "spill", "spill"]
    assert _bytes(tmp_path / "forced") == _bytes(tmp_path / "mem") == _bytes(tmp_path / "spill")
    # how the rows were gathered is not part of the manifest: the three are the same file
    manifests = {(tmp_path / name / "manifest.json").read_bytes() for name in ("mem", "spill", "forced")}
    assert len(manifests) == 1 and b'"gather"' not in manifests.pop()


def test_in_memory_gather_across_files_and_row_groups_writes_the_same_bytes_as_spill(data, tmp_path):
    """Rows taken from many record batches of several files, read in parallel, land where the spill gather puts them."""
    table = pq.read_table(data)
    half = table.num_rows // 2
    pq.write_table(table.slice(0, half), tmp_path / "a.parquet", row_group_size=37)
    pq.write_table(table.slice(half), tmp_path / "b.parquet", row_group_size=53)
    assert pq.ParquetFile(tmp_path / "a.parquet").metadata.num_row_groups > 4
    inputs = [str(tmp_path / "a.parquet"), str(tmp_path / "b.parquet")]
    cfg = dict(schedule="cyclical", num_samples=900, batch_size=30, rows_per_shard=110, stages=3, seed=5)
    how: list[dict] = [{}, {}]
    order(OrderConfig(inputs, str(tmp_path / "mem"), gather="memory", **cfg), run_info=how[0])
    order(OrderConfig(inputs, str(tmp_path / "spill"), gather="spill", **cfg), run_info=how[1])
    assert [h["gather"] for h in how] == ["memory", "spill"]
    assert _bytes(tmp_path / "mem") == _bytes(tmp_path / "spill")
    rows = pl.read_parquet(shard_files(tmp_path / "mem"))
    assert rows.height == 900 and set(rows["id"]) <= set(table.column("id").to_pylist())


def test_a_crash_mid_write_leaves_no_shard_set(data, tmp_path, monkeypatch):
    out = tmp_path / "out"
    real = G._write
    calls = []

    def crash(table, root, spec):
        calls.append(spec.path)
        if len(calls) == 3:
            raise RuntimeError("disk full")
        return real(table, root, spec)

    monkeypatch.setattr(G, "_write", crash)
    with pytest.raises(RuntimeError):
        order(OrderConfig([str(data)], str(out), batch_size=10, rows_per_shard=100))
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["scored.parquet"]  # no temporary folder left behind

    # an earlier complete output survives a crashed re-run untouched
    monkeypatch.setattr(G, "_write", real)
    order(OrderConfig([str(data)], str(out), batch_size=10, rows_per_shard=100))
    before = _bytes(out)
    calls.clear()
    monkeypatch.setattr(G, "_write", crash)
    with pytest.raises(RuntimeError):
        order(OrderConfig([str(data)], str(out), batch_size=10, rows_per_shard=100, seed=9))
    assert _bytes(out) == before


def test_a_failed_run_leaves_no_hashing_thread(data, tmp_path, monkeypatch):
    import curate.io

    seen = []
    real = curate.io.input_hashes

    def hashes(sources, stop=None):
        seen.append(stop)
        return real(sources, stop)

    monkeypatch.setattr(curate.io, "input_hashes", hashes)
    with pytest.raises(InputError, match="no column 'nope'"):
        order(OrderConfig([str(data)], str(tmp_path / "out"), by=["nope"]))
    assert len(seen) == 1 and seen[0].is_set()  # told to stop, and waited for
    assert not [t for t in threading.enumerate() if t.name.startswith("curate-hash")]


def test_rerun_replaces_an_earlier_output(data, tmp_path):
    out = tmp_path / "out"
    order(OrderConfig([str(data)], str(out), rows_per_shard=100))
    order(OrderConfig([str(data)], str(out), rows_per_shard=300, baseline=False))
    assert sorted(p.name for p in out.iterdir()) == ["curriculum.png", "manifest.json", "part-00000-of-00002.parquet", "part-00001-of-00002.parquet"]


def test_sort_by_several_columns_with_direction(runner, data, tmp_path):
    out = tmp_path / "out"
    r = run(
        runner,
        "order",
        data,
        "-o",
        out,
        "--schedule",
        "sorted",
        "--by",
        "score_length_words:desc",
        "--by",
        "difficulty",
        "--no-baseline",
        "--no-plot",
    )
    assert r.exit_code == 0, r.output
    t = pl.read_parquet(shard_files(out))
    assert (
        t.select("score_length_words", "difficulty").rows()
        == t.sort(["score_length_words", "difficulty"], descending=[True, False]).select("score_length_words", "difficulty").rows()
    )
    assert not (out / "baseline").exists() and not (out / "curriculum.png").exists()


def test_jsonl_on_stdin(runner, tmp_path):
    lines = "".join(json.dumps({"id": f"x{i}", "text": f"t{i}", "difficulty": (i * 37 % 100) / 100}) + "\n" for i in range(100))
    out = tmp_path / "out"
    r = runner.invoke(app, ["order", "-", "-o", str(out), "--schedule", "sorted", "--batch-size", "10"], input=lines)
    assert r.exit_code == 0, r.output
    t = pl.read_parquet(shard_files(out))
    assert t["difficulty"].to_list() == sorted(t["difficulty"].to_list()) and t.height == 100


def test_null_and_nan_keys_are_quarantined(runner, tmp_path):
    diff = [0.5, None, float("nan"), 0.2, 0.9, 0.1]
    pq.write_table(pa.table({"id": list("abcdef"), "text": list("uvwxyz"), "difficulty": pa.array(diff, pa.float64())}), tmp_path / "in.parquet")
    out = tmp_path / "out"
    r = run(runner, "order", tmp_path / "in.parquet", "-o", out, "--schedule", "sorted")
    assert r.exit_code == 0, r.output
    assert "2 row(s) quarantined" in r.output
    assert pl.read_parquet(shard_files(out))["id"].to_list() == ["f", "d", "a", "e"]
    rejects = [json.loads(line) for line in (out / "rejects.jsonl").read_text().splitlines()]
    assert {(x["id"], x["reject_reason"]) for x in rejects} == {("b", "null sort key 'difficulty'"), ("c", "NaN sort key 'difficulty'")}
    assert json.loads((out / "manifest.json").read_text())["rows"]["quarantined"] == 2


def test_missing_difficulty_names_the_columns_and_suggests_score(runner, tmp_path):
    pq.write_table(pa.table({"id": ["a"], "text": ["hello"]}), tmp_path / "raw.parquet")
    r = run(runner, "order", tmp_path / "raw.parquet", "-o", tmp_path / "out")
    assert r.exit_code == 3
    assert "no column 'difficulty'" in r.output and "its columns are: id, text" in r.output
    assert "curate score" in r.output and "--by" in r.output
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "args,code,message",
    [
        (["--steps", "10", "--batch-size", "8", "--num-samples", "100"], 2, "--steps 10 × --batch-size 8 = 80, not --num-samples 100"),
        (["--by", "difficulty:up"], 2, "direction must be 'asc' or 'desc'"),
        (["--schedule", "zigzag"], 2, "unknown schedules 'zigzag'"),
        (["--start", "0"], 2, "--start must be in (0, 1]"),
        (["--rows-per-shard", "10", "--shard-size-mb", "1"], 2, "--rows-per-shard and --shard-size-mb both given"),
        (["--exhausted", "wrap"], 2, "--exhausted must be one of widen, repeat"),
        (["--steps", "5000"], 2, "--steps 5000 is more than the 600 rows"),
        (["--steps", "4", "--stages", "5"], 2, "--stages 5 is more than the 4 steps"),
        (["--gather", "disk"], 2, "--gather must be one of auto, memory, spill"),
        (["--executor", "spark"], 2, "curate order runs on executor local or ray, not 'spark'"),
        (["--executor", "ray", "--gather", "spill"], 2, "--gather spill applies to the local executor: on Ray, Ray tasks gather the rows"),
    ],
)
def test_cli_usage_errors(runner, data, tmp_path, args, code, message):
    r = run(runner, "order", data, "-o", tmp_path / "out", *args)
    assert r.exit_code == code, r.output
    assert message in " ".join(r.output.split())


def test_refuses_to_overwrite_a_folder_it_did_not_write(runner, data, tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    r = run(runner, "order", data, "-o", tmp_path / "mine")
    assert r.exit_code == 2 and "not an earlier `curate order` output" in r.output
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"


def test_schedules_command_lists_names_and_formulas(runner):
    r = runner.invoke(app, ["schedules"])
    assert r.exit_code == 0
    rows = dict(line.split("\t") for line in r.stdout.strip().splitlines())
    assert rows["linear"] == "g(t) = min(1, b + (1-b)·t/(aT))"
    assert {"sorted", "root", "step", "warmup", "interleaved", "gaussian", "random", "anti", "cyclical"} <= set(rows)


def test_shard_size_mb_sets_rows_per_shard(data, tmp_path):
    m = order(OrderConfig([str(data)], str(tmp_path / "o"), shard_size_mb=0.01, batch_size=1, baseline=False, plot=False))
    rps = m["config"]["resolved"]["rows_per_shard"]
    assert 1 < rps < 600 and len(m["sets"]["curriculum"]["shards"]) == math.ceil(600 / rps)


def test_help_has_an_example(runner):
    for cmd in ("order", "schedules", "verify"):
        r = runner.invoke(app, [cmd, "--help"])
        assert r.exit_code == 0 and "Example:" in r.output and "curate " + cmd in r.output


@pytest.mark.parametrize("gather", ["memory", "spill"])
def test_an_ordered_folder_as_input_is_its_curriculum_in_training_order(data, tmp_path, gather):
    from curate.io import expand_inputs

    first = tmp_path / "first"
    order(OrderConfig([str(data)], str(first), rows_per_shard=100, stages=2))
    assert expand_inputs(str(first)) == shard_files(first)  # baseline/ (the same rows reshuffled) is not read twice
    again = tmp_path / "again"
    m = order(OrderConfig([str(first)], str(again), rows_per_shard=100, gather=gather))
    assert m["rows"]["input"] == m["rows"]["ordered"] == 600
    rows = pl.concat([pl.read_parquet(f) for f in shard_files(again)])
    assert rows["id"].n_unique() == 600
    assert rows["curriculum_position"].to_list() == list(range(600))  # the new order's columns replace the old ones

    Path(shard_files(first)[1]).unlink()
    from curate.errors import InputError

    with pytest.raises(InputError, match=r"missing 1 shard\(s\): stage-0/part-00001"):
        expand_inputs(str(first))
