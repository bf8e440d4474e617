"""Curve statistics with closed-form answers, and the Student-t intervals at the sizes trials have (1–5 seeds):
closed forms from the t quantile, and a 95 % CI that claims a difference 5 % of the time when there is none."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy.stats import t as student_t

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


def _t_ci(x, level=0.95):
    """mean ± t(1 − α/2, n − 1) · s / √n, by hand."""
    x = np.asarray(x, float)
    n = len(x)
    half = student_t.ppf(0.5 + level / 2, n - 1) * x.std(ddof=1) / np.sqrt(n)
    return x.mean() - half, x.mean() + half


def _welch_ci(a, b, level=0.95):
    """mean(a) − mean(b) ± t(1 − α/2, ν) · √(sa²/na + sb²/nb), ν by the Welch–Satterthwaite formula."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    d = a.mean() - b.mean()
    half = student_t.ppf(0.5 + level / 2, df) * np.sqrt(va + vb)
    return d - half, d + half


def test_no_ci_from_one_run():
    assert stats.mean_ci(np.array([2.0])) is None
    d = stats.mean_difference(np.array([1.0]), np.array([2.0, 3.0]))
    assert d.ci is None and d.pairing == "none" and d.estimate == pytest.approx(-1.5)
    r = stats.relative_difference(np.array([90.0]), np.array([100.0]))
    assert r.ci is None and r.pairing == "none" and r.estimate == pytest.approx(-0.1)


def test_two_runs_give_the_t_interval_not_their_range():
    """Two values 3 and 1: mean 2, s = √2, so 2 ± t(0.975, 1) · √2/√2 = 2 ± 12.706 — far wider than [1, 3]."""
    lo, hi = stats.mean_ci(np.array([3.0, 1.0]))
    assert (lo, hi) == pytest.approx(_t_ci([3.0, 1.0]))
    assert (lo, hi) == pytest.approx((2 - 12.7062047, 2 + 12.7062047))


@pytest.mark.parametrize("level", [0.95, 0.8])
def test_mean_ci_is_the_t_interval(level):
    x = np.random.default_rng(5).normal(10, 1, 5)
    assert stats.mean_ci(x, level=level) == pytest.approx(_t_ci(x, level))


def test_ci_brackets_the_mean_and_narrows_with_more_runs():
    rng = np.random.default_rng(5)
    x = rng.normal(10, 1, 40)
    lo, hi = stats.mean_ci(x)
    assert lo < x.mean() < hi
    lo5, hi5 = stats.mean_ci(x[:5])
    assert hi - lo < hi5 - lo5
    assert (lo, hi) == pytest.approx(_t_ci(x))


def test_paired_difference_is_the_t_interval_of_the_per_seed_differences():
    base = np.array([1.0, 2.0, 3.0])
    arm = np.array([0.8, 1.95, 2.85])  # per seed: −0.2, −0.05, −0.15
    d = stats.mean_difference(arm, base)
    assert d.pairing == "paired" and not d.no_spread
    assert d.estimate == pytest.approx(-2 / 15)
    assert d.ci == pytest.approx(_t_ci(arm - base))


def test_unpaired_difference_is_welch():
    arm, base = np.array([0.9, 1.7]), np.array([1.0, 2.0, 3.0])
    d = stats.mean_difference(arm, base)
    assert d.pairing == "unpaired" and d.estimate == pytest.approx(1.3 - 2.0)
    assert d.ci == pytest.approx(_welch_ci(arm, base))
    lo, hi = d.ci
    assert lo < 0 < hi  # seed-to-seed spread (±1) swamps 0.7 once the pairs are lost


def test_identical_per_seed_differences_collapse_the_ci_and_say_so():
    base = np.array([1.0, 2.0, 3.0])
    d = stats.mean_difference(base - 0.1, base)  # the same seeds, each 0.1 lower (up to rounding)
    assert d.pairing == "paired" and d.no_spread
    assert d.ci == pytest.approx((-0.1, -0.1))
    same = stats.mean_difference(base.copy(), base)
    assert same.ci == (0.0, 0.0) and same.no_spread
    assert stats.mean_ci(np.array([4.0, 4.0])) == (4.0, 4.0)


