"""Synthetic rows with known labels for the fit tests."""

import json
import random

WORDS = [
    "alpha",
    "beta",
    "gamma",
    "delta",
    "epsilon",
    "zeta",
    "eta",
    "theta",
    "iota",
    "kappa",
    "lambda",
    "mu",
    "nu",
    "xi",
    "omicron",
    "pi",
    "rho",
    "sigma",
    "tau",
    "upsilon",
    "phi",
    "chi",
    "psi",
    "omega",
]


def make_rows(n: int, seed: int = 0, label=None, labelled: float = 1.0) -> list[dict]:
    """Rows of random words with a numeric `score_x` column; `label(row, rng)` gives each labelled row's label."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        x = rng.uniform(0, 10)
        text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 25)))
        row = {"id": f"r{i:04d}", "text": text, "score_x": x}
        row["y"] = (label(row, rng) if label else x) if rng.random() < labelled else None
        rows.append(row)
    return rows


def write_jsonl(path, rows) -> str:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return str(path)
