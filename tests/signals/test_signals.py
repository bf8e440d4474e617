"""The text signals: known values, columns and directions, shared tokenisation, properties."""

from __future__ import annotations

import math
import random
import re
import zlib

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curate.errors import UsageError
from curate.signals import SIGNALS, BatchContext, _text
from curate.signals.base import HIGHER, LOWER, column_name
from curate.signals.compression import CompressionRatio, compression_ratio
from curate.signals.entropy import word_entropy
from curate.signals.lexical import mtld
from curate.signals.readability import counts, flesch, sentence_count

TEXT_SIGNALS = ["length", "compression_ratio", "readability", "lexical_diversity", "word_entropy"]


def run(texts: list[str], names: list[str] = TEXT_SIGNALS, **options: dict) -> dict[str, list]:
    ctx = BatchContext(table=pa.table({"text": pa.array(texts, pa.string())}), text_field="text")
    out: dict[str, list] = {}
    for name in names:
        cols = SIGNALS.get(name)(**options.get(name, {})).score(ctx)
        out.update({k: (v.to_pylist() if hasattr(v, "to_pylist") else list(v)) for k, v in cols.items()})
    return out


def one(text: str, column: str, **options: dict) -> float:
    name = next(n for n in TEXT_SIGNALS if column.startswith(column_name(n)))
    return run([text], [name], **options)[column][0]


# ----------------------------------------------------------------------------- registry


def test_registered_with_columns_and_directions():
    expected = {
        "length": {"score_length_chars": (HIGHER, False), "score_length_words": (HIGHER, True)},
        "compression_ratio": {"score_compression_ratio": (LOWER, True)},
        "readability": {"score_readability_flesch": (LOWER, True), "score_readability_fk_grade": (HIGHER, True)},
        "lexical_diversity": {"score_lexical_diversity_mtld": (HIGHER, True), "score_lexical_diversity_ttr": (HIGHER, False)},
        "word_entropy": {"score_word_entropy": (HIGHER, True)},
    }
    for name, cols in expected.items():
        cls = SIGNALS.get(name)
        assert cls.name == name and cls.kind == "text"
        assert len(cls.description) > 30
        got = {column_name(name, c.part): (c.direction, c.composite) for c in cls.columns}
        assert got == cols
        assert all(len(c.description) > 10 for c in cls.columns)
        assert cls.column_names() == list(cols)
        module = __import__(cls.__module__, fromlist=["_"])
        assert module.__doc__ and "harder" in module.__doc__  # each module documents its direction


def test_score_returns_one_value_per_row_for_every_column():
    texts = ["One short text.", "", "Another, longer text that has a few more words in it!"]
    out = run(texts)
    for name in TEXT_SIGNALS:
        for col in SIGNALS.get(name).column_names():
            assert len(out[col]) == 3


# ----------------------------------------------------------------------------- length


def test_length_known_values():
    out = run(["Hello, world!", "", "Don't stop -- now!", "naïve café"], ["length"])
    assert out["score_length_chars"] == [13, 0, 18, 10]
    assert out["score_length_words"] == [2, 0, 3, 2]  # "--" alone is not a word


# ----------------------------------------------------------------------------- compression


def test_compression_ratio_known_values():
    rep = "abc" * 1000
    assert one(rep, "score_compression_ratio") == 3000 / len(zlib.compress(rep.encode(), 9))
    assert one(rep, "score_compression_ratio") > 50
    assert one("", "score_compression_ratio") == 0.0
    assert one("x", "score_compression_ratio") == 1 / 9  # 2 header + 3 deflate + 4 checksum bytes
    prose = "The quick brown fox jumps over the lazy dog while the cat watches from the fence."
    assert one(prose * 20, "score_compression_ratio") > one(prose, "score_compression_ratio")


