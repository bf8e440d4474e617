"""Math / numeric answers: read the final answer and compare it as a number (or normalised text).

Where the answer is read from, first match wins: the text after the first `####` (GSM8K style),
the last `\\boxed{...}`, a phrase like "the answer is ...", else the last number in the text.
Normalisation: thousands commas, `$`, `%`, units and trailing words, LaTeX (`\\frac{a}{b}`,
`\\dfrac`, `\\text{}`, `\\left(`, `^\\circ`), plain fractions `a/b` and mixed numbers; numbers are
compared with a relative tolerance of 1e-6.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

from curate.verifiers.base import VERIFIERS, Verifier, VerifyResult

_NUM = r"-?\d+ \d+/\d+(?![\d/])|-?\d[\d,]*(?:\.\d+)?(?:/\d+)?|-?\.\d+"
_NUM_RE = re.compile(_NUM)
_ANSWER_PHRASE = re.compile(r"(?:final answer|the answer|answer)\s*(?:is|:|=)?\s*[:=]?\s*(.+)", re.I)


def _last_boxed(text: str) -> str | None:
    i = text.rfind("\\boxed")
    if i < 0:
        i = text.rfind("\\fbox")
        if i < 0:
            return None
    j = text.find("{", i)
    if j < 0:
        return None
    depth = 0
    for pos in range(j, len(text)):
        if text[pos] == "{":
            depth += 1
        elif text[pos] == "}":
            depth -= 1
            if depth == 0:
                return text[j + 1 : pos]
    return None


def _strip_latex(s: str) -> str:
    s = re.sub(r"\\[dt]?frac\s*\{([^{}]*)\}\s*\{([^{}]*)\}", r"(\1)/(\2)", s)
    s = re.sub(r"\\(?:text|mathrm|mathbf|textbf|operatorname)\s*\{([^{}]*)\}", r"\1", s)
    s = re.sub(r"\^\s*\{?\\circ\}?", "", s)
    s = s.replace("\\left", "").replace("\\right", "").replace("\\!", "").replace("\\,", "").replace("\\%", "%")
    s = s.replace("\\$", "$").replace("\\cdot", "*").replace("\\times", "*")
    return s.strip().strip("$").strip()


def extract_answer(text: str) -> str | None:
    """The final-answer span of a completion (before number parsing)."""
    if "####" in text:  # the first marked answer: a small model may ramble on into new questions
        for part in text.split("####")[1:]:
            tail = part.strip()
            if tail:
                return tail.splitlines()[0].strip()
    boxed = _last_boxed(text)
    if boxed is not None:
        return boxed.strip()
    spans = [m.group(1).strip() for m in _ANSWER_PHRASE.finditer(text)]
    spans = [s for s in spans if s]  # "The answer is" with nothing after it says nothing
    if spans:
        span = spans[-1].splitlines()[0]
        if _NUM_RE.search(_strip_latex(span)):
            return span
    nums = _NUM_RE.findall(_strip_latex(text))
    return nums[-1] if nums else None


def extract_reference(ref: str) -> str:
    """A reference answer may be a whole worked solution (GSM8K): keep its final answer."""
    ref = str(ref).strip()
    if "####" in ref or "\\boxed" in ref:
        return extract_answer(ref) or ref
    return ref


def parse_number(span: str | None, strict: bool = False) -> Fraction | float | None:
    """A number from an answer span: '1,234', '$5.50', '3/4', '\\frac{3}{4}', '2 1/2', '45%', '12 cm'.

    `strict`: the span must be just a number with units or words around it, no other digits or
    operators ('x^2+1' is not a number then; used for reference answers).
    """
    if span is None:
        return None
    s = _strip_latex(str(span))
    s = s.replace("(", "").replace(")", "").replace("$", "").replace("€", "").replace("£", "")
    s = s.strip().rstrip(".").strip()
    m = re.match(r"^\s*(-?\d+)\s+(\d+)\s*/\s*(\d+)", s)  # mixed number
    if m:
        whole, num, den = int(m.group(1)), int(m.group(2)), int(m.group(3))
        if den:
            f = Fraction(num, den)
            return whole - f if whole < 0 else whole + f
    m = re.search(r"-?\d[\d,]*(?:\.\d+)?(?:\s*/\s*-?\d+(?:\.\d+)?)?|-?\.\d+", s)
    if not m:
        return None
    if strict and (re.search(r"[\d^+*=<>]", s[: m.start()].replace("-", "")) or re.search(r"[\d^+*/=<>-]", s[m.end() :])):
        return None
    tok = m.group(0).replace(",", "").replace(" ", "")
    try:
        if "/" in tok:
            a, b = tok.split("/")
            val: Fraction | float = Fraction(a) / Fraction(b) if float(b) != 0 else float("nan")
        else:
            val = Fraction(tok)
    except (ValueError, ZeroDivisionError):
        return None
    return val


def numbers_equal(a: Fraction | float, b: Fraction | float, rel: float = 1e-6) -> bool:
    fa, fb = float(a), float(b)
    return abs(fa - fb) <= rel * max(1.0, abs(fa), abs(fb))


def _norm_text(s: str) -> str:
    return re.sub(r"\s+", "", _strip_latex(s)).lower().rstrip(".")


@VERIFIERS.register("math")
class MathVerifier(Verifier):
    name = "math"

    def check(self, completion: str, reference: Any, row: Mapping[str, Any]) -> VerifyResult:
        got = extract_answer(completion or "")
        if got is None:
            return VerifyResult(False, None, "no answer found")
        ref = extract_reference(str(reference))
        rn, gn = parse_number(ref, strict=True), parse_number(got)
        if rn is not None:
            if gn is None:
                return VerifyResult(False, got, "answer is not a number")
            ok = numbers_equal(rn, gn)
            return VerifyResult(ok, got, "" if ok else "wrong value")
        ok = _norm_text(got) == _norm_text(ref)
        return VerifyResult(ok, got, "" if ok else "wrong answer")
