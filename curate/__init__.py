"""curate: curriculum-ordered training data for language models."""

__version__ = "0.1.0"
