import numpy as np

from curate.order.schedules.base import SCHEDULES, Schedule, progress


@SCHEDULES.register("step")
def step() -> Schedule:
    return Schedule(
        "step", "g(t) = min(1, b + ⌊t/(aT)·K⌋/K)  (K baby steps)", lambda t, T, p: p.start + np.floor(progress(t, T, p) * p.k + 1e-9) / p.k
    )
