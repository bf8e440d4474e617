"""Arithmetic chains in worked solutions: find them, check them, and re-evaluate them with new numbers.

A chain is a list of steps `expression = value`: GSM8K's calculator annotations
(`16 - 3 - 4 = <<16-3-4=9>>9`) when the solution has any, else plain `60 * 2 = 120` spans
(operators `+ - * / x × ÷`, parentheses, `$` and `%` allowed). Every number the solution writes
must be explained by a source:

- a number of the problem written in digits (a *variable*; equal numbers are one variable, a
  percentage `20%` also explains `0.2`),
- a fixed number the problem names: 0 and 1, number words (`three`), parts of fractions, times
  and ordinals (`1/2`, `3:30`, `5th`), and the unit constants of the words it uses (`dozen` 12,
  `week` 7, `hour` 60, `percent` 100, `half` 2, ... see `CUES`),
- the value of a step (in an expression: an earlier step).

A number with several possible sources is accepted only in instances where all of them take the
same value, so whichever was meant, the rewritten text is right. Rows are refused (`ChainError`
with a reason) when the solution has no chain, a step does not hold exactly, no step computes
the stated answer, a number is unexplained or a variable of the problem is not used by the chain
(it may have been used in unwritten mental arithmetic). Arithmetic is exact (`fractions`), and
expressions are evaluated by simpleeval over `+ - * /` and names only, never by `eval`.
"""

from __future__ import annotations

import ast
import operator
import re
from collections import Counter
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

_NUM = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|\.\d+"
NUMBER = re.compile(rf"(?<![\w.,])(?:{_NUM})(?![\w]|,\d{{3}}|\.\d)")
_DIGITS = re.compile(r"\d+")
_ANNOTATION = re.compile(r"<<([^<>]*)>>")
_OP = r"(?:[-+*/×÷−]|(?<=\s)x(?=\s))"
_OPERAND = rf"\(*\s*\$?\s*(?:{_NUM})%?\s*\)*"
_PLAIN_STEP = re.compile(rf"(?<![\w.,])(?P<expr>{_OPERAND}(?:\s*{_OP}\s*{_OPERAND})+)\s*=\s*\$?\s*(?P<res>{_NUM})(?![\w]|\.\d)")
_FINAL = re.compile(r"####\s*\$?\s*(" + _NUM + r")")

_WORDS = {
    w: i
    for i, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen".split()
    )
}
_TENS = {w: 10 * (i + 2) for i, w in enumerate("twenty thirty forty fifty sixty seventy eighty ninety".split())}
_ORDINALS = {w: i + 2 for i, w in enumerate("second third fourth fifth sixth seventh eighth ninth tenth".split())}
# Words that name a constant a solution may use without the problem writing it as a number.
CUES: dict[str, tuple[Fraction, ...]] = {
    r"half|halves|halved|halfway": (Fraction(2), Fraction(1, 2), Fraction(1)),
    r"twice|double[ds]?|doubling": (Fraction(2),),
    r"triple[ds]?|thrice|tripling": (Fraction(3),),
    r"quadruple[ds]?": (Fraction(4),),
    r"quarters?": (Fraction(4), Fraction(1, 4), Fraction(1)),
    r"thirds?": (Fraction(1),),
    r"dozens?": (Fraction(12),),
    r"percent|percentage|%": (Fraction(100), Fraction(1, 100), Fraction(1)),
    r"weeks?|weekly": (Fraction(7),),
    r"days?|daily": (Fraction(24),),
    r"hours?|hourly|minutes?|seconds?": (Fraction(60),),
    r"months?|monthly": (Fraction(12),),
    r"years?|yearly|annual|annually": (Fraction(12), Fraction(52), Fraction(365)),
    r"pairs?|couples?|both|twins?": (Fraction(2),),
    r"triplets?": (Fraction(3),),
    r"decades?": (Fraction(10),),
    r"centur(?:y|ies)|cents?": (Fraction(100),),
    r"feet|foot|inch(?:es)?": (Fraction(12),),
    r"yards?": (Fraction(3),),
    r"thousands?|kilo\w*": (Fraction(1000),),
    r"hundreds?": (Fraction(100),),
}
_CUE_RES = [
    (re.compile(rf"(?<![a-z])(?:{k})(?![a-z])" if k != r"percent|percentage|%" else r"%|(?<![a-z])percent", re.I), v) for k, v in CUES.items()
]

