"""Library exceptions. The CLI turns each into `Error: <what> — <how to fix>` and an exit code."""

from __future__ import annotations

# Exit codes (documented in the README).
EXIT_OK = 0
EXIT_FAILURE = 1  # unexpected internal failure
EXIT_USAGE = 2  # bad flags or arguments
EXIT_INPUT = 3  # input cannot be read or lacks a required column
EXIT_REJECTS = 4  # --max-reject-rate exceeded (output still written)
EXIT_ENGINE = 5  # model engine missing, failing or unreachable
EXIT_VERIFY = 6  # `curate verify` found a missing, truncated or altered shard, or an inconsistent manifest


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