def test_compression_level_option_and_params():
    text = "to be or not to be, that is the question " * 5
    raw = text.encode()
    assert one(text, "score_compression_ratio", compression_ratio={"level": 1}) == len(raw) / len(zlib.compress(raw, 1))
    assert CompressionRatio(level=3).level == 3
    assert CompressionRatio.params()["level"] == 9
    for bad in (10, -2, "9", 2.5, True):
        with pytest.raises(UsageError):
            CompressionRatio(level=bad)
    with pytest.raises(UsageError):
        CompressionRatio(levl=3)


# ----------------------------------------------------------------------------- readability


def test_readability_known_values():
    # 6 words, 1 sentence, 6 syllables (all one-syllable CMU words)
    assert counts("The cat sat on the mat.") == (6, 1, 6)
    fre, fk = flesch(6, 1, 6)
    assert fre == pytest.approx(206.835 - 1.015 * 6 - 84.6 * 1)
    assert fk == pytest.approx(0.39 * 6 + 11.8 * 1 - 15.59)
    out = run(["The cat sat on the mat."], ["readability"])
    assert out["score_readability_flesch"] == [fre] and out["score_readability_fk_grade"] == [fk]
    # "Hi." has one word, so textstat does not count it as a sentence
    assert sentence_count("Hi. I am here now.") == 1
    assert sentence_count("One two three. Four five six! Seven?") == 2
    assert sentence_count("") == 0 and sentence_count("...") == 1
    # syllables: "elephant" is 3 in the CMU dictionary; "flurbination" is not in it (hyphenated)
    assert counts("elephant")[2] == 3
    import pyphen

    assert counts("flurbination")[2] == len(pyphen.Pyphen(lang="en_US").positions("flurbination")) + 1


def test_readability_harder_text_scores_harder():
    easy = "The dog ran. The cat sat. We had fun in the sun."
    hard = "Notwithstanding the aforementioned considerations, the committee's deliberations necessitated comprehensive reexamination of institutional responsibilities."
    out = run([easy, hard], ["readability"])
    assert out["score_readability_flesch"][0] > out["score_readability_flesch"][1]
    assert out["score_readability_fk_grade"][0] < out["score_readability_fk_grade"][1]


def test_readability_without_words_is_zero():
    assert run(["", "!!! ??? ...", "-- * --"], ["readability"]) == {
        "score_readability_flesch": [0.0, 0.0, 0.0],
        "score_readability_fk_grade": [0.0, 0.0, 0.0],
    }


# ----------------------------------------------------------------------------- lexical diversity


def test_mtld_known_values():
    assert mtld([]) == 0.0
    assert mtld(["a"]) == 1.0
    assert mtld("a b c d e f".split()) == 6.0  # never falls to 0.72: one factor, MTLD = words
    # a b a: TTR 2/3 <= 0.72 ends a factor; then "b" alone: partial (1 - 1)/0.28 = 0 -> 4 / 1 both ways
    assert mtld("a b a b".split()) == 4.0
    # a a: factor at the 2nd word (1/2); then a: partial 0 -> 3 / 1
    assert mtld("a a a".split()) == 3.0
    # forward "a b c a a": c=4 TTR 3/4 > .72, c=5 TTR 3/5 -> 1 factor; 5/1. Backward "a a c b a":
    # a a -> factor at 2; then c b a: TTR 1 partial 0 -> 5/1
    assert mtld("a b c a a".split()) == 5.0
    # a partial factor: "a b c a" -> TTR 3/4 = .75, partial (1 - .75)/.28, both ways
    assert mtld("a b c a".split()) == pytest.approx(4 / (0.25 / 0.28))


def test_mtld_threshold_option():
    text = "the cat and the dog and the bird and the fish saw the cat and the dog"
    base = one(text, "score_lexical_diversity_mtld")
    assert one(text, "score_lexical_diversity_mtld", lexical_diversity={"threshold": 0.5}) != base
    for bad in ({"threshold": 1.5}, {"threshold": "0.7"}, {"treshold": 0.7}):
        with pytest.raises(UsageError):
            SIGNALS.get("lexical_diversity")(**bad)


def test_ttr_known_values():
    out = run(["a b a b", "", "one two three"], ["lexical_diversity"])
    assert out["score_lexical_diversity_ttr"] == [0.5, 0.0, 1.0]


