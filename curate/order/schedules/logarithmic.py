import numpy as np

from curate.order.schedules.base import SCHEDULES, Schedule, progress


@SCHEDULES.register("logarithmic")
def logarithmic() -> Schedule:
    return Schedule(
        "logarithmic",
        "g(t) = min(1, b + (1-b)·(1 + ln(t/(aT) + e^(-c))/c)),  c=10",
        lambda t, T, p: p.start + (1 - p.start) * (1 + np.log(progress(t, T, p) + np.exp(-p.c)) / p.c),
    )
