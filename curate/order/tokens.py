"""`--token-budget START:END`: a per-step generation budget that decays over the run (Train Long, Think Short).

B(t) = END + (START − END)·d(u), u = t / (T − 1) for the 0-based step t of T (u = 0 when T = 1),
with d(u) = 1 − u (`linear`) or (1 + cos πu) / 2 (`cosine`); rounded to whole tokens and written
as `curriculum_max_new_tokens` on every row of the step, so an RL trainer can cap its rollouts.
"""

from __future__ import annotations

import math

import numpy as np

from curate.errors import UsageError

DECAYS = ("linear", "cosine")


def parse_budget(spec: str) -> tuple[int, int]:
    start, sep, end = str(spec).partition(":")
    try:
        a, b = int(start), int(end)
    except ValueError:
        raise UsageError(f"--token-budget {spec!r}: expected START:END in whole tokens (e.g. 4096:1024)") from None
    if not sep or a < 1 or b < 1:
        raise UsageError(f"--token-budget {spec!r}: START and END must be at least 1 token")
    return a, b


def token_budget(spec: str, decay: str, steps: int) -> np.ndarray:
    """B(t) for t = 0…steps−1 (see the module docstring)."""
    if decay not in DECAYS:
        raise UsageError(f"--token-decay must be one of {', '.join(DECAYS)} (got {decay!r})")
    start, end = parse_budget(spec)
    u = np.arange(steps, dtype=np.float64) / max(1, steps - 1)
    d = 1 - u if decay == "linear" else (1 + np.cos(math.pi * u)) / 2
    return np.rint(end + (start - end) * d).astype(np.int64)
