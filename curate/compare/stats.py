"""Curve statistics per run and Student-t confidence intervals across seeds.

- Common window: from the latest first step to the earliest last step over every run of every
  arm (the intersection of their step ranges). Every run covers it, so no curve is extrapolated.
- Grid: every step any run logged inside the window, plus its two ends. Each run is linearly
  interpolated onto it (numpy.interp); the trapezoid rule on that grid integrates the piecewise-
  linear curves exactly.
- AUC: the area under the curve over the window divided by the window's width — the curve's mean
  over the window, on the metric's own scale (so a difference reads like a difference in loss).
- Final: the value at the window's end (a run's last logged value when all runs end together).
- Steps to target: over the run's own range, the first step at which the curve reaches the target
  (≤ for lower-is-better, ≥ otherwise), interpolated between the two logged steps around it;
  None when the run never reaches it.
- Confidence intervals: Student-t, from scipy.stats. The mean of an arm: `ttest_1samp(x, 0)`'s
  interval. A difference paired by seed: the same on the per-seed differences. Unpaired (unequal
  seed counts): Welch's interval, `ttest_ind(a, b, equal_var=False)`. A relative change in steps
  to target: the same intervals on log steps (per-pair log ratios when paired), back-transformed
  with exp(·) − 1; its estimate is then the ratio of the geometric means − 1, the back-transformed
  centre of that interval, so the estimate always lies inside its CI.
  Why not a bootstrap: with 2–5 seeds a bootstrap's interval is at most the range of the values
  (with 2 seeds, exactly [min, max]), so a difference with no true effect is "detected" whenever
  every seed's difference has the same sign: 50 % of the time with 2 seeds, 25 % with 3. The
  t-interval widens by the t quantile instead (12.7 standard errors with 2 seeds, 4.3 with 3) and
  keeps its 95 % coverage at these sizes when the seeds' values scatter normally.
- No spread: when every value (every per-seed difference; for Welch, every run of both arms) is
  the same, the interval degenerates to that one value — the limit of the t-interval as the spread
  goes to 0 — and `Difference.no_spread` says so, for the caller to report. One run in an arm: no
  CI.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from curate.compare.readers import Series
from curate.errors import InputError

CONFIDENCE = 0.95


@dataclass(frozen=True)
class Window:
    start: float
    end: float
    grid: np.ndarray


def common_window(runs: dict[str, list[Series]]) -> Window:
    """The intersection of every run's step range and the union of their steps inside it."""
    every = [s for series in runs.values() for s in series]
    start = max(s.first_step for s in every)
    end = min(s.last_step for s in every)
    if start >= end:
        late = max(every, key=lambda s: s.first_step)
        early = min(every, key=lambda s: s.last_step)
        raise InputError(
            f"the runs share no step range: {late.file} starts at step {late.first_step:g}, {early.file} ends at step {early.last_step:g}",
            "compare runs that evaluated over overlapping steps",
        )
    inside = [s.steps[(s.steps > start) & (s.steps < end)] for s in every]
    grid = np.unique(np.concatenate([[start, end], *inside]))
    return Window(start, end, grid)


def on_grid(series: Series, grid: np.ndarray) -> np.ndarray:
    return np.interp(grid, series.steps, series.values)


def auc(series: Series, window: Window) -> float:
    """Mean of the interpolated curve over the window (area / width)."""
    return float(np.trapezoid(on_grid(series, window.grid), window.grid) / (window.end - window.start))


def final(series: Series, window: Window) -> float:
    return float(np.interp(window.end, series.steps, series.values))


def steps_to_target(series: Series, target: float, lower_is_better: bool) -> float | None:
    """First (interpolated) step at which the curve reaches the target, or None."""
    v, s = series.values, series.steps
    hit = v <= target if lower_is_better else v >= target
    if not hit.any():
        return None
    j = int(np.argmax(hit))
    if j == 0:
        return float(s[0])
    frac = (target - v[j - 1]) / (v[j] - v[j - 1])
    return float(s[j - 1] + frac * (s[j] - s[j - 1]))


# -- confidence intervals -----------------------------------------------------------------------

