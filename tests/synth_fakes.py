"""A scripted fake LLM for synthesis tests: reads what it was asked and answers by the script.

Generated problems carry control tokens the fake later obeys: `ansN` (the answer), `agreeN`
(how many of the generator's self-consistency solutions match) and `passN` (how many target
samples pass). Every problem gets pseudo-random filler words so distinct problems are not
near-duplicates of each other.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from curate.engines.fake import FakeEngine, prompt_text


def words(key: str, n: int = 10) -> str:
    h = hashlib.sha256(key.encode()).hexdigest()
    return " ".join("w" + h[i * 5 : i * 5 + 5] for i in range(n))


def kind_of(text: str) -> str:
    if "could not be used" in text:
        return "repair"
    if "a student got wrong" in text:
        return "defect"
    if text.startswith("Rewrite this problem"):
        return "ladder"
    if "was judged wrong" in text:
        return "refine"
    if text.startswith("Check this problem"):
        return "critic"
    if text.startswith("Solve this problem step by step"):
        return "solve"
    return "target"


def source_problem(text: str) -> str:
    k = kind_of(text)
    if k == "ladder":
        return text.split("Problem:", 1)[1].split("Then solve", 1)[0].strip()
    if k == "defect":
        return text.split("got wrong:", 1)[1].split("Write ONE", 1)[0].strip()
    if k in ("refine", "critic"):
        return text.split("Problem:", 1)[1].split("\n", 1)[0].strip()
    if k == "solve":
        return text.split("\n", 1)[1].strip()
    return text


def level_of(text: str) -> int:
    m = re.search(r"\blvl(-?\d+)", text)
    return int(m.group(1)) if m else 0


def problem_json(problem: str, answer: str = "7") -> str:
    return json.dumps({"problem": problem, "solution": "Work it out step by step.", "answer": answer})


@dataclass
class Script:
    """Behaviour knobs; each hook returns text or None (then the default answer is used)."""

    generate: Callable[[str, str, int], str | None] | None = None  # (kind, prompt text, sample) for defect/ladder/refine/repair
    critic: Callable[[str, int], str | None] | None = None  # (prompt text, how many times this problem was judged)
    agree: int | None = None  # override every problem's agreeN
    target_pass: int | None = None  # override every problem's passN
    judged: dict[str, int] = field(default_factory=dict)
    seen: list[tuple[str, str]] = field(default_factory=list)

    def __call__(self, prompt: Any, params: Any, i: int) -> str:
        text = prompt_text(prompt)
        kind = kind_of(text)
        self.seen.append((kind, text))
        if kind in ("defect", "ladder", "refine", "repair"):
            out = self.generate(kind, text, i) if self.generate else None
            return out if out is not None else self.default_problem(kind, text, i)
        if kind == "critic":
            src = source_problem(text)
            n = self.judged.get(src, 0)
            self.judged[src] = n + 1
            out = self.critic(text, n) if self.critic else None
            return out if out is not None else json.dumps({"verdict": "accept", "reason": "clear and correct"})
        # Self-consistency uses the synth solve prompt; the target is asked through the pass-rate prompt.
        src = source_problem(text) if kind == "solve" else text.rsplit("Question:", 1)[-1]
        ans = re.search(r"\bans(\d+)", src)
        answer = ans.group(1) if ans else "0"
        if kind == "solve":
            agree = self.agree if self.agree is not None else int((re.search(r"\bagree(\d)", src) or [0, 4])[1])
            return f"Step by step.\n#### {answer if i < agree else '99999'}"
        passes = self.target_pass if self.target_pass is not None else int((re.search(r"\bpass(\d)", src) or [0, 0])[1])
        return f"So the answer is:\n#### {answer if i < passes else '88888'}"

    def default_problem(self, kind: str, text: str, i: int) -> str:
        src = source_problem(text) if kind != "repair" else source_problem(text.split("\n\nYour last reply", 1)[0])
        lvl = level_of(src)
        if kind == "ladder":
            lvl = lvl + (1 if "harder" in text else -1)
        # Harder levels pass less often: parent ~2/4, level 1 → 1/4, level 2 → 0/4; easier → 3/4, 4/4.
        passes = max(0, min(4, 2 - lvl))
        body = words(f"{kind}|{src}|{i}")
        return problem_json(f"A new {kind} problem lvl{lvl} ans{40 + i} agree4 pass{passes}: {body}. What is the value?", str(40 + i))


def fake_engine(script: Script | None = None, model: str = "fake-gen") -> FakeEngine:
    return FakeEngine(model=model, responder=script or Script())


SEED_ROWS = [
    {
        "id": "p1",
        "text": "Tom has 3 apples and buys 4 more. How many apples does he have?",
        "answer": "7",
        "score_pass_rate": 0.5,
        "score_pass_rate_bucket": "learnable",
    },
    {
        "id": "p2",
        "text": "A train goes 60 km each hour for 2 hours. How far does it travel in total?",
        "answer": "#### 120",
        "score_pass_rate": 0.0,
        "score_pass_rate_bucket": "frontier",
    },
]
