"""Dialogue turns, the one vocabulary every layer speaks.

Roles follow the course's turn-level data: `user` {content}, `search` {arguments} (a search_hotels call),
`return` {records} (what the search found), `assistant` {content} (a reply to the user). Booking by chat adds
`book` {arguments} (a book_hotel call), `cancel` {arguments} (a cancel_booking call) and `result` {result} (what
the call did: the booking, or an error), so a dialogue records every tool call and its outcome the same way."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

from agent.core.errors import DataFormatError


@dataclass(frozen=True)
class UserTurn:
    content: str
    role: ClassVar[str] = "user"


@dataclass(frozen=True)
class SearchTurn:
    """A search_hotels call. `arguments` are kept as written (ints stay ints) so files round-trip exactly;
    run them through `agent.core.schema.validate_arguments` before querying."""

    arguments: dict[str, Any]
    role: ClassVar[str] = "search"
    tool: ClassVar[str] = "search_hotels"


@dataclass(frozen=True)
class ReturnTurn:
    """The hotel records a search returned, in the course's record format."""

    records: list[dict[str, Any]]
    role: ClassVar[str] = "return"


@dataclass(frozen=True)
class AssistantTurn:
    content: str
    role: ClassVar[str] = "assistant"


@dataclass(frozen=True)
class BookTurn:
    """A book_hotel call: {hotel, guest, check_in, nights} as the backend wrote them; the dialogue loop validates
    them (`agent.core.schema.validate_booking`), asks the user to confirm, then books."""

    arguments: dict[str, Any]
    role: ClassVar[str] = "book"
    tool: ClassVar[str] = "book_hotel"


@dataclass(frozen=True)
class CancelTurn:
    """A cancel_booking call: {booking_id}."""

    arguments: dict[str, Any]
    role: ClassVar[str] = "cancel"
    tool: ClassVar[str] = "cancel_booking"


@dataclass(frozen=True)
class ResultTurn:
    """What a book_hotel / cancel_booking call did, for the backend to answer from: the booking
    ({"booking_id", "hotel", "guest", "check_in", "nights", "status"}) or {"error": "..."} (not done; with
    "declined": true when the user said no). A reply may claim only what a result here says."""

    result: dict[str, Any]
    role: ClassVar[str] = "result"

    @property
    def ok(self) -> bool:
        return "error" not in self.result and "booking_id" in self.result


CallTurn = SearchTurn | BookTurn | CancelTurn
# What a backend may produce: the next step of the agent.
AgentTurn = SearchTurn | BookTurn | CancelTurn | AssistantTurn
Turn = UserTurn | SearchTurn | BookTurn | CancelTurn | ReturnTurn | ResultTurn | AssistantTurn
CALL_TYPES: tuple[type[SearchTurn] | type[BookTurn] | type[CancelTurn], ...] = (SearchTurn, BookTurn, CancelTurn)
AGENT_TYPES = (*CALL_TYPES, AssistantTurn)
# tool name -> the turn that calls it
CALL_BY_TOOL: dict[str, type[SearchTurn] | type[BookTurn] | type[CancelTurn]] = {t.tool: t for t in CALL_TYPES}
TURN_TYPES: dict[str, type] = {
    t.role: t for t in (UserTurn, SearchTurn, BookTurn, CancelTurn, ReturnTurn, ResultTurn, AssistantTurn)
}
_FIELD = {
    "user": "content",
    "search": "arguments",
    "book": "arguments",
    "cancel": "arguments",
    "return": "records",
    "result": "result",
    "assistant": "content",
}
_FIELD_TYPE = {"content": str, "arguments": dict, "records": list, "result": dict}


def call_turn(tool: str, arguments: dict[str, Any]) -> CallTurn:
    """The turn for a call of `tool` (one of agent.core.schema.TOOLS); KeyError for an unknown tool."""
    return CALL_BY_TOOL[tool](arguments)


