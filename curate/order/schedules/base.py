"""The schedule protocol: a pacing function g(t) plus how rows are drawn under it.

A schedule is registered by name in `SCHEDULES`, exactly as an extension would register one:

    @SCHEDULES.register("linear")
    def linear() -> Schedule:
        return Schedule("linear", "min(1, b + (1-b)·t/(aT))", pace=lambda t, T, p: ...)

Conventions (REFERENCE.md §2): N rows sorted easiest first; T steps; t = steps completed including
the current one (1…T), so with a = 1 the last step sees all data; b = start fraction (`--start`),
a = fraction of the budget at which all data is available (`--full-at`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from curate.registry import Registry

BUILTIN = (
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
)

SCHEDULES: Registry[Callable[[], Schedule]] = Registry("schedules", tuple(f"curate.order.schedules.{m}" for m in BUILTIN))


@dataclass(frozen=True)
class Params:
    """Schedule parameters (all have CLI flags)."""

    start: float = 0.1  # b: fraction of the sorted data available at the first step
    full_at: float = 1.0  # a: fraction of the budget after which all data is available
    k: int = 5  # K: baby steps (step), bins (interleaved), cycles (cyclical)
    warmup: float = 0.2  # W: fraction of the budget read in curriculum order (warmup)
    p: float = 2.0  # p of the p-root competence function (root)
    sigma: float = 0.1  # width of the moving target, in difficulty quantiles (gaussian)
    c: float = 10.0  # steepness of exponential / logarithmic


@dataclass
class Plan:
    """What a schedule's `draw` receives: sizes, parameters, the pacing values and a seeded RNG."""

    n: int  # rows available (N)
    samples: int  # rows to emit (S)
    steps: int  # T
    batch_size: int  # B (the last step may be shorter)
    params: Params
    rng: np.random.Generator
    pace: np.ndarray  # g(t) for t = 1…T
    exhausted: str = "widen"  # widen | repeat (see materialise.paced)

    def step_sizes(self) -> np.ndarray:
        sizes = np.full(self.steps, self.batch_size, dtype=np.int64)
        sizes[-1] = self.samples - self.batch_size * (self.steps - 1)
        return sizes


@dataclass
class Drawn:
    """A schedule's result: sorted-order ranks in training order, and the fraction recorded per step."""

    ranks: np.ndarray  # int64, length S: index into the easiest-first order
    fraction: np.ndarray  # float64, length T: the pool each step drew from (curriculum_fraction)


PaceFn = Callable[[np.ndarray, int, Params], np.ndarray]
DrawFn = Callable[[Plan], Drawn]


@runtime_checkable
class SchedulePlugin(Protocol):
    """What a `SCHEDULES` factory returns: a name, a formula for people, and the pacing g(t).

    Optional hook: `draw(plan) -> Drawn` replaces the default paced draw (the easiest ⌈g(t)·N⌉
    rows at step t) for schedules that order rows another way (warmup, interleaved, gaussian...).
    Parameters are the shared, typed `Params` (one CLI flag each).
    """

    name: str
    formula: str
    draw: DrawFn | None

    def pacing(self, steps: int, params: Params) -> np.ndarray: ...


@dataclass(frozen=True)
class Schedule:
    name: str
    formula: str
    pace: PaceFn
    draw: DrawFn | None = None  # default: paced draws from the easiest ⌈g(t)·N⌉ (materialise.paced)

    def pacing(self, steps: int, params: Params) -> np.ndarray:
        """g(t) for t = 1…T, clipped to (0, 1]."""
        t = np.arange(1, steps + 1, dtype=np.float64)
        g = np.asarray(self.pace(t, steps, params), dtype=np.float64)
        return np.clip(g, 1e-12, 1.0)


def progress(t: np.ndarray, steps: int, params: Params) -> np.ndarray:
    """u = t / (aT), clipped to [0, 1]."""
    return np.clip(t / (params.full_at * steps), 0.0, 1.0)
