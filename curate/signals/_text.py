"""Per-batch text work shared by the text signals: UTF-8 bytes, and the words as flat columns.

Every helper takes the `BatchContext` and caches its result there, so a batch is encoded and
tokenised once however many signals read it.

Words are textstat 0.7's words (`textstat.lexicon_count`), lowercased: non-contraction
apostrophes and every character that is neither a word character, whitespace nor an apostrophe
are deleted, and the rest is split on whitespace. So "Don't stop--now!" gives
["don't", "stopnow"] exactly as textstat counts it, and readability, length, lexical diversity
and entropy all see the same words.

`tokens(ctx)` tokenises a whole batch at once with polars' string kernels (Rust regular
expressions, no Python per word): the character classes are spelled out from Python's own `\\w`,
`\\s` and `str.lower` for every non-ASCII character the batch holds, so the words are the same as
`words_of` gives text by text (a hypothesis test checks it). The few texts with a character whose
lowercase polars and Python disagree on (or Σ, whose lowercase depends on its neighbours) are
tokenised by `words_of`. The words come out as one column of ids into the batch's vocabulary,
with row offsets (`Tokens`); `occurrences(ctx)` adds, per word, where the same word occurs before
and after it in its text, which MTLD and the entropy read.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from curate.signals.base import BatchContext

try:  # Counter's C counting loop, without Counter's per-call Mapping check
    from _collections import _count_elements
except ImportError:  # pragma: no cover - other Pythons

    def _count_elements(mapping: dict, iterable: list) -> None:
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
_ASCII_SPACE = "".join(chr(i) for i in range(128) if chr(i).isspace())
_ASCII_WORD = "".join(chr(i) for i in range(128) if re.match(r"\w", chr(i)))
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


def count_words(ws: list[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    _count_elements(counts, ws)
    return counts


# ----------------------------------------------------------------------------- the batch's texts


def text_array(ctx: BatchContext) -> pa.Array:
    """The batch's texts as one Arrow string array, a missing text read as the empty string."""

    def make() -> pa.Array:
        col = ctx.table.column(ctx.text_field)
        if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
            arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
            if arr.null_count:  # (polars: pa.scalar would import pandas)
                import polars as pl

                arr = pl.Series("t", arr).fill_null("").to_arrow()
            return arr
        return pa.array(texts(ctx), pa.string())

    return ctx.cached("text_array", make)


def numbers(arr: pa.Array) -> np.ndarray:
    """An integer Arrow array without nulls as int64 numpy (`to_numpy` would import pandas)."""
    width = {pa.int32(): np.int32, pa.int64(): np.int64}[arr.type]
    return np.frombuffer(arr.buffers()[1], width)[arr.offset : arr.offset + len(arr)].astype(np.int64)


def texts(ctx: BatchContext) -> list[str]:
    """The batch's texts, with a missing text read as the empty string."""
    return ctx.cached("texts_or_empty", lambda: [t if isinstance(t, str) else "" for t in ctx.texts])


def utf8(ctx: BatchContext) -> list[bytes]:
    return ctx.cached("utf8", lambda: [encode(t) for t in texts(ctx)])


def string_offsets(arr: pa.Array) -> np.ndarray:
    """A string array's n + 1 byte offsets into its data buffer."""
    width = np.int64 if pa.types.is_large_string(arr.type) else np.int32
    return np.frombuffer(arr.buffers()[1], width)[arr.offset : arr.offset + len(arr) + 1]


def _char_class(chars: str, negate: bool = False) -> str:
    """A Rust regular-expression class holding exactly `chars`."""
    body = "".join(f"\\x{{{ord(c):x}}}" for c in sorted(set(chars)))
    return f"[{'^' if negate else ''}{body}]"


@dataclass(frozen=True)
class CharClasses:
    """Python's view of the characters a batch holds, spelled out for polars' regular expressions."""

    delete: str  # what PUNCTUATION deletes
    space: str  # what str.split splits on
    word: str  # what \\w matches
    unsafe: str  # non-ASCII characters whose lowercase polars gives differently from str.lower


