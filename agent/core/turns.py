"""Dialogue turns, the one vocabulary every layer speaks.

Roles follow the course's turn-level data: `user` {content}, `search` {arguments} (a search_hotels call),
`return` {records} (what the search found), `assistant` {content} (a reply to the user)."""

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


@dataclass(frozen=True)
class ReturnTurn:
    """The hotel records a search returned, in the course's record format."""

    records: list[dict[str, Any]]
    role: ClassVar[str] = "return"


@dataclass(frozen=True)
class AssistantTurn:
    content: str
    role: ClassVar[str] = "assistant"


Turn = UserTurn | SearchTurn | ReturnTurn | AssistantTurn
# What a backend may produce: the next step of the agent.
AgentTurn = SearchTurn | AssistantTurn
TURN_TYPES: dict[str, type] = {t.role: t for t in (UserTurn, SearchTurn, ReturnTurn, AssistantTurn)}
_FIELD = {"user": "content", "search": "arguments", "return": "records", "assistant": "content"}
_FIELD_TYPE = {"content": str, "arguments": dict, "records": list}


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
