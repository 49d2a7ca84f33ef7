"""Placeholders in expectations, filled from what the user saw, so a suite names "the second hotel shown" rather
than a hotel a particular backend happens to show:

* `{shown[1].phone}` — a field of the 2nd hotel the user had been shown when typing this step's line (the latest
  search before it, in the order of the table); `{shown[-1].name}` the last one. In `end`, the last search's.
* `{found[0].name}` — a field of the 1st hotel this step's own (last) search found.
* `{today}`, `{today+2}` — ISO dates against the run's fixed today (`--today`).

Fields: name, type, address, subway, phone, price (258, no decimals when whole), rating (4.5)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

FIELDS = ("name", "type", "address", "subway", "phone", "price", "rating")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_RECORD = re.compile(r"(shown|found)\[(-?\d+)\]\.(\w+)")
_TODAY = re.compile(r"today(?:\s*\+\s*(\d+))?")


class Unresolved(Exception):
    """A placeholder that names nothing in this conversation (the 2nd hotel when one was shown, no price)."""


@dataclass(frozen=True)
class Context:
    shown: Sequence[dict[str, Any]]  # what the user had been shown when writing the line
    found: Sequence[dict[str, Any]]  # what this step's last search found
    today: dt.date


def check(text: str) -> None:
    """ValueError naming the first placeholder in `text` that is not one of the forms above."""
    for match in _PLACEHOLDER.finditer(text):
        inner = match.group(1).strip()
        record = _RECORD.fullmatch(inner)
        if record is not None:
            if record.group(3) not in FIELDS:
                raise ValueError(f"{match.group(0)}: unknown field {record.group(3)!r}; known: {', '.join(FIELDS)}")
        elif _TODAY.fullmatch(inner) is None:
            raise ValueError(
                f"{match.group(0)}: not a placeholder ({{shown[1].phone}}, {{found[0].name}}, {{today+2}})"
            )


def fill(text: str, context: Context) -> str:
    """`text` with every placeholder replaced; Unresolved when one names nothing."""
    return _PLACEHOLDER.sub(lambda m: _value(m.group(1).strip(), context), text)


def record_of(text: str, context: Context) -> dict[str, Any] | None:
    """The record a text that is exactly `{shown[i].name}` / `{found[i].name}` names (None for other text);
    Unresolved when the index is out of range."""
    match = _PLACEHOLDER.fullmatch(text.strip())
    record = _RECORD.fullmatch(match.group(1).strip()) if match else None
    if record is None:
        return None
    return _record(record.group(1), int(record.group(2)), context)


def _value(inner: str, context: Context) -> str:
    today = _TODAY.fullmatch(inner)
    if today is not None:
        return (context.today + dt.timedelta(days=int(today.group(1) or 0))).isoformat()
    match = _RECORD.fullmatch(inner)
    if match is None:
        raise Unresolved(f"{{{inner}}} is not a placeholder")
    record = _record(match.group(1), int(match.group(2)), context)
    return format_field(record, match.group(3))


def _record(which: str, index: int, context: Context) -> dict[str, Any]:
    records = context.shown if which == "shown" else context.found
    if not -len(records) <= index < len(records):
        seen = "shown" if which == "shown" else "found by this step's search"
        raise Unresolved(f"{{{which}[{index}]}}: {len(records)} hotel(s) were {seen}")
    return records[index]


def format_field(record: dict[str, Any], name: str) -> str:
    """A record's field as a reply would write it."""
    value = record.get(name)
    if name == "price" and (not isinstance(value, (int, float)) or value < 0):
        raise Unresolved(f"{record.get('name')} has no price in the database")
    if value is None or value == "":
        raise Unresolved(f"{record.get('name')} has no {name}")
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(value)
    return str(value)
