"""The eliminator: drop variants that carry no new information or are not problems at all.

Reasons: `empty` (no output), `unparseable` (no valid JSON after retries), `refusal` (apology or
refusal), `template_leak` (prompt wording copied into the problem), `near_duplicate_parent`
(word-trigram Jaccard with the parent at or above the threshold).
"""

from __future__ import annotations

import re

from curate.synth.lineage import Candidate
from curate.synth.prompts import template_words

_REFUSAL = re.compile(
    r"(\bI'?m sorry\b|\bI am sorry\b|\bI apologi[sz]e\b|\bI cannot\b|\bI can'?t\b|\bI can not\b|\bas an AI\b"
    r"|\bI'?m afraid\b|\bI'?m (?:not able|unable)\b|\bI am (?:not able|unable)\b|\bunable to (?:help|assist|comply)\b)",
    re.I,
)


def shingles(text: str, n: int = 3) -> set[str]:
    words = re.findall(r"\w+", text.lower())
    if len(words) < n:
        return {" ".join(words)} if words else set()
    return {" ".join(words[i : i + n]) for i in range(len(words) - n + 1)}


def jaccard(a: str, b: str) -> float:
    sa, sb = shingles(a), shingles(b)
    if not sa and not sb:
        return 1.0
    return len(sa & sb) / len(sa | sb)


def check_parse(c: Candidate, obj_ok: bool, error: str | None) -> None:
    if obj_ok:
        return
    if not c.raw.strip():
        c.drop("empty", "the model returned no text")
    else:
        c.drop("unparseable", error or "invalid JSON")


def eliminate(c: Candidate, source_texts: list[str], threshold: float, prompts_dir: str | None = None) -> None:
    """Apply the content checks to a parsed candidate (`source_texts`: the parent and the text it was rewritten from)."""
    if not c.alive:
        return
    text = c.problem.strip()
    if len(re.findall(r"\w+", text)) < 3:
        c.drop("empty", "problem has fewer than 3 words")
        return
    if _REFUSAL.search(text) or _REFUSAL.search(c.solution[:200]):
        c.drop("refusal", _REFUSAL.search(text + " " + c.solution[:200]).group(0))  # type: ignore[union-attr]
        return
    low = text.lower()
    for w in template_words(prompts_dir):
        if w in low:
            c.drop("template_leak", f"contains prompt wording {w!r}")
            return
    for src in source_texts:
        j = jaccard(text, src)
        if j >= threshold:
            c.drop("near_duplicate_parent", f"trigram Jaccard {j:.2f} with the text it was derived from")
            return
