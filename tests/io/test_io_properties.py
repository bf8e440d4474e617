"""Property tests: arbitrary unicode and arbitrary bytes never cause a traceback, and every input
line (or row) comes out either as a row or as a reject — nothing is silently dropped."""

from __future__ import annotations

import io
import json
import sys
import tempfile
from pathlib import Path
from unittest import mock

import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from curate.errors import InputError
from curate.io import ReadOptions, open_sink, read_batches
from curate.io.writers import jsonl_bytes

SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MAX_CHARS = 40

# Text with everything: controls, whitespace of every kind, astral characters, lone surrogates.
any_text = st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=60)
valid_text = st.text(max_size=60)
json_scalar = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | valid_text
json_value = st.recursive(json_scalar, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(valid_text, inner, max_size=3), max_leaves=8)
text_value = any_text | st.none() | st.integers() | st.lists(st.integers(), max_size=2) | st.just("") | st.just(" \t\n")


def read_all(path: str, opts: ReadOptions) -> tuple[list[dict], list]:
    rows: list[dict] = []
    rejects: list = []
    for table, rej in read_batches(path, opts):
        rows.extend(table.to_pylist())
        rejects.extend(rej)
    return rows, rejects


def should_accept(text) -> bool:
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_CHARS:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def nonblank_lines(data: bytes) -> list[int]:
    """1-based numbers of the lines the reader must account for (blank lines are skipped)."""
    out = []
    for i, line in enumerate(data.split(b"\n"), start=1):
        if i == 1 and line.startswith(b"\xef\xbb\xbf"):
            line = line[3:]
        if line.strip():
            out.append(i)
    return out


def is_json_array_document(data: bytes) -> bool:
    try:
        return isinstance(json.loads(data.decode("utf-8").lstrip("\ufeff")), list)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return False


def expected_input_error(err: InputError) -> bool:
    msg = str(err)
    return any(s in msg for s in ("is empty", "has no rows", "has no field 'text'", "truncated or corrupt", "stdin holds Parquet"))


# --------------------------------------------------------------------------- JSONL


def encode_row(row: dict, how: str) -> bytes:
    if how == "ascii":  # lone surrogates become \udXXX escapes
        return json.dumps(row, ensure_ascii=True).encode()
    return json.dumps(row, ensure_ascii=False).encode("utf-8", "surrogatepass")  # raw invalid UTF-8


rows_strategy = st.lists(
    st.fixed_dictionaries({"text": text_value}, optional={"id": st.none() | valid_text | st.integers(), "answer": json_value, "meta": json_value}),
    min_size=1,
    max_size=25,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=rows_strategy, how=st.sampled_from(["ascii", "utf8"]), batch_rows=st.integers(1, 7))
def test_jsonl_rows_with_arbitrary_unicode(rows, how, batch_rows):
    data = b"\n".join(encode_row(r, how) for r in rows) + b"\n"
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "in.jsonl"
        p.write_bytes(data)
        got, rejects = read_all(str(p), ReadOptions(batch_rows=batch_rows, max_text_chars=MAX_CHARS))
    assert len(got) + len(rejects) == len(rows)
    assert all(r.reason and r.line for r in rejects)
    accepted = [r for r in rows if should_accept(r["text"])]
    assert [g["text"] for g in got] == [r["text"] for r in accepted]
    assert all(g["id"] is not None for g in got)  # every kept row has an id
    # every reject record can be written as JSON (the rejects file never fails)
    for r in rejects:
        assert jsonl_bytes([r.to_record()]).endswith(b"\n")


lines_strategy = st.lists(
    st.binary(max_size=40).map(lambda b: b.replace(b"\n", b""))
    | st.builds(lambda t: json.dumps({"text": t}).encode(), any_text)
    | st.builds(lambda t: json.dumps({"text": t}, ensure_ascii=False).encode("utf-8", "surrogatepass"), any_text)
    | st.sampled_from([b"", b"   ", b"{", b"[1]", b"null", b'"s"', b"\xef\xbb\xbf{}", b'{"text": NaN}', b"\xff\xfe", b"\r"]),
    min_size=0,
    max_size=30,
)


def check_lines(data: bytes, got: list[dict], rejects: list) -> None:
    if is_json_array_document(data):
        expected = len(json.loads(data.decode("utf-8").lstrip("\ufeff")))
        assert len(got) + len(rejects) == expected
        return
    lines = nonblank_lines(data)
    assert len(got) + len(rejects) == len(lines)
    assert {r.line for r in rejects} <= set(lines)


