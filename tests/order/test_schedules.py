"""Each schedule's pacing against its formula (REFERENCE.md §2), and the materialisation invariants."""

import math

import numpy as np
import pytest

from curate.errors import UsageError
from curate.order import SCHEDULES, Params, get_schedule
from curate.order.materialise import baseline, paced
from curate.order.run import resolve_budget
from curate.order.schedules import Plan

T = 200
P = Params(start=0.1, full_at=0.8, k=4, p=3.0)
t = np.arange(1, T + 1, dtype=float)
u = np.minimum(1, t / (P.full_at * T))
b = P.start

FORMULAS = {
    "linear": np.minimum(1, b + (1 - b) * t / (P.full_at * T)),
    "quadratic": np.minimum(1, b + (1 - b) * u**2),
    "root": np.minimum(1, (u * (1 - b**P.p) + b**P.p) ** (1 / P.p)),
    "step": np.minimum(1, b + np.floor(u * P.k) / P.k),
    "exponential": b + (1 - b) * (np.exp(10 * u) - 1) / (math.exp(10) - 1),
    "logarithmic": np.minimum(1, b + (1 - b) * (1 + np.log(u + math.exp(-10)) / 10)),
    "geometric": b ** (1 - u),
    "anti": np.minimum(1, b + (1 - b) * t / (P.full_at * T)),
    "random": np.ones(T),
    "interleaved": np.ones(T),
    "gaussian": t / T,
}


@pytest.mark.parametrize("name", sorted(FORMULAS))
def test_pacing_matches_formula(name):
    np.testing.assert_allclose(get_schedule(name).pacing(T, P), FORMULAS[name], rtol=1e-9, atol=1e-12)


def test_cyclical_rises_k_times_from_b_to_one():
    g = get_schedule("cyclical").pacing(T, P)
    per = T // P.k
    for c in range(P.k):
        cyc = g[c * per : (c + 1) * per]
        np.testing.assert_allclose(cyc, b + (1 - b) * np.arange(1, per + 1) / per)
    assert g[per - 1] == 1.0 and g[per] < 0.2


def test_all_builtins_registered_with_a_formula():
    expected = {
        "sorted",
        "linear",
        "quadratic",
        "root",
        "step",
        "exponential",
        "logarithmic",
        "geometric",
        "cyclical",
        "anti",
        "warmup",
        "interleaved",
        "gaussian",
        "random",
    }
    assert expected <= set(SCHEDULES.names())
    for name in expected:
        assert get_schedule(name).formula


def test_an_extension_registers_like_a_builtin():
    from curate.order.schedules import Schedule

    @SCHEDULES.register("half")
    def half():
        return Schedule("half", "g(t) = 1/2", lambda t, T, p: np.full_like(t, 0.5))

    try:
        d = _draw("half", n=100, batch=10)
        assert d.ranks[:50].max() < 50
    finally:
        SCHEDULES._items.pop("half")


def _plan(name, n, batch, samples=None, exhausted="widen", params=Params(), seed=0):
    s = samples or n
    steps = math.ceil(s / batch)
    sch = get_schedule(name)
    return sch, Plan(n, s, steps, batch, params, np.random.default_rng(seed), sch.pacing(steps, params), exhausted)


def _draw(name, **kw):
    sch, plan = _plan(name, **kw)
    return (sch.draw or paced)(plan)


PACED = ["linear", "quadratic", "root", "step", "exponential", "logarithmic", "geometric", "cyclical", "random"]


@pytest.mark.parametrize("name", PACED)
@pytest.mark.parametrize("exhausted", ["widen", "repeat"])
def test_every_step_draws_from_the_easiest_pool(name, exhausted):
    n, batch = 997, 25
    sch, plan = _plan(name, n=n, batch=batch, exhausted=exhausted)
    d = paced(plan)
    assert len(d.ranks) == n and len(d.fraction) == plan.steps
    for step in range(plan.steps):
        rows = d.ranks[step * batch : (step + 1) * batch]
        pool = math.ceil(d.fraction[step] * n - 1e-9)
        assert rows.max() < pool, (step, rows.max(), pool)
        assert d.fraction[step] >= plan.pace[step] - 1e-12
        if exhausted == "repeat":
            assert d.fraction[step] == pytest.approx(math.ceil(plan.pace[step] * n - 1e-9) / n)
        assert len(np.unique(rows)) == len(rows)  # no duplicates inside a batch


