"""The agent's tools, defined once (validation, codecs, prompts, templates and served backends import them):
`search_hotels` (find hotels), `book_hotel` (book one, after the user confirms) and `cancel_booking`.

`validate_arguments` / `validate_booking` / `validate_cancel` turn a model's (or a user's) call into clean
arguments or an ArgumentError: one line naming the field."""

from __future__ import annotations

import copy
import datetime as dt
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from agent.core.dates import check_in_date, small_number
from agent.core.errors import ArgumentError, UserError
from agent.core.text import MAX_FACILITIES, MAX_FIELD_CHARS, clean_text, limit_length

TOOL_NAME = "search_hotels"
BOOK_TOOL_NAME = "book_hotel"
CANCEL_TOOL_NAME = "cancel_booking"
MAX_NIGHTS = 365
HOTEL_TYPES = ("豪华型", "经济型", "舒适型", "高档型")

# The course's tool description plus `near` (a place; agent.core.places). Without `near` it is byte for byte
# the tool of the course data (its glm4 files carry it in the system message): `course_search_tool()`.
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
                "near": {
                    "type": "string",
                    "description": "只查这个地点附近的酒店：景点、餐馆、酒店的名称或地铁站（如 故宫、西直门地铁站）",
                },
            },
            "required": [],
        },
    },
}

BOOK_HOTEL_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": BOOK_TOOL_NAME,
        "description": "用户选定酒店并给出入住人、入住日期和晚数后预订酒店（系统会先请用户确认）",
        "parameters": {
            "type": "object",
            "properties": {
                "hotel": {"type": "string", "description": "酒店名称（用查询结果里的名称）"},
                "guest": {"type": "string", "description": "入住人姓名"},
                "check_in": {
                    "type": "string",
                    "description": "入住日期：2026-12-01，或用户的说法（12月1日、后天、下周五）",
                },
                "nights": {"type": "integer", "minimum": 1, "maximum": MAX_NIGHTS, "description": "入住几晚"},
            },
            "required": ["hotel", "guest", "check_in", "nights"],
        },
    },
}

CANCEL_BOOKING_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": CANCEL_TOOL_NAME,
        "description": "取消用户的一个预订（系统会先请用户确认）",
        "parameters": {
            "type": "object",
            "properties": {"booking_id": {"type": "integer", "description": "预订编号（预订结果里的 booking_id）"}},
            "required": ["booking_id"],
        },
    },
}

# Every tool, in the order prompts list them.
TOOLS: tuple[dict[str, Any], ...] = (SEARCH_HOTELS_TOOL, BOOK_HOTEL_TOOL, CANCEL_BOOKING_TOOL)
TOOL_NAMES: tuple[str, ...] = tuple(t["function"]["name"] for t in TOOLS)

PROPERTIES: dict[str, dict[str, Any]] = SEARCH_HOTELS_TOOL["function"]["parameters"]["properties"]
ARGUMENT_KEYS: tuple[str, ...] = tuple(PROPERTIES)
# The arguments the course's data and models know: every one but those this project added.
PROJECT_ARGUMENT_KEYS = ("near",)
COURSE_ARGUMENT_KEYS: tuple[str, ...] = tuple(k for k in ARGUMENT_KEYS if k not in PROJECT_ARGUMENT_KEYS)
NUMBER_KEYS = tuple(k for k, p in PROPERTIES.items() if p["type"] == "number")
RANGES = (("price_range_lower", "price_range_upper"), ("rating_range_lower", "rating_range_upper"))


def course_search_tool() -> dict[str, Any]:
    """search_hotels as the course defined it (SEARCH_HOTELS_TOOL without the project's arguments): what its
    data files carry, so codecs write a dialogue that uses none of them back byte for byte."""
    tool = copy.deepcopy(SEARCH_HOTELS_TOOL)
    properties = tool["function"]["parameters"]["properties"]
    for key in PROJECT_ARGUMENT_KEYS:
        del properties[key]
    return tool


def tool_json(indent: int | None = None, tool: dict[str, Any] = SEARCH_HOTELS_TOOL) -> str:
    """A tool description as JSON text, for prompts and templates."""
    return json.dumps(tool, ensure_ascii=False, indent=indent)


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
            text = _string(key, value)
            if "enum" in spec and text not in spec["enum"]:
                raise ArgumentError(f"argument {key!r} must be one of {', '.join(spec['enum'])}, got {text!r}")
            clean[key] = text
    for lower, upper in RANGES:
        if lower in clean and upper in clean and clean[lower] > clean[upper]:
            raise ArgumentError(f"{lower}={clean[lower]:g} is greater than {upper}={clean[upper]:g}")
    return clean


