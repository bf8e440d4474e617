"""`curate report`: the HTML page, the dataset card, missing parts, errors, and rendering in Chromium."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from report_fixtures import SCORE_SUMMARY, SYNTH_SUMMARY, make_run, scored_table

from curate.errors import InputError, UsageError
from curate.report import ReportOptions, build_report

SECTION_IDS = ["overview", "config", "signals", "agreement", "pass-rate", "synthesis", "curriculum", "compare"]


@pytest.fixture(scope="module")
def full_run(tmp_path_factory) -> Path:
    root = make_run(tmp_path_factory.mktemp("run") / "out")
    build_report(root)
    return root


def _sections(html: str) -> dict[str, str]:
    parts = re.findall(r'<section id="([^"]+)">(.*?)</section>', html, flags=re.S)
    return dict(parts)


def test_page_has_every_section_with_pictures(full_run):
    html = (full_run / "report.html").read_text()
    sec = _sections(html)
    assert list(sec) == SECTION_IDS
    for sid in ("signals", "agreement", "pass-rate", "synthesis", "curriculum"):
        assert "<svg" in sec[sid], f"section {sid} has no picture"
    assert 'class="missing"' not in html  # a full run lacks nothing
    # each signal's histogram, the correlation matrix labels, buckets and the funnel numbers
    for col in ("score_length", "score_compression_ratio", "score_readability_flesch", "score_pass_rate", "difficulty"):
        assert col in sec["signals"]
    assert "Spearman" in sec["agreement"] and "readability_flesch" in sec["agreement"]
    for b in ("mastered", "learnable", "frontier"):
        assert b in sec["pass-rate"]
    assert "rows by difficulty and pass rate" in sec["pass-rate"]
    assert "ladder/deepen" in sec["synthesis"] and "not_monotonic 12" in sec["synthesis"]
    assert "<b>total</b>" in sec["synthesis"]
    assert "Target pass rate by ladder level" in sec["synthesis"] and ">0.61<" in sec["synthesis"] and "dropped 12" in sec["synthesis"]
    assert "part-00000-of-00006.parquet" in sec["curriculum"] and "data:image/png;base64," in sec["curriculum"]
    assert "without shuffling" in sec["curriculum"] and "baseline/" in sec["curriculum"]
    # counts and config
    for text in (">290<", ">276<", ">14<", "empty_text", "text_too_long", "higher-is-harder", "lower-is-harder", "linear", "SmolLM2-135M-Instruct"):
        assert text in html, text
    assert "Sampled" not in html


def test_page_is_self_contained(full_run):
    html = (full_run / "report.html").read_text()
    assert "<script" not in html
    assert not re.search(r'(src|href)="(https?:)?//', html)
    assert "<link" not in html


def test_card_states_the_key_facts(full_run):
    card = (full_run / "README.md").read_text()
    for text in (
        "`score_length` | higher-is-harder | 1",
        "`score_pass_rate` | lower-is-harder | 2",
        "SmolLM2-135M-Instruct",
        "schedule: `linear`",
        '"b": 0.2',
        "seed: 7",
        "rows in: 290",
        "rows scored (out): 276",
        "quarantined by scoring: 14",
        "synthesized and kept: 24",
        "| curriculum | 6 | 276 | `ordered/` |",
        "| baseline | 6 | 276 | `ordered/baseline/` |",
        "do not shuffle",
        "`baseline/` holds the same content in seeded random order",
        "[report.html](report.html)",
    ):
        assert text in card, text


def test_rerun_replaces_its_own_card_but_not_a_foreign_readme(tmp_path):
    root = make_run(tmp_path / "out", scored=False, ordered=False)
    build_report(root, ReportOptions(write_html=False))
    build_report(root, ReportOptions(write_html=False))  # its own card: refreshed
    (root / "README.md").write_text("# my notes\n")
    with pytest.raises(UsageError, match="not written by `curate report`"):
        build_report(root)
    assert (root / "README.md").read_text() == "# my notes\n"
    res = build_report(root, ReportOptions(card=str(tmp_path / "CARD.md")))
    assert res.card == tmp_path / "CARD.md" and "report.html" in res.card.read_text()


@pytest.mark.parametrize(
    "parts, absent, present",
    [
        (dict(scored=False, synth=False, ordered=False), ["scored rows", "synthesis summary", "ordered dataset"], ["higher-is-harder"]),
        (dict(summaries=False, synth=False, scored=False), ["scored rows", "score summary", "synthesis summary"], ["part-00000-of-00006"]),
        (dict(summaries=False, synth=False, ordered=False), ["score summary", "synthesis summary", "ordered dataset"], ["score_length"]),
        (dict(ordered=False), ["ordered dataset"], ["ladder/deepen"]),
        (dict(compare=False), ["training comparison"], ["ladder/deepen", "part-00000-of-00006"]),
    ],
)
def test_missing_parts_are_named_not_fatal(tmp_path, parts, absent, present):
    root = make_run(tmp_path / "out", **parts)
    res = build_report(root)
    html = res.html.read_text()
    card = res.card.read_text()
    assert list(_sections(html)) == SECTION_IDS
    for what in absent:
        assert any(m.startswith(what) for m in res.missing), what
        assert what in html and what in card
    for text in present:
        assert text in html


def test_looser_shapes_flat_manifest_and_nested_funnel(tmp_path):
    root = make_run(tmp_path / "out", layout="flat")
    res = build_report(root)
    sec = _sections(res.html.read_text())
    # the manifest has no per-shard difficulty: it is read from the shard files
    assert "<svg" in sec["curriculum"] and "0.200–0.294" in sec["curriculum"]
    assert "defect/targeted" in sec["synthesis"] and "critic-model" in res.html.read_text()
    card = res.card.read_text()
    assert "schedule: `linear`" in card and "seed: 7" in card and "synthesized and kept: 12" in card
    assert "| curriculum | 6 | 276 | `ordered/` |" in card


def test_large_inputs_are_sampled_and_the_page_says_so(tmp_path):
    root = make_run(tmp_path / "out", synth=False, ordered=False)
    res = build_report(root, ReportOptions(sample_rows=100))
    assert res.sampled
    html = res.html.read_text()
    assert "<b>Sampled:</b> 276 rows" in html and "one row in every 3 rows, evenly spaced (92 rows)" in html


def test_spearman_matches_ranks_then_pearson_with_pairwise_nulls():
    import numpy as np
    import polars as pl

    from curate.report.stats import spearman

    df = pl.DataFrame(
        {
            "a": [1.0, 5.0, 3.0, None, 2.0, 8.0],
            "b": [2.0, 4.0, 4.0, 1.0, float("nan"), 9.0],
            "c": [6.0, 5.0, 4.0, 3.0, 2.0, 1.0],
            "d": [1.0, 3.0, 2.0, 2.0, 9.0, 0.5],
        }
    )
    mat, n = spearman(df, ["a", "b", "c", "d"])
    rc, rd = df["c"].rank().to_numpy(), df["d"].rank().to_numpy()
    assert mat[2][3] == pytest.approx(np.corrcoef(rc, rd)[0, 1], abs=1e-3) and n[2][3] == 6
    keep = [0, 1, 2, 5]  # rows where a and b both have a finite value
    ra = pl.Series([1.0, 5.0, 3.0, 8.0]).rank().to_numpy()
    rb = pl.Series([2.0, 4.0, 4.0, 9.0]).rank().to_numpy()
    assert mat[0][1] == pytest.approx(np.corrcoef(ra, rb)[0, 1], abs=1e-3)
    assert n[0][1] == len(keep) and n[0][2] == 5 and n[2][2] == 6
    assert mat[0][0] == 1.0 and mat[1][0] == mat[0][1]


def test_scored_shards_with_different_columns(tmp_path):
    """--scored takes a folder whose shards differ (synthesized rows add columns)."""
    import pyarrow.parquet as pq

    t = scored_table(60, synth=12)
    d = tmp_path / "scored"
    d.mkdir()
    plain = t.slice(0, 60).drop_columns(["parent_id", "synth_mode", "synth_op", "synth_level", "synth_round", "generator_model"])
    pq.write_table(plain, d / "part-00000-of-00002.parquet")
    pq.write_table(t.slice(60), d / "part-00001-of-00002.parquet")
    out = tmp_path / "run"
    out.mkdir()
    res = build_report(out, ReportOptions(scored=[str(d)]))
    assert res.rows == 72
    html = res.html.read_text()
    assert "Synthesized rows in the scored set" in html and ">12<" in html


def test_nonexistent_and_empty_folders_are_input_errors(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        build_report(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="holds no curate run output"):
        build_report(tmp_path / "empty")
    with pytest.raises(InputError, match="matches no Parquet file"):
        build_report(tmp_path / "empty", ReportOptions(scored=[str(tmp_path / "missing.parquet")]))


# ----------------------------------------------------------------------------- CLI


def test_cli_writes_page_and_card(runner, tmp_path):
    from curate.cli import app

    root = make_run(tmp_path / "out", synth=False)
    res = runner.invoke(app, ["report", str(root), "-o", str(tmp_path / "page.html")])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "page.html").exists() and (root / "README.md").exists()
    assert "not in this run: synthesis summary" in res.output
    assert "../page.html" in (root / "README.md").read_text()


def test_cli_card_only_and_no_card(runner, tmp_path):
    from curate.cli import app

    root = make_run(tmp_path / "out", scored=False)
    res = runner.invoke(app, ["report", str(root), "--card-only"])
    assert res.exit_code == 0, res.output
    assert (root / "README.md").exists() and not (root / "report.html").exists()
    res = runner.invoke(app, ["report", str(root), "--no-card", "-o", str(tmp_path / "r.html")])
    assert res.exit_code == 0 and (tmp_path / "r.html").exists()
    res = runner.invoke(app, ["report", str(root), "--no-card", "--card-only"])
    assert res.exit_code == 2 and "contradict" in res.output


@pytest.mark.parametrize("make", ["missing", "empty", "file"])
def test_cli_bad_folder_exits_3(runner, tmp_path, make):
    from curate.cli import app

    target = tmp_path / "x"
    if make == "empty":
        target.mkdir()
    elif make == "file":
        target.write_text("{}")
    res = runner.invoke(app, ["report", str(target)])
    assert res.exit_code == 3
    assert "Error:" in res.output and "—" in res.output


def test_console_script_exit_code_for_missing_folder(tmp_path):
    import sys

    out = subprocess.run(
        [sys.executable, "-m", "curate", "report", str(tmp_path / "nope")], capture_output=True, text=True, cwd=Path(__file__).resolve().parents[2]
    )
    assert out.returncode == 3 and "does not exist" in out.stderr and out.stdout == ""


def test_cli_help_has_runnable_example(runner):
    from curate.cli import app

    res = runner.invoke(app, ["report", "--help"])
    assert res.exit_code == 0
    assert "Example" in res.output and "curate report out/" in res.output


# ----------------------------------------------------------------------------- rendering


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


def render(html: Path, png: Path, profile: Path, height: int = 3000) -> None:
    exe = find_chromium()
    assert exe
    cmd = [
        exe,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        f"--screenshot={png}",
        f"--window-size=1200,{height}",
        html.resolve().as_uri(),
    ]
    subprocess.run(cmd, capture_output=True, timeout=120, check=True)


def ink(png: Path) -> tuple[float, int, object]:
    """Share of pixels that are neither the page background nor white, and the number of distinct colours."""
    import numpy as np
    from PIL import Image

    img = np.asarray(Image.open(png).convert("RGB")).astype(int)
    drawn = (np.abs(img - [246, 247, 249]).sum(axis=2) > 30) & (np.abs(img - 255).sum(axis=2) > 30)
    return float(drawn.mean()), len(np.unique(img.reshape(-1, 3)[::7], axis=0)), img


@pytest.mark.skipif(find_chromium() is None, reason="chromium is not installed (Debian: apt-get install -y chromium)")
def test_page_renders_in_headless_chromium(full_run, tmp_path):
    import numpy as np

    png = tmp_path / "shot.png"
    render(full_run / "report.html", png, tmp_path / "profile")
    drawn, colours, img = ink(png)
    assert img.shape[:2] == (3000, 1200)
    assert drawn > 0.05 and colours > 200  # text, tables and pictures, not an empty or error page
    # the header bar and the blue histogram bars are drawn
    assert (np.abs(img[10:60, :, :] - [31, 42, 58]).sum(axis=2) < 10).mean() > 0.5
    assert (np.abs(img - [59, 110, 168]).sum(axis=2) < 10).sum() > 2000
    # and the check would catch a blank page
    blank = tmp_path / "blank.html"
    blank.write_text("<!doctype html><html><body></body></html>")
    render(blank, tmp_path / "blank.png", tmp_path / "profile")
    assert ink(tmp_path / "blank.png")[0] < 0.01


def test_pipeline_layout_stage_summaries_and_merged_funnels(tmp_path):
    """`curate run` keeps per-stage summaries in stages/ and merges synthesis summaries into synth-summary.json."""
    import copy

    root = make_run(tmp_path / "out", synth=False, ordered=False)
    stages = root / "stages"
    stages.mkdir()
    (stages / "01-score.summary.json").write_text(json.dumps({**SCORE_SUMMARY, "rows_in": 200, "rows_out": 190, "quarantined": 10}))
    ladder = {"name": "02-synthesize", **copy.deepcopy(SYNTH_SUMMARY)}
    defect = {
        "name": "03-synthesize",
        "mode": "defect",
        "critic_model": "critic-x",
        "funnel": {
            "stages": {
                "defect/targeted": {"attempted": 9, "parsed": 9, "verified": 5, "novel": 5, "kept": 3},
                "total": {"attempted": 9, "parsed": 9, "verified": 5, "novel": 5, "kept": 3},
            },
            "reasons": {},
        },
    }
    (stages / "02-synthesize.summary.json").write_text(json.dumps(SYNTH_SUMMARY))
    # before the merge (the report stage may run first): the stage summaries alone are enough
    res = build_report(root)
    html = res.html.read_text()
    assert "02-synthesize" in html and "ladder/deepen" in html and "synthesis summary" not in " ".join(res.missing)
    assert "Pipeline stages" in html and ">01-score<" in html and ">190<" in html
    assert ">02-synthesize<" in html and ">56<" in html  # synthesize's input_rows / rows_written / rejects
    # after the merge: one funnel per synthesize stage, not counted twice
    (stages / "03-synthesize.summary.json").write_text(json.dumps(defect))
    (root / "synth-summary.json").write_text(json.dumps({"stages": [ladder, defect], "funnel": {}}))
    res = build_report(root)
    sec = _sections(res.html.read_text())
    assert sec["synthesis"].count("<h3>02-synthesize") == 1 and "<h3>03-synthesize — mode defect</h3>" in sec["synthesis"]
    card = res.card.read_text()
    assert "synthesized and kept: 27" in card and "critic (defect): `critic-x`" in card


def test_scored_rows_without_scores_or_rows(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    root = tmp_path / "out"
    root.mkdir()
    pq.write_table(pa.table({"id": ["a", "b"], "text": ["x $a$ y", "z"]}), root / "scored.parquet")
    html = build_report(root).html.read_text()
    assert "no numeric score_* or difficulty columns" in html
    empty = scored_table(4).slice(0, 0)
    pq.write_table(empty, root / "scored.parquet")
    res = build_report(root)
    assert res.rows == 0 and "no values" in res.html.read_text()


def test_unreadable_manifest_is_reported(tmp_path):
    root = make_run(tmp_path / "out", scored=False, synth=False)
    (root / "ordered" / "manifest.json").write_text("{not json")
    html = build_report(root).html.read_text()
    assert "manifest.json could not be read" in html


def test_curve_per_shard_or_over_segments(tmp_path, full_run):
    from report_fixtures import write_ordered

    sec = _sections((full_run / "report.html").read_text())
    assert "With 6 shard(s), the curve is drawn over" in sec["curriculum"] and "per segment along the training order" in sec["curriculum"]
    root = tmp_path / "many"
    root.mkdir()
    write_ordered(root / "ordered", scored_table(200, synth=0), rows_per_shard=8)  # 25 shards: one point each
    sec = _sections(build_report(root, ReportOptions(write_card=False)).html.read_text())
    assert "equal segments" not in sec["curriculum"] and "per shard along the training order" in sec["curriculum"]
    assert "25 shards; the first and last 20 are listed" not in sec["curriculum"]  # 25 ≤ 40 rows listed


def test_agreement_uses_signal_columns_not_bookkeeping():
    from curate.report.stats import agreement_columns

    numeric = [
        "score_length",
        "score_zlib",
        "score_pass_rate",
        "score_pass_rate_passes",
        "score_pass_rate_lo",
        "score_pass_rate_tokens",
        "difficulty",
    ]
    assert agreement_columns(numeric, ["score_length", "score_pass_rate"]) == ["score_length", "score_zlib", "score_pass_rate", "difficulty"]
    assert agreement_columns(numeric, None) == ["score_length", "score_zlib", "score_pass_rate", "difficulty"]
    many = [f"score_s{i:02d}" for i in range(30)] + ["difficulty"]
    got = agreement_columns(many, ["score_s29", "score_s28"])
    assert len(got) == 20 and got[-3:] == ["score_s28", "score_s29", "difficulty"] and got[0] == "score_s00"


@pytest.mark.parametrize("layout", ["sets", "flat"])
def test_card_snippet_reads_the_rows_in_training_order(tmp_path, monkeypatch, layout):
    root = make_run(tmp_path / "out", layout=layout, synth=False)
    card = build_report(root, ReportOptions(write_html=False)).card.read_text()
    code = card.split("```python\n", 1)[1].split("```", 1)[0]
    code = code.replace("        ...", "        seen.extend(batch.column('curriculum_position').to_pylist())")
    monkeypatch.chdir(root)
    scope: dict = {"seen": []}
    exec(code, scope)
    assert scope["seen"] == list(range(276))
