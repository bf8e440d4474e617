"""The syllable tables read back from the on-disk table cache are the tables built from the data."""

from __future__ import annotations

import random

import numpy as np
import pytest

from curate.signals import _syllables, _table_cache
from curate.signals._syllables import _Hyphenation, _syllable_table, _table_sources


@pytest.fixture()
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("CURATE_CACHE_DIR", str(tmp_path))
    _syllable_table.cache_clear()
    yield tmp_path
    _syllable_table.cache_clear()


def _stored(cache_dir) -> list:
    return sorted((cache_dir / "tables").glob("syllables-*.npz"))


def test_built_then_read_back_equal(cache_dir):
    built = _syllable_table()
    assert len(_stored(cache_dir)) == 1  # the first process writes the table
    _syllable_table.cache_clear()
    read = _syllable_table()
    assert read is not built
    assert read.cmu == built.cmu  # every word, every count, in the same order
    assert list(read.cmu) == list(built.cmu)
    words = {"".join(random.Random(i).choice("abcdefghijklmnopqrstuvwxyz'é") for _ in range(1 + i % 20)) for i in range(2000)}
    words |= {"supercalifragilisticexpialidocious", "straße", "a", ""}
    ordered = sorted(words)
    assert read.hyphenation.points_many(ordered).tolist() == built.hyphenation.points_many(ordered).tolist()
    fresh = _Hyphenation()  # from Pyphen itself
    assert read.hyphenation.points_many(ordered).tolist() == fresh.points_many(ordered).tolist()


def test_read_back_does_not_parse_the_sources(cache_dir, monkeypatch):
    _syllable_table()
    _syllable_table.cache_clear()

    def no(*a, **k):
        raise AssertionError("the tables were built again although the cache holds them")

    monkeypatch.setattr(_syllables, "_cmu_syllables", no)
    monkeypatch.setattr(_syllables._Hyphenation, "__init__", lambda self, arrays=None: no() if arrays is None else _ORIG_INIT(self, arrays))
    table = _syllable_table()
    assert table["hello"] == 2 and table.hyphenation.ready


_ORIG_INIT = _syllables._Hyphenation.__init__


@pytest.mark.parametrize("damage", [b"", b"not a zip file", b"PK\x03\x04 truncated"])
def test_a_corrupt_table_is_built_again(cache_dir, damage):
    built = _syllable_table()
    (path,) = _stored(cache_dir)
    path.write_bytes(damage)
    _syllable_table.cache_clear()
    again = _syllable_table()
    assert again.cmu == built.cmu
    assert _table_cache.load("syllables", _table_sources()) is not None  # and stored again, whole


def test_a_table_missing_arrays_is_built_again(cache_dir):
    sources = _table_sources()
    _table_cache.store("syllables", sources, {"words": np.frombuffer(b"a\nb", np.uint8), "syllables": np.array([1], np.int64)})
    table = _syllable_table()  # 2 words, 1 count: not this layout
    assert len(table.cmu) > 100_000


def test_an_unwritable_cache_folder_still_scores(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache folder would be")
    monkeypatch.setenv("CURATE_CACHE_DIR", str(blocker))
    _syllable_table.cache_clear()
    try:
        assert _syllable_table()["hello"] == 2
    finally:
        _syllable_table.cache_clear()


def test_the_key_follows_the_source_bytes(tmp_path, monkeypatch):
    monkeypatch.setenv("CURATE_CACHE_DIR", str(tmp_path / "cache"))
    src = tmp_path / "patterns.dic"
    src.write_text("one")
    _table_cache.store("t", [str(src)], {"x": np.arange(3)})
    assert _table_cache.load("t", [str(src)])["x"].tolist() == [0, 1, 2]
    src.write_text("two")  # a new release of the data
    assert _table_cache.load("t", [str(src)]) is None
    assert _table_cache.load("t", [str(tmp_path / "missing.dic")]) is None


def test_a_stored_object_array_is_refused(tmp_path, monkeypatch):
    """Loading never unpickles: a table file holding Python objects is a miss, not code run."""
    monkeypatch.setenv("CURATE_CACHE_DIR", str(tmp_path / "cache"))
    src = tmp_path / "data"
    src.write_text("x")
    _table_cache.store("t", [str(src)], {"x": np.array([{"a": 1}], dtype=object)})
    assert _table_cache.load("t", [str(src)]) is None
