"""manifest.json: what was written, from what, how — and `verify`, which checks a folder against it.

`verify` trusts nothing it can check:
  - the manifest's own body: `manifest_sha256` is the SHA-256 of the manifest without that key, as
    JSON with sorted keys, no spaces, UTF-8 (manifests of older curate versions lack it: they are
    checked against themselves and the files, and the result carries a note saying so);
  - the manifest against itself: per set, positions contiguous from 0 and in order, each entry's
    row count equal to the positions it covers, steps equal to what the positions give, stages in
    order, shard numbering complete per folder, the set's total equal to the sum of its shards
    and to the budget;
  - the files: every listed shard present, full length, same sha256 and row count; none extra.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path, PurePosixPath
from typing import Any

from curate.errors import VerifyError
from curate.order.gather import sha256_file

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
BODY_HASH = "manifest_sha256"
ENTRY_KEYS = ("path", "rows", "bytes", "sha256", "stage", "steps", "positions")


def body_sha256(manifest: dict[str, Any]) -> str:
    body = {k: v for k, v in manifest.items() if k != BODY_HASH}
    blob = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def write_manifest(root: Path, manifest: dict[str, Any]) -> None:
    """Write `manifest` (adding the hash of its body, second after `format_version`)."""
    body = json.loads(json.dumps({k: v for k, v in manifest.items() if k != BODY_HASH}, allow_nan=False))  # hashed as it will be read back
    digest = body_sha256(body)
    hashed = {"format_version": body.pop("format_version"), BODY_HASH: digest, **body}
    manifest.clear()
    manifest.update(hashed)
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
    if not isinstance(data, dict) or data.get("format_version") != FORMAT_VERSION:
        version = data.get("format_version") if isinstance(data, dict) else None
        raise VerifyError(f"{path} has format_version {version!r}; this curate reads {FORMAT_VERSION}", "re-run `curate order` with this version")
    return data


def shard_entries(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for part in manifest["sets"].values() for s in part["shards"]]


def _layout(manifest: dict[str, Any]) -> list[str]:
    """The shape verify needs (sets of shard entries with every key); problems, or [] when it is there."""
    sets = manifest.get("sets")
    if not isinstance(sets, dict) or not sets:
        return ["the manifest lists no shard sets"]
    problems = []
    for name, part in sets.items():
        shards = part.get("shards") if isinstance(part, dict) else None
        if not isinstance(shards, list) or not isinstance(part.get("rows"), int):
            problems.append(f"{name}: no list of shards with a row total")
            continue
        for i, e in enumerate(shards):
            missing = [k for k in ENTRY_KEYS if not isinstance(e, dict) or k not in e]
            if missing:
                problems.append(f"{name} entry {i}: no {', '.join(missing)}")
    return problems


def _self_check(manifest: dict[str, Any]) -> list[str]:
    """The manifest against itself: positions, steps, stages, numbering and totals."""
    from curate.io.writers import shard_name

    resolved = (manifest.get("config") or {}).get("resolved") or {}
    batch, samples, steps = resolved.get("batch_size"), resolved.get("samples"), resolved.get("steps")
    stages = (manifest.get("config") or {}).get("stages") or 1
    problems: list[str] = []
    for name, part in manifest["sets"].items():
        prefix = "" if name == "curriculum" else f"{name}/"
        shards = part["shards"]
        pos = 0
        last_stage = 0
        folders: dict[str, list[str]] = {}
        for i, e in enumerate(shards):
            where = f"{name} entry {i} ({e['path']})"
            lo, hi = e["positions"]
            if lo != pos:
                problems.append(f"{where}: positions start at {lo}, expected {pos} (entries out of order, or one missing)")
            if e["rows"] != hi - lo + 1:
                problems.append(f"{where}: {e['rows']} rows listed, but its positions {lo}-{hi} hold {hi - lo + 1}")
            if isinstance(batch, int) and batch > 0:
                want = [lo // batch, max(lo, hi) // batch]
                if list(e["steps"]) != want:
                    problems.append(f"{where}: steps {list(e['steps'])} do not match positions {lo}-{hi} (steps {want})")
            if e["stage"] < last_stage or not 0 <= e["stage"] < stages:
                problems.append(f"{where}: stage {e['stage']} out of order (stages 0-{stages - 1}, ascending)")
            last_stage = max(last_stage, e["stage"])
            folder = prefix + (f"stage-{e['stage']}/" if stages > 1 else "")
            path = PurePosixPath(e["path"])
            if str(path.parent) + "/" != folder and not (folder == "" and str(path.parent) == "."):
                problems.append(f"{where}: expected in folder '{folder or './'}'")
            folders.setdefault(folder, []).append(path.name)
            pos = hi + 1
        for folder, names in folders.items():
            total = _numbered_total(names)
            want = [shard_name(j, total) for j in range(total)]
            if names != want:
                absent = [n for n in want if n not in names]
                detail = f"{', '.join(absent[:3])} missing" if absent else "out of order"
                problems.append(
                    f"{folder or './'}: shard numbering incomplete ({len(names)} of {total} listed: {detail})"
                    if absent
                    else f"{folder or './'}: shards listed {detail}"
                )
        listed = sum(e["rows"] for e in shards)
        if listed != part["rows"]:
            problems.append(f"{name}: {listed} rows in its shards, but the set lists {part['rows']}")
        if isinstance(samples, int) and listed != samples:
            problems.append(f"{name}: {listed} rows in its shards, but the budget is {samples} (config.resolved.samples)")
        if isinstance(samples, int) and pos != samples:
            problems.append(f"{name}: positions end at {pos - 1}, but the budget is {samples} rows")
        if isinstance(steps, int) and shards and shards[-1]["steps"][1] != steps - 1:
            problems.append(f"{name}: the last shard ends at step {shards[-1]['steps'][1]}, but there are {steps} steps")
    return problems


def _numbered_total(names: list[str]) -> int:
    """The N of `part-i-of-N` the names claim (the largest, so a name claiming more is noticed)."""
    totals = []
    for n in names:
        try:
            totals.append(int(n.rsplit("-of-", 1)[1].split(".")[0]))
        except (IndexError, ValueError):
            totals.append(len(names))
    return max(totals + [len(names)])


def _check_files(root: Path, manifest: dict[str, Any]) -> list[str]:
    import pyarrow.parquet as pq

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
        else:
            held = pq.ParquetFile(path).metadata.num_rows
            if held != entry["rows"]:
                problems.append(f"{entry['path']}: the file holds {held} rows, the manifest lists {entry['rows']}")
    for path in sorted(root.rglob("part-*.parquet")):
        rel = path.relative_to(root).as_posix()
        if rel not in listed:
            problems.append(f"{rel}: not in the manifest")
    return problems


def verify(folder: str | Path, *, _seen: set[Path] | None = None) -> dict[str, Any]:
    """Check the manifest's body hash, the manifest against itself, and every shard against it.

    A revision (`curate feedback`) is also checked against its record and its parent
    (curate.order.revision.check_revision).

    Returns a summary (`folder`, `shards`, `rows` per set, and a `note` when the manifest carries
    no body hash); raises VerifyError (exit 6) naming every problem found.
    """
    root = Path(folder)
    manifest = load_manifest(root)
    problems = _layout(manifest)
    if problems:
        raise VerifyError(
            f"{MANIFEST} in '{folder}' is not a shard manifest: " + "; ".join(problems), "re-run `curate order` to rewrite the shard set"
        )
    recorded = manifest.get(BODY_HASH)
    if recorded is not None and recorded != body_sha256(manifest):
        problems.append(f"{MANIFEST} was changed after `curate order` wrote it (body hash differs)")
    problems += _self_check(manifest)
    problems += _check_files(root, manifest)
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
    out: dict[str, Any] = {
        "folder": str(root),
        "shards": sum(len(s["shards"]) for s in sets.values()),
        "rows": {k: v["rows"] for k, v in sets.items()},
    }
    if recorded is None:
        out["note"] = f"{MANIFEST} has no body hash (written by an older curate): checked against itself and the shards only"
    if revision is not None:
        out["revision"] = revision
    return out
