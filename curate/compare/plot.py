"""compare.png: each arm's mean curve over the common window with its seeds' range as a band."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from curate.compare.readers import Series
from curate.compare.stats import Window, on_grid

BASELINE_COLOUR = "#6b6b6b"
COLOURS = ["#3b6ea8", "#e08a2c", "#4d9a5b", "#c0504d", "#8064a2", "#4bacc6", "#9b7a3c", "#d36ba6"]


def plot_compare(path: Path, series: dict[str, list[Series]], window: Window, metric: str, baseline: str, target: float | None) -> None:
    from curate.errors import require

    mpl = require("matplotlib", "pip install matplotlib", "compare.png")
    mpl.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 5))
    others = iter(COLOURS * (1 + len(series) // len(COLOURS)))
    for name, runs in series.items():
        colour = BASELINE_COLOUR if name == baseline else next(others)
        for s in runs:  # each run's own log, thin, over its whole range
            ax.plot(s.steps, s.values, color=colour, lw=0.6, alpha=0.35)
        ys = np.vstack([on_grid(s, window.grid) for s in runs])
        label = f"{name} (mean of {len(runs)} run{'s' if len(runs) != 1 else ''}" + (", band = seeds' range)" if len(runs) > 1 else ")")
        if len(runs) > 1:
            ax.fill_between(window.grid, ys.min(axis=0), ys.max(axis=0), color=colour, alpha=0.2, lw=0)
        ax.plot(window.grid, ys.mean(axis=0), color=colour, lw=2.2 if name != baseline else 2.0, ls="--" if name == baseline else "-", label=label)
    if target is not None:
        ax.axhline(target, color="#222", lw=0.8, ls=":", label=f"target {target:g}")
    for x in (window.start, window.end):
        ax.axvline(x, color="#bbb", lw=0.8, ls=":")
    ax.set_xlabel(f"step (dotted: the common window {window.start:g}–{window.end:g})")
    ax.set_ylabel(metric)
    ax.set_title(f"{metric} by step, arms vs {baseline}")
    ax.spines["top"].set_visible(False)
    ax.spines["right"].set_visible(False)
    ax.legend(fontsize=8, frameon=False)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp.png")
    fig.savefig(tmp, dpi=110, metadata={"Software": None})
    plt.close(fig)
    tmp.replace(path)
