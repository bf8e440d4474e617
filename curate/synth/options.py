"""Every knob of `curate synthesize`, in one typed object the CLI fills and the library reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class Mode(str, Enum):
    defect = "defect"
    ladder = "ladder"
    hint = "hint"
    numeric = "numeric"


class KeepPolicy(str, Enum):
    smallest_learnable = "smallest-learnable"  # per row, only the smallest hint the target passes sometimes (0 < c < k)
    all = "all"  # every hint rung that passes the checks


class MonotonicPolicy(str, Enum):
    drop = "drop"  # a variant whose measured pass rate breaks the ladder order is dropped
    relabel = "relabel"  # every surviving variant gets the level its measured pass rate implies


HARDER_OPS = ("add_constraints", "deepen", "concretize", "increase_reasoning", "complicate_input")
EASIER_OPS = ("simplify", "decompose", "add_hint")


@dataclass
class SynthOptions:
    mode: Mode = Mode.ladder
    # Input columns
    text_field: str = "text"
    answer_field: str = "answer"
    id_field: str = "id"
    task_field: str = "task_type"
    solution_field: str = "solution"  # hint and numeric modes: the worked reference solution
    pass_rate_field: str = "score_pass_rate"
    bucket_field: str = "score_pass_rate_bucket"
    # Seed selection
    seed_buckets: tuple[str, ...] = ("frontier",)  # defect mode: rows in these buckets are seeds...
    seed_max_pass_rate: float = 0.5  # ...or rows whose pass rate is at most this
    max_seeds: int | None = None
    # Defect mode
    per_seed: int = 2  # new problems per seed and round
    rounds: int = 1
    critic_rounds: int = 2  # refine a rejected problem up to this many times
    max_pass_rate: float = 0.5  # keep a new problem only when the target's pass rate is below this
    # Ladder mode
    harder: int = 2  # L harder levels
    easier: int = 1  # E easier levels
    harder_ops: tuple[str, ...] = HARDER_OPS
    easier_ops: tuple[str, ...] = EASIER_OPS
    monotonic: MonotonicPolicy = MonotonicPolicy.drop
    monotonic_margin: float = 0.0  # a harder level must have pass rate <= the level below minus this
    # Hint mode: rungs are fractions of the solution's steps (0 < f <= 1, rounded down) or `n-j` (all but the last j)
    fractions: tuple[str, ...] = ("0.25", "0.5", "n-1", "1")
    keep: KeepPolicy = KeepPolicy.smallest_learnable
    # Numeric mode
    variants: int = 2  # new instances per level
    harder_digits: int = 1  # levels 1..D: every number gets d more digits
    max_draws: int = 1000  # redraws per instance before giving up
    # Verification
    sc_samples: int = 4  # self-consistency: the generator solves its own problem n times...
    sc_min_agree: int = 3  # ...and at least m answers must match the stated one (n = 0: off)
    k: int = 4  # target samples per problem for its pass rate
    json_retries: int = 2  # re-ask (with the parse error) when output is not valid JSON
    structured: bool = True  # request JSON-schema constrained decoding where the engine supports it
    # Generation
    temperature: float = 0.8
    solve_temperature: float = 0.7
    max_tokens: int = 384
    solve_max_tokens: int = 256
    prompts_dir: str | None = None  # override curate/prompts/synth_*.txt
    # Novelty
    near_dup_threshold: float = 0.8  # MinHash Jaccard at or above this is a near-duplicate
    parent_dup_threshold: float = 0.8  # word-shingle Jaccard to the parent at or above this: no new information
    decontaminate: tuple[str, ...] = ()
    ngram: int = 8  # decontamination n-gram size (words)
    # Output
    append: bool = False
    seed: int = 0
    extra: dict[str, object] = field(default_factory=dict)
