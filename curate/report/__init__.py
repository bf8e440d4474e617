"""An HTML report and a dataset card for a run folder (scored rows, summaries, ordered shards)."""

from curate.report.build import ReportOptions, ReportResult, build_report

__all__ = ["ReportOptions", "ReportResult", "build_report"]
