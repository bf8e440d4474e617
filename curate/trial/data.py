"""What a trial trains and evaluates on: the ordered folder's rows, the held-out text, and one ordered folder per arm.

The held-out text is carved out **before ordering**. A `curate order` folder was ordered over all
of its rows, so taking rows out of its finished streams would shift every later row to an
earlier step and change each arm's pacing differently (a paced draw is not a filter of a longer
one). Instead the trial takes the folder's distinct rows, sets aside those whose
`blake2b(split_seed:id)` falls below `eval_fraction` (a fraction chosen by id, independent of
difficulty, row order and arm), and orders the rest again with the folder's own recorded
configuration: the curriculum arm with its schedule (and its `baseline/`), each control with
its schedule. Every arm is then an ordered folder written by `curate.order` from the same
training rows, with the same batch size and budget. With `--eval FILE` nothing is carved and the
given folder's own streams are trained as they are.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from curate.errors import InputError, UsageError

ADDED_COLUMNS = ("curriculum_step", "curriculum_position", "curriculum_fraction")
CURRICULUM, BASELINE = "curriculum", "baseline"
MIN_HELD_OUT = 5  # rows per held-out split: fewer gives a loss too noisy to pick a learning rate or compare arms


@dataclass(frozen=True)
class Source:
    """A `curate order` folder as the trial reads it."""

    folder: Path
    manifest: dict[str, Any]
    id_field: str
    text_field: str

    @property
    def schedule(self) -> str:
        return str(self.manifest["config"]["schedule"])

    @property
    def batch_size(self) -> int:
        return int(self.manifest["config"]["resolved"]["batch_size"])

    @property
    def steps(self) -> int:
        return int(self.manifest["config"]["resolved"]["steps"])

    def shard_paths(self, which: str = CURRICULUM) -> list[Path]:
        return [self.folder / s["path"] for s in self.manifest["sets"][which]["shards"]]


def read_source(folder: str | Path, text_field: str = "text") -> Source:
    """Check that `folder` is a complete `curate order` output with a baseline, ids and text."""
    import pyarrow.parquet as pq

    from curate.order.manifest import MANIFEST, load_manifest, verify

    root = Path(folder)
    if not root.is_dir():
        raise InputError(f"'{root}' is not a folder", "pass the folder `curate order -o` wrote")
    if not (root / MANIFEST).is_file():
        raise InputError(f"'{root}' has no {MANIFEST}", "pass the folder `curate order -o` wrote (an interrupted `curate order` leaves none)")
    manifest = load_manifest(root)
    if BASELINE not in manifest.get("sets", {}) or not (root / BASELINE).is_dir():
        raise InputError(
            f"'{root}' has no {BASELINE}/ to compare with",
            "run `curate order` again without --no-baseline: a trial trains the curriculum and its same-content random baseline",
        )
    verify(root)
    cfg = manifest["config"]
    id_field = cfg.get("id_field") or "id"
    shards = [root / s["path"] for s in manifest["sets"][CURRICULUM]["shards"]]
    if not shards:
        raise InputError(f"'{root}' lists no curriculum shards", "run `curate order` again on a non-empty input")
    names = pq.read_schema(shards[0]).names
    for col, flag in ((id_field, "the id column"), (text_field, "--text-field")):
        if col not in names:
            raise InputError(
                f"the shards of '{root}' have no '{col}' column ({flag}); columns: {', '.join(names)}",
                "score the rows with `curate score` (it adds ids) or pass --text-field NAME"
                if col == text_field
                else "order rows that carry an id (curate score adds one)",
            )
    return Source(root, manifest, id_field, text_field)


def distinct_rows(src: Source) -> Any:
    """The folder's rows once each (first reading), without the columns `curate order` added: a polars frame."""
    import polars as pl

    frame = pl.concat([pl.read_parquet(p) for p in src.shard_paths()], how="diagonal_relaxed")
    frame = frame.drop([c for c in ADDED_COLUMNS if c in frame.columns])
    return frame.unique(subset=[src.id_field], keep="first", maintain_order=True)


def unit_hash(ids: list[str], seed: int) -> np.ndarray:
    """A uniform number in [0, 1) per id, from blake2b of `seed:id`: the same on every machine and run."""
    out = np.empty(len(ids), dtype=np.float64)
    for i, v in enumerate(ids):
        h = hashlib.blake2b(f"{seed}:{v}".encode(), digest_size=8).digest()
        out[i] = int.from_bytes(h, "big") / 2.0**64
    return out


