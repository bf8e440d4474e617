"""The stage protocol: a typed options model and `run(options, ctx) -> Summary`.

A stage is one step of curate's work (score, synthesize, order, report, ...). The command line,
a pipeline file and a Python caller all reach it the same way:

    from curate.stages import RunContext, get_stage
    stage = get_stage("score")
    with RunContext() as ctx:
        summary = stage.run(stage.Options(inputs=["data.jsonl"], output="scored.parquet"), ctx)

`Options` is a pydantic model: typed fields with defaults, whose attribute docstrings are the
command's help texts. It is validated on every construction (unknown keys are errors), so a
pipeline file, a flag and a keyword argument are checked by the same rules. `Summary` is what
the stage did: rows in and out, quarantined rows, timings and what was reused; the CLI prints
it and `--summary-json` writes `summary.to_json()`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from curate.errors import InputError, RejectRateExceeded
from curate.registry import Registry


class StageOptions(BaseModel):
    """Base of every stage's options: unknown keys are errors; docstrings are help texts."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True, validate_assignment=True, populate_by_name=True, defer_build=True)

    # Fields a pipeline runner fills in itself for every stage (inputs, outputs, state files); a
    # pipeline file may not set them.
    runner_fields: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def help(cls, name: str) -> str:
        """The help text of one option (its attribute docstring)."""
        return cls.model_fields[name].description or ""

    @classmethod
    def default(cls, name: str) -> Any:
        f = cls.model_fields[name]
        return f.get_default(call_default_factory=True)

    @classmethod
    def file_keys(cls) -> list[str]:
        """The keys a pipeline file may set for this stage."""
        return sorted(n for n in cls.model_fields if n not in cls.runner_fields)


class Summary(BaseModel):
    """What a stage did. Stage summaries add their own fields; `extra` holds free-form details."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    stage: str
    rows_in: int = 0
    rows_out: int = 0
    quarantined: int = 0
    reject_reasons: dict[str, int] = Field(default_factory=dict)
    rejects_path: str | None = None
    seconds: float = 0.0
    reused: dict[str, int] = Field(default_factory=dict)
    complete: bool = True  # False: the stage left rows a later run must finish, so a pipeline reruns it
    extra: dict[str, Any] = Field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The summary as `--summary-json` writes it."""
        data = self.model_dump(mode="json", exclude={"extra"})
        data.update(self.extra)
        return data

    def check_gates(self, max_reject_rate: float | None = None, fail_on_empty: bool = False, name: str | None = None) -> None:
        """The CI gates: exit 4 when more than `max_reject_rate` of the rows were quarantined, 3 when empty."""
        label = f"stage {name}" if name else self.stage
        if fail_on_empty and self.rows_out == 0:
            raise InputError(f"{label} produced no rows", "check the input and the rejects file; drop --fail-on-empty to allow it")
        if max_reject_rate is not None and self.rows_in and self.quarantined / self.rows_in > max_reject_rate:
            rate = self.quarantined / self.rows_in
            raise RejectRateExceeded(
                f"{label} quarantined {self.quarantined} of {self.rows_in} rows ({rate:.1%}) > --max-reject-rate {max_reject_rate:.1%}",
                f"see {self.rejects_path} for each row's reason" if self.rejects_path else None,
            )


def _type_name(annotation: Any) -> str:
    import typing

    if annotation is None:
        return "null"
    args = typing.get_args(annotation)
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return " or ".join(repr(a) for a in args)
    if args and origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        return " or ".join(_type_name(a) for a in args if a is not type(None)) + (" or null" if type(None) in args else "")
    if origin in (list, tuple):
        return f"a list of {_type_name(args[0])}" if args else "a list"
    if origin is dict:
        return f"a mapping of {_type_name(args[0])} to {_type_name(args[1])}" if len(args) == 2 else "a mapping"
    return getattr(annotation, "__name__", str(annotation))


