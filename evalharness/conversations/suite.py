"""The conversation suite format: one YAML file per theme, each conversation a list of user lines with
expectations per step and for the end (docs/evaluation-conversations.md is the reference).

```yaml
theme: ordinals
conversations:
  - name: second hotel's phone
    tags: [ordinal]
    steps:
      - user: 我想找一家经济型酒店，要有无线网络
        expect: {search: true, search_has: {type: 经济型}}
      - user: 第二家的电话是多少？
        expect: {no_search: true, reply_has: "{shown[1].phone}"}
      - user: 帮我订第二家，两晚，12月1日入住，名字张三
        expect: {confirm: {hotel: "{shown[1].name}", guest: 张三, check_in: 2026-12-01, nights: 2}}
        answer: yes
    end: {booking: {hotel: "{shown[1].name}", guest: 张三, check_in: 2026-12-01, nights: 2}, false_claims: 0}
```

Loading checks everything a typo could hide (an unknown key, a wrong type, an empty step list) and says where:
`FILE:LINE: conversation 'NAME', step N: ...`. Placeholders (`{shown[1].name}`, `{today+2}`) stay as written
here; `placeholders` fills them when a step is judged."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from agent.core.datafiles import sha256_of
from agent.core.errors import UserError
from agent.core.schema import PROPERTIES
from evalharness.conversations import placeholders

SUITE_SUFFIXES = (".yaml", ".yml")
# The searches' argument keys an expectation may name; `near` is named even before the schema has it, so a
# near-X conversation fails as a missing feature rather than as a suite error.
SEARCH_KEYS = frozenset(PROPERTIES) | {"near"}
_LINE = "__line__"


@dataclass(frozen=True)
class BookingExpect:
    """Fields a booking (or a proposal) must have; None: not checked. `hotel` may be a placeholder
    ({shown[1].name}) or a literal name (a short name matches the full name containing it)."""

    hotel: str | None = None
    guest: str | None = None
    check_in: str | None = None  # ISO date or a {today+N} placeholder
    nights: int | None = None


@dataclass(frozen=True)
class FacilityQuestion:
    """A yes/no question about a facility of a hotel: the reply must give the database's answer."""

    hotel: str  # a placeholder or a literal name
    facility: str  # a phrase evalharness.conversations.facility_words knows


@dataclass(frozen=True)
class StepExpect:
    search: bool | None = None  # True: a search ran this step; False: none did
    search_has: tuple[tuple[str, Any], ...] = ()  # the step's last search has these arguments
    # ... and none of these keys (value None) or values (游泳池 among the facilities)
    search_lacks: tuple[tuple[str, Any], ...] = ()
    clarify: bool = False  # no search, no action, no goodbye: a question or an invitation to say more
    chinese_only: bool = False  # no search, no action: the reply says the agent speaks Chinese
    reply_has: tuple[str, ...] = ()
    reply_has_any: tuple[str, ...] = ()
    reply_lacks: tuple[str, ...] = ()
    confirm: BookingExpect | bool | None = None  # a booking proposal was (True / details) or was not (False) asked
    confirm_cancel: bool | None = None  # a cancellation proposal was (not) asked
    booked: BookingExpect | bool | None = None  # the store gained an active booking this step (like this)
    cancelled: bool | None = None  # a booking in the store was cancelled this step
    facility_answer: FacilityQuestion | None = None
    no_claim: bool = False  # explicit; a false claim fails the conversation anyway (EndExpect.false_claims)


@dataclass(frozen=True)
class EndExpect:
    """Judged from the Bookings store once the conversation is over."""

    booking: BookingExpect | None = None  # exactly one active booking, like this
    bookings: int | None = None  # this many active bookings
    no_booking: bool = False  # nothing was ever written
    cancelled: BookingExpect | bool | None = None  # a cancelled booking (like this) and no active one
    false_claims: int = 0  # replies that claimed a booking or cancellation that did not happen


@dataclass(frozen=True)
class Step:
    user: str
    expect: StepExpect
    answer: bool  # how the simulated person answers a confirmation this step (yes by default)
    line: int


@dataclass(frozen=True)
class Conversation:
    name: str
    steps: tuple[Step, ...]
    end: EndExpect
    tags: tuple[str, ...]
    line: int
    suite: str  # the suite file's display path

    @property
    def id(self) -> str:
        return f"{Path(self.suite).stem}/{self.name}"


