"""Final-answer extraction and comparison for synthesized problems.

Uses the project's verifiers (`curate.verifiers`) when they are available and falls back to a
small built-in math/exact comparison: `####`, `\\boxed{}`, "the answer is", or the last number;
commas, `$`, `%`, simple fractions and trailing units normalised.
"""

from __future__ import annotations

import re
from fractions import Fraction

_NUM = r"-?\d[\d,]*(?:\.\d+)?(?:/\d+)?"


def extract_final(text: str) -> str:
    """The final answer a solution states (may be '')."""
    if not text:
        return ""
    m = re.findall(r"####\s*(.+)", text)
    if m:
        return m[-1].strip()
    m = re.findall(r"\\boxed\{([^{}]*(?:\{[^{}]*\}[^{}]*)*)\}", text)
    if m:
        return m[-1].strip()
    m = re.findall(r"answer is[:\s]*\$?\s*(" + _NUM + ")", text, flags=re.I)
    if m:
        return m[-1]
    nums = re.findall(_NUM, text)
    return nums[-1] if nums else text.strip().splitlines()[-1].strip() if text.strip() else ""


def _number(s: str) -> Fraction | None:
    s = s.strip().replace("\\$", "").replace("$", "").replace(",", "").replace("\\%", "").rstrip(".")
    s = re.sub(r"\\(d|t)?frac\{(-?\d+)\}\{(\d+)\}", r"\2/\3", s)
    m = re.search(_NUM, s)
    if not m:
        return None
    # Only accept when the number is the whole answer, optionally with a short unit / percent sign.
    rest = (s[: m.start()] + s[m.end() :]).strip().strip("%").strip()
    if len(rest.split()) > 2:
        return None
    try:
        return Fraction(m.group(0).replace(",", ""))
    except (ValueError, ZeroDivisionError):
        return None


def _norm_text(s: str) -> str:
    return re.sub(r"[\s.]+$", "", re.sub(r"\s+", " ", s.strip().lower()))


def answers_match(predicted: str, reference: str) -> bool:
    """True when two final answers agree (numerically when both are numbers)."""
    if not predicted or not reference:
        return False
    a, b = _number(predicted), _number(reference)
    if a is not None and b is not None:
        return abs(a - b) <= Fraction(1, 10**6) * max(1, abs(b))
    return _norm_text(predicted) == _norm_text(reference)


def solution_matches(solution_text: str, reference: str, task: str = "math") -> bool:
    """Does a sampled solution's final answer equal the reference answer?"""
    try:
        from curate.verifiers import verify
    except ImportError:
        verify = None  # type: ignore[assignment]
    if verify is not None and reference:
        return bool(verify(task or "math", solution_text, {"answer": reference}))
    ref = extract_final(reference) if "####" in reference or "\\boxed" in reference else reference
    return answers_match(extract_final(solution_text), ref)
