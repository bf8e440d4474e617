import numpy as np

from curate.order.schedules.base import SCHEDULES, Schedule


@SCHEDULES.register("random")
def random_() -> Schedule:
    return Schedule("random", "g(t) = 1: uniform order, without replacement per pass", lambda t, T, p: np.ones_like(t))
