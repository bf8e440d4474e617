"""Benchmark `curate order` against a raw `polars sort + write_parquet` of the same rows, same run.

    python bench/bench_order.py                      # 10 M rows (id, difficulty, ~200-byte text)
    python bench/bench_order.py --rows 2000000       # 2 M rows
    python bench/bench_order.py --rounds 5 --json bench/out/order.json

Each contender runs in its own fresh process (so peak RSS is its own), interleaved round by round:
raw, `curate order --no-baseline`, `curate order` (with its `baseline/`), raw, ... Each round gives
the ratio of each curate run to that round's raw run; the median and min-max over the rounds are
printed, with the load average before and after; each run first waits for the 1-minute load average
to fall to 1 (bench/_quiet.py), so its load is not its predecessor's. Target: `--no-baseline` ≤ 1.5×
raw (wall clock).
A figure taken while the load average exceeds 2 is marked LOADED and claims no target. The
synthetic input is cached under bench/data/. Not a test: nothing here runs in CI.
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


LOADED = 2.0  # load average above which no target is claimed


def main() -> None:
    import shutil
    import statistics

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--batch-size", type=int, default=1024)
    ap.add_argument("--schedule", default="linear")
    ap.add_argument("--memory-mb", type=float, help="curate's memory budget (default: its own)")
    ap.add_argument("--json", help="also write the results here")
    args = ap.parse_args()

    data = HERE / "data" / f"order-{args.rows}.parquet"
    out = HERE / "out" / "order"
    t0 = time.perf_counter()
    # In a child process: Linux children inherit the parent's peak RSS, which would blur the numbers.
    subprocess.run(
        [
            sys.executable,
            "-c",
            f"import sys; sys.path.insert(0, {str(HERE)!r}); import bench_order as b; b.make_input(b.Path({str(data)!r}), {args.rows})",
        ],
        check=True,
    )
    print(
        f"input: {data} ({args.rows:,} rows, {data.stat().st_size / 2**20:,.0f} MiB on disk; made in {time.perf_counter() - t0:.1f}s)",
        file=sys.stderr,
    )

    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    base = {"schedule": args.schedule, "batch_size": args.batch_size, "plot": True, "seed": 0}
    if args.memory_mb:
        base["memory_mb"] = args.memory_mb
    cases = [
        ("raw polars sort + write_parquet", RAW, [str(data), str(out / "raw.parquet")]),
        ("curate order --no-baseline", CURATE, [str(data), str(out / "nobase"), json.dumps(base | {"baseline": False})]),
        ("curate order (with baseline/)", CURATE, [str(data), str(out / "full"), json.dumps(base)]),
    ]
    sys.path.insert(0, str(HERE))
    from _quiet import settle

    settle()  # "before" is the machine's own load, not the tail of a previous benchmark
    load_before = os.getloadavg()
    print(f"load average before: {load_before[0]:.2f} (1 min), {load_before[1]:.2f} (5 min) on {os.cpu_count()} cores", file=sys.stderr)
    runs: dict[str, list[tuple[float, float, float]]] = {name: [] for name, _, _ in cases}
    starts: list[float] = []
    for r in range(args.rounds):
        for name, code, cargs in cases:
            starts.append(settle())  # each run starts on a quiet machine, not in the wake of the previous one
            wall, cpu, rss = run(code, *cargs)
            runs[name].append((wall, cpu, rss))
            print(
                f"round {r + 1}  {name:36s} wall {wall:7.2f} s   cpu {cpu:7.2f} s   peak RSS {rss:7,.0f} MiB   load at start {starts[-1]:.2f}",
                flush=True,
            )
            target = Path(cargs[1])
            shutil.rmtree(target, ignore_errors=True) if target.is_dir() else target.unlink(missing_ok=True)
    load_after = os.getloadavg()
    loaded = max(load_before[0], load_after[0], *starts) > LOADED
    raw = runs[cases[0][0]]
    results = []
    for name, _, _ in cases:
        walls = [w for w, _, _ in runs[name]]
        res = {
            "case": name,
            "wall_median": round(statistics.median(walls), 2),
            "wall_min": round(min(walls), 2),
            "wall_max": round(max(walls), 2),
            "cpu_median": round(statistics.median(c for _, c, _ in runs[name]), 2),
            "peak_rss_mib_median": round(statistics.median(m for _, _, m in runs[name])),
        }
        if name != cases[0][0]:
            ratios = [a[0] / b[0] for a, b in zip(runs[name], raw)]
            cpu_ratios = [a[1] / b[1] for a, b in zip(runs[name], raw)]
            res |= {
                "ratio_median": round(statistics.median(ratios), 2),
                "ratio_min": round(min(ratios), 2),
                "ratio_max": round(max(ratios), 2),
                "cpu_ratio_median": round(statistics.median(cpu_ratios), 2),
            }
        results.append(res)
    print(
        f"\n{args.rows:,} rows, {args.rounds} rounds; load average {load_before[0]:.2f} before, {load_after[0]:.2f} after"
        + ("  — LOADED: no target claimed" if loaded else "")
    )
    print(f"{'contender':36s} {'wall median (min-max)':>24s} {'CPU':>8s} {'peak RSS':>10s}   ratio to raw, median (min-max)")
    for res in results:
        ratio = (
            f"{res['ratio_median']:.2f}x ({res['ratio_min']:.2f}-{res['ratio_max']:.2f}), CPU {res['cpu_ratio_median']:.2f}x"
            if "ratio_median" in res
            else "1"
        )
        print(
            f"{res['case']:36s} {res['wall_median']:8.2f} s ({res['wall_min']:.2f}-{res['wall_max']:.2f}) {res['cpu_median']:7.2f}s {res['peak_rss_mib_median']:7,d} MiB   {ratio}"
        )
    nb = results[1]
    verdict = "met" if nb["ratio_median"] <= 1.5 else "NOT met"
    print(f"target --no-baseline <= 1.5x raw: {'(no claim: loaded) ' if loaded else ''}{verdict} at median {nb['ratio_median']:.2f}x")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(
            json.dumps(
                {
                    "rows": args.rows,
                    "rounds": args.rounds,
                    "batch_size": args.batch_size,
                    "schedule": args.schedule,
                    "load_before": load_before[0],
                    "load_after": load_after[0],
                    "loaded": loaded,
                    "results": results,
                },
                indent=2,
            )
        )


if __name__ == "__main__":
    main()
