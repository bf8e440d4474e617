"""`curate score` mechanics on a registered test signal: composite, passes, outputs, rejects, exit codes."""

import json

import numpy as np
import polars as pl
import pyarrow.parquet as pq
import pytest
import toysignals  # noqa: F401  (registers toy_len)

from curate.cli import app
from curate.score import ScoreConfig, score


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def rows(n, seed=0):
    rng = np.random.default_rng(seed)
    return [{"id": f"r{i}", "text": "a" * int(rng.integers(1, 50)) + "z" * int(rng.integers(0, 5)), "n": i} for i in range(n)]


def test_difficulty_is_weighted_mean_of_average_rank_cdfs(tmp_path):
    src = write_jsonl(tmp_path / "in.jsonl", rows(300))
    out = tmp_path / "out.parquet"
    s = score([str(src)], ScoreConfig(signals=["toy_len"], output=str(out), workers=1, batch_rows=64))
    assert s.rows_in == s.rows_out == 300
    df = pl.read_parquet(out)
    n = len(df)
    cdf_len = df["score_toy_len"].rank("average") / n
    cdf_z = 1 - df["score_toy_len_z"].rank("average") / n + 1 / n
    expected = (cdf_len + cdf_z) / 2
    assert np.allclose(df["difficulty"].to_numpy(), expected.to_numpy())
    assert df["difficulty"].min() >= 0 and df["difficulty"].max() <= 1


def test_weights_and_directions(tmp_path):
    src = write_jsonl(tmp_path / "in.jsonl", rows(50))
    out = tmp_path / "out.parquet"
    score(
        [str(src)],
        ScoreConfig(signals=["toy_len"], output=str(out), workers=1, weights={"score_toy_len_z": 0}, directions={"toy_len": "lower-is-harder"}),
    )
    df = pl.read_parquet(out)
    expected = 1 - df["score_toy_len"].rank("average") / 50 + 1 / 50
    assert np.allclose(df["difficulty"].to_numpy(), expected.to_numpy())


def test_unknown_weight_name_is_a_usage_error(tmp_path):
    from curate.errors import UsageError

    src = write_jsonl(tmp_path / "in.jsonl", rows(5))
    with pytest.raises(UsageError, match="not a selected signal"):
        score([str(src)], ScoreConfig(signals=["toy_len"], output=str(tmp_path / "o.parquet"), workers=1, weights={"nope": 1}))


def test_columns_kept_order_preserved_and_deterministic(tmp_path):
    src = write_jsonl(tmp_path / "in.jsonl", rows(200))
    a, b = tmp_path / "a.parquet", tmp_path / "b.parquet"
    for o in (a, b):
        score([str(src)], ScoreConfig(signals=["toy_len"], output=str(o), workers=1, batch_rows=37))
    assert a.read_bytes() == b.read_bytes()
    df = pl.read_parquet(a)
    assert df["id"].to_list() == [f"r{i}" for i in range(200)]
    assert {"id", "text", "n", "score_toy_len", "score_toy_len_z", "difficulty"} <= set(df.columns)


