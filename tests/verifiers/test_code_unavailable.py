"""Without a working bubblewrap, code checks refuse to run (naming what to install) instead of running weaker.

`curate score -s pass_rate` then leaves code rows unscored with a `not run: ...` reason and a
warning, scores the other rows, and does not store the unscored ones: a rerun on a machine with
bubblewrap computes them.
"""

from __future__ import annotations

import json
import os
import stat

import pyarrow.parquet as pq
import pytest

from curate.errors import EXIT_USAGE
from curate.pass_rate import CheckUnavailable
from curate.sandbox import SandboxUnavailable, isolation
from curate.verifiers import check, get_verifier

ADD = {"test_list": ["assert add(1, 2) == 3"]}


@pytest.fixture
def fresh_probe():
    isolation.cache_clear()
    yield
    isolation.cache_clear()


@pytest.fixture
def no_bwrap(tmp_path, monkeypatch, fresh_probe):
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))


@pytest.fixture
def broken_bwrap(tmp_path, monkeypatch, fresh_probe):
    """A bwrap that fails the way it does where user namespaces are not allowed."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    fake = bindir / "bwrap"
    fake.write_text(
        "#!/bin/sh\necho 'bwrap: No permissions to creating new namespace, likely because the kernel does not allow "
        "non-privileged user namespaces.' >&2\nexit 1\n"
    )
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", str(bindir))


def test_without_bwrap_a_code_check_refuses_with_the_install_hint(no_bwrap):
    with pytest.raises(SandboxUnavailable) as err:
        check("code", "def add(a, b):\n    return a + b\n", ADD)
    assert str(err.value) == "code checks need bubblewrap — apt-get install bubblewrap"
    assert err.value.exit_code == EXIT_USAGE
    assert get_verifier("code").unavailable() == "code checks need bubblewrap: apt-get install bubblewrap"


def test_a_bwrap_that_cannot_make_namespaces_is_unavailable_too(broken_bwrap):
    iso = isolation()
    assert not iso.available
    assert "No permissions to creating new namespace" in iso.problem and "user namespaces" in iso.fix
    with pytest.raises(SandboxUnavailable):
        check("code", "def add(a, b):\n    return a + b\n", ADD)


def test_other_verifiers_do_not_need_the_sandbox(no_bwrap):
    assert check("math", "so 2 + 2 = 4. #### 4", {"answer": "4"}).ok


def _score(runner, inp, out, store):
    from curate.cli import app

    return runner.invoke(app, ["score", str(inp), "-s", "pass_rate", "--k", "2", "--engine", "fake", "-o", str(out), "--row-store", str(store)])


def test_score_marks_code_rows_not_run_warns_and_recomputes_them_later(runner, tmp_path, monkeypatch, fresh_probe):
    inp = tmp_path / "rows.jsonl"
    rows = [
        {"id": "c1", "text": "Write add(a, b).", "task_type": "code", "test_list": ["assert add(1, 2) == 3"]},
        {"id": "m1", "text": "What is 2 + 2?", "task_type": "math", "answer": "4"},
    ]
    inp.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out, store = tmp_path / "scored.parquet", tmp_path / "rows.sqlite"
    empty = tmp_path / "bin"
    empty.mkdir()
    real_path = os.environ["PATH"]
    monkeypatch.setenv("PATH", str(empty))
    with pytest.warns(CheckUnavailable, match=r"1 row\(s\) left without a pass rate: code checks need bubblewrap: apt-get install bubblewrap"):
        res = _score(runner, inp, out, store)
    assert res.exit_code == 0, res.output
    got = {r["id"]: r for r in pq.read_table(out).to_pylist()}
    assert got["c1"]["score_pass_rate_reason"] == "not run: code checks need bubblewrap: apt-get install bubblewrap"
    assert got["c1"]["score_pass_rate"] is None
    assert got["m1"]["score_pass_rate_reason"] is None and got["m1"]["score_pass_rate"] is not None

    monkeypatch.setenv("PATH", real_path)  # "bubblewrap installed": the same command now checks the code row
    isolation.cache_clear()
    res = _score(runner, inp, out, store)
    assert res.exit_code == 0, res.output
    got = {r["id"]: r for r in pq.read_table(out).to_pylist()}
    assert got["c1"]["score_pass_rate_reason"] is None and got["c1"]["score_pass_rate"] == 0.0  # the fake's answers are not code
