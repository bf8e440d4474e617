"""Readers and writers that stream any supported dataset as Arrow batches."""

from curate.io.readers import Reject, expand_inputs, input_hashes, read_batches, read_table
from curate.io.writers import Format, RejectWriter, open_sink, conform

__all__ = [
    "Format",
    "Reject",
    "RejectWriter",
    "conform",
    "expand_inputs",
    "input_hashes",
    "open_sink",
    "read_batches",
    "read_table",
]