def test_stdin_to_stdout_and_rejects(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    data = '{"id":"a","text":"hello"}\n{"id":"b","text":""}\nnot json\n{"id":"c","text":"zzz"}\n'
    res = runner.invoke(app, ["score", "-", "-s", "toy_len", "-j", "1", "--rejects", "rej.jsonl"], input=data)
    assert res.exit_code == 0, res.output
    out = [json.loads(line) for line in res.stdout.splitlines()]
    assert [r["id"] for r in out] == ["a", "c"]
    rej = [json.loads(line) for line in (tmp_path / "rej.jsonl").read_text().splitlines()]
    assert sorted(r["reject_reason"].split(":")[0] for r in rej) == ["empty text", "malformed JSON"]
    assert any(r["reject_source"] == "<stdin>:3" for r in rej)


def test_max_reject_rate_exit_code_and_summary_json(runner, tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text('{"text":"ok"}\n{"text":null}\n{"text":5}\n')
    summ = tmp_path / "s.json"
    res = runner.invoke(
        app,
        ["score", str(src), "-s", "toy_len", "-j", "1", "-o", str(tmp_path / "o.parquet"), "--max-reject-rate", "0.5", "--summary-json", str(summ)],
    )
    assert res.exit_code == 4
    assert "max-reject-rate" in res.output
    s = json.loads(summ.read_text())
    assert s["rows_in"] == 3 and s["rows_out"] == 1 and s["quarantined"] == 2
    assert (tmp_path / "o.parquet").exists(), "output is still written when the reject rate is exceeded"
    assert (tmp_path / "o.rejects.jsonl").exists()


def test_missing_text_field_names_existing_columns(runner, tmp_path):
    src = write_jsonl(tmp_path / "in.jsonl", [{"question": "q", "answer": "a"}])
    res = runner.invoke(app, ["score", str(src), "-s", "toy_len", "-j", "1"])
    assert res.exit_code == 3
    assert "question" in res.output and "answer" in res.output and "--text-field" in res.output


def test_directory_of_shards_output(tmp_path):
    src = write_jsonl(tmp_path / "in.jsonl", rows(250))
    out = tmp_path / "shards"
    score([str(src)], ScoreConfig(signals=["toy_len"], output=str(out), workers=1, rows_per_shard=100))
    names = sorted(p.name for p in out.iterdir())
    assert names == ["part-00000-of-00003.parquet", "part-00001-of-00003.parquet", "part-00002-of-00003.parquet"]
    assert sum(pq.ParquetFile(out / n).metadata.num_rows for n in names) == 250


def test_summary_has_quantiles_and_agreement(tmp_path):
    src = write_jsonl(tmp_path / "in.jsonl", rows(100))
    s = score([str(src)], ScoreConfig(signals=["toy_len"], output=str(tmp_path / "o.parquet"), workers=1)).as_dict()
    assert set(s["quantiles"]) == {"score_toy_len", "score_toy_len_z", "difficulty"}
    assert s["agreement_spearman"]["score_toy_len"]["score_toy_len"] == 1.0
    assert -1 <= s["agreement_spearman"]["score_toy_len"]["score_toy_len_z"] <= 1


def test_spooled_run_matches_in_memory_run(tmp_path, monkeypatch):
    """Past SPOOL_AFTER_BYTES the scored batches go to disk and the summary is built from pass 2's
    reads: output bytes, quantiles and agreement are those of a run held in memory."""
    import curate.score as score_mod

    src = write_jsonl(tmp_path / "in.jsonl", rows(400, seed=3))
    cfg = dict(signals=["toy_len", "length", "compression_ratio"], workers=1, batch_rows=50)
    held = score([str(src)], ScoreConfig(output=str(tmp_path / "held.parquet"), **cfg)).as_dict()
    spooled_dirs = []
    real_temp_dir = score_mod.temp_dir
    monkeypatch.setattr(score_mod, "SPOOL_AFTER_BYTES", 1)
    monkeypatch.setattr(score_mod, "temp_dir", lambda *a, **k: spooled_dirs.append(real_temp_dir(*a, **k)) or spooled_dirs[-1])
    spooled = score([str(src)], ScoreConfig(output=str(tmp_path / "spooled.parquet"), **cfg)).as_dict()
    assert spooled_dirs and not spooled_dirs[0].exists()  # it did spool, and the spool is gone
    assert (tmp_path / "held.parquet").read_bytes() == (tmp_path / "spooled.parquet").read_bytes()
    assert spooled["quantiles"] == held["quantiles"] and len(held["quantiles"]) >= 5
    assert spooled["agreement_spearman"] == held["agreement_spearman"]
    assert held["agreement_spearman"]["score_length_chars"]["score_toy_len"] == 1.0  # toy_len is the length in characters


def test_row_store_reuses_unchanged_rows(tmp_path):
    store = tmp_path / "rows.sqlite"
    base = rows(120)
    src = write_jsonl(tmp_path / "in.jsonl", base)
    s1 = score([str(src)], ScoreConfig(signals=["toy_len"], output=str(tmp_path / "a.parquet"), workers=1, row_store=str(store), batch_rows=50))
    distinct = len({r["text"] for r in base})
    assert distinct <= s1.extra["rows_computed"]["text"] < 120  # repeated texts are mostly computed once
    assert s1.extra["rows_computed"]["text"] + s1.extra["rows_reused"]["text"] == 120
    new = [{"id": f"new{i}", "text": "q" * (i + 3), "n": 1000 + i} for i in range(10)]
    write_jsonl(src, base + new)
    s2 = score([str(src)], ScoreConfig(signals=["toy_len"], output=str(tmp_path / "b.parquet"), workers=1, row_store=str(store), batch_rows=50))
    assert s2.extra["rows_computed"]["text"] == 10
    assert s2.extra["rows_reused"]["text"] == 120
    a = pl.read_parquet(tmp_path / "a.parquet")
    b = pl.read_parquet(tmp_path / "b.parquet").head(120)
    assert a.select("id", "score_toy_len", "score_toy_len_z").equals(b.select("id", "score_toy_len", "score_toy_len_z"))
    # Same result as a run without the store.
    score([str(src)], ScoreConfig(signals=["toy_len"], output=str(tmp_path / "c.parquet"), workers=1, batch_rows=50))
    assert pl.read_parquet(tmp_path / "b.parquet").equals(pl.read_parquet(tmp_path / "c.parquet"))
