"""A running vLLM (or any OpenAI-compatible) server at `--engine-url`, over HTTP with httpx.

Chat prompts go to /v1/chat/completions (the server applies the model's chat template), plain
text to /v1/completions; `n` samples come back from one request. Each attempt must deliver its
whole reply within `timeout` seconds (a server that hangs, or trickles bytes, counts as timed
out), and is retried with exponential backoff (tenacity) on connection errors, timeouts, HTTP
429/5xx and replies that are not what was asked for: not JSON, not the completion shape, fewer
choices than `n`, a choice without text (`null` content). At most `concurrency` requests are in
flight (a thread pool). A prompt that still fails after the retries comes back as a `Completion`
with `error` set and no texts, so a long run completes and the failure is recorded on that row
instead of aborting the batch; the request cache never stores it. A request the server refuses
(HTTP 4xx other than 429) raises `EngineError` at once: retrying would not help.

Prompt scoring uses /v1/completions with `echo=true, logprobs=k, max_tokens=1` (vLLM returns
prompt log-probabilities that way). The server tokenizes the text itself, so the first token
has no log-probability unless the tokenizer adds a BOS token.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from curate.engines.base import ENGINES, Completion, EngineConfig, Prompt, PromptScore, SamplingParams
from curate.errors import EngineError

T = TypeVar("T")
DEFAULT_TIMEOUT = 60.0  # seconds per attempt; see EngineConfig.timeout


class _Retryable(Exception):
    """A failure worth retrying (5xx, 429, timeout, dropped connection, garbage reply)."""


@ENGINES.register("openai")
class OpenAIEngine:
    name = "openai"
    remote = True

    def __init__(
        self,
        url: str,
        model: str | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        retries: int = 4,
        concurrency: int = 8,
        api_key: str | None = None,
        backoff: float = 0.5,
        max_backoff: float = 20.0,
    ):
        import httpx

        self.url = url.rstrip("/")
        if self.url.endswith("/v1"):
            self.url = self.url[: -len("/v1")]
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.client = httpx.Client(
            base_url=self.url,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            headers=headers,
            limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
        )
        self.pool = ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="curate-openai")
        self.model = model or self._served_model()

    @classmethod
    def model_name(cls, cfg: EngineConfig) -> str | None:
        return cfg.model  # None: only the server can say (/v1/models)

    @classmethod
    def from_config(cls, cfg: EngineConfig) -> OpenAIEngine:
        import os

        if not cfg.url:
            from curate.errors import UsageError

            raise UsageError("the openai engine needs a server URL", "pass --engine-url http://127.0.0.1:8000")
        extra = dict(cfg.extra)
        extra.setdefault("api_key", os.environ.get("CURATE_API_KEY") or os.environ.get("OPENAI_API_KEY"))
        return cls(cfg.url, cfg.model, timeout=cfg.timeout, retries=cfg.retries, concurrency=cfg.concurrency, **extra)

    # -- HTTP ------------------------------------------------------------------------------
    def _post_once(self, path: str, body: dict[str, Any], parse: Callable[[Any], T]) -> T:
        import httpx
        import orjson

        deadline = time.monotonic() + self.timeout
        try:
            with self.client.stream("POST", path, json=body) as r:
                chunks = []
                for chunk in r.iter_bytes():  # each read has its own timeout; the deadline bounds them all
                    chunks.append(chunk)
                    if time.monotonic() > deadline:
                        raise _Retryable(f"timed out: no complete reply within {self.timeout:g} s")
                raw = b"".join(chunks)
        except httpx.TimeoutException as exc:
            raise _Retryable(f"timed out after {self.timeout:g} s ({type(exc).__name__})") from exc
        except httpx.TransportError as exc:
            raise _Retryable(f"{type(exc).__name__}: {exc}") from exc
        text = raw[:200].decode("utf-8", "replace")
        if r.status_code == 429 or r.status_code >= 500:
            raise _Retryable(f"HTTP {r.status_code}: {text}")
        if r.status_code >= 400:
            raise EngineError(
                f"server refused the request (HTTP {r.status_code}): {raw[:300].decode('utf-8', 'replace')}", "check --model and the sampling options"
            )
        try:
            return parse(orjson.loads(raw))
        except (ValueError, TypeError, KeyError, AttributeError, IndexError) as exc:  # orjson.JSONDecodeError is a ValueError
            raise _Retryable(f"malformed reply ({exc}): {text!r}") from exc

    def _post(self, path: str, body: dict[str, Any], parse: Callable[[Any], T]) -> T:
        """POST and parse the reply, retrying what is worth retrying; raises the last `_Retryable`."""
        from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential

        call = retry(
            retry=retry_if_exception_type(_Retryable),
            stop=stop_after_attempt(self.retries + 1),
            wait=wait_exponential(multiplier=self.backoff, max=self.max_backoff),
            reraise=True,
        )(self._post_once)
        return call(path, body, parse)

    def _served_model(self) -> str:
        try:
            r = self.client.get("/v1/models")
            r.raise_for_status()
            models = r.json().get("data") or []
            return str(models[0]["id"])
        except Exception as exc:
            raise EngineError(
                f"cannot reach an OpenAI-compatible server at {self.url} ({type(exc).__name__}: {exc})",
                "start one (python -m vllm.entrypoints.openai.api_server --host 127.0.0.1 --model DIR) or fix --engine-url; pass --model if /v1/models is not served",
            ) from None

    # -- protocol --------------------------------------------------------------------------
    def _one(self, prompt: Prompt, params: SamplingParams) -> Completion:
        body: dict[str, Any] = {
            "model": self.model,
            "n": params.n,
            "temperature": params.temperature,
            "top_p": params.top_p,
            "max_tokens": params.max_tokens,
        }
        if params.stop:
            body["stop"] = list(params.stop)
        if params.json_schema is not None:
            body["response_format"] = {"type": "json_schema", "json_schema": {"name": "output", "schema": params.json_schema}}
        chat = not isinstance(prompt, str)
        if chat:
            body["messages"] = list(prompt)
            if params.logprobs:
                body["logprobs"], body["top_logprobs"] = True, params.logprobs
        else:
            body["prompt"] = prompt
            if params.logprobs:
                body["logprobs"] = params.logprobs
        try:
            return self._post("/v1/chat/completions" if chat else "/v1/completions", body, lambda data: self._completion(data, params, chat))
        except _Retryable as exc:  # retries exhausted: recorded on the row, never cached
            return Completion(texts=[], error=f"{exc} (after {self.retries} retries)"[:300])

    def _completion(self, data: Any, params: SamplingParams, chat: bool) -> Completion:
        """A reply as a Completion; ValueError (retried) unless it holds exactly `n` choices with text."""
        choices = data["choices"]
        if not isinstance(choices, list) or not all(isinstance(c, dict) for c in choices):
            raise ValueError("'choices' is not a list of objects")
        if len(choices) != params.n:
            raise ValueError(f"{len(choices)} choices for n={params.n}")
        choices = sorted(choices, key=lambda c: int(c.get("index") or 0))
        texts = [c["message"]["content"] if chat else c["text"] for c in choices]
        if not all(isinstance(t, str) for t in texts):
            raise ValueError("a choice has no text (null content)")
        logprobs = [self._logprobs(c, chat) for c in choices] if params.logprobs else None
        usage = data.get("usage") or {}
        per = [len(t.split()) for t in texts]
        if usage.get("completion_tokens") and texts:  # split the total in proportion to length
            total, words = int(usage["completion_tokens"]), max(1, sum(per))
            per = [max(1, round(total * w / words)) if t else 0 for w, t in zip(per, texts)]
        return Completion(texts=texts, token_counts=per, finish_reasons=[str(c.get("finish_reason") or "") for c in choices], logprobs=logprobs)

    @staticmethod
    def _logprobs(choice: dict[str, Any], chat: bool) -> list[dict[str, float]]:
        lp = choice.get("logprobs") or {}
        if chat:
            return [{t["token"]: float(t["logprob"]) for t in (pos.get("top_logprobs") or [])} for pos in (lp.get("content") or [])]
        return [{k: float(v) for k, v in (pos or {}).items()} for pos in (lp.get("top_logprobs") or [])]

    def generate(self, prompts: list[Prompt], params: SamplingParams) -> list[Completion]:
        return list(self.pool.map(lambda p: self._one(p, params), prompts))

    def _score_one(self, text: str, top_k: int) -> PromptScore | str:
        """The prompt's log-probabilities, or why they could not be had (after the retries)."""
        body = {"model": self.model, "prompt": text, "max_tokens": 1, "temperature": 0.0, "echo": True, "logprobs": max(1, top_k)}
        try:
            return self._post("/v1/completions", body, lambda data: self._prompt_score(data, top_k))
        except _Retryable as exc:
            return str(exc)

    @staticmethod
    def _prompt_score(data: Any, top_k: int) -> PromptScore:
        lp = data["choices"][0]["logprobs"]
        if not isinstance(lp, dict) or not isinstance(lp.get("token_logprobs"), list):
            raise ValueError("no prompt log-probabilities (is echo with logprobs supported?)")
        n_prompt = (data.get("usage") or {}).get("prompt_tokens") or max(0, len(lp["token_logprobs"]) - 1)
        token_lps = lp["token_logprobs"][:n_prompt]
        tops = (lp.get("top_logprobs") or [])[:n_prompt]
        keep = [i for i, v in enumerate(token_lps) if v is not None and not math.isnan(v)]
        return PromptScore(
            token_logprobs=[float(token_lps[i]) for i in keep],
            top_logprobs=[{k: float(v) for k, v in list((tops[i] or {}).items())[:top_k]} for i in keep] if top_k else None,
        )

    def score_prompts(self, texts: list[str], top_k: int = 0) -> list[PromptScore]:
        """Raises EngineError when any text could not be scored: a batch of scores is all or nothing."""
        results = list(self.pool.map(lambda t: self._score_one(t, top_k), texts))
        failed = [r for r in results if isinstance(r, str)]
        if failed:
            raise EngineError(
                f"{len(failed)} of {len(texts)} prompt scorings failed at {self.url} after {self.retries} retries: {failed[0]}",
                "check the server and --engine-url",
            )
        return results  # type: ignore[return-value]

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
        self.client.close()
