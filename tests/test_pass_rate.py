"""Pass-rate math (Wilson, unbiased pass@k, buckets), sampling, adaptive stopping and the signal."""

from __future__ import annotations

import itertools
import math
import random

import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from curate.engines import EngineConfig, open_engine
from curate.engines.base import Completion
from curate.engines.fake import FakeEngine, prompt_text
from curate.pass_rate import FRONTIER, LEARNABLE, MASTERED, bucket, decided, measure_pass_rate, pass_at, summarize, wilson
from curate.signals.base import SIGNALS, BatchContext


def test_wilson_known_values():
    lo, hi = wilson(8, 10)
    assert lo == pytest.approx(0.4902, abs=1e-4) and hi == pytest.approx(0.9433, abs=1e-4)
    assert wilson(0, 8)[0] == 0.0 and wilson(8, 8)[1] == 1.0
    assert wilson(0, 0) == (0.0, 1.0)


@given(st.integers(1, 40).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n))))
def test_wilson_contains_the_estimate(nc):
    n, c = nc
    lo, hi = wilson(c, n)
    assert 0 <= lo <= c / n <= hi <= 1


@pytest.mark.parametrize("n", [1, 2, 5, 8])
def test_pass_at_matches_brute_force(n):
    for c in range(n + 1):
        outcomes = [True] * c + [False] * (n - c)
        for j in range(1, n + 1):
            subsets = list(itertools.combinations(outcomes, j))
            brute = sum(any(s) for s in subsets) / len(subsets)
            assert pass_at(c, n, j) == pytest.approx(brute), (c, n, j)
    assert pass_at(1, n, n + 1) is None


def test_buckets():
    assert bucket(8, 8) == MASTERED and bucket(0, 8) == FRONTIER and bucket(3, 8) == LEARNABLE


def test_stopping_rule():
    assert decided(1, 2, 8, 4)  # mixed: learnable for sure
    assert not decided(2, 2, 8, 4) and not decided(0, 3, 8, 4)
    assert decided(4, 4, 8, 4) and decided(0, 4, 8, 4)
    assert decided(0, 8, 8, 8)


def _engine(tmp_path, p_of: dict[str, float], seed: int = 0):
    """A fake model that answers a question right with a fixed probability."""
    rng = random.Random(seed)

    def responder(prompt, params, i):
        q = prompt_text(prompt)
        p = next((v for k, v in p_of.items() if k in q), 0.0)
        return "#### 1" if rng.random() < p else "#### 0"

    fake = FakeEngine(responder=responder)
    return fake, open_engine(EngineConfig(engine="fake", cache_dir=str(tmp_path)), engine=fake)


ROWS = [
    {"text": "always", "answer": "1"},
    {"text": "never", "answer": "1"},
    {"text": "coin", "answer": "1"},
    {"text": "no reference"},
    {"text": "code row without tests", "task_type": "code"},
]


def test_fixed_k(tmp_path):
    fake, eng = _engine(tmp_path, {"always": 1.0, "never": 0.0, "coin": 0.5})
    res = measure_pass_rate(eng, ROWS, k=8, pass_at=(1, 4))
    assert [r.bucket for r in res[:3]] == [MASTERED, FRONTIER, LEARNABLE]
    assert res[0].rate == 1.0 and res[1].rate == 0.0 and res[0].samples == 8
    assert res[0].pass_at == {1: 1.0, 4: 1.0}
    assert res[3].reason == "no reference" and res[3].rate is None
    assert res[4].reason == "no reference"
    assert len(fake.calls) == 1 and fake.calls[0]["params"].n == 8  # k samples in one request
    # the prompt is chat messages from the packaged template with the shared few-shot prefix first
    msg = fake.calls[0]["prompts"][0][0]["content"]
    assert msg.startswith("Solve the math problem") and msg.rstrip().endswith("Answer:")
    s = summarize(res)
    assert s["scored"] == 3 and s["skipped"] == {"no reference": 2}


def test_rerun_comes_from_cache(tmp_path):
    fake, eng = _engine(tmp_path, {"coin": 0.5})
    a = measure_pass_rate(eng, ROWS[2:3], k=8)
    b = measure_pass_rate(eng, ROWS[2:3], k=8)
    assert len(fake.calls) == 1 and a[0].verdicts == b[0].verdicts