def test_welch_with_one_constant_arm_is_finite_and_quiet():
    arm, base = np.array([1.0, 1.0]), np.array([3.0, 4.0, 5.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # scipy's "precision loss" warning for constant input does not leak
        d = stats.mean_difference(arm, base)
    assert not d.no_spread  # the baseline has a spread
    # one variance is 0: Welch's ν is the other arm's n − 1, so the interval is −3 ± t(0.975, 2) · 1/√3
    assert d.ci == pytest.approx((-3 - student_t.ppf(0.975, 2) / np.sqrt(3), -3 + student_t.ppf(0.975, 2) / np.sqrt(3)))
    both = stats.mean_difference(np.array([1.0, 1.0]), np.array([3.0, 3.0, 3.0]))
    assert both.ci == (-2.0, -2.0) and both.no_spread


def test_relative_difference_of_steps_is_a_t_interval_on_log_ratios():
    arm, base = np.array([80.0, 90.0]), np.array([100.0, 100.0])
    d = stats.relative_difference(arm, base)
    assert d.pairing == "paired"
    assert d.estimate == pytest.approx(np.sqrt(0.8 * 0.9) - 1)  # ratio of the geometric means − 1
    lo, hi = _t_ci(np.log(arm / base))
    assert d.ci == pytest.approx((np.exp(lo) - 1, np.exp(hi) - 1))
    assert d.ci[0] < d.estimate < d.ci[1]
    assert stats.relative_difference(np.array([5.0, 6.0]), np.array([0.0, 10.0])) is None
    assert stats.relative_difference(np.array([0.0, 6.0]), np.array([5.0, 10.0])) is None  # the arm at step 0: no log


def test_unpaired_relative_difference_is_welch_on_log_steps():
    arm, base = np.array([300.0, 360.0]), np.array([400.0, 420.0, 500.0])
    d = stats.relative_difference(arm, base)
    assert d.pairing == "unpaired"
    assert d.estimate == pytest.approx(np.exp(np.log(arm).mean() - np.log(base).mean()) - 1)
    lo, hi = _welch_ci(np.log(arm), np.log(base))
    assert d.ci == pytest.approx((np.expm1(lo), np.expm1(hi)))


# -- coverage: with no true difference, a 95 % CI excludes 0 in about 5 % of experiments ----------

DRAWS = 2000


def _false_detections(draw, compare) -> float:
    hits = 0
    for _ in range(DRAWS):
        d = compare(*draw())
        hits += d.ci is not None and not d.ci[0] <= 0 <= d.ci[1]
    return hits / DRAWS


@pytest.mark.parametrize("n", [2, 3])
def test_paired_null_experiments_are_detected_about_five_percent_of_the_time(n):
    """Seeds differ a lot (σ 0.5) and the arm only by noise (σ 0.05). A percentile bootstrap calls about half of these
    2-seed experiments (a quarter at 3 seeds) a difference: its interval is the range of the per-seed differences."""
    rng = np.random.default_rng(100 + n)

    def draw():
        base = rng.normal(3.0, 0.5, n)
        return base + rng.normal(0.0, 0.05, n), base

    assert 0.02 <= _false_detections(draw, stats.mean_difference) <= 0.08


def test_unpaired_null_experiments_are_detected_about_five_percent_of_the_time():
    rng = np.random.default_rng(7)
    rate = _false_detections(lambda: (rng.normal(3.0, 0.1, 2), rng.normal(3.0, 0.1, 3)), stats.mean_difference)
    assert 0.02 <= rate <= 0.08


def test_relative_null_experiments_are_detected_about_five_percent_of_the_time():
    """Steps to target: log-normal across seeds, the arm's per-seed ratio 1 up to noise."""
    rng = np.random.default_rng(11)

    def draw():
        base = 400 * np.exp(rng.normal(0.0, 0.3, 2))
        return base * np.exp(rng.normal(0.0, 0.1, 2)), base

    assert 0.02 <= _false_detections(draw, stats.relative_difference) <= 0.08