@pytest.mark.parametrize("name", sorted({"sorted", "anti", "warmup", "interleaved", "gaussian"} | set(PACED)))
def test_one_pass_reads_every_row_once(name):
    d = _draw(name, n=1000, batch=32)
    assert sorted(d.ranks.tolist()) == list(range(1000))


def test_repeat_mode_repeats_easy_rows_and_can_miss_hard_ones():
    d = _draw("quadratic", n=1000, batch=50, exhausted="repeat")
    assert len(d.ranks) == 1000
    assert len(np.unique(d.ranks)) < 1000
    counts = np.bincount(d.ranks, minlength=1000)
    assert counts[:100].mean() > counts[-100:].mean()


def test_longer_budget_makes_whole_passes():
    d = _draw("linear", n=300, batch=20, samples=900)
    assert np.array_equal(np.bincount(d.ranks), np.full(300, 3))


def test_anti_reads_hardest_first():
    d = _draw("anti", n=1000, batch=50)
    assert d.ranks[:50].min() >= 1000 - math.ceil(get_schedule("anti").pacing(20, Params())[0] * 1000)


def test_sorted_and_warmup_orders():
    assert _draw("sorted", n=100, batch=10).ranks.tolist() == list(range(100))
    d = _draw("warmup", n=100, batch=10, params=Params(warmup=0.3))
    assert d.ranks[:30].tolist() == list(range(30))
    assert sorted(d.ranks[30:].tolist()) == list(range(30, 100)) and d.ranks[30:].tolist() != list(range(30, 100))
    np.testing.assert_allclose(d.fraction, [0.1, 0.2, 0.3] + [1.0] * 7)


def test_interleaved_round_robins_over_bins():
    d = _draw("interleaved", n=100, batch=10, params=Params(k=4))
    assert [int(r) // 25 for r in d.ranks[:8]] == [0, 1, 2, 3, 0, 1, 2, 3]


def test_gaussian_moves_easy_to_hard():
    d = _draw("gaussian", n=5000, batch=100)
    quarters = d.ranks.reshape(4, -1).mean(axis=1)
    assert all(np.diff(quarters) > 500)


def test_same_seed_same_draw_other_seed_differs():
    a = _draw("linear", n=500, batch=10, seed=3).ranks
    assert np.array_equal(a, _draw("linear", n=500, batch=10, seed=3).ranks)
    assert not np.array_equal(a, _draw("linear", n=500, batch=10, seed=4).ranks)


def test_baseline_is_a_shuffle_of_the_same_multiset():
    d = _draw("quadratic", n=300, batch=30, exhausted="repeat")
    base = baseline(d.ranks, np.random.default_rng(1))
    assert sorted(base.tolist()) == sorted(d.ranks.tolist()) and not np.array_equal(base, d.ranks)


@pytest.mark.parametrize(
    "n,steps,batch,samples,expect",
    [
        (1000, None, None, None, (1000, 1000, 1)),
        (5000, None, None, None, (5000, 1000, 5)),
        (100, 10, 32, None, (320, 10, 32)),
        (100, None, 32, None, (100, 4, 32)),
        (100, 7, None, None, (100, 7, 15)),
        (100, None, 30, 250, (250, 9, 30)),
    ],
)
def test_budget(n, steps, batch, samples, expect):
    r = resolve_budget(n, steps, batch, samples)
    assert (r.samples, r.steps, r.batch_size) == expect


def test_inconsistent_budget_names_the_flags():
    with pytest.raises(UsageError, match="--steps 10 × --batch-size 8 = 80, not --num-samples 100"):
        resolve_budget(1000, 10, 8, 100)
    with pytest.raises(UsageError, match="--batch-size"):
        resolve_budget(1000, None, 0, None)
