"""Multiple choice: the completion names a letter (A–J) or quotes one option's text.

The reference is a letter ("B"), an index (1 → B when the row's options are 0-based), or the text
of the correct option. Options come from the row's `choices` or `options` field (a list, or a
dict letter → text). Letter patterns, in order: "answer is (B)", "answer: B", a lone "(B)"/"B)"
/"B." at the start of a line, a lone capital letter as the whole reply; then option text.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from typing import Any

from curate.verifiers import VERIFIERS, Verifier, VerifyResult

LETTERS = string.ascii_uppercase[:10]
_PATTERNS = [
    re.compile(r"answer\s*(?:is|:)?\s*:?\s*\(?\b([A-J])\b\)?", re.I),
    re.compile(r"^\s*\(?([A-J])[\).:]", re.M),
    re.compile(r"\(([A-J])\)"),
    re.compile(r"^\s*([A-J])\s*$", re.M),
]


def _options(row: Mapping[str, Any]) -> dict[str, str]:
    opts = row.get("choices") or row.get("options")
    if isinstance(opts, Mapping):
        return {str(k).strip().upper(): str(v) for k, v in opts.items()}
    if isinstance(opts, list | tuple):
        return {LETTERS[i]: str(v) for i, v in enumerate(opts[: len(LETTERS)])}
    return {}


def _norm(s: str) -> str:
    return re.sub(r"[\W_]+", " ", s).strip().lower()


def reference_letter(reference: Any, options: dict[str, str]) -> str | None:
    if isinstance(reference, int) and not isinstance(reference, bool):
        return LETTERS[reference] if 0 <= reference < len(LETTERS) else None
    ref = str(reference).strip()
    m = re.fullmatch(r"\(?([A-Ja-j])\)?\.?", ref)
    if m:
        return m.group(1).upper()
    if ref.isdigit() and options:
        i = int(ref)
        return LETTERS[i] if 0 <= i < len(options) else None
    for letter, text in options.items():
        if _norm(text) == _norm(ref):
            return letter
    return None


def extract_letter(completion: str, options: dict[str, str]) -> str | None:
    allowed = set(options) if options else set(LETTERS)
    for pat in _PATTERNS:
        hits = [m.group(1).upper() for m in pat.finditer(completion)]
        hits = [h for h in hits if h in allowed]
        if hits:
            return hits[0] if pat is _PATTERNS[0] else hits[-1]
    if options:  # exactly one option's text quoted
        c = _norm(completion)
        named = [letter for letter, text in options.items() if _norm(text) and re.search(rf"\b{re.escape(_norm(text))}\b", c)]
        if len(named) == 1:
            return named[0]
    return None


@VERIFIERS.register("choice")
class ChoiceVerifier(Verifier):
    name = "choice"

    def check(self, completion: str, reference: Any, row: Mapping[str, Any]) -> VerifyResult:
        options = _options(row)
        want = reference_letter(reference, options)
        if want is None:
            ref = _norm(str(reference))
            ok = bool(ref) and _norm(completion) == ref
            return VerifyResult(ok, completion.strip()[:80], "" if ok else "reference is not an option")
        got = extract_letter(completion or "", options)
        if got is None:
            return VerifyResult(False, None, "no option chosen")
        return VerifyResult(got == want, got, "" if got == want else "wrong option")
