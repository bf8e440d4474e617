"""The JSON the generator and critic must return, validated with pydantic.

Small models wrap JSON in prose or code fences, or stop mid-object: `parse_json` takes the first
balanced `{...}` object in the text and validates it; the error it returns goes back to the model
in a repair prompt.
"""

from __future__ import annotations

import json
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class Problem(_Strict):
    """A new problem with a worked solution and its final answer."""

    problem: str = Field(min_length=1)
    solution: str = ""
    answer: str = Field(min_length=1)

    @field_validator("answer", "solution", "problem", mode="before")
    @classmethod
    def _to_text(cls, v: Any) -> Any:
        return str(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v


class Critique(_Strict):
    """The critic's verdict on a problem: well-posed with a correct answer, or not, and why."""

    verdict: Literal["accept", "reject"]
    reason: str = ""

    @field_validator("verdict", mode="before")
    @classmethod
    def _norm(cls, v: Any) -> Any:
        return v.strip().lower() if isinstance(v, str) else v


M = TypeVar("M", bound=BaseModel)


def json_schema(model: type[BaseModel]) -> dict[str, Any]:
    """A plain JSON schema (no titles) for constrained decoding."""
    schema = model.model_json_schema()
    schema.pop("title", None)
    schema.pop("description", None)
    for prop in schema.get("properties", {}).values():
        prop.pop("title", None)
        prop.pop("default", None)
    schema["required"] = list(schema.get("properties", {}))
    schema["additionalProperties"] = False
    return schema


def first_json_object(text: str) -> str | None:
    """The first balanced {...} in `text` (strings and escapes respected), or None."""
    start = text.find("{")
    while start != -1:
        depth, in_str, esc = 0, False, False
        for i in range(start, len(text)):
            c = text[i]
            if in_str:
                if esc:
                    esc = False
                elif c == "\\":
                    esc = True
                elif c == '"':
                    in_str = False
            elif c == '"':
                in_str = True
            elif c == "{":
                depth += 1
            elif c == "}":
                depth -= 1
                if depth == 0:
                    return text[start : i + 1]
        start = text.find("{", start + 1)
    return None


def parse_json(text: str, model: type[M]) -> tuple[M | None, str | None]:
    """(validated object, None) or (None, a short error the model can be shown)."""
    if not text or not text.strip():
        return None, "empty output"
    blob = first_json_object(text)
    if blob is None:
        return None, "no JSON object found"
    try:
        data = json.loads(blob, strict=False)
    except json.JSONDecodeError as exc:
        return None, f"invalid JSON ({exc.msg})"
    if not isinstance(data, dict):
        return None, "JSON is not an object"
    try:
        return model.model_validate(data), None
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first.get("loc", ())) or "object"
        return None, f"field '{loc}': {first.get('msg', 'invalid')}"