@dataclass
class HeldOut:
    """Held-out text: `eval` (the loss every arm is compared on) and `tune` (the loss the LR sweep picks by)."""

    how: str  # carved | given
    eval: list[tuple[str, str]]  # (id, text), sorted by id
    tune: list[tuple[str, str]] = field(default_factory=list)
    train_ids: set[str] | None = None  # carved: the rows left for training
    notes: list[str] = field(default_factory=list)

    def describe(self, fraction: float | None, split_seed: int, eval_file: str | None) -> dict[str, Any]:
        d: dict[str, Any] = {
            "how": self.how,
            "eval_rows": len(self.eval),
            "tune_rows": len(self.tune),
            "split_seed": split_seed,
            "ids_sha256": _ids_digest([i for i, _ in self.eval] + ["|"] + [i for i, _ in self.tune]),
        }
        if self.how == "carved":
            d["fraction"] = fraction
        else:
            d["file"] = eval_file
        return d


def _ids_digest(ids: list[str]) -> str:
    return hashlib.sha256("\n".join(ids).encode()).hexdigest()


def _split_tune(rows: list[tuple[str, str]], u: np.ndarray, cut: float, tune: bool) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    if not tune:
        return rows, []
    ev = [r for r, x in zip(rows, u) if x < cut]
    tu = [r for r, x in zip(rows, u) if x >= cut]
    return ev, tu


def carve(frame: Any, src: Source, fraction: float, split_seed: int, tune: bool) -> HeldOut:
    """Set aside the rows whose id hash is below `fraction`; with `tune`, the lower half is `eval`, the upper `tune`."""
    ids = [str(v) for v in frame[src.id_field].to_list()]
    texts = frame[src.text_field].to_list()
    u = unit_hash(ids, split_seed)
    held = sorted((i, t, x) for i, t, x in zip(ids, texts, u) if x < fraction)
    ev, tu = _split_tune([(i, t) for i, t, _ in held], np.array([x for *_, x in held]), fraction / 2, tune)
    _check_sizes(
        ev,
        tu,
        tune,
        f"--eval-fraction {fraction} of {len(ids)} rows",
        "raise --eval-fraction, order more rows, or give held-out text with --eval FILE",
    )
    held_ids = {i for i, *_ in held}
    train = {i for i in ids if i not in held_ids}
    return HeldOut("carved", _clean(ev), _clean(tu), train_ids=train)


def given(path: str, text_field: str, id_field: str, split_seed: int, tune: bool, train_texts: set[str]) -> HeldOut:
    """Held-out text from a file (anything `curate score` reads); with `tune`, split by id hash into eval and tune halves."""
    from curate.io import ReadOptions, read_table

    table, rejects = read_table([path], ReadOptions(text_field=text_field, id_field=id_field))
    if table.num_rows == 0:
        raise InputError(f"--eval {path} has no usable rows ({len(rejects)} rejected)", f"give a file of held-out text with a '{text_field}' column")
    ids = [str(v) for v in table.column(id_field).to_pylist()]
    texts = table.column(text_field).to_pylist()
    rows = sorted(zip(ids, texts))
    u = unit_hash([i for i, _ in rows], split_seed)
    ev, tu = _split_tune(rows, u, 0.5, tune)
    _check_sizes(ev, tu, tune, f"--eval {path} ({len(rows)} rows)", "give more held-out rows")
    notes = []
    if rejects:
        notes.append(f"--eval {path}: {len(rejects)} row(s) could not be used (e.g. {rejects[0].reason}) and are not part of the held-out text")
    overlap = sum(1 for _, t in rows if t in train_texts)
    if overlap:
        notes.append(
            f"--eval {path}: {overlap} of {len(rows)} held-out texts also occur in the training rows; their loss measures memory, not generalisation"
        )
    return HeldOut("given", _clean(ev), _clean(tu), notes=notes)


def _clean(rows: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(i, t) for i, t in rows if isinstance(t, str)]


def _check_sizes(ev: list[Any], tu: list[Any], tune: bool, what: str, fix: str) -> None:
    if len(ev) < MIN_HELD_OUT or (tune and len(tu) < MIN_HELD_OUT):
        need = f"{MIN_HELD_OUT} held-out rows for the eval split" + (f" and {MIN_HELD_OUT} for the LR sweep's tune split" if tune else "")
        got = f"{len(ev)} eval" + (f" and {len(tu)} tune" if tune else "")
        raise InputError(f"{what} leaves too few rows for held-out evaluation ({got}; a trial needs {need})", fix)


# -- the arms' ordered folders --------------------------------------------------------------------


@dataclass(frozen=True)
class Arm:
    """One arm: an ordered folder whose curriculum set the sampler reads, in manifest order."""

    name: str
    schedule: str  # the schedule that made the order ('random' for a baseline: its folder's seeded shuffle)
    folder: Path
    made_by_trial: bool
    baseline_of: Path | None = None  # a baseline arm: the folder whose baseline/ this is

    def record(self, root: Path) -> dict[str, Any]:
        rec: dict[str, Any] = {"schedule": self.schedule, "order": _where(self.folder, root), "made_by_trial": self.made_by_trial}
        if self.baseline_of is not None:
            rec["baseline_of"] = _where(self.baseline_of, root)
        return rec


