"""How a code check decides pass/fail: the harness's record, split assertions, and reward hacks that must fail.

Every crafted completion goes through the real code verifier (`check("code", ...)`), i.e. the
real bubblewrap sandbox; a machine without bubblewrap fails these tests with the install hint.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from curate.verifiers import check, get_verifier
from curate.verifiers.code import join_tests, prepare_tests

ADD = {"test_list": ["assert add(1, 2) == 3", "assert add(-1, 1) == 0"]}
RIGHT = "def add(a, b):\n    return a + b\n"
WRONG = "def add(a, b):\n    return 0\n"
SAMPLE = Path(__file__).resolve().parents[2] / "sample_data" / "code.jsonl"


@pytest.fixture(autouse=True)
def generous_timeout(monkeypatch):
    # Generous so a loaded machine never turns a verdict into a timeout (which would also fail).
    monkeypatch.setattr(get_verifier("code"), "timeout", 30.0)


def failed(r) -> bool:
    """Failed for a reason other than the time limit (a hack must be caught, not just slow)."""
    return not r.ok and r.reason != "timed out"


def test_right_code_passes_and_wrong_code_fails():
    assert check("code", f"```python\n{RIGHT}```", ADD).ok
    r = check("code", WRONG, ADD)
    assert not r.ok and r.reason == "AssertionError: add(1, 2) == 3: got 0"


def test_every_sample_solution_passes_and_a_wrong_one_fails():
    rows = [json.loads(line) for line in SAMPLE.read_text().splitlines()]
    assert len(rows) >= 40
    for row in rows:
        r = check("code", row["answer"], row)
        assert r.ok, (row["id"], r.reason)
        bad = f"def {row['entry_point']}(*args, **kwargs):\n    return None\n"
        assert failed(check("code", bad, row)), row["id"]


def test_humaneval_style_check_with_entry_point():
    tests = (
        "METADATA = {'author': 'x'}\n\n"
        "def check(candidate):\n"
        "    assert candidate([1, 2, 3]) == 6\n"
        "    assert candidate([]) == 0, 'empty'\n"
        "    for n in range(5):\n"
        "        assert candidate(list(range(n))) == sum(range(n))\n"
        "    assert abs(candidate([0.1, 0.2]) - 0.3) < 1e-9\n"
    )
    row = {"test_list": tests, "entry_point": "total"}
    assert check("code", "def total(xs):\n    return sum(xs)\n", row).ok
    loop_only = "def total(xs):\n    return 6 if xs == [1, 2, 3] else 0\n"  # right on the split asserts, wrong in the loop
    r = check("code", loop_only, row)
    assert not r.ok and "AssertionError" in r.reason
    # a check() that is never called is not a pass
    r = check("code", "def total(xs):\n    return sum(xs)\n", {"test_list": tests})
    assert not r.ok and r.reason.startswith("a test never ran")


def test_mbpp_setup_code_and_non_literal_asserts():
    row = {
        "test_setup_code": "import math",
        "test_list": ["assert math.isclose(area(2), 12.566, rel_tol=1e-3)", "assert set(digits(120)) == {0, 1, 2}", "assert area(0) == 0"],
    }
    good = "import math\ndef area(r):\n    return math.pi * r * r\ndef digits(n):\n    return [int(c) for c in str(n)]\n"
    assert check("code", good, row).ok
    assert failed(check("code", good.replace("math.pi", "3"), row))


@pytest.mark.parametrize(
    "code",
    [
        f"import sys\nsys.exit(0)\n{WRONG}",
        f"{WRONG}exit()\n",
        f"{WRONG}quit()\n",
        f"import os\nos._exit(0)\n{WRONG}",
        f"{WRONG}raise SystemExit(0)\n",
        f"{WRONG}raise KeyboardInterrupt\n",
        f"class Out(BaseException):\n    pass\n{WRONG}raise Out()\n",
        "import sys\ndef add(a, b):\n    sys.exit(0)\n",  # exits while the tests run
        "import os\ndef add(a, b):\n    os._exit(0)\n",
        f"import os\nos.abort()\n{WRONG}",
        f"import atexit, os\natexit.register(os._exit, 0)\n{WRONG}",
        f"import signal, os\nsignal.signal(signal.SIGALRM, lambda *a: os._exit(0))\nsignal.setitimer(signal.ITIMER_REAL, 0.01)\n{WRONG}",
    ],
    ids=[
        "sys.exit",
        "exit",
        "quit",
        "os._exit",
        "SystemExit",
        "KeyboardInterrupt",
        "BaseException",
        "exit-in-test",
        "os._exit-in-test",
        "abort",
        "atexit",
        "signal-handler",
    ],
)
def test_exiting_early_never_passes(code):
    r = check("code", code, ADD)
    assert failed(r), r


def test_the_right_function_that_exits_before_the_tests_does_not_pass():
    r = check("code", RIGHT + "import sys\nsys.exit(0)\n", ADD)
    assert not r.ok and "SystemExit" in r.reason


@pytest.mark.parametrize(
    "code",
    [
        "class Any:\n    def __eq__(self, other):\n        return True\n    __hash__ = None\ndef add(a, b):\n    return Any()\n",
        "class I(int):\n    def __eq__(self, other):\n        return True\ndef add(a, b):\n    return I(0)\n",
        "class S(str):\n    def __eq__(self, other):\n        return True\n    def __repr__(self):\n        return '3'\ndef add(a, b):\n    return S('x')\n",
        "class L(list):\n    def __iter__(self):\n        return iter([3])\ndef add(a, b):\n    return L()\n",
        "class F:\n    __class__ = int\n    def __index__(self):\n        return 3\n    def __eq__(self, o):\n        return True\n"
        "def add(a, b):\n    return F()\n",
    ],
    ids=["always-equal", "int-subclass", "str-subclass-repr", "list-subclass-iter", "forged-class"],
)
def test_objects_that_claim_equality_are_compared_by_their_plain_value(code):
    assert failed(check("code", code, {"test_list": ["assert add(1, 2) == 3"]}))


def test_patched_builtins_and_shadowing_names_do_not_reach_the_tests():
    row = {"test_list": ["assert abs(half(3) - 1.5) < 1e-9", "assert len(str(half(4))) > 0"]}
    assert check("code", "def half(x):\n    return x / 2\n", row).ok
    patched = "import builtins\nbuiltins.abs = lambda x: 0\ndef half(x):\n    return 0\n"
    shadowed = "def abs(x):\n    return 0\ndef half(x):\n    return 0\n"
    for code in (patched, shadowed):
        assert failed(check("code", code, row))


def test_a_rebound_assertion_error_does_not_hide_a_failed_assert():
    row = {"test_list": ["assert add(1, 2) > 2"]}  # not split: judged in the sandbox
    code = "import builtins\nbuiltins.AssertionError = type('Fine', (Exception,), {})\n" + WRONG
    r = check("code", code, row)
    assert not r.ok and r.reason.startswith("AssertionError")


def test_fake_records_printed_or_written_to_every_fd_fail():
    fake = "P " + "0" * 32 + " 2\n0 0x3\n1 0x0\n"
    printed = f"print({fake!r})\n" + WRONG
    written = (
        f"import os\nfor fd in range(3, 64):\n    try:\n        os.write(fd, {fake.encode()!r})\n    except OSError:\n        pass\nos._exit(0)\n"
    )
    for code in (printed, written):
        assert failed(check("code", code, ADD))


def test_the_job_and_token_are_not_on_stdin():
    row = {"test_list": ["assert STDIN == b''"]}
    assert check("code", "import sys\nSTDIN = sys.stdin.buffer.read()\n", row).ok


def test_garbage_written_to_the_result_channel_fails_even_with_right_code():
    code = RIGHT + "import os, sys\nos.write(int(sys.argv[1]), b'junk\\n')\n"
    r = check("code", code, ADD)
    assert not r.ok and "tampered" in r.reason


def test_split_assertions_keep_expected_values_out_of_the_sandbox():
    prog = prepare_tests(join_tests(["assert add(1, 2) == 31337", "assert 'secret' == join('sec', 'ret')", "assert f(7) is True"], {}))
    assert [s.expected for s in prog.sites] == [31337, "secret", True]
    assert "31337" not in prog.source and "'secret'" not in prog.source and "True" not in prog.source
    assert "__curate_record__(0, add(1, 2))" in prog.source


def test_only_top_level_literal_comparisons_are_split():
    src = (
        "assert f(1) == g(1)\n"  # two expressions: judged in the sandbox
        "assert f(1) is 5\n"  # identity only with True/False/None
        "assert f(1) != 2\n"
        "for i in range(3):\n    assert f(i) == 1\n"
        "def check(candidate):\n    assert candidate(2) == 4\n    if True:\n        assert candidate(3) == 6\n"
    )
    prog = prepare_tests(src)
    assert [s.text for s in prog.sites] == ["candidate(2) == 4"]
    assert prepare_tests("assert (").sites == ()  # a syntax error is left for the sandbox to report


def test_a_syntax_error_in_the_candidate_is_the_reason():
    r = check("code", "def add(a, b)\n    return a + b\n", ADD)
    assert not r.ok and "SyntaxError" in r.reason


def test_values_that_are_not_plain_data_fail_with_a_reason():
    r = check("code", "def add(a, b):\n    return (x for x in [3])\n", ADD)
    assert not r.ok and "generator" in r.reason
    huge = {"test_list": ["assert big() == 10 ** 5000"]}
    assert check("code", "def big():\n    return 10 ** 5000\n", huge).ok  # exact beyond str()'s digit limit
    floats = {"test_list": ["assert f() == 1e999", "assert g() == [0.1, -0.0]"]}
    assert check("code", "def f():\n    return float('inf')\ndef g():\n    return [0.1, 0.0]\n", floats).ok
    assert failed(check("code", "def f():\n    return float('nan')\ndef g():\n    return [0.1, 0.0]\n", floats))


def test_same_completion_same_verdict():
    flaky = "def add(a, b):\n    return list({'a', 'b', 'c'})\n"  # set order depends on the hash seed
    row = {"test_list": ["assert add(1, 2) == ['a', 'b', 'c']"]}
    assert len({check("code", flaky, row).ok for _ in range(4)}) == 1


def test_no_file_is_left_behind_on_the_host(tmp_path):
    before = set(os.listdir("/tmp"))
    assert check("code", RIGHT + "open('scratch.txt', 'w').write('x' * 1000)\n", ADD).ok
    assert set(os.listdir("/tmp")) - before == set()


@pytest.mark.vllm
def test_real_model_completions_are_checked_in_the_sandbox(vllm_engine, tmp_path):
    from curate.engines import EngineConfig, open_engine
    from curate.pass_rate import measure_pass_rate

    rows = [json.loads(line) for line in SAMPLE.read_text().splitlines()[:3]]
    eng = open_engine(EngineConfig(cache_dir=str(tmp_path)), engine=vllm_engine)
    results = measure_pass_rate(eng, rows, k=2, max_tokens=128, temperature=0.7, keep_completions=True)
    for row, res in zip(rows, results):
        assert res.reason is None and res.samples == 2, res.reason
        # each recorded verdict is the verifier's verdict on that completion, and it repeats
        assert res.verdicts == [check("code", c, row).ok for c in res.completions]
