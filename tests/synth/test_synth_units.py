"""Small pieces of synthesis: JSON parsing, the eliminator's checks, ids, monotonicity rules."""

from __future__ import annotations

from curate.synth.eliminator import eliminate, jaccard
from curate.synth.lineage import Candidate, stable_id
from curate.synth.monotonic import check_ladders
from curate.synth.options import MonotonicPolicy
from curate.synth.schema import Critique, Problem, first_json_object, json_schema, parse_json


def test_parse_json_tolerates_prose_and_fences():
    obj, err = parse_json('Sure!\n```json\n{"problem": "Add {x} and 2", "solution": "s", "answer": 5}\n```', Problem)
    assert err is None and obj.problem == "Add {x} and 2" and obj.answer == "5"


def test_parse_json_errors_are_short_and_specific():
    assert parse_json("", Problem) == (None, "empty output")
    assert parse_json("no braces here", Problem)[1] == "no JSON object found"
    assert parse_json('{"problem": "cut off', Problem)[1] == "no JSON object found"
    assert parse_json('{"problem": "x", "answer": ""}', Problem)[1].startswith("field 'answer'")
    assert parse_json('{"verdict": "maybe"}', Critique)[1].startswith("field 'verdict'")
    assert parse_json('{"verdict": " ACCEPT "}', Critique)[0].verdict == "accept"


def test_first_json_object_respects_strings():
    assert first_json_object('x {"a": "}{", "b": {"c": 1}} y') == '{"a": "}{", "b": {"c": 1}}'


def test_schema_for_constrained_decoding():
    s = json_schema(Problem)
    assert s["required"] == ["problem", "solution", "answer"] and s["additionalProperties"] is False
    assert "title" not in s and all("title" not in p for p in s["properties"].values())


def test_stable_id():
    """Ids must not change between processes (reruns and resumes find their rows by id)."""
    import subprocess
    import sys

    code = "from curate.synth.lineage import stable_id; print(stable_id('p', 'deepen', 'x'))"
    other = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONHASHSEED": "123", "PATH": "/usr/bin:/bin"},
        cwd=__import__("pathlib").Path(__file__).resolve().parents[2],
    ).stdout.strip()
    assert other == stable_id("p", "deepen", "x")
    assert len({stable_id("p", "deepen", "x"), stable_id("p", "simplify", "x"), stable_id("q", "deepen", "x"), stable_id("p", "deepen", "y")}) == 4


def _cand(problem, level=1, rate=None, parent="p"):
    c = Candidate(parent_id=parent, parent_text="Tom has 3 apples and buys 4 more.", mode="ladder", op="deepen", level=level, round=1)
    c.problem, c.answer, c.target_pass_rate = problem, "7", rate
    return c


def test_eliminator_passes_a_real_rewrite():
    c = _cand("Tom has 3 apples, buys 4 more, then gives half of them to Ann. How many does he keep?")
    eliminate(c, [c.parent_text], 0.8)
    assert c.alive and jaccard("a b c d", "a b c d") == 1.0


def test_monotonic_drop_compares_with_last_kept_level():
    c1, c2, c3 = _cand("one", 1, 0.25), _cand("two", 2, 0.5), _cand("three", 3, 0.0)
    e1 = _cand("easy", -1, 0.25)
    stats = check_ladders([c1, c2, c3, e1], {"p": 0.5}, MonotonicPolicy.drop, 0.0)
    assert [c.alive for c in (c1, c2, c3, e1)] == [True, False, True, False]
    assert stats == {"checked": 4, "dropped": 2, "relabelled": 0}


def test_monotonic_margin_requires_a_strict_drop():
    c1 = _cand("one", 1, 0.5)
    check_ladders([c1], {"p": 0.5}, MonotonicPolicy.drop, 0.1)
    assert c1.reason == "not_monotonic"
