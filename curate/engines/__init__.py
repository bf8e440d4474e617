"""Model engines behind one small protocol: in-process vLLM, an OpenAI-compatible server, a fake."""

from curate.engines.base import ENGINES, Completion, Engine, EngineConfig, Prompt, PromptScore, SamplingParams

__all__ = ["ENGINES", "Completion", "Engine", "EngineConfig", "Prompt", "PromptScore", "SamplingParams"]