def char_classes(ctx: BatchContext) -> CharClasses:
    def make() -> CharClasses:
        arr = text_array(ctx)
        offsets = string_offsets(arr)
        data = arr.buffers()[2]
        lo, hi = int(offsets[0]), int(offsets[-1])
        raw = data.to_pybytes()[lo:hi] if data is not None and hi > lo else b""
        others = sorted(set(raw.translate(None, _ASCII_ALL).decode("utf-8", "surrogatepass")))
        delete = "".join(chr(b) for b in _ASCII_DELETE)
        space, word, unsafe = _ASCII_SPACE, _ASCII_WORD, ""
        if others:
            import polars as pl

            lowered = pl.Series(others, dtype=pl.String).str.to_lowercase().to_list()
            for ch, low in zip(others, lowered):
                if PUNCTUATION.match(ch):
                    delete += ch
                elif ch.isspace():
                    space += ch
                else:
                    word += ch if re.match(r"\w", ch) else ""
                    if ch.lower() != low or ch == "\u03a3":  # Σ: final or not depends on its neighbours
                        unsafe += ch
        return CharClasses(delete, space, word, unsafe)

    return ctx.cached("char_classes", make)


# ----------------------------------------------------------------------------- words as columns


@dataclass
class Tokens:
    """A batch's words as flat columns: row i's words are `ids[offsets[i]:offsets[i + 1]]`, each an
    index into `vocab` (the batch's distinct words, in first-occurrence order)."""

    ids: np.ndarray  # int64, one per running word
    offsets: np.ndarray  # int64, rows + 1
    vocab: pa.Array  # string

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    def rows(self) -> np.ndarray:
        """The row of every running word."""
        return np.repeat(np.arange(len(self.offsets) - 1), self.lengths)


def tokens(ctx: BatchContext) -> Tokens:
    return ctx.cached("tokens", lambda: tokenize(text_array(ctx), char_classes(ctx)))


def tokenize(arr: pa.Array, classes: CharClasses) -> Tokens:
    """textstat's lowercased words of every text in `arr`, as `Tokens`.

    polars deletes what textstat deletes, lowercases and turns every whitespace character into a
    space; then the words are the runs of other bytes, found with numpy over the texts' bytes and
    gathered (spaces dropped) into one Arrow string column, which Arrow dictionary-encodes."""
    import polars as pl
    import pyarrow.compute as pc

    n = len(arr)
    s = pl.Series("t", arr)
    s = s.str.replace_all(r"('(?:ve|ll|re|[tsd]))|'", "${1}")  # keep only contraction apostrophes
    s = s.str.replace_all(_char_class(classes.delete), "")
    s = s.str.to_lowercase()
    spaces = classes.space.replace(" ", "")
    if spaces:
        s = s.str.replace_all(_char_class(spaces), " ")
    if classes.unsafe:  # these texts are tokenised by Python, text by text
        unsafe = pl.Series("t", arr).str.contains(_char_class(classes.unsafe)).to_numpy()
        fixed = [""] * n
        for i in np.flatnonzero(unsafe).tolist():
            fixed[i] = " ".join(words_of(arr[i].as_py()))
        s = pl.select(pl.when(pl.lit(pl.Series(unsafe))).then(pl.lit(pl.Series(fixed, dtype=pl.String))).otherwise(pl.lit(s))).to_series()
    cleaned = s.rechunk().to_arrow(compat_level=pl.CompatLevel.oldest())  # large_string
    bounds = np.frombuffer(cleaned.buffers()[1], np.int64)[cleaned.offset : cleaned.offset + n + 1]
    data = cleaned.buffers()[2]
    raw = np.frombuffer(data, np.uint8)[bounds[0] : bounds[-1]] if data is not None else np.zeros(0, np.uint8)
    bounds = bounds - bounds[0]
    word = raw != 32
    space = ~word
    starts = word.copy()  # a word starts after a space, or where a text starts
    starts[1:] &= space[:-1]
    ends = word.copy()  # and ends before a space, or where a text ends
    ends[:-1] &= space[1:]
    nonempty = bounds[:-1] < bounds[1:]
    starts[bounds[:-1][nonempty]] = word[bounds[:-1][nonempty]]
    ends[bounds[1:][nonempty] - 1] = word[bounds[1:][nonempty] - 1]
    first = np.flatnonzero(starts)
    packed = np.zeros(len(first) + 1, np.int64)
    np.cumsum(np.flatnonzero(ends) - first + 1, out=packed[1:])
    flat = pa.Array.from_buffers(pa.large_string(), len(first), [None, pa.py_buffer(packed), pa.py_buffer(raw[word].tobytes())])
    offsets = np.searchsorted(first, bounds).astype(np.int64)
    encoded = pc.dictionary_encode(flat)
    return Tokens(numbers(encoded.indices), offsets, encoded.dictionary)


