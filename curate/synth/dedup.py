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
        self._parent: dict[str, str | None] = {}
        self._n = 0

    @staticmethod
    def _minhash(text: str):
        from datasketch import MinHash

        m = MinHash(num_perm=NUM_PERM, seed=1)
        m.update_batch([s.encode("utf-8") for s in shingles(text)] or [b""])
        return m

    def add(self, key: str, text: str, parent: str | None = None) -> None:
        h = hashlib.blake2b(_norm(text).encode(), digest_size=16).hexdigest()
        self._exact.setdefault(h, key)
        self._parent[key] = parent
        self._lsh.insert(f"{self._n}\x00{key}", self._minhash(text))
        self._n += 1

    def check(self, text: str, family: str | None = None) -> tuple[str, str] | None:
        """(reason, id of the earlier text) for a duplicate, else None.

        `family`: a parent id whose own text and variants do not count as near-duplicates (hint and
        numeric variants are near copies of their parent by design); exact copies always count.
        """
        h = hashlib.blake2b(_norm(text).encode(), digest_size=16).hexdigest()
        if h in self._exact:
            return "duplicate_exact", self._exact[h]
        keys = [k.split("\x00", 1)[1] for k in sorted(self._lsh.query(self._minhash(text)))]
        if family is not None:
            keys = [k for k in keys if k != f"input:{family}" and self._parent.get(k) != family]
        if keys:
            return "near_duplicate", keys[0]
        return None


def dedup(cands: list[Candidate], input_texts: list[tuple[str, str]], deduper: Deduper | None, threshold: float, family: bool = False) -> Deduper:
    """Drop candidates duplicating the input or an earlier candidate (in candidate order); `family`: see `Deduper.check`."""
    if deduper is None:
        deduper = Deduper(threshold)
        for key, text in input_texts:
            deduper.add(f"input:{key}", text)
    for c in cands:
        if not c.alive:
            continue
        hit = deduper.check(c.problem, c.parent_id if family else None)
        if hit:
            reason, other = hit
            c.drop(reason, f"duplicates {other}")
        else:
            deduper.add(c.id, c.problem, c.parent_id)
    return deduper
