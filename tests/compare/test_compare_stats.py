"""Curve statistics with closed-form answers, and the bootstrap's behaviour at the sizes trials have (1–5 seeds)."""

from __future__ import annotations

import numpy as np
import pytest

from curate.compare import stats
from curate.compare.readers import Series
from curate.errors import InputError


def series(steps, values, name="r") -> Series:
    return Series(name, name, "test", "m", "m", np.asarray(steps, float), np.asarray(values, float))


def test_window_is_the_intersection_and_the_grid_the_union_inside_it():
    a = series([0, 100, 200, 300, 400], [5, 4, 3, 2, 1], "a")
    b = series([50, 150, 250, 350, 450, 500], [5, 4, 3, 2, 1, 0], "b")
    w = stats.common_window({"x": [a], "y": [b]})
    assert (w.start, w.end) == (50, 400)
    np.testing.assert_array_equal(w.grid, [50, 100, 150, 200, 250, 300, 350, 400])


def test_disjoint_ranges_are_an_error_naming_both_files():
    a, b = series([0, 100], [2, 1], "early.csv"), series([200, 300], [2, 1], "late.csv")
    with pytest.raises(InputError, match="late.csv starts at step 200, early.csv ends at step 100"):
        stats.common_window({"x": [a], "y": [b]})


def test_auc_is_the_mean_of_the_interpolated_curve():
    # 5 − s/250 on [100, 900]: its mean is its value at the midpoint, 5 − 500/250 = 3
    s = series(np.arange(0, 1001, 100), 5 - np.arange(0, 1001, 100) / 250)
    w = stats.Window(100.0, 900.0, np.array([100.0, 130.0, 500.0, 900.0]))
    assert stats.auc(s, w) == pytest.approx(3.0)
    # a curve with a kink between logged steps: trapezoids on the union grid are exact for the interpolant
    k = series([0, 10, 20], [0, 10, 0])
    assert stats.auc(k, stats.Window(0.0, 20.0, np.array([0.0, 10.0, 20.0]))) == pytest.approx(5.0)


def test_final_is_read_at_the_window_end_between_logged_steps():
    s = series([0, 100, 200], [3.0, 2.0, 1.0])
    assert stats.final(s, stats.Window(0.0, 150.0, np.array([0.0, 150.0]))) == pytest.approx(1.5)


@pytest.mark.parametrize(
    "values, target, lower, expected",
    [
        ([5, 4, 3, 2], 3.5, True, 150.0),  # crossed between 100 (4) and 200 (3)
        ([5, 4, 3, 2], 6.0, True, 0.0),  # already there at the first step
        ([5, 4, 3, 2], 1.0, True, None),  # never
        ([0.1, 0.3, 0.6, 0.5], 0.45, True, 0.0),  # read as lower-is-better, 0.1 is at the target from the start
        ([0.1, 0.3, 0.6, 0.5], 0.45, False, 200.0),  # higher-is-better: crossed half-way from 0.3 (step 100) to 0.6 (step 300)
        ([5, 3, 4, 2], 3.0, True, 100.0),  # the first crossing counts
    ],
)
def test_steps_to_target(values, target, lower, expected):
    s = series([0, 100, 300, 400] if values == [0.1, 0.3, 0.6, 0.5] else [0, 100, 200, 300], values)
    got = stats.steps_to_target(s, target, lower)
    assert got == (None if expected is None else pytest.approx(expected))


def test_no_ci_from_one_run():
    assert stats.mean_ci(np.array([2.0])) is None
    d = stats.mean_difference(np.array([1.0]), np.array([2.0, 3.0]))
    assert d.ci is None and d.pairing == "none" and d.estimate == pytest.approx(-1.5)


def test_two_runs_give_their_range():
    """Percentile bootstrap of a mean of two values: resample means are a, (a+b)/2, b with 1/4, 1/2, 1/4."""
    assert stats.mean_ci(np.array([3.0, 1.0])) == pytest.approx((1.0, 3.0))


def test_ci_brackets_the_mean_and_narrows_with_more_runs():
    rng = np.random.default_rng(5)
    x = rng.normal(10, 1, 40)
    lo, hi = stats.mean_ci(x)
    assert lo < x.mean() < hi
    lo5, hi5 = stats.mean_ci(x[:5])
    assert hi - lo < hi5 - lo5
    # ~ ±1.96 σ/√n for n = 40
    assert hi - lo == pytest.approx(2 * 1.96 * x.std(ddof=1) / np.sqrt(40), rel=0.25)


def test_paired_when_counts_match_else_unpaired():
    base = np.array([1.0, 2.0, 3.0])
    arm = base - 0.1  # the same seeds, each 0.1 lower
    paired = stats.mean_difference(arm, base)
    assert paired.pairing == "paired" and paired.ci == pytest.approx((-0.1, -0.1))
    unpaired = stats.mean_difference(arm[:2], base)
    assert unpaired.pairing == "unpaired"
    lo, hi = unpaired.ci
    assert lo < 0 < hi  # seed-to-seed spread (±1) swamps 0.1 once the pairs are lost


def test_same_seed_and_data_give_the_same_ci():
    x = np.random.default_rng(1).normal(0, 1, 6)
    assert stats.mean_ci(x, seed=3) == stats.mean_ci(x, seed=3)
    assert stats.mean_ci(x, seed=3) != stats.mean_ci(x, seed=4)


def test_relative_difference_of_steps():
    d = stats.relative_difference(np.array([80.0, 90.0]), np.array([100.0, 100.0]))
    assert d.estimate == pytest.approx(-0.15) and d.pairing == "paired"
    assert d.ci == pytest.approx((-0.2, -0.1))  # per-pair ratios 0.8, 0.9 → their range
    assert stats.relative_difference(np.array([5.0, 6.0]), np.array([0.0, 10.0])) is None
