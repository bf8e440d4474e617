"""`curate trial` on real text: BoolQ passages ordered by text-signal difficulty, root and warmup vs the baseline.

    python bench/bench_trial.py                      # fetch, score, order, trial; prints the tables
    python bench/bench_trial.py --rows 1100 --max-length 64 --vocab 2048 --eval-every 10 --lr-sweep 3e-4,1e-3,3e-3
    python bench/bench_trial.py --report out/trial   # only the tables of a finished trial folder

Runs the same commands BENCHMARKS.md quotes, each as a `curate` subprocess with
OMP_NUM_THREADS=1 (on a loaded 2-core machine one torch thread ran several times faster than
two), and reports the CPU time of the children and the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SIGNALS = "length,compression_ratio,readability,lexical_diversity,word_entropy"


def run(cmd: list[str], env: dict[str, str]) -> None:
    print("$ " + " ".join(cmd), file=sys.stderr, flush=True)
    subprocess.run(cmd, check=True, env=env)


def table(trial: Path) -> str:
    d = json.loads((trial / "trial.json").read_text())
    c = json.loads((trial / "compare" / "compare.json").read_text())
    lines = [
        "| arm | LR chosen | tune loss at each swept LR | final eval_loss per seed | final, mean [95 % CI] | mean over steps [95 % CI] |",
        "|---|---|---|---|---|---|",
    ]
    for name, a in d["arms"].items():
        ca = c["arms"][name]
        sweep = ", ".join(f"{lr}: {v['eval_tune_loss']:.3f}" for lr, v in a.get("sweep", {}).items()) or "—"
        ci = lambda v: f"[{v[0]:.3f}, {v[1]:.3f}]" if v else "(no CI)"
        seeds = ", ".join(f"{r['final_eval_loss']:.3f}" for r in a["runs"])
        lines.append(f"| {name} | {a['lr']:g} | {sweep} | {seeds} | {ca['final']:.3f} {ci(ca['final_ci'])} | {ca['auc']:.3f} {ci(ca['auc_ci'])} |")
    lines += ["", "| arm − baseline | final eval_loss [95 % CI] | mean over steps [95 % CI] | verdict |", "|---|---|---|---|"]
    for name, v in c["vs_baseline"].items():
        fci, aci = v["final_diff_ci"], v["auc_diff_ci"]
        lines.append(
            f"| {name} | {v['final_diff']:+.3f} [{fci[0]:+.3f}, {fci[1]:+.3f}] | {v['auc_diff']:+.3f} [{aci[0]:+.3f}, {aci[1]:+.3f}] | {v['verdict']} |"
        )
    t, rows, comp = d["training"], d["rows"], d["compute"]
    lines += [
        "",
        f"Rows: {rows['source']:,} passages, {rows['train']:,} trained on, {rows['eval']} eval, {rows['tune']} tune; "
        f"{t['steps']} steps of {t['batch_size']} rows, {t['max_length']} tokens at most, vocabulary {d['vocab_size']:,}; "
        f"tokens per run: " + ", ".join(f"{k} {a['tokens']:,}" for k, a in d["arms"].items()) + ".",
        f"Compute (trial.json): {comp['seconds'] / 60:.1f} min wall, {comp['trained_runs']} runs trained, {comp['threads']} torch thread(s), "
        f"load average {comp['load_average_start'][0]} at the start and {comp['load_average_end'][0]} at the end.",
    ]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=str(HERE / "out-trial"))
    ap.add_argument("--rows", type=int, default=3000, help="first N BoolQ passages of the corpus")
    ap.add_argument("--max-length", type=int, default=96)
    ap.add_argument("--vocab", type=int, default=4096)
    ap.add_argument("--eval-every", type=int, default=17)
    ap.add_argument("--lr-sweep", default="3e-4,1e-3,3e-3,1e-2")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--report", help="print the tables of this trial folder and stop")
    a = ap.parse_args()
    if a.report:
        print(table(Path(a.report)))
        return
    sys.path.insert(0, str(HERE))
    from fetch_corpus import fetch

    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    corpus = fetch()
    passages = out / f"boolq-{a.rows}.jsonl"
    with corpus.open() as src, passages.open("w") as dst:
        n = 0
        for line in src:
            if n >= a.rows:
                break
            if json.loads(line)["source"] == "boolq":
                dst.write(line)
                n += 1
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cur = [sys.executable, "-m", "curate"]
    t0, load0 = time.perf_counter(), os.getloadavg()
    run([*cur, "score", str(passages), "-s", SIGNALS, "-o", str(out / "scored.parquet")], env)
    run([*cur, "order", str(out / "scored.parquet"), "-o", str(out / "ordered-root"), "--schedule", "root", "--batch-size", "16"], env)
    run(
        [
            *cur,
            "trial",
            str(out / "ordered-root"),
            "-o",
            str(out / "trial"),
            "--controls",
            "warmup",
            "--seeds",
            str(a.seeds),
            "--lr-sweep",
            a.lr_sweep,
            "--layers",
            "2",
            "--width",
            "128",
            "--max-length",
            str(a.max_length),
            "--vocab",
            str(a.vocab),
            "--eval-every",
            str(a.eval_every),
            "--device",
            "cpu",
        ],
        env,
    )
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(table(out / "trial"))
    print(
        f"\nscore + order + trial: {(time.perf_counter() - t0) / 60:.1f} min wall, {(ru.ru_utime + ru.ru_stime) / 60:.1f} min CPU, "
        f"peak RSS {ru.ru_maxrss / 1024:.0f} MB; load average {load0[0]:.1f} → {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
