"""Pipeline files are plain data: YAML aliases (the "billion laughs" expansion) are refused at once."""

from __future__ import annotations

import tracemalloc

import pytest

from curate.cli import app
from curate.errors import UsageError
from curate.pipeline.config import load_pipeline

LEVELS = "abcdefghi"


def laughs() -> str:
    """Nine levels of nine aliases each: 9^9 ≈ 387 M strings once expanded, in under 600 bytes."""
    lines = ["input:", "  - data.jsonl", '  - &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, cur in zip(LEVELS, LEVELS[1:]):
        lines.append(f"  - &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")
    lines += ["output: out/x", "stages:", "  - score: {signals: [length]}"]
    return "\n".join(lines) + "\n"


def test_the_laughs_file_is_small():
    assert len(laughs().encode()) < 600


def test_aliases_are_refused_with_the_line(tmp_path):
    p = tmp_path / "laughs.yaml"
    p.write_text(laughs())
    tracemalloc.start()
    try:
        with pytest.raises(UsageError) as exc:
            load_pipeline(p)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "alias" in str(exc.value) and "line 4" in str(exc.value), str(exc.value)
    assert peak < 5 * 2**20  # refused while parsing, before anything is expanded


def test_a_single_alias_is_refused_too(tmp_path):
    p = tmp_path / "p.yaml"
    p.write_text("input: &i data.jsonl\noutput: out/x\nstages:\n  - score: {text_field: *i}\n")
    with pytest.raises(UsageError, match=r"line 4.*alias \*i"):
        load_pipeline(p)


def test_merge_keys_are_aliases(tmp_path):
    p = tmp_path / "p.yaml"
    p.write_text("engine: &b {engine: fake}\ninput: data.jsonl\noutput: out/x\nstages:\n  - score: {<<: *b}\n")
    with pytest.raises(UsageError, match=r"alias \*b"):
        load_pipeline(p)


def test_set_values_are_refused_the_same_way(tmp_path):
    p = tmp_path / "p.yaml"
    p.write_text("input: data.jsonl\noutput: out/x\nstages:\n  - score: {signals: [length]}\n")
    assert load_pipeline(p, ["seed=3"]).seed == 3
    with pytest.raises(UsageError, match="alias"):
        load_pipeline(p, ["seed=[&a [1], *a]"])


def test_curate_run_exits_2_naming_the_alias(runner, tmp_path):
    p = tmp_path / "laughs.yaml"
    p.write_text(laughs())
    res = runner.invoke(app, ["run", str(p)])
    assert res.exit_code == 2, res.output
    assert "alias" in res.output and "not allowed" in res.output
