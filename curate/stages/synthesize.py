"""The synthesize stage: new, verified problems with lineage (ladders or defect-aware).

The implementation is `curate.synth` (seeds → generation → verification → novelty → the
target's pass rate → rows, rejects and a funnel); this module is its typed front. Engines come
from the run context, one per role (generator, target, critic); roles with the same settings
share one engine, and on Ray in-process engines run on engine actors while servers are called
from here.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AliasChoices, Field, field_validator

from curate.stages.base import STAGES, Summary
from curate.stages.options import EngineActorFields, ExecutorFields, RowOutputFields, split_names


class SynthesizeOptions(RowOutputFields, ExecutorFields, EngineActorFields):
    """Options of `curate synthesize` (and of a pipeline's `synthesize:` stage)."""

    mode: Literal["defect", "ladder", "hint", "numeric"] = "ladder"
    """defect: new problems the target fails; ladder: harder and easier variants per row; hint: the problem plus the start of its solution; numeric: new numbers, answer recomputed."""
    generator_model: str | None = None
    """Model writing problems (default: the bundled SmolLM2-135M-Instruct)."""
    target_model: str | None = None
    """Model whose pass rate is measured (default: the bundled model)."""
    generator_engine_url: str | None = None
    """OpenAI-compatible server for the generator."""
    target_engine_url: str | None = None
    """OpenAI-compatible server for the target."""
    critic_model: str | None = None
    """Defect mode: model judging problems (default: the generator)."""
    engine: str | None = None
    """Model engine: vllm (in-process), openai (a server at --engine-url), fake (tests)."""
    no_cache: bool = False
    """Bypass the request cache (results are still stored)."""
    engine_timeout: float | None = Field(None, gt=0)
    """Seconds to wait for one server request before retrying it (default: 60)."""
    rounds: int = Field(1, ge=1)
    """Defect mode: rounds, each seeded from the previous round's kept problems."""
    per_seed: int = Field(2, ge=1)
    """Defect mode: new problems per seed and round."""
    critic_rounds: int = Field(2, ge=0)
    """Defect mode: refine a problem the critic rejects up to N times."""
    max_pass_rate: float = Field(0.5, ge=0.0, le=1.0)
    """Defect mode: keep only problems the target passes less often than this."""
    seed_bucket: list[str] = Field(default_factory=lambda: ["frontier"])
    """Defect and hint modes: pass-rate buckets whose rows are seeds (repeatable)."""
    seed_max_pass_rate: float = Field(0.5, ge=0.0, le=1.0)
    """Defect and hint modes: rows with pass rate at most this are seeds too."""
    max_seeds: int | None = Field(None, ge=1)
    """Use at most this many seed rows."""
    harder: int = Field(2, ge=0)
    """Ladder mode: harder levels per seed."""
    easier: int = Field(1, ge=0)
    """Ladder mode: easier levels per seed."""
    monotonic: Literal["drop", "relabel"] = "drop"
    """Ladder variants whose measured pass rate breaks the order: drop or relabel."""
    monotonic_margin: float = Field(0.0, ge=0.0, le=1.0)
    """Required pass-rate drop per harder level."""
    fractions: list[str] | None = None
    """Hint mode: rungs, fractions of the solution's steps or n-j (all but the last j), e.g. 0.25,0.5,n-1,1."""
    keep: Literal["smallest-learnable", "all"] = "smallest-learnable"
    """Hint mode: per row only the smallest hint the target passes sometimes, or every rung."""
    variants: int = Field(2, ge=1)
    """Numeric mode: new instances per level."""
    harder_digits: int = Field(1, ge=0)
    """Numeric mode: levels 1..D, with D more digits in every number."""
    sc_samples: int = Field(4, ge=0)
    """Self-consistency: generator solutions per new problem (0: off)."""
    sc_min: int | None = Field(None, ge=1)
    """Self-consistency: solutions that must match the stated answer (default: 3, at most --sc-samples)."""
    k: int = Field(4, ge=1)
    """Target samples per new problem for its pass rate."""
    json_retries: int = Field(2, ge=0)
    """Re-ask this many times when the output is not valid JSON."""
    no_structured: bool = False
    """Do not request JSON-schema constrained decoding."""
    max_tokens: int = Field(384, ge=16)
    """Token limit for generated problems."""
    solve_max_tokens: int = Field(256, ge=16)
    """Token limit for solutions (self-consistency, target)."""
    decontaminate: list[str] | None = None
    """Benchmark file(s): drop new rows sharing an n-gram with them."""
    ngram: int = Field(8, ge=3)
    """Decontamination n-gram size in words."""
    near_dup_threshold: float = Field(0.8, ge=0.0, le=1.0)
    """MinHash Jaccard at which a new row is a near-duplicate."""
    append: bool = False
    """Write the input rows followed by the new rows."""
    text_field: str = "text"
    """Column with the problem text."""
    answer_field: str = "answer"
    """Column with the reference answer."""
    id_field: str = "id"
    """Column with row ids."""
    task_type_field: str = Field("task_type", validation_alias=AliasChoices("task_type_field", "task_field"))
    """Column with the task type (math, exact, ...; code and mc rows are skipped)."""
    solution_field: str = "solution"
    """Hint and numeric modes: column with the worked solution."""
    prompts_dir: str | None = None
    """Directory overriding prompt files synth_*.txt."""

    @field_validator("fractions", mode="before")
    @classmethod
    def _fractions_as_text(cls, v: Any) -> Any:
        """Rungs from a flag ("0.5,n-1,1") or a pipeline list ([0.5, "n-1", 1]) alike."""
        if v is None:
            return v
        return split_names([str(x) for x in (v if isinstance(v, list | tuple) else [v])])


class SynthesizeSummary(Summary):
    stage: str = "synthesize"
    new_rows: int = 0
    details: dict[str, Any] = Field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return dict(self.details)


class SynthesizeStage:
    name = "synthesize"
    Options = SynthesizeOptions

    def run(self, options: SynthesizeOptions, ctx: Any) -> SynthesizeSummary:
        from curate.score import default_rejects_path
        from curate.synth import KeepPolicy, Mode, MonotonicPolicy, Output, SynthOptions, synthesize

        o = options
        opts = SynthOptions(
            mode=Mode(o.mode),
            text_field=o.text_field,
            answer_field=o.answer_field,
            id_field=o.id_field,
            task_field=o.task_type_field,
            solution_field=o.solution_field,
            fractions=tuple(o.fractions) if o.fractions else SynthOptions.fractions,
            keep=KeepPolicy(o.keep),
            variants=o.variants,
            harder_digits=o.harder_digits,
            seed_buckets=tuple(o.seed_bucket),
            seed_max_pass_rate=o.seed_max_pass_rate,
            max_seeds=o.max_seeds,
            per_seed=o.per_seed,
            rounds=o.rounds,
            critic_rounds=o.critic_rounds,
            max_pass_rate=o.max_pass_rate,
            harder=o.harder,
            easier=o.easier,
            monotonic=MonotonicPolicy(o.monotonic),
            monotonic_margin=o.monotonic_margin,
            sc_samples=o.sc_samples,
            sc_min_agree=o.sc_min if o.sc_min is not None else max(1, min(3, o.sc_samples)),
            k=o.k,
            json_retries=o.json_retries,
            structured=not o.no_structured,
            max_tokens=o.max_tokens,
            solve_max_tokens=o.solve_max_tokens,
            prompts_dir=o.prompts_dir,
            near_dup_threshold=o.near_dup_threshold,
            decontaminate=tuple(o.decontaminate or ()),
            ngram=o.ngram,
            append=o.append,
            seed=o.seed,
        )
        from curate.io.writers import Format

        out = Output(o.output, Format(o.format.value) if o.format else None, o.rows_per_shard, o.rejects or default_rejects_path(o.output), None)

        def cfg(model: str | None, url: str | None) -> Any:
            return ctx.engine_config(
                engine=o.engine, url=url, model=model, cache=False if o.no_cache else None, seed=o.seed, timeout=o.engine_timeout
            )

        gen = cfg(o.generator_model, o.generator_engine_url)
        roles = {"generator": gen, "target": cfg(o.target_model, o.target_engine_url), "critic": cfg(o.critic_model, None) if o.critic_model else gen}
        where = ctx.executor_config(o.executor, o.ray_address)
        o.check_engine_actors(where.name)
        from curate.executors import EXECUTORS

        EXECUTORS.get(where.name)
        # On Ray, in-process engines become engine actors on the cluster; servers are called from here.
        on_cluster = where.name != "local" and any(not c.is_remote for c in roles.values())
        ex = (
            ctx.executor(ctx.executor_config(o.executor, o.ray_address, engines=o.ray_engines, engine_cpus=o.ray_engine_cpus)) if on_cluster else None
        )
        opened: dict[int, _Failures] = {}
        for c in roles.values():
            eng = ctx.engine(c, executor=ex)
            opened.setdefault(id(eng), _Failures(eng))
        engines = {role: opened[id(ctx.engine(c, executor=ex))] for role, c in roles.items()}
        details = synthesize(o.inputs, opts, out, generator=engines["generator"], target=engines["target"], critic=engines["critic"])
        failed = sum(e.failed for e in opened.values())
        if failed:
            from curate.errors import EngineError

            details["engine_failures"] = {"requests": failed, "reasons": {k: v for e in opened.values() for k, v in e.reasons.items()}}
            why = max(details["engine_failures"]["reasons"].items(), key=lambda kv: kv[1])[0]
            raise EngineError(
                f"the model engine failed on {failed} of {sum(e.calls for e in opened.values())} requests ({why!r}); candidates that needed them are "
                f"missing or rejected, so this synthesis is incomplete (written to {details['output'].get('path')})",
                "fix the engine and rerun the same command: answered requests come from the request cache, only the failed ones are asked again",
            )
        return SynthesizeSummary(
            rows_in=int(details.get("input_rows") or 0),
            rows_out=int(details.get("rows_written") or 0),
            quarantined=int(details.get("input_rejects") or 0),
            rejects_path=details.get("rejects_path"),
            seconds=float(details.get("seconds") or 0.0),
            new_rows=int(details.get("new_rows") or 0),
            details=details,
        )


class _Failures:
    """An engine that counts the prompts it failed to answer (synthesis reads a failed prompt as
    an empty answer; the stage turns any such failure into exit code 5)."""

    def __init__(self, engine: Any):
        self._engine = engine
        self.calls = 0
        self.failed = 0
        self.reasons: dict[str, int] = {}

    def generate(self, prompts: list[Any], params: Any) -> list[Any]:
        out = self._engine.generate(prompts, params)
        self.calls += len(prompts)
        for c in out:
            if c.error:
                self.failed += 1
                self.reasons[c.error] = self.reasons.get(c.error, 0) + 1
        return out

    def __getattr__(self, item: str) -> Any:
        return getattr(self._engine, item)


STAGES.register("synthesize")(SynthesizeStage())
