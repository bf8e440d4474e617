"""Benchmark `curate order` against a raw `polars sort + write_parquet` of the same rows, same run.

    python bench/bench_order.py                 # 10 M rows (id, difficulty, ~200-byte text)
    python bench/bench_order.py --rows 2000000  # smaller machine

Each contender runs in its own fresh process (so peak RSS is its own). Prints a table and the ratio
curate / raw; the target is ≤ 1.5×. The synthetic input is cached under bench/data/.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def make_input(path: Path, rows: int, text_bytes: int = 200, seed: int = 0) -> None:
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    if path.exists() and pq.ParquetFile(path).metadata.num_rows == rows:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    alphabet = np.frombuffer(b"abcdefghijklmnopqrstuvwxyz     etaoinshr", dtype=np.uint8)
    schema = pa.schema([("id", pa.string()), ("difficulty", pa.float64()), ("text", pa.string())])
    tmp = path.with_suffix(".tmp")
    with pq.ParquetWriter(tmp, schema, compression="zstd") as w:
        chunk = 500_000
        for start in range(0, rows, chunk):
            n = min(chunk, rows - start)
            ids = pa.array([f"doc-{i:09d}" for i in range(start, start + n)])
            lengths = rng.integers(text_bytes - 40, text_bytes + 41, n)
            offsets = np.zeros(n + 1, dtype=np.int32)
            np.cumsum(lengths, out=offsets[1:])
            data = alphabet[rng.integers(0, len(alphabet), int(offsets[-1]))]
            text = pa.StringArray.from_buffers(n, pa.py_buffer(offsets.tobytes()), pa.py_buffer(data.tobytes()))
            w.write_table(pa.table({"id": ids, "difficulty": rng.random(n), "text": text}, schema=schema))
    tmp.rename(path)


RAW = """
import polars as pl, sys
pl.read_parquet(sys.argv[1]).sort("difficulty").write_parquet(sys.argv[2], compression="zstd")
"""

CURATE = """
import json, sys
from curate.order import OrderConfig, order
kw = json.loads(sys.argv[3])
order(OrderConfig([sys.argv[1]], sys.argv[2], **kw))
"""


def run(code: str, *args: str) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds (user + system, all threads) and peak RSS (MiB) of a fresh process."""
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code, *args], env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    if status != 0:
        raise SystemExit(f"benchmark step failed ({status}): {code.strip().splitlines()[-1]}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--batch-size", type=int, default=1024)
    ap.add_argument("--schedule", default="linear")
    ap.add_argument("--json", help="also write the results here")
    args = ap.parse_args()

    data = HERE / "data" / f"order-{args.rows}.parquet"
    out = HERE / "out"
    t0 = time.perf_counter()
    # In a child process: Linux children inherit the parent's peak RSS, which would blur the numbers.
    subprocess.run([sys.executable, "-c", f"import sys; sys.path.insert(0, {str(HERE)!r}); import bench_order as b; b.make_input(b.Path({str(data)!r}), {args.rows})"], check=True)
    print(f"input: {data} ({args.rows:,} rows, {data.stat().st_size / 2**20:,.0f} MiB on disk; made in {time.perf_counter() - t0:.1f}s)", file=sys.stderr)

    import shutil

    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    base = {"schedule": args.schedule, "batch_size": args.batch_size, "plot": True, "seed": 0}
    cases = [
        ("raw polars sort + write_parquet", RAW, [str(data), str(out / "raw.parquet")]),
        ("curate order --no-baseline", CURATE, [str(data), str(out / "nobase"), json.dumps(base | {"baseline": False})]),
        ("curate order (with baseline/)", CURATE, [str(data), str(out / "full"), json.dumps(base)]),
        ("curate order --no-baseline --memory-mb 512", CURATE, [str(data), str(out / "small"), json.dumps(base | {"baseline": False, "memory_mb": 512})]),
    ]
    results = []
    for name, code, cargs in cases:
        wall, cpu, rss = run(code, *cargs)
        results.append({"case": name, "seconds": round(wall, 2), "cpu_seconds": round(cpu, 2), "peak_rss_mib": round(rss)})
        print(f"{name:50s} wall {wall:8.2f} s   cpu {cpu:8.2f} s   peak RSS {rss:8,.0f} MiB", flush=True)
        if Path(cargs[1]).is_dir():
            shutil.rmtree(cargs[1], ignore_errors=True)
    raw, raw_cpu = results[0]["seconds"], results[0]["cpu_seconds"]
    for r in results[1:]:
        r["ratio_vs_raw"] = round(r["seconds"] / raw, 2)
        r["cpu_ratio_vs_raw"] = round(r["cpu_seconds"] / raw_cpu, 2)
        print(f"{r['case']:50s} {r['ratio_vs_raw']:.2f}× raw wall, {r['cpu_ratio_vs_raw']:.2f}× raw cpu (target ≤ 1.5×)")
    print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores", file=sys.stderr)
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": args.rows, "batch_size": args.batch_size, "schedule": args.schedule, "results": results}, indent=2))


if __name__ == "__main__":
    main()
