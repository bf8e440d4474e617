"""`synthesize`: read scored rows, run a mode, verify, deduplicate, write rows, rejects and a funnel."""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from curate.engines.base import Engine
from curate.errors import InputError, UsageError
from curate.synth.decontam import Decontaminator
from curate.synth.dedup import Deduper, dedup
from curate.synth.defect import run_defect_round
from curate.synth.eliminator import eliminate
from curate.synth.funnel import advance, funnel
from curate.synth.generation import JsonStats
from curate.synth.hint import keep_smallest_learnable, parse_rungs, pass_rate_by_rung, run_hints
from curate.synth.ladder import check_ops, run_ladder
from curate.synth.lineage import LINEAGE_COLUMNS, Candidate, Seed
from curate.synth.monotonic import check_ladders, check_rungs, pooled_by_level
from curate.synth.numeric import run_numeric
from curate.synth.options import KeepPolicy, Mode, MonotonicPolicy, SynthOptions
from curate.synth.passrate import pass_rates
from curate.synth.seeds import measure_missing, select_seeds


@dataclass
class Output:
    dest: str
    fmt: Any = None  # curate.io.Format or None (inferred from the name)
    rows_per_shard: int = 100_000
    rejects: str | None = None
    summary_json: str | None = None


def _validate(opts: SynthOptions) -> None:
    if opts.sc_samples and not 1 <= opts.sc_min_agree <= opts.sc_samples:
        raise UsageError(f"--sc-min {opts.sc_min_agree} must be between 1 and --sc-samples {opts.sc_samples}")
    if opts.k < 1 or opts.per_seed < 1 or opts.rounds < 1 or opts.critic_rounds < 0:
        raise UsageError("--k, --per-seed and --rounds must be at least 1 and --critic-rounds at least 0")
    if opts.mode == Mode.ladder and opts.harder + opts.easier == 0:
        raise UsageError("--harder and --easier are both 0: a ladder needs at least one level")
    if opts.ngram < 3:
        raise UsageError("--ngram must be at least 3")
    if opts.mode == Mode.ladder:
        check_ops(opts)
    if opts.mode in (Mode.hint, Mode.numeric) and opts.monotonic != MonotonicPolicy.drop:
        raise UsageError(f"--monotonic {opts.monotonic.value} applies to ladder mode", f"{opts.mode.value} rungs are checked with --monotonic drop")
    if opts.mode == Mode.hint:
        parse_rungs(opts.fractions)
    if opts.variants < 1 or opts.harder_digits < 0 or opts.max_draws < 1:
        raise UsageError("--variants must be at least 1 and --harder-digits at least 0")


def uses_generator(opts: SynthOptions) -> bool:
    """Hint and numeric variants are built by rule: no generator model is involved."""
    return opts.mode in (Mode.ladder, Mode.defect)


def _measure_targets(cands: list[Candidate], target: Engine, opts: SynthOptions) -> None:
    alive = [c for c in cands if c.alive]
    for c, pr in zip(
        alive, pass_rates(target, [c.problem for c in alive], [c.answer for c in alive], opts.k, opts.solve_max_tokens, [c.task for c in alive])
    ):
        c.target_pass_rate, c.target_k = pr, opts.k
        c.notes["target_model"] = target.model


