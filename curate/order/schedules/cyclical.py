import numpy as np

from curate.order.schedules.base import SCHEDULES, Schedule


def _pace(t, T, p):
    x = t * p.k / T
    phase = x - np.ceil(x - 1e-9) + 1  # position inside the current cycle, in (0, 1]
    return p.start + (1 - p.start) * phase


@SCHEDULES.register("cyclical")
def cyclical() -> Schedule:
    return Schedule("cyclical", "g(t) = b + (1-b)·phase(t·K/T), phase ∈ (0,1]: K cycles from b up to all data", _pace)
