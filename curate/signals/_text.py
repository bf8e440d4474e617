"""Per-batch text work shared by the text signals: UTF-8 bytes, word lists and word counts.

Every helper takes the `BatchContext` and caches its result there, so a batch is encoded and
tokenised once however many signals read it.

Words are textstat 0.7's words (`textstat.lexicon_count`), lowercased: non-contraction
apostrophes and every character that is neither a word character, whitespace nor an apostrophe
are deleted, and the rest is split on whitespace. So "Don't stop--now!" gives
["don't", "stopnow"] exactly as textstat counts it, and readability, length, lexical diversity
and entropy all see the same words. The work is done on the UTF-8 bytes (`bytes.translate` for
ASCII, `bytes.replace` for each distinct other character to delete), which gives the same words
as textstat's regular expressions on the text (a hypothesis test checks it) several times faster.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Iterator
from contextlib import contextmanager

from curate.signals.base import BatchContext

try:  # Counter's C counting loop, without Counter's per-call Mapping check
    from _collections import _count_elements
except ImportError:  # pragma: no cover - other Pythons

    def _count_elements(mapping: dict, iterable: list) -> None:  # type: ignore[misc]
        get = mapping.get
        for x in iterable:
            mapping[x] = get(x, 0) + 1


# textstat.backend.utils.constants.RE_NONCONTRACTION_APOSTROPHE and remove_punctuation's class.
NONCONTRACTION_APOSTROPHE = re.compile(r"'(?!(?:[tsd]|ve|ll|re))")
PUNCTUATION = re.compile(r"[^\w\s']")

_B_NONCONTRACTION_APOSTROPHE = re.compile(rb"'(?!(?:[tsd]|ve|ll|re))")
# ASCII characters PUNCTUATION deletes; \x1c-\x1f are whitespace to str.split but not to bytes.split.
_ASCII_DELETE = bytes(i for i in range(128) if PUNCTUATION.match(chr(i)))
_ASCII_TABLE = bytes.maketrans(b"\x1c\x1d\x1e\x1f", b"    ")
_ASCII_ALL = bytes(range(128))
_drop: dict[str, bool] = {}  # non-ASCII character -> PUNCTUATION deletes it


def encode(text: str) -> bytes:
    """UTF-8 bytes of a text (lone surrogates, which Arrow strings never hold, pass through)."""
    return text.encode("utf-8", "surrogatepass")


def _strip_non_ascii(raw: bytes) -> bytes:
    """Delete the non-ASCII characters PUNCTUATION would. A character's UTF-8 bytes can only be
    found at character boundaries (UTF-8 is self-synchronising), so `bytes.replace` is exact."""
    for ch in set(raw.translate(None, _ASCII_ALL).decode("utf-8", "surrogatepass")):
        drop = _drop.get(ch)
        if drop is None:
            drop = PUNCTUATION.match(ch) is not None
            if len(_drop) < 50_000:
                _drop[ch] = drop
        if drop:
            raw = raw.replace(encode(ch), b"")
    return raw


def words_of(text: str, raw: bytes | None = None) -> list[str]:
    """textstat's word list of `text`, lowercased. `raw` is `encode(text)` when already at hand."""
    if raw is None:
        raw = encode(text)
    ascii_only = len(raw) == len(text)
    if b"'" in raw:  # the look-ahead only ever sees ASCII letters, so bytes and text agree
        raw = _B_NONCONTRACTION_APOSTROPHE.sub(b"", raw)
    if ascii_only:
        return raw.translate(_ASCII_TABLE, _ASCII_DELETE).lower().decode("ascii").split()
    return _strip_non_ascii(raw).translate(None, _ASCII_DELETE).decode("utf-8", "surrogatepass").lower().split()


def texts(ctx: BatchContext) -> list[str]:
    """The batch's texts, with a missing text read as the empty string."""
    return ctx.cached("texts_or_empty", lambda: [t if isinstance(t, str) else "" for t in ctx.texts])


def utf8(ctx: BatchContext) -> list[bytes]:
    return ctx.cached("utf8", lambda: [encode(t) for t in texts(ctx)])


def words(ctx: BatchContext) -> list[list[str]]:
    def make() -> list[list[str]]:
        with gc_paused():
            return list(map(words_of, texts(ctx), utf8(ctx)))

    return ctx.cached("words", make)


def count_words(ws: list[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    _count_elements(counts, ws)
    return counts


def word_counts(ctx: BatchContext) -> list[dict[str, int]]:
    """Per text: word → occurrences."""

    def make() -> list[dict[str, int]]:
        with gc_paused():
            return list(map(count_words, words(ctx)))

    return ctx.cached("word_counts", make)


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a batch builds many small, acyclic lists and sets
    (its collections would walk them again and again: ~8% of the signals' time, measured)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
