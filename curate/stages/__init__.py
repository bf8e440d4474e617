"""Stages as library calls: a typed options model and `run(options, ctx) -> Summary` per stage.

    from curate.stages import RunContext, get_stage
    stage = get_stage("order")
    with RunContext() as ctx:
        summary = stage.run(stage.Options(inputs=["scored.parquet"], output="ordered/"), ctx)

The command line, pipeline files and Python callers all go through these (curate/stages/*.py);
nothing here imports the command line.
"""

from curate.stages.base import STAGES, Stage, StageOptions, Summary, build_options, get_stage
from curate.stages.context import QuietReporter, Reporter, RunContext, RunSettings

__all__ = ["STAGES", "QuietReporter", "Reporter", "RunContext", "RunSettings", "Stage", "StageOptions", "Summary", "build_options", "get_stage"]