def run(
    rows: list[dict[str, Any]], opts: SynthOptions, generator: Engine, target: Engine, critic: Engine | None = None
) -> tuple[list[Candidate], dict[str, Any]]:
    """The whole synthesis on in-memory rows: every candidate (kept or dropped, in a stable order) and a summary."""
    _validate(opts)
    critic = critic or generator
    t0 = time.perf_counter()
    stats: dict[str, JsonStats] = defaultdict(JsonStats)
    timings: dict[str, float] = defaultdict(float)
    clock = _Clock(timings)
    with clock("seed_selection"):
        seeds, info = select_seeds(rows, opts, target)
    decon = Decontaminator.from_files(opts.decontaminate, opts.ngram) if opts.decontaminate else None
    inputs = [(str(r[opts.id_field]), str(r[opts.text_field])) for r in rows]
    deduper: Deduper | None = None
    cands: list[Candidate] = []
    extra: dict[str, Any] = {}
    if opts.mode == Mode.ladder:
        with clock("generate_and_verify"):
            cands = run_ladder(seeds, generator, opts, stats)
        with clock("novelty"):
            deduper = dedup(cands, inputs, deduper, opts.near_dup_threshold)
            if decon:
                decon.apply(cands)
        advance(cands, "novel")
        with clock("target_pass_rate"):
            _measure_targets(cands, target, opts)
            info["measured_parent_pass_rates"] = measure_missing(
                [s for s in seeds if any(c.parent_id == s.id and c.alive for c in cands)], target, opts
            )
        extra["monotonic"] = check_ladders(
            cands, {s.id: s.pass_rate for s in seeds if s.pass_rate is not None}, opts.monotonic, opts.monotonic_margin
        )
        advance(cands, "kept")
        extra["pass_rate_by_level"] = _by_level(cands, seeds)
    elif opts.mode in (Mode.hint, Mode.numeric):
        cands, extra = _run_by_rule(seeds, inputs, decon, target, opts, clock, info)
    else:
        round_seeds = seeds
        for rnd in range(1, opts.rounds + 1):
            if not round_seeds:
                break
            with clock("generate_and_verify"):
                new = run_defect_round(round_seeds, rnd, generator, critic, opts, stats)
            with clock("novelty"):
                deduper = dedup(new, inputs, deduper, opts.near_dup_threshold)
                if decon:
                    decon.apply(new)
            advance(new, "novel")
            with clock("target_pass_rate"):
                _measure_targets(new, target, opts)
            for c in new:
                if c.alive and c.target_pass_rate is not None and c.target_pass_rate >= opts.max_pass_rate:
                    c.drop("target_pass_rate", f"target pass rate {c.target_pass_rate:.2f} is not below {opts.max_pass_rate}")
            advance(new, "kept")
            cands.extend(new)
            round_seeds = [Seed(c.id, c.problem, c.answer, c.task, c.target_pass_rate) for c in new if c.alive]
    summary: dict[str, Any] = {
        "mode": opts.mode.value,
        **info,
        "generator_model": generator.model if uses_generator(opts) else None,
        "target_model": target.model,
        "critic_model": critic.model if opts.mode == Mode.defect else None,
        "funnel": funnel(cands),
        "json": {k: v.as_dict() for k, v in sorted(stats.items())},
        **extra,
        "decontamination": {"ngram": opts.ngram, "hits": decon.hits} if decon else None,
        "seconds": round(time.perf_counter() - t0, 2),
        "stage_seconds": {k: round(v, 2) for k, v in timings.items()},
    }
    return cands, summary


def _run_by_rule(
    seeds: list[Seed],
    inputs: list[tuple[str, str]],
    decon: Decontaminator | None,
    target: Engine,
    opts: SynthOptions,
    clock: _Clock,
    info: dict[str, Any],
) -> tuple[list[Candidate], dict[str, Any]]:
    """Hint and numeric modes: variants built by rule, then novelty, the target's pass rate, monotonicity, the keep policy."""
    extra: dict[str, Any] = {}
    with clock("generate_and_verify"):
        cands = run_hints(seeds, opts) if opts.mode == Mode.hint else run_numeric(seeds, opts)
        for c in cands:
            eliminate(c, [], opts.parent_dup_threshold, opts.prompts_dir)  # no similarity check: near copies of the parent by design
    advance(cands, "verified")
    with clock("novelty"):
        dedup(cands, inputs, None, opts.near_dup_threshold, family=True)
        if decon:
            decon.apply(cands)
    advance(cands, "novel")
    with clock("target_pass_rate"):
        _measure_targets(cands, target, opts)
        info["measured_parent_pass_rates"] = measure_missing([s for s in seeds if any(c.parent_id == s.id and c.alive for c in cands)], target, opts)
    parents = {s.id: (s.pass_rate, s.samples or opts.k) for s in seeds}
    extra["monotonic"] = check_rungs(cands, parents)
    if opts.mode == Mode.hint and opts.keep == KeepPolicy.smallest_learnable:
        extra["keep"] = keep_smallest_learnable(cands)
    advance(cands, "kept")
    extra["pass_rate_by_level"] = pooled_by_level(cands, parents)
    if opts.mode == Mode.hint:
        extra["pass_rate_by_rung"] = pass_rate_by_rung(cands)
    return cands, extra


class _Clock:
    """`with clock("stage"):` adds the block's wall time to timings["stage"]."""

    def __init__(self, timings: dict[str, float]):
        self.timings = timings

    def __call__(self, stage: str) -> _Clock:
        self._stage = stage
        return self

    def __enter__(self) -> None:
        self._t = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        self.timings[self._stage] += time.perf_counter() - self._t


