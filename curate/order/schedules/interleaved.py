import numpy as np

from curate.order.materialise import interleave
from curate.order.schedules.base import SCHEDULES, Schedule


@SCHEDULES.register("interleaved")
def interleaved() -> Schedule:
    return Schedule(
        "interleaved",
        "g(t) = 1: round-robin over K equal difficulty bins (easiest bin first), random within a bin",
        lambda t, T, p: np.ones_like(t),
        draw=interleave,
    )
