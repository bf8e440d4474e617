"""The order stage: a pacing schedule materialised as ordered Parquet shards, a baseline and a manifest.

The implementation is `curate.order` (sort keys → schedule → gather shards → manifest); this
module is its typed front.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator

from curate.stages.base import STAGES, Placement, Slot, StageOptions, Summary
from curate.stages.options import check_registered


class OrderOptions(StageOptions):
    """Options of `curate order` (and of a pipeline's `order:` stage)."""

    runner_fields: ClassVar[tuple[str, ...]] = ("inputs", "output")

    inputs: list[str] = Field(min_length=1)
    """Input: Parquet file/dir/glob, JSONL (.jsonl/.jsonl.gz), CSV, a saved HF dataset folder, or '-' for JSONL on stdin."""
    output: str
    """Output folder: shards, baseline/, manifest.json, curriculum.png."""
    schedule: str = "linear"
    """Pacing schedule (see `curate schedules`)."""
    by: list[str] | None = None
    """Sort key column, easiest first; repeat for ties; add ':desc' to reverse (e.g. --by score_length_words:desc). Default: difficulty."""
    steps: int | None = None
    """T: training steps (default: one pass in up to 1,000 steps)."""
    batch_size: int | None = None
    """B: rows per step."""
    num_samples: int | None = None
    """S: rows to read in total (default: one pass, N)."""
    start: float = 0.1
    """b: fraction of the sorted data available at the first step."""
    full_at: float = 1.0
    """a: fraction of the budget after which all data is available."""
    k: int = 5
    """K: baby steps (step), bins (interleaved), cycles (cyclical)."""
    warmup: float = 0.2
    """W: fraction of the budget read in curriculum order (warmup)."""
    p: float = 2.0
    """p of the p-root competence function (root; 2 = sqrt)."""
    sigma: float = 0.1
    """Width of the moving target in difficulty quantiles (gaussian)."""
    exhausted: str = "widen"
    """When a step's pool has no unread rows left: 'widen' (take the next-easiest; no repeats, no loss) or 'repeat' (start a new round over the pool)."""
    stages: int = Field(1, ge=1)
    """Write stage-0/ … stage-K-1/ (equal runs of steps) for stage-wise training."""
    rows_per_shard: int | None = Field(None, ge=1)
    """Rows per shard (rounded down to whole steps; default 100,000)."""
    shard_size_mb: float | None = None
    """Approximate uncompressed MB per shard, instead of --rows-per-shard."""
    no_baseline: bool = False
    """Do not write the seeded random-order baseline/."""
    no_plot: bool = False
    """Do not draw curriculum.png."""
    id_field: str = "id"
    """Row id column; its hash with --seed breaks ties."""
    memory_mb: float | None = Field(None, ge=0.001)
    """Memory budget for gathering rows (default: half the available memory). An input needing more (2.5× its uncompressed size) is gathered through spill files on disk, in bounded memory."""
    gather: str = "auto"
    """How rows are gathered into shards: auto, memory (read the input once, whole) or spill (bucketed, bounded memory)."""
    executor: str | None = None
    """Where shards are gathered and written: local (this process) or ray (Ray tasks; --gather is for local)."""
    ray_address: str | None = None
    """Ray cluster to use ('auto' on a cluster node, or ray://HOST:10001); implies --executor ray. Default: $RAY_ADDRESS, else start a local Ray."""
    seed: int = 0
    """Random seed: same input and seed give identical output."""
    band: str | None = None
    """COLUMN=LO:HI: keep only rows whose COLUMN is in [LO, HI] (e.g. score_pass_rate=0.1:0.9); the manifest counts those below, above and without a value."""
    mix_by: str | None = None
    """COLUMN whose values --mix weighs (e.g. source)."""
    mix: dict[str, float] | None = None
    """VALUE=WEIGHT,...: each step takes these shares of its rows from rows with those --mix-by values (exact within one row per step)."""
    token_budget: str | None = None
    """START:END: add curriculum_max_new_tokens, a per-step generation budget decaying from START to END tokens over the run."""
    token_decay: Literal["linear", "cosine"] = "linear"
    """How --token-budget decays: linear or cosine."""

    @field_validator("mix", mode="before")
    @classmethod
    def _mix_weights(cls, v: Any) -> Any:
        if v is None or v == "":
            return None
        from curate.order.select import parse_mix

        return parse_mix(v)

    @field_validator("band")
    @classmethod
    def _band_spec(cls, v: str | None) -> str | None:
        if v is not None:
            from curate.order.select import parse_band

            parse_band(v)
        return v

    @field_validator("token_budget")
    @classmethod
    def _budget_spec(cls, v: str | None) -> str | None:
        if v is not None:
            from curate.order.tokens import parse_budget

            parse_budget(v)
        return v

    @field_validator("schedule")
    @classmethod
    def _known_schedule(cls, v: str) -> str:
        from curate.order.schedules import SCHEDULES

        check_registered(SCHEDULES, [v])
        return v


class OrderSummary(Summary):
    stage: str = "order"
    manifest: dict[str, Any] = Field(default_factory=dict)
    gathered: dict[str, Any] = Field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "rows_in": self.rows_in,
            "rows_out": self.rows_out,
            "quarantined": self.quarantined,
            "seconds": round(self.seconds, 3),
            "gathered": self.gathered,
            "manifest": self.manifest,
        }


