import numpy as np

from curate.order.schedules.base import SCHEDULES, Schedule, progress


@SCHEDULES.register("exponential")
def exponential() -> Schedule:
    return Schedule(
        "exponential",
        "g(t) = b + (1-b)·(e^(c·t/(aT)) - 1)/(e^c - 1),  c=10",
        lambda t, T, p: p.start + (1 - p.start) * np.expm1(p.c * progress(t, T, p)) / np.expm1(p.c),
    )
