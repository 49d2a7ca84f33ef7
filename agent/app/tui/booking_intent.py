"""Recognise "I'll take this hotel" in what the user types (我决定入住X), and find which hotel X is.

The dialogue loop answers such a message like any other; the app additionally offers to book the hotel."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

# Phrasings of the course data: 我决定入住X了 / 我愿意入住X / 我想入住这个酒店 / 我愿意去X入住 / 那我就选择X入住了.
_END = r"[，。！？!?,；;~～\s]"
_TAKE = re.compile(
    rf"(?:决定|愿意|想|要|就)(?:选择|去)?(?:入住|预订|订)(?P<name>[^，。！？!?,；;~～\s]*?)了?(?:{_END}|$)"
)
_GO_TO = re.compile(r"(?:选择|去)(?P<name>[^，。！？!?,；;~～\s]+?)入住")
# "this hotel" and friends: the hotel the agent has just shown.
_DEICTIC = {"", "这个酒店", "这家酒店", "这家", "这个", "它", "那家", "那家酒店", "那个酒店", "这里", "那里"}


@dataclass(frozen=True)
class BookingIntent:
    name: str  # as the user wrote it; "" for "this hotel"
    decided: bool  # 决定: the user clearly wants it booked (say so when the hotel cannot be found)

    @property
    def deictic(self) -> bool:
        return self.name in _DEICTIC


def booking_intent(text: str) -> BookingIntent | None:
    """The hotel the user says they will stay at, or None when the message is not such a decision."""
    if "?" in text or "？" in text or "吗" in text:
        return None  # a question about staying there, not a decision
    match = _TAKE.search(text) or _GO_TO.search(text)
    if match is None:
        return None
    return BookingIntent(match.group("name").strip(), "决定" in text)


def resolve_hotel(
    intent: BookingIntent,
    shown: Sequence[dict[str, Any]],
    find_by_name: Callable[[str], Sequence[dict[str, Any]]],
    last_reply: str = "",
) -> dict[str, Any] | None:
    """The record the intent refers to; None when nothing matches.

    这个酒店 means the one hotel shown, or the one shown hotel the agent's last reply names. A name is looked up
    among the shown hotels (exact, then containment either way), then in the store (`HotelStore.find_by_name`),
    where it must name one hotel exactly or match only one: a short name like 汉庭 that fits many is no choice."""
    if intent.deictic:
        if len(shown) == 1:
            return shown[0]
        named = [r for r in shown if r.get("name") and r["name"] in last_reply]
        return named[0] if len(named) == 1 else None
    for record in shown:
        if record.get("name") == intent.name:
            return record
    for record in shown:
        name = record.get("name") or ""
        if intent.name in name or name in intent.name:
            return record
    candidates = list(find_by_name(intent.name))
    exact = [r for r in candidates if r.get("name") == intent.name]
    if len(exact) == 1:
        return exact[0]
    return candidates[0] if len(candidates) == 1 else None
