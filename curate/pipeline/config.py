"""Pipeline files: validated top-level settings, and stages whose options are the commands' own.

A stage is a one-key mapping, `{score: {...}}`, `{synthesize: {...}}`, `{order: {...}}`,
`{report: {...}}` (any stage in the `curate.stages` registry); its keys are the fields of that
stage's options model, which are the command's option names (`k`, `signals`, `schedule`, ...), so
a pipeline accepts exactly what the command line does. Unknown keys are rejected with their path
and the allowed names (curate.pipeline.runner validates every stage before the first one runs).
YAML aliases (`*name`, and `<<: *name` merges) are refused while parsing: nested aliases expand
exponentially (a 600-byte file can stand for gigabytes), and a pipeline file is short enough to
write every value out.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from curate.errors import UsageError


class EngineSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    engine: Literal["vllm", "openai", "fake"] = "vllm"
    model: str | None = None
    url: str | None = None
    cache: bool = True


class PipelineConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    input: list[str] = Field(description="Input files, folders or globs (relative paths: from the current directory).")
    output: str = Field(description="Run folder: stage outputs, ordered shards, report and state (relative paths: from the current directory).")
    seed: int = 0
    text_field: str = "text"
    id_field: str = "id"
    engine: EngineSettings = Field(default_factory=EngineSettings)
    executor: Literal["local", "ray"] = "local"
    ray_address: str | None = Field(
        default=None, description="Ray cluster for executor: ray ('auto' on a cluster node); default: $RAY_ADDRESS, else a local Ray."
    )
    stages: list[dict[str, dict[str, Any] | None]]

    @field_validator("input", mode="before")
    @classmethod
    def _listify(cls, v: Any) -> Any:
        return [v] if isinstance(v, str) else v

    @field_validator("stages")
    @classmethod
    def _stage_shape(cls, stages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        from curate.stages import STAGES

        if not stages:
            raise ValueError("a pipeline needs at least one stage")
        types = STAGES.names()
        for i, st in enumerate(stages):
            if len(st) != 1 or next(iter(st)) not in types:
                raise ValueError(f"stages[{i}] must be one of {{{', '.join(types)}}}: {{options}}, got keys {list(st)}")
        return stages

    def stage_list(self) -> list[tuple[str, dict[str, Any]]]:
        out: list[tuple[str, dict[str, Any]]] = []
        for st in self.stages:
            ((kind, opts),) = st.items()
            out.append((kind, dict(opts or {})))
        return out


def _format_errors(exc: ValidationError, path: str) -> str:
    lines = []
    for e in exc.errors():
        loc = ".".join(str(p) for p in e["loc"])
        if e["type"] == "extra_forbidden":
            parent = e["loc"][:-1]
            model: Any = PipelineConfig
            for p in parent:
                model = model.model_fields[str(p)].annotation if hasattr(model, "model_fields") else model
            allowed = ", ".join(getattr(model, "model_fields", {}).keys())
            lines.append(f"{path}: unknown key '{loc}' (allowed here: {allowed})")
        else:
            lines.append(f"{path}: {loc or '(top level)'}: {e['msg']}")
    return "; ".join(lines)


def set_path(data: dict[str, Any], dotted: str, value: Any) -> None:
    """Apply `--set a.b.0.c=value` to nested dicts/lists (list indices are numbers)."""
    parts = dotted.split(".")
    cur: Any = data
    for i, p in enumerate(parts):
        last = i == len(parts) - 1
        if isinstance(cur, list):
            if not p.isdigit() or int(p) >= len(cur):
                raise UsageError(f"--set {dotted}: '{p}' is not an index of a list of {len(cur)}", "use e.g. stages.0.score.k=4")
            if last:
                cur[int(p)] = value
            else:
                cur = cur[int(p)]
            continue
        if not isinstance(cur, dict):
            raise UsageError(f"--set {dotted}: '{p}' is inside a value, not a mapping")
        if last:
            cur[p] = value
        else:
            if cur.get(p) is None:
                cur[p] = {}
            cur = cur[p]


class _Alias(Exception):
    def __init__(self, anchor: str, line: int):
        super().__init__(anchor)
        self.anchor, self.line = anchor, line


class _NoAliasLoader(yaml.SafeLoader):
    """safe_load that stops at the first alias, before anything is expanded."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise _Alias(str(event.anchor), event.start_mark.line + 1)
        return super().compose_node(parent, index)


def parse_yaml(text: str, where: str) -> Any:
    """YAML without aliases; UsageError (exit 2) naming `where` and the line for an alias or a syntax error."""
    try:
        return yaml.load(text, Loader=_NoAliasLoader)  # noqa: S506 - a SafeLoader subclass
    except _Alias as exc:
        raise UsageError(
            f"{where} line {exc.line}: YAML aliases are not allowed (alias *{exc.anchor})", "write the value out in full instead of &anchor / *alias"
        ) from None
    except yaml.YAMLError as exc:
        raise UsageError(f"{where} is not valid YAML: {exc}") from exc


def load_pipeline(path: str | Path, overrides: list[str] | None = None) -> PipelineConfig:
    p = Path(path)
    if not p.is_file():
        raise UsageError(f"pipeline file '{path}' does not exist", "see pipelines/ for examples")
    data = parse_yaml(p.read_text(), str(path)) or {}
    if not isinstance(data, dict):
        raise UsageError(f"{path} must hold a mapping at the top level")
    for ov in overrides or []:
        key, sep, raw = ov.partition("=")
        if not sep:
            raise UsageError(f"--set expects KEY=VALUE, got '{ov}'", "e.g. --set seed=3 or --set stages.0.score.k=4")
        set_path(data, key.strip(), parse_yaml(raw, f"--set {key.strip()}"))
    try:
        return PipelineConfig.model_validate(data)
    except ValidationError as exc:
        raise UsageError(_format_errors(exc, str(path)), "fix the pipeline file (or the --set value)") from None
