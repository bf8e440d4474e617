"""Run summaries: a compact table on stderr, and JSON for CI (`--summary-json`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def print_summary(command: str, data: dict[str, Any]) -> None:
    from rich.table import Table

    from curate.cli._output import err_console

    con = err_console()
    head = (
        f"[bold]{command}[/]: {data.get('rows_in', 0)} rows in, {data.get('rows_out', 0)} out, "
        f"{data.get('quarantined', 0)} quarantined in {data.get('seconds', 0):.2f}s"
    )
    if data.get("rows_per_second"):
        head += f" ({data['rows_per_second']:.0f} rows/s, {data.get('mb_per_second') or 0:.2f} MB/s)"
    con.print(head, highlight=False)
    if data.get("reject_reasons"):
        con.print("  rejects: " + ", ".join(f"{k}: {v}" for k, v in data["reject_reasons"].items()), highlight=False)
    q = data.get("quantiles") or {}
    if q:
        t = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
        t.add_column("column")
        for p in ("p0", "p10", "p50", "p90", "p100"):
            t.add_column(p, justify="right")
        for col, vals in q.items():
            t.add_row(col, *[("—" if vals.get(p) is None else f"{vals[p]:.4g}") for p in ("p0", "p10", "p50", "p90", "p100")])
        con.print(t)


def write_summary_json(path: str, data: dict[str, Any]) -> None:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(json.dumps(data, indent=2, default=str) + "\n")
