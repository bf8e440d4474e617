"""Readers and writers that stream any supported dataset as Arrow batches."""

from curate.io.readers import ReadOptions, Reject, content_id, expand_inputs, input_hashes, read_batches, read_table
from curate.io.schema import conform, unify_schemas, widen_type
from curate.io.writers import Format, RejectWriter, open_sink

__all__ = [
    "Format",
    "ReadOptions",
    "Reject",
    "RejectWriter",
    "conform",
    "content_id",
    "expand_inputs",
    "input_hashes",
    "open_sink",
    "read_batches",
    "read_table",
    "unify_schemas",
    "widen_type",
]
