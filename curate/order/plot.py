"""curriculum.png: difficulty along the run with the pacing curve over it, and its spread per stage/tenth."""

from __future__ import annotations

from pathlib import Path

import numpy as np

MAX_POINTS = 20_000
MAX_BOX = 50_000  # rows per box: an even subsample is plenty for quartiles


def _thin(a: np.ndarray) -> np.ndarray:
    if len(a) <= MAX_BOX:
        return a if len(a) else np.array([np.nan])
    return a[np.linspace(0, len(a) - 1, MAX_BOX).astype(np.int64)]


def plot_curriculum(
    path: Path,
    difficulty: np.ndarray,
    sorted_difficulty: np.ndarray,
    fraction: np.ndarray,
    batch_size: int,
    stages: int,
    title: str,
    key: str,
    baseline: np.ndarray | None = None,
) -> None:
    from curate.errors import require

    require("matplotlib", "pip install matplotlib", "curriculum.png")
    from matplotlib.figure import Figure  # not pyplot: no global state, so it can draw on a thread of its own

    s = len(difficulty)
    fig = Figure(figsize=(10, 8))
    ax, box = fig.subplots(2, 1, gridspec_kw={"height_ratios": [3, 2]})
    pick = np.unique(np.linspace(0, s - 1, min(s, MAX_POINTS)).astype(np.int64)) if s else np.empty(0, np.int64)
    ax.scatter(pick, difficulty[pick], s=3, alpha=0.35, color="tab:blue", label=f"{key} of each row read", rasterized=True)
    steps = np.arange(len(fraction))
    x = np.minimum((steps + 1) * batch_size, s) - 1
    n = len(sorted_difficulty)
    if n:
        ceiling = sorted_difficulty[np.clip(np.ceil(fraction * n).astype(np.int64) - 1, 0, n - 1)]
        ax.plot(x, ceiling, color="tab:red", lw=2, label=f"hardest {key} available (pacing)")
    ax.set_xlabel("position in the run (rows read)")
    ax.set_ylabel(key)
    ax.set_title(title)
    ax2 = ax.twinx()
    ax2.plot(x, fraction, color="tab:orange", lw=1, ls="--", label="g(t): fraction of sorted data available")
    ax2.set_ylim(0, 1.05)
    ax2.set_ylabel("g(t)")
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, loc="lower right", fontsize=8, framealpha=0.9)

    parts = stages if stages > 1 else 10
    label = "stage" if stages > 1 else "tenth of the run"
    edges = np.linspace(0, s, parts + 1).astype(np.int64)
    groups = [difficulty[a:b] for a, b in zip(edges[:-1], edges[1:])]
    names = [str(i) if stages > 1 else f"{i + 1}" for i in range(parts)]
    pos = np.arange(parts)
    width = 0.38 if baseline is not None else 0.6
    b1 = box.boxplot(
        [_thin(g) for g in groups], positions=pos - (width / 2 if baseline is not None else 0), widths=width, showfliers=False, patch_artist=True
    )
    for patch in b1["boxes"]:
        patch.set_facecolor("tab:blue")
        patch.set_alpha(0.5)
    handles = [b1["boxes"][0]]
    labels = ["curriculum"]
    if baseline is not None:
        bg = [baseline[a:b] for a, b in zip(edges[:-1], edges[1:])]
        b2 = box.boxplot([_thin(g) for g in bg], positions=pos + width / 2, widths=width, showfliers=False, patch_artist=True)
        for patch in b2["boxes"]:
            patch.set_facecolor("tab:gray")
            patch.set_alpha(0.5)
        handles.append(b2["boxes"][0])
        labels.append("random baseline")
    box.set_xticks(pos, names)
    box.set_xlabel(label)
    box.set_ylabel(key)
    box.set_title(f"{key} distribution per {label}")
    box.legend(handles, labels, fontsize=8, loc="upper left")
    fig.tight_layout()
    fig.savefig(str(path), dpi=110, metadata={"Software": None})
