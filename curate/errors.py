"""Library exceptions. The CLI turns each into `Error: <what> — <how to fix>` and an exit code."""

from __future__ import annotations

import errno as _errno

# Exit codes (documented in the README).
EXIT_OK = 0
EXIT_FAILURE = 1  # unexpected internal failure
EXIT_USAGE = 2  # bad flags or arguments
EXIT_INPUT = 3  # input cannot be read or lacks a required column
EXIT_REJECTS = 4  # --max-reject-rate exceeded (output still written)
EXIT_ENGINE = 5  # model engine missing, failing or unreachable
EXIT_VERIFY = 6  # `curate verify` found a missing, truncated or altered shard, or an inconsistent manifest
EXIT_OUTPUT = 7  # an output could not be written (read-only, full, no permission); earlier output is kept
EXIT_INTERRUPTED = 130  # Ctrl-C (SIGINT); temporary files removed
EXIT_TERMINATED = 143  # SIGTERM; temporary files removed, as for Ctrl-C


class CurateError(Exception):
    """A user-facing failure: what went wrong and how to fix it."""

    exit_code = EXIT_FAILURE

    def __init__(self, what: str, fix: str | None = None):
        super().__init__(what)
        self.what = what
        self.fix = fix

    def __str__(self) -> str:
        return f"{self.what} — {self.fix}" if self.fix else self.what


class UsageError(CurateError):
    exit_code = EXIT_USAGE


class InputError(CurateError):
    exit_code = EXIT_INPUT


class RejectRateExceeded(CurateError):
    exit_code = EXIT_REJECTS


class EngineError(CurateError):
    exit_code = EXIT_ENGINE


class VerifyError(CurateError):
    exit_code = EXIT_VERIFY


class OutputError(CurateError):
    exit_code = EXIT_OUTPUT


# errno values that mean "this location cannot take the output" (not a bug, not bad input).
WRITE_ERRNOS = frozenset({_errno.EACCES, _errno.EPERM, _errno.EROFS, _errno.ENOSPC, _errno.EDQUOT, _errno.EFBIG, _errno.ENOTDIR, _errno.EISDIR})


def output_error(path: object, exc: OSError) -> OutputError:
    """An OSError met while writing `path`, as a clear error (exit 7) naming the path and the reason."""
    import os

    reason = os.strerror(exc.errno) if exc.errno else str(exc)
    return OutputError(
        f"cannot write '{path}': {reason}", "check that the location exists, is writable and has free space; any earlier output there is unchanged"
    )


def is_write_failure(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno in WRITE_ERRNOS


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread so that cleanup runs exactly as for Ctrl-C."""


class MissingDependency(CurateError):
    exit_code = EXIT_USAGE

    def __init__(self, package: str, install: str, purpose: str):
        super().__init__(f"{purpose} needs the '{package}' package, which is not installed", f"install it with: {install}")


def require(module: str, install: str, purpose: str):
    """Import an optional module or raise MissingDependency saying what to install."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - depends on environment
        raise MissingDependency(module, install, purpose) from exc
