"""Candidates, stable ids and the lineage columns every synthesized row carries."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import orjson

LINEAGE_COLUMNS = (
    ("parent_id", "string"),
    ("synth_mode", "string"),
    ("synth_op", "string"),
    ("synth_level", "int64"),
    ("synth_round", "int64"),
    ("generator_model", "string"),
    ("verification", "string"),  # JSON: critic verdicts, answer agreement, target pass rate
    ("synth_target_pass_rate", "float64"),
    ("synth_hint", "string"),  # hint mode: the solution prefix given with the problem
)


def stable_id(parent_id: str, op: str, text: str) -> str:
    """`s` + 16 hex digits of blake2b(parent id, operation, text): the same candidate, the same id."""
    h = hashlib.blake2b(digest_size=8)
    for part in (parent_id, op, text):
        h.update(part.encode("utf-8", "replace"))
        h.update(b"\x00")
    return "s" + h.hexdigest()


@dataclass
class Seed:
    id: str
    text: str
    answer: str
    task: str
    pass_rate: float | None = None
    row: dict[str, Any] = field(default_factory=dict)
    samples: int | None = None  # how many samples pass_rate came from (None: unknown)


@dataclass
class Candidate:
    """One attempted new problem, from request to keep/drop."""

    parent_id: str
    parent_text: str
    mode: str
    op: str
    level: int | None
    round: int
    sample: int = 0
    source_text: str = ""  # the text this candidate was rewritten from (parent or previous ladder level)  # index among samples of the same request
    task: str = "math"
    problem: str = ""
    solution: str = ""
    answer: str = ""
    raw: str = ""
    hint: str | None = None
    critic: list[dict[str, Any]] = field(default_factory=list)
    agree: int | None = None
    sc_samples: int = 0
    target_pass_rate: float | None = None
    target_k: int = 0
    notes: dict[str, Any] = field(default_factory=dict)
    stage: str = "attempted"  # furthest funnel stage reached
    reason: str | None = None  # why it was dropped (None while alive / when kept)
    detail: str = ""

    @property
    def id(self) -> str:
        return stable_id(self.parent_id, self.op, self.problem)

    @property
    def alive(self) -> bool:
        return self.reason is None

    def drop(self, reason: str, detail: str = "") -> None:
        self.reason = reason
        self.detail = detail

    def verification(self) -> str:
        rec: dict[str, Any] = {
            "critic": self.critic,
            "critic_verdict": self.critic[-1]["verdict"] if self.critic else None,
            "answer_agreement": None if not self.sc_samples else f"{self.agree}/{self.sc_samples}",
            "target_pass_rate": self.target_pass_rate,
            "target_k": self.target_k,
        }
        rec.update(self.notes)
        return orjson.dumps(rec, option=orjson.OPT_SORT_KEYS).decode()

    def row(self, opts: Any, generator_model: str | None) -> dict[str, Any]:
        return {
            opts.id_field: self.id,
            opts.text_field: self.problem,
            opts.answer_field: self.answer,
            "solution": self.solution,
            opts.task_field: self.task,
            "parent_id": self.parent_id,
            "synth_mode": self.mode,
            "synth_op": self.op,
            "synth_level": self.level,
            "synth_round": self.round,
            "generator_model": generator_model,
            "verification": self.verification(),
            "synth_target_pass_rate": self.target_pass_rate,
            "synth_hint": self.hint,
        }

    def reject_record(self, opts: Any, generator_model: str | None) -> dict[str, Any]:
        rec = self.row(opts, generator_model)
        rec["raw_output"] = self.raw[:2000] if not self.problem else None
        rec["reject_stage"] = self.stage
        return rec
