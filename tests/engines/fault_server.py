"""A fault-injecting OpenAI-compatible server on 127.0.0.1, for tests of engines and of commands.

    with FaultServer("500") as srv:          # or the `fault_server` fixture (tests/conftest.py)
        eng = build_engine(EngineConfig(url=srv.url, timeout=1.0, retries=2))
        ...
        assert srv.posts == 3                # one request, two retries

It serves `GET /v1/models` (always healthy, model id `fault-model`, so an engine opens) and answers
`POST /v1/completions` and `POST /v1/chat/completions` according to `mode`:

    ok            a correct reply: `n` choices, each `responder(prompt, i)` (default "answer {i} to: {prompt}");
                  `echo=true` requests (prompt scoring) get one log-probability per word
    500           HTTP 500 for every request
    429           HTTP 429 (rate limited) for every request
    400           HTTP 400 (the request is refused: not worth retrying)
    flaky         each distinct request body fails `flaky_failures` times (HTTP 500), then is answered
                  as `ok`; counted per body, so the outcome does not depend on thread timing
    hang          accepts the request and never answers (until the server stops)
    drip          sends headers and a valid-looking body one byte every `drip_seconds` (never ends
                  within a reasonable timeout: a read timeout alone does not catch it)
    malformed     HTTP 200, `application/json`, a body cut off mid-JSON
    bad_shape     HTTP 200, valid JSON of the wrong shape (`choices` is not a list of choices)
    html          HTTP 200 with an HTML error page (what a proxy in front of a dead server sends)
    null_content  a reply whose choices hold `null` text (`message.content: null` for chat)
    few_choices   one choice fewer than the `n` asked for (none when n = 1)

`queue` holds modes for the next POSTs, used before `mode` (e.g. `["500", "ok"]`). Every POST is
recorded in `requests` as `(path, body)`; `posts` counts them. `mode` and `queue` may be changed
while the server runs (e.g. a test starts with "500" and reruns against "ok").
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MODES = ("ok", "500", "429", "400", "flaky", "hang", "drip", "malformed", "bad_shape", "html", "null_content", "few_choices")


def default_responder(prompt: str, index: int) -> str:
    return f"answer {index} to: {prompt}"


class FaultServer:
    def __init__(self, mode: str = "ok", *, responder: Callable[[str, int], str] | None = None, flaky_failures: int = 1, drip_seconds: float = 0.2):
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; modes: {', '.join(MODES)}")
        self.mode = mode
        self.queue: list[str] = []
        self.responder = responder or default_responder
        self.flaky_failures = flaky_failures
        self.drip_seconds = drip_seconds
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self._failures: dict[str, int] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def posts(self) -> int:
        with self._lock:
            return len(self.requests)

    def stop(self) -> None:
        self._stopping.set()  # releases hanging and dripping handlers
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> FaultServer:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # -- what to answer ----------------------------------------------------------------------
    def _next_mode(self, body: dict[str, Any]) -> str:
        with self._lock:
            mode = self.queue.pop(0) if self.queue else self.mode
            if mode == "flaky":
                key = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
                seen = self._failures.get(key, 0)
                self._failures[key] = seen + 1
                mode = "500" if seen < self.flaky_failures else "ok"
        return mode

    def _reply(self, path: str, body: dict[str, Any], mode: str) -> dict[str, Any]:
        n = int(body.get("n") or 1)
        if mode == "few_choices":
            n -= 1
        chat = path.endswith("/chat/completions")
        if chat:
            prompt = str(body["messages"][-1]["content"])
            content = [None if mode == "null_content" else self.responder(prompt, i) for i in range(n)]
            choices = [{"index": i, "message": {"role": "assistant", "content": c}, "finish_reason": "stop"} for i, c in enumerate(content)]
        elif body.get("echo"):
            words = str(body["prompt"]).split()
            lps = [None] + [-1.0] * len(words[1:])
            tops = [None] + [{w: -1.0, "<other>": -2.0} for w in words[1:]]
            choices = [
                {"index": 0, "text": None if mode == "null_content" else body["prompt"], "logprobs": {"token_logprobs": lps, "top_logprobs": tops}}
            ][:n]
            return {"choices": choices, "usage": {"prompt_tokens": len(words)}}
        else:
            prompt = str(body["prompt"])
            texts = [None if mode == "null_content" else self.responder(prompt, i) for i in range(n)]
            choices = [{"index": i, "text": t, "finish_reason": "stop"} for i, t in enumerate(texts)]
        return {"choices": choices, "usage": {"completion_tokens": 3 * max(n, 0)}}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        srv = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, code: int, data: bytes, ctype: str = "application/json") -> None:
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                self._send(200, json.dumps({"data": [{"id": "fault-model"}]}).encode())

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                with srv._lock:
                    srv.requests.append((self.path, body))
                mode = srv._next_mode(body)
                if mode in ("500", "429", "400"):
                    return self._send(int(mode), json.dumps({"error": {"message": f"injected {mode}"}}).encode())
                if mode == "hang":
                    srv._stopping.wait()
                    return
                if mode == "malformed":
                    return self._send(200, b'{"choices": [{"index": 0, "text": "cut of')
                if mode == "bad_shape":
                    return self._send(200, json.dumps({"choices": [["not", "a", "choice"]]}).encode())
                if mode == "html":
                    return self._send(200, b"<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html")
                data = json.dumps(srv._reply(self.path, body, mode)).encode()
                if mode == "drip":
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    for i in range(len(data)):
                        if srv._stopping.wait(srv.drip_seconds):
                            return
                        try:
                            self.wfile.write(data[i : i + 1])
                            self.wfile.flush()
                        except OSError:  # the client gave up
                            return
                    return
                self._send(200, data)

        return Handler
