"""One place that turns library exceptions into `Error: <what> — <how to fix>` and an exit code."""

from __future__ import annotations

import sys
from typing import Any

from curate.errors import EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_TERMINATED, CurateError, Terminated


def report(exc: CurateError) -> int:
    from curate.cli._output import err_console

    msg = f"[bold red]Error:[/] {escape(exc.what)}"
    if exc.fix:
        msg += f" — {escape(exc.fix)}"
    err_console().print(msg, highlight=False, soft_wrap=True)
    return exc.exit_code


def escape(text: str) -> str:
    from rich.markup import escape as _escape

    return _escape(text)


def _warnings_like_ours(original: Any) -> Any:
    """curate's own library warnings as one `Warning:` line on stderr, like the CLI's; others as Python shows them."""
    import os

    import curate

    home = os.path.dirname(curate.__file__)

    def show(message: Any, category: Any, filename: str, lineno: int, file: Any = None, line: Any = None) -> None:
        if str(filename).startswith(home):
            from curate.cli._output import warn

            warn(str(message))
        else:
            original(message, category, filename, lineno, file, line)

    return show


_terminated: list[bool] = []


def _on_sigterm(signum: int, frame: Any) -> None:
    import signal

    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # one is enough: let the cleanup finish (SIGKILL still stops it)
    _terminated.append(True)
    raise Terminated()


def _exit_terminated() -> None:
    sys.stderr.write("Terminated.\n")
    sys.exit(EXIT_TERMINATED)


def run_app(app: Any) -> None:
    """Run the Typer app; library errors become one clean line on stderr, never a traceback.

    SIGTERM raises `Terminated` (a KeyboardInterrupt) in the main thread, so temporary files and
    half-written outputs are removed exactly as on Ctrl-C.
    """
    import signal
    import warnings

    warnings.showwarning = _warnings_like_ours(warnings.showwarning)
    signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        rc = app(standalone_mode=False)  # Typer turns an interrupt into exit code 130 once it has unwound
        if _terminated:
            _exit_terminated()
        sys.exit(rc if isinstance(rc, int) else 0)
    except CurateError as exc:
        sys.exit(report(exc))
    except Terminated:
        _exit_terminated()
    except KeyboardInterrupt:
        sys.stderr.write("Interrupted.\n")
        sys.exit(EXIT_INTERRUPTED)
    except BrokenPipeError:
        sys.exit(0)
    except SystemExit:
        raise
    except Exception as exc:  # Typer/Click usage errors and the unexpected
        name = type(exc).__name__
        if hasattr(exc, "show") and hasattr(exc, "exit_code"):  # a usage error from the parser
            exc.show()
            sys.exit(exc.exit_code)
        if name == "Abort":
            sys.stderr.write("Aborted.\n")
            sys.exit(1)
        import traceback

        sys.stderr.write(f"Error: internal failure ({name}: {exc}) — please report it with the command you ran.\n")
        if __import__("os").environ.get("CURATE_DEBUG"):
            traceback.print_exc()
        sys.exit(EXIT_FAILURE)


def handle(fn: Any) -> Any:
    """Decorator for command bodies so CliRunner tests see the same clean errors as the console script."""
    import functools

    import typer

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except CurateError as exc:
            raise typer.Exit(report(exc)) from None

    return wrapper
