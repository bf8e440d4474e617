"""Generate the sample datasets in this folder: math, code, multiple choice and prose, as JSONL.

Run from the repository root:  python sample_data/make_sample_data.py
The output is deterministic (seeded): re-running reproduces every file byte for byte.
Every arithmetic answer is computed, every code solution is run against its tests, and every
multiple-choice answer is checked to be among its choices before anything is written.

Every row has the same fields, in this order, null where they do not apply (so a folder of
these files reads as one consistent table):
  id, text, task_type (math | code | mc | text), answer (string; null for prose),
  solution (math: worked steps ending in `#### <answer>`), choices (mc), entry_point and
  test_list (code: the function name and its assert statements), source,
  level (1 = easiest .. 5 = hardest, the author's rough guess).
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path

SEED = 20240611
HERE = Path(__file__).resolve().parent
SOURCE = "curate-sample"


# --------------------------------------------------------------------------- math


def _arith(rng: random.Random, level: int) -> tuple[str, int, str]:
    """One arithmetic fact at `level` (1-3): (question, answer, worked solution)."""
    if level == 1:
        op = rng.choice(["+", "+", "-"])
        a, b = rng.randint(0, 9), rng.randint(0, 9)
        if op == "-" and b > a:
            a, b = b, a
        ans = a + b if op == "+" else a - b
        word = {"+": "plus", "-": "minus"}[op]
        q = rng.choice([f"What is {a} + {b}?" if op == "+" else f"What is {a} - {b}?", f"What is {a} {word} {b}?"])
        return q, ans, f"{a} {op} {b} = {ans}"
    if level == 2:
        kind = rng.choice(["add", "sub", "mul"])
        if kind == "add":
            a, b = rng.randint(10, 99), rng.randint(10, 99)
            return f"What is {a} + {b}?", a + b, f"{a} + {b} = {a + b}"
        if kind == "sub":
            a, b = sorted((rng.randint(10, 99), rng.randint(10, 99)), reverse=True)
            return f"What is {a} - {b}?", a - b, f"{a} - {b} = {a - b}"
        a, b = rng.randint(2, 9), rng.randint(2, 9)
        return rng.choice([f"What is {a} * {b}?", f"What is {a} times {b}?"]), a * b, f"{a} * {b} = {a * b}"
    kind = rng.choice(["mul", "div", "order", "square", "three"])
    if kind == "mul":
        a, b = rng.randint(12, 99), rng.randint(11, 49)
        return f"What is {a} * {b}?", a * b, f"{a} * {b} = {a * b}"
    if kind == "div":
        b, c = rng.randint(3, 19), rng.randint(4, 25)
        a = b * c
        return f"What is {a} divided by {b}?", c, f"{a} / {b} = {c}"
    if kind == "order":
        a, b, c = rng.randint(2, 20), rng.randint(2, 9), rng.randint(2, 9)
        return f"What is {a} + {b} * {c}?", a + b * c, f"Multiply first: {b} * {c} = {b * c}. Then {a} + {b * c} = {a + b * c}"
    if kind == "square":
        a = rng.randint(11, 30)
        return f"What is {a} squared?", a * a, f"{a} * {a} = {a * a}"
    a, b, c = rng.randint(100, 999), rng.randint(100, 999), rng.randint(10, 99)
    return f"What is {a} + {b} - {c}?", a + b - c, f"{a} + {b} = {a + b}. {a + b} - {c} = {a + b - c}"


NAMES = ["Tom", "Sara", "Liam", "Maya", "Noah", "Ava", "Omar", "Lena", "Ivan", "Zoe", "Ravi", "Mei"]
ITEMS = ["apples", "marbles", "stickers", "books", "pencils", "cookies", "shells", "stamps"]


def _word_easy(rng: random.Random) -> tuple[str, int, str]:
    """One- or two-step word problems (level 4)."""
    n, item = rng.choice(NAMES), rng.choice(ITEMS)
    kind = rng.choice(["more", "spent", "groups", "boxes", "both"])
    if kind == "more":
        a, b = rng.randint(3, 30), rng.randint(2, 20)
        return (f"{n} has {a} {item}. A friend gives {n} {b} more. How many {item} does {n} have now?", a + b, f"{a} + {b} = {a + b}")
    if kind == "spent":
        a, b = rng.randint(20, 100), rng.randint(1, 19)
        return (f"{n} had {a} dollars and spent {b} dollars on lunch. How many dollars does {n} have left?", a - b, f"{a} - {b} = {a - b}")
    if kind == "groups":
        g, per = rng.randint(3, 9), rng.randint(3, 12)
        total = g * per
        return (f"There are {total} students in a class. The teacher splits them into {g} equal groups. How many students are in each group?", per, f"{total} / {g} = {per}")
    if kind == "boxes":
        per, boxes = rng.choice([6, 10, 12, 24]), rng.randint(2, 9)
        return (f"A box holds {per} eggs. How many eggs are in {boxes} boxes?", per * boxes, f"{per} * {boxes} = {per * boxes}")
    a, b, c = rng.randint(10, 40), rng.randint(5, 30), rng.randint(1, 9)
    ans = a + b - c
    return (
        f"{n} picked {a} {item} in the morning and {b} in the afternoon, then gave {c} away. How many {item} does {n} have?",
        ans,
        f"{a} + {b} = {a + b}. {a + b} - {c} = {ans}",
    )


def _word_hard(rng: random.Random) -> tuple[str, int, str]:
    """Multi-step word problems (level 5)."""
    n = rng.choice(NAMES)
    kind = rng.choice(["change", "trip", "sale", "pages", "average", "ages", "wage"])
    if kind == "change":
        p, q, np_, nq = rng.randint(2, 6), rng.randint(4, 9), rng.randint(2, 6), rng.randint(1, 4)
        cost = p * np_ + q * nq
        paid = 50 if cost < 50 else 100
        return (
            f"A shop sells pens for ${p} each and notebooks for ${q} each. {n} buys {np_} pens and {nq} notebooks and pays with a ${paid} bill. How much change, in dollars, does {n} get?",
            paid - cost,
            f"Pens: {np_} * {p} = {p * np_}. Notebooks: {nq} * {q} = {q * nq}. Total: {p * np_} + {q * nq} = {cost}. Change: {paid} - {cost} = {paid - cost}",
        )
    if kind == "trip":
        v1, t1, v2, t2 = rng.choice([40, 50, 60, 70]), rng.randint(1, 4), rng.choice([60, 80, 90, 100]), rng.randint(1, 3)
        d = v1 * t1 + v2 * t2
        return (
            f"A train travels at {v1} km per hour for {t1} hours, then at {v2} km per hour for {t2} hours. How many kilometres does it travel in total?",
            d,
            f"{v1} * {t1} = {v1 * t1}. {v2} * {t2} = {v2 * t2}. {v1 * t1} + {v2 * t2} = {d}",
        )
    if kind == "sale":
        price, pct = rng.choice([40, 60, 80, 120, 200, 240]), rng.choice([10, 20, 25, 50])
        off = price * pct // 100
        return (
            f"A jacket costs ${price}. It is on sale for {pct}% off. What is the sale price in dollars?",
            price - off,
            f"Discount: {pct}% of {price} = {off}. Sale price: {price} - {off} = {price - off}",
        )
    if kind == "pages":
        a, d1, b, d2 = rng.randint(8, 15), rng.randint(3, 6), rng.randint(16, 25), rng.randint(2, 4)
        read = a * d1 + b * d2
        total = read + rng.randint(10, 90)
        return (
            f"{n} reads {a} pages a day for {d1} days, then {b} pages a day for {d2} days. The book has {total} pages. How many pages are left to read?",
            total - read,
            f"{a} * {d1} = {a * d1}. {b} * {d2} = {b * d2}. Read: {a * d1} + {b * d2} = {read}. Left: {total} - {read} = {total - read}",
        )
    if kind == "average":
        mean = rng.randint(60, 84)
        xs = [mean + rng.randint(-5, 5) for _ in range(3)]
        xs.append(4 * mean - sum(xs))
        return (
            f"{n} scored {xs[0]}, {xs[1]}, {xs[2]} and {xs[3]} on four tests. What is the average score?",
            mean,
            f"Sum: {' + '.join(map(str, xs))} = {sum(xs)}. Average: {sum(xs)} / 4 = {mean}",
        )
    if kind == "ages":
        k, young, yrs = rng.randint(2, 4), rng.randint(3, 12), rng.randint(2, 10)
        s = (k + 1) * young + 2 * yrs
        return (
            f"{n} is {k} times as old as a younger cousin. In {yrs} years the sum of their ages will be {s}. How old is the cousin now?",
            young,
            f"Let the cousin be c; then {n} is {k}c. ({k}c + {yrs}) + (c + {yrs}) = {s}, so {k + 1}c = {s - 2 * yrs} and c = {young}",
        )
    rate, hours, over = rng.randint(12, 25), rng.randint(30, 40), rng.randint(2, 8)
    pay = rate * hours + 2 * rate * over
    return (
        f"{n} earns ${rate} an hour for the first {hours} hours of a week and double that rate for every hour after. Last week {n} worked {hours + over} hours. How many dollars did {n} earn?",
        pay,
        f"Regular: {rate} * {hours} = {rate * hours}. Overtime: {over} hours * {2 * rate} = {2 * rate * over}. Total: {rate * hours} + {2 * rate * over} = {pay}",
    )


def make_math(rng: random.Random) -> list[dict]:
    plan: list[tuple[int, int, Callable[[random.Random], tuple[str, int, str]], str]] = [
        (1, 40, lambda r: _arith(r, 1), "arithmetic"),
        (2, 35, lambda r: _arith(r, 2), "arithmetic"),
        (3, 30, lambda r: _arith(r, 3), "arithmetic"),
        (4, 25, _word_easy, "word-problem"),
        (5, 20, _word_hard, "word-problem"),
    ]
    rows: list[dict] = []
    seen: set[str] = set()
    for level, count, make, kind in plan:
        made = 0
        while made < count:
            q, ans, steps = make(rng)
            if q in seen:
                continue
            seen.add(q)
            # The worked solution must end in the answer it claims.
            assert steps.endswith(str(ans)), (q, steps, ans)
            rows.append(
                {
                    "id": f"math-{len(rows) + 1:04d}",
                    "text": q,
                    "answer": str(ans),
                    "solution": f"{steps}\n#### {ans}",
                    "task_type": "math",
                    "source": f"{SOURCE}/math-{kind}",
                    "level": level,
                }
            )
            made += 1
    _check_math(rows)
    return rows


def _check_math(rows: list[dict]) -> None:
    """Re-derive every plain arithmetic answer independently of the generator."""
    import re

    for r in rows:
        m = re.fullmatch(r"What is (\d+) (\+|-|\*|plus|minus|times) (\d+)\?", r["text"])
        if m:
            a, op, b = int(m[1]), m[2], int(m[3])
            want = {"+": a + b, "plus": a + b, "-": a - b, "minus": a - b, "*": a * b, "times": a * b}[op]
            assert r["answer"] == str(want), r
        m = re.fullmatch(r"What is (\d+) \+ (\d+) \* (\d+)\?", r["text"])
        if m:
            assert r["answer"] == str(int(m[1]) + int(m[2]) * int(m[3])), r
        m = re.fullmatch(r"What is (\d+) divided by (\d+)\?", r["text"])
        if m:
            assert int(m[1]) % int(m[2]) == 0 and r["answer"] == str(int(m[1]) // int(m[2])), r
        assert int(r["answer"]) >= 0, r


# --------------------------------------------------------------------------- code

# (entry_point, signature, task, reference solution, tests, level)
CODE_TASKS: list[tuple[str, str, str, str, list[str], int]] = [
    ("add", "add(a, b)", "returns the sum of two numbers", "def add(a, b):\n    return a + b\n",
     ["assert add(2, 3) == 5", "assert add(-1, 1) == 0", "assert add(10, 20) == 30"], 1),
    ("is_even", "is_even(n)", "returns True if the integer n is even and False otherwise", "def is_even(n):\n    return n % 2 == 0\n",
     ["assert is_even(4) is True", "assert is_even(7) is False", "assert is_even(0) is True"], 1),
    ("square", "square(n)", "returns n multiplied by itself", "def square(n):\n    return n * n\n",
     ["assert square(3) == 9", "assert square(-4) == 16", "assert square(0) == 0"], 1),
    ("max_of_three", "max_of_three(a, b, c)", "returns the largest of three numbers", "def max_of_three(a, b, c):\n    return max(a, b, c)\n",
     ["assert max_of_three(1, 2, 3) == 3", "assert max_of_three(9, 2, 5) == 9", "assert max_of_three(-1, -5, -3) == -1"], 1),
    ("reverse_string", "reverse_string(s)", "returns the string s reversed", "def reverse_string(s):\n    return s[::-1]\n",
     ["assert reverse_string('abc') == 'cba'", "assert reverse_string('') == ''", "assert reverse_string('racecar') == 'racecar'"], 1),
    ("sum_list", "sum_list(xs)", "returns the sum of a list of numbers (0 for an empty list)", "def sum_list(xs):\n    total = 0\n    for x in xs:\n        total += x\n    return total\n",
     ["assert sum_list([1, 2, 3]) == 6", "assert sum_list([]) == 0", "assert sum_list([-2, 2, 5]) == 5"], 1),
    ("count_vowels", "count_vowels(s)", "returns how many vowels (a, e, i, o, u, in either case) the string s contains", "def count_vowels(s):\n    return sum(1 for ch in s.lower() if ch in 'aeiou')\n",
     ["assert count_vowels('hello') == 2", "assert count_vowels('SKY') == 0", "assert count_vowels('Education') == 5"], 1),
    ("celsius_to_fahrenheit", "celsius_to_fahrenheit(c)", "converts a temperature from degrees Celsius to degrees Fahrenheit", "def celsius_to_fahrenheit(c):\n    return c * 9 / 5 + 32\n",
     ["assert celsius_to_fahrenheit(0) == 32", "assert celsius_to_fahrenheit(100) == 212", "assert celsius_to_fahrenheit(-40) == -40"], 1),
    ("last_element", "last_element(xs)", "returns the last element of a non-empty list", "def last_element(xs):\n    return xs[-1]\n",
     ["assert last_element([1, 2, 3]) == 3", "assert last_element(['a']) == 'a'", "assert last_element([None, 0]) == 0"], 1),
    ("abs_diff", "abs_diff(a, b)", "returns the absolute difference between two numbers", "def abs_diff(a, b):\n    return abs(a - b)\n",
     ["assert abs_diff(3, 8) == 5", "assert abs_diff(8, 3) == 5", "assert abs_diff(-2, 2) == 4"], 1),
    ("is_palindrome", "is_palindrome(s)", "returns True if the string s reads the same forwards and backwards, ignoring case", "def is_palindrome(s):\n    t = s.lower()\n    return t == t[::-1]\n",
     ["assert is_palindrome('Level') is True", "assert is_palindrome('python') is False", "assert is_palindrome('') is True"], 1),
    ("factorial", "factorial(n)", "returns n! for a non-negative integer n", "def factorial(n):\n    result = 1\n    for i in range(2, n + 1):\n        result *= i\n    return result\n",
     ["assert factorial(0) == 1", "assert factorial(5) == 120", "assert factorial(10) == 3628800"], 1),
    ("fizzbuzz", "fizzbuzz(n)", "returns 'Fizz' if n is divisible by 3, 'Buzz' if by 5, 'FizzBuzz' if by both, and otherwise n as a string",
     "def fizzbuzz(n):\n    if n % 15 == 0:\n        return 'FizzBuzz'\n    if n % 3 == 0:\n        return 'Fizz'\n    if n % 5 == 0:\n        return 'Buzz'\n    return str(n)\n",
     ["assert fizzbuzz(9) == 'Fizz'", "assert fizzbuzz(10) == 'Buzz'", "assert fizzbuzz(30) == 'FizzBuzz'", "assert fizzbuzz(7) == '7'"], 1),
    ("count_occurrences", "count_occurrences(xs, x)", "returns how many times x appears in the list xs", "def count_occurrences(xs, x):\n    return sum(1 for y in xs if y == x)\n",
     ["assert count_occurrences([1, 2, 1, 3], 1) == 2", "assert count_occurrences([], 5) == 0", "assert count_occurrences(['a', 'b'], 'c') == 0"], 1),
    ("fibonacci", "fibonacci(n)", "returns the n-th Fibonacci number, with fibonacci(0) == 0 and fibonacci(1) == 1", "def fibonacci(n):\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a\n",
     ["assert fibonacci(0) == 0", "assert fibonacci(1) == 1", "assert fibonacci(10) == 55", "assert fibonacci(20) == 6765"], 2),
    ("is_prime", "is_prime(n)", "returns True if the integer n is a prime number", "def is_prime(n):\n    if n < 2:\n        return False\n    i = 2\n    while i * i <= n:\n        if n % i == 0:\n            return False\n        i += 1\n    return True\n",
     ["assert is_prime(2) is True", "assert is_prime(15) is False", "assert is_prime(97) is True", "assert is_prime(1) is False"], 2),
    ("gcd", "gcd(a, b)", "returns the greatest common divisor of two positive integers", "def gcd(a, b):\n    while b:\n        a, b = b, a % b\n    return a\n",
     ["assert gcd(12, 18) == 6", "assert gcd(7, 13) == 1", "assert gcd(100, 75) == 25"], 2),
    ("remove_duplicates", "remove_duplicates(xs)", "returns a new list with duplicates removed, keeping the first occurrence of each element in order",
     "def remove_duplicates(xs):\n    seen = set()\n    out = []\n    for x in xs:\n        if x not in seen:\n            seen.add(x)\n            out.append(x)\n    return out\n",
     ["assert remove_duplicates([1, 2, 1, 3, 2]) == [1, 2, 3]", "assert remove_duplicates([]) == []", "assert remove_duplicates(['b', 'a', 'b']) == ['b', 'a']"], 2),
    ("word_count", "word_count(s)", "returns the number of whitespace-separated words in the string s", "def word_count(s):\n    return len(s.split())\n",
     ["assert word_count('the quick brown fox') == 4", "assert word_count('') == 0", "assert word_count('  spaced   out  ') == 2"], 2),
    ("capitalize_words", "capitalize_words(s)", "returns s with the first letter of every space-separated word in upper case and the rest unchanged",
     "def capitalize_words(s):\n    return ' '.join(w[:1].upper() + w[1:] for w in s.split(' '))\n",
     ["assert capitalize_words('hello world') == 'Hello World'", "assert capitalize_words('a') == 'A'", "assert capitalize_words('mcDonald farm') == 'McDonald Farm'"], 2),
    ("second_largest", "second_largest(xs)", "returns the second largest distinct value in a list that has at least two distinct values",
     "def second_largest(xs):\n    return sorted(set(xs))[-2]\n",
     ["assert second_largest([1, 5, 3]) == 3", "assert second_largest([4, 4, 2]) == 2", "assert second_largest([-1, -7, -3]) == -3"], 2),
    ("flatten", "flatten(xss)", "flattens a list of lists by one level", "def flatten(xss):\n    return [x for xs in xss for x in xs]\n",
     ["assert flatten([[1, 2], [3], []]) == [1, 2, 3]", "assert flatten([]) == []", "assert flatten([['a'], ['b', 'c']]) == ['a', 'b', 'c']"], 2),
    ("char_frequency", "char_frequency(s)", "returns a dict mapping each character of s to the number of times it occurs",
     "def char_frequency(s):\n    counts = {}\n    for ch in s:\n        counts[ch] = counts.get(ch, 0) + 1\n    return counts\n",
     ["assert char_frequency('aab') == {'a': 2, 'b': 1}", "assert char_frequency('') == {}", "assert char_frequency('xyx') == {'x': 2, 'y': 1}"], 2),
    ("is_anagram", "is_anagram(a, b)", "returns True if the strings a and b contain the same letters, ignoring case and spaces",
     "def is_anagram(a, b):\n    norm = lambda s: sorted(s.replace(' ', '').lower())\n    return norm(a) == norm(b)\n",
     ["assert is_anagram('listen', 'silent') is True", "assert is_anagram('Dormitory', 'dirty room') is True", "assert is_anagram('abc', 'abd') is False"], 2),
    ("digit_sum", "digit_sum(n)", "returns the sum of the decimal digits of a non-negative integer n", "def digit_sum(n):\n    return sum(int(d) for d in str(n))\n",
     ["assert digit_sum(123) == 6", "assert digit_sum(0) == 0", "assert digit_sum(9999) == 36"], 2),
    ("merge_sorted", "merge_sorted(a, b)", "merges two sorted lists into one sorted list without calling sort",
     "def merge_sorted(a, b):\n    i = j = 0\n    out = []\n    while i < len(a) and j < len(b):\n        if a[i] <= b[j]:\n            out.append(a[i])\n            i += 1\n        else:\n            out.append(b[j])\n            j += 1\n    return out + a[i:] + b[j:]\n",
     ["assert merge_sorted([1, 4, 9], [2, 3, 10]) == [1, 2, 3, 4, 9, 10]", "assert merge_sorted([], [1]) == [1]", "assert merge_sorted([5], []) == [5]"], 2),
    ("running_sum", "running_sum(xs)", "returns the list of prefix sums of xs", "def running_sum(xs):\n    out, total = [], 0\n    for x in xs:\n        total += x\n        out.append(total)\n    return out\n",
     ["assert running_sum([1, 2, 3]) == [1, 3, 6]", "assert running_sum([]) == []", "assert running_sum([5, -5, 5]) == [5, 0, 5]"], 2),
    ("binary_to_int", "binary_to_int(s)", "converts a string of binary digits to its integer value without calling int(s, 2)",
     "def binary_to_int(s):\n    value = 0\n    for ch in s:\n        value = value * 2 + (ch == '1')\n    return value\n",
     ["assert binary_to_int('101') == 5", "assert binary_to_int('0') == 0", "assert binary_to_int('11111111') == 255"], 2),
    ("chunk", "chunk(xs, n)", "splits the list xs into consecutive pieces of length n (the last piece may be shorter)",
     "def chunk(xs, n):\n    return [xs[i:i + n] for i in range(0, len(xs), n)]\n",
     ["assert chunk([1, 2, 3, 4, 5], 2) == [[1, 2], [3, 4], [5]]", "assert chunk([], 3) == []", "assert chunk([1, 2], 5) == [[1, 2]]"], 2),
    ("run_length_encode", "run_length_encode(s)", "returns the run-length encoding of s, each character followed by the length of its run, e.g. 'aaab' -> 'a3b1'",
     "def run_length_encode(s):\n    out = []\n    i = 0\n    while i < len(s):\n        j = i\n        while j < len(s) and s[j] == s[i]:\n            j += 1\n        out.append(f'{s[i]}{j - i}')\n        i = j\n    return ''.join(out)\n",
     ["assert run_length_encode('aaabcc') == 'a3b1c2'", "assert run_length_encode('') == ''", "assert run_length_encode('abc') == 'a1b1c1'"], 3),
    ("longest_common_prefix", "longest_common_prefix(words)", "returns the longest common prefix of a list of strings ('' if the list is empty)",
     "def longest_common_prefix(words):\n    if not words:\n        return ''\n    prefix = words[0]\n    for w in words[1:]:\n        while not w.startswith(prefix):\n            prefix = prefix[:-1]\n    return prefix\n",
     ["assert longest_common_prefix(['flower', 'flow', 'flight']) == 'fl'", "assert longest_common_prefix(['dog', 'car']) == ''", "assert longest_common_prefix([]) == ''"], 3),
    ("balanced_brackets", "balanced_brackets(s)", "returns True if every (, [ and { in s is closed by the matching bracket in the right order; other characters are ignored",
     "def balanced_brackets(s):\n    pairs = {')': '(', ']': '[', '}': '{'}\n    stack = []\n    for ch in s:\n        if ch in '([{':\n            stack.append(ch)\n        elif ch in pairs:\n            if not stack or stack.pop() != pairs[ch]:\n                return False\n    return not stack\n",
     ["assert balanced_brackets('([]{})') is True", "assert balanced_brackets('([)]') is False", "assert balanced_brackets('f(x[0]) + {y}') is True", "assert balanced_brackets('((') is False"], 3),
    ("roman_to_int", "roman_to_int(s)", "converts a Roman numeral such as 'XIV' to an integer",
     "def roman_to_int(s):\n    vals = {'I': 1, 'V': 5, 'X': 10, 'L': 50, 'C': 100, 'D': 500, 'M': 1000}\n    total = 0\n    for i, ch in enumerate(s):\n        v = vals[ch]\n        if i + 1 < len(s) and vals[s[i + 1]] > v:\n            total -= v\n        else:\n            total += v\n    return total\n",
     ["assert roman_to_int('III') == 3", "assert roman_to_int('XIV') == 14", "assert roman_to_int('MCMXCIV') == 1994"], 3),
    ("int_to_roman", "int_to_roman(n)", "converts an integer from 1 to 3999 to a Roman numeral",
     "def int_to_roman(n):\n    table = [(1000, 'M'), (900, 'CM'), (500, 'D'), (400, 'CD'), (100, 'C'), (90, 'XC'), (50, 'L'), (40, 'XL'), (10, 'X'), (9, 'IX'), (5, 'V'), (4, 'IV'), (1, 'I')]\n    out = []\n    for value, sym in table:\n        while n >= value:\n            out.append(sym)\n            n -= value\n    return ''.join(out)\n",
     ["assert int_to_roman(4) == 'IV'", "assert int_to_roman(58) == 'LVIII'", "assert int_to_roman(1994) == 'MCMXCIV'"], 3),
    ("transpose", "transpose(m)", "returns the transpose of a rectangular matrix given as a list of rows",
     "def transpose(m):\n    return [list(row) for row in zip(*m)]\n",
     ["assert transpose([[1, 2, 3], [4, 5, 6]]) == [[1, 4], [2, 5], [3, 6]]", "assert transpose([[1]]) == [[1]]", "assert transpose([]) == []"], 3),
    ("lis_length", "lis_length(xs)", "returns the length of the longest strictly increasing subsequence of xs",
     "def lis_length(xs):\n    import bisect\n    tails = []\n    for x in xs:\n        i = bisect.bisect_left(tails, x)\n        if i == len(tails):\n            tails.append(x)\n        else:\n            tails[i] = x\n    return len(tails)\n",
     ["assert lis_length([10, 9, 2, 5, 3, 7, 101, 18]) == 4", "assert lis_length([]) == 0", "assert lis_length([5, 5, 5]) == 1"], 3),
    ("edit_distance", "edit_distance(a, b)", "returns the Levenshtein distance between strings a and b (insertions, deletions and substitutions each cost 1)",
     "def edit_distance(a, b):\n    prev = list(range(len(b) + 1))\n    for i, ca in enumerate(a, 1):\n        cur = [i]\n        for j, cb in enumerate(b, 1):\n            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))\n        prev = cur\n    return prev[-1]\n",
     ["assert edit_distance('kitten', 'sitting') == 3", "assert edit_distance('', 'abc') == 3", "assert edit_distance('flaw', 'flaw') == 0"], 3),
    ("count_islands", "count_islands(grid)", "counts the groups of 1s connected horizontally or vertically in a grid given as a list of lists of 0s and 1s",
     "def count_islands(grid):\n    rows = len(grid)\n    cols = len(grid[0]) if rows else 0\n    seen = set()\n    count = 0\n    for r in range(rows):\n        for c in range(cols):\n            if grid[r][c] == 1 and (r, c) not in seen:\n                count += 1\n                stack = [(r, c)]\n                seen.add((r, c))\n                while stack:\n                    y, x = stack.pop()\n                    for ny, nx in ((y + 1, x), (y - 1, x), (y, x + 1), (y, x - 1)):\n                        if 0 <= ny < rows and 0 <= nx < cols and grid[ny][nx] == 1 and (ny, nx) not in seen:\n                            seen.add((ny, nx))\n                            stack.append((ny, nx))\n    return count\n",
     ["assert count_islands([[1, 1, 0], [0, 1, 0], [0, 0, 1]]) == 2", "assert count_islands([]) == 0", "assert count_islands([[1, 0, 1], [0, 1, 0], [1, 0, 1]]) == 5"], 3),
    ("top_k_frequent", "top_k_frequent(words, k)", "returns the k most frequent words, most frequent first, ties broken alphabetically",
     "def top_k_frequent(words, k):\n    counts = {}\n    for w in words:\n        counts[w] = counts.get(w, 0) + 1\n    return sorted(counts, key=lambda w: (-counts[w], w))[:k]\n",
     ["assert top_k_frequent(['a', 'b', 'a', 'c', 'b', 'a'], 2) == ['a', 'b']", "assert top_k_frequent(['x', 'y'], 1) == ['x']", "assert top_k_frequent([], 3) == []"], 3),
    ("eval_rpn", "eval_rpn(tokens)", "evaluates an expression in reverse Polish notation given as a list of tokens with +, -, * and integer division / that truncates toward zero",
     "def eval_rpn(tokens):\n    stack = []\n    for t in tokens:\n        if t in ('+', '-', '*', '/'):\n            b, a = stack.pop(), stack.pop()\n            if t == '+':\n                stack.append(a + b)\n            elif t == '-':\n                stack.append(a - b)\n            elif t == '*':\n                stack.append(a * b)\n            else:\n                stack.append(int(a / b))\n        else:\n            stack.append(int(t))\n    return stack[0]\n",
     ["assert eval_rpn(['2', '1', '+', '3', '*']) == 9", "assert eval_rpn(['4', '13', '5', '/', '+']) == 6", "assert eval_rpn(['7', '-2', '/']) == -3"], 3),
    ("spiral_order", "spiral_order(m)", "returns the elements of a matrix (a list of rows) in clockwise spiral order starting at the top-left",
     "def spiral_order(m):\n    out = []\n    m = [list(r) for r in m]\n    while m:\n        out += m.pop(0)\n        m = [list(r) for r in zip(*m)][::-1]\n    return out\n",
     ["assert spiral_order([[1, 2, 3], [4, 5, 6], [7, 8, 9]]) == [1, 2, 3, 6, 9, 8, 7, 4, 5]", "assert spiral_order([[1, 2], [3, 4]]) == [1, 2, 4, 3]", "assert spiral_order([]) == []"], 3),
    ("min_coins", "min_coins(coins, amount)", "returns the fewest coins from the given denominations that add up to amount, or -1 if it cannot be made",
     "def min_coins(coins, amount):\n    best = [0] + [amount + 1] * amount\n    for a in range(1, amount + 1):\n        for c in coins:\n            if c <= a:\n                best[a] = min(best[a], best[a - c] + 1)\n    return best[amount] if best[amount] <= amount else -1\n",
     ["assert min_coins([1, 2, 5], 11) == 3", "assert min_coins([2], 3) == -1", "assert min_coins([1], 0) == 0"], 3),
]


def _run_tests(solution: str, tests: list[str], entry_point: str) -> None:
    ns: dict = {}
    exec(compile(solution, f"<{entry_point}>", "exec"), ns)  # noqa: S102 - our own reference code
    assert callable(ns.get(entry_point)), entry_point
    for t in tests:
        exec(compile(t, f"<{entry_point} test>", "exec"), dict(ns))  # noqa: S102


def make_code() -> list[dict]:
    rows = []
    for i, (entry, sig, task, solution, tests, level) in enumerate(CODE_TASKS, 1):
        _run_tests(solution, tests, entry)
        text = f"Write a Python function `{sig}` that {task}.\nYour code should pass this test:\n{tests[0]}"
        rows.append(
            {
                "id": f"code-{i:04d}",
                "text": text,
                "answer": solution,
                "entry_point": entry,
                "test_list": tests,
                "task_type": "code",
                "source": f"{SOURCE}/code",
                "level": level,
            }
        )
    return rows


# --------------------------------------------------------------------------- multiple choice

MC_FACTS: list[tuple[str, list[str], int, int]] = [
    ("Which animal is a mammal?", ["Shark", "Dolphin", "Trout", "Octopus"], 1, 1),
    ("What do plants need from sunlight to make their food?", ["Energy", "Salt", "Sand", "Smoke"], 0, 1),
    ("How many days are in a leap year?", ["364", "365", "366", "367"], 2, 1),
    ("Which planet is closest to the Sun?", ["Venus", "Earth", "Mars", "Mercury"], 3, 1),
    ("What is the boiling point of water at sea level in degrees Celsius?", ["90", "100", "110", "212"], 1, 2),
    ("Which gas makes up most of Earth's atmosphere?", ["Oxygen", "Carbon dioxide", "Nitrogen", "Argon"], 2, 2),
    ("Which data structure returns items in last-in, first-out order?", ["Queue", "Stack", "Heap", "Hash table"], 1, 2),
    ("What is the time complexity of binary search on a sorted array of n items?", ["O(1)", "O(log n)", "O(n)", "O(n log n)"], 1, 3),
    ("Which organelle produces most of a cell's ATP?", ["Ribosome", "Nucleus", "Mitochondrion", "Golgi apparatus"], 2, 3),
    ("In statistics, what does a p-value measure?",
     ["The probability the null hypothesis is true", "The probability of data at least this extreme if the null hypothesis is true", "The size of the effect", "The power of the test"], 1, 4),
    ("Which sorting algorithm has the best worst-case time complexity?", ["Quicksort", "Insertion sort", "Merge sort", "Bubble sort"], 2, 4),
    ("What is the derivative of x squared with respect to x?", ["x", "2x", "x squared", "2"], 1, 4),
]


def make_mc(rng: random.Random) -> list[dict]:
    items: list[tuple[str, list[str], int, int, str]] = [(q, ch, k, lv, "facts") for q, ch, k, lv in MC_FACTS]
    for level in (1, 2, 3):
        for _ in range(4):
            q, ans, _steps = _arith(rng, level)
            wrong: list[int] = []
            while len(wrong) < 3:
                w = ans + rng.choice([-10, -2, -1, 1, 2, 10, 3])
                if w >= 0 and w != ans and w not in wrong:
                    wrong.append(w)
            opts = [ans, *wrong]
            rng.shuffle(opts)
            items.append((q, [str(o) for o in opts], opts.index(ans), level, "arithmetic"))
    rows = []
    for i, (q, choices, key, level, kind) in enumerate(items, 1):
        letters = "ABCD"[: len(choices)]
        assert 0 <= key < len(choices) and len(set(choices)) == len(choices), q
        body = "\n".join(f"{letter}. {c}" for letter, c in zip(letters, choices))
        rows.append(
            {
                "id": f"mc-{i:04d}",
                "text": f"{q}\n{body}\nAnswer with the letter of the correct choice.",
                "answer": letters[key],
                "choices": choices,
                "task_type": "mc",
                "source": f"{SOURCE}/mc-{kind}",
                "level": level,
            }
        )
    return rows


# --------------------------------------------------------------------------- prose

PROSE: dict[int, list[str]] = {
    1: [
        "The cat sat on the mat. It was warm in the sun. The cat went to sleep.",
        "I have a red ball. I throw it to my dog. My dog runs and gets it. We play all day.",
        "It is raining today. We stay inside. Mom makes hot soup. The soup is good.",
        "The sun is big and hot. It gives us light. Plants need the sun to grow.",
        "Ben has a new bike. It is blue. He rides it to the park with his dad.",
        "Fish live in water. They swim with their fins. Some fish are very small. Some are big.",
        "We go to the shop. We buy milk, bread and eggs. Then we walk home.",
        "The tree is tall. Birds sit in the tree. They sing in the morning.",
        "My friend is sad. I give her a hug. Now she smiles. Friends help each other.",
        "Snow is cold and white. We make a snowman. He has a carrot nose.",
        "A frog can jump. It lives near a pond. It eats flies. It says ribbit.",
        "I brush my teeth in the morning. I brush them at night too. Clean teeth are happy teeth.",
        "The bus is late. We wait at the stop. At last the bus comes. We get on.",
        "Cows eat grass. They give us milk. A baby cow is a calf.",
        "The moon comes out at night. Sometimes it is round. Sometimes it looks thin.",
        "Ana likes to draw. She draws a house and a dog. She shows it to her class.",
        "Bees fly from flower to flower. They make honey. Honey is sweet.",
        "It is my birthday. I am six. We have cake and games. It is a fun day.",
        "The baby is asleep. Please be quiet. Do not wake the baby.",
        "Leaves fall in autumn. They are red and gold. We jump in the big pile.",
        "Our class has a fish tank. The fish are orange. We feed them every day.",
        "Dad cooks eggs for breakfast. I pour the juice. We eat at the table.",
        "The clock says three. School is over. I run home to play.",
        "A duck can swim and fly. It has soft feathers. Ducks like to eat bugs and seeds.",
        "Put on your coat. It is cold outside. Wear your hat too.",
        "The farmer has a big red barn. Pigs and hens live there. The farmer feeds them each day.",
        "Rain falls from clouds. It fills the rivers. Then the sun dries the ground.",
        "I read a book about a bear. The bear finds a jar of honey. He eats it all.",
        "My sister can count to ten. One, two, three. She is very proud.",
        "Trains go on tracks. They are long and fast. I wave at the train.",
    ],
    2: [
        "Every spring, the town holds a market in the main square. Farmers bring fresh vegetables, bakers sell warm bread, and children line up for painted faces. By evening the square is quiet again, and the stalls are packed away until next year.",
        "Honeybees communicate through a kind of dance. When a bee finds a good patch of flowers, it returns to the hive and moves in a figure-eight pattern. The angle of the dance tells other bees which way to fly, and its length hints at how far away the flowers are.",
        "The library on Elm Street opened in 1921 with fewer than a thousand books. Today it lends e-books and laptops as well as novels, and its reading room is busy every afternoon with students finishing their homework.",
        "Learning to ride a bicycle is mostly about balance. Beginners often look down at the front wheel, which makes wobbling worse. Looking ahead, pedalling steadily and keeping a gentle grip on the handlebars helps the bike stay upright.",
        "Volcanoes form where molten rock from deep inside the Earth reaches the surface. Some erupt violently, throwing ash high into the sky, while others release slow rivers of lava. Over thousands of years, their eruptions can build entire islands.",
        "A good night's sleep does more than make you feel rested. While you sleep, your brain sorts the day's memories and your body repairs tissue. Most adults need seven to nine hours a night, and teenagers need even more.",
        "Before refrigerators, people kept food cold with blocks of ice cut from frozen lakes in winter. The ice was packed in sawdust and stored in thick-walled ice houses, where it could last well into the summer.",
        "The city council voted on Tuesday to extend the bus network to the new housing estates on the east side. Officials expect the three new routes to start running next autumn, once the drivers have been hired and trained.",
        "Octopuses are remarkably clever animals. They can open jars, squeeze through tiny gaps and change the colour of their skin in a fraction of a second. Each of their eight arms contains clusters of neurons that let it react on its own.",
        "Composting turns kitchen scraps and garden waste into rich soil. Microbes break down the material, and the pile warms up as they work. Turning the pile every few weeks lets in air and speeds the process along.",
        "The first successful powered aeroplane flight lasted only twelve seconds. In December 1903, Orville Wright flew about 37 metres over the sand dunes at Kitty Hawk while his brother Wilbur ran alongside the wing.",
        "Saving money is easier with a simple plan. Decide how much you want to put aside each month, move it to a separate account on payday, and treat it as a bill you must pay. Small amounts add up faster than most people expect.",
        "Rainbows appear when sunlight passes through raindrops. Each drop bends the light and splits it into its colours, from red on the outside of the arc to violet on the inside. You can only see a rainbow when the sun is behind you.",
        "The marathon is run over 42.195 kilometres. The odd distance dates from the 1908 London Olympics, when the course was stretched so that the race could start at Windsor Castle and finish in front of the royal box.",
        "Many birds migrate thousands of kilometres each year. They find their way using the position of the sun, the patterns of stars and even the Earth's magnetic field. Some young birds make the journey alone on their first attempt.",
        "Our team spent the weekend repainting the community hall. We chose a pale yellow for the walls and a darker green for the doors. Neighbours dropped by with sandwiches, and the job was done by Sunday evening.",
        "Tea was first drunk in China, possibly as a medicine, thousands of years ago. Traders later carried it along overland routes and by sea, and by the eighteenth century it had become a daily habit in much of Europe.",
        "Recycling works best when items are clean and sorted. A greasy pizza box or a bottle full of liquid can spoil a whole batch. Rinsing containers and checking local rules makes a real difference.",
        "Elephants have excellent memories and strong family bonds. Herds are usually led by the oldest female, who remembers where to find water during droughts. Calves are cared for by the whole group, not just their mothers.",
        "The museum's new exhibition traces the history of clocks, from water clocks in ancient Egypt to the atomic clocks that keep time for satellites today. Visitors can take apart a mechanical watch at a hands-on workbench.",
        "Growing tomatoes on a balcony is possible with a large pot, good compost and plenty of sun. The plants need regular watering, especially in hot weather, and a stake to support the stems as the fruit gets heavy.",
        "A lighthouse warns ships of dangerous rocks and shallow water. Each one flashes in its own pattern, so sailors can tell which lighthouse they are looking at and work out where they are on the chart.",
        "When you write a formal letter, begin with your address and the date, then greet the reader by name if you know it. Keep your paragraphs short, state your request clearly, and end with a polite closing.",
        "Coral reefs cover a tiny part of the ocean floor but shelter about a quarter of all marine species. Rising sea temperatures cause corals to expel the algae that feed them, a process known as bleaching.",
        "The village bakery starts work at four in the morning. By the time the first customers arrive at seven, the shelves are full of loaves, rolls and pastries, and the smell of bread drifts down the street.",
        "Chess is thought to have developed in India around the sixth century. The game spread to Persia and then to Europe, where the queen gradually became the most powerful piece on the board.",
        "Washing your hands with soap for twenty seconds removes most germs. Soap molecules break apart the fatty layer that surrounds many viruses, and rinsing carries the pieces away.",
        "The river flooded after three days of heavy rain, covering the fields on both banks. Farmers moved their animals to higher ground, and volunteers filled sandbags to protect the houses nearest the water.",
        "Penguins cannot fly, but they are superb swimmers. Their wings have evolved into stiff flippers, and their bodies are shaped to slip through the water. Emperor penguins can dive deeper than five hundred metres.",
        "Public speaking makes many people nervous. Practising out loud, knowing your first few sentences by heart and pausing to breathe can help. Most audiences want the speaker to do well.",
        "The bridge took four years to build and opened to traffic in the spring. It replaced a ferry that had carried cars across the estuary for more than half a century.",
        "Sharks have existed for over four hundred million years, longer than trees. Their skeletons are made of cartilage rather than bone, and many species must keep swimming to push water over their gills.",
        "A budget for a school trip should include travel, food, tickets and a little extra for surprises. Asking families early and offering a payment plan helps everyone take part.",
        "Solar panels turn sunlight directly into electricity. They work even on cloudy days, though they produce less power. Many homes now combine panels with batteries to store energy for the evening.",
        "The orchestra tuned up as the lights dimmed. Then the conductor raised her baton, and the first notes of the symphony filled the hall, quiet at first and then growing until the whole audience seemed to hold its breath.",
    ],
    3: [
        "A hash table stores key-value pairs in an array indexed by a hash of the key. When two keys hash to the same slot, the collision is resolved either by chaining entries in a list or by probing for another free slot. With a good hash function and a load factor kept below a fixed threshold, lookups, insertions and deletions run in expected constant time.",
        "Photosynthesis proceeds in two coupled stages. In the light-dependent reactions, photosystems in the thylakoid membrane absorb photons and drive electron transport, producing ATP and NADPH while splitting water and releasing oxygen. In the Calvin cycle, the enzyme RuBisCO fixes carbon dioxide, and the ATP and NADPH reduce the resulting intermediates to triose phosphates.",
        "Gradient descent minimises a differentiable objective by repeatedly stepping against its gradient. The learning rate controls the step size: too large and the iterates diverge or oscillate, too small and convergence is slow. Stochastic variants estimate the gradient from mini-batches, trading noise in each update for far cheaper iterations.",
        "The TCP three-way handshake establishes a connection before any data is exchanged. The client sends a SYN segment with an initial sequence number, the server replies with SYN-ACK carrying its own sequence number, and the client acknowledges it. Both sides then track sequence numbers to detect loss and reorder segments.",
        "In special relativity, the interval between two events is invariant under Lorentz transformations, even though observers in relative motion disagree about elapsed time and spatial separation. Time dilation and length contraction follow directly from this invariance, scaled by the Lorentz factor, which diverges as speed approaches that of light.",
        "A B-tree keeps data sorted and allows searches, sequential access, insertions and deletions in logarithmic time. Each node holds many keys and children, so the tree stays shallow and a lookup touches few disk pages; that property is why B-trees and their B+ variants underpin most relational database indexes.",
        "CRISPR-Cas9 edits genomes by directing the Cas9 nuclease to a target sequence with a guide RNA complementary to it. After Cas9 introduces a double-strand break adjacent to a protospacer-adjacent motif, the cell repairs it by error-prone non-homologous end joining or, when a template is supplied, by homology-directed repair.",
        "Bayes' theorem expresses the posterior probability of a hypothesis as the likelihood of the observed data under that hypothesis times its prior, normalised by the marginal probability of the data. In practice the normalising constant is often intractable, which motivates Markov chain Monte Carlo and variational approximations.",
        "A process's virtual address space is divided into fixed-size pages that the memory management unit maps onto physical frames via page tables. A translation lookaside buffer caches recent mappings; on a miss, the hardware or the kernel walks the page table, and a reference to an unmapped page raises a fault that the kernel resolves by loading the page or terminating the process.",
        "The Fourier transform decomposes a signal into its constituent frequencies. For sampled data, the discrete Fourier transform can be computed in O(n log n) operations with the fast Fourier transform, which recursively splits the input into even- and odd-indexed halves. Sampling below twice the highest frequency present causes aliasing, as the Nyquist-Shannon theorem predicts.",
        "In the Transformer architecture, self-attention computes, for every position, a weighted sum of value vectors, with weights given by a softmax over scaled dot products between that position's query and every key. Because attention is permutation-invariant, positional information is injected separately, for instance through sinusoidal encodings or rotary embeddings.",
        "Consensus protocols such as Raft let a cluster of servers agree on a replicated log despite crashes. A leader, elected by majority vote for a numbered term, appends client commands to its log and replicates them; an entry is committed once stored on a majority, which guarantees that any future leader's log contains it.",
        "Enzyme kinetics are often described by the Michaelis-Menten equation, in which the reaction rate rises hyperbolically with substrate concentration toward a maximum velocity. The Michaelis constant equals the substrate concentration at half that maximum and serves as an inverse measure of the enzyme's apparent affinity for its substrate.",
        "Garbage collectors reclaim memory that a program can no longer reach. A tracing collector marks every object reachable from the roots and frees the rest, while generational collectors exploit the observation that most objects die young by collecting a small nursery frequently and the older generations rarely.",
        "The central limit theorem states that the suitably normalised sum of independent, identically distributed random variables with finite variance converges in distribution to a normal distribution as the number of terms grows. It justifies normal approximations for sample means even when the underlying distribution is skewed.",
        "Public-key cryptosystems rely on trapdoor functions that are easy to compute but hard to invert without secret information. RSA's security rests on the presumed difficulty of factoring the product of two large primes, whereas elliptic-curve schemes rely on the discrete logarithm problem in the group of points on a curve over a finite field.",
        "A compiler's front end lexes and parses source text into an abstract syntax tree and checks it against the language's type rules. The middle end lowers the tree to an intermediate representation, often in static single assignment form, where optimisations such as constant propagation, dead-code elimination and loop-invariant code motion are applied before the back end selects instructions and allocates registers.",
        "Plate tectonics explains the large-scale motion of Earth's lithosphere, which is broken into rigid plates that move over the ductile asthenosphere. At divergent boundaries new crust forms from upwelling magma, at convergent boundaries oceanic crust is subducted, and at transform boundaries plates slide past one another, releasing stress in earthquakes.",
        "Dynamic programming solves problems with overlapping subproblems and optimal substructure by computing each subproblem once and storing the result. The edit distance between two strings, for example, fills a table in which each cell depends only on its three neighbours above and to the left, giving quadratic time and, with care, linear space.",
        "The action potential of a neuron begins when depolarisation at the axon hillock crosses a threshold and voltage-gated sodium channels open, letting sodium flood in. Delayed opening of potassium channels then repolarises the membrane, and a brief refractory period ensures the impulse propagates in one direction along the axon.",
        "In microeconomics, price elasticity of demand measures the percentage change in quantity demanded in response to a one per cent change in price. When demand is inelastic, raising prices increases total revenue; when it is elastic, the fall in quantity outweighs the higher price and revenue declines.",
        "A Bloom filter is a probabilistic set that answers membership queries with no false negatives and a tunable false-positive rate. It sets k bits chosen by independent hash functions for each inserted element; a query reports membership only if all k bits are set, so memory use is far below that of an exact set.",
        "Quantum entanglement describes a state of two or more particles whose joint wave function cannot be factored into individual states. Measurements on entangled particles exhibit correlations that violate Bell inequalities, ruling out local hidden-variable theories, although no usable signal travels faster than light.",
        "Database transactions are expected to be atomic, consistent, isolated and durable. Isolation levels weaken the guarantee that concurrent transactions behave as if run one after another: read committed prevents dirty reads, repeatable read also prevents non-repeatable reads, and only serializable excludes every anomaly, including write skew.",
        "Convolutional neural networks share weights across spatial positions, applying the same small kernel at every location of the input. This builds in translation equivariance, sharply reduces the number of parameters compared with fully connected layers, and, stacked with pooling or strided convolutions, produces increasingly abstract feature hierarchies.",
        "The Krebs cycle oxidises acetyl-CoA to carbon dioxide in the mitochondrial matrix, transferring high-energy electrons to NAD+ and FAD. The reduced carriers then donate those electrons to the electron transport chain, whose proton pumping across the inner membrane drives ATP synthase.",
        "Big-O notation describes an upper bound on a function's growth rate, ignoring constant factors and lower-order terms. Saying an algorithm runs in O(n log n) time means that, beyond some input size, its running time is at most a constant multiple of n log n; it says nothing about performance on small inputs.",
        "An eigenvector of a square matrix is a non-zero vector whose direction is unchanged by the linear map, being merely scaled by the corresponding eigenvalue. Symmetric real matrices have real eigenvalues and an orthonormal basis of eigenvectors, which is the foundation of principal component analysis.",
        "Version control systems such as Git record a project's history as a directed acyclic graph of commits, each identified by a cryptographic hash of its content and its parents. Branches are movable references to commits, and a merge creates a commit with two parents, reconciling divergent histories.",
        "Entropy in thermodynamics quantifies the number of microscopic configurations consistent with a macroscopic state. The second law states that the entropy of an isolated system never decreases, which is why heat flows spontaneously from hot bodies to cold ones and why no engine can convert heat entirely into work.",
        "In regression, regularisation penalises model complexity to reduce overfitting. Ridge regression adds the squared L2 norm of the coefficients to the loss and shrinks them smoothly, whereas the lasso's L1 penalty drives some coefficients exactly to zero and so performs variable selection.",
        "Immunological memory arises because activated B and T lymphocytes leave behind long-lived memory cells after an infection is cleared. On re-exposure to the same antigen, these cells proliferate rapidly and mount a faster, stronger response, the principle on which vaccination depends.",
        "Unicode assigns every character a code point, and UTF-8 encodes each code point in one to four bytes. ASCII characters keep their single-byte encoding, and continuation bytes always begin with the bits 10, so a decoder can resynchronise after an error and reject sequences that are overlong or encode surrogate code points.",
        "A Markov decision process models sequential decision making with states, actions, transition probabilities and rewards. The Bellman optimality equation relates the value of a state to the best expected immediate reward plus the discounted value of the successor state, and value iteration solves it by repeated application until convergence.",
        "Lock-free data structures guarantee that some thread always makes progress, using atomic compare-and-swap operations instead of mutual exclusion. They avoid deadlock and priority inversion but must contend with the ABA problem, in which a location changes and changes back between a thread's read and its compare-and-swap.",
    ],
}


def make_prose() -> list[dict]:
    rows = []
    for level, texts in PROSE.items():
        for t in texts:
            rows.append(
                {
                    "id": f"text-{len(rows) + 1:04d}",
                    "text": t,
                    "task_type": "text",
                    "source": f"{SOURCE}/prose-{('plain', 'general', 'technical')[level - 1]}",
                    "level": level,
                }
            )
    assert len({r["text"] for r in rows}) == len(rows), "duplicate prose paragraph"
    return rows


# --------------------------------------------------------------------------- write


FIELDS = ("id", "text", "task_type", "answer", "solution", "choices", "entry_point", "test_list", "source", "level")


def write_jsonl(path: Path, rows: list[dict]) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        for r in rows:
            assert set(r) <= set(FIELDS), set(r) - set(FIELDS)
            fh.write(json.dumps({k: r.get(k) for k in FIELDS}, ensure_ascii=False) + "\n")


def build() -> dict[str, list[dict]]:
    rng = random.Random(SEED)
    return {
        "math.jsonl": make_math(rng),
        "code.jsonl": make_code(),
        "mc.jsonl": make_mc(rng),
        "prose.jsonl": make_prose(),
    }


def main() -> None:
    for name, rows in build().items():
        write_jsonl(HERE / name, rows)
        print(f"{name}: {len(rows)} rows")


if __name__ == "__main__":
    main()
