"""Observation files: every outcome kind, every format, and every kind of bad row counted (never silently dropped)."""

from __future__ import annotations

import math

import polars as pl
import pytest

from curate.errors import InputError, UsageError
from curate.feedback.stats import (
    LossSuccess,
    OutcomeOptions,
    StatsReport,
    load_observations,
    observations,
)


def obs_of(rows: list[dict], **kw) -> tuple[pl.DataFrame, StatsReport]:
    report = StatsReport(source="t")
    return observations(pl.DataFrame(rows, infer_schema_length=None), "id", OutcomeOptions(**kw), report), report


def test_each_outcome_kind_becomes_successes_of_trials():
    got, rep = obs_of(
        [
            {"id": "a", "step": 1, "passes": 3, "k": 4},
            {"id": "b", "step": 2, "correct": True},
            {"id": "c", "correct": 0},
            {"id": "d", "reward": 0.25},
        ]
    )
    assert got.select("id", "s", "m", "kind").rows() == [
        ("a", 3.0, 4.0, "passes"),
        ("b", 1.0, 1.0, "correct"),
        ("c", 0.0, 1.0, "correct"),
        ("d", 0.25, 1.0, "reward"),
    ]
    assert got["step"].to_list() == [1, 2, None, None]
    assert rep.ignored == 0


def test_a_reward_threshold_turns_rewards_into_passes():
    got, _rep = obs_of([{"id": "a", "reward": -1.0}, {"id": "b", "reward": 2.5}], reward_threshold=0.0)
    assert got["s"].to_list() == [0.0, 1.0]
    bad, rep2 = obs_of([{"id": "a", "reward": -1.0}, {"id": "b", "reward": 0.5}])
    assert bad["id"].to_list() == ["b"]
    assert list(rep2.invalid) == ["reward outside [0, 1] (pass --reward-threshold X to count reward ≥ X as a success)"]


def test_losses_map_to_a_success_proxy():
    rows = [{"id": x, "loss": v} for x, v in (("a", 0.5), ("b", 2.0), ("c", 4.0), ("d", 2.0))]
    rank, rep = obs_of(rows)
    assert rank["s"].to_list() == pytest.approx([1 - 0.5 / 4, 1 - 2.0 / 4, 1 - 3.5 / 4, 1 - 2.0 / 4])  # ties share the average rank
    assert rep.loss_success == "rank"
    exp, _ = obs_of(rows, loss=LossSuccess.parse("exp"))
    assert exp["s"].to_list() == pytest.approx([math.exp(-v) for v in (0.5, 2.0, 4.0, 2.0)])
    thr, _ = obs_of(rows, loss=LossSuccess.parse("2.0"))
    assert thr["s"].to_list() == [1.0, 1.0, 0.0, 1.0]
    with pytest.raises(UsageError, match="rank, exp or a loss threshold"):
        LossSuccess.parse("median")


def test_bad_rows_are_counted_by_reason():
    got, rep = obs_of(
        [
            {"id": None, "reward": 1.0},
            {"id": "a", "reward": float("nan")},
            {"id": "a", "reward": float("inf")},
            {"id": "a", "loss": -1.0},
            {"id": "a", "passes": 5, "k": 4},
            {"id": "a", "passes": 1},
            {"id": "a", "correct": 2},
            {"id": "a", "step": -3, "reward": 1.0},
            {"id": "a", "step": 1.5, "reward": 1.0},
            {"id": "a"},
            {"id": "a", "correct": 1, "reward": 0.0},
            {"id": "a", "correct": 1, "reward": 1.0},
        ]
    )
    assert got.height == 1 and got["kind"].to_list() == ["correct"]  # correct=1 and reward=1 agree
    assert rep.contradictory == 1
    assert rep.invalid == {
        "no id": 1,
        "reward is NaN, infinite or not a number": 2,
        "negative loss": 1,
        "passes/k out of range (need 0 ≤ passes ≤ k, k ≥ 1)": 1,
        "passes/k not whole numbers": 1,
        "correct is not true/false or 1/0": 1,
        "negative step": 1,
        "step is not a whole number": 1,
        "no outcome (reward, correct, passes + k or loss all empty)": 1,
    }
    assert rep.rows == 12 and rep.ignored == 11


def test_duplicate_rollouts_need_a_sample_index():
    rows = [
        {"id": "a", "step": 1, "sample_index": 0, "reward": 1.0},
        {"id": "a", "step": 1, "sample_index": 0, "reward": 1.0},
        {"id": "a", "step": 1, "sample_index": 1, "reward": 0.0},
        {"id": "a", "step": 1, "sample_index": 2, "reward": 0.0},
        {"id": "a", "step": 1, "sample_index": 2, "reward": 1.0},
    ]
    got, rep = obs_of(rows)
    assert got["s"].to_list() == [1.0, 0.0]  # sample 0 once; sample 2 disagrees with itself: dropped
    assert rep.duplicates == 1 and rep.contradictory == 2
    same, rep2 = obs_of([{"id": "a", "step": 1, "reward": 1.0}] * 3)  # no sample_index: three rollouts of one prompt
    assert same.height == 3 and rep2.ignored == 0


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_reads_jsonl_csv_and_parquet(tmp_path, fmt):
    frame = pl.DataFrame({"id": ["a", "b", "c"], "step": [0, 1, 2], "correct": [True, False, True]})
    path = tmp_path / f"s.{fmt}"
    {"jsonl": frame.write_ndjson, "csv": frame.write_csv, "parquet": frame.write_parquet}[fmt](path)
    got, rep = load_observations(str(path), "id", OutcomeOptions())
    assert got.select("id", "step", "s").rows() == [("a", 0, 1.0), ("b", 1, 0.0), ("c", 2, 1.0)]
    assert rep.rows == 3 and rep.used == 0  # used counts what matched a row (posterior.update)


def test_malformed_lines_are_counted(tmp_path):
    path = tmp_path / "s.jsonl"
    path.write_text('{"id": "a", "reward": 1}\n{"id": "b", "rew\n{"id": "c", "reward": 0}\n')
    got, rep = load_observations(str(path), "id", OutcomeOptions())
    assert got["id"].to_list() == ["a", "c"] and rep.malformed == 1 and rep.rows == 3


def test_missing_columns_are_errors_naming_what_is_there(tmp_path):
    with pytest.raises(InputError, match="no 'id' column; its columns are: row, reward"):
        obs_of([{"row": "a", "reward": 1.0}])
    with pytest.raises(InputError, match="no outcome column"):
        obs_of([{"id": "a", "score": 1.0}])
    with pytest.raises(InputError, match="'passes' but no 'k'"):
        obs_of([{"id": "a", "passes": 1}])
    empty = tmp_path / "e.jsonl"
    empty.write_text("")
    with pytest.raises(InputError):
        load_observations(str(empty), "id", OutcomeOptions())
