"""The request cache: hits, misses, resume after interruption, --no-cache, per-sample reuse."""

from __future__ import annotations

import pytest

from curate.cache import RequestCache, cache_root
from curate.engines import EngineConfig, SamplingParams, open_engine
from curate.engines.fake import FakeEngine


def _counter_engine():
    counter = {"n": 0}

    def responder(prompt, params, i):
        counter["n"] += 1
        return f"sample {counter['n']}"

    return FakeEngine(responder=responder), counter


def _open(tmp_path, fake, **cfg):
    return open_engine(EngineConfig(engine="fake", cache_dir=str(tmp_path), **cfg), engine=fake)


def test_rerun_is_served_from_cache_with_identical_texts(tmp_path):
    fake, _ = _counter_engine()
    eng = _open(tmp_path, fake)
    params = SamplingParams(n=3, temperature=0.8)
    first = eng.generate(["a", "b"], params)
    assert len(fake.calls) == 1 and not first[0].cached
    again = _open(tmp_path, fake).generate(["a", "b"], params)  # a new run, same cache folder
    assert len(fake.calls) == 1
    assert [c.texts for c in again] == [c.texts for c in first]
    assert all(c.cached for c in again)


def test_key_covers_model_prompt_params_and_seed(tmp_path):
    fake, _ = _counter_engine()
    eng = _open(tmp_path, fake)
    eng.generate(["a"], SamplingParams(n=1, temperature=0.8))
    eng.generate(["a"], SamplingParams(n=1, temperature=0.5))  # other params
    eng.generate([[{"role": "user", "content": "a"}]], SamplingParams(n=1, temperature=0.8))  # chat ≠ text
    _open(tmp_path, fake, seed=1).generate(["a"], SamplingParams(n=1, temperature=0.8))  # other seed
    other = FakeEngine(model="other-model")
    _open(tmp_path, other).generate(["a"], SamplingParams(n=1, temperature=0.8))
    assert len(fake.calls) == 4 and len(other.calls) == 1


def test_more_samples_reuse_the_first_ones(tmp_path):
    fake, _ = _counter_engine()
    eng = _open(tmp_path, fake)
    four = eng.generate(["q"], SamplingParams(n=4, temperature=1.0))[0].texts
    eight = eng.generate(["q"], SamplingParams(n=8, temperature=1.0))[0].texts
    assert eight[:4] == four and len(set(eight)) == 8
    assert fake.calls[-1]["params"].n == 4  # only the missing four were generated
    assert eng.stats.hits == 4 and eng.stats.misses == 8


def test_interrupted_run_resumes(tmp_path):
    fake, _ = _counter_engine()
    params = SamplingParams(n=2, temperature=1.0)
    eng = _open(tmp_path, fake)
    eng.generate(["p0", "p1"], params)  # first batch done, then the run "dies"

    class Boom(Exception):
        pass

    def dying(prompt, params, i):
        raise Boom

    with pytest.raises(Boom):
        _open(tmp_path, FakeEngine(responder=dying)).generate(["p2"], params)
    fake2, _ = _counter_engine()
    eng2 = _open(tmp_path, fake2)
    out = eng2.generate(["p0", "p1", "p2", "p3"], params)
    assert [len(c.texts) for c in out] == [2, 2, 2, 2]
    assert fake2.calls[0]["prompts"] == ["p2", "p3"]  # only the unfinished prompts
    assert eng2.stats.hits == 4


def test_no_cache_bypasses_earlier_results_but_still_writes(tmp_path):
    fake, _ = _counter_engine()
    params = SamplingParams(n=2, temperature=1.0)
    first = _open(tmp_path, fake).generate(["a"], params)[0].texts
    bypass = _open(tmp_path, fake, cache=False)
    second = bypass.generate(["a"], params)[0].texts
    assert second != first and len(fake.calls) == 2
    # within the bypassing run its own samples are reused (adaptive sampling relies on it)
    assert bypass.generate(["a"], params)[0].texts == second and len(fake.calls) == 2
    # and the next cached run sees the newest results
    assert _open(tmp_path, fake).generate(["a"], params)[0].texts == second


def test_score_prompts_cached(tmp_path):
    fake = FakeEngine()
    eng = _open(tmp_path, fake)
    a = eng.score_prompts(["one two", "three"], top_k=3)
    b = _open(tmp_path, fake).score_prompts(["three", "one two", "four"], top_k=3)
    assert b[1].token_logprobs == a[0].token_logprobs
    assert fake.calls[-1]["texts"] == ["four"]


def test_errors_are_not_cached(tmp_path):
    from curate.engines.base import Completion

    class Flaky(FakeEngine):
        fail = True

        def generate(self, prompts, params):
            if self.fail:
                self.calls.append({"method": "generate"})
                return [Completion(texts=[], error="HTTP 503") for _ in prompts]
            return super().generate(prompts, params)

    fake = Flaky()
    eng = _open(tmp_path, fake)
    assert eng.generate(["a"], SamplingParams(n=2))[0].error == "HTTP 503"
    fake.fail = False
    out = eng.generate(["a"], SamplingParams(n=2))[0]
    assert out.error is None and len(out.texts) == 2


def test_cache_root_resolution(tmp_path, monkeypatch):
    monkeypatch.setenv("CURATE_CACHE_DIR", str(tmp_path / "env"))
    assert cache_root() == tmp_path / "env"
    assert cache_root(str(tmp_path / "arg")) == tmp_path / "arg"
    monkeypatch.delenv("CURATE_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_root() == tmp_path / "xdg" / "curate"


def test_store_roundtrip(tmp_path):
    c = RequestCache(tmp_path / "r.sqlite")
    c.put_many([(f"k{i}", {"v": i}) for i in range(1200)])
    got = c.get_many([f"k{i}" for i in range(0, 1300, 7)])
    assert len(got) == len(range(0, 1200, 7)) and got["k7"] == {"v": 7}
    assert len(c) == 1200
