"""Prompt templates: `curate/prompts/synth_*.txt`, overridable file by file with `--prompts-dir`.

Templates use `$name` placeholders (string.Template), so JSON braces need no escaping.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path
from string import Template

from curate.errors import UsageError


@lru_cache(maxsize=64)
def _read(name: str, prompts_dir: str | None) -> str:
    if prompts_dir:
        p = Path(prompts_dir) / f"synth_{name}.txt"
        if p.is_file():
            return p.read_text(encoding="utf-8")
    try:
        return resources.files("curate").joinpath(f"prompts/synth_{name}.txt").read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise UsageError(f"prompt template 'synth_{name}.txt' not found", "reinstall curate or fix --prompts-dir") from exc


def render(name: str, prompts_dir: str | None = None, **values: str) -> str:
    return Template(_read(name, prompts_dir)).safe_substitute(**values).strip()


def template_words(prompts_dir: str | None = None) -> tuple[str, ...]:
    """Phrases that only a prompt contains: seeing one in a generated problem means the template leaked."""
    return (
        "json",
        '"problem":',
        '"solution":',
        '"answer":',
        "rewrite this problem",
        "write one new problem",
        "a student got wrong",
        "add only 10 to 20 words",
        "#rewritten prompt#",
        "#given prompt#",
        "$problem",
        "$instruction",
    )


@lru_cache(maxsize=8)
def op_instructions(prompts_dir: str | None = None) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in _read("ops", prompts_dir).splitlines():
        line = line.strip()
        if not line or line.startswith("#") or ":" not in line:
            continue
        name, text = line.split(":", 1)
        out[name.strip()] = text.strip()
    return out