def test_adaptive_saves_samples_and_agrees_on_clear_rows(tmp_path):
    rows = [{"text": f"easy {i}", "answer": "1"} for i in range(10)] + [{"text": f"hard {i}", "answer": "1"} for i in range(10)]
    rows += [{"text": f"coin {i}", "answer": "1"} for i in range(10)]
    fake, eng = _engine(tmp_path, {"easy": 1.0, "hard": 0.0, "coin": 0.5})
    fixed = measure_pass_rate(eng, rows, k=8)
    fake2, eng2 = _engine(tmp_path / "b", {"easy": 1.0, "hard": 0.0, "coin": 0.5})
    adaptive = measure_pass_rate(eng2, rows, k=8, adaptive=True)
    assert [r.bucket for r in adaptive[:20]] == [r.bucket for r in fixed[:20]]
    assert all(r.samples == 4 for r in adaptive[:20])  # unanimous after ⌈k/2⌉ → stop
    for r in adaptive[20:]:
        assert r.samples <= 8
        if r.bucket == LEARNABLE:
            assert 0 < r.passes < r.samples
    drawn_fixed = sum(r.samples for r in fixed)
    drawn_adaptive = sum(r.samples for r in adaptive)
    assert drawn_adaptive < 0.7 * drawn_fixed
    assert summarize(adaptive)["tokens_saved"] > 0
    assert all(r.tokens_saved == 0 for r in fixed)


def test_engine_errors_are_recorded_per_row(tmp_path):
    class HalfBroken(FakeEngine):
        def generate(self, prompts, params):
            out = super().generate(prompts, params)
            return [Completion(texts=[], error="HTTP 503") if "broken" in prompt_text(p) else c for p, c in zip(prompts, out)]

    eng = open_engine(EngineConfig(engine="fake", cache_dir=str(tmp_path)), engine=HalfBroken(responder=lambda p, s, i: "#### 1"))
    res = measure_pass_rate(eng, [{"text": "fine", "answer": "1"}, {"text": "broken", "answer": "1"}], k=4)
    assert res[0].rate == 1.0
    assert res[1].rate is None and res[1].reason.startswith("engine error")


def test_signal_columns_and_options(tmp_path):
    fake, eng = _engine(tmp_path, {"always": 1.0, "coin": 0.5})
    table = pa.table({"question": ["always", "coin", "no answer"], "solution": ["#### 1", "1", None], "kind": ["gsm8k", "math", "math"]})
    ctx = BatchContext(table, "question", {"k": 4, "pass_at": [2], "answer_field": "solution", "task_type_field": "kind"}, eng)
    cls = SIGNALS.get("pass_rate")
    assert cls.kind == "model"
    cols = cls().score(ctx)
    arrays = {f.name: pa.array(cols[f.name], type=f.type) for f in cls.schema_fields()}
    assert arrays["score_pass_rate"].to_pylist()[0] == 1.0
    assert arrays["score_pass_rate_k"].to_pylist() == [4, 4, None]
    assert arrays["score_pass_rate_bucket"].to_pylist()[0] == MASTERED
    assert arrays["score_pass_rate_pass_at"].to_pylist()[0] == [(2, 1.0)]
    assert arrays["score_pass_rate_reason"].to_pylist() == [None, None, "no reference"]
    assert fake.calls[0]["params"].n == 4


def test_lm_signals_on_fake(tmp_path):
    from curate.signals.lm import lumped_entropy, perplexity

    eng = open_engine(EngineConfig(engine="fake", cache_dir=str(tmp_path)), engine=FakeEngine())
    ctx = BatchContext(pa.table({"text": ["a b c", ""]}), "text", {}, eng)
    ppl = SIGNALS.get("lm_perplexity")().score(ctx)
    ent = SIGNALS.get("lm_token_entropy")().score(ctx)
    assert ppl["score_lm_perplexity"][0] > 1 and ent["score_lm_token_entropy"][0] > 0
    assert len(eng.engine.calls) == 1  # both signals share one scoring call per batch
    assert perplexity([math.log(0.5)] * 4) == pytest.approx(2.0)
    # two outcomes of ½: ln 2; top-1 of ½ with the rest lumped: also ln 2 (a lower bound in general)
    assert lumped_entropy({"a": math.log(0.5), "b": math.log(0.5)}) == pytest.approx(math.log(2))
    assert lumped_entropy({"a": math.log(0.5)}) == pytest.approx(math.log(2))
    assert lumped_entropy({"a": 0.0}) == pytest.approx(0.0)