_SQUARE = re.compile(r"(?<![a-z])(?:squared?|squares|cubed?|cubic)(?![a-z])", re.I)

_OPS = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
}


class ChainError(ValueError):
    """A solution curate cannot turn into a checked chain: `reason` is the reject reason."""

    def __init__(self, reason: str, detail: str):
        super().__init__(f"{reason}: {detail}")
        self.reason, self.detail = reason, detail


@dataclass(frozen=True)
class Num:
    """A number as written: its span, value and the style to write a new value in."""

    start: int
    end: int
    text: str
    value: Fraction
    pct: bool = False  # followed by % (or "percent")

    @property
    def dp(self) -> int:
        return len(self.text.split(".", 1)[1]) if "." in self.text else 0

    def format(self, value: Fraction, max_dp: int | None = None) -> str | None:
        """`value` written like this number (commas, decimals, a leading dot); None when it cannot be."""
        dp = 0
        while (value * 10**dp).denominator != 1:
            dp += 1
            if dp > (max_dp if max_dp is not None else max(self.dp, 2)):
                return None
        if self.dp == 0 and dp > 0 and max_dp is None:
            return None  # the original was a whole number
        if self.dp >= 2 and self.text.endswith("0"):
            dp = max(dp, self.dp)  # money style: 3.50 stays 3.x0
        neg, v = value < 0, abs(value)
        whole = int(v)
        frac = v - whole
        body = f"{whole:,}" if "," in self.text else str(whole)
        if dp:
            digits = str(int(frac * 10**dp)).rjust(dp, "0")
            body = ("" if whole == 0 and self.text.startswith(".") else body) + "." + digits
        return ("-" if neg else "") + body


def parse_number(text: str) -> Fraction:
    return Fraction(text.replace(",", ""))


def numbers(text: str) -> list[Num]:
    out = []
    for m in NUMBER.finditer(text):
        tail = text[m.end() : m.end() + 9].lower()
        pct = tail.startswith("%") or tail.lstrip().startswith("percent")
        out.append(Num(m.start(), m.end(), m.group(0), parse_number(m.group(0)), pct))
    return out


def _attached(text: str, nums: list[Num]) -> list[re.Match[str]]:
    """Digit runs that are not numbers on their own (`5th`, `mp3`, `2x`)."""
    covered = {i for n in nums for i in range(n.start, n.end)}
    return [m for m in _DIGITS.finditer(text) if m.start() not in covered]


@dataclass(frozen=True)
class Source:
    kind: str  # "var" | "fixed" | "step"
    ref: Any  # by kind: the variable key (value, pct), the fixed value, or the step index
    scale: Fraction = Fraction(1)


@dataclass
class Var:
    key: tuple[Fraction, bool]
    value: Fraction
    pct: bool
    dp: int
    trailing_zeros: int
    used: bool = False


@dataclass
class Token:
    num: Num
    sources: list[Source]
    in_step: int | None = None  # a literal of this step's expression
    bound_step: int | None = None  # the written result of this step


@dataclass
class Step:
    text: str  # as written, for messages
    literals: list[int]  # token indexes, in name order
    value: Fraction  # the stated result
    template: str = ""  # the expression with its literals as names n0, n1, ...
    tree: object = None


