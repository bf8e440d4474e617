from curate.order.schedules.base import SCHEDULES, Schedule, progress


@SCHEDULES.register("geometric")
def geometric() -> Schedule:
    return Schedule("geometric", "g(t) = b^(1 - t/(aT))", lambda t, T, p: p.start ** (1 - progress(t, T, p)))
