"""An independent checker for the tests: exact arithmetic over Python's own `ast`, separate from curate's evaluator."""

from __future__ import annotations

import ast
import re
from fractions import Fraction

NUM = re.compile(r"\d[\d,]*(?:\.\d+)?|\.\d+")


def value(text: str) -> Fraction:
    return Fraction(text.replace(",", "").replace("$", "").strip())


def calc(expr: str) -> Fraction:
    """`48/2*(3+1)` → Fraction; only numbers, + - * / and parentheses."""

    def ev(n: ast.AST) -> Fraction:
        if isinstance(n, ast.Expression):
            return ev(n.body)
        if isinstance(n, ast.Constant) and isinstance(n.value, (int, float)):
            return Fraction(str(n.value))
        if isinstance(n, ast.BinOp):
            a, b = ev(n.left), ev(n.right)
            ops = {ast.Add: a + b, ast.Sub: a - b, ast.Mult: a * b}
            if isinstance(n.op, ast.Div):
                return a / b
            return ops[type(n.op)]
        if isinstance(n, ast.UnaryOp) and isinstance(n.op, ast.USub):
            return -ev(n.operand)
        raise ValueError(f"not arithmetic: {ast.dump(n)}")

    return ev(ast.parse(expr.replace("x", "*").replace("×", "*").replace("$", ""), mode="eval"))


def annotations_hold(solution: str) -> list[tuple[str, Fraction, Fraction]]:
    """Every `<<expr=value>>` annotation: (expr, computed, written)."""
    return [(e, calc(e), value(v)) for e, v in re.findall(r"<<([^=<>]+)=([^<>]+)>>", solution)]


def plain_steps_hold(solution: str) -> list[tuple[str, Fraction, Fraction]]:
    """Every plain `a op b = c` step (no annotations)."""
    rx = re.compile(r"((?:\d[\d,]*(?:\.\d+)?)(?:\s*[-+*/x]\s*\d[\d,]*(?:\.\d+)?)+)\s*=\s*(\d[\d,]*(?:\.\d+)?)")
    return [(e, calc(e.replace(",", "")), value(v)) for e, v in rx.findall(solution)]


def final(solution: str) -> Fraction:
    return value(solution.split("####")[1].strip().split()[0])


def masked(text: str) -> str:
    """The text with every number replaced by #: what must stay the same when only numbers change."""
    return NUM.sub("#", text)