@dataclass
class Chain:
    problem: str
    solution: str
    answer: Fraction
    vars: dict[tuple[Fraction, bool], Var]
    problem_nums: list[tuple[Num, tuple[Fraction, bool] | None]]  # None: a fixed number, kept as written
    tokens: list[Token]
    steps: list[Step]
    answer_step: int
    fixed: set[Fraction] = field(default_factory=set)

    def evaluate(self, values: dict[tuple[Fraction, bool], Fraction]) -> list[Fraction] | None:
        """Every step's value with the variables set to `values` (None on division by zero)."""
        out: list[Fraction] = []
        ev = _evaluator({})
        for st in self.steps:
            ev.names = {f"n{i}": self.literal_value(self.tokens[t], values, out) for i, t in enumerate(st.literals)}
            try:
                out.append(Fraction(ev.eval(st.template, previously_parsed=st.tree)))
            except ZeroDivisionError:
                return None
        return out

    def literal_value(self, tok: Token, values: dict, steps: list[Fraction]) -> Fraction:
        v = self.source_value(tok.sources[0], values, steps)
        return v / 100 if tok.num.pct and tok.in_step is not None else v

    def source_value(self, s: Source, values: dict, steps: list[Fraction]) -> Fraction:
        if s.kind == "var":
            return values[s.ref] * s.scale
        if s.kind == "step":
            return steps[s.ref] * s.scale
        return s.ref

    def render(self, values: dict[tuple[Fraction, bool], Fraction]) -> tuple[str, str, Fraction, list[Fraction]] | None:
        """(problem, solution, answer, step values) with the variables set to `values`; None when an
        instance breaks a rule: division by zero, a sign change, a non-integer where the original
        had an integer, too many decimals, or two sources of one number that now differ."""
        steps = self.evaluate(values)
        if steps is None:
            return None
        for new, st in zip(steps, self.steps):
            if (new > 0) != (st.value > 0) or (new == 0) != (st.value == 0):
                return None
            if st.value.denominator == 1 and new.denominator != 1:
                return None
        repl: list[tuple[int, int, str]] = []
        for tok in self.tokens:
            vals = {self.source_value(s, values, steps) for s in tok.sources}
            if len(vals) != 1:
                return None
            (v,) = vals
            scaled = any(s.scale != 1 for s in tok.sources)
            text = tok.num.format(v, tok.num.dp + 2 if scaled else None)
            if text is None:
                return None
            repl.append((tok.num.start, tok.num.end, text))
        solution = _splice(self.solution, repl)
        prepl = []
        for num, key in self.problem_nums:
            if key is not None:
                text = num.format(values[key])
                if text is None:
                    return None
                prepl.append((num.start, num.end, text))
        return _splice(self.problem, prepl), solution, steps[self.answer_step], steps

    def pinned(self, key: tuple[Fraction, bool]) -> bool:
        """A variable equal to a constant the problem names (60 with hours) keeps its value: either may be meant."""
        return self.vars[key].value in self.fixed

    def original_values(self) -> dict[tuple[Fraction, bool], Fraction]:
        return {k: v.value for k, v in self.vars.items()}


def _splice(text: str, repl: list[tuple[int, int, str]]) -> str:
    out, pos = [], 0
    for s, e, t in sorted(repl):
        out.append(text[pos:s])
        out.append(t)
        pos = e
    out.append(text[pos:])
    return "".join(out)


def _evaluator(names: dict[str, Fraction]):
    from simpleeval import SimpleEval

    return SimpleEval(operators=_OPS, functions={}, names=names)


def _parse_tree(template: str):
    from simpleeval import SimpleEval

    return SimpleEval(operators=_OPS, functions={}, names={}).parse(template)


def _word_value(word: str) -> Fraction | None:
    parts = word.split("-")
    if len(parts) == 2 and parts[0] in _TENS and parts[1] in _WORDS:
        return Fraction(_TENS[parts[0]] + _WORDS[parts[1]])
    v = _WORDS.get(word, _TENS.get(word))
    return None if v is None else Fraction(v)


