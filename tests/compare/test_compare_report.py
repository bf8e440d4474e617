"""The "Training comparison" section of `curate report` and the card's verdict lines."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from report_fixtures import make_run, write_compare  # tests/, on the path through its conftest.py

from curate.errors import InputError
from curate.report import ReportOptions, build_report


def _section(html: str, sid: str) -> str:
    return dict(re.findall(r'<section id="([^"]+)">(.*?)</section>', html, flags=re.S))[sid]


@pytest.fixture(scope="module")
def run_with_compare(tmp_path_factory) -> Path:
    return make_run(tmp_path_factory.mktemp("r") / "out", scored=False, synth=False)


def test_section_shows_verdicts_tables_and_the_picture(run_with_compare):
    res = build_report(run_with_compare)
    sec = _section(res.html.read_text(), "compare")
    data = json.loads((run_with_compare / "compare" / "compare.json").read_text())
    verdict = data["vs_baseline"]["curriculum"]["verdict"]
    assert "lower (better)" in verdict
    assert verdict.replace("'", "&#x27;") in sec
    assert "<h3>Per arm</h3>" in sec and "<h3>Versus baseline (arm − baseline)</h3>" in sec
    assert f"{data['arms']['baseline']['final']:.4g}" in sec and "paired" in sec
    assert "steps to 3" in sec and "2 of 2 runs" in sec
    assert "data:image/png;base64," in sec and "own best learning rate" in sec
    assert 'class="missing"' not in sec
    card = res.card.read_text()
    assert "## Does the order help?" in card and f"**curriculum**: {verdict}" in card
    assert not any(m.startswith("training comparison") for m in res.missing)


def test_missing_comparison_is_named(tmp_path):
    root = make_run(tmp_path / "out", scored=False, synth=False, compare=False)
    res = build_report(root)
    sec = _section(res.html.read_text(), "compare")
    assert 'class="missing"' in sec and "curate compare" in sec
    assert any(m.startswith("training comparison — looked for compare/compare.json") for m in res.missing)
    assert "Not measured here" in res.card.read_text()


def test_comparison_given_by_path(tmp_path, run_with_compare):
    root = make_run(tmp_path / "out", scored=False, synth=False, compare=False)
    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(run_with_compare / "compare", elsewhere)
    for given in (elsewhere, elsewhere / "compare.json"):
        res = build_report(root, ReportOptions(compare=str(given)))
        assert "data:image/png;base64," in _section(res.html.read_text(), "compare")
    with pytest.raises(InputError, match="is not a compare.json"):
        build_report(root, ReportOptions(compare=str(tmp_path / "nope")))


def test_a_folder_with_only_a_comparison_is_a_run(tmp_path):
    write_compare(tmp_path / "only")
    shutil.rmtree(tmp_path / "only" / "logs")
    res = build_report(tmp_path / "only")
    assert "lower (better)" in _section(res.html.read_text(), "compare")


def test_unreadable_or_odd_compare_json_is_reported_not_fatal(tmp_path):
    root = make_run(tmp_path / "out", scored=False, synth=False, compare=False)
    (root / "compare").mkdir()
    (root / "compare" / "compare.json").write_text("{not json")
    res = build_report(root)
    html = res.html.read_text()
    assert "compare.json could not be read" in html and "could not be read" in _section(html, "compare")
    (root / "compare" / "compare.json").write_text(json.dumps({"metric": "eval_loss", "arms": {"a": 3, "b": {"final": "x"}}, "vs_baseline": []}))
    sec = _section(build_report(root).html.read_text(), "compare")
    assert "eval_loss" in sec and "No compare.png" in sec
