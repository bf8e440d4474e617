"""Content digests of a pipeline run folder, for pinning outputs across refactors.

    python tests/pipeline/golden.py --update    # rewrite golden_fake.json from the current code

Each Parquet output is digested as its schema plus every row in order (canonical JSON), so the
pin holds across pyarrow releases that change file bytes but not content. Floats are digested at
9 decimals: linear algebra differs in its last bits between CPUs (fit's cross-validated ridge
predictions move by ~1e-14 between OpenBLAS's Haswell and Sandybridge kernels), and a pin must
hold on any machine while still catching a change of substance. Manifests are digested
without the fields that name versions, paths or hashes of those (they are checked elsewhere).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).with_name("golden_fake.json")
PIPELINES = sorted((ROOT / "pipelines").glob("*.yaml"))
FLOAT_DECIMALS = 9
VOLATILE = {"curate_version", "libraries", "inputs", "sha256", "path", "folder", "bytes", "manifest_sha256"}


def small_input(dest: Path, n: int = 20) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    for name in ("math.jsonl", "prose.jsonl", "code.jsonl", "mc.jsonl"):
        lines = (ROOT / "sample_data" / name).read_text().splitlines()[:n]
        (dest / name).write_text("\n".join(lines) + "\n")
    return dest


def _canon(obj):
    if isinstance(obj, dict):
        return {k: _canon(v) for k, v in sorted(obj.items()) if k not in VOLATILE}
    if isinstance(obj, list):
        return [_canon(v) for v in obj]
    if isinstance(obj, float):
        return round(obj, 12)
    return obj


def _rounded(obj):
    if isinstance(obj, dict):
        return {k: _rounded(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_rounded(v) for v in obj]
    if isinstance(obj, float):
        return round(obj, FLOAT_DECIMALS) + 0.0  # + 0.0: -0.0 digests as 0.0
    return obj


def parquet_digest(path: Path) -> str:
    import pyarrow.parquet as pq

    t = pq.read_table(path)
    h = hashlib.sha256(str(t.schema.remove_metadata()).encode())
    for row in t.to_pylist():
        h.update(json.dumps(_rounded(row), sort_keys=True, default=str).encode())
    return h.hexdigest()


def digest_run(out: Path) -> dict[str, str]:
    got: dict[str, str] = {}
    for f in sorted(out.rglob("*.parquet")):
        rel = f.relative_to(out)
        if rel.parts[0] in (".curate",):
            continue
        got[str(rel)] = parquet_digest(f)
    for f in sorted(out.rglob("rejects*.jsonl")) + sorted(out.rglob("*.rejects.jsonl")):
        text = f.read_text().replace(str(out.parent), "WORK")  # paths of the run folder are not content
        rows = [json.loads(line) for line in text.splitlines() if line.strip()]
        got[str(f.relative_to(out))] = hashlib.sha256(json.dumps(_canon(rows), sort_keys=True).encode()).hexdigest()
    for f in sorted(out.rglob("manifest.json")):
        got[str(f.relative_to(out))] = hashlib.sha256(json.dumps(_canon(json.loads(f.read_text())), sort_keys=True).encode()).hexdigest()
    return got


def run_pipeline(path: Path, work: Path) -> dict[str, str]:
    inp = small_input(work / "in")
    out = work / "out"
    env = {**os.environ, "CURATE_CACHE_DIR": str(work / "cache"), "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "curate", "run", str(path), "--set", f"input={inp}", "--set", f"output={out}", "--set", "engine.engine=fake"]
    subprocess.run(cmd, check=True, env=env, capture_output=True, cwd=str(ROOT))
    return digest_run(out)


if __name__ == "__main__":
    import tempfile

    if "--update" not in sys.argv:
        sys.exit("usage: python tests/pipeline/golden.py --update")
    result = {}
    for p in PIPELINES:
        with tempfile.TemporaryDirectory() as d:
            result[p.name] = run_pipeline(p, Path(d))
    GOLDEN.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    print(json.dumps(result, indent=2))
