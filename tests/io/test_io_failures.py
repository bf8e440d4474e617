"""A truncated input is exit 3 naming the file in every command; an unwritable output is exit 7 naming the path."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from curate.cli import app
from curate.errors import EXIT_INPUT, EXIT_OUTPUT, InputError
from curate.io import expand_inputs, read_table

ROOT = Path(__file__).resolve().parents[2]


def scored_table(n=40):
    return pa.table(
        {
            "id": [f"r{i}" for i in range(n)],
            "text": [f"Question {i}: what is {i} + {i}?" for i in range(n)],
            "answer": [str(2 * i) for i in range(n)],
            "difficulty": [i / n for i in range(n)],
        }
    )


@pytest.fixture
def truncated(tmp_path):
    good = tmp_path / "good.parquet"
    pq.write_table(scored_table(), good)
    cut = tmp_path / "cut.parquet"
    data = good.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    return cut


def test_expanding_inputs_names_a_truncated_parquet_file(truncated, tmp_path):
    with pytest.raises(InputError, match="cut.parquet"):
        expand_inputs(str(truncated))
    folder = tmp_path / "shards"
    folder.mkdir()
    pq.write_table(scored_table(), folder / "part-0.parquet")
    shutil.copy(truncated, folder / "part-1.parquet")
    with pytest.raises(InputError, match="part-1.parquet"):
        read_table(str(folder))


@pytest.mark.parametrize(
    "args",
    [
        ["score", "{cut}", "-s", "length", "-j", "1", "-o", "{out}/s.parquet"],
        ["order", "{cut}", "-o", "{out}/ordered"],
        ["synthesize", "{cut}", "--mode", "ladder", "--engine", "fake", "-o", "{out}/synth.jsonl"],
        ["report", "{run}"],
    ],
    ids=["score", "order", "synthesize", "report"],
)
def test_every_command_exits_3_naming_a_truncated_parquet_input(runner, truncated, tmp_path, args):
    run = tmp_path / "run"
    run.mkdir()
    shutil.copy(truncated, run / "scored.parquet")
    name = "scored.parquet" if args[0] == "report" else "cut.parquet"
    argv = [a.format(cut=truncated, out=tmp_path / "out", run=run) for a in args]
    res = runner.invoke(app, argv)
    assert res.exit_code == EXIT_INPUT, res.output
    assert res.output.startswith("Error: ") and name in res.output and "internal failure" not in res.output, res.output


# ------------------------------------------------------------------ outputs that cannot be written


def _can_mount() -> bool:
    if not shutil.which("unshare"):
        return False
    return (
        subprocess.run(
            ["unshare", "-rm", "sh", "-c", "d=$(mktemp -d) && mount -t tmpfs -o size=64k tmpfs $d && umount $d"], capture_output=True
        ).returncode
        == 0
    )


needs_mount = pytest.mark.skipif(not _can_mount(), reason="needs `unshare -rm` to mount a small or read-only file system")


def in_namespace(setup: str, argv: list[str], check: str, tmp_path: Path) -> subprocess.CompletedProcess:
    """Run curate inside a private mount namespace: `setup` mounts, then curate runs, then `check` reports."""
    cmd = " ".join(f"'{a}'" for a in [sys.executable, "-c", "from curate.cli import main; main()", *argv])
    script = textwrap.dedent(f"""\
        set -e
        {setup}
        set +e
        {cmd} 2>"{tmp_path}/stderr"
        echo "rc=$?"
        {check}
    """)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(["unshare", "-rm", "sh", "-c", script], capture_output=True, text=True, env=env, timeout=300)


def rows_jsonl(path: Path, n: int) -> Path:
    """Rows of random words, so that no compression makes the output small."""
    path.write_text(
        "".join(json.dumps({"id": f"r{i}", "text": " ".join(os.urandom(4).hex() for _ in range(25)), "difficulty": i / n}) + "\n" for i in range(n))
    )
    return path


@needs_mount
@pytest.mark.parametrize("out_name", ["scored.jsonl", "scored.parquet", "scored"])
def test_a_read_only_output_folder_is_a_clear_error_and_keeps_the_old_output(tmp_path, out_name):
    src = rows_jsonl(tmp_path / "in.jsonl", 50)
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "old.txt").write_text("the previous output\n")
    before = hashlib.sha256((dest / "old.txt").read_bytes()).hexdigest()
    r = in_namespace(
        f'mount --bind "{dest}" "{dest}" && mount -o remount,ro,bind "{dest}"',
        ["score", str(src), "-s", "length", "-j", "1", "-o", f"{dest}/{out_name}", "--rejects", f"{tmp_path}/rej.jsonl"],
        "true",
        tmp_path,
    )
    err = (tmp_path / "stderr").read_text()
    assert f"rc={EXIT_OUTPUT}" in r.stdout, (r.stdout, r.stderr, err)
    assert err.startswith("Error: cannot write") and str(dest) in err and "Read-only file system" in err, err
    assert hashlib.sha256((dest / "old.txt").read_bytes()).hexdigest() == before
    assert sorted(p.name for p in dest.iterdir()) == ["old.txt"]


@needs_mount
@pytest.mark.parametrize("out_name", ["scored.jsonl", "scored.parquet"])
def test_a_full_disk_is_a_clear_error_and_keeps_the_old_output(tmp_path, out_name):
    src = rows_jsonl(tmp_path / "in.jsonl", 3000)  # > 300 kB of output however compressed, for a 128 kB file system
    dest = tmp_path / "small"
    dest.mkdir()
    r = in_namespace(
        f'mount -t tmpfs -o size=128k tmpfs "{dest}" && echo previous > "{dest}/{out_name}"',
        ["score", str(src), "-s", "length", "-j", "1", "-o", f"{dest}/{out_name}", "--rejects", f"{tmp_path}/rej.jsonl"],
        f'cat "{dest}/{out_name}"; ls -A "{dest}"',
        tmp_path,
    )
    err = (tmp_path / "stderr").read_text()
    assert f"rc={EXIT_OUTPUT}" in r.stdout, (r.stdout, r.stderr, err)
    assert err.startswith("Error: cannot write") and str(dest) in err and "No space left on device" in err, err
    assert r.stdout.split("\n")[1:] == ["previous", out_name, ""]  # the old output, and nothing else left behind


@needs_mount
def test_order_into_a_full_disk_keeps_the_previous_shard_set(tmp_path):
    src = tmp_path / "in.parquet"
    pq.write_table(
        pa.table(
            {"id": [f"r{i}" for i in range(4000)], "text": [os.urandom(64).hex() for _ in range(4000)], "difficulty": [i / 4000 for i in range(4000)]}
        ),
        src,
    )
    dest = tmp_path / "small"
    dest.mkdir()
    r = in_namespace(
        f'mount -t tmpfs -o size=256k tmpfs "{dest}" && mkdir "{dest}/ordered" && echo old > "{dest}/ordered/manifest.json"',
        ["order", str(src), "-o", f"{dest}/ordered", "--no-plot"],
        f'cat "{dest}/ordered/manifest.json"; ls -A "{dest}"',
        tmp_path,
    )
    err = (tmp_path / "stderr").read_text()
    assert f"rc={EXIT_OUTPUT}" in r.stdout, (r.stdout, r.stderr, err)
    assert err.startswith("Error: cannot write") and "No space left on device" in err, err
    assert r.stdout.split("\n")[1:] == ["old", "ordered", ""]
