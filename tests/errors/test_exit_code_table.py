"""The README's exit-code table lists exactly the codes curate.errors defines, with the same meaning."""

from __future__ import annotations

import re
from pathlib import Path

import curate.errors as E

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_codes() -> dict[int, str]:
    text = README.read_text()
    table = text.split("### Exit codes", 1)[1].split("\n\n", 2)[1]
    out: dict[int, str] = {}
    for line in table.splitlines()[2:]:
        codes, meaning = (c.strip() for c in line.strip("|").split("|"))
        for code in codes.split(","):
            out[int(code)] = meaning
    return out


def test_every_exit_code_is_documented_and_nothing_else():
    defined = {v: k for k, v in vars(E).items() if k.startswith("EXIT_")}
    assert set(readme_codes()) == set(defined)


def test_each_error_class_exits_with_its_documented_code():
    documented = readme_codes()
    for cls, words in [
        (E.UsageError, "bad flags"),
        (E.InputError, "input unreadable"),
        (E.EngineError, "engine"),
        (E.VerifyError, "verify"),
        (E.OutputError, "output could not be written"),
        (E.RejectRateExceeded, "--max-reject-rate"),
    ]:
        assert words in documented[cls.exit_code], (cls.__name__, documented[cls.exit_code])
    assert re.search(r"SIGTERM", documented[E.EXIT_TERMINATED]) and re.search(r"Ctrl-C", documented[E.EXIT_INTERRUPTED])
