"""Pictures as inline SVG (matplotlib, Agg backend, imported only when a report is drawn)."""

from __future__ import annotations

import io
import math
from typing import Any

from curate.report.stats import Histogram, ShardStat

BLUE, ORANGE, GREY, RED, GREEN = "#3b6ea8", "#e08a2c", "#9a9a9a", "#c0504d", "#4d9a5b"


def _plt() -> Any:
    from curate.errors import require

    mpl = require("matplotlib", "pip install matplotlib", "curate report")
    mpl.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update(
        {
            "svg.fonttype": "none",  # text stays text: small, crisp, searchable
            "font.size": 9,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.titlesize": 10,
            "axes.titleweight": "bold",
            "svg.hashsalt": "curate",  # stable ids: same run → same page
            "text.parse_math": False,  # column names and labels are data, never mathtext
        }
    )
    return plt


def _svg(fig: Any) -> str:
    plt = _plt()
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None, "Creator": None})
    plt.close(fig)
    text = buf.getvalue()
    return text[text.index("<svg") :]


def histograms(hists: list[Histogram], per_row: int = 3) -> str:
    plt = _plt()
    n = len(hists)
    rows = math.ceil(n / per_row)
    fig, axes = plt.subplots(rows, per_row, figsize=(3.6 * per_row, 2.5 * rows), squeeze=False)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    for ax, h in zip(axes.flat, hists):
        color = GREEN if h.column == "difficulty" else BLUE
        if h.counts and h.values is not None:
            ax.bar(h.values, h.counts, width=h.width, color=color)
            if len(h.values) <= 9:
                ax.set_xticks(h.values, [f"{x:.3g}" for x in h.values])
        elif h.counts:
            widths = [b - a for a, b in zip(h.edges[:-1], h.edges[1:])]
            ax.bar(h.edges[:-1], h.counts, width=widths, align="edge", color=color, edgecolor="white", linewidth=0.4)
        if h.counts and h.mean is not None:
            ax.axvline(h.mean, color=RED, lw=1, ls="--")
        if not h.counts:
            ax.text(0.5, 0.5, "no values", ha="center", va="center", transform=ax.transAxes, color=GREY)
        ax.set_title(h.column, fontsize=9)
        sub = f"n={h.n:,}" + (f"   mean={h.mean:.3g}" if h.mean is not None else "") + (f"   null={h.nulls:,}" if h.nulls else "")
        ax.set_xlabel(sub, fontsize=7, color="#555")
        ax.tick_params(labelsize=7)
    fig.tight_layout()
    return _svg(fig)


def matrix(
    values: list[list[float | None]],
    rows: list[str],
    cols: list[str],
    title: str,
    *,
    signed: bool,
    cbar: str,
    fmt: str = "{:.2f}",
    size: tuple[float, float] | None = None,
    xlabel: str = "",
    ylabel: str = "",
) -> str:
    """A heatmap with the number written in every cell."""
    import numpy as np

    plt = _plt()
    arr = np.array([[np.nan if v is None else float(v) for v in r] for r in values], dtype=float)
    w = size or (max(4.0, 0.62 * len(cols) + 2.5), max(3.0, 0.5 * len(rows) + 1.6))
    fig, ax = plt.subplots(figsize=w)
    if signed:
        im = ax.imshow(arr, cmap="RdBu_r", vmin=-1, vmax=1, aspect="auto")
    else:
        im = ax.imshow(arr, cmap="Blues", vmin=0, vmax=max(1.0, np.nanmax(arr) if arr.size else 1.0), aspect="auto")
    ax.set_xticks(range(len(cols)), cols, rotation=40 if signed else 0, ha="right" if signed else "center", fontsize=8)
    ax.set_yticks(range(len(rows)), rows, fontsize=8)
    ax.spines[:].set_visible(False)
    lim = 1.0 if signed else (np.nanmax(arr) if arr.size and np.isfinite(arr).any() else 1.0)
    for i in range(arr.shape[0]):
        for j in range(arr.shape[1]):
            v = arr[i, j]
            text = "–" if np.isnan(v) else fmt.format(v)
            dark = (abs(v) > 0.6 * lim) if not np.isnan(v) else False
            ax.text(j, i, text, ha="center", va="center", fontsize=7 if len(cols) > 10 else 8, color="white" if dark else "#222")
    ax.set_title(title)
    if xlabel:
        ax.set_xlabel(xlabel)
    if ylabel:
        ax.set_ylabel(ylabel)
    fig.colorbar(im, ax=ax, fraction=0.04, pad=0.02, label=cbar)
    fig.tight_layout()
    return _svg(fig)


def bars(labels: list[str], values: list[float], title: str, ylabel: str = "rows", colors: list[str] | None = None) -> str:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(max(3.5, 0.8 * len(labels) + 1.5), 3.0))
    b = ax.bar(range(len(labels)), values, color=colors or BLUE)
    ax.bar_label(b, labels=[f"{v:,.0f}" for v in values], fontsize=8, padding=2)
    ax.set_xticks(range(len(labels)), labels, fontsize=8, rotation=0 if len(labels) < 6 else 30, ha="center" if len(labels) < 6 else "right")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.margins(y=0.15)
    fig.tight_layout()
    return _svg(fig)


