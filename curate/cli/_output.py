"""stderr for people (Rich progress, warnings, summaries); stdout carries data only."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any


@lru_cache(maxsize=1)
def err_console() -> Any:
    from rich.console import Console

    return Console(stderr=True, soft_wrap=True)


def progress_enabled() -> bool:
    """Progress bars only when stderr is a terminal (and not in CI)."""
    return sys.stderr.isatty() and not os.environ.get("CI")


class _NullProgress:
    def update(self, advance: int = 0, total: int | None = None) -> None:
        pass


class _RichProgress:
    def __init__(self, progress: Any, task: Any):
        self._p = progress
        self._t = task

    def update(self, advance: int = 0, total: int | None = None) -> None:
        if total is not None:
            self._p.update(self._t, total=total)
        self._p.advance(self._t, advance)


@contextmanager
def progress(description: str, total: int | None = None, unit: str = "rows") -> Iterator[Any]:
    """A Rich progress bar with rate and ETA on stderr, or a silent stand-in."""
    if not progress_enabled():
        yield _NullProgress()
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    cols = [
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.speed:>8.0f} " + unit + "/s"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    ]
    with Progress(*cols, console=err_console(), transient=False) as p:
        task = p.add_task(description, total=total)
        yield _RichProgress(p, task)


def warn(message: str) -> None:
    from rich.markup import escape

    err_console().print(f"[yellow]Warning:[/] {escape(message)}", highlight=False)


def info(message: str) -> None:
    err_console().print(message, highlight=False)


class CliReporter:
    """The run context's reporter on the command line: Rich on stderr, progress only on a terminal."""

    def info(self, message: str) -> None:
        info(message)

    def warn(self, message: str) -> None:
        warn(message)

    def progress(self, description: str, total: int | None = None, unit: str = "rows") -> Any:
        return progress(description, total, unit)


def run_stage(name: str, opts: Any, settings: Any = None) -> Any:
    """Run one stage in a run context that reports here and closes everything at the end."""
    from curate.stages import RunContext, get_stage

    with RunContext(settings, reporter=CliReporter()) as ctx:
        return get_stage(name).run(opts, ctx)
