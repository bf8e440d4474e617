"""Answer checks for synthesized problems, through the project's verifiers (`curate.verifiers`)."""

from __future__ import annotations


def reference_answer(answer: str) -> str:
    """The final answer of a reference: GSM8K-style `... #### 42` and `\\boxed{42}` reduce to `42`."""
    from curate.verifiers.math import extract_reference

    return extract_reference(answer) if ("####" in answer or "\\boxed" in answer) else answer


def solution_matches(solution_text: str, reference: str, task: str = "math") -> bool:
    """Does a sampled solution's final answer equal the reference answer (by the task's verifier)?"""
    if not reference:
        return False
    from curate.verifiers import verify

    return bool(verify(task or "math", solution_text, {"answer": reference}))
