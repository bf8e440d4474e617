"""Waiting for a quiet machine between timed runs.

A benchmark that keeps both cores busy raises the 1-minute load average towards 2 by itself. Each
timed run therefore starts only once the load average has fallen to `QUIET` (or after `WAIT_MAX`
seconds, and then the run says so), so the load printed beside a figure is what else the machine
was doing, not the benchmark's own previous run.
"""

from __future__ import annotations

import os
import time

QUIET = 1.0  # 1-minute load average a timed run waits for
WAIT_MAX = 240.0  # seconds; a run that starts louder than QUIET is marked by the load printed beside it


def settle(quiet: float = QUIET, wait_max: float = WAIT_MAX) -> float:
    """Sleep until the 1-minute load average is at most `quiet` (at most `wait_max` s); return it."""
    t0 = time.monotonic()
    while os.getloadavg()[0] > quiet and time.monotonic() - t0 < wait_max:
        time.sleep(2.0)
    return os.getloadavg()[0]