class OrderStage:
    name = "order"
    Options = OrderOptions

    def plan(self, slot: Slot) -> Placement:
        """The last order stage of a pipeline writes `ordered/`; earlier ones `stages/NAME/`."""
        output = str(slot.run_dir / "ordered") if slot.last else str(slot.stages_dir / slot.name)
        return Placement({"inputs": list(slot.rows), "output": output}, output, str(slot.stages_dir / f"{slot.name}.summary.json"))

    def run(self, options: OrderOptions, ctx: Any) -> OrderSummary:
        import time

        from curate.order import OrderConfig, Params, order

        o = options
        where = ctx.executor_config(o.executor, o.ray_address)
        cfg = OrderConfig(
            inputs=list(o.inputs),
            output=o.output,
            schedule=o.schedule,
            by=list(o.by or ["difficulty"]),
            params=Params(start=o.start, full_at=o.full_at, k=o.k, warmup=o.warmup, p=o.p, sigma=o.sigma),
            steps=o.steps,
            batch_size=o.batch_size,
            num_samples=o.num_samples,
            exhausted=o.exhausted,
            seed=o.seed,
            stages=o.stages,
            rows_per_shard=o.rows_per_shard,
            shard_size_mb=o.shard_size_mb,
            baseline=not o.no_baseline,
            plot=not o.no_plot,
            id_field=o.id_field,
            memory_mb=o.memory_mb,
            gather=o.gather,
            executor=where.name,
            executor_address=where.address,
            band=o.band,
            mix_by=o.mix_by,
            mix=dict(o.mix) if o.mix else None,
            token_budget=o.token_budget,
            token_decay=o.token_decay,
        )
        how: dict[str, Any] = {}
        t0 = time.perf_counter()
        m = order(cfg, run_info=how, executor=ctx.executor(where) if where.name == "ray" else None)
        rows = m["rows"]
        ctx.info(_done_line(m, o.output, how))
        return OrderSummary(
            rows_in=rows["input"],
            rows_out=m["sets"]["curriculum"]["rows"],
            quarantined=rows["quarantined"],
            rejects_path=f"{o.output}/rejects.jsonl" if rows["quarantined"] else None,
            seconds=time.perf_counter() - t0,
            manifest=m,
            gathered=how,
        )


def _done_line(m: dict[str, Any], output: str, how: dict[str, Any]) -> str:
    cur = m["sets"]["curriculum"]
    c = m["config"]["resolved"]
    if how.get("gather") == "ray":
        ex = how["executor"]
        gathered = f"; gathered on Ray ({ex['address']}, {ex['cluster_cpus']} CPUs)"
    else:
        gathered = f"; gathered {'in memory' if how.get('gather') == 'memory' else 'through spill buckets'}"
    return (
        f"[green]✓[/] {cur['rows']:,} rows in {c['steps']:,} steps of {c['batch_size']:,} → {len(cur['shards'])} shard(s) in {output}"
        + (f", baseline/ ({len(m['sets']['baseline']['shards'])} shard(s))" if "baseline" in m["sets"] else "")
        + (f"; {m['rows']['quarantined']:,} row(s) quarantined in rejects.jsonl" if m["rows"]["quarantined"] else "")
        + (_band_note(m["rows"]["band"]) if "band" in m["rows"] else "")
        + (f"; {m['rows']['mix']['left_out']:,} row(s) without a --mix weight left out" if m["rows"].get("mix", {}).get("left_out") else "")
        + gathered
    )


def _band_note(b: dict[str, Any]) -> str:
    out = b["below"] + b["above"] + b["null"]
    return f"; {out:,} row(s) outside --band {b['column']} [{b['lo']:g}, {b['hi']:g}] left out ({b['below']:,} below, {b['above']:,} above, {b['null']:,} null)"


STAGES.register("order")(OrderStage())
