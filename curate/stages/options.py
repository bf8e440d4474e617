"""Option groups shared by several stages, and the validators they use.

A stage's options model inherits the groups it takes; the CLI builds each group's flags from the
same fields (curate/cli/_options.py), so a flag, a pipeline key and a keyword argument share one
name, one type, one default and one help text.
"""

from __future__ import annotations

import enum
from typing import Any, ClassVar, Literal

from pydantic import AliasChoices, Field, field_validator

from curate.stages.base import StageOptions

DirectionName = Literal["higher-is-harder", "lower-is-harder", "higher", "lower"]


class OutputFormat(str, enum.Enum):
    jsonl = "jsonl"
    parquet = "parquet"


def parse_pairs(value: Any, flag: str) -> Any:
    """`["a=1", "b=2"]` (repeated flags) → `{"a": "1", "b": "2"}`; a mapping passes through."""
    if value is None:
        return {}
    if isinstance(value, dict):
        return value
    if isinstance(value, str):
        value = [value]
    out: dict[str, str] = {}
    for v in value:
        if not isinstance(v, str) or "=" not in v:
            raise ValueError(f"{flag} expects NAME=VALUE, got {v!r} (e.g. {flag} readability=2)")
        k, _, val = v.partition("=")
        out[k.strip()] = val.strip()
    return out


def split_names(value: Any) -> Any:
    """Repeated or comma-separated names → one flat list (`-s a,b -s c` → [a, b, c])."""
    if isinstance(value, str):
        value = [value]
    if isinstance(value, list | tuple):
        return [p.strip() for v in value for p in str(v).split(",") if p.strip()]
    return value


def check_registered(registry: Any, names: list[str]) -> list[str]:
    """Every name is registered (a UsageError names the known ones)."""
    for n in names:
        registry.get(n)
    return names


class EngineFields(StageOptions):
    """Which model engine a stage calls (None: the run's engine)."""

    engine: str | None = None
    """Model engine: vllm (in-process), openai (a server at --engine-url), fake (tests)."""
    engine_url: str | None = None
    """Base URL of an OpenAI-compatible server (implies --engine openai)."""
    model: str | None = None
    """Model path or name (default: the bundled SmolLM2-135M-Instruct)."""
    no_cache: bool = False
    """Bypass the request cache (results are still stored)."""
    engine_timeout: float | None = Field(None, gt=0)
    """Seconds to wait for one server request before retrying it (default: 60)."""

    @field_validator("engine")
    @classmethod
    def _known_engine(cls, v: str | None) -> str | None:
        if v is not None:
            from curate.engines.base import ENGINES

            check_registered(ENGINES, [v])
        return v


class ExecutorFields(StageOptions):
    """Where a stage's batches run (None: the run's executor)."""

    executor: str | None = None
    """Where batches run: local (a process pool here) or ray (Ray Data tasks; model signals on engine actors)."""
    ray_address: str | None = None
    """Ray cluster to use ('auto' on a cluster node, or ray://HOST:10001); implies --executor ray. Default: $RAY_ADDRESS, else start a local Ray."""

    @field_validator("executor")
    @classmethod
    def _known_executor(cls, v: str | None) -> str | None:
        if v is not None:
            from curate.executors.base import EXECUTORS

            check_registered(EXECUTORS, [v])
        return v


class EngineActorFields(StageOptions):
    """Engine actors on Ray."""

    ray_engines: int = Field(1, ge=1)
    """With --executor ray: engine actors for model calls, each loading the model once (--ray-engine-cpus each; 1 GPU each on a GPU cluster)."""
    ray_engine_cpus: float = Field(1.0, ge=0.01)
    """With --executor ray: CPUs each engine actor reserves (on a CPU cluster, most of a node's cores)."""

    def check_engine_actors(self, executor: str) -> None:
        """Engine-actor options without Ray are a usage error."""
        from curate.errors import UsageError

        if executor != "ray" and (self.ray_engines != 1 or self.ray_engine_cpus != 1.0):
            raise UsageError(
                "--ray-engines and --ray-engine-cpus apply to engine actors on Ray", "add --executor ray (or --ray-address), or drop them"
            )


class RowOutputFields(StageOptions):
    """Where a row-producing stage writes."""

    runner_fields: ClassVar[tuple[str, ...]] = ("inputs", "output", "rejects")

    inputs: list[str] = Field(min_length=1)
    """Input: Parquet file/dir/glob, JSONL (.jsonl/.jsonl.gz), CSV, a saved HF dataset folder, or '-' for JSONL on stdin."""
    output: str = "-"
    """Output: '-' (JSONL on stdout), a .jsonl/.parquet file, or a directory of Parquet shards."""
    format: OutputFormat | None = Field(None, validation_alias=AliasChoices("format", "fmt"))
    """Force the output format instead of inferring it from the name."""
    rows_per_shard: int = Field(100_000, ge=1)
    """Rows per Parquet shard when writing a directory."""
    rejects: str | None = None
    """Where quarantined rows go (JSONL). Default: beside the output, or ./curate-rejects.jsonl for stdout."""
    seed: int = 0
    """Random seed: same input and seed give identical output."""