@dataclass(frozen=True)
class Suite:
    path: str  # as given on the command line (or relative to the bundled suites)
    sha256: str
    theme: str
    description: str
    conversations: tuple[Conversation, ...]


def bundled_suites_dir() -> Path:
    """evalharness/suites/: the project's own conversations."""
    return Path(__file__).resolve().parent.parent / "suites"


def suite_files(path: Path) -> list[Path]:
    """The suite files a path names: the file itself, or a directory's *.yaml / *.yml files, sorted."""
    if path.is_file():
        return [path]
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix in SUITE_SUFFIXES)
        if not files:
            raise UserError(f"{path}: no suite files (*.yaml) in this directory")
        return files
    raise UserError(f"{path}: no such suite file or directory")


def load_suites(path: Path) -> list[Suite]:
    suites = [load_suite(p) for p in suite_files(path)]
    seen: dict[str, str] = {}
    for suite in suites:
        for conversation in suite.conversations:
            if conversation.id in seen:
                raise UserError(f"{suite.path}: conversation id {conversation.id!r} is also in {seen[conversation.id]}")
            seen[conversation.id] = suite.path
    return suites


def load_suite(path: Path) -> Suite:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise UserError(f"{path}: cannot read the suite ({getattr(e, 'strerror', None) or e})") from None
    try:
        data = yaml.load(text, Loader=_LineLoader)  # a SafeLoader subclass: no arbitrary objects
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        at = f":{mark.line + 1}" if mark is not None else ""
        raise UserError(f"{path}{at}: not valid YAML ({getattr(e, 'problem', None) or e})") from None
    where = _Where(str(path))
    if not isinstance(data, dict):
        raise where.error("a suite file is a mapping with `theme` and `conversations`", 1)
    _only(data, {"theme", "description", "conversations"}, where, "suite key")
    conversations = data.get("conversations")
    if not isinstance(conversations, list) or not conversations:
        raise where.error("`conversations` must be a non-empty list", data[_LINE])
    parsed = [_conversation(c, where) for c in conversations]
    names = [c.name for c in parsed]
    for conversation in parsed:
        if names.count(conversation.name) > 1:
            raise where.error(f"two conversations are named {conversation.name!r}", conversation.line)
    return Suite(
        path=str(path),
        sha256=sha256_of(path),
        theme=_text(data.get("theme", path.stem), where, "theme", data[_LINE]),
        description=_text(data["description"], where, "description", data[_LINE]) if "description" in data else "",
        conversations=tuple(parsed),
    )


# ---- parsing ------------------------------------------------------------------------------------------------

_STEP_EXPECT_KEYS = {
    "search",
    "no_search",
    "search_has",
    "search_lacks",
    "clarify",
    "chinese_only",
    "reply_has",
    "reply_has_any",
    "reply_lacks",
    "confirm",
    "confirm_cancel",
    "booked",
    "cancelled",
    "facility_answer",
    "no_claim",
}
_END_KEYS = {"booking", "bookings", "no_booking", "cancelled", "false_claims"}
_BOOKING_KEYS = {"hotel", "guest", "check_in", "nights"}


@dataclass(frozen=True)
class _Where:
    path: str
    conversation: str | None = None
    step: int | None = None

    def error(self, message: str, line: int | None) -> UserError:
        place = self.path + (f":{line}" if line else "")
        context = []
        if self.conversation is not None:
            context.append(f"conversation {self.conversation!r}")
        if self.step is not None:
            context.append(f"step {self.step}")
        return UserError(f"{place}: " + (", ".join(context) + ": " if context else "") + message)


def _conversation(data: Any, where: _Where) -> Conversation:
    if not isinstance(data, dict):
        raise where.error("each conversation is a mapping with `name` and `steps`", None)
    line = data[_LINE]
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise where.error("a conversation needs a `name`", line)
    where = _Where(where.path, name)
    _only(data, {"name", "tags", "steps", "end"}, where, "conversation key", line)
    steps = data.get("steps")
    if not isinstance(steps, list) or not steps:
        raise where.error("`steps` must be a non-empty list", line)
    tags = data.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) and t for t in tags):
        raise where.error("`tags` must be a list of words", line)
    end = data.get("end", {})
    if not isinstance(end, dict):
        raise where.error("`end` must be a mapping", line)
    return Conversation(
        name=name,
        steps=tuple(_step(s, _Where(where.path, name, i), line) for i, s in enumerate(steps, 1)),
        end=_end(end, where),
        tags=tuple(tags),
        line=line,
        suite=where.path,
    )


