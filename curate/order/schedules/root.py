from curate.order.schedules.base import SCHEDULES, Schedule, progress


def _pace(t, T, p):
    c0p = p.start**p.p
    return (progress(t, T, p) * (1 - c0p) + c0p) ** (1 / p.p)


@SCHEDULES.register("root")
def root() -> Schedule:
    return Schedule("root", "g(t) = min(1, (t/(aT)·(1-b^p) + b^p)^(1/p))  (competence, p=2: sqrt)", _pace)
