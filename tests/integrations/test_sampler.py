"""CurriculumSampler: manifest order, re-plans that never touch what was handed out, exact resume, bad updates."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

pytest.importorskip("torch")
pytest.importorskip("datasets")

from curate.errors import UsageError
from curate.order import OrderConfig, order
from curate.sampler import CurriculumSampler

N, B = 120, 8


@pytest.fixture(scope="module")
def ordered(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("sampler")
    rng = np.random.default_rng(1)
    pq.write_table(
        pa.table(
            {
                "id": [f"r{i:03d}" for i in range(N)],
                "text": [f"t{i}" for i in range(N)],
                "difficulty": rng.random(N),
                "source": np.where(np.arange(N) % 3 == 0, "a", "b"),
                "score_pass_rate_passes": rng.integers(0, 5, N),
                "score_pass_rate_k": np.full(N, 4),
            }
        ),
        root / "scored.parquet",
    )
    # two passes over the rows, so rows read early come back and dropping them shortens the run
    order(OrderConfig([str(root / "scored.parquet")], str(root / "ordered"), schedule="linear", batch_size=B, num_samples=2 * N, seed=2, plot=False))
    return root / "ordered"


def manifest_ids(ordered: Path) -> list[str]:
    m = json.loads((ordered / "manifest.json").read_text())
    return [v for s in m["sets"]["curriculum"]["shards"] for v in pq.read_table(ordered / s["path"], columns=["id"])["id"].to_pylist()]


def take(it, n: int) -> list[int]:
    return [next(it) for _ in range(n)]


def test_yields_the_manifest_order_over_its_own_dataset(ordered):
    s = CurriculumSampler(ordered)
    assert len(s) == 2 * N
    ids = [s.dataset[i]["id"] for i in iter(s)]
    assert ids == manifest_ids(ordered)
    assert ids[:N] != sorted(ids[:N])


def test_a_dataset_in_another_order_is_matched_by_id(ordered):
    s0 = CurriculumSampler(ordered)
    shuffled = s0.dataset.shuffle(seed=4)
    s = CurriculumSampler(ordered, dataset=shuffled)
    assert [shuffled[i]["id"] for i in iter(s)] == manifest_ids(ordered)


def test_replan_keeps_what_was_handed_out_and_drops_mastered_rows(ordered):
    s = CurriculumSampler(ordered, replan_every=2, drop_mastered="0.75:1")
    it = iter(s)
    handed: list[int] = []
    for step in range(4):
        idx = take(it, B)
        handed += idx
        s.update([s.dataset[i]["id"] for i in idx], rewards=[1.0] * B, step=step)
    assert len(s.replans) == 2
    mastered = {i for i, (m, n) in enumerate(zip(s.posterior().mean, s.posterior().m)) if m >= 0.75 and n >= 1}
    assert mastered  # every row seen so far succeeded
    plan = s.plan_indices()
    assert plan[: len(handed)] == handed
    later_ids = {s.dataset[i]["id"] for i in plan[len(handed) :]}
    mastered_ids = {str(s.run.ids[r]) for r in mastered}
    assert not later_ids & mastered_ids
    assert len(s) < 2 * N  # their second reads are gone: the run is shorter


def test_state_dict_resumes_at_the_exact_row_with_the_replans(ordered):
    s = CurriculumSampler(ordered, replan_every=1, band="0.3:0.7", ucb_by="source")
    it = iter(s)
    for step in range(3):
        idx = take(it, B)
        s.update([s.dataset[i]["id"] for i in idx], rewards=[0.0, 1.0] * (B // 2), step=step)
    state = json.loads(json.dumps(s.state_dict()))  # JSON-safe
    rest = list(it)
    r = CurriculumSampler(ordered, replan_every=1, band="0.3:0.7", ucb_by="source")
    r.load_state_dict(state)
    assert list(iter(r)) == rest
    assert r.replans == s.replans


def test_state_from_another_folder_is_refused(ordered, tmp_path):
    s = CurriculumSampler(ordered)
    state = s.state_dict()
    state["manifest_sha256"] = "0" * 64
    with pytest.raises(UsageError, match="another curriculum"):
        CurriculumSampler(ordered).load_state_dict(state)


def test_bad_updates_are_errors_or_counted(ordered):
    s = CurriculumSampler(ordered, replan_every=100, band="0:1")
    with pytest.raises(UsageError, match="2 ids but 1 reward"):
        s.update(["r000", "r001"], rewards=[1.0])
    with pytest.raises(UsageError, match="no outcome"):
        s.update(["r000"])
    s.update(["r000", "nope", "r001"], rewards=[1.0, 1.0, float("nan")])
    with pytest.warns(UserWarning, match="2 observation"):
        s.replan()
    assert s.report.unknown_ids == 1 and s.report.used == 1
    assert sum(s.report.invalid.values()) == 1


def test_a_second_pass_starts_over(ordered):
    s = CurriculumSampler(ordered)
    first = list(iter(s))
    assert list(iter(s)) == first and s.epoch == 1