def _step(data: Any, where: _Where, conversation_line: int) -> Step:
    if isinstance(data, str):
        return Step(data, StepExpect(), True, conversation_line)  # a bare line: no expectation of its own
    if not isinstance(data, dict):
        raise where.error("a step is a mapping with `user` (and `expect`, `answer`)", conversation_line)
    line = data[_LINE]
    _only(data, {"user", "expect", "answer"}, where, "step key", line)
    user = data.get("user")
    if not isinstance(user, str) or not user.strip():
        raise where.error("a step needs a `user` line", line)
    answer = data.get("answer", True)
    if isinstance(answer, str) and answer.lower() in ("yes", "no"):
        answer = answer.lower() == "yes"
    if not isinstance(answer, bool):
        raise where.error(f"`answer` must be yes or no, got {answer!r}", line)
    expect = data.get("expect", {})
    if not isinstance(expect, dict):
        raise where.error("`expect` must be a mapping", line)
    return Step(user, _step_expect(expect, where, expect.get(_LINE) or line), answer, line)


def _step_expect(data: dict[str, Any], where: _Where, line: int) -> StepExpect:
    _only(data, _STEP_EXPECT_KEYS, where, "expectation", line)
    search = _flag(data, "search", where, line, allow_none=True)
    if _flag(data, "no_search", where, line):
        if search:
            raise where.error("`search: true` and `no_search: true` contradict each other", line)
        search = False
    search_has: dict[str, Any] = {}
    if "search_has" in data:
        raw = data["search_has"]
        if not isinstance(raw, dict) or not {k for k in raw if k != _LINE}:
            raise where.error("`search_has` must map search arguments to values", line)
        _only(raw, SEARCH_KEYS, where, "search argument in search_has", line)
        search_has = {k: _argument_value(v, where, k, line) for k, v in raw.items() if k != _LINE}
        if search is False:
            raise where.error("`search_has` needs a search, but the step expects none", line)
        search = True
    search_lacks = _search_lacks(data.get("search_lacks", []), where, line)
    facility = None
    if "facility_answer" in data:
        raw = data["facility_answer"]
        if not isinstance(raw, dict):
            raise where.error("`facility_answer` is {hotel: ..., facility: ...}", line)
        _only(raw, {"hotel", "facility"}, where, "facility_answer key", line)
        from evalharness.conversations.facility_words import facility_names

        phrase = _text(raw.get("facility"), where, "facility_answer.facility", line)
        if not facility_names(phrase):
            raise where.error(f"facility_answer: {phrase!r} is not a facility phrase this harness knows", line)
        facility = FacilityQuestion(_text(raw.get("hotel"), where, "facility_answer.hotel", line), phrase)
    return StepExpect(
        search=search,
        search_has=tuple(search_has.items()),
        search_lacks=search_lacks,
        clarify=_flag(data, "clarify", where, line),
        chinese_only=_flag(data, "chinese_only", where, line),
        reply_has=_texts(data.get("reply_has", []), where, "reply_has", line),
        reply_has_any=_texts(data.get("reply_has_any", []), where, "reply_has_any", line),
        reply_lacks=_texts(data.get("reply_lacks", []), where, "reply_lacks", line),
        confirm=_booking_or_flag(data, "confirm", where, line),
        confirm_cancel=_flag(data, "confirm_cancel", where, line, allow_none=True),
        booked=_booking_or_flag(data, "booked", where, line),
        cancelled=_flag(data, "cancelled", where, line, allow_none=True),
        facility_answer=facility,
        no_claim=_flag(data, "no_claim", where, line),
    )


def _search_lacks(raw: Any, where: _Where, line: int) -> tuple[tuple[str, Any], ...]:
    """`[price_range_upper, ...]` (keys that must be gone) or `{facilities: [游泳池]}` (values that must be)."""
    if isinstance(raw, dict):
        _only(raw, SEARCH_KEYS, where, "search argument in search_lacks", line)
        return tuple((k, _argument_value(v, where, k, line)) for k, v in raw.items() if k != _LINE)
    keys = _texts(raw, where, "search_lacks", line)
    unknown = [k for k in keys if k not in SEARCH_KEYS]
    if unknown:
        raise where.error(f"search_lacks: {unknown[0]!r} is no search argument", line)
    return tuple((k, None) for k in keys)


