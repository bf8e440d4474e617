"""Revisions of an ordered folder (`curate feedback`): the read prefix's digest, the checks `verify` adds, the chain.

A revision's manifest has three keys a plain `curate order` manifest lacks:

* `revision`: 1 for the first re-plan of an ordered folder, n + 1 for a re-plan of revision n;
* `parent`: the sha256 of the parent's manifest.json (its bytes);
* `feedback`: what was re-planned and from what — the step S and position S·B where the
  re-plan starts, the stats file's sha256, the strategies, the counts, the posterior file and the
  digest of the read prefix (`prefix`), and where the parent was (`parent_folder`, relative to
  the revision).

`check_revision` is what `curate verify` adds for such a folder: the record is complete, the
posterior file is the one recorded, the prefix [0, S·B) of the curriculum (and of the baseline)
still hashes to the recorded digest, no row the re-plan dropped appears after S, and — when the
parent folder is there — its manifest still hashes to `parent`, its own prefix is the same rows,
and it verifies itself (down the chain).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from curate.errors import VerifyError

DIGEST_BATCH = 65536
POSTERIOR = "posterior.parquet"
MANIFEST = "manifest.json"
_HEX = re.compile(r"^[0-9a-f]{64}$")


def _batches(files: list[Path], rows: int) -> Iterator[pa.Table]:
    left = rows
    for f in files:
        if left <= 0:
            return
        for rb in pq.ParquetFile(f).iter_batches(batch_size=DIGEST_BATCH, use_threads=False):
            t = pa.Table.from_batches([rb]).slice(0, left)
            left -= t.num_rows
            yield t
            if left <= 0:
                return


def prefix_digest(files: list[Path], rows: int) -> tuple[str, int]:
    """sha256 of the first `rows` rows across `files` (in order), in fixed batches of Arrow IPC; and the rows found.

    The digest depends on the rows' values and types only, not on how they are split into shards
    or on the rows that follow them.
    """
    h = hashlib.sha256()
    buf: list[pa.Table] = []
    have = total = 0

    def emit(t: pa.Table) -> None:
        # `take` copies the rows into fresh buffers: no offset, no bitmap when there is no null, and none
        # of the bits a slice carries for the rows after it (which differ between a parent and its revision)
        t = t.take(pa.array(np.arange(t.num_rows, dtype=np.int64))).replace_schema_metadata(None).combine_chunks()
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, t.schema) as w:
            w.write_table(t, max_chunksize=DIGEST_BATCH)
        h.update(sink.getvalue().to_pybytes())

    for t in _batches(files, rows):
        if buf and not t.schema.equals(buf[0].schema):  # other column types: other content, hashed as it is
            emit(pa.concat_tables(buf))
            buf, have = [], 0
        buf.append(t)
        have += t.num_rows
        total += t.num_rows
        while have >= DIGEST_BATCH:
            joined = pa.concat_tables(buf, promote_options="none")
            emit(joined.slice(0, DIGEST_BATCH))
            rest = joined.slice(DIGEST_BATCH)
            buf, have = ([rest] if rest.num_rows else []), rest.num_rows
    if buf and have:
        emit(pa.concat_tables(buf, promote_options="none"))
    return h.hexdigest(), total


def set_files(root: Path, manifest: dict[str, Any], name: str) -> list[Path]:
    return [root / s["path"] for s in manifest.get("sets", {}).get(name, {}).get("shards", [])]


def parent_folder(root: Path, manifest: dict[str, Any]) -> Path | None:
    rel = (manifest.get("feedback") or {}).get("parent_folder")
    return (root / rel).resolve() if isinstance(rel, str) else None


def check_revision(root: Path, manifest: dict[str, Any], seen: set[Path] | None, verify: Callable[..., Any]) -> tuple[list[str], dict[str, Any]]:
    """Problems found in a revision (empty: it checks out) and what was checked; `verify` checks the parent folder."""
    from curate.order.gather import sha256_file

    problems: list[str] = []
    info: dict[str, Any] = {"revision": manifest.get("revision")}
    fb: Any = manifest.get("feedback")
    rev = manifest.get("revision")
    if (
        not isinstance(rev, int)
        or rev < 1
        or not isinstance(manifest.get("parent"), str)
        or not _HEX.match(manifest["parent"])
        or not isinstance(fb, dict)
    ):
        return ["the revision record is incomplete (revision, parent or feedback missing or malformed)"], info
    prefix: dict[str, Any] = fb["prefix"] if isinstance(fb.get("prefix"), dict) else {}
    rows = prefix.get("rows")
    if not isinstance(rows, int) or rows < 0 or not isinstance(prefix.get("sha256"), str):
        return ["the revision's feedback.prefix record is incomplete"], info
    info["prefix_rows"] = rows
    post: dict[str, Any] = fb["posterior"] if isinstance(fb.get("posterior"), dict) else {}
    post_path = root / str(post.get("path", POSTERIOR))
    if not post_path.is_file():
        problems.append(f"{post_path.name}: missing")
    elif sha256_file(post_path) != post.get("sha256"):
        problems.append(f"{post_path.name}: altered (checksum differs from the manifest)")
    digests: dict[str, str] = {}
    for name, key in (("curriculum", "sha256"), ("baseline", "baseline_sha256")):
        want = prefix.get(key)
        if want is None or name not in manifest.get("sets", {}):
            continue
        try:
            got, n = prefix_digest(set_files(root, manifest, name), rows)
        except (OSError, pa.ArrowException) as exc:
            problems.append(f"the {name}'s shards cannot be read ({exc})")
            continue
        digests[name] = got
        if n < rows:
            problems.append(f"the {name} holds {n:,} rows, fewer than the {rows:,} the trainer has read")
        elif got != want:
            problems.append(f"the {name}'s first {rows:,} rows (steps read before the re-plan) differ from the recorded digest")
    if post_path.is_file() and not any(p.startswith(post_path.name) for p in problems):
        import polars as pl

        try:
            problems += _dropped_after_prefix(root, manifest, post_path, rows)
        except (OSError, pl.exceptions.PolarsError) as exc:
            problems.append(f"the rows after the re-plan cannot be read ({exc})")
    parent = parent_folder(root, manifest)
    seen = (seen or set()) | {root.resolve()}
    if parent is None or not (parent / MANIFEST).is_file():
        info["parent"] = "not found"
    elif parent in seen:
        problems.append(f"the revision chain loops back to {parent}")
    else:
        info["parent"] = str(parent)
        if hashlib.sha256((parent / MANIFEST).read_bytes()).hexdigest() != manifest["parent"]:
            problems.append(f"the parent's manifest ({parent / MANIFEST}) is not the one this revision was made from")
        else:
            pm = json.loads((parent / MANIFEST).read_text())
            for name in ("curriculum", "baseline"):
                if name in digests and name in pm.get("sets", {}):
                    try:
                        got, _ = prefix_digest(set_files(parent, pm, name), rows)
                    except (OSError, pa.ArrowException) as exc:
                        problems.append(f"the parent's {name} cannot be read ({exc})")
                        continue
                    if got != digests[name]:
                        problems.append(f"the {name}'s first {rows:,} rows differ from the parent's")
            try:
                verify(parent, _seen=seen)
            except VerifyError as exc:  # the parent's problems become one problem of this revision
                problems.append(f"parent {parent.name}: {exc.what}")
    return problems, info


def _dropped_after_prefix(root: Path, manifest: dict[str, Any], post_path: Path, rows: int) -> list[str]:
    import polars as pl

    id_field = manifest.get("config", {}).get("id_field") or "id"
    status = pl.read_parquet(post_path, columns=["id", "status"])
    dropped = status.filter(pl.col("status") == "dropped")["id"]
    if not len(dropped):
        return []
    files = [str(f) for f in set_files(root, manifest, "curriculum")]
    if not files:
        return []
    later = pl.scan_parquet(files).select(pl.col(id_field).cast(pl.String)).slice(rows).collect()[id_field]
    back = later.filter(later.is_in(dropped.implode()))
    if len(back):
        return [f"{len(back):,} read(s) after the re-plan are of rows it dropped as mastered (e.g. id {back[0]!r})"]
    return []


def revision_chain(folder: str | Path, limit: int = 50) -> list[dict[str, Any]]:
    """This folder and its parents, newest first: revision, step, strategies, counts (whatever can be read)."""
    out: list[dict[str, Any]] = []
    root: Path | None = Path(folder).resolve()
    while root is not None and len(out) < limit:
        path = root / MANIFEST
        try:
            m = json.loads(path.read_text())
        except (OSError, ValueError):
            if out:
                out[-1]["parent_status"] = "missing"
            break
        fb = m.get("feedback") if isinstance(m.get("feedback"), dict) else {}
        entry = {
            "folder": str(root),
            "revision": m.get("revision", 0),
            "rows": m.get("sets", {}).get("curriculum", {}).get("rows"),
            "steps": m.get("config", {}).get("resolved", {}).get("steps"),
            "step": fb.get("step"),
            "strategies": fb.get("strategies"),
            "counts": fb.get("counts"),
            "stats": (fb.get("stats") or {}).get("path"),
            "parent": m.get("parent"),
        }
        if out:
            ok = hashlib.sha256(path.read_bytes()).hexdigest() == out[-1]["parent"]
            out[-1]["parent_status"] = "ok" if ok else "changed"
        out.append(entry)
        if not m.get("revision"):
            break
        root = parent_folder(root, m)
    return out