def funnel(rows: list[tuple[str, dict[str, float]]], stages: list[str], title: str) -> str:
    """Grouped bars: one group per mode/op, one bar per funnel stage."""
    import numpy as np

    plt = _plt()
    cmap = plt.get_cmap("Blues")
    fig, ax = plt.subplots(figsize=(max(5.0, 1.2 * len(rows) * max(1, len(stages)) / 4 + 3), 3.0))
    x = np.arange(len(rows))
    width = 0.8 / max(1, len(stages))
    for k, s in enumerate(stages):
        vals = [float(r.get(s) or 0) for _, r in rows]
        ax.bar(x + (k - (len(stages) - 1) / 2) * width, vals, width, label=s, color=cmap(0.35 + 0.6 * k / max(1, len(stages) - 1)))
    ax.set_xticks(x, [label for label, _ in rows], fontsize=8)
    ax.set_ylabel("candidates")
    ax.set_title(title)
    ax.legend(fontsize=7, ncols=len(stages), loc="upper center", bbox_to_anchor=(0.5, -0.14), frameon=False)
    ax.margins(y=0.2)
    fig.tight_layout()
    return _svg(fig)


def curriculum(shards: list[ShardStat], key: str, unit: str = "shard") -> str:
    """Difficulty min/mean/max per shard (or segment) along the training order, with the pacing fraction on a second axis."""
    import numpy as np

    plt = _plt()
    fig, ax = plt.subplots(figsize=(10, 3.6))
    sets: dict[str, list[ShardStat]] = {}
    for s in shards:
        sets.setdefault(s.set, []).append(s)
    fr_ax = None
    for name, items in sets.items():
        pos = np.cumsum([0] + [s.rows for s in items])
        mid = (pos[:-1] + pos[1:]) / 2
        d = [s.difficulty for s in items]
        if all(v is None for v in d):
            continue
        mean = np.array([np.nan if v is None else v.get("mean", np.nan) for v in d], dtype=float)
        lo = np.array([np.nan if v is None else v.get("min", np.nan) for v in d], dtype=float)
        hi = np.array([np.nan if v is None else v.get("max", np.nan) for v in d], dtype=float)
        color = GREY if name == "baseline" else BLUE
        if name == "baseline":
            ax.plot(mid, mean, marker="o" if len(items) <= 60 else None, ms=2.5, lw=1.2, color=color, label=f"{name}: mean {key}")
        else:
            ax.fill_between(mid, lo, hi, alpha=0.18, color=color, lw=0, label=f"{name}: min–max {key} per {unit}")
            ax.plot(mid, mean, marker="o" if len(items) <= 60 else None, ms=3, lw=1.8, color=color, label=f"{name}: mean {key}")
        if name == "curriculum" or (fr_ax is None and name != "baseline"):
            fr = [s.fraction for s in items]
            if any(f is not None for f in fr):
                fr_ax = ax.twinx()
                top = [np.nan if f is None else f["max"] for f in fr]
                fr_ax.step(pos, top + top[-1:], where="post", color=ORANGE, lw=1.4, ls="--", label=f"pacing fraction g(t) (max in {unit})")
                fr_ax.set_ylim(0, 1.05)
                fr_ax.set_ylabel("g(t): fraction of sorted data available")
                fr_ax.spines["right"].set_visible(True)
        stages = [s.stage for s in items]
        for i in range(1, len(items)):
            if stages[i] != stages[i - 1] and stages[i] is not None and name == "curriculum":
                ax.axvline(pos[i], color="#bbb", lw=0.8, ls=":")
    ax.set_xlabel(f"rows read, in training order (one point per {unit})")
    ax.set_xlim(left=0)
    ax.set_ylabel(key)
    ax.set_title(f"{key} per {unit} along the training order")
    h1, l1 = ax.get_legend_handles_labels()
    if fr_ax is not None:
        h2, l2 = fr_ax.get_legend_handles_labels()
        h1, l1 = h1 + h2, l1 + l2
    ax.legend(h1, l1, fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncols=min(4, len(h1)), frameon=False)
    fig.tight_layout()
    return _svg(fig)


def scatter(x: list[float], y: list[float], title: str, xlabel: str, ylabel: str, max_points: int = 5000) -> str:
    """Predicted against measured, one dot per row (an even sample above `max_points`), with the diagonal."""
    plt = _plt()
    step = max(1, len(x) // max_points)
    xs, ys = x[::step], y[::step]
    fig, ax = plt.subplots(figsize=(4.2, 3.6))
    ax.scatter(xs, ys, s=6, alpha=0.35, color=BLUE, linewidths=0)
    if xs:
        lo, hi = min(min(xs), min(ys)), max(max(xs), max(ys))
        ax.plot([lo, hi], [lo, hi], color=GREY, linewidth=0.8)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    fig.tight_layout()
    return _svg(fig)
