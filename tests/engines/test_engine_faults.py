"""The OpenAI-compatible engine against a server that fails in every way seen in practice.

A failed call is retried, then comes back as `Completion(error=...)` with no texts; nothing of it
reaches the request cache, so a rerun against a healthy server asks again.
"""

from __future__ import annotations

import pytest

from curate.cache import RequestCache
from curate.engines import EngineConfig, SamplingParams, build_engine, open_engine
from curate.engines.base import Completion
from curate.engines.fake import FakeEngine
from curate.errors import EngineError

RETRIES = 2
CHAT = [{"role": "user", "content": "q"}]


def _cfg(url, tmp_path, **kw):
    return EngineConfig(
        url=url,
        cache_dir=str(tmp_path),
        timeout=kw.pop("timeout", 5.0),
        retries=kw.pop("retries", RETRIES),
        concurrency=2,
        extra={"backoff": 0.001, "max_backoff": 0.005, **kw},
    )


def _cached_entries(tmp_path) -> int:
    cache = RequestCache(tmp_path / "requests.sqlite")
    try:
        return len(cache)
    finally:
        cache.close()


@pytest.mark.parametrize("mode", ["500", "429", "malformed", "bad_shape", "html", "null_content", "few_choices"])
@pytest.mark.parametrize("prompt", ["plain q", CHAT], ids=["text", "chat"])
def test_a_failing_call_is_retried_then_reported_and_never_cached(fault_server, tmp_path, mode, prompt):
    fault_server.mode = mode
    eng = open_engine(_cfg(fault_server.url, tmp_path))
    (out,) = eng.generate([prompt], SamplingParams(n=2, temperature=0.7))
    assert out.error and out.texts == [], out
    assert fault_server.posts == RETRIES + 1  # retried, then given up
    assert _cached_entries(tmp_path) == 0
    eng.close()

    fault_server.mode = "ok"  # the server recovers: a rerun asks again and gets real answers
    eng = open_engine(_cfg(fault_server.url, tmp_path))
    (again,) = eng.generate([prompt], SamplingParams(n=2, temperature=0.7))
    asked = "q" if prompt is CHAT else "plain q"
    assert again.error is None and again.texts == [f"answer {i} to: {asked}" for i in range(2)] and not again.cached
    assert fault_server.posts == RETRIES + 2
    assert _cached_entries(tmp_path) == 2
    eng.close()


@pytest.mark.parametrize("mode", ["500", "malformed", "bad_shape", "html"])
def test_each_failure_names_what_the_server_did(fault_server, tmp_path, mode):
    fault_server.mode = mode
    eng = build_engine(_cfg(fault_server.url, tmp_path, retries=0))
    (out,) = eng.generate(["x"], SamplingParams())
    expected = {"500": "HTTP 500", "malformed": "malformed reply", "bad_shape": "malformed reply", "html": "malformed reply"}[mode]
    assert expected in out.error
    eng.close()


def test_a_flaky_server_is_retried_until_it_answers(fault_server, tmp_path):
    fault_server.mode = "flaky"
    fault_server.flaky_failures = 2
    eng = build_engine(_cfg(fault_server.url, tmp_path, retries=3))
    outs = eng.generate(["a", "b", "c"], SamplingParams(n=1))
    assert [o.texts for o in outs] == [["answer 0 to: a"], ["answer 0 to: b"], ["answer 0 to: c"]]
    assert all(o.error is None for o in outs)
    assert fault_server.posts == 3 * 3  # two failures and one answer per prompt
    eng.close()


@pytest.mark.timeout(60)
@pytest.mark.parametrize("mode", ["hang", "drip"])
def test_a_server_that_never_finishes_answering_times_out(fault_server, tmp_path, mode):
    """`hang` sends nothing; `drip` sends a byte every 0.1 s, which a per-read timeout never catches."""
    fault_server.mode = mode
    fault_server.drip_seconds = 0.1
    eng = open_engine(_cfg(fault_server.url, tmp_path, timeout=0.5, retries=1))
    (out,) = eng.generate(["x"], SamplingParams())
    assert out.error and "timed out" in out.error.lower() and out.texts == []
    assert fault_server.posts == 2
    assert _cached_entries(tmp_path) == 0
    eng.close()


def test_the_default_timeout_is_well_under_two_minutes(fault_server):
    cfg = EngineConfig(url=fault_server.url)
    assert cfg.timeout == 60.0
    eng = build_engine(cfg)
    assert eng.timeout == 60.0 and eng.client.timeout.read == 60.0
    eng.close()


def test_a_refused_request_is_not_retried(fault_server, tmp_path):
    fault_server.mode = "400"
    eng = build_engine(_cfg(fault_server.url, tmp_path))
    with pytest.raises(EngineError, match="HTTP 400"):
        eng.generate(["x"], SamplingParams())
    assert fault_server.posts == 1
    eng.close()


@pytest.mark.parametrize("mode", ["500", "malformed", "bad_shape", "html"])
def test_prompt_scoring_fails_cleanly_and_is_not_cached(fault_server, tmp_path, mode):
    fault_server.mode = mode
    eng = open_engine(_cfg(fault_server.url, tmp_path))
    with pytest.raises(EngineError, match="2 of 2 prompt"):
        eng.score_prompts(["one two three", "four five"], top_k=2)
    assert _cached_entries(tmp_path) == 0
    eng.close()
    fault_server.mode = "ok"
    eng = open_engine(_cfg(fault_server.url, tmp_path))
    first, second = eng.score_prompts(["one two three", "four five"], top_k=2)
    assert first.token_logprobs == [-1.0, -1.0] and second.token_logprobs == [-1.0]
    assert _cached_entries(tmp_path) == 2
    eng.close()


class _ShortEngine(FakeEngine):
    """Returns one sample fewer than asked, flagged as an error (as a failing engine would)."""

    def generate(self, prompts, params):
        out = super().generate(prompts, params)
        return [Completion(texts=c.texts[:-1], error="engine gave up") for c in out]


def test_the_cache_stores_nothing_from_a_failed_call(tmp_path):
    eng = open_engine(EngineConfig(engine="fake", cache_dir=str(tmp_path)), engine=_ShortEngine())
    (out,) = eng.generate(["q"], SamplingParams(n=3, temperature=1.0))
    assert out.error == "engine gave up"
    assert _cached_entries(tmp_path) == 0
    eng.close()


def test_a_short_reply_without_an_error_is_an_error_and_not_cached(tmp_path):
    class Silent(FakeEngine):
        def generate(self, prompts, params):
            return [Completion(texts=c.texts[:1]) for c in super().generate(prompts, params)]

    eng = open_engine(EngineConfig(engine="fake", cache_dir=str(tmp_path)), engine=Silent())
    (out,) = eng.generate(["q"], SamplingParams(n=3, temperature=1.0))
    assert out.error == "engine returned 1 of 3 samples" and out.texts == []
    assert _cached_entries(tmp_path) == 0
    eng.close()
