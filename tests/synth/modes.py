"""Rows and a scripted target for the hint and numeric mode tests."""

from __future__ import annotations

import re
from collections.abc import Callable

from curate.engines.fake import FakeEngine, prompt_text

GSM_ROW = {
    "id": "g1",
    "text": "Ducks lay 16 eggs a day. Ann eats 3 and bakes with 4. She sells the rest for $2 each. How many dollars does she make a day?",
    "answer": "18",
    "solution": "Ann has 16 - 3 = <<16-3=13>>13 eggs after breakfast.\nShe sells 13 - 4 = <<13-4=9>>9 eggs.\n"
    "She makes 9 * 2 = $<<9*2=18>>18.\nThat is $18 every day.\n#### 18",
    "task_type": "math",
}
LINE_ROW = {
    "id": "l1",
    "text": "A train travels at 60 km per hour for 2 hours, then at 100 km per hour for 3 hours. How many kilometres does it travel?",
    "answer": "420",
    "solution": "60 * 2 = 120. 100 * 3 = 300. 120 + 300 = 420\n#### 420",
    "task_type": "math",
}
ALGEBRA_ROW = {
    "id": "a1",
    "text": "Sara is 4 times as old as her cousin. In 7 years the sum of their ages will be 44. How old is the cousin now?",
    "answer": "6",
    "solution": "Let the cousin be c; then Sara is 4c. (4c + 7) + (c + 7) = 44, so 5c = 30 and c = 6\n#### 6",
    "task_type": "math",
}
NO_SOLUTION_ROW = {"id": "n1", "text": "What is 3 + 4?", "answer": "7", "solution": None, "task_type": "math"}


def _answer(question: str) -> str:
    """The right answer to a question the tests ask: the parent's answer, or recomputed for a numeric variant."""
    nums = [int(n) for n in re.findall(r"\d+", question.split("Hint:")[0])]
    if question.startswith("Ducks lay"):
        return str((nums[0] - nums[1] - nums[2]) * nums[3])
    if question.startswith("A train"):
        return str(nums[0] * nums[1] + nums[2] * nums[3])
    return "6"


def target(passes: Callable[[str, int], int], model: str = "fake-target") -> FakeEngine:
    """A target that answers sample i right when i < passes(question, hint steps given)."""

    def respond(prompt, params, i):
        q = prompt_text(prompt).rsplit("Question:", 1)[-1].split("\nAnswer:", 1)[0].strip()
        hint = q.split("Hint:", 1)[1] if "Hint:" in q else ""
        steps = hint.count("=") + hint.count("every day")
        return f"#### {_answer(q) if i < passes(q, steps) else '99999'}"

    return FakeEngine(model=model, responder=respond)