def _problem_sources(problem: str) -> tuple[dict[tuple[Fraction, bool], Var], list[tuple[Num, tuple[Fraction, bool] | None]], set[Fraction]]:
    nums = numbers(problem)
    fixed: set[Fraction] = set()
    for m in _attached(problem, nums):
        fixed.add(Fraction(int(m.group(0))))
    for w in re.findall(r"[a-z]+(?:-[a-z]+)?", problem.lower()):
        for part in dict.fromkeys((w, *w.split("-"))):
            v = _word_value(part) if part not in _ORDINALS else Fraction(_ORDINALS[part])
            if v is not None:
                fixed.add(v)
    for rx, vals in _CUE_RES:
        if rx.search(problem):
            fixed.update(vals)
    vars_: dict[tuple[Fraction, bool], Var] = {}
    out: list[tuple[Num, tuple[Fraction, bool] | None]] = []
    for n in nums:
        before, after = problem[max(0, n.start - 1) : n.start], problem[n.end : n.end + 2]
        compound = before in ("/", ":") or re.match(r"[/:]\d", after) is not None
        if compound or n.value in (0, 1):
            fixed.add(n.value)
            out.append((n, None))
            continue
        key = (n.value, n.pct)
        zeros = len(n.text) - len(n.text.rstrip("0")) if "." in n.text else 0
        var = vars_.setdefault(key, Var(key, n.value, n.pct, n.dp, zeros))
        var.dp, var.trailing_zeros = max(var.dp, n.dp), max(var.trailing_zeros, zeros)
        out.append((n, key))
    return vars_, out, fixed


def _candidates(value: Fraction, vars_: dict, fixed: set[Fraction], step_values: list[Fraction]) -> list[Source]:
    out = [Source("var", k) for k, v in vars_.items() if v.value == value]
    out += [Source("var", k, Fraction(1, 100)) for k, v in vars_.items() if v.pct and v.value / 100 == value]
    out += [Source("step", j) for j, sv in enumerate(step_values) if sv == value]
    if value in fixed:
        out.append(Source("fixed", value))
    return out


def parse_chain(problem: str, solution: str, answer: str) -> Chain:
    """The checked chain of a problem's worked solution, or `ChainError` saying why there is none."""
    target = _answer_value(answer)
    vars_, pnums, fixed = _problem_sources(problem)
    sol_nums = numbers(solution)
    _refuse_glued_digits(problem, solution, sol_nums)
    steps, spans, results = _find_steps(solution, sol_nums)
    tokens = _Tokens()
    step_values: list[Fraction] = []
    for i, (st, (s, e)) in enumerate(zip(steps, spans)):
        _compile_step(st, i, solution, s, e, sol_nums, tokens, vars_, fixed, step_values)
        step_values.append(st.value)
    answer_steps = [i for i, st in enumerate(steps) if st.value == target]
    if not answer_steps:
        raise ChainError("chain_mismatch", f"no step computes the stated answer {answer.strip()}")
    answer_step = answer_steps[-1]
    final = _FINAL.search(solution)
    if final is not None:
        fnum = next((n for n in sol_nums if n.start == final.start(1)), None)
        if fnum is None or fnum.value != target:
            raise ChainError("chain_mismatch", f"the solution's final answer {final.group(1)} is not the stated answer {answer.strip()}")
        results.append((fnum, answer_step))
    for n, i in results:  # written results: bound to their step
        tok = tokens.get(n)
        tok.bound_step, tok.sources = i, [Source("step", i)]
    for n in sol_nums:  # every other number the solution writes
        if n.start not in tokens.at:
            tokens.get(n).sources = _candidates(n.value, vars_, fixed, step_values)
            if not tokens.get(n).sources:
                raise ChainError("unexplained_number", f"{n.text} in the solution is neither a number of the problem nor a step's result")
    _check_uses(problem, solution, steps, tokens.list, vars_, pnums, fixed)
    chain = Chain(problem, solution, target, vars_, pnums, tokens.list, steps, answer_step, fixed)
    again = chain.render(chain.original_values())
    if again is None or again[0] != problem or again[1] != solution:
        raise ChainError("no_chain", "the solution's numbers cannot be rewritten in their own format")
    return chain


class _Tokens:
    def __init__(self) -> None:
        self.list: list[Token] = []
        self.at: dict[int, int] = {}

    def get(self, n: Num) -> Token:
        if n.start not in self.at:
            self.at[n.start] = len(self.list)
            self.list.append(Token(n, []))
        return self.list[self.at[n.start]]