def words(ctx: BatchContext) -> list[list[str]]:
    """Per text, its words (a list of strings; `tokens` is the columnar form)."""

    def make() -> list[list[str]]:
        tok = tokens(ctx)
        vocab = tok.vocab.to_pylist()
        ids = tok.ids.tolist()
        bounds = tok.offsets.tolist()
        return [[vocab[i] for i in ids[a:b]] for a, b in zip(bounds, bounds[1:])]

    return ctx.cached("words", make)


@dataclass
class Occurrences:
    """For every running word of `Tokens`: where the same word occurs before and after it in its
    text (-1 / past-the-end when nowhere), and the word counts per text in first-occurrence order."""

    prev: np.ndarray  # int64 index into Tokens.ids, or -1
    next: np.ndarray  # int64 index into Tokens.ids, or len(ids)
    first: np.ndarray  # int64 indices of each text's distinct words' first occurrences, in order
    first_counts: np.ndarray  # int64, occurrences of the word first seen at `first`
    distinct_offsets: np.ndarray  # int64, rows + 1: text i's distinct words are first[a:b]


def occurrences(ctx: BatchContext) -> Occurrences:
    return ctx.cached("occurrences", lambda: find_occurrences(tokens(ctx)))


def find_occurrences(tok: Tokens) -> Occurrences:
    n_words = len(tok.ids)
    rows = tok.rows()
    key = rows * max(1, len(tok.vocab)) + tok.ids  # (text, word)
    pos = np.arange(n_words, dtype=np.int64)
    if n_words and int(key.max()) < (1 << 62) // max(1, n_words):
        order = np.sort(key * n_words + pos) % n_words  # one sort of unique keys: stable by position
    else:
        order = np.argsort(key, kind="stable")
    skey = key[order]
    same = skey[1:] == skey[:-1]
    prev = np.full(n_words, -1, np.int64)
    nxt = np.full(n_words, n_words, np.int64)
    prev[order[1:][same]] = order[:-1][same]
    nxt[order[:-1][same]] = order[1:][same]
    starts = np.flatnonzero(np.concatenate(([True], ~same))) if n_words else np.zeros(0, np.int64)
    sizes = np.diff(np.append(starts, n_words))
    first_at = order[starts]
    counts_at = np.zeros(n_words, np.int64)
    counts_at[first_at] = sizes
    first = np.flatnonzero(prev < 0)
    distinct = np.bincount(rows[first], minlength=len(tok.offsets) - 1)
    distinct_offsets = np.zeros(len(tok.offsets), np.int64)
    np.cumsum(distinct, out=distinct_offsets[1:])
    return Occurrences(prev, nxt, first, counts_at[first], distinct_offsets)


def sequential_sums(values: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Per segment `values[offsets[i]:offsets[i + 1]]`, the sum added left to right, as Python's
    `sum()` does (numpy's pairwise sums round differently): one vector step per position."""
    lengths = np.diff(offsets)
    out = np.zeros(len(lengths), np.float64)
    if not len(values):
        return out
    order = np.argsort(-lengths, kind="stable")
    lens = lengths[order]
    starts = offsets[:-1][order]
    acc = np.zeros(len(order), np.float64)
    active = len(lens) - np.searchsorted(lens[::-1], np.arange(int(lens[0])), side="right")  # texts longer than k
    for k, m in enumerate(active.tolist()):
        acc[:m] += values[starts[:m] + k]
    out[order] = acc
    return out


def segment_sums(values: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Integer sums per segment (exact in any order)."""
    cs = np.zeros(len(values) + 1, np.int64)
    np.cumsum(values, out=cs[1:])
    return cs[offsets[1:]] - cs[offsets[:-1]]


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a batch builds many small, acyclic objects."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
