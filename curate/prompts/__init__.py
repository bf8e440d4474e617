"""Prompt templates shipped with curate (package data), overridable by a file path.

A template is plain text with placeholders `{question}`, `{tests}` and `{choices}` (replaced
literally, so code braces are safe). Everything before the first placeholder is a shared prefix
(instructions and few-shot examples) identical for every row, so vLLM's prefix cache reuses it.
The text becomes one user message; the model's chat template (with its default system prompt)
is applied by the engine.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from curate.errors import UsageError

PLACEHOLDERS = ("{question}", "{tests}", "{choices}")


def exists(name: str) -> bool:
    """Whether a built-in template of this name ships with curate."""
    return resources.files("curate.prompts").joinpath(name if name.endswith(".txt") else f"{name}.txt").is_file()


def load(name_or_path: str) -> str:
    """A built-in template by name (e.g. 'pass_rate_math') or any file path."""
    p = Path(name_or_path).expanduser()
    if p.suffix and p.exists():
        return p.read_text(encoding="utf-8")
    fname = name_or_path if name_or_path.endswith(".txt") else f"{name_or_path}.txt"
    res = resources.files("curate.prompts").joinpath(fname)
    if not res.is_file():
        known = sorted(f.name.removesuffix(".txt") for f in resources.files("curate.prompts").iterdir() if f.name.endswith(".txt"))
        raise UsageError(f"no prompt template '{name_or_path}'", f"give a file path or one of: {', '.join(known)}")
    return res.read_text(encoding="utf-8")


def render(template: str, question: str, row: Mapping[str, Any] | None = None, tests_field: str = "test_list") -> str:
    row = row or {}
    tests = row.get(tests_field) or []
    tests_txt = "\n".join(map(str, tests)) if isinstance(tests, list | tuple) else str(tests)
    opts = row.get("choices") or row.get("options") or []
    if isinstance(opts, Mapping):
        choices_txt = "\n".join(f"{k}. {v}" for k, v in opts.items())
    else:
        choices_txt = "\n".join(f"{chr(65 + i)}. {v}" for i, v in enumerate(opts))
    if opts and all(str(v) in question for v in (opts.values() if isinstance(opts, Mapping) else opts)):
        choices_txt = ""  # the question already lists its options
    out = template.replace("{question}", question.strip()).replace("{tests}", tests_txt).replace("{choices}", choices_txt)
    return re.sub(r"\n{3,}", "\n\n", out).rstrip() + "\n"
