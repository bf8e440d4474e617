"""The `Signal` protocol and its registry.

A signal turns a batch of rows into one or more flat score columns named
`score_<signal>[_<part>]`. Each column states its direction (which end is harder) and whether it
enters the composite `difficulty` by default. Text signals are pure functions of the text and run
in worker processes; model signals (`kind = "model"`) run in the main process with an engine.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Protocol, runtime_checkable

import pyarrow as pa

from curate.registry import Registry

Direction = Literal["higher-is-harder", "lower-is-harder"]
HIGHER: Direction = "higher-is-harder"
LOWER: Direction = "lower-is-harder"
SCORE_PREFIX = "score_"


def column_name(signal: str, part: str = "") -> str:
    return f"{SCORE_PREFIX}{signal}_{part}" if part else f"{SCORE_PREFIX}{signal}"


@dataclass(frozen=True)
class Column:
    """One output column of a signal."""

    part: str  # "" for the signal's main column
    description: str
    direction: Direction | None = None  # None: informational, never in the composite
    composite: bool = True  # enters `difficulty` by default (when it has a direction)
    dtype: pa.DataType = field(default_factory=pa.float64)


@dataclass
class BatchContext:
    """What a signal sees of a batch: the table, its texts, and shared per-batch caches."""

    table: pa.Table
    text_field: str
    options: dict[str, Any] = field(default_factory=dict)
    engine: Any = None
    completions: Any = None  # a sink for sampled completions (`curate score --completions`), or None
    _cache: dict[str, Any] = field(default_factory=dict)
    failures: dict[int, str] = field(default_factory=dict)  # row → why its engine call failed (see `fail`)

    @property
    def texts(self) -> list[str]:
        if "texts" not in self._cache:
            self._cache["texts"] = self.table.column(self.text_field).to_pylist()
        return self._cache["texts"]

    def fail(self, row: int, reason: str) -> None:
        """Mark a row as not scored because the engine failed: it is not stored as a result, and the
        run quarantines it (--allow-engine-failures) or stops with exit code 5."""
        self.failures.setdefault(row, reason)

    def cached(self, key: str, make: Any) -> Any:
        """Compute something once per batch and share it between signals (e.g. word lists)."""
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]


@runtime_checkable
class SignalPlugin(Protocol):
    """What `SIGNALS` holds: a class with a name, its columns, a kind and `score(ctx)`.

    Optional hooks: `params() -> dict` (classmethod: settings recorded in the run summary, e.g.
    the zlib level); `Options` (a pydantic model: the signal's own options, validated every time
    the signal is built, so a typo in a pipeline's per-signal options is an error, not ignored).
    """

    name: ClassVar[str]
    description: ClassVar[str]
    columns: ClassVar[tuple[Column, ...]]
    kind: ClassVar[Literal["text", "model"]]

    def score(self, ctx: BatchContext) -> dict[str, Any]: ...


class Signal:
    """Base class: subclasses set `name`, `description`, `columns` and implement `score`.

    A subclass with options declares `Options` (a pydantic model); `self.options` is then the
    validated dict of them. Without it, options are passed through as given.

    `score` returns a sequence per column: a list, a numpy array (NaN stands for a missing
    value) or an Arrow array. A text signal whose work runs in native code that releases the GIL
    (polars, numpy, zlib) sets `threads = True`: the local executor then scores batches in
    threads, with no worker processes to start.
    """

    name: ClassVar[str]
    description: ClassVar[str]
    columns: ClassVar[tuple[Column, ...]]
    kind: ClassVar[Literal["text", "model"]] = "text"
    Options: ClassVar[Any] = None
    threads: ClassVar[bool] = False

    def __init__(self, **options: Any):
        if self.Options is not None:
            from pydantic import ValidationError

            try:
                options = self.Options.model_validate(options).model_dump(exclude_unset=True)
            except ValidationError as exc:
                from curate.errors import UsageError

                raise UsageError(
                    f"bad options for signal '{self.name}': {exc.errors()[0]['msg']} ({'.'.join(map(str, exc.errors()[0]['loc']))})",
                    f"see `curate signals` for {self.name}",
                ) from None
        self.options = options

    def score(self, ctx: BatchContext) -> dict[str, Any]:
        """Return one sequence per column, keyed by the column's full name (see `column_name`)."""
        raise NotImplementedError

    @classmethod
    def columns_for(cls, options: dict[str, Any]) -> tuple[Column, ...]:
        """The columns as configured by a run's signal options (a direction can depend on them)."""
        return cls.columns

    @classmethod
    def fingerprint(cls, options: dict[str, Any]) -> Any:
        """What, besides the text and options, the values depend on (a model file's hash); None: nothing. Keys the row store."""
        return None

    @classmethod
    def input_columns(cls, options: dict[str, Any]) -> list[str]:
        """Input columns besides the text that the signal reads in a worker (default: none)."""
        return []

    @classmethod
    def final(cls, values: Mapping[str, Any]) -> bool:
        """False when a row's values (column → value) must be recomputed by the next run, so no row store keeps them."""
        return True

    @classmethod
    def column_names(cls) -> list[str]:
        return [column_name(cls.name, c.part) for c in cls.columns]

    @classmethod
    def schema_fields(cls) -> list[pa.Field]:
        return [pa.field(column_name(cls.name, c.part), c.dtype) for c in cls.columns]


def as_arrow(values: Any, dtype: pa.DataType) -> pa.Array | pa.ChunkedArray:
    """A signal's column as Arrow. Numpy columns are wrapped without `pa.array`, which imports
    pandas when it is installed (half a second of start-up); NaN becomes null as with lists."""
    import numpy as np

    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        return values if values.type == dtype else values.cast(dtype)
    if isinstance(values, list) and pa.types.is_int64(dtype) and all(type(v) is int for v in values):
        values = np.array(values, np.int64)
    if isinstance(values, np.ndarray) and values.ndim == 1 and (pa.types.is_float64(dtype) or pa.types.is_int64(dtype)):
        data = np.ascontiguousarray(values, np.float64 if pa.types.is_float64(dtype) else np.int64)
        validity = None
        if data.dtype.kind == "f":
            nan = np.isnan(data)
            if nan.any():
                validity = pa.py_buffer(np.packbits(~nan, bitorder="little"))
        return pa.Array.from_buffers(dtype, len(data), [validity, pa.py_buffer(data)])
    return pa.array(values, type=dtype, from_pandas=True)


def float_values(col: pa.Array | pa.ChunkedArray) -> Any:
    """A numeric Arrow column as float64 numpy, null as NaN (through polars: pyarrow's `to_numpy`
    imports pandas when it is installed)."""
    import polars as pl

    return pl.Series("v", col).cast(pl.Float64).to_numpy()


SIGNALS: Registry[type[Signal]] = Registry(
    "signals",
    builtin_modules={
        "length": "curate.signals.length",
        "compression_ratio": "curate.signals.compression",
        "readability": "curate.signals.readability",
        "lexical_diversity": "curate.signals.lexical",
        "word_entropy": "curate.signals.entropy",
        "pass_rate": "curate.signals.pass_rate",
        "lm_perplexity": "curate.signals.lm",
        "lm_token_entropy": "curate.signals.lm",
        "predicted": "curate.signals.predicted",
    },
)
