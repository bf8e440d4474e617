"""Decontamination: drop new rows sharing a word n-gram with benchmark text, and report the hits.

Benchmark files may be data files curate reads (every string field of every row is used) or any
other text file (read whole). Matching is on lower-cased word n-grams.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from curate.errors import InputError
from curate.synth.lineage import Candidate

_DATA_SUFFIXES = (".parquet", ".pq", ".jsonl", ".jsonl.gz", ".ndjson", ".json", ".csv", ".tsv")


def ngrams(text: str, n: int) -> set[tuple[str, ...]]:
    words = re.findall(r"\w+", text.lower())
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def _texts(path: str) -> list[str]:
    p = Path(path)
    if not p.exists():
        raise InputError(f"decontamination file '{path}' does not exist", "pass benchmark files that exist to --decontaminate")
    if p.is_dir() or path.lower().endswith(_DATA_SUFFIXES):
        from curate.io import read_batches
        from curate.io.readers import ReadOptions

        out: list[str] = []
        for table, _ in read_batches([path], ReadOptions(text_field=None, id_field=None, require_text=False)):
            for row in table.to_pylist():
                out.append(" ".join(str(v) for v in row.values() if isinstance(v, str)))
        return out
    return [p.read_text(encoding="utf-8", errors="replace")]


@dataclass
class Decontaminator:
    n: int
    index: dict[tuple[str, ...], str] = field(default_factory=dict)
    hits: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_files(cls, files: tuple[str, ...] | list[str], n: int) -> Decontaminator:
        d = cls(n)
        for f in files:
            d.hits.setdefault(f, 0)
            for t in _texts(f):
                for g in ngrams(t, n):
                    d.index.setdefault(g, f)
        return d

    def apply(self, cands: list[Candidate]) -> None:
        for c in cands:
            if not c.alive:
                continue
            for g in sorted(ngrams(c.problem, self.n)):
                src = self.index.get(g)
                if src is not None:
                    self.hits[src] = self.hits.get(src, 0) + 1
                    c.drop("contaminated", f"{self.n}-gram '{' '.join(g)}' found in {src}")
                    break