def _answer_value(answer: str) -> Fraction:
    text = answer.strip().lstrip("$").strip()
    found = numbers(text)
    if len(found) != 1 or text.rstrip(".%").replace(",", "") != found[0].text.replace(",", ""):
        raise ChainError("no_chain", f"the answer {answer!r} is not a plain number")
    return found[0].value


def _refuse_glued_digits(problem: str, solution: str, sol_nums: list[Num]) -> None:
    """Digits glued to letters (`4c`, `2x`) cannot be rewritten, unless the problem writes the same word (`5th`)."""
    for m in _attached(solution, sol_nums):
        word = re.search(r"\w*" + re.escape(m.group(0)) + r"\w*", solution[max(0, m.start() - 20) : m.end() + 20])
        text = word.group(0) if word else m.group(0)
        if not re.search(rf"(?<!\w){re.escape(text)}(?!\w)", problem):
            raise ChainError("unexplained_number", f"'{text}' in the solution is not a number curate can rewrite")


def _find_steps(solution: str, sol_nums: list[Num]) -> tuple[list[Step], list[tuple[int, int]], list[tuple[Num, int]]]:
    """The steps (stated values), their expression spans, and the numbers that write each step's result."""
    by_start = {n.start: n for n in sol_nums}
    steps: list[Step] = []
    spans: list[tuple[int, int]] = []
    results: list[tuple[Num, int]] = []
    annotations = list(_ANNOTATION.finditer(solution))
    if annotations:
        for a in annotations:
            body = a.group(1)
            if body.count("=") != 1:
                raise ChainError("no_chain", f"annotation <<{body}>> is not expression=value")
            expr, res = body.split("=")
            rnums = [n for n in sol_nums if a.start(1) + len(expr) < n.start < a.end(1)]
            if len(rnums) != 1 or res.strip() != rnums[0].text:
                raise ChainError("no_chain", f"annotation <<{body}>> has no plain numeric result")
            steps.append(Step(body, [], rnums[0].value))
            spans.append((a.start(1), a.start(1) + len(expr)))
            results.append((rnums[0], len(steps) - 1))
            if a.end() in by_start:  # `<<9*2=18>>18`: the text repeats the result
                results.append((by_start[a.end()], len(steps) - 1))
    else:
        final = _FINAL.search(solution)
        for m in _PLAIN_STEP.finditer(solution[: final.start() if final else len(solution)]):
            res = by_start.get(m.start("res"))
            if res is None:
                raise ChainError("no_chain", f"step '{m.group(0)}' has no plain numeric result")
            steps.append(Step(m.group(0).strip(), [], res.value))
            spans.append((m.start("expr"), m.end("expr")))
            results.append((res, len(steps) - 1))
    if not steps:
        raise ChainError("no_chain", "the solution has no arithmetic steps (`a * b = c` or <<a*b=c>>)")
    return steps, spans, results


