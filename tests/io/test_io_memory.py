"""Bounded memory: streaming 10× more rows through read_batches → sink must not need ~10× the RAM.

Each run happens in a fresh subprocess that first streams the small input once (to pay for imports,
Arrow's memory pool and writer buffers), then reports its own peak RSS (ru_maxrss) before and after
streaming the measured input, so only memory that grows with the input is counted.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CHILD = textwrap.dedent(
    """
    import json, resource, sys, tempfile
    from pathlib import Path
    from curate.io import ReadOptions, open_sink, read_batches

    warmup, src, dests = sys.argv[1], sys.argv[2], sys.argv[3:]

    def run(src, dests):
        sinks = [open_sink(d, None, rows_per_shard=20_000) for d in dests]
        rows = 0
        for table, rejects in read_batches(src, ReadOptions(batch_rows=1024)):
            for sink in sinks:
                sink.write(table)
            rows += table.num_rows + len(rejects)
        for sink in sinks:
            sink.close()
        return rows

    # Warm up on the small input first: imports, Arrow's memory pool and writer buffers are then
    # paid for, and what is left to measure is only what grows with the input.
    with tempfile.TemporaryDirectory() as d:
        run(warmup, [str(Path(d) / Path(x).name) for x in dests])
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    rows = run(src, dests)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"rows": rows, "before_kb": before, "after_kb": after}))
    """
)

PARAGRAPH = (
    "Gradient descent minimises a differentiable objective by repeatedly stepping against its gradient; "
    "the learning rate controls the step size, and stochastic variants estimate the gradient from mini-batches. "
)


def make_jsonl(path: Path, rows: int) -> None:
    with open(path, "w") as fh:
        for i in range(rows):
            fh.write(json.dumps({"text": f"{i} " + PARAGRAPH * (1 + i % 4), "level": i % 5, "tags": ["a", str(i % 7)]}) + "\n")


OUTPUTS = ["scored.parquet", "shards", "out.jsonl.gz"]  # one Parquet file, a shard directory, gzipped JSONL


def stream(warmup: Path, src: Path, out_dir: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    cmd = [sys.executable, "-c", CHILD, str(warmup), str(src), *(str(out_dir / o) for o in OUTPUTS)]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True, timeout=300)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_ten_times_the_input_does_not_need_ten_times_the_memory(tmp_path):
    small_rows = 4_000  # ≈ 2 MB of JSONL; the large input is ≈ 22 MB
    make_jsonl(tmp_path / "small.jsonl", small_rows)
    make_jsonl(tmp_path / "large.jsonl", small_rows * 10)
    (tmp_path / "s").mkdir()
    (tmp_path / "l").mkdir()
    small = stream(tmp_path / "small.jsonl", tmp_path / "small.jsonl", tmp_path / "s")
    large = stream(tmp_path / "small.jsonl", tmp_path / "large.jsonl", tmp_path / "l")
    assert small["rows"] == small_rows and large["rows"] == small_rows * 10
    for o in OUTPUTS:
        assert (tmp_path / "l" / o).exists()
    grow_small = max(small["after_kb"] - small["before_kb"], 1)
    grow_large = max(large["after_kb"] - large["before_kb"], 1)
    input_kb = (tmp_path / "large.jsonl").stat().st_size // 1024
    size_ratio = (tmp_path / "large.jsonl").stat().st_size / (tmp_path / "small.jsonl").stat().st_size
    print(f"input ×{size_ratio:.1f}: peak RSS growth {grow_small} KB → {grow_large} KB (×{grow_large / grow_small:.2f})")
    # Streaming: once warmed up, 10× the rows add little. Holding the large input in memory (as
    # Python rows or one Arrow table) would add several times its ~22 MB size.
    assert grow_large < 3 * grow_small + 12_000, (small, large)
    assert grow_large < input_kb / 2, (small, large, input_kb)
