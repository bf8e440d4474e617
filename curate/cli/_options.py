"""Options shared by several commands, as `Annotated` aliases built from the stages' option models.

A flag's help text is its option field's docstring and its range the field's bounds, so the
command line, pipeline files and the library share one definition (curate/stages/options.py).
"""

from __future__ import annotations

from typing import Annotated, Any, Optional

import typer

from curate.stages.options import EngineActorFields, EngineFields, ExecutorFields, OutputFormat, RowOutputFields


def flag(model: Any, name: str, *decls: str, **kw: Any) -> Any:
    """A `typer.Option` for option field `name` of `model`: help from its docstring, min/max from its bounds."""
    import annotated_types

    field = model.model_fields[name]
    for m in field.metadata:
        if isinstance(m, annotated_types.Ge):
            kw.setdefault("min", m.ge)
        elif isinstance(m, annotated_types.Le):
            kw.setdefault("max", m.le)
    return typer.Option(*(decls or (f"--{name.replace('_', '-')}",)), help=field.description, **kw)


def options(model: Any, values: dict[str, Any], **extra: Any) -> Any:
    """The options model from a command's parameters (those the model has), validated."""
    from curate.stages.base import build_options

    picked = {k: v for k, v in values.items() if k in model.model_fields or k == "fmt"}
    return build_options(model, {**picked, **extra})


InputArg = Annotated[list[str], typer.Argument(help=RowOutputFields.help("inputs"))]
OutputOpt = Annotated[str, flag(RowOutputFields, "output", "--output", "-o")]
FormatOpt = Annotated[Optional[OutputFormat], flag(RowOutputFields, "format", "--format")]
SeedOpt = Annotated[int, flag(RowOutputFields, "seed")]
RejectsOpt = Annotated[Optional[str], flag(RowOutputFields, "rejects")]
SummaryJsonOpt = Annotated[Optional[str], typer.Option("--summary-json", help="Also write the run summary as JSON to this path.")]
RowsPerShardOpt = Annotated[int, flag(RowOutputFields, "rows_per_shard")]
EngineOpt = Annotated[str, flag(EngineFields, "engine")]
EngineUrlOpt = Annotated[Optional[str], flag(EngineFields, "engine_url")]
ModelOpt = Annotated[Optional[str], flag(EngineFields, "model")]
NoCacheOpt = Annotated[bool, flag(EngineFields, "no_cache")]
EngineTimeoutOpt = Annotated[Optional[float], flag(EngineFields, "engine_timeout")]
ExecutorOpt = Annotated[str, flag(ExecutorFields, "executor")]
RayAddressOpt = Annotated[Optional[str], flag(ExecutorFields, "ray_address")]
RayEnginesOpt = Annotated[int, flag(EngineActorFields, "ray_engines")]
RayEngineCpusOpt = Annotated[float, flag(EngineActorFields, "ray_engine_cpus")]
MaxRejectRateOpt = Annotated[
    Optional[float], typer.Option("--max-reject-rate", min=0.0, max=1.0, help="Exit with code 4 when more than this fraction of rows is quarantined.")
]
