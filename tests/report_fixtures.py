"""Run folders shaped like the pipeline's output, built from scratch for the report tests."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

K = 8


def scored_table(n: int = 240, synth: int = 36, seed: int = 0) -> pa.Table:
    rng = np.random.default_rng(seed)
    length = rng.integers(5, 400, n + synth).astype(float)
    comp = 1.2 + length / 300 + rng.normal(0, 0.1, n + synth)
    flesch = 100 - length / 5 + rng.normal(0, 10, n + synth)
    c = np.clip(np.round(K * (1 - length / 400) + rng.normal(0, 1.5, n + synth)), 0, K).astype(int)
    pass_rate = c / K
    bucket = np.where(c == K, "mastered", np.where(c == 0, "frontier", "learnable"))
    ranks = lambda x: (np.argsort(np.argsort(x)) + 0.5) / len(x)  # noqa: E731
    difficulty = (ranks(length) + ranks(-flesch) + ranks(-pass_rate)) / 3
    is_syn = np.arange(n + synth) >= n
    task = rng.choice(["math", "prose", "code"], n + synth)
    ops = np.array(["deepen", "add_constraints", "targeted"])
    return pa.table(
        {
            "id": [f"r{i}" for i in range(n + synth)],
            "text": [f"row {i} " + "word " * int(length[i] // 10) for i in range(n + synth)],
            "task_type": task.tolist(),
            "source": np.where(is_syn, "synthesized", "sample_data").tolist(),
            "score_length": length,
            "score_compression_ratio": comp,
            "score_readability_flesch": np.where(rng.random(n + synth) < 0.05, np.nan, flesch),
            "score_pass_rate": pass_rate,
            "score_pass_rate_bucket": bucket.tolist(),
            "difficulty": difficulty,
            "parent_id": [f"r{i % n}" if s else None for i, s in enumerate(is_syn)],
            "synth_mode": [("ladder" if i % 3 else "defect") if s else None for i, s in enumerate(is_syn)],
            "synth_op": [str(ops[i % 3]) if s else None for i, s in enumerate(is_syn)],
            "synth_level": pa.array([int(1 + i % 3) if s else None for i, s in enumerate(is_syn)], pa.int32()),
            "synth_round": pa.array([1 if s else None for s in is_syn], pa.int32()),
            "generator_model": ["SmolLM2-135M-Instruct" if s else None for s in is_syn],
        }
    )


SCORE_SUMMARY = {
    "rows_in": 290,
    "rows_out": 276,
    "quarantined": 14,
    "reject_reasons": {"empty_text": 9, "text_too_long": 5},
    "signals": ["length", "compression_ratio", "readability", "pass_rate"],
    "composite": [
        {"column": "score_length", "direction": "higher-is-harder", "weight": 1.0},
        {"column": "score_readability_flesch", "direction": "lower-is-harder", "weight": 1.0},
        {"column": "score_pass_rate", "direction": "lower-is-harder", "weight": 2.0},
    ],
    "quantiles": {},
    "agreement_spearman": {},
    "signal_params": {"compression_ratio": {"level": 9}, "pass_rate": {"k": K, "temperature": 0.7}},
    "engine": {"name": "vllm", "model": "SmolLM2-135M-Instruct"},
    "seconds": 12.5,
}

SYNTH_SUMMARY = {  # the shape `curate synthesize` writes
    "mode": "ladder",
    "generator_model": "SmolLM2-135M-Instruct",
    "target_model": "SmolLM2-135M-Instruct",
    "funnel": {
        "stages": {
            "ladder/add_constraints": {"attempted": 40, "parsed": 36, "verified": 30, "novel": 28, "kept": 12},
            "ladder/deepen": {"attempted": 40, "parsed": 38, "verified": 25, "novel": 24, "kept": 12},
            "total": {"attempted": 80, "parsed": 74, "verified": 55, "novel": 52, "kept": 24},
        },
        "reasons": {"ladder/deepen": {"not_monotonic": 12, "refusal": 8}, "total": {"not_monotonic": 20, "refusal": 11}},
    },
    "pass_rate_by_level": {
        "measured": {"0": {"n": 20, "mean_pass_rate": 0.61}, "1": {"n": 30, "mean_pass_rate": 0.42}},
        "kept": {"1": {"n": 24, "mean_pass_rate": 0.38}},
    },
    "monotonic": {"checked": 52, "dropped": 12, "relabelled": 3},
    "input_rows": 20,
    "rows_written": 24,
    "rejects": 56,
}

SYNTH_SUMMARY_NESTED = {  # the looser shape: {mode: {op: counts}}
    "funnel": {"defect": {"targeted": {"attempted": 30, "parsed": 27, "verified": 20, "novel": 18, "kept": 12}}},
    "critic_model": "critic-model",
}


def _png(path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4, 2))
    ax.plot([0, 1, 2], [0, 1, 0.5])
    fig.savefig(path, dpi=60)
    plt.close(fig)


def write_ordered(root: Path, table: pa.Table, batch: int = 16, rows_per_shard: int = 48, layout: str = "sets") -> dict:
    """Shards in difficulty order with the order columns, a shuffled baseline and a manifest."""
    root.mkdir(parents=True, exist_ok=True)
    d = np.asarray(table.column("difficulty"))
    order = np.argsort(d, kind="stable")
    base = np.random.default_rng(1).permutation(order)
    n = len(order)
    steps = -(-n // batch)
    fraction = np.minimum(1.0, 0.2 + 0.8 * np.arange(steps) / max(1, steps - 1))
    sets: dict[str, list[dict]] = {}
    for name, idx, prefix in (("curriculum", order, ""), ("baseline", base, "baseline/")):
        count = -(-n // rows_per_shard)
        recs = []
        for i in range(count):
            sel = idx[i * rows_per_shard : (i + 1) * rows_per_shard]
            pos = np.arange(i * rows_per_shard, i * rows_per_shard + len(sel))
            t = table.take(pa.array(sel))
            t = t.append_column("curriculum_step", pa.array(pos // batch)).append_column("curriculum_position", pa.array(pos))
            t = t.append_column("curriculum_fraction", pa.array(fraction[pos // batch] if name == "curriculum" else np.ones(len(sel))))
            path = f"{prefix}part-{i:05d}-of-{count:05d}.parquet"
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            pq.write_table(t, root / path)
            dd = d[sel]
            recs.append(
                {
                    "path": path,
                    "rows": len(sel),
                    "bytes": (root / path).stat().st_size,
                    "sha256": "0" * 64,
                    "stage": 0,
                    "steps": [int(pos[0] // batch), int(pos[-1] // batch)],
                    "positions": [int(pos[0]), int(pos[-1])],
                    "difficulty": {"min": float(dd.min()), "mean": float(dd.mean()), "max": float(dd.max())},
                }
            )
        sets[name] = recs
    cfg = {"schedule": "linear", "params": {"b": 0.2, "a": 1.0}, "seed": 7, "by": ["difficulty:asc"], "batch_size": batch, "baseline": True}
    if layout == "sets":
        manifest = {
            "format_version": 1,
            "curate_version": "0.1.0",
            "config": cfg,
            "schedule": {"name": "linear", "formula": "min(1, b + (1-b)·t/(aT))"},
            "rows": {"input": n, "ordered": n, "quarantined": 0, "read": n, "distinct_read": n},
            "sets": {k: {"rows": sum(r["rows"] for r in v), "shards": v} for k, v in sets.items()},
        }
    else:  # the flat manifest layout: shards at the top, file/step_range/checksum, no per-shard stats for some
        shards = [{"file": r["path"], "rows": r["rows"], "step_range": r["steps"], "checksum": r["sha256"]} for r in sets["curriculum"]]
        manifest = {"format_version": 1, "config": {**cfg, "curate_version": "0.1.0"}, "shards": shards}
    _png(root / "curriculum.png")
    (root / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return manifest


def write_compare(root: Path) -> dict:
    """Two seeds each of a baseline and a curriculum arm (CSV logs, the curriculum 10 % lower), compared into root/compare."""
    from curate.compare import compare

    steps = np.arange(0, 501, 50)
    arms: dict[str, list[str]] = {}
    for arm, scale in (("baseline", 1.0), ("curriculum", 0.9)):
        for seed in (0, 1):
            loss = scale * (2 + 3 * np.exp(-steps / 150)) * (1 + np.random.default_rng(seed).normal(0, 0.01, len(steps)))
            path = root / "logs" / arm / f"seed-{seed}.csv"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("step,eval_loss\n" + "".join(f"{s},{v!r}\n" for s, v in zip(steps, loss.tolist())))
            arms.setdefault(arm, []).append(str(path))
    return compare(arms, root / "compare", target=3.0).data


def make_run(
    root: Path,
    *,
    scored: bool = True,
    summaries: bool = True,
    synth: bool = True,
    ordered: bool = True,
    layout: str = "sets",
    n: int = 240,
    compare: bool = True,
) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    table = scored_table(n)
    if scored:
        pq.write_table(table, root / "scored.parquet")
    if summaries:
        (root / "score-summary.json").write_text(json.dumps(SCORE_SUMMARY))
    if synth:
        (root / "synth-summary.json").write_text(json.dumps(SYNTH_SUMMARY if layout == "sets" else SYNTH_SUMMARY_NESTED))
    if ordered:
        write_ordered(root / "ordered", table, layout=layout)
    if compare:
        write_compare(root)
    return root
