"""Shared fixtures for the feedback tests: a small scored input and its ordered folder (two passes)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from curate.order import OrderConfig, order

N, B = 120, 6


def scored(path: Path, n: int = N, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    pq.write_table(
        pa.table(
            {
                "id": [f"r{i:03d}" for i in range(n)],
                "text": [f"row {i} " * (1 + i % 4) for i in range(n)],
                "difficulty": rng.random(n),
                "source": np.where(np.arange(n) % 3 == 0, "gsm", "math"),
                "score_pass_rate_passes": rng.integers(0, 5, n),
                "score_pass_rate_k": np.full(n, 4),
            }
        ),
        path,
    )
    return path


def ordered(root: Path, passes: int = 2, rows_per_shard: int = 30, **kw) -> Path:
    src = scored(root / "scored.parquet")
    out = root / "ordered"
    order(
        OrderConfig(
            [str(src)],
            str(out),
            schedule=kw.pop("schedule", "linear"),
            batch_size=B,
            num_samples=passes * N,
            seed=3,
            plot=False,
            rows_per_shard=rows_per_shard,
            **kw,
        )
    )
    return out


def curriculum(folder: Path, name: str = "curriculum") -> pl.DataFrame:
    m = json.loads((folder / "manifest.json").read_text())
    return pl.read_parquet([str(folder / s["path"]) for s in m["sets"][name]["shards"]]) if m["sets"][name]["shards"] else pl.DataFrame()


def first_steps_stats(folder: Path, steps: int, path: Path, success=lambda row: 1.0, fmt: str = "jsonl") -> Path:
    """One observation per row read in steps [0, steps): reward = success(row)."""
    df = curriculum(folder).filter(pl.col("curriculum_step") < steps)
    rows = [{"id": r["id"], "step": r["curriculum_step"], "reward": success(r)} for r in df.iter_rows(named=True)]
    frame = pl.DataFrame(rows)
    if fmt == "jsonl":
        frame.write_ndjson(path)
    elif fmt == "csv":
        frame.write_csv(path)
    else:
        frame.write_parquet(path)
    return path
