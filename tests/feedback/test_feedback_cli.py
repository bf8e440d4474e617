"""`curate feedback` end to end: the read prefix byte for byte, mastered rows gone after S, verify on revisions, bad stats."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow.parquet as pq
import pytest
from feedback_fixtures import B, N, curriculum, first_steps_stats, ordered

from curate.cli import app
from curate.order.gather import sha256_file
from curate.order.manifest import write_manifest

S = 8


def run(runner, *args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def parent(tmp_path_factory) -> Path:
    return ordered(tmp_path_factory.mktemp("fb"))


@pytest.fixture(scope="module")
def revision(parent, tmp_path_factory):
    from typer.testing import CliRunner

    root = tmp_path_factory.mktemp("rev")
    # every row read so far succeeded twice: with the scored prior most are then mastered at 0.75
    stats = root / "stats.jsonl"
    df = curriculum(parent).filter(pl.col("curriculum_step") < S)
    pl.DataFrame([{"id": r["id"], "step": r["curriculum_step"], "passes": 2, "k": 2} for r in df.iter_rows(named=True)]).write_ndjson(stats)
    out = root / "r1"
    res = run(CliRunner(), "feedback", parent, "--stats", stats, "--step", S, "-o", out, "--drop-mastered", "0.75", "--summary-json", root / "s.json")
    assert res.exit_code == 0, res.output
    return out, stats, json.loads((root / "s.json").read_text())


def test_the_first_s_steps_are_the_parents_rows_byte_for_byte(parent, revision):
    out, _, summary = revision
    old, new = curriculum(parent), curriculum(out)
    assert new.head(S * B).equals(old.head(S * B))
    pm, rm = (json.loads((f / "manifest.json").read_text()) for f in (parent, out))
    whole = [s for s in pm["sets"]["curriculum"]["shards"] if s["positions"][1] < S * B]
    assert whole  # 30-row shards: the first ones lie wholly before step 8 (48 rows)
    for s in whole:
        assert sha256_file(out / s["path"]) == s["sha256"]
    assert curriculum(out, "baseline").head(S * B).equals(curriculum(parent, "baseline").head(S * B))
    assert rm["revision"] == 1 and rm["parent"] == __import__("hashlib").sha256((parent / "manifest.json").read_bytes()).hexdigest()
    assert summary["revision"] == 1 and summary["step"] == S


def test_mastered_rows_never_appear_after_s(revision):
    out, _, summary = revision
    post = pl.read_parquet(out / "posterior.parquet")
    dropped = set(post.filter(pl.col("status") == "dropped")["id"].to_list())
    assert dropped and summary["counts"]["dropped_reads"] == len(dropped)
    assert (post.filter(pl.col("status") == "dropped")["mean"] >= 0.75).all()
    after = set(curriculum(out).slice(S * B)["id"].to_list())
    assert not dropped & after
    assert curriculum(out).height == 2 * N - len(dropped)  # a second pass: each mastered row had one read left
    m = json.loads((out / "manifest.json").read_text())
    assert m["rows"]["read"] == curriculum(out).height and m["config"]["resolved"]["steps"] == -(-curriculum(out).height // B)
    assert curriculum(out)["curriculum_position"].to_list() == list(range(curriculum(out).height))


def test_verify_passes_on_the_revision(runner, revision):
    out, _, _ = revision
    res = run(runner, "verify", out)
    assert res.exit_code == 0, res.output
    assert "revision 1: the first 48 rows match the parent's" in res.output


def tamper_copy(parent: Path, revision: Path, tmp: Path) -> tuple[Path, Path]:
    p, r = tmp / "ordered", tmp / "r1"
    shutil.copytree(parent, p)
    shutil.copytree(revision, r)
    m = json.loads((r / "manifest.json").read_text())
    m["feedback"]["parent_folder"] = "../ordered"
    write_manifest(r, m)  # a thorough tamperer rewrites the manifest's body hash too
    return p, r


def test_verify_fails_on_a_tampered_revision(runner, parent, revision, tmp_path):
    out, _, _ = revision

    def fresh(name: str) -> tuple[Path, Path]:
        return tamper_copy(parent, out, tmp_path / name)

    # a prefix row changed, and the shard's checksum in the manifest updated to hide it
    p, r = fresh("row")
    m = json.loads((r / "manifest.json").read_text())
    shard = m["sets"]["curriculum"]["shards"][0]
    t = pq.read_table(r / shard["path"]).to_pandas()
    t.loc[0, "text"] = "changed"
    pq.write_table(__import__("pyarrow").Table.from_pandas(t, preserve_index=False), r / shard["path"], compression="zstd")
    shard["sha256"], shard["bytes"] = sha256_file(r / shard["path"]), (r / shard["path"]).stat().st_size
    write_manifest(r, m)
    res = run(runner, "verify", r)
    assert res.exit_code == 6 and "first 48 rows" in res.output

    # the parent changed after the revision was made
    p, r = fresh("parent")
    pm = json.loads((p / "manifest.json").read_text())
    pm["schedule"]["formula"] = "something else"
    write_manifest(p, pm)
    res = run(runner, "verify", r)
    assert res.exit_code == 6 and "not the one this revision was made from" in res.output

    # a dropped row put back after S, with checksums updated
    p, r = fresh("dropped")
    m = json.loads((r / "manifest.json").read_text())
    post = pl.read_parquet(r / "posterior.parquet")
    gone = post.filter(pl.col("status") == "dropped")["id"][0]
    last = m["sets"]["curriculum"]["shards"][-1]
    t = pl.read_parquet(r / last["path"]).with_columns(pl.lit(gone).alias("id"))
    t.write_parquet(r / last["path"])
    last["sha256"], last["bytes"] = sha256_file(r / last["path"]), (r / last["path"]).stat().st_size
    write_manifest(r, m)
    res = run(runner, "verify", r)
    assert res.exit_code == 6 and "rows it dropped as mastered" in res.output

    # the posterior file edited
    p, r = fresh("posterior")
    pl.read_parquet(r / "posterior.parquet").with_columns(pl.lit("kept").alias("status")).write_parquet(r / "posterior.parquet")
    res = run(runner, "verify", r)
    assert res.exit_code == 6 and "posterior.parquet: altered" in res.output

    # the manifest edited without its body hash
    p, r = fresh("body")
    m = json.loads((r / "manifest.json").read_text())
    m["feedback"]["counts"]["dropped_reads"] = 0
    (r / "manifest.json").write_text(json.dumps(m))
    res = run(runner, "verify", r)
    assert res.exit_code == 6 and "body hash differs" in res.output

    # the revision record removed
    p, r = fresh("record")
    m = json.loads((r / "manifest.json").read_text())
    del m["feedback"]
    write_manifest(r, m)
    res = run(runner, "verify", r)
    assert res.exit_code == 6 and "revision record is incomplete" in res.output


def test_a_revision_of_a_revision_and_the_report_chain(runner, parent, revision, tmp_path):
    out, _, _ = revision
    stats = first_steps_stats(out, S + 4, tmp_path / "s2.csv", success=lambda r: float(r["source"] == "gsm"), fmt="csv")
    res = run(runner, "feedback", out, "--stats", stats, "--step", S + 4, "-o", tmp_path / "r2", "--band", "0.3:0.7", "--ucb-by", "source")
    assert res.exit_code == 0, res.output
    r2 = tmp_path / "r2"
    m = json.loads((r2 / "manifest.json").read_text())
    assert m["revision"] == 2 and m["feedback"]["parent_revision"] == 1
    assert set(m["feedback"]["shares"]["values"]) == {"gsm", "math"}
    assert curriculum(r2).head((S + 4) * B).equals(curriculum(out).head((S + 4) * B))
    res = run(runner, "verify", r2)
    assert res.exit_code == 0, res.output
    from curate.order.revision import revision_chain

    chain = revision_chain(r2)
    assert [e["revision"] for e in chain] == [2, 1, 0] and [e.get("parent_status") for e in chain[:2]] == ["ok", "ok"]
    html = tmp_path / "report.html"
    res = run(runner, "report", r2, "-o", html, "--no-card")
    assert res.exit_code == 0, res.output
    page = html.read_text()
    assert "Revision chain" in page and "band lo=0.3 hi=0.7" in page and "drop_mastered tau=0.75" in page


def bad(runner, parent, tmp_path, rows: list[dict] | str, *extra) -> object:
    path = tmp_path / "bad.jsonl"
    path.write_text(rows if isinstance(rows, str) else "\n".join(json.dumps(r) for r in rows) + "\n")
    return run(runner, "feedback", parent, "--stats", path, "--step", S, "-o", tmp_path / "out", *extra)


def test_bad_stats_are_clear_errors_or_counted(runner, parent, tmp_path):
    first = curriculum(parent)["id"][0]
    res = bad(runner, parent, tmp_path, [{"id": "nope", "reward": 1.0}, {"id": "nada", "reward": 1.0}])
    assert res.exit_code == 3 and "no usable observation" in res.output and "ids not in the curriculum (e.g. nada, nope)" in res.output
    res = bad(runner, parent, tmp_path, [{"id": first, "step": S, "reward": 1.0}])
    assert res.exit_code == 3 and "trainer has read past step 8" in res.output and "--step 9" in res.output
    res = bad(runner, parent, tmp_path, [{"id": first, "step": 10_000, "reward": 1.0}])
    assert res.exit_code == 3 and "past the run's" in res.output
    res = bad(runner, parent, tmp_path, [{"row": first, "reward": 1.0}])
    assert res.exit_code == 3 and "no 'id' column" in res.output
    res = bad(runner, parent, tmp_path, [{"id": first, "reward": 1.0}], "--step", 10_000)
    assert res.exit_code == 2 and "outside the run's steps" in res.output
    assert "Traceback" not in res.output
    # NaN rewards and unknown ids beside good rows: counted, reported, the rest used
    res = bad(
        runner,
        parent,
        tmp_path,
        f'{{"id": "{first}", "step": 1, "reward": 1.0}}\n{{"id": "{first}", "reward": NaN}}\n{{"id": "ghost", "reward": 1}}\n',
        "--summary-json",
        tmp_path / "s.json",
    )
    assert res.exit_code == 0, res.output
    assert "2 of 3 stats row(s) not used" in res.output
    stats = json.loads((tmp_path / "s.json").read_text())["stats"]
    assert stats["used"] == 1 and stats["unknown_ids"] == 1 and stats["invalid"] == {"reward is NaN, infinite or not a number": 1}
    assert curriculum(tmp_path / "out").head(S * B).equals(curriculum(parent).head(S * B))  # the read prefix is untouched


def test_bad_flags_are_usage_errors(runner, parent, tmp_path):
    stats = first_steps_stats(parent, 2, tmp_path / "s.jsonl")
    for flag, value, msg in (
        ("--drop-mastered", "high", "TAU or TAU:M"),
        ("--band", "0.8:0.2", "LO ≤ HI"),
        ("--loss-success", "median", "rank, exp"),
        ("--ucb-by", "nope", "no column 'nope'"),
    ):
        res = run(runner, "feedback", parent, "--stats", stats, "--step", 2, "-o", tmp_path / "x", flag, value)
        assert res.exit_code == 2 and msg in res.output, res.output
    res = run(runner, "feedback", parent, "--stats", stats, "--step", 2, "-o", parent / "inside")
    assert res.exit_code == 2 and "inside it" in res.output


def test_losses_from_a_trainer_feed_the_posterior(runner, parent, tmp_path):
    df = curriculum(parent).filter(pl.col("curriculum_step") < S)
    rng = np.random.default_rng(0)
    pl.DataFrame({"id": df["id"], "step": df["curriculum_step"], "loss": rng.gamma(2.0, 1.0, df.height)}).write_parquet(tmp_path / "losses.parquet")
    res = run(
        runner,
        "feedback",
        parent,
        "--stats",
        tmp_path / "losses.parquet",
        "--step",
        S,
        "-o",
        tmp_path / "r",
        "--band",
        "0.2:0.8",
        "--summary-json",
        tmp_path / "s.json",
    )
    assert res.exit_code == 0, res.output
    s = json.loads((tmp_path / "s.json").read_text())
    assert s["stats"]["loss_success"] == "rank" and s["stats"]["kinds"] == {"loss": df.height}
    assert s["counts"]["in_band_reads"] + s["counts"]["deferred_reads"] == 2 * N - S * B


def test_a_parent_with_a_token_budget_and_a_mixture_keeps_both(runner, tmp_path):
    parent = ordered(tmp_path, token_budget="512:128", mix_by="source", mix={"gsm": 0.5, "math": 0.5})
    stats = first_steps_stats(parent, S, tmp_path / "s.jsonl")
    res = run(runner, "feedback", parent, "--stats", stats, "--step", S, "-o", tmp_path / "r", "--drop-mastered", "0.6")
    assert res.exit_code == 0, res.output
    old, new = curriculum(parent), curriculum(tmp_path / "r")
    assert new.head(S * B).equals(old.head(S * B))
    budget = dict(old.select("curriculum_step", "curriculum_max_new_tokens").unique().iter_rows())
    assert all(budget[s] == t for s, t in new.select("curriculum_step", "curriculum_max_new_tokens").unique().iter_rows())
    later = new.slice(S * B)
    gsm_left = int((later["source"] == "gsm").sum())
    for step, part in later.group_by("curriculum_step", maintain_order=True):
        if (later.filter(pl.col("curriculum_step") <= step[0])["source"] == "gsm").sum() >= gsm_left:
            break
        assert abs(int((part["source"] == "gsm").sum()) - 0.5 * part.height) < 1 + 1e-9
    shares = json.loads((tmp_path / "r" / "manifest.json").read_text())["feedback"]["shares"]
    assert shares["column"] == "source" and shares["weights"] == {"gsm": 0.5, "math": 0.5}


def test_a_prefix_ending_inside_a_shard_without_a_baseline(runner, tmp_path):
    parent = ordered(tmp_path, passes=1, rows_per_shard=10_000, baseline=False)
    stats = first_steps_stats(parent, S, tmp_path / "s.jsonl", success=lambda r: float(r["score_pass_rate_passes"] >= 2))
    res = run(runner, "feedback", parent, "--stats", stats, "--step", S, "-o", tmp_path / "r", "--band", "0.3:0.8")
    assert res.exit_code == 0, res.output
    assert not (tmp_path / "r" / "baseline").exists()
    res = run(runner, "verify", tmp_path / "r")
    assert res.exit_code == 0, res.output
    assert curriculum(tmp_path / "r").head(S * B).equals(curriculum(parent).head(S * B))


def test_a_curate_fit_model_is_the_prior_of_rows_without_a_pass_rate(runner, tmp_path):
    import pyarrow as pa

    from curate.fit import FitConfig, fit
    from curate.order import OrderConfig, order

    rng = np.random.default_rng(2)
    n = 90
    rate = np.round(rng.random(n), 2)
    words = [" ".join(["hard"] * int(1 + 9 * (1 - r)) + ["word"] * 3) for r in rate]
    labelled = np.arange(n) < 60  # a pass rate measured on 60 rows; the other 30 only predicted
    table = pa.table(
        {
            "id": [f"r{i:03d}" for i in range(n)],
            "text": words,
            "difficulty": rng.random(n),
            "score_pass_rate": pa.array(np.where(labelled, rate, np.nan), from_pandas=True),
            "score_pass_rate_passes": pa.array([int(r * 4) if m else None for r, m in zip(rate, labelled)], pa.int64()),
            "score_pass_rate_k": pa.array([4 if m else None for m in labelled], pa.int64()),
        }
    )
    pq.write_table(table, tmp_path / "scored.parquet")
    fit([str(tmp_path / "scored.parquet")], FitConfig(label="score_pass_rate", output=str(tmp_path / "model"), features=["text", "length"]))
    order(OrderConfig([str(tmp_path / "scored.parquet")], str(tmp_path / "o"), batch_size=6, plot=False, baseline=False))
    stats = first_steps_stats(tmp_path / "o", 2, tmp_path / "s.jsonl")
    res = run(
        runner,
        "feedback",
        tmp_path / "o",
        "--stats",
        stats,
        "--step",
        2,
        "-o",
        tmp_path / "r",
        "--predictor",
        tmp_path / "model",
        "--band",
        "0.3:0.7",
        "--prior-strength",
        "4",
    )
    assert res.exit_code == 0, res.output
    m = json.loads((tmp_path / "r" / "manifest.json").read_text())
    assert m["feedback"]["prior"]["rows"] == {"pass_rate": 60, "predictor": 30}
    post = pl.read_parquet(tmp_path / "r" / "posterior.parquet")
    unmeasured = post.filter(~pl.col("id").is_in([f"r{i:03d}" for i in range(60)]))
    p = (unmeasured["prior_alpha"] - 1) / 4
    assert ((p >= 0) & (p <= 1)).all() and (unmeasured["prior_alpha"] + unmeasured["prior_beta"] - 6).abs().max() < 1e-9
    assert p.std() > 0  # the prediction differs between rows (the text tells them apart)
    # a model of a label that is not a probability cannot be a prior
    table2 = table.append_column("level", pa.array(np.where(labelled, rate * 5, np.nan), from_pandas=True))
    pq.write_table(table2, tmp_path / "scored2.parquet")
    fit([str(tmp_path / "scored2.parquet")], FitConfig(label="level", output=str(tmp_path / "model2"), features=["text", "length"]))
    res = run(runner, "feedback", tmp_path / "o", "--stats", stats, "--step", 2, "-o", tmp_path / "r2", "--predictor", tmp_path / "model2")
    assert res.exit_code == 2 and "not a pass probability" in res.output