def _compile_step(
    st: Step,
    i: int,
    solution: str,
    s: int,
    e: int,
    sol_nums: list[Num],
    tokens: _Tokens,
    vars_: dict,
    fixed: set[Fraction],
    step_values: list[Fraction],
) -> None:
    """Give step i its template (literals as names), find each literal's sources, and check the step holds exactly."""
    parts, pos = [], s
    for n in sol_nums:
        if s <= n.start < e:
            tok = tokens.get(n)
            tok.in_step = i
            parts += [solution[pos : n.start], f"n{len(st.literals)}"]
            st.literals.append(tokens.at[n.start])
            pos = n.end
    parts.append(solution[pos:e])
    template = re.sub(r"(?<=[\w)])\s*%", "", "".join(parts).replace("$", "")).replace("×", "*").replace("÷", "/").replace("−", "-")
    template = re.sub(r"(?<=\s)x(?=\s)", "*", template)
    if re.search(r"[^n\d\s+\-*/().]", template) or not st.literals:
        raise ChainError("no_chain", f"step '{st.text}' is not plain arithmetic")
    st.template = template
    try:
        st.tree = _parse_tree(template)
    except Exception as exc:  # simpleeval raises its own errors and SyntaxError for malformed text: all mean "not arithmetic"
        raise ChainError("no_chain", f"step '{st.text}' does not parse ({type(exc).__name__})") from exc
    for t in st.literals:
        tok = tokens.list[t]
        tok.sources = _candidates(tok.num.value, vars_, fixed, step_values)
        if not tok.sources:
            raise ChainError("unexplained_number", f"{tok.num.text} in step '{st.text}' is neither a number of the problem nor an earlier result")
    names = {f"n{j}": tokens.list[t].num.value / (100 if tokens.list[t].num.pct else 1) for j, t in enumerate(st.literals)}
    try:
        got = Fraction(_evaluator(names).eval(template, previously_parsed=st.tree))
    except ZeroDivisionError as exc:
        raise ChainError("chain_mismatch", f"step '{st.text}' divides by zero") from exc
    if got != st.value:
        raise ChainError("chain_mismatch", f"step '{st.text}' does not hold: it is {_show(got)}")


def _check_uses(problem: str, solution: str, steps: list[Step], tokens: list[Token], vars_: dict, pnums: list, fixed: set[Fraction]) -> None:
    """Refuse chains that may lean on numbers they do not write (see the module docstring)."""
    for tok in tokens:  # a variable is used where a literal can only be it (equal to something else, it may be that)
        if tok.in_step is not None and len(tok.sources) == 1 and tok.sources[0].kind == "var":
            vars_[tok.sources[0].ref].used = True
    for st in steps:
        # One written number used twice in a step (`3 x 3` for "her mom and her sister 3 boxes each"): one may be unwritten.
        # Literals with several possible sources are held to agreeing values instead (see `Chain.render`).
        uses = Counter(tokens[t].sources[0].ref for t in st.literals if len(tokens[t].sources) == 1 and tokens[t].sources[0].kind == "var")
        for key, n in uses.items():
            written = sum(1 for _, k in pnums if k == key)
            if n > written and not _SQUARE.search(problem):
                raise ChainError(
                    "unexplained_number",
                    f"step '{st.text}' uses {_show(key[0])} {n} times but the problem writes it {written} "
                    "time(s): one of them may stand for an unwritten number",
                )
    for w in re.finditer(r"[A-Za-z]+(?:-[A-Za-z]+)?", solution):
        val = _word_value(w.group(0).lower())
        if val is not None and any(v.value == val for v in vars_.values()):
            raise ChainError("unexplained_number", f"the solution writes '{w.group(0)}' in words, and {_show(val)} changes")
    unused = [v for v in vars_.values() if not v.used and v.value not in fixed]  # pinned variables never change
    if unused:
        raise ChainError(
            "unused_number", f"the chain does not use {', '.join(_show(v.value) + ('%' if v.pct else '') for v in unused)} from the problem"
        )
    if not vars_:
        raise ChainError("no_chain", "the problem has no number written in digits to vary")
    if all(v.value in fixed for v in vars_.values()):
        raise ChainError("no_chain", "every number of the problem is also a constant it names (60 minutes, 12 a dozen, ...): nothing to vary")


def _show(v: Fraction) -> str:
    return str(v.numerator) if v.denominator == 1 else f"{float(v):g}"


def written_steps(chain: Chain, values: dict, steps: list[Fraction]) -> list[str]:
    """Each step with its numbers filled in, e.g. `48/2 = 24`, for the verification record."""
    out = []
    for st, v in zip(chain.steps, steps):
        lits = [chain.literal_value(chain.tokens[t], values, steps) for t in st.literals]
        out.append(_fill(st.template, lits).strip() + f" = {_show(v)}")
    return out


def _fill(template: str, lits: list[Fraction]) -> str:
    """A step's template (`n0 / n1`) with its literals written in."""
    return re.sub(r"n(\d+)", lambda m: _show(lits[int(m.group(1))]), template)
