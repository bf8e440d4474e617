import numpy as np

from curate.order.materialise import warmup_then_shuffle
from curate.order.schedules.base import SCHEDULES, Schedule


@SCHEDULES.register("warmup")
def warmup() -> Schedule:
    return Schedule(
        "warmup",
        "first W of the budget in easiest → hardest order (g(t) = t·B/N), then g(t) = 1: uniform shuffle of the rest",
        lambda t, T, p: np.ones_like(t),
        draw=warmup_then_shuffle,
    )
