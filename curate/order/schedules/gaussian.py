import numpy as np

from curate.order.materialise import moving_target
from curate.order.schedules.base import SCHEDULES, Schedule


@SCHEDULES.register("gaussian")
def gaussian() -> Schedule:
    return Schedule(
        "gaussian",
        "target quantile μ(t) = t/T moves easy → hard; row with quantile q is read at q + σ·ε, ε ~ N(0,1)",
        lambda t, T, p: np.clip(t / T, 0, 1),
        draw=moving_target,
    )
