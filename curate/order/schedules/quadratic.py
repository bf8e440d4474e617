from curate.order.schedules.base import SCHEDULES, Schedule, progress


@SCHEDULES.register("quadratic")
def quadratic() -> Schedule:
    return Schedule("quadratic", "g(t) = min(1, b + (1-b)·(t/(aT))²)", lambda t, T, p: p.start + (1 - p.start) * progress(t, T, p) ** 2)
