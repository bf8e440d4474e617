"""`compression_ratio`: raw UTF-8 bytes / zlib-compressed bytes.

`score_compression_ratio = len(utf8) / len(zlib.compress(utf8, level))`, level 9 by default
(option `level`, 0-9; the level is recorded in the score summary). A redundant text (repeated
phrases, boilerplate, lists) compresses well and scores high; a dense one scores near 1 (short
texts score below 1: zlib's 6 bytes of header and checksum outweigh what it saves).

Direction: lower is harder (REFERENCE §1: higher = more redundant = easier — a choice; on some
data, such as math problems, it runs the other way, so users can flip it with
`--direction compression_ratio=higher-is-harder`). An empty text scores 0.
"""

from __future__ import annotations

import zlib
from typing import Any

import numpy as np

from curate.errors import UsageError
from curate.signals import _text
from curate.signals.base import LOWER, SIGNALS, BatchContext, Column, Signal


def compression_ratio(raw: bytes, level: int = 9) -> float:
    return len(raw) / len(zlib.compress(raw, level)) if raw else 0.0


@SIGNALS.register()
class CompressionRatio(Signal):
    name = "compression_ratio"
    threads = True  # polars, numpy and zlib release the GIL
    description = "UTF-8 bytes / zlib-compressed bytes (level 9 unless set). Redundant text compresses well: lower = harder."
    columns = (Column("", "raw UTF-8 bytes / zlib-compressed bytes", LOWER),)
    level: int = 9

    def __init__(self, **options: Any):
        super().__init__(**options)
        unknown = sorted(set(options) - {"level"})
        if unknown:
            raise UsageError(f"compression_ratio takes the option 'level', not {unknown}", "e.g. level=9")
        level = options.get("level", self.level)
        if not isinstance(level, int) or isinstance(level, bool) or not 0 <= level <= 9:
            raise UsageError(f"compression_ratio level must be an integer 0-9, not {level!r}", "e.g. level=9 (the default)")
        self.level = level

    @classmethod
    def params(cls) -> dict[str, Any]:
        return {"level": cls.level, "zlib": zlib.ZLIB_RUNTIME_VERSION}

    def score(self, ctx: BatchContext) -> dict[str, Any]:
        level = self.level
        return {"score_compression_ratio": np.fromiter((compression_ratio(b, level) for b in _text.utf8(ctx)), np.float64)}
