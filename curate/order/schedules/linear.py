from curate.order.schedules.base import SCHEDULES, Schedule, progress


@SCHEDULES.register("linear")
def linear() -> Schedule:
    return Schedule("linear", "g(t) = min(1, b + (1-b)·t/(aT))", lambda t, T, p: p.start + (1 - p.start) * progress(t, T, p))