def build_options(model: type[StageOptions], values: dict[str, Any], where: str | None = None, fixed: dict[str, Any] | None = None) -> Any:
    """Validate `values` (and `fixed`, set by a runner) into `model`; problems become one UsageError naming each key.

    Unknown keys name the allowed ones; wrong types name the expected type. `where` prefixes each
    message (a pipeline stage's path, e.g. `stages[0].score`); there, `values` may not set the
    runner's own fields (inputs, output, ...).
    """
    from pydantic import ValidationError

    from curate.errors import CurateError, UsageError

    prefix = f"{where}: " if where else ""
    if where:
        for key in values:
            if key in model.runner_fields:
                raise UsageError(f"{prefix}'{key}' is set by `curate run` itself", f"remove it; allowed keys: {', '.join(model.file_keys())}")
    try:
        return model.model_validate({**values, **(fixed or {})})
    except CurateError as exc:  # raised by a validator itself (e.g. an unknown signal): say where
        raise type(exc)(prefix + exc.what, exc.fix) from None
    except ValidationError as exc:
        lines = []
        for e in exc.errors():
            key = ".".join(str(p) for p in e["loc"]) or "(options)"
            top = str(e["loc"][0]) if e["loc"] else ""
            if e["type"] == "extra_forbidden":
                allowed = model.file_keys() if where else sorted(model.model_fields)
                lines.append(f"{prefix}unknown key '{key}' (allowed keys: {', '.join(allowed)})")
            elif e["type"] == "missing":
                lines.append(f"{prefix}'{key}' is required")
            else:
                field = model.model_fields.get(top)
                expected = f" (expected {_type_name(field.annotation)})" if field is not None else ""
                msg = e["msg"].removeprefix("Value error, ")
                lines.append(f"{prefix}'{key}': {msg}{expected}")
        raise UsageError("; ".join(lines)) from None


@dataclass
class Slot:
    """A stage's place in a pipeline run, as the runner tells it to the stage's `plan` hook."""

    run_dir: Path  # the pipeline's output folder
    name: str  # e.g. "02-synthesize"
    last: bool  # the last stage of its type in the pipeline
    rows: list[str]  # what the previous row stage wrote (the pipeline's input for the first one)

    @property
    def stages_dir(self) -> Path:
        return self.run_dir / "stages"

    @property
    def state_dir(self) -> Path:
        return self.run_dir / ".curate"


@dataclass
class Placement:
    """Where a stage reads and writes in a pipeline run (a stage's `plan` hook returns this)."""

    fixed: dict[str, Any]  # options the runner sets (inputs, output, rejects, ...): a pipeline file may not
    output: str  # what must exist for the stage to count as done
    summary: str | None = None  # where the runner writes the stage's summary JSON
    passes_rows: bool = True  # its output is the next row stage's input
    inputs: list[str] | None = None  # files whose content keys the completion marker (default: fixed["inputs"])


def default_placement(options_model: type[StageOptions], slot: Slot) -> Placement:
    """A row stage: reads the current rows, writes `stages/NAME.parquet` (+ rejects, row store)."""
    output = str(slot.stages_dir / f"{slot.name}.parquet")
    fixed: dict[str, Any] = {"inputs": list(slot.rows), "output": output}
    if "rejects" in options_model.runner_fields:
        fixed["rejects"] = str(slot.stages_dir / f"{slot.name}.rejects.jsonl")
    if "row_store" in options_model.runner_fields:
        fixed["row_store"] = str(slot.state_dir / "rows.sqlite")
    return Placement(fixed, output, str(slot.stages_dir / f"{slot.name}.summary.json"))


@runtime_checkable
class Stage(Protocol):
    """A stage: a name, its options model, and `run`.

    Optional hooks (looked up with getattr):
      - `plan(slot: Slot) -> Placement`: where the stage reads and writes in a pipeline run
        (default: `default_placement`, a row stage writing `stages/NAME.parquet`);
      - `inputs(options) -> list[str]`: the files whose content keys a pipeline's completion marker,
        when they are not known before the options are (default: the placement's inputs).
    """

    name: str

    @property
    def Options(self) -> type[StageOptions]: ...  # noqa: N802  (a class attribute on every stage)

    def run(self, options: Any, ctx: Any) -> Summary: ...


# Each built-in stage lives in curate/stages/<name>.py: looking one up imports only its module.
STAGES: Registry[Stage] = Registry(
    "stages",
    builtin_modules={name: f"curate.stages.{name}" for name in ("score", "synthesize", "order", "report", "compare", "fit", "feedback", "trial")},
)


def get_stage(name: str) -> Stage:
    return STAGES.get(name)
