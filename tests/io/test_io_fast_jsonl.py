"""Arrow's block JSON reader (the fast path of `curate.io.jsonl`) gives exactly what the line
reader gives: the same batches (rows, columns, types), the same rejects with the same lines."""

from __future__ import annotations

import gzip
import json
import random

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curate.io import jsonl
from curate.io.readers import ReadOptions, read_batches

CLEAN = [
    lambda r: {"id": f"r{r.randint(0, 9999)}", "text": r.choice(["Plain text.", "naïve café — “quoted”", "x y z"])},
    lambda r: {"id": r.randint(0, 99), "text": "Numbers as ids.", "flag": r.random() < 0.5},
    lambda r: {"text": "No id: one is made from the content.", "n": r.randint(-5, 5)},
]
BAD = [
    b"",  # blank
    b"   ",  # whitespace only
    b"{not json",
    b"[1, 2]",
    b"null",  # (a block starting with a bare null crashes pyarrow 26's reader: never handed to it)
    b" null",
    b'"a string"',
    b'{"id": "e", "text": ""}',
    b'{"id": "w", "text": " \\u3000\\u001c "}',
    b'{"id": "n", "text": null}',
    b'{"id": "m"}',
    b'{"id": "i", "text": 5}',
    b'{"id": "f", "text": "float field", "score": 1.5}',
    b'{"id": "b", "text": "big int", "score": 12345678901234567890}',
    b'{"id": "s", "text": "nested", "meta": {"a": 1}}',
    b'{"id": "d", "text": "dup", "text": "dup again"}',
    b'{"id": "u", "text": "lone \\ud800 surrogate"}',
    b'{"id": "t", "text": "2020-01-01"}',
    b'{"id": "x", "text": "bad \xff byte"}',
    b'{"id": 1, "text": "a"} {"id": 2, "text": "b"}',
    b'{"id": "l", "text": "' + b"long " * 60 + b'"}',
]


def _lines(seed: int, n: int, bad_rate: float) -> list[bytes]:
    r = random.Random(seed)
    out = []
    for _ in range(n):
        if r.random() < bad_rate:
            out.append(r.choice(BAD))
        else:
            out.append(json.dumps(r.choice(CLEAN)(r)).encode())
    return out


def _read(path: str, opts: ReadOptions) -> tuple[list[pa.Table], list[tuple]]:
    tables, rejects = [], []
    for table, rej in read_batches(path, opts):
        tables.append(table)
        rejects += [(x.reason, x.line, x.row, x.raw) for x in rej]
    return tables, rejects


def _compare(tmp_path, lines: list[bytes], monkeypatch, block: int, batch: int, bom: bool = False, end: bytes = b"\n", last: bool = True) -> None:
    data = (b"\xef\xbb\xbf" if bom else b"") + end.join(lines) + (end if last else b"")
    plain = tmp_path / "in.jsonl"
    plain.write_bytes(data)
    gz = tmp_path / "in.jsonl.gz"
    gz.write_bytes(gzip.compress(data))  # gzip input is read line by line: the reference
    monkeypatch.setattr(jsonl, "FAST_BLOCK_BYTES", block)
    opts = ReadOptions(batch_rows=batch, max_text_chars=200)
    try:
        want = _read(str(gz), opts)
    except Exception as exc:  # noqa: BLE001 - the same error must come from both
        with pytest.raises(type(exc)):
            _read(str(plain), opts)
        return
    got = _read(str(plain), opts)
    assert [t.schema for t in got[0]] == [t.schema for t in want[0]]
    assert [t.to_pylist() for t in got[0]] == [t.to_pylist() for t in want[0]]
    assert got[1] == want[1]


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 10**6),
    n=st.integers(1, 120),
    bad_rate=st.sampled_from([0.0, 0.0, 0.02, 0.2]),
    block=st.sampled_from([64, 300, 2000, 1 << 20]),
    batch=st.sampled_from([1, 7, 32, 2048]),
    bom=st.booleans(),
    end=st.sampled_from([b"\n", b"\r\n"]),
    last=st.booleans(),
)
def test_block_reader_equals_line_reader(tmp_path_factory, monkeypatch_module, seed, n, bad_rate, block, batch, bom, end, last):
    _compare(tmp_path_factory.mktemp("j"), _lines(seed, n, bad_rate), monkeypatch_module, block, batch, bom, end, last)


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


def test_clean_file_is_read_in_blocks(tmp_path, monkeypatch):
    """A clean file never reaches the line reader (so the fast path is really taken)."""
    path = tmp_path / "clean.jsonl"
    path.write_text("".join(json.dumps({"id": i, "text": f"text {i}."}) + "\n" for i in range(5000)))
    monkeypatch.setattr(jsonl._JsonlReader, "_add", lambda *a: pytest.fail("line reader used"))
    tables, rejects = _read(str(path), ReadOptions(batch_rows=2048))
    assert [t.num_rows for t in tables] == [2048, 2048, 904] and not rejects


def test_python_whitespace_is_complete():
    import sys

    assert set(jsonl._PY_SPACE) == {chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()}
