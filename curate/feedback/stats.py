"""Training observations: what the trainer saw of each row, read from JSONL, CSV or Parquet.

One row per observation; several rows per id are allowed (k rollouts of a prompt, or the same row
seen at several steps). Columns:

| column | meaning |
|---|---|
| `id` | the row's id (`--id-field`; compared as text with the ordered rows' ids) |
| `step` | optional: the training step at which it was observed (0-based, < `--step`) |
| `passes` + `k` | passes of k verified samples: k trials, `passes` successes |
| `correct` | one trial: true/false (or 1/0) |
| `reward` | one trial with a fractional success in [0, 1] (a Beta pseudo-count); with `--reward-threshold X`, success = reward ≥ X |
| `loss` | one trial whose success is a proxy (see `LossSuccess`): the rank of the loss among the file's losses (default), exp(−loss), or loss ≤ L |
| `sample_index` | optional: tells rollouts of one id and step apart, so exact duplicates can be recognised |

Every row either becomes an observation `(id, step, s, m)` — s successes in m trials — or is
counted under a reason (malformed line, no id, no outcome, invalid value, contradictory outcomes,
duplicate). Nothing is dropped silently; `StatsReport` holds the counts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from curate.errors import InputError, UsageError

OUTCOMES = ("passes", "correct", "reward", "loss")  # `passes` needs `k`
SAMPLE_COLUMN = "sample_index"
EXAMPLES = 5


@dataclass(frozen=True)
class LossSuccess:
    """How a per-row loss becomes a success value in [0, 1] — always a proxy, never a measured pass.

    * `rank` (default): 1 − (average rank of the loss − ½) / n over the losses in the stats: the
      lowest loss → ≈ 1, the median → 0.5. Relative: "mastered" means lower loss than most rows.
    * `exp`: exp(−loss), the geometric-mean probability per token for a mean token NLL.
    * a number L: success = 1 when loss ≤ L, else 0.
    """

    mode: str = "rank"  # rank | exp | threshold
    threshold: float | None = None

    @classmethod
    def parse(cls, spec: str | float | None) -> LossSuccess:
        if spec is None or spec == "rank":
            return cls()
        if spec == "exp":
            return cls("exp")
        try:
            value = float(spec)
        except (TypeError, ValueError):
            raise UsageError(f"--loss-success {spec!r}: expected rank, exp or a loss threshold (e.g. 2.5)") from None
        if not math.isfinite(value):
            raise UsageError(f"--loss-success {spec!r}: the threshold must be a finite number")
        return cls("threshold", value)

    def describe(self) -> str:
        return {"rank": "rank", "exp": "exp(-loss)"}.get(self.mode, f"loss <= {self.threshold}")


@dataclass
class OutcomeOptions:
    reward_threshold: float | None = None
    loss: LossSuccess = field(default_factory=LossSuccess)


@dataclass
class StatsReport:
    """What became of every stats row."""

    source: str = ""
    rows: int = 0  # rows read (malformed lines included)
    used: int = 0  # observations that updated a posterior
    trials: float = 0.0  # sum of m over the used observations
    malformed: int = 0  # lines the reader could not parse
    invalid: dict[str, int] = field(default_factory=dict)  # reason → rows
    duplicates: int = 0
    contradictory: int = 0
    unknown_ids: int = 0  # rows whose id is not in the ordered set
    unknown_examples: list[str] = field(default_factory=list)
    kinds: dict[str, int] = field(default_factory=dict)  # outcome kind → rows used
    steps: list[int] | None = None  # [min, max] of the used rows' steps; None when no row has one
    without_step: int = 0
    loss_success: str | None = None  # how losses were mapped, when there were any

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items()}

    @property
    def ignored(self) -> int:
        return self.malformed + sum(self.invalid.values()) + self.duplicates + self.contradictory + self.unknown_ids


def read_stats(path: str, id_field: str = "id") -> tuple[pl.DataFrame, int]:
    """The stats file as a frame (any format `curate.io` reads) and the number of malformed lines."""
    from curate.io import ReadOptions, read_table

    table, rejects = read_table([path], ReadOptions(text_field=None, require_text=False, id_field=None))
    if table.num_rows == 0 and not rejects:
        raise InputError(f"stats file '{path}' holds no rows", "write one observation per row: {id, step?, reward | correct | passes + k | loss}")
    frame = pl.from_arrow(table) if table.num_rows else pl.DataFrame()
    assert isinstance(frame, pl.DataFrame)
    return frame, len(rejects)


def _numeric(frame: pl.DataFrame, name: str) -> pl.Series | None:
    if name not in frame.columns:
        return None
    col = frame[name]
    if col.dtype == pl.Boolean:
        return col.cast(pl.Float64)
    if col.dtype == pl.String:
        low = col.str.strip_chars().str.to_lowercase()
        mapped = pl.select(pl.when(low == "true").then(1.0).when(low == "false").then(0.0).otherwise(low.cast(pl.Float64, strict=False))).to_series()
        return mapped.alias(name)
    if col.dtype.is_numeric():
        return col.cast(pl.Float64)
    return pl.Series(name, [None] * len(col), dtype=pl.Float64)


def observations(frame: pl.DataFrame, id_field: str, opts: OutcomeOptions, report: StatsReport) -> pl.DataFrame:
    """Stats rows → observations `id, step, s, m, kind` (one per usable row); `report` counts the rest."""
    if id_field not in frame.columns:
        names = ", ".join(frame.columns) or "(none)"
        raise InputError(
            f"stats '{report.source}' have no '{id_field}' column; its columns are: {names}",
            "name each observed row by its id (or pass --id-field COLUMN)",
        )
    present = [c for c in OUTCOMES if c in frame.columns]
    if "passes" in present and "k" not in frame.columns:
        raise InputError(f"stats '{report.source}' have 'passes' but no 'k'", "give k (samples drawn) beside passes")
    if not present:
        raise InputError(
            f"stats '{report.source}' hold no outcome column (columns: {', '.join(frame.columns)})", "add one of: reward, correct, passes + k, loss"
        )
    n = frame.height
    report.rows += n
    ids = frame[id_field].cast(pl.String, strict=False)
    raw_step = frame["step"] if "step" in frame.columns else None
    step = _numeric(frame, "step") if raw_step is not None else pl.Series("step", [None] * n, dtype=pl.Float64)
    assert step is not None
    cols: dict[str, pl.Series | None] = {c: _numeric(frame, c) for c in ("passes", "k", "correct", "reward", "loss")}
    raw_present = {
        c: (frame[c].is_not_null() if c in frame.columns else pl.Series([False] * n)) for c in ("passes", "k", "correct", "reward", "loss")
    }

    reason: list[str | None] = [None] * n
    s_val = [math.nan] * n
    m_val = [math.nan] * n
    kind: list[str | None] = [None] * n
    losses: list[tuple[int, float]] = []

    def vals(name: str) -> list[Any]:
        c = cols[name]
        return c.to_list() if c is not None else [None] * n

    passes, k, correct, reward, loss = vals("passes"), vals("k"), vals("correct"), vals("reward"), vals("loss")
    has = {c: raw_present[c].to_list() for c in raw_present}
    steps = step.to_list()
    id_list = ids.to_list()
    thr = opts.reward_threshold
    for i in range(n):
        if id_list[i] is None or id_list[i] == "":
            reason[i] = "no id"
            continue
        if raw_step is not None and raw_step[i] is not None:
            st = steps[i]
            if st is None or not math.isfinite(st) or st != int(st):
                reason[i] = "step is not a whole number"
                continue
            if st < 0:
                reason[i] = "negative step"
                continue
        found: list[tuple[str, float, float]] = []  # (kind, s, m)
        bad: str | None = None
        if has["passes"][i] or has["k"][i]:
            c, kk = passes[i], k[i]
            if c is None or kk is None or not (math.isfinite(c) and math.isfinite(kk)) or c != int(c) or kk != int(kk):
                bad = "passes/k not whole numbers"
            elif kk < 1 or c < 0 or c > kk:
                bad = "passes/k out of range (need 0 ≤ passes ≤ k, k ≥ 1)"
            else:
                found.append(("passes", c, kk))
        if has["correct"][i] and bad is None:
            v = correct[i]
            if v is None or v not in (0.0, 1.0):
                bad = "correct is not true/false or 1/0"
            else:
                found.append(("correct", v, 1.0))
        if has["reward"][i] and bad is None:
            v = reward[i]
            if v is None or not math.isfinite(v):
                bad = "reward is NaN, infinite or not a number"
            elif thr is not None:
                found.append(("reward", 1.0 if v >= thr else 0.0, 1.0))
            elif not 0.0 <= v <= 1.0:
                bad = "reward outside [0, 1] (pass --reward-threshold X to count reward ≥ X as a success)"
            else:
                found.append(("reward", v, 1.0))
        if has["loss"][i] and bad is None:
            v = loss[i]
            if v is None or not math.isfinite(v):
                bad = "loss is NaN, infinite or not a number"
            elif v < 0:
                bad = "negative loss"
            else:
                found.append(("loss", v, 1.0))  # mapped to a success value below, once every loss is known
        if bad is not None:
            reason[i] = bad
            continue
        if not found:
            reason[i] = "no outcome (reward, correct, passes + k or loss all empty)"
            continue
        if len(found) > 1:
            rates = {round(s / m, 12) for kd, s, m in found if kd != "loss"}
            if len(rates) > 1 or any(kd == "loss" for kd, _, _ in found):
                report.contradictory += 1
                reason[i] = "contradictory"
                continue
        kd, s, m = found[0]
        kind[i], s_val[i], m_val[i] = kd, s, m
        if kd == "loss":
            losses.append((i, s))

    if losses:
        mapping = opts.loss
        report.loss_success = mapping.describe()
        values = pl.Series([v for _, v in losses], dtype=pl.Float64)
        if mapping.mode == "rank":
            mapped = (1.0 - (values.rank("average") - 0.5) / len(values)).to_list()
        elif mapping.mode == "exp":
            mapped = (-values).exp().to_list()
        else:
            mapped = [1.0 if v <= (mapping.threshold or 0.0) else 0.0 for v in values.to_list()]
        for (i, _), v in zip(losses, mapped):
            s_val[i] = v

    out = pl.DataFrame(
        {
            "id": id_list,
            "step": [None if v is None else int(v) for v in steps],
            "s": s_val,
            "m": m_val,
            "kind": kind,
            "_reason": reason,
            "_sample": (
                frame[SAMPLE_COLUMN].cast(pl.String, strict=False) if SAMPLE_COLUMN in frame.columns else pl.Series([None] * n, dtype=pl.String)
            ),
        },
        schema={"id": pl.String, "step": pl.Int64, "s": pl.Float64, "m": pl.Float64, "kind": pl.String, "_reason": pl.String, "_sample": pl.String},
    )
    for r, cnt in out.filter(pl.col("_reason").is_not_null() & (pl.col("_reason") != "contradictory")).group_by("_reason").len().iter_rows():
        report.invalid[r] = report.invalid.get(r, 0) + cnt
    good = out.filter(pl.col("_reason").is_null())
    if SAMPLE_COLUMN in frame.columns:
        good = _duplicates(good, report)
    return good.drop("_reason", "_sample")


def _duplicates(good: pl.DataFrame, report: StatsReport) -> pl.DataFrame:
    """Rows with one (id, step, sample_index): identical ones are kept once; disagreeing ones are all dropped."""
    keyed = good.filter(pl.col("_sample").is_not_null())
    if keyed.is_empty():
        return good
    key = ["id", "step", "_sample"]
    groups = keyed.group_by(key).agg(pl.len().alias("n"), pl.col("s").n_unique().alias("vals"), pl.col("m").n_unique().alias("ms"))
    contra = groups.filter((pl.col("vals") > 1) | (pl.col("ms") > 1))
    dup = groups.filter((pl.col("n") > 1) & (pl.col("vals") == 1) & (pl.col("ms") == 1))
    report.contradictory += int(contra["n"].sum() or 0)
    report.duplicates += int((dup["n"] - 1).sum() or 0)
    good = good.with_row_index("_row")
    drop_contra = good.join(contra.select(key), on=key, how="semi")["_row"]
    firsts = good.filter(pl.col("_sample").is_not_null()).group_by(key, maintain_order=True).agg(pl.col("_row").first())["_row"]
    keep = good.filter(~pl.col("_row").is_in(drop_contra.implode()) & (pl.col("_sample").is_null() | pl.col("_row").is_in(firsts.implode())))
    return keep.drop("_row")


def load_observations(path: str, id_field: str, opts: OutcomeOptions) -> tuple[pl.DataFrame, StatsReport]:
    """Read a stats file into observations, with the report of what was used and why the rest was not."""
    report = StatsReport(source=path)
    frame, malformed = read_stats(path, id_field)
    report.rows += malformed
    report.malformed = malformed
    if frame.is_empty():
        obs = pl.DataFrame(schema={"id": pl.String, "step": pl.Int64, "s": pl.Float64, "m": pl.Float64, "kind": pl.String})
        return obs, report
    return observations(frame, id_field, opts, report), report


def example_ids(ids: list[str]) -> list[str]:
    return sorted(set(ids))[:EXAMPLES]
