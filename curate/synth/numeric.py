"""Numeric mode (GSM-Symbolic style): new numbers in a problem whose solution is a checked arithmetic chain.

Per seed the chain is parsed and checked (`curate.synth.chain`); a seed without one becomes one
dropped candidate with the reason. Level 0 draws `variants` new instances with each variable's
digit count kept; level d ≤ `harder_digits` gives every variable d more integer digits
(percentages keep theirs; 0, 1, the problem's fixed numbers and variables equal to one of them,
like a speed of 60 in a problem about hours, never change). Draws are seeded
per (seed, parent, level, variant) and redrawn until the instance keeps every rule of
`Chain.render` (signs, whole numbers where the original had them, decimals, agreeing sources),
at most `max_draws` times. The variant's solution is the parent's, rewritten with the new numbers
(`<<expr=value>>` annotations and `#### answer` included), and its answer is recomputed exactly.
"""

from __future__ import annotations

import random
from fractions import Fraction

from curate.synth.chain import Chain, ChainError, Var, parse_chain, written_steps
from curate.synth.lineage import Candidate, Seed
from curate.synth.options import SynthOptions

OP = "numeric"


def draw_value(v: Var, level: int, rng: random.Random) -> Fraction:
    """A new value for a variable: the same shape (decimals, trailing zeros), `level` more integer digits."""
    whole = int(v.value)
    digits = len(str(whole)) if whole else 0
    if not v.pct:
        digits += level
    if digits == 0:
        new_whole = 0
    else:
        lo = 2 if digits == 1 else 10 ** (digits - 1)
        new_whole = rng.randint(lo, 10**digits - 1)
    value = Fraction(new_whole)
    sig = v.dp - v.trailing_zeros
    if sig > 0:
        frac = rng.randint(0, 10**sig - 1)
        frac = frac - frac % 10 + rng.randint(1, 9)  # the last significant decimal stays non-zero
        value += Fraction(frac, 10**sig)
    return value if value else Fraction(2)


def instance(chain: Chain, level: int, rng: random.Random, max_draws: int) -> tuple[dict, tuple[str, str, Fraction, list[Fraction]], int] | None:
    original = chain.original_values()
    for n in range(1, max_draws + 1):
        values = {k: v.value if chain.pinned(k) else draw_value(v, level, rng) for k, v in chain.vars.items()}
        if values == original:
            continue
        out = chain.render(values)
        if out is not None:
            return values, out, n
    return None


def _fmt(v: Fraction) -> str:
    return str(v.numerator) if v.denominator == 1 else str(float(v)) if (v * 10**6).denominator == 1 else f"{v.numerator}/{v.denominator}"


def run_numeric(seeds: list[Seed], opts: SynthOptions) -> list[Candidate]:
    out: list[Candidate] = []
    for s in seeds:
        solution = str(s.row.get(opts.solution_field) or "")
        try:
            chain = parse_chain(s.text, solution, s.answer)
        except ChainError as exc:
            c = Candidate(parent_id=s.id, parent_text=s.text, mode="numeric", op=OP, level=None, round=1, task=s.task, source_text=s.text)
            c.drop(exc.reason, exc.detail)
            if exc.reason == "chain_mismatch":
                c.stage = "parsed"  # the chain was found, but does not hold
            out.append(c)
            continue
        for level in range(opts.harder_digits + 1):
            for i in range(opts.variants):
                c = Candidate(
                    parent_id=s.id, parent_text=s.text, mode="numeric", op=OP, level=level, round=1, sample=i, task=s.task, source_text=s.text
                )
                c.stage = "parsed"
                rng = random.Random(f"{opts.seed}:{s.id}:{level}:{i}")
                got = instance(chain, level, rng, opts.max_draws)
                if got is None:
                    c.drop("no_valid_instance", f"no instance with {level} more digits kept the chain's rules in {opts.max_draws} draws")
                    out.append(c)
                    continue
                values, (problem, new_solution, answer, steps), draws = got
                c.problem, c.solution, c.answer = problem, new_solution, _fmt(answer)
                c.notes.update(
                    {
                        "digits_added": level,
                        "numbers": {_fmt(k[0]) + ("%" if k[1] else ""): _fmt(v) for k, v in sorted(values.items())},
                        "chain": written_steps(chain, values, steps),
                        "chain_steps": len(chain.steps),
                        "draws": draws,
                    }
                )
                out.append(c)
    return out
