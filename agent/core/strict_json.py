"""JSON from outside (a user's search arguments, a file the store keeps) read strictly, failing with one message.

`json.loads` keeps the last of duplicate keys without a word (`{"type": "经济型", "type": "豪华型"}` would be
a 豪华型 search nobody asked for), raises RecursionError on deeply nested brackets and a bare ValueError on an
integer past Python's 4,300-digit limit. `loads` refuses all of them with a `JSONError` saying which."""

from __future__ import annotations

import json
from typing import Any


class JSONError(ValueError):
    """Text that is not one well-formed JSON value; the message says why (and where, when known)."""


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise JSONError(f"the key {key!r} appears twice in one object")
        result[key] = value
    return result


def loads(text: str) -> Any:
    """The JSON value in `text`; JSONError for bad syntax, a duplicate key, nesting too deep for the parser,
    or an integer too long to read."""
    try:
        return json.loads(text, object_pairs_hook=_unique_keys)
    except json.JSONDecodeError as e:
        raise JSONError(f"{e.msg} at line {e.lineno} column {e.colno}") from None
    except JSONError:
        raise
    except RecursionError:
        raise JSONError("brackets nested too deeply") from None
    except ValueError:  # int(): "Exceeds the limit (4300 digits) for integer string conversion"
        raise JSONError("a number has too many digits") from None
