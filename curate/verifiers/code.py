"""Code: run the candidate with the row's unit tests in the sandbox (curate.sandbox).

The candidate is the last ```python fenced block of the completion (or the whole completion when
there is none). The reference is the row's tests: a list of statements (MBPP `test_list`, e.g.
`assert add(1, 2) == 3`) or one string of test code (HumanEval-style `check(candidate)` code
works when the row names the function in `entry_point`). Passing = the script exits 0 within the
time and memory limits; a timeout, crash, blocked syscall or failed assert is a failure.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from curate.verifiers import VERIFIERS, Verifier, VerifyResult

_FENCE = re.compile(r"```[ \t]*(?:python|py|python3)?[ \t]*\n(.*?)```", re.S | re.I)


def extract_code(completion: str) -> str:
    blocks = _FENCE.findall(completion or "")
    if blocks:
        return max(blocks, key=lambda b: ("def " in b, len(b)))
    open_fence = re.search(r"```[ \t]*(?:python|py)?[ \t]*\n(.*)$", completion or "", re.S | re.I)  # unterminated
    return open_fence.group(1) if open_fence else (completion or "")


def test_program(code: str, tests: Any, row: Mapping[str, Any]) -> str:
    if isinstance(tests, list | tuple):
        test_src = "\n".join(str(t) for t in tests)
    else:
        test_src = str(tests)
    setup = str(row.get("test_setup_code") or "")
    entry = row.get("entry_point")
    tail = f"\ncheck({entry})\n" if entry and "def check(" in test_src else "\n"
    return f"{setup}\n{code}\n\n{test_src}{tail}"


@VERIFIERS.register("code")
class CodeVerifier(Verifier):
    name = "code"
    reference_field = "tests"
    timeout = 10.0
    memory_mb = 1024

    def check(self, completion: str, reference: Any, row: Mapping[str, Any]) -> VerifyResult:
        from curate.sandbox import run_python

        code = extract_code(completion)
        if not code.strip():
            return VerifyResult(False, None, "no code found")
        res = run_python(test_program(code, reference, row), timeout=self.timeout, memory_mb=self.memory_mb)
        if res.ok:
            return VerifyResult(True, code)
        if res.timed_out:
            return VerifyResult(False, code, "timed out")
        last = (res.stderr.strip().splitlines() or ["exit %s" % res.returncode])[-1]
        return VerifyResult(False, code, last[:200])
