"""Exact and regex answers.

`exact`: the final answer (after `####`, "answer is", or the last non-empty line) equals the
reference after case-folding and collapsing whitespace and surrounding punctuation; a list of
references accepts any of them. `regex`: the reference is a pattern searched in the completion
(case-insensitive).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from curate.verifiers import VERIFIERS, Verifier, VerifyResult

_PHRASE = re.compile(r"(?:final answer|the answer|answer)\s*(?:is|:)\s*:?\s*(.+)", re.I)


def normalise(s: str) -> str:
    s = re.sub(r"\s+", " ", str(s)).strip().casefold()
    return s.strip(" .,;:!?\"'`*()[]")


def final_span(text: str) -> str:
    if "####" in text:
        return text.rsplit("####", 1)[1].strip().split("\n")[0]
    m = list(_PHRASE.finditer(text))
    if m:
        return m[-1].group(1).split("\n")[0]
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1] if lines else ""


@VERIFIERS.register("exact")
class ExactVerifier(Verifier):
    name = "exact"

    def check(self, completion: str, reference: Any, row: Mapping[str, Any]) -> VerifyResult:
        refs = reference if isinstance(reference, list | tuple) else [reference]
        wanted = {normalise(r) for r in refs}
        got = final_span(completion or "")
        ok = normalise(got) in wanted or normalise(completion or "") in wanted
        return VerifyResult(ok, got, "" if ok else "wrong answer")


@VERIFIERS.register("regex")
class RegexVerifier(Verifier):
    name = "regex"

    def check(self, completion: str, reference: Any, row: Mapping[str, Any]) -> VerifyResult:
        try:
            m = re.search(str(reference), completion or "", re.I | re.S)
        except re.error as exc:
            return VerifyResult(False, None, f"bad pattern: {exc}")
        return VerifyResult(m is not None, m.group(0) if m else None, "" if m else "no match")
