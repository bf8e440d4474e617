"""`curate report`: read a run folder, write report.html and the dataset card README.md."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from curate.errors import UsageError
from curate.report.stats import DEFAULT_SAMPLE_ROWS

CARD_MARK = "<!-- dataset card written by `curate report`; rerun it to refresh -->"


@dataclass
class ReportOptions:
    output: str | None = None  # HTML path; default DIR/report.html
    card: str | None = None  # card path; default DIR/README.md
    write_html: bool = True
    write_card: bool = True
    scored: list[str] = field(default_factory=list)
    sample_rows: int = DEFAULT_SAMPLE_ROWS
    compare: str | None = None  # compare.json (or its folder); default DIR/compare/compare.json


@dataclass
class ReportResult:
    html: Path | None
    card: Path | None
    missing: list[str]
    rows: int | None
    sampled: bool


def _check_card_target(path: Path) -> None:
    if path.exists() and CARD_MARK not in path.read_text(errors="replace"):
        raise UsageError(f"{path} exists and was not written by `curate report`", "pass --card OTHER.md or --no-card (or remove the file)")


def build_report(folder: str | Path, opts: ReportOptions | None = None) -> ReportResult:
    """Write the HTML report and/or the dataset card for a run folder; return where they went."""
    from curate.report.card import render_card
    from curate.report.facts import gather_facts
    from curate.report.load import load_run
    from curate.report.stats import CURVE_MIN_SHARDS, scored_stats, segment_stats, shard_stats

    opts = opts or ReportOptions()
    if not (opts.write_html or opts.write_card):
        raise UsageError("nothing to write", "drop --no-card or --card-only")
    run = load_run(folder, opts.scored, opts.compare)
    html_path = Path(opts.output) if opts.output else run.root / "report.html"
    card_path = Path(opts.card) if opts.card else run.root / "README.md"
    if opts.write_card:
        _check_card_target(card_path)
    composite = [c.get("column") for c in (run.score_summary or {}).get("composite") or [] if isinstance(c, dict)]
    stats = scored_stats(run.scored, opts.sample_rows, [c for c in composite if c]) if run.scored else None
    facts = gather_facts(run, stats)
    written_card = None
    if opts.write_card:
        link = _relative(html_path, card_path.parent) if opts.write_html else None
        card_path.parent.mkdir(parents=True, exist_ok=True)
        card_path.write_text(render_card(run, facts, stats, link) + "\n" + CARD_MARK + "\n", encoding="utf-8")
        written_card = card_path
    written_html = None
    if opts.write_html:
        from curate.report.html import render_page, write_page

        shards = shard_stats(run.ordered, run.manifest) if run.ordered is not None and run.manifest else []
        curve, unit = shards, "shard"
        if shards and run.manifest and sum(s.set != "baseline" for s in shards) < CURVE_MIN_SHARDS:
            seg = segment_stats(run.ordered, run.manifest)
            if seg:
                curve, unit = seg, "segment"
        link = _relative(card_path, html_path.parent) if written_card else None
        write_page(html_path, render_page(run, facts, stats, shards, link, curve=curve, curve_unit=unit))
        written_html = html_path
    return ReportResult(written_html, written_card, list(run.missing), stats.rows if stats else None, bool(stats and stats.sampled))


def _relative(target: Path, start: Path) -> str:
    import os

    return os.path.relpath(target.resolve(), start.resolve())
