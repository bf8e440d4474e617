"""Peak RSS of `curate score` and `curate order` on one copy and on ten copies of the same corpus.

    python bench/bench_memory.py [--rounds 5] [--json bench/out/memory.json]

The corpus is the BoolQ passages (bench/fetch_corpus.py; 15,942 rows, 9.4 MB of text); ten copies
give every row a new id. Each command runs in a fresh process (`/usr/bin/time -v` reads the same
figure: "Maximum resident set size"), interleaved round by round: score 1x, score 10x, order 1x,
order 10x, order 1x and 10x with `--gather spill`. Per round the ratio peak RSS 10x / 1x is taken;
the median and min-max over the rounds are printed with the load average before and after.
Target: 10x the rows -> at most 1.2x the peak RSS. Not a test: nothing here runs in CI.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out" / "memory"
SIGNALS = "length,compression_ratio,readability,lexical_diversity,word_entropy"
LOADED = 2.0


def peak(cmd: list[str]) -> tuple[float, float]:
    """(wall seconds, peak RSS in MiB) of `cmd` in a fresh process."""
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    if status != 0:
        raise SystemExit(f"failed ({status}): {' '.join(cmd)}\n{proc.stderr.read().decode()[-2000:] if proc.stderr else ''}")
    return wall, usage.ru_maxrss / 1024


def main() -> None:
    sys.path.insert(0, str(HERE))
    from bench_score import boolq
    from fetch_corpus import fetch

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--json", help="also write the results here")
    args = ap.parse_args()

    one, ten = boolq(fetch(), 1), boolq(fetch(), 10)
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    curate = [sys.executable, "-m", "curate"]

    def score(src: Path, dst: Path) -> list[str]:
        return [*curate, "score", str(src), "-o", str(dst), "-s", SIGNALS]

    # The scored files are the order inputs (made once, before the timed rounds).
    scored = {n: OUT / f"scored-{n}.parquet" for n in ("1x", "10x")}
    for n, src in (("1x", one), ("10x", ten)):
        peak(score(src, scored[n]))

    def order(n: str, *extra: str) -> list[str]:
        dst = OUT / f"order-{n}"
        shutil.rmtree(dst, ignore_errors=True)
        return [*curate, "order", str(scored[n]), "-o", str(dst), *extra]

    pairs = {
        "curate score": (lambda n: score(one if n == "1x" else ten, OUT / f"s-{n}.parquet")),
        "curate order": (lambda n: order(n)),
        "curate order --gather spill": (lambda n: order(n, "--gather", "spill")),
    }
    load_before = os.getloadavg()
    print(f"load average before: {load_before[0]:.2f}; corpus {one} and its 10 copies {ten}", file=sys.stderr)
    rss: dict[str, dict[str, list[float]]] = {name: {"1x": [], "10x": []} for name in pairs}
    for r in range(args.rounds):
        for name, cmd in pairs.items():
            for n in ("1x", "10x"):
                wall, mib = peak(cmd(n))
                rss[name][n].append(mib)
                print(f"round {r + 1}  {name:28s} {n:>3s}  peak RSS {mib:7,.0f} MiB  wall {wall:6.2f} s  load {os.getloadavg()[0]:.2f}", flush=True)
    load_after = os.getloadavg()
    loaded = max(load_before[0], load_after[0]) > LOADED
    print(f"\nload average {load_before[0]:.2f} before, {load_after[0]:.2f} after" + ("  — LOADED" if loaded else ""))
    results = {}
    for name in pairs:
        ratios = [b / a for a, b in zip(rss[name]["1x"], rss[name]["10x"])]
        results[name] = {
            "rss_1x_median": round(statistics.median(rss[name]["1x"])),
            "rss_10x_median": round(statistics.median(rss[name]["10x"])),
            "ratio_median": round(statistics.median(ratios), 2),
            "ratio_min": round(min(ratios), 2),
            "ratio_max": round(max(ratios), 2),
        }
        res = results[name]
        verdict = "met" if res["ratio_median"] <= 1.2 else "NOT met"
        print(
            f"{name:28s} 1x {res['rss_1x_median']:6,d} MiB   10x {res['rss_10x_median']:6,d} MiB   10x/1x {res['ratio_median']:.2f} "
            f"({res['ratio_min']:.2f}-{res['ratio_max']:.2f})   target <= 1.2x: {verdict}"
        )
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(
            json.dumps(
                {"rounds": args.rounds, "load_before": load_before[0], "load_after": load_after[0], "loaded": loaded, "results": results}, indent=2
            )
        )


if __name__ == "__main__":
    main()
