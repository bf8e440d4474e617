"""The text signals' column-at-a-time code gives exactly what the per-text definitions give.

`_text.words_of`, `readability.sentence_count`, `lexical.mtld` and `entropy.word_entropy` are the
per-text definitions (pinned against textstat and lexicalrichness in test_signals.py and
test_readability_textstat.py); the batch code must agree with them value for value, bit for bit.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curate.executors.local import LocalExecutor
from curate.score import _pool_task, _thread_task, score_batch
from curate.signals import SIGNALS, BatchContext, _text
from curate.signals._syllables import _Hyphenation
from curate.signals.entropy import entropy_many, word_entropy
from curate.signals.lexical import mtld, mtld_many
from curate.signals.readability import counts, flesch, sentence_count, sentence_counts

ROOT = Path(__file__).resolve().parents[2]
TRICKY = "ab xyZ'tsdvlre.!?,;:-_\"()[]{}#@0123456789\t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x00\x7f\u00a0\u2009é\u0301ÀΣςß İ\u2019\u2014\u3000中ǅ"
texts_strategy = st.lists(st.text(alphabet=TRICKY, max_size=80) | st.text(max_size=80), min_size=1, max_size=12)


def ctx_of(texts: list[str | None]) -> BatchContext:
    return BatchContext(table=pa.table({"text": pa.array(texts, pa.string())}), text_field="text")


def words_by_row(ctx: BatchContext) -> list[list[str]]:
    tok = _text.tokens(ctx)
    vocab = tok.vocab.to_pylist()
    return [[vocab[i] for i in tok.ids[a:b]] for a, b in zip(tok.offsets[:-1], tok.offsets[1:])]


@settings(max_examples=300, deadline=None)
@given(texts_strategy)
def test_tokens_equal_words_of(texts):
    assert words_by_row(ctx_of(texts)) == [_text.words_of(t) for t in texts]


@settings(max_examples=300, deadline=None)
@given(texts_strategy)
def test_sentence_counts_equal_sentence_count(texts):
    assert sentence_counts(ctx_of(texts)).tolist() == [sentence_count(t) for t in texts]


@settings(max_examples=200, deadline=None)
@given(texts_strategy)
def test_readability_and_word_signals_equal_the_per_text_definitions(texts):
    ctx = ctx_of(texts)
    out = {}
    for name in ("length", "readability", "lexical_diversity", "word_entropy"):
        out.update(SIGNALS.get(name)().score(ctx))
    for i, t in enumerate(texts):
        ws = _text.words_of(t)
        fre, fk = flesch(*counts(t))
        assert out["score_readability_flesch"][i] == fre and out["score_readability_fk_grade"][i] == fk, t
        assert out["score_lexical_diversity_mtld"][i] == mtld(ws), t
        assert out["score_word_entropy"][i] == word_entropy(ws), t
        assert out["score_length_words"][i] == len(ws)


def _prose(rnd: random.Random, n: int) -> list[str]:
    vocab = [f"w{i}" for i in range(rnd.choice([2, 5, 40, 300, 5000]))]
    return [rnd.choice(vocab) for _ in range(n)]


@pytest.mark.parametrize("threshold", [0.72, 0.5, 0.9])
def test_mtld_and_entropy_exact_on_long_and_repetitive_texts(threshold):
    rnd = random.Random(11)
    rows = [_prose(rnd, rnd.choice([0, 1, 2, 31, 32, 33, 64, 500, 4096, 4097, 9000])) for _ in range(60)]
    ctx = ctx_of([" ".join(r) for r in rows])
    tok, occ = _text.tokens(ctx), _text.occurrences(ctx)
    assert mtld_many(tok, occ, threshold).tolist() == [mtld(r, threshold) for r in rows]
    assert entropy_many(tok, occ).tolist() == [word_entropy(r) for r in rows]


def test_hyphenation_many_equals_pyphen():
    import pyphen

    ref = pyphen.Pyphen(lang="en_US")
    rnd = random.Random(7)
    words = ["".join(rnd.choice("abcdefghijklmnopqrstuvwxyz'é’0") for _ in range(rnd.randint(0, 30))) for _ in range(3000)]
    words += ["", "a", "supercalifragilisticexpialidocious", "İstanbul", "straße", "ﬁnance", "co-operate"]
    assert _Hyphenation().points_many(words).tolist() == [len(ref.positions(w)) for w in words]


def test_null_texts_read_as_empty_in_every_column():
    ctx = ctx_of(["One two three. Four five six.", None, ""])
    assert words_by_row(ctx) == [["one", "two", "three", "four", "five", "six"], [], []]
    assert sentence_counts(ctx).tolist() == [2, 0, 0]


def test_threads_executor_gives_the_inline_result():
    texts = [f"Text number {i}. It has words, and more words: {' '.join([f'w{i % 7}'] * (i % 40))}." for i in range(300)]
    batches = [pa.table({"text": pa.array(texts[i : i + 50], pa.string())}) for i in range(0, 300, 50)]
    signals = [SIGNALS.get(n) for n in ("length", "compression_ratio", "readability", "lexical_diversity", "word_entropy")]
    assert all(s.threads for s in signals) and getattr(_thread_task, "threads", False)
    inline = [_pool_task(b, signals, "text", {}) for b in batches]
    ex = LocalExecutor()
    ex.workers = 2
    try:
        threaded = list(ex.map_batches(_thread_task, iter(batches), signals, "text", {}))
        assert ex._pool is None and ex._threads is not None  # no worker processes were started
    finally:
        ex.close()
    assert [t.equals(u) for t, u in zip(threaded, inline)] == [True] * len(batches)
    whole = score_batch(pa.table({"text": pa.array(texts, pa.string())}), [s.name for s in signals], "text", {})
    assert pa.concat_tables(threaded).equals(whole.select([f.name for s in signals for f in s.schema_fields()]))


def test_score_jsonl_to_parquet_does_not_import_pandas(tmp_path):
    """pa.array, pa.scalar, to_numpy and pq.read_table import pandas (half a second of start-up)."""
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"id": i, "text": f"Row {i} has some words. And a second sentence."}) + "\n" for i in range(300)))
    code = (
        "import sys, runpy; sys.argv = ['curate', 'score', sys.argv[1], '-o', sys.argv[2]]\n"
        "try:\n    runpy.run_module('curate', run_name='__main__')\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
        "print('pandas' in sys.modules)\n"
    )
    res = subprocess.run(
        [sys.executable, "-c", code, str(src), str(tmp_path / "out.parquet")],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        timeout=300,
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip().splitlines()[-1] == "False"
