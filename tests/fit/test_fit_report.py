"""The report's Learned difficulty section, from a run folder with a fitted model."""

import json

from fitdata import make_rows

from curate.fit import FitConfig, fit
from curate.report import ReportOptions, build_report
from curate.report.fit import bucket, bucket_agreement


def test_buckets_follow_the_counts_of_k():
    assert [bucket(p, 4) for p in (1.0, 0.9, 0.5, 0.1, 0.0)] == ["mastered", "mastered", "learnable", "frontier", "frontier"]
    agree = bucket_agreement([1.0, 0.0, 0.5, 0.5], [1.0, 0.5, 0.5, 0.0], [4, 4, 4, 4])
    assert agree["rows"] == 4 and agree["agreement"] == 0.5
    assert agree["table"]["frontier"]["learnable"] == 1 and agree["table"]["learnable"]["frontier"] == 1


def test_report_shows_the_fit(tmp_path, rows_file):
    rows = make_rows(120, seed=21, label=lambda r, rng: round(min(1.0, r["score_x"] / 8) * 4) / 4)
    rows = [{"id": r["id"], "text": r["text"], "score_x": r["score_x"], "score_pass_rate": r["y"], "score_pass_rate_k": 4} for r in rows]
    run = tmp_path / "run"
    fit([rows_file(rows)], FitConfig(label="score_pass_rate", output=str(run / "model")))
    (run / "score-summary.json").write_text(
        json.dumps(
            {
                "calibration": {
                    "label": "score_pass_rate",
                    "labelled_rows": 120,
                    "rule": "direction = sign",
                    "columns": {"score_x": {"spearman": -0.9, "direction": "lower-is-harder", "weight": 0.9, "rows": 120}},
                }
            }
        )
    )
    res = build_report(run, ReportOptions(write_card=False))
    page = res.html.read_text()
    section = page[page.index('<section id="fit">') :]
    section = section[: section.index("</section>")]
    assert "Learned difficulty" in section and "score_pass_rate" in section and "lower-is-harder" in section
    assert "Spearman" in section and "95% CI" in section and "<svg" in section
    assert "Bucket agreement" in section and "score_x" in section
    assert "Composite calibrated on" in section


def test_report_without_a_model_has_no_fit_section(tmp_path):
    (tmp_path / "score-summary.json").write_text(json.dumps({"rows_in": 3, "rows_out": 3, "signals": ["length"]}))
    page = build_report(tmp_path, ReportOptions(write_card=False)).html.read_text()
    assert 'id="fit"' not in page and "Learned difficulty" not in page