def _end(data: dict[str, Any], where: _Where) -> EndExpect:
    line = data.get(_LINE)
    _only(data, _END_KEYS, where, "end expectation", line)
    booking = _booking_or_flag(data, "booking", where, line)
    if isinstance(booking, bool):
        raise where.error("end `booking` lists the booking's fields (hotel, guest, check_in, nights)", line)
    bookings = data.get("bookings")
    if bookings is not None and (isinstance(bookings, bool) or not isinstance(bookings, int) or bookings < 0):
        raise where.error(f"end `bookings` must be a count, got {bookings!r}", line)
    false_claims = data.get("false_claims", 0)
    if isinstance(false_claims, bool) or not isinstance(false_claims, int) or false_claims < 0:
        raise where.error(f"end `false_claims` must be a count, got {false_claims!r}", line)
    no_booking = bool(_flag(data, "no_booking", where, line))
    if no_booking and (booking is not None or bookings):
        raise where.error("end `no_booking` contradicts an expected booking", line)
    return EndExpect(
        booking=booking,
        bookings=bookings,
        no_booking=no_booking,
        cancelled=_booking_or_flag(data, "cancelled", where, line),
        false_claims=false_claims,
    )


def _booking_or_flag(data: dict[str, Any], key: str, where: _Where, line: int | None) -> BookingExpect | bool | None:
    value = data.get(key)
    if value is None or isinstance(value, bool):
        return value
    if not isinstance(value, dict):
        raise where.error(f"`{key}` must be true, false or a mapping of booking fields", line)
    _only(value, _BOOKING_KEYS, where, f"booking field in {key}", line)
    nights = value.get("nights")
    if nights is not None and (isinstance(nights, bool) or not isinstance(nights, int) or nights < 1):
        raise where.error(f"{key}.nights must be a whole number of nights, got {nights!r}", line)
    check_in = value.get("check_in")
    if isinstance(check_in, dt.date):
        check_in = check_in.isoformat()  # YAML reads 2026-12-01 as a date
    return BookingExpect(
        hotel=_optional_text(value.get("hotel"), where, f"{key}.hotel", line),
        guest=_optional_text(value.get("guest"), where, f"{key}.guest", line),
        check_in=_optional_text(check_in, where, f"{key}.check_in", line),
        nights=nights,
    )


def _flag(data: dict[str, Any], key: str, where: _Where, line: int | None, *, allow_none: bool = False) -> Any:
    value = data.get(key)
    if value is None:
        return None if allow_none else False
    if not isinstance(value, bool):
        raise where.error(f"`{key}` must be true or false, got {value!r}", line)
    return value


def _argument_value(value: Any, where: _Where, key: str, line: int | None) -> Any:
    if isinstance(value, list):
        return tuple(_text(v, where, f"search_has.{key}", line) for v in value)
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise where.error(f"search_has.{key} must be text, a number or a list of text", line)
    return value


def _text(value: Any, where: _Where, key: str, line: int | None) -> str:
    if isinstance(value, bool) or value is None:
        raise where.error(f"`{key}` must be text, got {value!r}", line)
    if isinstance(value, dt.date):
        value = value.isoformat()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value) if isinstance(value, (int, float)) else value
    if not isinstance(text, str) or not text:
        raise where.error(f"`{key}` must be non-empty text, got {value!r}", line)
    try:
        placeholders.check(text)
    except ValueError as e:
        raise where.error(f"{key}: {e}", line) from None
    return text


def _optional_text(value: Any, where: _Where, key: str, line: int | None) -> str | None:
    return None if value is None else _text(value, where, key, line)


def _texts(value: Any, where: _Where, key: str, line: int | None) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    return tuple(_text(v, where, key, line) for v in items)


def _only(data: dict[str, Any], allowed: Iterable[str], where: _Where, what: str, line: int | None = None) -> None:
    allowed = set(allowed)
    for key in data:
        if key != _LINE and key not in allowed:
            raise where.error(f"unknown {what} {key!r}; known: {', '.join(sorted(allowed))}", data.get(_LINE, line))


class _LineLoader(yaml.SafeLoader):
    """A safe loader that records each mapping's line under `__line__`, so errors point into the file."""


def _mapping_with_line(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    mapping = loader.construct_mapping(node, deep=True)
    mapping[_LINE] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_with_line)
