"""Exact and near-duplicate removal (datasketch MinHash LSH) against the input and among new rows."""

from __future__ import annotations

import hashlib
import re

from curate.synth.eliminator import shingles
from curate.synth.lineage import Candidate

NUM_PERM = 128


def _norm(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


class Deduper:
    """Remembers every text it has seen; `check` says whether a new one is an exact or near duplicate."""

    def __init__(self, threshold: float):
        from datasketch import MinHashLSH

        self.threshold = threshold
        self._lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
        self._exact: dict[str, str] = {}
        self._n = 0

    @staticmethod
    def _minhash(text: str):
        from datasketch import MinHash

        m = MinHash(num_perm=NUM_PERM, seed=1)
        m.update_batch([s.encode("utf-8") for s in shingles(text)] or [b""])
        return m

    def add(self, key: str, text: str) -> None:
        h = hashlib.blake2b(_norm(text).encode(), digest_size=16).hexdigest()
        self._exact.setdefault(h, key)
        self._lsh.insert(f"{self._n}\x00{key}", self._minhash(text))
        self._n += 1

    def check(self, text: str) -> tuple[str, str] | None:
        """(reason, id of the earlier text) for a duplicate, else None."""
        h = hashlib.blake2b(_norm(text).encode(), digest_size=16).hexdigest()
        if h in self._exact:
            return "duplicate_exact", self._exact[h]
        hits = sorted(self._lsh.query(self._minhash(text)))
        if hits:
            return "near_duplicate", hits[0].split("\x00", 1)[1]
        return None


def dedup(cands: list[Candidate], input_texts: list[tuple[str, str]], deduper: Deduper | None, threshold: float) -> Deduper:
    """Drop candidates duplicating the input or an earlier candidate (in candidate order)."""
    if deduper is None:
        deduper = Deduper(threshold)
        for key, text in input_texts:
            deduper.add(f"input:{key}", text)
    for c in cands:
        if not c.alive:
            continue
        hit = deduper.check(c.problem)
        if hit:
            reason, other = hit
            c.drop(reason, f"duplicates {other}")
        else:
            deduper.add(c.id, c.problem)
    return deduper