# Values that agree to this relative precision count as identical: floating-point noise from the
# subtraction of equal curves is not a spread to build an interval on.
_SAME = 1e-12


def no_spread(x: np.ndarray) -> bool:
    """Every value is the same (to floating-point precision)."""
    x = np.asarray(x, dtype=np.float64)
    return bool(np.ptp(x) <= _SAME * np.max(np.abs(x)))


def _t_interval(x: np.ndarray, level: float) -> tuple[float, float]:
    """Student-t interval of the mean of x (n ≥ 2); the point itself when x has no spread."""
    if no_spread(x):
        m = float(np.mean(x))
        return m, m
    from scipy.stats import ttest_1samp

    ci = ttest_1samp(x, 0.0).confidence_interval(confidence_level=level)
    return float(ci.low), float(ci.high)


def _welch_interval(a: np.ndarray, b: np.ndarray, level: float) -> tuple[float, float]:
    """Welch's interval of mean(a) − mean(b) (each n ≥ 2); the point itself when neither has a spread."""
    if no_spread(a) and no_spread(b):
        d = float(np.mean(a) - np.mean(b))
        return d, d
    import warnings

    from scipy.stats import ttest_ind

    with warnings.catch_warnings():
        # One arm without spread is a variance of exactly 0, which Welch's formula handles; scipy still
        # warns of "precision loss" for constant input.
        warnings.filterwarnings("ignore", "Precision loss occurred in moment calculation", RuntimeWarning)
        ci = ttest_ind(a, b, equal_var=False).confidence_interval(confidence_level=level)
    return float(ci.low), float(ci.high)


def mean_ci(x: np.ndarray, level: float = CONFIDENCE) -> tuple[float, float] | None:
    """Student-t CI of the mean across runs; None with fewer than two runs."""
    x = np.asarray(x, dtype=np.float64)
    if len(x) < 2:
        return None
    return _t_interval(x, level)


@dataclass(frozen=True)
class Difference:
    estimate: float
    ci: tuple[float, float] | None
    pairing: str  # "paired" | "unpaired" | "none"
    no_spread: bool = False  # the CI is one value: every per-seed difference (unpaired: every run of each arm) is the same


def pairing(n_arm: int, n_base: int) -> str:
    """paired by seed index when both arms have the same number of runs (≥ 2); unpaired (Welch) otherwise."""
    if n_arm < 2 or n_base < 2:
        return "none"
    return "paired" if n_arm == n_base else "unpaired"


def _difference(a: np.ndarray, b: np.ndarray, level: float) -> Difference:
    """mean(a) − mean(b): a t-interval of the per-seed differences when paired, Welch's when not."""
    est = float(np.mean(a) - np.mean(b))
    how = pairing(len(a), len(b))
    if how == "none":
        return Difference(est, None, how)
    if how == "paired":
        return Difference(est, _t_interval(a - b, level), how, no_spread(a - b))
    return Difference(est, _welch_interval(a, b, level), how, no_spread(a) and no_spread(b))


def mean_difference(arm: np.ndarray, base: np.ndarray, level: float = CONFIDENCE) -> Difference:
    """mean(arm) − mean(base) with a Student-t CI: paired by seed index when the counts match, Welch's otherwise."""
    return _difference(np.asarray(arm, dtype=np.float64), np.asarray(base, dtype=np.float64), level)


def relative_difference(arm: np.ndarray, base: np.ndarray, level: float = CONFIDENCE) -> Difference | None:
    """gmean(arm) / gmean(base) − 1, with the t-interval (paired or Welch) of the log values back-transformed.

    None when a value is not positive (a ratio to a step ≤ 0, or its logarithm, means nothing).
    """
    a, b = np.asarray(arm, dtype=np.float64), np.asarray(base, dtype=np.float64)
    if np.any(a <= 0) or np.any(b <= 0):
        return None
    d = _difference(np.log(a), np.log(b), level)
    ci = None if d.ci is None else (float(np.expm1(d.ci[0])), float(np.expm1(d.ci[1])))
    return Difference(float(np.expm1(d.estimate)), ci, d.pairing, d.no_spread)
