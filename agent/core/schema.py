"""The `search_hotels` tool: its JSON schema (defined once, imported by validation, prompts and templates)
and `validate_arguments`, which turns model or user output into clean arguments or a clear error."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from agent.core.errors import ArgumentError

TOOL_NAME = "search_hotels"
HOTEL_TYPES = ("豪华型", "经济型", "舒适型", "高档型")

# Byte-for-byte the tool description of the course data (its glm4 files carry it in the system message),
# so the GLM-4 codec reproduces those files exactly and every template shows the model the same schema.
SEARCH_HOTELS_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": TOOL_NAME,
        "description": "根据用户的需求生成查询条件来查酒店",
        "parameters": {
            "type": "object",
            "properties": {
                "name": {"type": "string", "description": "酒店名称"},
                "type": {"type": "string", "enum": list(HOTEL_TYPES), "description": "酒店类型"},
                "facilities": {"type": "array", "items": {"type": "string"}, "description": "酒店能提供的设施列表"},
                "price_range_lower": {"type": "number", "minimum": 0, "description": "价格下限"},
                "price_range_upper": {"type": "number", "minimum": 0, "description": "价格上限"},
                "rating_range_lower": {"type": "number", "minimum": 0, "maximum": 5, "description": "评分下限"},
                "rating_range_upper": {"type": "number", "minimum": 0, "maximum": 5, "description": "评分上限"},
            },
            "required": [],
        },
    },
}

PROPERTIES: dict[str, dict[str, Any]] = SEARCH_HOTELS_TOOL["function"]["parameters"]["properties"]
ARGUMENT_KEYS: tuple[str, ...] = tuple(PROPERTIES)
NUMBER_KEYS = tuple(k for k, p in PROPERTIES.items() if p["type"] == "number")
RANGES = (("price_range_lower", "price_range_upper"), ("rating_range_lower", "rating_range_upper"))


def tool_json(indent: int | None = None) -> str:
    """The tool description as JSON text, for prompts and templates."""
    return json.dumps(SEARCH_HOTELS_TOOL, ensure_ascii=False, indent=indent)


def validate_arguments(arguments: Any) -> dict[str, Any]:
    """Check `arguments` against the schema and return a normalized copy.

    Numbers become floats (numeric strings such as "500" are accepted), None values are dropped,
    facilities must be a list of non-empty strings. Anything else raises ArgumentError with one line
    naming the field."""
    if not isinstance(arguments, Mapping):
        raise ArgumentError(f"search_hotels arguments must be a JSON object, got {type(arguments).__name__}")
    clean: dict[str, Any] = {}
    for key, value in arguments.items():
        if key not in PROPERTIES:
            raise ArgumentError(f"unknown argument {key!r}; allowed: {', '.join(ARGUMENT_KEYS)}")
        if value is None:
            continue
        spec = PROPERTIES[key]
        if spec["type"] == "number":
            clean[key] = _number(key, value, spec)
        elif spec["type"] == "array":
            clean[key] = _string_list(key, value)
        else:
            if not isinstance(value, str) or not value.strip():
                raise ArgumentError(f"argument {key!r} must be a non-empty string, got {value!r}")
            if "enum" in spec and value not in spec["enum"]:
                raise ArgumentError(f"argument {key!r} must be one of {', '.join(spec['enum'])}, got {value!r}")
            clean[key] = value.strip()
    for lower, upper in RANGES:
        if lower in clean and upper in clean and clean[lower] > clean[upper]:
            raise ArgumentError(f"{lower}={clean[lower]:g} is greater than {upper}={clean[upper]:g}")
    return clean


def _number(key: str, value: Any, spec: Mapping[str, Any]) -> float:
    if isinstance(value, bool):
        raise ArgumentError(f"argument {key!r} must be a number, got {value!r}")
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise ArgumentError(f"argument {key!r} must be a number, got {value!r}") from None
    if not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ArgumentError(f"argument {key!r} must be a finite number, got {value!r}")
    number = float(value)
    if "minimum" in spec and number < spec["minimum"]:
        raise ArgumentError(f"argument {key!r} must be at least {spec['minimum']}, got {number:g}")
    if "maximum" in spec and number > spec["maximum"]:
        raise ArgumentError(f"argument {key!r} must be at most {spec['maximum']}, got {number:g}")
    return number


def _string_list(key: str, value: Any) -> list[str]:
    if isinstance(value, str):
        raise ArgumentError(f"argument {key!r} must be a list of strings, got the string {value!r}")
    if not isinstance(value, (list, tuple)):
        raise ArgumentError(f"argument {key!r} must be a list of strings, got {type(value).__name__}")
    items = []
    for item in value:
        if not isinstance(item, str) or not item.strip():
            raise ArgumentError(f"argument {key!r} must hold non-empty strings, got {item!r}")
        items.append(item.strip())
    return items
