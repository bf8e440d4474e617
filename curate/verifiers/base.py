"""The verifier protocol and its registry: does a completion answer a row correctly?"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, runtime_checkable

from curate.registry import Registry


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    extracted: str | None = None  # what was read from the completion (answer, letter, code)
    reason: str = ""  # why it failed, when it did


@runtime_checkable
class VerifierPlugin(Protocol):
    """What `VERIFIERS` holds: a class with a `name` and `check(completion, reference, row)`.

    Optional hooks (read with getattr): `reference_field` ("answer", the default, or "tests": which
    row field holds the reference); `timeout` and `memory_mb` for verifiers that run code;
    `unavailable() -> str | None`: why the verifier cannot run on this machine (what to install).
    """

    name: ClassVar[str]

    def check(self, completion: str, reference: Any, row: Mapping[str, Any]) -> VerifyResult: ...


class Verifier:
    """Base class: set `name`, implement `check`. `reference_field` says where the reference lives."""

    name: ClassVar[str]
    reference_field: ClassVar[str] = "answer"  # "answer" or "tests"

    def check(self, completion: str, reference: Any, row: Mapping[str, Any]) -> VerifyResult:
        raise NotImplementedError

    def unavailable(self) -> str | None:
        """Why this verifier cannot run on this machine (what to install), or None when it can."""
        return None


VERIFIERS: Registry[type[Verifier]] = Registry(
    "verifiers",
    builtin_modules=(
        "curate.verifiers.math",
        "curate.verifiers.choice",
        "curate.verifiers.exact",
        "curate.verifiers.code",
    ),
)
