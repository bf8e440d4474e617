"""sample_data/: reproducible from its generator, correct answers, code that passes its own tests."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "sample_data"
FILES = ("math.jsonl", "code.jsonl", "mc.jsonl", "prose.jsonl")


def load(name: str) -> list[dict]:
    return [json.loads(line) for line in (DATA / name).read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def generator():
    spec = importlib.util.spec_from_file_location("make_sample_data", DATA / "make_sample_data.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_files_are_exactly_what_the_generator_writes(generator, tmp_path):
    for name, rows in generator.build().items():
        generator.write_jsonl(tmp_path / name, rows)
        assert (tmp_path / name).read_bytes() == (DATA / name).read_bytes(), f"{name} is stale: run python sample_data/make_sample_data.py"


def test_layout_sizes_and_difficulty_spread():
    rows = {name: load(name) for name in FILES}
    every = [r for rs in rows.values() for r in rs]
    assert 300 <= len(every) <= 400
    assert len({r["id"] for r in every}) == len(every)
    assert len({tuple(r) for r in every}) == 1, "every row has the same fields in the same order"
    assert {r["task_type"] for r in every} == {"math", "code", "mc", "text"}
    assert all(isinstance(r["text"], str) and r["text"].strip() for r in every)
    assert all(isinstance(r["answer"], str) for r in every if r["task_type"] != "text")
    assert all(r["answer"] is None for r in rows["prose.jsonl"])
    math_levels = Counter(r["level"] for r in rows["math.jsonl"])
    assert len(rows["math.jsonl"]) >= 140 and set(math_levels) == {1, 2, 3, 4, 5}
    assert math_levels[1] >= 30, "plenty of one-digit arithmetic a small model can get right"
    assert len(rows["code.jsonl"]) >= 40 and len(rows["prose.jsonl"]) >= 100 and len(rows["mc.jsonl"]) >= 20
    assert {r["level"] for r in rows["prose.jsonl"]} == {1, 2, 3}


def test_math_answers_are_right():
    ops = {"+": int.__add__, "plus": int.__add__, "-": int.__sub__, "minus": int.__sub__, "*": int.__mul__, "times": int.__mul__}
    checked = 0
    for r in load("math.jsonl"):
        assert r["solution"].endswith(f"#### {r['answer']}")
        assert re.fullmatch(r"\d+", r["answer"])
        m = re.fullmatch(r"What is (\d+) (\+|-|\*|plus|minus|times) (\d+)\?", r["text"])
        if m:
            assert int(r["answer"]) == ops[m[2]](int(m[1]), int(m[3])), r
            checked += 1
        m = re.fullmatch(r"What is (\d+) \+ (\d+) - (\d+)\?", r["text"])
        if m:
            assert int(r["answer"]) == int(m[1]) + int(m[2]) - int(m[3]), r
            checked += 1
        m = re.fullmatch(r"What is (\d+) \+ (\d+) \* (\d+)\?", r["text"])
        if m:
            assert int(r["answer"]) == int(m[1]) + int(m[2]) * int(m[3]), r
            checked += 1
        m = re.fullmatch(r"What is (\d+) divided by (\d+)\?", r["text"])
        if m:
            assert int(r["answer"]) * int(m[2]) == int(m[1]), r
            checked += 1
        m = re.fullmatch(r"What is (\d+) squared\?", r["text"])
        if m:
            assert int(r["answer"]) == int(m[1]) ** 2, r
            checked += 1
        # every step "a op b = c" in a worked solution is itself correct
        step = {"+": int.__add__, "-": int.__sub__, "*": int.__mul__, "/": lambda a, b: a / b}
        for a, op, b, c in re.findall(r"(?<![+\-*/] )\b(\d+) ([+\-*/]) (\d+) = (\d+)", r["solution"]):
            assert step[op](int(a), int(b)) == int(c), (r["id"], a, op, b, c)
        for terms, total in re.findall(r"Sum: ([\d + ]+?) = (\d+)", r["solution"]):
            assert sum(int(t) for t in terms.split(" + ")) == int(total), r["id"]
    assert checked >= 100


def test_multiple_choice_answers_are_listed_choices():
    for r in load("mc.jsonl"):
        letters = "ABCD"[: len(r["choices"])]
        assert r["answer"] in letters
        for letter, choice in zip(letters, r["choices"]):
            assert f"\n{letter}. {choice}\n" in r["text"]
        m = re.match(r"What is (\d+) \+ (\d+)\?", r["text"])
        if m:
            assert r["choices"][letters.index(r["answer"])] == str(int(m[1]) + int(m[2]))


def test_code_solutions_pass_their_tests_in_a_fresh_interpreter():
    rows = load("code.jsonl")
    program = "\n".join(
        f"ns = {{}}\nexec({r['answer']!r}, ns)\nassert callable(ns[{r['entry_point']!r}])\n"
        + "".join(f"exec({t!r}, dict(ns))\n" for t in r["test_list"])
        for r in rows
    )
    res = subprocess.run([sys.executable, "-c", program + "print('ok')"], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0 and res.stdout.strip() == "ok", res.stderr
    for r in rows:
        assert r["test_list"][0] in r["text"] and f"`{r['entry_point']}(" in r["text"]
        assert len(r["test_list"]) >= 3
