"""Find what a run directory holds. Every part is optional; what is absent is named, never fatal."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from glob import glob
from pathlib import Path
from typing import Any

from curate.errors import InputError
from curate.io.inputs import check_parquet

SCORE_SUMMARY = "score-summary.json"
SYNTH_SUMMARY = "synth-summary.json"
MANIFEST = "manifest.json"
COMPARE = "compare/compare.json"  # what `curate compare ... -o DIR/compare` writes
TRIAL_COMPARE = "trial/compare/compare.json"  # what a pipeline's `trial:` stage writes


@dataclass
class RunData:
    """The pieces of one run that exist, plus notes on what does not."""

    root: Path
    scored: list[str] = field(default_factory=list)  # Parquet files with scored rows
    score_summary: dict[str, Any] | None = None
    synth_summaries: dict[str, dict[str, Any]] = field(default_factory=dict)  # stage or file name → summary
    stage_summaries: dict[str, dict[str, Any]] = field(default_factory=dict)  # pipeline stages/NN-type.summary.json
    ordered: Path | None = None
    manifest: dict[str, Any] | None = None
    compare: dict[str, Any] | None = None  # compare.json of `curate compare`
    compare_dir: Path | None = None
    missing: list[str] = field(default_factory=list)  # "what — where it was looked for"
    problems: list[str] = field(default_factory=list)  # present but unreadable

    def is_empty(self) -> bool:
        return not (self.scored or self.score_summary or self.synth_summaries or self.manifest or self.stage_summaries or self.compare)


def _read_json(path: Path, problems: list[str]) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        problems.append(f"{path.name} could not be read ({exc})")
        return None
    if not isinstance(data, dict):
        problems.append(f"{path.name} is not a JSON object")
        return None
    return data


def _parquet_files(spec: str) -> list[str]:
    p = Path(spec)
    if p.is_dir():
        return sorted(str(f) for f in p.rglob("*.parquet"))
    if p.is_file():
        return [str(p)]
    return sorted(f for f in glob(spec, recursive=True) if f.endswith(".parquet"))


def find_scored(root: Path, scored: list[str] | None = None) -> list[str]:
    """`--scored` paths if given, else DIR/scored.parquet or DIR/scored/part-*.parquet."""
    if scored:
        files: list[str] = []
        for spec in scored:
            got = _parquet_files(spec)
            if not got:
                raise InputError(f"--scored '{spec}' matches no Parquet file", "pass a .parquet file, a folder of shards or a glob")
            files.extend(f for f in got if f not in files)
        return files
    if (root / "scored.parquet").is_file():
        return [str(root / "scored.parquet")]
    if (root / "scored").is_dir():
        return _parquet_files(str(root / "scored"))
    return []


def find_compare(root: Path, compare: str | None = None) -> Path | None:
    """`--compare` (a compare.json or the folder holding it) if given, else DIR/compare/compare.json, else DIR/trial/compare/compare.json."""
    if compare:
        p = Path(compare)
        file = p / "compare.json" if p.is_dir() else p
        if not file.is_file():
            raise InputError(f"--compare '{compare}' is not a compare.json nor a folder holding one", "pass the folder `curate compare -o` wrote")
        return file
    for name in (COMPARE, TRIAL_COMPARE):
        if (root / name).is_file():
            return root / name
    return None


def load_run(folder: str | Path, scored: list[str] | None = None, compare: str | None = None) -> RunData:
    """Collect summaries, scored rows, the ordered set and a training comparison from a run folder (any part may be missing)."""
    root = Path(folder)
    if not root.exists():
        raise InputError(
            f"run folder '{folder}' does not exist", "pass the folder a pipeline run wrote (e.g. `curate run pipelines/demo.yaml` → out/)"
        )
    if not root.is_dir():
        raise InputError(f"'{folder}' is not a folder", "pass the run folder, not a file; give scored rows with --scored PATH")
    run = RunData(root=root)
    run.scored = find_scored(root, scored)
    for f in run.scored:  # a truncated file is an input error naming it, not a failure deep in the statistics
        check_parquet(f)
    if not run.scored:
        run.missing.append("scored rows — looked for scored.parquet and scored/*.parquet (or pass --scored PATH)")

    summaries = sorted(root.glob("score*summary*.json"))
    main = root / SCORE_SUMMARY if (root / SCORE_SUMMARY).is_file() else (summaries[0] if summaries else None)
    if main is not None:
        run.score_summary = _read_json(main, run.problems)
    else:
        run.missing.append(f"score summary — looked for {SCORE_SUMMARY}")

    for path in sorted(root.glob("stages/*.summary.json")):
        data = _read_json(path, run.problems)
        if data is not None:
            run.stage_summaries[path.name.removesuffix(".summary.json")] = data

    for path in sorted(root.glob("synth*summary*.json")):
        data = _read_json(path, run.problems)
        if data is None:
            continue
        parts = data.get("stages")
        if isinstance(parts, list) and parts and all(isinstance(x, dict) and "funnel" in x for x in parts):
            for i, item in enumerate(parts):  # a pipeline's merged summary: one entry per synthesize stage
                run.synth_summaries[str(item.get("name") or f"{path.name}#{i}")] = item
        else:
            run.synth_summaries[path.name] = data
    for name, data in run.stage_summaries.items():  # stage summaries not merged (yet) into synth-summary.json
        if "funnel" in data and name not in run.synth_summaries:
            run.synth_summaries[name] = data
    if not run.synth_summaries:
        run.missing.append(f"synthesis summary — looked for {SYNTH_SUMMARY}")

    for cand in (root / "feedback", root / "ordered", root):  # a pipeline's feedback stage writes the newest revision
        if (cand / MANIFEST).is_file():
            run.ordered = cand
            run.manifest = _read_json(cand / MANIFEST, run.problems)
            break
    if run.ordered is None:
        run.missing.append(f"ordered dataset — looked for ordered/{MANIFEST}")

    file = find_compare(root, compare)
    if file is not None:
        run.compare = _read_json(file, run.problems)
        run.compare_dir = file.parent
    else:
        run.missing.append(f"training comparison — looked for {COMPARE} (`curate compare ... -o {Path(folder) / 'compare'}`)")

    if run.is_empty():
        raise InputError(
            f"'{folder}' holds no curate run output (no scored rows, summaries, ordered/{MANIFEST} or {COMPARE})",
            "pass the folder a pipeline run wrote, or give scored rows with --scored PATH",
        )
    return run
