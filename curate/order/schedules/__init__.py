"""Pacing schedules, one small module each, registered by name in `SCHEDULES`."""

from curate.order.schedules.base import SCHEDULES, Drawn, Params, Plan, Schedule, progress

__all__ = ["SCHEDULES", "Drawn", "Params", "Plan", "Schedule", "get_schedule", "progress"]


def get_schedule(name: str) -> Schedule:
    return SCHEDULES.get(name)()