def _prose(rnd: random.Random, n: int) -> list[str]:
    vocab = "the a of and to in river city model data study result light water time people work".split()
    vocab += [f"w{i}" for i in range(rnd.randint(5, 300))]
    return [rnd.choice(vocab) for _ in range(n)]


def test_mtld_agrees_with_lexicalrichness():
    lr = pytest.importorskip("lexicalrichness")
    rnd = random.Random(3)
    for _ in range(300):
        words = _prose(rnd, rnd.randint(1, 400))
        ref = lr.LexicalRichness(words, preprocessor=None, tokenizer=None).mtld(threshold=0.72)
        assert mtld(words) == pytest.approx(ref, rel=1e-12, abs=1e-12)
        ref50 = lr.LexicalRichness(words, preprocessor=None, tokenizer=None).mtld(threshold=0.5)
        assert mtld(words, 0.5) == pytest.approx(ref50, rel=1e-12, abs=1e-12)


# ----------------------------------------------------------------------------- entropy


def test_word_entropy_known_values():
    assert word_entropy("a b a b".split()) == 1.0
    assert word_entropy("a b c d".split()) == 2.0
    assert word_entropy("a a a a".split()) == 0.0
    assert word_entropy([]) == 0.0
    p = [3 / 6, 2 / 6, 1 / 6]
    assert word_entropy("x x x y y z".split()) == pytest.approx(-sum(q * math.log2(q) for q in p), abs=1e-12)
    # words are textstat's, lowercased: case and punctuation do not make new words
    assert one("A b, a B!", "score_word_entropy") == 1.0


# ----------------------------------------------------------------------------- tokenisation


def _words_reference(text: str) -> list[str]:
    """textstat's list_words(text, lowercase=True), written out with its regular expressions."""
    text = re.sub(r"\'(?!(?:[tsd]|ve|ll|re))", "", text)
    return re.sub(r"[^\w\s\']", "", text).lower().split()


TRICKY = "ab xyZ'tsdvlre.!?,;:-_\"()[]{}#@0123456789\t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x00\x7f\u00a0é\u0301ÀΣß İ\u2019\u2014\u3000中"


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=TRICKY, max_size=60))
def test_words_equal_textstat_rules_on_tricky_text(text):
    assert _text.words_of(text) == _words_reference(text)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_words_equal_textstat_rules_on_any_text(text):
    assert _text.words_of(text) == _words_reference(text)


def test_batch_is_tokenised_once(monkeypatch):
    calls = []
    real = _text.tokenize
    monkeypatch.setattr(_text, "tokenize", lambda arr, classes: calls.append(arr.to_pylist()) or real(arr, classes))
    texts = ["one two", "three four five", ""]
    run(texts)
    assert calls == [texts]  # one call for the whole batch, shared by every signal


# ----------------------------------------------------------------------------- properties


@settings(max_examples=150, deadline=None)
@given(st.lists(st.text(max_size=300), min_size=1, max_size=5))
def test_any_unicode_never_raises_and_is_finite_and_deterministic(texts):
    first = run(texts)
    for col, values in first.items():
        assert len(values) == len(texts)
        for v in values:
            assert isinstance(v, (int, float)) and math.isfinite(v), (col, v)
            if col != "score_readability_flesch" and col != "score_readability_fk_grade":
                assert v >= 0
    assert run(texts) == first
    for t, ratio in zip(texts, first["score_compression_ratio"]):
        raw = t.encode()
        assert ratio == (len(raw) / len(zlib.compress(raw, 9)) if raw else 0.0)


def test_null_text_reads_as_empty():
    ctx = BatchContext(table=pa.table({"text": pa.array(["a b", None], pa.string())}), text_field="text")
    out = SIGNALS.get("length")().score(ctx)
    assert out["score_length_chars"].to_pylist() == [3, 0]
    assert list(out["score_length_words"]) == [2, 0]
    assert compression_ratio(b"") == 0.0
