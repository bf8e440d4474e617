"""Rollouts as data: every completion `pass_rate` sampled, with its verdict (`curate score --completions OUT`).

One row per sample: `id` (the scored row's id, as text), `sample_index` (0 … k−1), `completion`,
`passed` (the verifier's verdict) and `tokens` (generated tokens). Verified positives are
rejection-sampling fine-tuning data; a passing and a failing completion of one prompt are a
preference pair (docs/feedback.md shows both with polars).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pyarrow as pa

SCHEMA = pa.schema(
    [
        pa.field("id", pa.string()),
        pa.field("sample_index", pa.int64()),
        pa.field("completion", pa.string()),
        pa.field("passed", pa.bool_()),
        pa.field("tokens", pa.int64()),
    ]
)


class CompletionSink:
    """Writes completions as they are sampled, to a .jsonl[.gz] or .parquet file (atomically, on close)."""

    def __init__(self, path: str, id_field: str):
        from curate.errors import UsageError
        from curate.io import open_sink

        if path == "-":
            raise UsageError("--completions - would mix completions into the scored rows on stdout", "name a .jsonl or .parquet file")
        self.path = path
        self.id_field = id_field
        self.rows = 0
        self._sink = open_sink(path, SCHEMA)

    def add(self, rows: Sequence[dict[str, Any]], results: Sequence[Any]) -> None:
        """The kept completions of `results` (PassRateResult, same order as `rows`)."""
        ids, idx, texts, passed, tokens = [], [], [], [], []
        for row, res in zip(rows, results):
            rid = row.get(self.id_field)
            for j, text in enumerate(res.completions):
                ids.append(None if rid is None else str(rid))
                idx.append(j)
                texts.append(text)
                passed.append(bool(res.verdicts[j]) if j < len(res.verdicts) else None)
                tokens.append(res.completion_tokens[j] if j < len(res.completion_tokens) else None)
        if ids:
            self._sink.write(pa.table([ids, idx, texts, passed, tokens], schema=SCHEMA))
            self.rows += len(ids)

    def close(self) -> dict[str, Any]:
        info = self._sink.close()
        return {"path": self.path, "rows": self.rows, **({"output": info} if isinstance(info, dict) else {})}

    def abort(self) -> None:
        self._sink.abort()
