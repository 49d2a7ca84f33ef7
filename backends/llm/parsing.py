"""Model text → the next agent turn (a tool call — SearchTurn, BookTurn, CancelTurn — or an AssistantTurn).
Never raises on any input.

A call is written `<tool name>\\n{json}` (GLM-4, and prompt-only models told so) or under the call's own role
(`search` / `book` / `cancel`: the custom-role templates). Models get JSON slightly wrong: code fences, prose
around the object, single quotes, trailing commas, a truncated end (max-new-tokens), keys outside the schema,
"500元" for a number. `parse_agent_turn` keeps what is usable and drops the rest; search arguments it returns
always pass `agent.core.schema.validate_arguments`; booking arguments keep only the tool's keys and are checked by
the dialogue loop (which asks the user to confirm before anything is written)."""

from __future__ import annotations

import math
import re
from typing import Any

from agent.core.errors import ArgumentError
from agent.core.schema import HOTEL_TYPES, PROPERTIES, RANGES, TOOL_NAMES, TOOLS, validate_arguments
from agent.core.turns import CALL_BY_TOOL, CALL_TYPES, AgentTurn, AssistantTurn, BookTurn, CancelTurn, SearchTurn
from prompts.families import MODEL_ROLES, Family, get_family

_FENCE = re.compile(r"```[A-Za-z0-9_-]*\s*\n?(.*?)(?:```|$)", re.S)
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")
_FACILITY_SPLIT = re.compile(r"[,，、;；/]+|\s+")
MAX_DEPTH = 20  # deeper nesting is never a search_hotels call; the limit keeps recursion bounded


def parse_agent_turn(text: str, family: str | Family) -> AgentTurn:
    """The turn a model wrote after the family's generation prompt (stop tokens may be included)."""
    family = get_family(family)
    role, body = split_role(_cut_at_stop(text, family), family)
    body = _strip_special(body, family).strip()
    for tool, turn_type in CALL_BY_TOOL.items():
        if body.startswith(tool):
            return _call(turn_type, body[len(tool) :])
    if role in _CALL_BY_ROLE:
        return _call(_CALL_BY_ROLE[role], body)
    # A prompt-only model may answer with a bare arguments object instead of using the search role.
    bare = _bare_arguments_object(body)
    if bare is not None:
        return SearchTurn(bare)
    return AssistantTurn(body)


_CALL_BY_ROLE = {t.role: t for t in CALL_TYPES}
_TOOL_KEYS = {tool["function"]["name"]: tuple(tool["function"]["parameters"]["properties"]) for tool in TOOLS}


def _call(turn_type: type[SearchTurn] | type[BookTurn] | type[CancelTurn], text: str) -> AgentTurn:
    if turn_type is SearchTurn:
        return SearchTurn(salvage_arguments(text))
    obj = loads_lenient(_unfence(text))
    keys = _TOOL_KEYS[turn_type.tool]
    arguments = {k: v for k, v in obj.items() if k in keys} if isinstance(obj, dict) else {}
    return turn_type(arguments)


def _cut_at_stop(text: str, family: Family) -> str:
    cut = len(text)
    for token in family.stop_tokens:
        position = text.find(token)
        if position != -1:
            cut = min(cut, position)
    return text[:cut]


def _strip_special(text: str, family: Family) -> str:
    for token in family.special_tokens:
        if token in text:
            text = text.replace(token, "")
    return text


def split_role(text: str, family: Family) -> tuple[str | None, str]:
    """(role the model wrote, or None; the rest). ChatML: `search\\n...`; Llama-3: `search<|end_header_id|>\\n\\n...`;
    GLM-4 writes no role (a call starts with `search_hotels`)."""
    if family.template == "llama3.jinja" and "<|end_header_id|>" in text:
        role, _, rest = text.partition("<|end_header_id|>")
        return role.strip() or None, rest
    if family.template == "qwen2.jinja":
        first, newline, rest = text.partition("\n")
        if newline and first.strip() in MODEL_ROLES:
            return first.strip(), rest
    return None, text


def _bare_arguments_object(body: str) -> dict[str, Any] | None:
    candidate = _unfence(body).strip()
    if not (candidate.startswith("{") and candidate.rstrip().endswith("}")):
        return None
    obj = loads_lenient(candidate)
    if not isinstance(obj, dict) or not obj or not set(obj) <= set(PROPERTIES):
        return None
    return coerce_arguments(obj)


def salvage_arguments(text: str) -> dict[str, Any]:
    """The best valid search_hotels arguments in `text` ({} when nothing usable)."""
    obj = loads_lenient(_unfence(text))
    return coerce_arguments(obj)


def _unfence(text: str) -> str:
    match = _FENCE.search(text)
    return match.group(1) if match else text


# ---- lenient JSON -----------------------------------------------------------------------------------


def loads_lenient(text: str) -> Any:
    """The first JSON object in `text`, read leniently: single quotes, unquoted keys, trailing or missing
    commas, Python literals; a truncated end keeps every complete member. None when there is no object."""
    start = text.find("{")
    if start == -1:
        return None
    try:
        value, _ = _Reader(text, start).value(0)
    except (RecursionError, _Incomplete):
        return None
    return value


class _Incomplete(Exception):
    """The text ended (or broke) inside a value."""


