"""Plain-words verdicts on arm − baseline differences.

A difference is *detected* when its 95 % CI (Student-t across seeds, curate.compare.stats)
excludes 0; its direction is then "better" or "worse" by the metric's direction (fewer steps to
target is always better). A CI that contains 0 is "no difference detectable" with the seeds there
were; without a CI (one run in an arm) nothing is claimed — the single-pair difference is shown
and called what it is.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from curate.compare.stats import Difference

BETTER, WORSE, NONE, NO_CI, NOT_COMPARED = "better", "worse", "no difference detectable", "no CI", "not compared"


def _decimals(estimate: float, ci: tuple[float, float] | None) -> int:
    """Decimals for two significant figures of the CI's width (the precision the data support), at most one more than
    two significant figures of the estimate; without a CI, two significant figures of the estimate."""

    def sig2(x: float) -> int:
        return 1 - math.floor(math.log10(abs(x))) if x else 0

    d = sig2(estimate)
    if ci is not None and ci[1] > ci[0]:
        d = min(sig2(ci[1] - ci[0]), d + 1) if estimate else sig2(ci[1] - ci[0])
    return min(max(d, 0), 8)


def num(x: float, decimals: int | None = None) -> str:
    """A number as a verdict states it: two significant figures unless told the decimals; thousands separated."""
    if decimals is None:
        decimals = 0 if abs(x) >= 100 else _decimals(x, None)
    return f"{x:,.{decimals}f}"


def numbers(estimate: float, ci: tuple[float, float] | None, scale: float = 1.0, signed: bool = False) -> tuple[str, str, str]:
    """Estimate and CI ends with one common number of decimals (scale=100 for percentages)."""
    d = _decimals(estimate * scale, None if ci is None else (ci[0] * scale, ci[1] * scale))
    f = (lambda x: f"{x * scale:+,.{d}f}") if signed else (lambda x: f"{x * scale:,.{d}f}")
    lo, hi = ci if ci is not None else (math.nan, math.nan)
    return f(estimate), f(lo), f(hi)


def finding(d: Difference | None, lower_is_better: bool) -> str:
    if d is None:
        return NOT_COMPARED
    if d.ci is None:
        return NO_CI
    lo, hi = d.ci
    if lo <= 0 <= hi:
        return NONE
    lower = hi < 0
    return BETTER if lower == lower_is_better else WORSE


@dataclass
class Verdict:
    text: str
    findings: dict[str, str] = field(default_factory=dict)  # final / auc / steps_to_target → better | worse | ...


def _seeds(n_arm: int, n_base: int, arm: str, baseline: str) -> str:
    if n_arm == n_base:
        return f"{n_arm} seed{'s' if n_arm != 1 else ''} per arm"
    return f"{n_arm} seeds for {arm}, {n_base} for {baseline}"


def _pairing(how: str) -> str:
    return {"paired": "paired by seed index", "unpaired": "unpaired, Welch's t", "none": "no CI"}[how]


def _value(label: str, d: Difference, f: str, compact: bool) -> str:
    if f in (BETTER, WORSE):
        assert d.ci is not None  # finding() says better or worse only with a CI
        lo, hi = sorted((abs(d.ci[0]), abs(d.ci[1])))
        e, lo_s, hi_s = numbers(abs(d.estimate), (lo, hi))
        return f"{label} {e} {'lower' if d.estimate < 0 else 'higher'} ({f}), 95 % CI [{lo_s}, {hi_s}]"
    if f == NONE:
        e, lo_s, hi_s = numbers(d.estimate, d.ci, signed=True)
        return f"{label} {e}, 95 % CI [{lo_s}, {hi_s}]" if compact else f"{label}: no difference detectable ({e}, 95 % CI [{lo_s}, {hi_s}])"
    e = numbers(d.estimate, None, signed=True)[0]
    return f"{label} {e} (no CI: not evidence either way)"


def _steps(target: float, d: Difference, f: str, means: tuple[float, float], compact: bool) -> str:
    ms = f"geometric means {num(means[0])} vs {num(means[1])} steps"
    if f in (BETTER, WORSE):
        assert d.ci is not None  # finding() says better or worse only with a CI
        lo, hi = sorted((abs(d.ci[0]), abs(d.ci[1])))
        e, lo_s, hi_s = numbers(abs(d.estimate), (lo, hi), scale=100)
        if d.estimate < 0:
            return f"reaches {target:g} in {e} % fewer steps ({ms}), 95 % CI [{lo_s} %, {hi_s} %]"
        return f"needs {e} % more steps to reach {target:g} ({ms}), 95 % CI [{lo_s} %, {hi_s} %]"
    label = f"steps to reach {target:g}"
    if f == NONE:
        e, lo_s, hi_s = numbers(d.estimate, d.ci, scale=100, signed=True)
        body = f"{e} %, {ms}, 95 % CI [{lo_s} %, {hi_s} %]"
        return f"{label} {body}" if compact else f"{label}: no difference detectable ({body})"
    e = numbers(d.estimate, None, scale=100, signed=True)[0]
    return f"{label} {e} % ({ms}; no CI: not evidence either way)"


def verdict(
    *,
    arm: str,
    baseline: str,
    metric: str,
    lower_is_better: bool,
    window: tuple[float, float],
    n_arm: int,
    n_base: int,
    final: Difference,
    auc: Difference,
    steps: Difference | None = None,
    target: float | None = None,
    steps_means: tuple[float, float] | None = None,
    steps_note: str | None = None,
) -> Verdict:
    """One clause per quantity, the detected differences first, then how the runs were paired."""
    found = {"final": finding(final, lower_is_better), "auc": finding(auc, lower_is_better)}
    if target is not None:
        found["steps_to_target"] = NOT_COMPARED if steps is None else finding(steps, lower_is_better=True)
    detected = any(f in (BETTER, WORSE) for f in found.values())
    compact = not detected  # "no difference detectable" is said once, up front

    def clause(key: str) -> str:
        if key == "final":
            return _value(f"final {metric}", final, found[key], compact)
        if key == "auc":
            return _value(f"mean {metric} over steps {num(window[0])}–{num(window[1])}", auc, found[key], compact)
        assert target is not None  # steps_to_target is compared only with a target
        if steps is None:
            return f"steps to reach {target:g} not compared: {steps_note or 'not every run reached it'}"
        return _steps(target, steps, found[key], steps_means or (math.nan, math.nan), compact)

    order = sorted(found, key=lambda k: found[k] not in (BETTER, WORSE))  # stable: detected first
    body = "; ".join(clause(k) for k in order)
    seeds = _seeds(n_arm, n_base, arm, baseline)
    how = final.pairing
    if detected:
        text = f"{body} ({_pairing(how)}, {seeds})"
    elif how == "none":
        single = " and ".join(n for n, k in ((arm, n_arm), (baseline, n_base)) if k < 2)
        text = (
            f"no verdict: {single} {'has' if ' and ' not in single else 'have'} one run, and a confidence interval needs at least two per arm: {body}"
        )
    else:
        text = f"no difference detectable with {seeds}: {body} ({_pairing(how)})"
    return Verdict(text, found)
