"""The dialogue state as the data keeps it: each search carries the previous search's arguments, the
new message's values replace old ones key by key, and newly named facilities replace the old list
(the data asks about one set of facilities at a time)."""

from __future__ import annotations

from typing import Any


def update_state(previous: dict[str, Any] | None, mentioned: dict[str, Any]) -> dict[str, Any]:
    """The next search's arguments: `previous` with what the message mentioned laid over it."""
    state = dict(previous or {})
    for key, value in mentioned.items():
        state[key] = list(value) if isinstance(value, list) else value
    return state


def changes_state(previous: dict[str, Any] | None, mentioned: dict[str, Any]) -> bool:
    """True when the message adds or changes a constraint (numbers compared as numbers)."""
    previous = previous or {}
    for key, value in mentioned.items():
        old = previous.get(key)
        if isinstance(value, list):
            if not isinstance(old, list) or sorted(old) != sorted(value):
                return True
        elif isinstance(value, (int, float)) and isinstance(old, (int, float)):
            if float(value) != float(old):
                return True
        elif value != old:
            return True
    return False
