"""Beta posteriors and the re-plan core: the prefix never moves, nothing is invented, strategies do what they say."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from feedback_fixtures import B, N, ordered
from hypothesis import given, settings
from hypothesis import strategies as st

from curate.feedback.posterior import match, prior, update
from curate.feedback.replan import Strategies, replan
from curate.feedback.rows import PASSES, SAMPLES, load_ordered
from curate.feedback.stats import StatsReport
from curate.order.mix import interleave, quotas


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return load_ordered(ordered(tmp_path_factory.mktemp("rp")), [PASSES, SAMPLES, "source"])


def observe(run, pairs: list[tuple[str, float, float]]):
    post = prior(run)
    obs = pl.DataFrame(
        {
            "id": [p[0] for p in pairs],
            "step": [0] * len(pairs),
            "s": [p[1] for p in pairs],
            "m": [p[2] for p in pairs],
            "kind": ["passes"] * len(pairs),
        },
        schema={"id": pl.String, "step": pl.Int64, "s": pl.Float64, "m": pl.Float64, "kind": pl.String},
    )
    rep = StatsReport()
    rows, known = match(obs, run, rep)
    return update(post, rows, known, rep), rep


def test_prior_from_the_scored_pass_rate_and_the_beta_update(run):
    r = run.row_of_id()["r007"]
    c, k = run.columns[PASSES][r], run.columns[SAMPLES][r]
    post, rep = observe(run, [("r007", 3, 4), ("r007", 1, 2), ("nope", 1, 1)])
    assert (post.alpha0[r], post.beta0[r]) == (1 + c, 1 + k - c)
    assert (post.alpha[r], post.beta[r]) == (1 + c + 4, 1 + k - c + 2)
    assert post.mean[r] == pytest.approx((5 + c) / (8 + k))
    assert rep.unknown_ids == 1 and rep.unknown_examples == ["nope"] and rep.used == 2


def test_the_prior_column_and_the_weak_prior(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from curate.order import OrderConfig, order

    pq.write_table(pa.table({"id": ["a", "b", "c"], "difficulty": [0.1, 0.2, 0.3], "p": [0.9, None, 0.5]}), tmp_path / "in.parquet")
    order(OrderConfig([str(tmp_path / "in.parquet")], str(tmp_path / "o"), batch_size=1, plot=False, baseline=False))
    r = load_ordered(tmp_path / "o", ["p"])
    post = prior(r, "p", strength=10)
    got = dict(zip(r.ids.tolist(), zip(post.alpha0.tolist(), post.beta0.tolist())))
    assert got["a"] == pytest.approx((10.0, 2.0)) and got["b"] == (1.0, 1.0) and got["c"] == pytest.approx((6.0, 6.0))
    assert post.prior_source == {"prior_column": 2, "uniform": 1}


def test_without_a_strategy_the_rest_is_the_same_reads_redrawn(run):
    post, _ = observe(run, [])
    plan = np.arange(run.positions)
    at = 7 * B
    res = replan(run, plan, at, post, Strategies(), seed=1)
    assert res.plan[:at].tolist() == plan[:at].tolist()
    assert sorted(run.pos_row[res.plan[at:]].tolist()) == sorted(run.pos_row[plan[at:]].tolist())  # the same reads, none added or lost
    assert res.plan[at:].tolist() != plan[at:].tolist()
    again = replan(run, plan, at, post, Strategies(), seed=1)
    assert again.plan.tolist() == res.plan.tolist()  # same input and seed, same plan


def test_repeats_stay_a_pass_apart(run):
    post, _ = observe(run, [])
    res = replan(run, np.arange(run.positions), 3 * B, post, Strategies(), seed=2)
    rest = run.pos_row[res.plan[3 * B :]]
    first_reads = rest[: N - 3 * B]  # rows not read yet come once before any row's second read
    assert len(set(first_reads.tolist())) == len(first_reads)


def test_drop_mastered_removes_their_reads_and_only_theirs(run):
    ids = [str(run.ids[run.pos_row[p]]) for p in range(4 * B)]
    post, _ = observe(run, [(i, 8, 8) for i in ids[: 2 * B]] + [(i, 0, 8) for i in ids[2 * B :]])
    res = replan(run, np.arange(run.positions), 4 * B, post, Strategies.parse("0.8:8"), seed=0)
    mastered = {int(r) for r in np.flatnonzero((post.mean >= 0.8) & (post.m >= 8))}
    assert 0 < len(mastered) < 2 * B  # 8 of 8 on top of a low scored pass rate is not yet mastered
    assert mastered <= {run.row_of_id()[i] for i in ids[: 2 * B]}
    rest = run.pos_row[res.plan[4 * B :]].tolist()
    assert not mastered & set(rest)
    assert res.counts["dropped_reads"] == len(mastered)  # each had one read left (its second pass)
    assert len(res.plan) == run.positions - len(mastered)
    assert {i for i, s in enumerate(res.status) if s == "dropped"} == mastered
    kept = replan(run, np.arange(run.positions), 4 * B, post, Strategies.parse("0.8:9"), seed=0)  # not enough observations
    assert kept.counts["dropped_reads"] == 0


def test_band_puts_uncertain_rows_first_and_defers_the_rest(run):
    post, _ = observe(run, [])
    at = 2 * B
    res = replan(run, np.arange(run.positions), at, post, Strategies.parse(band="0.4:0.6"), seed=0)
    rest = res.plan[at:]
    mean = post.mean[run.pos_row[rest]]
    n_in = res.counts["in_band_reads"]
    assert n_in and res.counts["deferred_reads"]
    assert ((mean[:n_in] >= 0.4) & (mean[:n_in] <= 0.6)).all()
    assert not ((mean[n_in:] >= 0.4) & (mean[n_in:] <= 0.6)).any()
    unc = post.uncertainty[run.pos_row[rest[:n_in]]]
    first = len(set(run.pos_row[rest[:n_in]].tolist()))
    assert (np.diff(unc[:first]) <= 1e-12).all()  # most uncertain first (within the first reads)
    assert sorted(run.pos_row[rest].tolist()) == sorted(run.pos_row[at:].tolist())  # deferred, not removed


def test_ucb_mixture_follows_the_weights_within_a_row_per_step(run):
    ids = [str(run.ids[run.pos_row[p]]) for p in range(4 * B)]
    post, _ = observe(run, [(i, 1, 2) for i in ids])
    res = replan(run, np.arange(run.positions), 4 * B, post, Strategies.parse(ucb_by="source", ucb_temperature=0.05), seed=0)
    mix = res.mixture
    assert mix is not None and set(mix["values"]) == {"gsm", "math"}
    w = {k: v["weight"] for k, v in mix["values"].items()}
    assert sum(w.values()) == pytest.approx(1.0)
    src = run.columns["source"][run.pos_row[res.plan[4 * B :]]]
    steps = len(src) // B
    gsm_left = int((src == "gsm").sum())
    for t in range(steps):
        if (src[: (t + 1) * B] == "gsm").sum() >= gsm_left:
            break  # a value that ran out gives its share to the others
        got = int((src[t * B : (t + 1) * B] == "gsm").sum())
        assert abs(got - w["gsm"] * B) < 1 + 1e-9


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0.01, 1.0), min_size=1, max_size=5), st.integers(1, 40), st.integers(1, 30))
def test_quotas_are_within_one_row_and_sum_exactly(raw, size, steps):
    w = np.array(raw) / sum(raw)
    carry = np.zeros(len(w))
    total = np.zeros(len(w))
    for _ in range(steps):
        q = quotas(w, size, carry)
        assert q.sum() == size and (np.abs(q - w * size) < 1 + 1e-9).all()
        total += q
    assert (np.abs(total - w * size * steps) <= 1 + 1e-9).all()  # the rounding does not drift


def test_interleave_cycles_or_shares_a_group_that_runs_out():
    seq = np.arange(20)
    groups = (seq >= 4).astype(int)  # group 0 has 4 rows, group 1 has 16
    shared = interleave(seq, groups, np.array([0.5, 0.5]), 4, exhausted="share")
    assert sorted(shared.sequence.tolist()) == seq.tolist()
    cycled = interleave(seq, groups, np.array([0.5, 0.5]), 4, total=20, exhausted="cycle")
    assert [int((cycled.sequence[i : i + 4] < 4).sum()) for i in range(0, 20, 4)] == [2] * 5
    assert cycled.per_group[0]["repeats"] == 6 and cycled.per_group[1]["unread"] == 6


def test_the_prefix_digest_sees_values_not_layout(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from curate.order.revision import prefix_digest

    n = 200
    base = {
        "id": [f"r{i}" for i in range(n)],
        "x": [None if i % 7 == 0 else float(i) for i in range(n)],
        "s": [None if i % 5 else f"t{i}" for i in range(n)],
    }
    one = pa.table(base)
    other_tail = pa.table({k: v[:120] + [("z" if k != "x" else 9.0)] * 80 for k, v in base.items()})
    pq.write_table(one, tmp_path / "a.parquet")
    pq.write_table(other_tail, tmp_path / "b.parquet")
    pq.write_table(one.slice(0, 50), tmp_path / "c0.parquet")
    pq.write_table(one.slice(50), tmp_path / "c1.parquet")
    a, _ = prefix_digest([tmp_path / "a.parquet"], 120)
    assert a == prefix_digest([tmp_path / "b.parquet"], 120)[0]  # the rows after the prefix do not count
    assert a == prefix_digest([tmp_path / "c0.parquet", tmp_path / "c1.parquet"], 120)[0]  # nor how shards split them
    changed = pa.table({**base, "x": [1.5] + base["x"][1:]})
    pq.write_table(changed, tmp_path / "d.parquet")
    assert a != prefix_digest([tmp_path / "d.parquet"], 120)[0]
    assert a != prefix_digest([tmp_path / "a.parquet"], 119)[0]