def _number(key: str, value: Any, spec: Mapping[str, Any]) -> float:
    if isinstance(value, bool):
        raise ArgumentError(f"argument {key!r} must be a number, got {value!r}")
    if isinstance(value, str):
        if len(value) > 32:
            raise ArgumentError(f"argument {key!r} must be a number, got a {len(value)}-character string")
        try:
            value = float(value.strip())
        except ValueError:
            raise ArgumentError(f"argument {key!r} must be a number, got {value!r}") from None
    if not isinstance(value, (int, float)):
        raise ArgumentError(f"argument {key!r} must be a number, got {type(value).__name__}")
    try:
        number = float(value)
    except OverflowError:  # an int with hundreds of digits
        raise ArgumentError(f"argument {key!r} is far too large a number") from None
    if not math.isfinite(number):
        raise ArgumentError(f"argument {key!r} must be a finite number, got {number!r}")
    if "minimum" in spec and number < spec["minimum"]:
        raise ArgumentError(f"argument {key!r} must be at least {spec['minimum']}, got {number:g}")
    if "maximum" in spec and number > spec["maximum"]:
        raise ArgumentError(f"argument {key!r} must be at most {spec['maximum']}, got {number:g}")
    return number


def _string(key: str, value: Any) -> str:
    """A non-empty string of at most MAX_FIELD_CHARS, cleaned (agent.core.text.clean_text) and stripped."""
    if not isinstance(value, str):
        raise ArgumentError(f"argument {key!r} must be a string, got {type(value).__name__}", field=key)
    text = clean_text(value).strip()
    if not text:
        raise ArgumentError(f"argument {key!r} must be a non-empty string", field=key)
    try:
        return limit_length(text, MAX_FIELD_CHARS, f"argument {key!r}")
    except UserError as e:
        raise ArgumentError(str(e), field=key) from None


def _string_list(key: str, value: Any) -> list[str]:
    if isinstance(value, str):
        raise ArgumentError(f"argument {key!r} must be a list of strings, got a string")
    if not isinstance(value, (list, tuple)):
        raise ArgumentError(f"argument {key!r} must be a list of strings, got {type(value).__name__}")
    if len(value) > MAX_FACILITIES:
        raise ArgumentError(f"argument {key!r} may hold at most {MAX_FACILITIES} items, got {len(value):,}")
    return [_string(key, item) for item in value]


# ---- book_hotel / cancel_booking ---------------------------------------------------------------------------


@dataclass(frozen=True)
class BookingArguments:
    """A valid book_hotel call. `hotel` is a name still to be resolved against the store (the loop does)."""

    hotel: str
    guest: str
    check_in: dt.date
    nights: int

    def to_json(self) -> dict[str, Any]:
        return {"hotel": self.hotel, "guest": self.guest, "check_in": self.check_in.isoformat(), "nights": self.nights}


def validate_booking(arguments: Any, today: dt.date) -> BookingArguments:
    """Check a book_hotel call: every field present, a real check-in date from today to a year ahead (ISO or
    the user's words, resolved against `today`), 1 to 365 nights."""
    fields = _object(BOOK_HOTEL_TOOL, arguments)
    return BookingArguments(
        hotel=_string("hotel", fields["hotel"]),
        guest=guest_name(fields["guest"]),
        check_in=check_in_date(fields["check_in"], today),
        nights=nights_count(fields["nights"]),
    )


def validate_cancel(arguments: Any) -> int:
    """Check a cancel_booking call; returns the booking id."""
    fields = _object(CANCEL_BOOKING_TOOL, arguments)
    value = fields["booking_id"]
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) < 10:
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ArgumentError(f"booking_id must be a booking number such as 3, got {value!r}", field="booking_id")
    return value


def guest_name(value: Any) -> str:
    """A guest name: cleaned text, one line, 1 to MAX_FIELD_CHARS characters."""
    return " ".join(_string("guest", value).split())


def nights_count(value: Any) -> int:
    """Nights from 1 to MAX_NIGHTS: an integer, an integral float (2.0), or a numeral in text (2, 两)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str):
        parsed = small_number(value.strip().removesuffix("晚"))
        value = parsed if parsed is not None else value
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_NIGHTS:
        raise ArgumentError(f"nights must be a whole number from 1 to {MAX_NIGHTS}, got {value!r}", field="nights")
    return value


def _object(tool: dict[str, Any], arguments: Any) -> dict[str, Any]:
    """The call's fields: a JSON object with only the tool's keys (None values dropped) and every required one."""
    function = tool["function"]
    name, properties = function["name"], function["parameters"]["properties"]
    if not isinstance(arguments, Mapping):
        raise ArgumentError(f"{name} arguments must be a JSON object, got {type(arguments).__name__}")
    unknown = [k for k in arguments if k not in properties]
    if unknown:
        raise ArgumentError(f"{name}: unknown argument {unknown[0]!r}; allowed: {', '.join(properties)}")
    fields = {k: v for k, v in arguments.items() if v is not None}
    missing = [k for k in function["parameters"]["required"] if k not in fields]
    if missing:
        raise ArgumentError(f"{name}: missing {', '.join(missing)}", field=missing[0])
    return fields
