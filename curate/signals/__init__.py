"""Difficulty signals: each one small module behind the `Signal` protocol, registered by name."""

from curate.signals.base import SIGNALS, BatchContext, Column, Signal, column_name

__all__ = ["SIGNALS", "BatchContext", "Column", "Signal", "column_name"]
