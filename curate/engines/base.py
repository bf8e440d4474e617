"""The engine protocol: generate completions (k per prompt) and score prompt log-probabilities."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from curate.registry import Registry

# A prompt is raw text (completion API) or chat messages [{"role": ..., "content": ...}].
Prompt = str | list[dict[str, str]]


@dataclass(frozen=True)
class SamplingParams:
    max_tokens: int = 256
    temperature: float = 0.0
    top_p: float = 1.0
    n: int = 1
    stop: tuple[str, ...] = ()
    logprobs: int | None = None  # top-k logprobs per generated token
    json_schema: dict[str, Any] | None = None  # structured output, where the engine supports it

    def key(self) -> dict[str, Any]:
        return {
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
            "top_p": self.top_p,
            "n": self.n,
            "stop": list(self.stop),
            "logprobs": self.logprobs,
            "json_schema": self.json_schema,
        }


@dataclass
class Completion:
    """The n samples for one prompt."""

    texts: list[str]
    token_counts: list[int] = field(default_factory=list)
    finish_reasons: list[str] = field(default_factory=list)
    # Per sample, per generated token: {token: logprob} for the top-k alternatives (when requested).
    logprobs: list[list[dict[str, float]]] | None = None
    cached: bool = False
    error: str | None = None  # set (with no texts) when the engine gave up on this prompt; never cached


@dataclass
class PromptScore:
    """Log-probabilities of a text's own tokens under the model (for perplexity/entropy)."""

    token_logprobs: list[float]
    top_logprobs: list[dict[str, float]] | None = None


@runtime_checkable
class Engine(Protocol):
    """A model behind `generate` and `score_prompts`.

    Optional hooks on the class (looked up with getattr):
      - `from_config(cfg: EngineConfig) -> Engine`: build from the shared settings (default:
        `cls(model=cfg.model, **cfg.extra)`);
      - `remote: bool` (class attribute): the model runs elsewhere and is reached over the network;
      - `model_name(cfg: EngineConfig) -> str | None`: the name the engine will report as `model`,
        known without starting it (request-cache keys use it, so a cached rerun needs no model);
        None when only a started engine can tell.
    """

    name: str
    model: str

    def generate(self, prompts: list[Prompt], params: SamplingParams) -> list[Completion]: ...

    def score_prompts(self, texts: list[str], top_k: int = 0) -> list[PromptScore]: ...

    def close(self) -> None: ...


ENGINES: Registry[Any] = Registry(
    "engines",
    builtin_modules={"fake": "curate.engines.fake", "vllm": "curate.engines.vllm_local", "openai": "curate.engines.openai_server"},
)


@dataclass
class EngineConfig:
    """How to reach a model. `open_engine(cfg)` (in curate.engines) builds the engine, wrapped in the request cache."""

    engine: str = "vllm"  # registry name: vllm | openai | fake
    model: str | None = None  # None → the bundled SmolLM2-135M-Instruct
    url: str | None = None  # OpenAI-compatible server; implies engine="openai"
    cache: bool = True  # read from the request cache (results are always written)
    cache_dir: str | None = None  # default: $CURATE_CACHE_DIR or ~/.cache/curate
    seed: int = 0
    max_model_len: int = 2048
    concurrency: int = 8  # in-flight requests to a server
    # Seconds for one attempt of one server request (the whole reply), then retried;
    # a hung server is counted as failed. 60 s covers
    # the default pass-rate request (k=8 samples × 256 tokens) even on a CPU server shared by 8
    # requests in flight (~380 tok/s measured here: ≈ 43 s), and finds a hung server in a minute.
    timeout: float = 60.0
    retries: int = 4
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def is_remote(self) -> bool:
        """A server reached over the network: called from this process, never run on engine actors.

        The one answer to "is this engine remote?": the engine class says so (`remote = True`).
        """
        return bool(getattr(ENGINES.get(self.registry_name), "remote", False))

    def __post_init__(self) -> None:
        if self.url and self.engine == "vllm":  # a server URL with the default engine: the OpenAI-compatible client
            self.engine = "openai"

    @property
    def registry_name(self) -> str:
        """The registry name of the engine to build."""
        return self.engine
