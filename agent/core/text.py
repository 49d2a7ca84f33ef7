"""Text from outside (a user's line, a model's output, a file) made safe for everything downstream.

Two jobs, done at every door (the dialogue loop, tool-argument validation, bookings, the stores' readers):
* `clean_text`: lone surrogates (what `surrogateescape` makes of bytes that are not UTF-8, or a JSON `\\ud800`
  escape) become U+FFFD, so nothing crashes later when the text is encoded to be saved; control characters
  (ESC sequences that would repaint a terminal, NUL, ...) are dropped, except tab and newline.
* `limit_length`: one clear error instead of unbounded work on an unbounded input."""

from __future__ import annotations

import re

from agent.core.errors import UserError

# One chat message; longer is not a hotel request (the longest user turn in the course data is 150 chars).
MAX_MESSAGE_CHARS = 2000
# A guest name, a hotel name, a place, one facility phrase.
MAX_FIELD_CHARS = 100
# Facilities one search may ask for (the course data never asks for more than 5).
MAX_FACILITIES = 20

_SURROGATE = re.compile(r"[\ud800-\udfff]")
# C0 controls but tab and newline, DEL, C1 controls (ESC starts terminal escape sequences).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def clean_text(text: str) -> str:
    """`text` with lone surrogates replaced by U+FFFD and control characters (but tab and newline) dropped."""
    return _CONTROL.sub("", _SURROGATE.sub("\ufffd", text))


def clean_line(text: str) -> str:
    """`clean_text` on one line: newlines and tabs become spaces too (table cells, one-line listings)."""
    return " ".join(clean_text(text).split())


def limit_length(text: str, limit: int, what: str) -> str:
    """`text` when it is at most `limit` characters, else a UserError naming `what`."""
    if len(text) > limit:
        raise UserError(f"{what} is too long ({len(text):,} characters; at most {limit:,})")
    return text