@SETTINGS
@given(lines=lines_strategy, batch_rows=st.integers(1, 9))
def test_jsonl_arbitrary_bytes_lines(lines, batch_rows):
    data = b"\n".join(lines)
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "in.jsonl"
        p.write_bytes(data)
        try:
            got, rejects = read_all(str(p), ReadOptions(batch_rows=batch_rows, max_text_chars=MAX_CHARS))
        except InputError as err:
            assert expected_input_error(err), err
            return
    check_lines(data, got, rejects)


@settings(max_examples=60, deadline=None)
@given(lines=lines_strategy)
def test_stdin_arbitrary_bytes(lines):
    data = b"\n".join(lines)
    with mock.patch.object(sys, "stdin", io.TextIOWrapper(io.BytesIO(data))):
        try:
            got, rejects = read_all("-", ReadOptions(batch_rows=4, max_text_chars=MAX_CHARS))
        except InputError as err:
            assert expected_input_error(err), err
            return
    check_lines(data, got, rejects)


@settings(max_examples=60, deadline=None)
@given(data=st.binary(max_size=300))
def test_arbitrary_bytes_as_any_file_kind(data):
    """Whatever the bytes, each reader either reads or raises a clean InputError."""
    with tempfile.TemporaryDirectory() as d:
        for name in ("x.jsonl", "x.jsonl.gz", "x.csv", "x.tsv", "x.parquet"):
            p = Path(d) / name
            p.write_bytes(data)
            try:
                got, rejects = read_all(str(p), ReadOptions(batch_rows=3))
            except InputError:
                continue
            assert isinstance(got, list) and isinstance(rejects, list)


# --------------------------------------------------------------------------- columnar formats


@SETTINGS
@given(texts=st.lists(valid_text | st.none() | st.just("   "), min_size=1, max_size=30), batch_rows=st.integers(1, 8))
def test_parquet_and_csv_rows_all_accounted_for(texts, batch_rows):
    table = pa.table({"text": pa.array(texts, pa.string()), "n": pa.array(range(len(texts)), pa.int64())})
    with tempfile.TemporaryDirectory() as d:
        pq.write_table(table, Path(d) / "t.parquet")
        pcsv.write_csv(table, Path(d) / "t.csv")
        for name in ("t.parquet", "t.csv"):
            got, rejects = read_all(str(Path(d) / name), ReadOptions(batch_rows=batch_rows, max_text_chars=MAX_CHARS))
            assert len(got) + len(rejects) == len(texts), name
            kept = {g["n"] for g in got}
            for g in got:
                assert g["text"] == texts[g["n"]], name  # text comes through unchanged
            assert len(kept) == len(got)


# --------------------------------------------------------------------------- writers


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(st.fixed_dictionaries({"text": valid_text, "meta": json_value}), min_size=1, max_size=20))
def test_sinks_round_trip_arbitrary_unicode(rows):
    assume(any(r["text"].strip() for r in rows))  # an empty output is an empty (unreadable) input
    with tempfile.TemporaryDirectory() as d:
        src = Path(d) / "in.jsonl"
        src.write_bytes("".join(json.dumps(r) + "\n" for r in rows).encode())
        opts = ReadOptions(batch_rows=3, max_text_chars=10_000)
        first, rejects = read_all(str(src), opts)
        for name in ("out.jsonl", "out.jsonl.gz", "out.parquet", "outdir"):
            sink = open_sink(str(Path(d) / name), None, rows_per_shard=4)
            for table, _ in read_batches(str(src), opts):
                sink.write(table)
            sink.close()
            again, rejects2 = read_all(str(Path(d) / name), opts)
            assert [r["text"] for r in again] == [r["text"] for r in first], name
            assert len(rejects2) == 0, name


# --------------------------------------------------------------------------- end to end through the CLI


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=lines_strategy)
def test_score_cli_on_arbitrary_stdin_never_tracebacks(lines):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import toysignals  # noqa: F401  (registers the toy_len test signal)
    from typer.testing import CliRunner

    from curate.cli import app

    data = b"\n".join(lines)
    with tempfile.TemporaryDirectory() as d:
        rej = Path(d) / "rej.jsonl"
        res = CliRunner().invoke(app, ["score", "-", "-s", "toy_len", "-j", "1", "--rejects", str(rej)], input=data)
        assert res.exit_code in (0, 3), res.output
        assert "Traceback" not in res.output
        assert res.exception is None or isinstance(res.exception, SystemExit), repr(res.exception)
        if res.exit_code == 3:
            assert res.stderr.startswith("Error: "), res.stderr
            return
        # split on \n only: JSON leaves U+0085 and U+2028 unescaped, and str.splitlines breaks on them
        out = [json.loads(x) for x in res.stdout.split("\n") if x]
        rejected = [x for x in rej.read_text(encoding="utf-8").split("\n") if x] if rej.exists() else []
        if not is_json_array_document(data):
            assert len(out) + len(rejected) == len(nonblank_lines(data))
