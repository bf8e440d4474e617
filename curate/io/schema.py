"""One schema for many batches: widen types that disagree, and make any batch fit a schema.

Streams of JSONL (and shards written by different tools) do not agree on types from one batch to
the next: `answer` is an integer in one batch and a string in the next, a key appears only later.
The rule everywhere in curate: integers and floats widen to float64, string flavours to string,
anything else that disagrees becomes a string (JSON text for lists and structs), and a column a
batch lacks is null.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import orjson
import pyarrow as pa

from curate.errors import InputError


def value_to_str(v: Any) -> str | None:
    """A value as text: strings unchanged, everything else as compact JSON."""
    if v is None or isinstance(v, str):
        return v
    if isinstance(v, (bytes, bytearray)):
        return bytes(v).decode("utf-8", "replace")
    try:
        return orjson.dumps(v, option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS, default=str).decode()
    except (TypeError, orjson.JSONEncodeError):  # e.g. integers beyond 64 bits
        return json.dumps(v, ensure_ascii=False, default=str)


def _is_stringish(t: pa.DataType) -> bool:
    return pa.types.is_string(t) or pa.types.is_large_string(t)


def has_empty_struct(t: pa.DataType) -> bool:
    """True when `t` holds a struct with no fields (a JSON `{}`), which Parquet cannot store."""
    if pa.types.is_struct(t):
        return t.num_fields == 0 or any(has_empty_struct(t.field(i).type) for i in range(t.num_fields))
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        return has_empty_struct(t.value_type)
    if pa.types.is_map(t):
        return has_empty_struct(t.key_type) or has_empty_struct(t.item_type)
    return False


def widen_type(a: pa.DataType, b: pa.DataType) -> pa.DataType:
    """The narrowest type both `a` and `b` values fit in, by the rule in this module's docstring."""
    if a.equals(b):
        return a
    if pa.types.is_null(a):
        return b
    if pa.types.is_null(b):
        return a
    if pa.types.is_dictionary(a):
        return widen_type(a.value_type, b)
    if pa.types.is_dictionary(b):
        return widen_type(a, b.value_type)
    if pa.types.is_integer(a) and pa.types.is_integer(b) and not (pa.types.is_uint64(a) or pa.types.is_uint64(b)):
        return pa.int64()
    if (pa.types.is_integer(a) or pa.types.is_floating(a)) and (pa.types.is_integer(b) or pa.types.is_floating(b)):
        return pa.float64()
    if _is_stringish(a) and _is_stringish(b):
        return pa.large_string()
    if (pa.types.is_binary(a) or pa.types.is_large_binary(a)) and (pa.types.is_binary(b) or pa.types.is_large_binary(b)):
        return pa.large_binary()
    if pa.types.is_timestamp(a) and pa.types.is_timestamp(b) and a.tz == b.tz:
        return pa.timestamp("ns" if "ns" in (a.unit, b.unit) else "us", tz=a.tz)
    return pa.string()


def unify_schemas(schemas: Iterable[pa.Schema]) -> pa.Schema:
    """All fields of all schemas, in first-seen order, each with its widened type. Never raises."""
    types: dict[str, pa.DataType] = {}
    for s in schemas:
        for f in s:
            types[f.name] = widen_type(types[f.name], f.type) if f.name in types else f.type
    return pa.schema([pa.field(n, t) for n, t in types.items()])


def _stringify(col: pa.ChunkedArray | pa.Array, target: pa.DataType) -> pa.Array:
    return pa.array([value_to_str(v) for v in col.to_pylist()], target)


def cast_column(col: pa.ChunkedArray | pa.Array, target: pa.DataType, name: str = "?") -> pa.ChunkedArray | pa.Array:
    """Cast losslessly; to a string type, anything goes (as JSON text); otherwise a clear InputError."""
    if col.type.equals(target):
        return col
    try:
        return col.cast(target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        pass
    if _is_stringish(target):
        return _stringify(col, target)
    try:  # the old contract of conform(): an unsafe cast (e.g. 2.0 → 2) rather than a failure
        return col.cast(target, safe=False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
        raise InputError(
            f"column '{name}' holds {col.type} values that cannot be stored as {target}: {exc}",
            "make the column's type consistent across the input, or widen the output schema with curate.io.unify_schemas",
        ) from exc


def conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """Reorder, add (as nulls) and cast columns so `table` matches `schema` exactly.

    Columns not in `schema` are dropped: widen the schema first (`unify_schemas`) to keep them.
    """
    cols = []
    for f in schema:
        if f.name in table.column_names:
            cols.append(cast_column(table.column(f.name), f.type, f.name))
        else:
            cols.append(pa.nulls(table.num_rows, f.type))
    return pa.Table.from_arrays(cols, schema=schema)
