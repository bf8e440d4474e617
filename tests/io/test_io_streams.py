"""Streams as inputs (FIFOs, /dev/stdin, <(...)), one file mode for every output, and temporary
files that do not outlive their run: cleaned up on SIGTERM, swept after a SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from curate.cli import app
from curate.io import input_hashes, read_table
from curate.io.tempfiles import STALE_AFTER, sweep, temp_dir

ROOT = Path(__file__).resolve().parents[2]
ROWS = [{"id": f"r{i}", "text": f"row {i} has some words", "difficulty": i / 10} for i in range(10)]
DATA = "".join(json.dumps(r) + "\n" for r in ROWS)


def curate_cmd(*args: str) -> list[str]:
    return [sys.executable, "-c", "from curate.cli import main; main()", *args]


def env(**extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), **extra}


def fifo_with(tmp_path: Path, name: str, data: str) -> tuple[Path, threading.Thread]:
    path = tmp_path / name
    os.mkfifo(path)

    def feed() -> None:
        with open(path, "w") as fh:  # blocks until a reader opens the FIFO
            fh.write(data)

    t = threading.Thread(target=feed, daemon=True)
    t.start()
    return path, t


# ------------------------------------------------------------------ streams as inputs


@pytest.mark.timeout(60)
@pytest.mark.parametrize("name", ["rows.jsonl", "rows"])  # a name without a suffix reads as JSONL, like '-'
def test_a_fifo_is_read_as_a_stream(tmp_path, name):
    path, feeder = fifo_with(tmp_path, name, DATA)
    table, rejects = read_table(str(path))
    feeder.join()
    assert table.column("id").to_pylist() == [r["id"] for r in ROWS] and rejects == []
    assert input_hashes([str(path)]) == {str(path): "stream"}  # never read twice


@pytest.mark.timeout(60)
def test_a_csv_fifo(tmp_path):
    path, feeder = fifo_with(tmp_path, "rows.csv", "id,text\na,hello there\nb,general kenobi\n")
    table, _ = read_table(str(path))
    feeder.join()
    assert table.column("text").to_pylist() == ["hello there", "general kenobi"]


@pytest.mark.timeout(60)
def test_order_reads_a_fifo(runner, tmp_path):
    path, feeder = fifo_with(tmp_path, "rows.jsonl", DATA)
    res = runner.invoke(app, ["order", str(path), "-o", str(tmp_path / "out"), "--no-plot", "--schedule", "sorted"])
    feeder.join()
    assert res.exit_code == 0, res.output
    assert pq.read_table(tmp_path / "out" / "part-00000-of-00001.parquet").column("id").to_pylist() == [r["id"] for r in ROWS]


@pytest.mark.timeout(120)
@pytest.mark.parametrize("command", ["order", "score"])
def test_dev_stdin_is_stdin(tmp_path, command):
    out = tmp_path / ("ordered" if command == "order" else "scored.jsonl")
    extra = ["--no-plot", "--schedule", "sorted"] if command == "order" else ["-s", "length", "-j", "1"]
    r = subprocess.run(curate_cmd(command, "/dev/stdin", "-o", str(out), *extra), input=DATA, capture_output=True, text=True, env=env(), timeout=100)
    assert r.returncode == 0, r.stderr
    if command == "order":
        assert pq.read_table(out / "part-00000-of-00001.parquet").num_rows == len(ROWS)
    else:
        assert len(out.read_text().splitlines()) == len(ROWS)


@pytest.mark.timeout(120)
def test_process_substitution_for_order(tmp_path):
    src = tmp_path / "rows.jsonl"
    src.write_text(DATA)
    cmd = " ".join(f"'{a}'" for a in curate_cmd("order")) + f" <(cat '{src}') -o '{tmp_path}/out' --no-plot"
    r = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, env=env(), timeout=100)
    assert r.returncode == 0, r.stderr
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["rows"]["ordered"] == len(ROWS) and list(manifest["inputs"].values()) == ["stream"]


@pytest.mark.timeout(120)
def test_process_substitution_for_score(tmp_path):
    src = tmp_path / "rows.jsonl"
    src.write_text(DATA)
    cmd = " ".join(f"'{a}'" for a in curate_cmd("score")) + f" <(cat '{src}') -s length -j 1 -o '{tmp_path}/scored.jsonl'"
    r = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, env=env(), timeout=100)
    assert r.returncode == 0, r.stderr


# ------------------------------------------------------------------ one file mode for every output


@pytest.mark.parametrize("mask", [0o022, 0o027])
def test_every_output_gets_the_umask_default_mode(runner, tmp_path, mask):
    src = tmp_path / "in.jsonl"
    src.write_text(DATA + '{"id": "bad", "text": ""}\n')
    old = os.umask(mask)
    try:
        outs = []
        for name in ("s.jsonl", "s.jsonl.gz", "s.parquet", "shards"):
            res = runner.invoke(app, ["score", str(src), "-s", "length", "-j", "1", "-o", str(tmp_path / name)])
            assert res.exit_code == 0, res.output
            outs.append(tmp_path / name)
        res = runner.invoke(app, ["order", str(tmp_path / "s.parquet"), "-o", str(tmp_path / "ordered")])
        assert res.exit_code == 0, res.output
    finally:
        os.umask(old)
    files = [p for p in outs if p.is_file()] + sorted((tmp_path / "shards").iterdir()) + sorted(tmp_path.glob("*.rejects.jsonl"))
    files += [p for p in (tmp_path / "ordered").rglob("*") if p.is_file()]
    assert len(files) > 8
    modes = {str(p.relative_to(tmp_path)): oct(stat.S_IMODE(p.stat().st_mode)) for p in files}
    assert set(modes.values()) == {oct(0o666 & ~mask)}, modes
    dirs = [tmp_path / "shards", tmp_path / "ordered", tmp_path / "ordered" / "baseline"]
    assert {oct(stat.S_IMODE(d.stat().st_mode)) for d in dirs} == {oct(0o777 & ~mask)}


# ------------------------------------------------------------------ temporary files: SIGTERM and SIGKILL


def big_input(tmp_path: Path, n: int = 1_500_000) -> Path:
    path = tmp_path / "big.parquet"
    rng = np.random.default_rng(0)
    pq.write_table(pa.table({"id": pa.array(np.arange(n)), "text": pa.array(np.char.mod("t%d", np.arange(n))), "difficulty": rng.random(n)}), path)
    return path


def wait_for(pattern: str, folder: Path, proc: subprocess.Popen, seconds: float = 90) -> list[Path]:
    end = time.monotonic() + seconds
    while time.monotonic() < end and proc.poll() is None:
        found = sorted(folder.glob(pattern))
        if found:
            return found
        time.sleep(0.005)
    raise AssertionError(f"no {pattern} in {folder} (exit code {proc.poll()})")


@pytest.mark.timeout(300)
def test_sigterm_cleans_up_like_ctrl_c(tmp_path):
    src = big_input(tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    proc = subprocess.Popen(curate_cmd("order", str(src), "-o", str(work / "ordered"), "--no-plot"), env=env(), stderr=subprocess.PIPE, text=True)
    wait_for(".curate-order-*", work, proc)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 143, err
    assert "Terminated" in err and "Traceback" not in err
    assert list(work.iterdir()) == []


@pytest.mark.timeout(300)
def test_sigterm_removes_the_score_spool(tmp_path):
    src = tmp_path / "many.jsonl"
    src.write_text("".join(json.dumps({"text": f"row {i} " * 100}) + "\n" for i in range(60_000)))
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    proc = subprocess.Popen(
        curate_cmd("score", str(src), "-s", "length", "-j", "1", "-o", str(out / "s.parquet")),
        env=env(TMPDIR=str(tmp)),
        stderr=subprocess.PIPE,
        text=True,
    )
    wait_for("curate-score-*", tmp, proc)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 143, err
    assert list(tmp.iterdir()) == [] and list(out.iterdir()) == []


def dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def age(path: Path, seconds: float) -> None:
    t = time.time() - seconds
    for p in [path, *path.rglob("*")]:
        os.utime(p, (t, t))


@pytest.mark.timeout(300)
def test_leftovers_of_a_killed_run_are_swept_by_the_next_run(tmp_path):
    src = big_input(tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    proc = subprocess.Popen(curate_cmd("order", str(src), "-o", str(work / "ordered"), "--no-plot"), env=env(), stderr=subprocess.DEVNULL)
    (left,) = wait_for(".curate-order-*", work, proc)
    proc.kill()
    proc.wait()
    assert left.exists() and f"-{proc.pid}-" in left.name and socket.gethostname() in left.name
    age(left, STALE_AFTER + 60)
    r = subprocess.run(
        curate_cmd("order", str(src), "-o", str(work / "ordered"), "--no-plot", "--no-baseline"), env=env(), capture_output=True, text=True
    )
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in work.iterdir()) == ["ordered"]


def test_sweep_spares_live_owners_recent_leftovers_and_other_hosts(tmp_path):
    host = socket.gethostname()
    dead = dead_pid()
    stale = tmp_path / f".curate-{host}-{dead}-abc123"
    recent = tmp_path / f".curate-{host}-{dead}-def456"
    live = tmp_path / f".curate-{host}-{os.getpid()}-ghi789"
    other = tmp_path / f".curate-otherhost-{dead}-jkl012"
    unrelated = tmp_path / ".curate-cache"
    for d in (stale, recent, live, other, unrelated):
        d.mkdir()
        (d / "part.parquet").write_bytes(b"x")
    stale_file = tmp_path / f".curate-{host}-{dead}-mno345.tmp"
    stale_file.write_bytes(b"x")
    for p in (stale, live, other, unrelated, stale_file):
        age(p, STALE_AFTER + 60)
    removed = sweep(tmp_path, ".curate-")
    assert sorted(p.name for p in removed) == sorted([stale.name, stale_file.name])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([recent.name, live.name, other.name, unrelated.name])


def test_temp_dirs_are_named_after_their_owner(tmp_path):
    d = temp_dir("curate-score-", tmp_path)
    assert d.parent == tmp_path and d.name.startswith(f"curate-score-{socket.gethostname()}-{os.getpid()}-")