def _where(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def baseline_folder(folder: Path, dest: Path) -> Path:
    """`folder`'s baseline/ as an ordered folder of its own, which the curriculum sampler reads like any curriculum.

    The shards are hard-linked (copied where links are not possible) under the same relative
    paths; the manifest is the folder's, with its baseline set as the curriculum set and a
    `baseline_of` record naming where it came from.
    """
    import copy
    import os
    import shutil

    from curate.order.manifest import MANIFEST, write_manifest

    manifest = json.loads((folder / MANIFEST).read_text())
    view = copy.deepcopy(manifest)
    view["sets"] = {CURRICULUM: manifest["sets"][BASELINE]}
    view["baseline_of"] = {"folder": str(folder), "manifest_sha256": manifest_digest(folder)}
    view["files"] = []
    if dest.exists():
        shutil.rmtree(dest)
    for entry in view["sets"][CURRICULUM]["shards"]:
        target = dest / entry["path"]
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(folder / entry["path"], target)
        except OSError:
            shutil.copy2(folder / entry["path"], target)
    write_manifest(dest, view)
    return dest


def order_config(src: Source, inputs: list[str], output: Path, schedule: str, baseline: bool, rows: int, source_rows: int) -> Any:
    """The folder's own `curate order` configuration for other rows or another schedule.

    The batch size stays; the number of rows read keeps its ratio to the rows available (one pass
    stays one pass when held-out rows were set aside).
    """
    from curate.order import OrderConfig, Params

    cfg = src.manifest["config"]
    resolved = cfg["resolved"]
    samples = max(1, round(resolved["samples"] * rows / max(1, source_rows)))
    known = {k: v for k, v in cfg.get("params", {}).items() if k in Params.__dataclass_fields__}
    return OrderConfig(
        inputs=inputs,
        output=str(output),
        schedule=schedule,
        by=list(cfg.get("by") or ["difficulty"]),
        params=Params(**known),
        batch_size=int(resolved["batch_size"]),
        num_samples=samples,
        exhausted=cfg.get("exhausted", "widen"),
        seed=int(cfg.get("seed", 0)),
        stages=int(cfg.get("stages", 1)),
        baseline=baseline,
        plot=False,
        id_field=src.id_field,
    )


def prepare_arms(src: Source, frame: Any, held: HeldOut, controls: list[str], data_dir: Path, say: Any) -> list[Arm]:
    """The curriculum arm, its baseline and the controls, each an ordered folder over the same training rows."""
    from curate.order import order

    curriculum = src.schedule
    names = [curriculum, BASELINE, "train.parquet", *controls]
    if len(set(names)) != len(names):
        raise UsageError(
            f"--controls {','.join(controls)} repeats an arm (the curriculum is '{curriculum}', the baseline 'baseline')",
            "give each control schedule once, other than the curriculum's own",
        )
    data_dir.mkdir(parents=True, exist_ok=True)
    rows_file = data_dir / "train.parquet"
    source_rows = frame.height
    train = training_rows(frame, src, held)
    if train.height < 2 * src.batch_size:
        raise InputError(
            f"only {train.height} training rows are left after the held-out split (batch size {src.batch_size})",
            "order more rows, or lower --eval-fraction",
        )
    train.write_parquet(rows_file)
    arms: list[Arm] = []
    if held.train_ids is None:  # nothing carved: the given folder's own streams
        made = src.folder
    else:
        made = data_dir / curriculum
        order(order_config(src, [str(rows_file)], made, curriculum, True, train.height, source_rows))
        say(f"ordered {train.height:,} training rows with '{curriculum}' (and its baseline) → {made}")
    arms.append(Arm(curriculum, curriculum, made, held.train_ids is not None))
    arms.append(Arm(BASELINE, "random", baseline_folder(made, data_dir / BASELINE), held.train_ids is not None, baseline_of=made))
    for c in controls:
        out = data_dir / c
        order(order_config(src, [str(rows_file)], out, c, False, train.height, source_rows))
        say(f"ordered {train.height:,} training rows with '{c}' → {out}")
        arms.append(Arm(c, c, out, True))
    return arms


def training_rows(frame: Any, src: Source, held: HeldOut) -> Any:
    """The rows left for training (all of them when the held-out text was given)."""
    import polars as pl

    if held.train_ids is None:
        return frame
    return frame.filter(frame[src.id_field].cast(pl.Utf8).is_in(sorted(held.train_ids)))


def manifest_digest(folder: Path) -> str:
    from curate.order.manifest import MANIFEST

    return hashlib.sha256((folder / MANIFEST).read_bytes()).hexdigest()


def stream_ids(folder: Path, which: str = CURRICULUM, id_field: str = "id") -> list[str]:
    """The ids an ordered folder's set holds, in reading order (shards in manifest order)."""
    import pyarrow.parquet as pq

    manifest = json.loads((folder / "manifest.json").read_text())
    out: list[str] = []
    for s in manifest["sets"][which]["shards"]:
        out.extend(str(v) for v in pq.read_table(folder / s["path"], columns=[id_field]).column(id_field).to_pylist())
    return out
