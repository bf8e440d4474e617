"""Verifiers: does a model completion answer a row correctly? One small module per task type.

    from curate.verifiers import verify
    verify("math", "... so she has 1,234 apples. #### 1234", {"answer": "1234"})  # True

A verifier is registered by name in `VERIFIERS` (built-ins: math, choice, exact, regex, code) and
implements `check(completion, reference, row) -> VerifyResult`. Aliases map common task-type
labels (gsm8k, numeric, mcq, python, ...) onto them; a row without a task type gets one inferred
from what it carries (tests → code, choices → choice, a numeric answer → math, else exact).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from curate.verifiers.base import VERIFIERS, Verifier, VerifierPlugin, VerifyResult

ALIASES = {
    "numeric": "math",
    "number": "math",
    "arithmetic": "math",
    "gsm8k": "math",
    "word_problem": "math",
    "mc": "choice",
    "mcq": "choice",
    "multiple_choice": "choice",
    "multiple-choice": "choice",
    "python": "code",
    "mbpp": "code",
    "humaneval": "code",
    "string": "exact",
    "text": "exact",
}

_instances: dict[str, Verifier] = {}


def resolve_task_type(task_type: str | None, row: Mapping[str, Any], answer_field: str = "answer", tests_field: str = "test_list") -> str:
    """The registered verifier name for a row's task type (inferred when missing)."""
    if task_type:
        t = str(task_type).strip().lower()
        return ALIASES.get(t, t)
    if row.get(tests_field):
        return "code"
    if row.get("choices") or row.get("options"):
        return "choice"
    from curate.verifiers.math import extract_reference, parse_number

    ans = row.get(answer_field)
    if ans is not None and parse_number(extract_reference(str(ans)), strict=True) is not None:
        return "math"
    return "exact"


def get_verifier(task_type: str) -> Verifier:
    name = ALIASES.get(task_type, task_type)
    if name not in _instances:
        _instances[name] = VERIFIERS.get(name)()
    return _instances[name]


def reference_of(verifier: Verifier, row: Mapping[str, Any], answer_field: str = "answer", tests_field: str = "test_list") -> Any:
    """The row's reference for this verifier, or None when it has none (the row cannot be verified)."""
    ref = row.get(tests_field if verifier.reference_field == "tests" else answer_field)
    if ref is None or (isinstance(ref, str) and not ref.strip()) or (isinstance(ref, list | tuple) and not ref):
        return None
    return ref


def check(
    task_type: str | None, completion: str, row: Mapping[str, Any], *, answer_field: str = "answer", tests_field: str = "test_list"
) -> VerifyResult:
    """Check one completion against a row; a row without a reference fails with a reason."""
    name = resolve_task_type(task_type, row, answer_field, tests_field)
    v = get_verifier(name)
    ref = reference_of(v, row, answer_field, tests_field)
    if ref is None:
        return VerifyResult(False, reason="no reference")
    return v.check(completion, ref, row)


def verify(task_type: str | None, completion: str, row: Mapping[str, Any], **fields: str) -> bool:
    """True when `completion` answers `row` correctly (see `check` for the reason when not)."""
    return check(task_type, completion, row, **fields).ok


__all__ = [
    "ALIASES",
    "VERIFIERS",
    "VerifyResult",
    "Verifier",
    "VerifierPlugin",
    "check",
    "get_verifier",
    "reference_of",
    "resolve_task_type",
    "verify",
]
