"""Does re-planning from feedback help a learner? A SIMULATION, not a training run.

The learner is a model of one number, its skill θ (no neural network is trained here):

* every row has a true difficulty d; the learner solves it with probability p = σ(θ − d);
* training on a row raises θ by η · 4p(1 − p): the most when p ≈ ½ (the row is learnable), almost
  nothing when the row is mastered (p ≈ 1) or hopeless (p ≈ 0);
* each trained row yields one observed reward ~ Bernoulli(p), which the sampler receives through
  `CurriculumSampler.update` — the same re-plan code as `curate feedback`;
* success is measured on held-out rows of the same difficulty distribution: mean σ(θ − d).

What curate sees of a row: `difficulty` = the CDF rank of d plus noise (a text signal's view),
and a scored pass rate c of k = 4 samples drawn at the starting skill (the reference model).

Arms, each over the same rows, budget (P passes of N rows in steps of B) and η:

* `random`: the seeded random order of `baseline/`;
* `static`: the curriculum order as `curate order` wrote it (`root` schedule), never re-planned;
* `band`: the curriculum re-planned every R steps with `band=0.3:0.7` (PCL);
* `drop-mastered`: re-planned every R steps with `drop_mastered=0.85:2` (Progressive Data Dropout).

Reported per arm over S seeds: steps until held-out success ≥ 0.8 (mean, Student-t 95 % CI, runs
that never got there), rows read until then, and the paired difference against `random`.

    python bench/bench_feedback.py [--seeds 5] [--rows 1000] [--eta 0.06] [--passes 6] [--json bench/out/feedback.json]

Not a test: nothing here runs in CI. One core; about a minute per seed here.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

ARMS = ("random", "static", "band", "drop-mastered")
TARGET = 0.8


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def make_rows(folder: Path, n: int, rng: np.random.Generator) -> tuple[Path, dict[str, float]]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    d = rng.uniform(-2.0, 6.0, n)  # the starting skill θ0 = 0 solves the easiest rows most of the time
    seen = d + rng.normal(0, 1.0, n)  # a text signal's noisy view of the difficulty
    rank = seen.argsort().argsort()
    passes = rng.binomial(4, sigmoid(0.0 - d))
    ids = [f"r{i:05d}" for i in range(n)]
    pq.write_table(
        pa.table(
            {"id": ids, "difficulty": (rank + 0.5) / n, "score_pass_rate_passes": passes, "score_pass_rate_k": np.full(n, 4), "true_difficulty": d}
        ),
        folder / "scored.parquet",
    )
    return folder / "scored.parquet", dict(zip(ids, d.tolist()))


def run_arm(
    arm: str,
    ordered: Path,
    d_of: dict[str, float],
    held_out: np.ndarray,
    steps_max: int,
    batch: int,
    eta: float,
    replan_every: int,
    rng: np.random.Generator,
) -> dict:
    import polars as pl

    from curate.sampler import CurriculumSampler

    strategies = {"band": {"band": "0.3:0.7"}, "drop-mastered": {"drop_mastered": "0.85:2"}}.get(arm, {})
    if arm == "random":
        m = json.loads((ordered / "manifest.json").read_text())
        order = pl.read_parquet([str(ordered / s["path"]) for s in m["sets"]["baseline"]["shards"]], columns=["id"])["id"].to_list()
        sampler = None
    else:
        sampler = CurriculumSampler(ordered, replan_every=replan_every if strategies else None, **strategies)
        ids = sampler.dataset["id"]
        ids = list(ids)
    theta = 0.0
    curve, reached, rows_read = [], None, 0
    it = iter(sampler) if sampler is not None else iter(range(len(order)))
    for step in range(steps_max):
        batch_ids = []
        for _ in range(batch):
            try:
                i = next(it)
            except StopIteration:
                break
            batch_ids.append(ids[i] if sampler is not None else order[i])
        if not batch_ids:
            break
        d = np.array([d_of[x] for x in batch_ids])
        p = sigmoid(theta - d)
        rewards = (rng.random(len(p)) < p).astype(float)
        theta += eta * float(np.sum(4 * p * (1 - p))) / batch
        rows_read += len(batch_ids)
        if sampler is not None:
            sampler.update(batch_ids, rewards.tolist(), step=step)
        success = float(sigmoid(theta - held_out).mean())
        curve.append(success)
        if reached is None and success >= TARGET:
            reached = {"step": step + 1, "rows": rows_read}
    out = {"arm": arm, "reached": reached, "final": curve[-1] if curve else None, "steps_run": len(curve), "curve_every_10": curve[::10]}
    if sampler is not None:
        out["replans"] = len(sampler.replans)
        out["dropped_reads"] = sum(r["counts"].get("dropped_reads", 0) for r in sampler.replans)
    return out


def mean_ci(values: list[float]) -> list[float] | None:
    """Student-t 95 % CI of the mean over the seeds (curate compare's method: a percentile bootstrap
    of 5 values under-covers); the value itself when every seed gave the same one."""
    if not values:
        return None
    from curate.compare.stats import mean_ci as t_ci

    ci = t_ci(np.asarray(values, dtype=float))
    return [float(values[0])] * 2 if ci is None else [float(ci[0]), float(ci[1])]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--rows", type=int, default=1000)
    ap.add_argument("--held-out", type=int, default=1000)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--passes", type=int, default=6)
    ap.add_argument("--eta", type=float, default=0.06)
    ap.add_argument("--replan-every", type=int, default=10)
    ap.add_argument("--json", default=str(HERE / "out" / "feedback.json"))
    args = ap.parse_args()

    import os

    from curate.order import OrderConfig, order

    os.environ.setdefault("HF_DATASETS_CACHE", tempfile.mkdtemp(prefix="curate-bench-hf-"))
    t0 = time.perf_counter()
    results: dict[str, list[dict]] = {a: [] for a in ARMS}
    steps_max = args.passes * args.rows // args.batch
    for seed in range(args.seeds):
        rng = np.random.default_rng(seed)
        with tempfile.TemporaryDirectory(prefix="curate-bench-feedback-") as tmp:
            src, d_of = make_rows(Path(tmp), args.rows, rng)
            held_out = rng.uniform(-2.0, 6.0, args.held_out)
            order(
                OrderConfig(
                    [str(src)],
                    str(Path(tmp) / "ordered"),
                    schedule="root",
                    batch_size=args.batch,
                    num_samples=args.passes * args.rows,
                    seed=seed,
                    plot=False,
                )
            )
            for arm in ARMS:
                r = run_arm(
                    arm,
                    Path(tmp) / "ordered",
                    d_of,
                    held_out,
                    steps_max,
                    args.batch,
                    args.eta,
                    args.replan_every,
                    np.random.default_rng([seed, ARMS.index(arm)]),
                )
                r["seed"] = seed
                results[arm].append(r)
                print(f"seed {seed} {arm:14s} reached={r['reached']} final={r['final']:.3f}", file=sys.stderr, flush=True)

    summary = {}
    base = {r["seed"]: r["reached"]["step"] for r in results["random"] if r["reached"]}
    for arm in ARMS:
        steps = [r["reached"]["step"] for r in results[arm] if r["reached"]]
        rows = [r["reached"]["rows"] for r in results[arm] if r["reached"]]
        diffs = [r["reached"]["step"] - base[r["seed"]] for r in results[arm] if r["reached"] and r["seed"] in base]
        summary[arm] = {
            "reached": f"{len(steps)} of {len(results[arm])}",
            "steps_mean": float(np.mean(steps)) if steps else None,
            "steps_ci": mean_ci(steps),
            "rows_mean": float(np.mean(rows)) if rows else None,
            "vs_random_steps_mean": float(np.mean(diffs)) if diffs and arm != "random" else None,
            "vs_random_steps_ci": mean_ci(diffs) if diffs and arm != "random" else None,
            "final_mean": float(np.mean([r["final"] for r in results[arm]])),
        }
    out = {
        "simulation": True,
        "args": vars(args),
        "target": TARGET,
        "summary": summary,
        "runs": results,
        "seconds": round(time.perf_counter() - t0, 1),
        "load_average": os.getloadavg(),
    }
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(out, indent=2))
    print(
        f"\nSIMULATED learner (p = σ(θ − d), Δθ = η·4p(1−p)); {args.seeds} seeds, {args.rows} rows, {args.passes} passes, batch {args.batch}, "
        f"η = {args.eta}, re-plan every {args.replan_every} steps; steps to held-out success ≥ {TARGET}:\n"
    )
    print("| arm | reached | steps (mean) | 95 % CI | rows read | vs random (steps) | 95 % CI | final success |")
    print("|---|---|---:|---|---:|---:|---|---:|")
    for arm, s in summary.items():
        if s["steps_mean"] is None:
            print(f"| {arm} | {s['reached']} | — | — | — | — | — | {s['final_mean']:.3f} |")
            continue
        ci = f"[{s['steps_ci'][0]:.0f}, {s['steps_ci'][1]:.0f}]" if s["steps_ci"] else "—"
        dci = f"[{s['vs_random_steps_ci'][0]:+.0f}, {s['vs_random_steps_ci'][1]:+.0f}]" if s["vs_random_steps_ci"] else "—"
        diff = "—" if s["vs_random_steps_mean"] is None else f"{s['vs_random_steps_mean']:+.1f}"
        print(f"| {arm} | {s['reached']} | {s['steps_mean']:.1f} | {ci} | {s['rows_mean']:.0f} | {diff} | {dci} | {s['final_mean']:.3f} |")
    print(f"\n{out['seconds']} s; load average {out['load_average'][0]:.1f}")


if __name__ == "__main__":
    main()
