"""Readers and writers that stream any supported dataset as Arrow batches."""

from curate.io.inputs import is_stream
from curate.io.readers import ReadOptions, ReadStats, Reject, content_id, expand_inputs, input_hashes, read_batches, read_table
from curate.io.schema import conform, unify_schemas, widen_type
from curate.io.writers import Format, RejectWriter, open_sink

__all__ = [
    "Format",
    "ReadOptions",
    "ReadStats",
    "Reject",
    "RejectWriter",
    "conform",
    "content_id",
    "expand_inputs",
    "input_hashes",
    "is_stream",
    "open_sink",
    "read_batches",
    "read_table",
    "unify_schemas",
    "widen_type",
]
