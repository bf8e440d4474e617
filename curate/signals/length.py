"""`length`: how long a text is, in characters and in words.

- `score_length_chars`: Unicode code points (`len(text)`). Informational by default: it says the
  same as the word count, and counting length twice would make it outweigh the other signals.
- `score_length_words`: textstat's word count (`textstat.lexicon_count`, see `_text`).

Direction: higher is harder. Length is a weak signal (REFERENCE §1: Spearman 0.36 with MATH
levels, but on prose a long text is not necessarily a hard one); it enters `difficulty` through
the word count only, with the same weight as every other signal unless `--weight length=...`
says otherwise. An empty text has length 0.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from curate.signals import _text
from curate.signals.base import HIGHER, SIGNALS, BatchContext, Column, Signal


@SIGNALS.register()
class Length(Signal):
    name = "length"
    threads = True  # polars, numpy and zlib release the GIL
    description = "Characters and words (textstat's word count). Longer = harder (weak); only words enter the composite."
    columns = (
        Column("chars", "Unicode characters in the text", HIGHER, composite=False, dtype=pa.int64()),
        Column("words", "words, counted as textstat.lexicon_count does", HIGHER, dtype=pa.int64()),
    )

    def score(self, ctx: BatchContext) -> dict[str, Any]:
        chars = pc.utf8_length(_text.text_array(ctx)).cast(pa.int64())
        return {"score_length_chars": chars, "score_length_words": _text.tokens(ctx).lengths.tolist()}
