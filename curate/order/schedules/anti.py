from curate.order.materialise import paced
from curate.order.schedules.base import SCHEDULES, Schedule
from curate.order.schedules.linear import linear


@SCHEDULES.register("anti")
def anti() -> Schedule:
    return Schedule(
        "anti",
        "linear g(t) over the hardest-first order: step t draws from the hardest ⌈g(t)·N⌉",
        linear().pace,
        draw=lambda plan: paced(plan, reverse=True),
    )
