"""manifest.json: what was written, from what, how — and `verify`, which checks a folder against it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from curate.errors import VerifyError
from curate.order.gather import sha256_file

FORMAT_VERSION = 1
MANIFEST = "manifest.json"


def write_manifest(root: Path, manifest: dict[str, Any]) -> None:
    (root / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=False, allow_nan=False, ensure_ascii=False) + "\n")


def load_manifest(folder: str | Path) -> dict[str, Any]:
    path = Path(folder) / MANIFEST
    if not Path(folder).is_dir():
        raise VerifyError(f"'{folder}' is not a folder", "pass the folder `curate order -o` wrote")
    if not path.exists():
        raise VerifyError(f"'{folder}' has no {MANIFEST}", "pass the folder `curate order -o` wrote; an interrupted run leaves no manifest")
    try:
        data = json.loads(path.read_text())
    except ValueError as exc:
        raise VerifyError(f"{path} is not valid JSON ({exc})", "the manifest was altered or truncated; re-run `curate order`") from exc
    if data.get("format_version") != FORMAT_VERSION:
        raise VerifyError(f"{path} has format_version {data.get('format_version')!r}; this curate reads {FORMAT_VERSION}", "re-run `curate order` with this version")
    return data


def shard_entries(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for part in manifest["sets"].values() for s in part["shards"]]


def verify(folder: str | Path, *, _seen: set[Path] | None = None) -> dict[str, Any]:
    """Check every shard against the manifest: present, full length, same checksum, nothing extra.

    A revision (`curate feedback`) is also checked against its record and its parent
    (curate.order.revision.check_revision).
    """
    root = Path(folder)
    manifest = load_manifest(root)
    problems: list[str] = []
    listed = set()
    for entry in shard_entries(manifest):
        listed.add(entry["path"])
        path = root / entry["path"]
        if not path.exists():
            problems.append(f"{entry['path']}: missing")
            continue
        size = path.stat().st_size
        if size < entry["bytes"]:
            problems.append(f"{entry['path']}: truncated ({size} of {entry['bytes']} bytes)")
        elif size != entry["bytes"] or sha256_file(path) != entry["sha256"]:
            problems.append(f"{entry['path']}: altered (checksum differs from the manifest)")
    for path in sorted(root.rglob("part-*.parquet")):
        rel = path.relative_to(root).as_posix()
        if rel not in listed:
            problems.append(f"{rel}: not in the manifest")
    revision: dict[str, Any] | None = None
    if "revision" in manifest and not problems:
        from curate.order.revision import check_revision

        found, revision = check_revision(root, manifest, _seen, verify)
        problems += found
    if problems:
        raise VerifyError(
            f"{len(problems)} problem(s) in '{folder}': " + "; ".join(problems),
            "re-run `curate order` (or `curate feedback` for a revision) to rewrite the shard set (or restore the files named)",
        )
    sets = manifest["sets"]
    out = {"folder": str(root), "shards": sum(len(s["shards"]) for s in sets.values()), "rows": {k: v["rows"] for k, v in sets.items()}}
    if revision is not None:
        out["revision"] = revision
    return out