def _by_level(cands: list[Candidate], seeds: list[Seed]) -> dict[str, Any]:
    """Mean measured target pass rate per ladder level (0 = the parents), over all measured and over kept rows."""
    measured: dict[int, list[float]] = defaultdict(list)
    kept: dict[int, list[float]] = defaultdict(list)
    parents = {c.parent_id for c in cands if c.target_pass_rate is not None}
    for s in seeds:
        if s.id in parents and s.pass_rate is not None:
            measured[0].append(s.pass_rate)
    for c in cands:
        if c.target_pass_rate is None:
            continue
        lvl = int(c.notes.get("intended_level", c.level) or 0)
        measured[lvl].append(c.target_pass_rate)
        if c.alive:
            kept[int(c.level or 0)].append(c.target_pass_rate)

    def mean(d: dict[int, list[float]]) -> dict[str, dict[str, float]]:
        return {str(k): {"n": len(v), "mean_pass_rate": round(sum(v) / len(v), 4)} for k, v in sorted(d.items())}

    return {"measured": mean(measured), "kept": mean(kept)}


def output_schema(input_schema: Any, opts: SynthOptions, append: bool) -> Any:
    import pyarrow as pa

    fields = [
        pa.field(opts.id_field, pa.string()),
        pa.field(opts.text_field, pa.string()),
        pa.field(opts.answer_field, pa.string()),
        pa.field("solution", pa.string()),
        pa.field(opts.task_field, pa.string()),
    ]
    fields += [pa.field(n, pa.type_for_alias(t)) for n, t in LINEAGE_COLUMNS]
    if not append:
        return pa.schema(fields)
    new = {f.name: f for f in fields}
    out = [new.pop(f.name, f) if f.name in (opts.id_field, opts.text_field, opts.answer_field, opts.task_field) else f for f in input_schema]
    names = {f.name for f in out}
    return pa.schema(out + [f for f in fields if f.name not in names])


def synthesize(
    sources: list[str], opts: SynthOptions, out: Output, *, generator: Engine, target: Engine, critic: Engine | None = None
) -> dict[str, Any]:
    """Read `sources`, synthesize, write new rows (or input + new with `append`), rejects and the summary."""
    import orjson
    import pyarrow as pa

    from curate.io import RejectWriter, conform, expand_inputs, open_sink, read_table
    from curate.io.inputs import without_own_outputs
    from curate.io.readers import ReadOptions, Reject

    srcs, own = without_own_outputs(expand_inputs(sources), out.dest, out.rejects)  # never read this command's own output
    if not srcs:
        raise InputError(
            f"the only input files are this command's own output ({', '.join(own[:3])})", "synthesize from another input, or write elsewhere with -o"
        )
    table, in_rejects = read_table(srcs, ReadOptions(text_field=opts.text_field, id_field=opts.id_field))
    if table.num_rows and opts.answer_field not in table.column_names:
        raise InputError(f"input has no '{opts.answer_field}' column", "synthesis needs reference answers: pass --answer-field")
    rows = table.to_pylist()
    cands, summary = run(rows, opts, generator, target, critic)
    schema = output_schema(table.schema, opts, opts.append)
    gen_model = generator.model if uses_generator(opts) else None
    kept = [c.row(opts, gen_model) for c in cands if c.alive]
    new_table = pa.Table.from_pylist(kept, schema=pa.schema([schema.field(n) for n in kept[0]])) if kept else pa.table({})
    sink = open_sink(out.dest, schema, out.fmt, out.rows_per_shard)
    try:
        if opts.append and table.num_rows:
            sink.write(conform(table, schema))
        if kept:
            sink.write(conform(new_table, schema))
        written = sink.close()
    except BaseException:
        sink.abort()
        raise
    rejects = RejectWriter(out.rejects)
    rejects.write(in_rejects)
    rejects.write(
        [
            Reject(f"{c.reason}: {c.detail}" if c.detail else str(c.reason), f"synth:{c.mode}/{c.op}", row=c.reject_record(opts, gen_model))
            for c in cands
            if not c.alive
        ]
    )
    rejects.close()
    summary.update(
        {
            "input_rows": table.num_rows,
            "output": written,
            "rows_written": written["rows"],
            "new_rows": len(kept),
            "rejects": rejects.count,
            "rejects_path": out.rejects if rejects.count else None,
            "input_rejects": len(in_rejects),
        }
    )
    if out.summary_json:
        from pathlib import Path

        Path(out.summary_json).parent.mkdir(parents=True, exist_ok=True)
        Path(out.summary_json).write_bytes(orjson.dumps(summary, option=orjson.OPT_INDENT_2))
    return summary