@dataclass(frozen=True, init=False)
class Dialogue:
    """An immutable sequence of turns; `with_turn` returns a longer dialogue."""

    turns: tuple[Turn, ...]

    def __init__(self, turns: Iterable[Turn] = ()) -> None:
        object.__setattr__(self, "turns", tuple(turns))

    def with_turn(self, *turns: Turn) -> Dialogue:
        return Dialogue(self.turns + tuple(turns))

    def __iter__(self) -> Iterator[Turn]:
        return iter(self.turns)

    def __len__(self) -> int:
        return len(self.turns)

    def __getitem__(self, index):  # slices give dialogues, indices give turns
        if isinstance(index, slice):
            return Dialogue(self.turns[index])
        return self.turns[index]

    def last_records(self) -> list[dict[str, Any]]:
        """The records of the latest `return` turn (what the agent has shown), or []."""
        for turn in reversed(self.turns):
            if isinstance(turn, ReturnTurn):
                return turn.records
        return []

    def last_user_text(self) -> str:
        """The latest user message, or ""."""
        for turn in reversed(self.turns):
            if isinstance(turn, UserTurn):
                return turn.content
        return ""

    def last_search(self) -> dict[str, Any] | None:
        """Arguments of the latest search (a copy), or None before the first search."""
        for turn in reversed(self.turns):
            if isinstance(turn, SearchTurn):
                return dict(turn.arguments)
        return None

    def before_last_user(self) -> Dialogue:
        """The dialogue up to (not including) the latest user message: what the user had seen when writing it."""
        for index in range(len(self.turns) - 1, -1, -1):
            if isinstance(self.turns[index], UserTurn):
                return Dialogue(self.turns[:index])
        return self

    def shown_records(self) -> list[dict[str, Any]]:
        """The hotels the user had been shown when writing the latest message, in the order shown: what
        "第二家" / "这家" refer to. Right after a search (the last turn is its `return`), that search's records."""
        if self.turns and isinstance(self.turns[-1], UserTurn):
            return self.before_last_user().last_records()
        return self.last_records()

    def booking_results(self, *, cancellations: bool) -> list[dict[str, Any]]:
        """The successful results of book_hotel (cancellations=False) or of cancel_booking (True) in this
        dialogue, in the order they came."""
        return [
            t.result
            for t in self.turns
            if isinstance(t, ResultTurn) and t.ok and (t.result.get("status") == "cancelled") == cancellations
        ]

    def bookings(self) -> list[dict[str, Any]]:
        """The bookings made in this dialogue that are still active (results of book_hotel, minus those a later
        cancel_booking result cancelled), oldest first."""
        cancelled = {r["booking_id"] for r in self.booking_results(cancellations=True)}
        return [r for r in self.booking_results(cancellations=False) if r["booking_id"] not in cancelled]

    def exchange_start(self) -> int:
        """Index of the latest user turn (len when there is none): the current exchange runs from here."""
        for index in range(len(self.turns) - 1, -1, -1):
            if isinstance(self.turns[index], UserTurn):
                return index
        return len(self.turns)


def turn_to_json(turn: Turn) -> dict[str, Any]:
    """The course's turn-level object: {"role": ..., <field>: ...}."""
    name = _FIELD[turn.role]
    return {"role": turn.role, name: getattr(turn, name)}


def turn_from_json(obj: Any) -> Turn:
    """Inverse of `turn_to_json`; raises DataFormatError naming the bad field."""
    if not isinstance(obj, dict):
        raise DataFormatError(f"a turn must be a JSON object, got {type(obj).__name__}")
    role = obj.get("role")
    if role not in TURN_TYPES:
        raise DataFormatError(f"unknown turn role {role!r}; expected one of {', '.join(TURN_TYPES)}")
    name = _FIELD[role]
    if name not in obj:
        raise DataFormatError(f"a {role!r} turn needs the field {name!r}")
    value = obj[name]
    if not isinstance(value, _FIELD_TYPE[name]):
        raise DataFormatError(f"field {name!r} of a {role!r} turn must be {_FIELD_TYPE[name].__name__}")
    if name == "records" and not all(isinstance(r, dict) for r in value):
        raise DataFormatError("every record of a 'return' turn must be a JSON object")
    return TURN_TYPES[role](value)
