"""How a failed Ray task or actor call reaches the user (shared by the Ray executor and engine actors)."""

from __future__ import annotations

from typing import Any, NoReturn

from curate.errors import CurateError

RAY_LOGS = "see the Ray logs (/tmp/ray/session_latest/logs on its node)"


def raise_task_error(exc: Any, failed: str | None = None, keep: tuple[type[BaseException], ...] = ()) -> NoReturn:
    """Re-raise a failed Ray task's error for the user.

    A curate error comes through as itself (without the retry advice Ray Data appends), and so do
    the `keep` types; anything else stays `exc`, or becomes "`failed` failed: …" when `failed` is given.
    """
    cause = exc.cause
    if isinstance(cause, CurateError):
        cause.args = (cause.what,)
        raise cause from None
    if isinstance(cause, keep):
        raise cause from None
    if failed is None:
        raise exc
    raise CurateError(f"{failed} failed: {cause!r}", RAY_LOGS) from exc
