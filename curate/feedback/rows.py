"""An ordered folder as the re-planner sees it: positions, distinct rows, ranks, schedule, budget.

A *position* is a slot of the curriculum (0 … rows−1, in training order: the index of the row in
the concatenated curriculum shards, which is also its index in the sampler's dataset). A *row* is
a distinct id; a row the schedule repeats has several positions. Ranks are the parent's easiest-
first order, rebuilt from its own sort keys and tie-break (`curate.order.index.build_index`) over
the shards, so they need nothing but the folder.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from curate.errors import InputError, UsageError
from curate.order.schedules import Params

PASSES, SAMPLES = "score_pass_rate_passes", "score_pass_rate_k"


@dataclass
class OrderedRun:
    folder: Path
    manifest: dict[str, Any]
    manifest_sha256: str
    shards: list[str]  # curriculum shards, training order
    baseline_shards: list[str]
    batch_size: int
    schedule: str
    params: Params
    schedule_steps: int  # T of the schedule the run was planned with
    seed: int
    id_field: str
    keys: list[Any]  # SortKey
    pos_row: np.ndarray  # position → row
    ids: np.ndarray  # row → id (str)
    first_pos: np.ndarray  # row → its first position
    rank: np.ndarray  # row → easiest-first rank among the rows (0 … rows−1)
    fraction: np.ndarray  # step → curriculum_fraction
    columns: dict[str, np.ndarray] = field(default_factory=dict)  # requested columns, per row (first position's value)
    token_budget: dict[str, Any] | None = None
    mix: tuple[str, dict[str, float]] | None = None  # the parent's --mix-by column and weights

    @property
    def positions(self) -> int:
        return len(self.pos_row)

    @property
    def rows(self) -> int:
        return len(self.ids)

    @property
    def steps(self) -> int:
        return -(-self.positions // self.batch_size)

    @property
    def revision(self) -> int:
        return int(self.manifest.get("revision") or 0)

    def row_of_id(self) -> dict[str, int]:
        return {str(i): r for r, i in enumerate(self.ids.tolist())}


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def load_ordered(folder: str | Path, columns: list[str] | None = None, id_field: str | None = None) -> OrderedRun:
    """Read what re-planning needs from a `curate order` (or `curate feedback`) folder."""
    import polars as pl

    from curate.errors import VerifyError
    from curate.order.index import SortKey, build_index, describe_sources
    from curate.order.manifest import MANIFEST, load_manifest

    root = Path(folder)
    try:
        manifest = load_manifest(root)
    except VerifyError as exc:
        raise InputError(exc.what, exc.fix) from None
    raw = (root / MANIFEST).read_bytes()
    try:
        cfg = manifest["config"]
        res = cfg["resolved"]
        cur = manifest["sets"]["curriculum"]["shards"]
    except (KeyError, TypeError):
        raise InputError(f"{root / MANIFEST} is not a `curate order` manifest (no config/sets)", "pass the folder `curate order -o` wrote") from None
    shards = [str(root / s["path"]) for s in cur]
    missing = [s["path"] for s in cur if not (root / s["path"]).is_file()]
    if missing:
        raise InputError(f"'{root}' is missing {len(missing)} shard(s): {', '.join(missing[:3])}", f"run `curate verify {root}`")
    base = [str(root / s["path"]) for s in manifest["sets"].get("baseline", {}).get("shards", [])]
    idf = id_field or cfg.get("id_field") or "id"
    keys = [SortKey.parse(k) for k in cfg.get("by") or ["difficulty"]]
    batch = int(res["batch_size"])
    sources = describe_sources(shards)
    schema_names = set(pl.scan_parquet(shards[0]).collect_schema().names()) if shards else set()
    if idf not in schema_names:
        raise InputError(
            f"the rows in '{root}' have no '{idf}' column, so observations cannot name them",
            "order rows that carry an id (curate score adds one), or pass --id-field COLUMN",
        )
    columns = [*(columns or []), *([cfg["mix_by"]] if cfg.get("mix_by") and cfg.get("mix") else [])]
    wanted = [c for c in dict.fromkeys([idf, "curriculum_fraction", *columns]) if c in schema_names]
    frame = pl.scan_parquet(shards).select(wanted).collect()  # polars keeps the files' order
    ids = frame[idf].cast(pl.String)
    if ids.null_count():
        raise InputError(f"{ids.null_count()} row(s) in '{root}' have a null '{idf}'", "give every row an id before ordering (curate score adds one)")
    pos = pl.DataFrame({"id": ids, "pos": np.arange(len(ids), dtype=np.int64)})
    first = pos.unique("id", keep="first", maintain_order=True)
    row_of = first.with_row_index("row").select("id", "row")
    pos_row = pos.join(row_of, on="id", how="left", maintain_order="left")["row"].to_numpy().astype(np.int64)
    first_pos = first["pos"].to_numpy().astype(np.int64)
    # ranks: the parent's own sort over its shards (positions easiest first), then per row its first rank
    index = build_index(sources, keys, idf, int(cfg.get("seed", 0)), str(root)) if len(ids) else None
    rank_of_pos = np.empty(len(ids), dtype=np.int64)
    if index is not None:
        if index.n != len(ids):
            raise InputError(f"{len(ids) - index.n} row(s) of '{root}' have a null sort key", "the folder was altered: run `curate verify`")
        rank_of_pos[index.rows] = np.arange(index.n)
    row_rank = np.full(len(first_pos), np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(row_rank, pos_row, rank_of_pos)
    rank = np.empty(len(first_pos), dtype=np.int64)
    rank[np.argsort(row_rank, kind="stable")] = np.arange(len(first_pos))
    steps = -(-len(ids) // batch) if len(ids) else 0
    fraction = np.ones(steps)
    if "curriculum_fraction" in frame.columns and len(ids):
        fr = frame["curriculum_fraction"].to_numpy()
        fraction = fr[np.arange(steps) * batch]
    cols: dict[str, np.ndarray] = {}
    for c in columns:
        if c in frame.columns:
            cols[c] = (
                frame[c].to_numpy()[first_pos]
                if frame[c].dtype.is_numeric()
                else np.array(frame[c].cast(pl.String).to_list(), dtype=object)[first_pos]
            )
    params_raw = {k: v for k, v in (cfg.get("params") or {}).items() if k in Params.__dataclass_fields__}
    return OrderedRun(
        folder=root,
        manifest=manifest,
        manifest_sha256=sha256_bytes(raw),
        shards=shards,
        baseline_shards=base,
        batch_size=batch,
        schedule=str(manifest.get("schedule", {}).get("name") or cfg.get("schedule") or "linear"),
        params=Params(**params_raw),
        schedule_steps=int(res.get("schedule_steps") or res.get("steps") or steps or 1),
        seed=int(cfg.get("seed", 0)),
        id_field=idf,
        keys=keys,
        pos_row=pos_row,
        ids=np.array(first["id"].to_list(), dtype=object),
        first_pos=first_pos,
        rank=rank,
        fraction=fraction,
        columns=cols,
        token_budget={"spec": cfg["token_budget"], "decay": cfg.get("token_decay", "linear")} if cfg.get("token_budget") else None,
        mix=(str(cfg["mix_by"]), dict(cfg["mix"])) if cfg.get("mix_by") and cfg.get("mix") else None,
    )


def need_column(run: OrderedRun, name: str, flag: str) -> np.ndarray:
    if name not in run.columns:
        raise UsageError(f"{flag} {name}: the rows in '{run.folder}' have no column '{name}'", "pick a column the ordered rows carry")
    return run.columns[name]