class _Reader:
    def __init__(self, text: str, position: int):
        self.text, self.i = text, position

    def _skip(self) -> None:
        while self.i < len(self.text) and self.text[self.i] in " \t\r\n":
            self.i += 1

    def _peek(self) -> str:
        self._skip()
        if self.i >= len(self.text):
            raise _Incomplete
        return self.text[self.i]

    def value(self, depth: int) -> tuple[Any, int]:
        if depth > MAX_DEPTH:
            raise _Incomplete
        c = self._peek()
        if c == "{":
            return self._object(depth), self.i
        if c == "[":
            return self._array(depth), self.i
        if c in "\"'“‘":
            return self._string(), self.i
        match = _NUMBER.match(self.text, self.i)
        if match:
            self.i = match.end()
            number = float(match.group())  # overflow gives inf (dropped later), never an exception
            integral = re.fullmatch(r"-?\d+", match.group()) and abs(number) < 2**53
            return (int(number) if integral else number), self.i
        for word, literal in (
            ("true", True),
            ("false", False),
            ("null", None),
            ("True", True),
            ("False", False),
            ("None", None),
        ):
            if self.text.startswith(word, self.i):
                self.i += len(word)
                return literal, self.i
        raise _Incomplete

    def _string(self) -> str:
        quote = self.text[self.i]
        closing = {"“": "”", "‘": "’"}.get(quote, quote)
        self.i += 1
        out = []
        while self.i < len(self.text):
            c = self.text[self.i]
            if c == "\\" and self.i + 1 < len(self.text):
                escaped = self.text[self.i + 1]
                if escaped == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", self.text[self.i + 2 : self.i + 6]):
                    out.append(chr(int(self.text[self.i + 2 : self.i + 6], 16)))
                    self.i += 6
                    continue
                out.append({"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f"}.get(escaped, escaped))
                self.i += 2
                continue
            if c == closing:
                self.i += 1
                return "".join(out)
            out.append(c)
            self.i += 1
        raise _Incomplete  # an unterminated string is not kept: its end is unknown

    def _key(self) -> str:
        c = self._peek()
        if c in "\"'“‘":
            return self._string()
        match = re.compile(r"[A-Za-z_][A-Za-z0-9_]*").match(self.text, self.i)
        if not match:
            raise _Incomplete
        self.i = match.end()
        return match.group()

    def _object(self, depth: int) -> dict[str, Any]:
        self.i += 1  # {
        result: dict[str, Any] = {}
        while True:
            try:
                c = self._peek()
            except _Incomplete:
                return result  # truncated: keep the complete members
            if c == "}":
                self.i += 1
                return result
            if c == ",":
                self.i += 1
                continue
            try:
                key = self._key()
                if self._peek() not in ":：":
                    return result
                self.i += 1
                value, _ = self.value(depth + 1)
            except _Incomplete:
                return result
            result[key] = value

    def _array(self, depth: int) -> list[Any]:
        self.i += 1  # [
        result: list[Any] = []
        while True:
            try:
                c = self._peek()
            except _Incomplete:
                raise  # a truncated list is an unknown list: drop the member that holds it
            if c == "]":
                self.i += 1
                return result
            if c == ",":
                self.i += 1
                continue
            value, _ = self.value(depth + 1)
            result.append(value)


# ---- coercion to the schema --------------------------------------------------------------------------


def coerce_arguments(obj: Any) -> dict[str, Any]:
    """Keep the schema's keys, coerce values of the wrong type where the meaning is clear, drop the rest;
    the result passes validate_arguments."""
    if not isinstance(obj, dict):
        return {}
    clean: dict[str, Any] = {}
    for key, value in obj.items():
        if not isinstance(key, str) or key not in PROPERTIES or value is None:
            continue
        coerced = _coerce(key, value)
        if coerced is None:
            continue
        try:
            clean.update(validate_arguments({key: coerced}))
        except ArgumentError:
            continue
    for lower, upper in RANGES:  # "between 500 and 300": the user meant the range, in either order
        if lower in clean and upper in clean and clean[lower] > clean[upper]:
            clean[lower], clean[upper] = clean[upper], clean[lower]
    return validate_arguments(clean)


def _coerce(key: str, value: Any) -> Any:
    kind = PROPERTIES[key]["type"]
    if kind == "number":
        return _as_number(value)
    if kind == "array":
        return _as_string_list(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        return None
    if key == "type":
        return _as_hotel_type(value.strip())
    return value.strip()


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        try:
            number = float(value)
        except OverflowError:
            return None
        return number if math.isfinite(number) else None
    if isinstance(value, str):
        match = _NUMBER.search(value.replace(",", ""))
        if match:
            number = float(match.group())
            return number if math.isfinite(number) else None
    if isinstance(value, list) and len(value) == 1:
        return _as_number(value[0])
    return None


def _as_string_list(value: Any) -> list[str] | None:
    if isinstance(value, str):
        items = [part for part in _FACILITY_SPLIT.split(value) if part]
    elif isinstance(value, list):
        items = [str(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v for v in value]
        items = [v.strip() for v in items if isinstance(v, str) and v.strip()]
    else:
        return None
    return items or None


def _as_hotel_type(value: str) -> str | None:
    if value in HOTEL_TYPES:
        return value
    for hotel_type in HOTEL_TYPES:  # "经济" or "经济型酒店" → 经济型
        if hotel_type[:2] in value:
            return hotel_type
    return None


def display_text(raw: str, family: str | Family) -> str | None:
    """The reply text a front end may show while `raw` is still being generated, or None while the turn may
    still be a search (or the role is not written yet). Only ever grows as `raw` grows."""
    family = get_family(family)
    role, body = split_role(_cut_at_stop(raw, family), family)
    if family.template != "glm4.jinja" and role != "assistant":
        return None
    body = _strip_special(body, family).lstrip()
    if (
        not body
        or body.startswith("{")
        or body.startswith("`")
        or any(name.startswith(body) or body.startswith(name) for name in TOOL_NAMES)
    ):
        return None
    return body
