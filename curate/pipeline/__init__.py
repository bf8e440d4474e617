"""Declarative pipelines: YAML files that chain score → synthesize → order → report, resumable."""

from curate.pipeline.config import PipelineConfig, load_pipeline
from curate.pipeline.runner import RunOptions, run_pipeline

__all__ = ["PipelineConfig", "RunOptions", "load_pipeline", "run_pipeline"]
