"""What each model turn of a dialogue does, read from the dialogue itself: its skill and its turn position.

The same labels serve `finetune data-report` (counts per skill and per turn position, for the course's files and
the generated ones alike) and `finetune run --oversample` (which dialogues to repeat). They come from the turns'
structure — which call follows which user turn, how a search's arguments differ from the one before, what a
`result` says — and, for three kinds of reply only, from words (a user line with no Chinese, a closing's 再见 /
不客气 / 入住愉快, a reply asking the user something)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from agent.core.turns import (
    AssistantTurn,
    BookTurn,
    CancelTurn,
    Dialogue,
    ResultTurn,
    ReturnTurn,
    SearchTurn,
    UserTurn,
)

FIRST_SEARCH = "first search"
LATER_SEARCH = "later search"  # every kind below that starts with it
NEAR_SEARCH = "near search"
# A kind and the kinds of turn it names: `--oversample "later search=2"` repeats every dialogue with a later search.
KINDS = (
    FIRST_SEARCH,
    "later search: added",
    "later search: changed",
    "later search: dropped",
    "later search: new",
    "later search: repeated",
    "later search: no earlier search",
    NEAR_SEARCH,
    "book call",
    "cancel call",
    "reply: results",
    "reply: no results",
    "reply: booked",
    "reply: cancelled",
    "reply: declined",
    "reply: refused",
    "reply: about shown hotels",
    "reply: closing",
    "reply: clarifying",
    "reply: not Chinese",
    "reply: other",
)
_CJK = re.compile(r"[\u4e00-\u9fff]")
_CLOSING = re.compile(r"再见|不客气|入住愉快|随时找我|欢迎下次")
_ASKS = re.compile(r"[？?]|请问|比如|例如")


@dataclass(frozen=True)
class TurnKind:
    index: int  # the turn's index in the dialogue
    role: str  # search, book, cancel or assistant
    kind: str  # one of KINDS
    position: int  # which user turn it answers (1: the first)


def turn_kinds(dialogue: Dialogue) -> list[TurnKind]:
    """The kind and turn position of every model turn that has a turn before it (what is trained and scored)."""
    found: list[TurnKind] = []
    position = 0
    previous_search: dict[str, Any] | None = None
    shown_any = False
    for index, turn in enumerate(dialogue):
        if isinstance(turn, UserTurn):
            position += 1
            continue
        if isinstance(turn, ReturnTurn):
            shown_any = shown_any or bool(turn.records)
            continue
        if index == 0 or isinstance(turn, ResultTurn):
            continue
        if isinstance(turn, SearchTurn):
            kind = _search_kind(turn.arguments, previous_search, position)
            previous_search = dict(turn.arguments)
        elif isinstance(turn, BookTurn):
            kind = "book call"
        elif isinstance(turn, CancelTurn):
            kind = "cancel call"
        else:
            assert isinstance(turn, AssistantTurn)
            kind = _reply_kind(dialogue, index, shown_any)
        found.append(TurnKind(index, turn.role, kind, max(position, 1)))
    return found


def _search_kind(arguments: Mapping[str, Any], previous: Mapping[str, Any] | None, position: int) -> str:
    if "near" in arguments:
        return NEAR_SEARCH
    if position <= 1:
        return FIRST_SEARCH
    if previous is None:
        return "later search: no earlier search"
    if dict(arguments) == dict(previous):
        return "later search: repeated"
    added = arguments.keys() - previous.keys()
    dropped = previous.keys() - arguments.keys()
    kept = arguments.keys() & previous.keys()
    changed = {k for k in kept if arguments[k] != previous[k]}
    if not kept - changed:
        return "later search: new"
    if changed or (added and dropped):
        return "later search: changed"
    return "later search: added" if added else "later search: dropped"


def _reply_kind(dialogue: Dialogue, index: int, shown_any: bool) -> str:
    before = dialogue[index - 1]
    text = dialogue[index].content
    if isinstance(before, ReturnTurn):
        return "reply: results" if before.records else "reply: no results"
    if isinstance(before, ResultTurn):
        result = before.result
        if before.ok:
            return "reply: cancelled" if result.get("status") == "cancelled" else "reply: booked"
        return "reply: declined" if result.get("declined") else "reply: refused"
    user = before.content if isinstance(before, UserTurn) else ""
    if user and not _CJK.search(user):
        return "reply: not Chinese"
    if _CLOSING.search(text):
        return "reply: closing"
    if shown_any:
        return "reply: about shown hotels"
    if _ASKS.search(text):
        return "reply: clarifying"
    return "reply: other"


def dialogue_has(dialogue: Dialogue, name: str) -> bool:
    """Whether any model turn's kind is `name` or one of its kinds (`later search` covers `later search: added`...)."""
    return any(k.kind == name or k.kind.startswith(name + ":") for k in turn_kinds(dialogue))


def kind_names() -> tuple[str, ...]:
    """Every name `--oversample` accepts: each kind and the `later search` family."""
    return (*KINDS, LATER_SEARCH)
