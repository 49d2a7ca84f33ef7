"""`hotel-agent --plain`: the chat in line mode, one message per input line, until EOF.

Scripts and tests drive it, so its output is a stable line format (docs/chat.md, "Line mode"): every line
starts with a marker — `> ` a tool call, `< ` what it did, `  - ` a hotel found, `? ` a question that the next
input line answers, `! ` something the app (not the agent) says — except the reply, `助手: `, which ends each
exchange. A booking or a cancellation asked for in the chat is written only after a yes on the next line."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import replace
from typing import Any, TextIO

from agent.app.outcomes import (
    booked_text,
    cancelled_text,
    corrected_text,
    declined_text,
    not_done_text,
    question,
)
from agent.core.errors import UserError
from agent.core.text import MAX_MESSAGE_CHARS, clean_line, clean_text
from agent.core.turns import Dialogue
from agent.dialogue.actions import BookingProposal, Proposal
from agent.dialogue.loop import (
    ActionDeclined,
    ActionFailed,
    ActionRejected,
    Booked,
    Cancelled,
    Confirm,
    ConfirmationRequested,
    DialogueLoop,
    Event,
    Reply,
    ReplyText,
    SearchFinished,
    SearchRejected,
    SearchStarted,
    run_exchange,
)

PROMPT = "你: "
# Fields of a record worth a line in a terminal, in the order shown.
_COMPACT_FIELDS = ("type", "price", "rating", "subway", "phone")
# Answers to a `?` question that mean yes; anything else is a no.
YES = frozenset({"是", "是的", "好", "好的", "确认", "确定", "对", "可以", "yes", "y", "ok"})
_TRAILING_PUNCTUATION = "。！!.，,～~ "
# A line longer than this is not read into memory: it cannot be a message (the loop's limit, plus room for
# the spaces and line ending the loop strips).
_LINE_LIMIT = MAX_MESSAGE_CHARS + 64


class BadLine(UserError):
    """An input line that cannot be a message (too long); it has been read and is skipped."""


def run_plain(backend: str, continue_last: bool, **backend_options: Any) -> None:
    """The line chat on stdin/stdout, saved to the history after each exchange like the TUI's."""
    from agent.app.history import ConversationHistory
    from agent.core.bookings import Bookings
    from agent.core.store import HotelStore
    from backends.registry import create

    store = HotelStore.open()
    try:
        bookings: Bookings | None = Bookings(store)
    except UserError as e:
        bookings = None
        print(f"! bookings unavailable ({e}); the chat can search but not book", flush=True)
    loop = DialogueLoop(create(backend, chat_only=True, **backend_options), store, bookings)
    history = ConversationHistory.open()
    model = backend_options.get("model")
    last = None
    if continue_last:  # the newest conversation that reads well; damaged ones are named, not resumed
        listing = history.listing()
        last = listing.newest
        for problem in listing.damaged:
            print(f"! warning: {problem}", flush=True)
    # --continue appends to the last conversation (as the TUI does); otherwise a new one, saved once it has a turn
    conversation = (
        replace(last, backend=backend, model=model or last.model)
        if last is not None
        else ConversationHistory.new(backend, model)
    )

    def save(dialogue: Dialogue) -> None:
        nonlocal conversation
        conversation = history.save(replace(conversation, dialogue=dialogue))

    if hasattr(sys.stdin, "reconfigure"):  # bytes that are not UTF-8 become U+FFFD, not a UnicodeDecodeError
        sys.stdin.reconfigure(errors="replace")
    try:
        chat_lines(loop, sys.stdin, sys.stdout, conversation.dialogue, interactive=sys.stdin.isatty(), on_exchange=save)
    except KeyboardInterrupt:  # Ctrl-C ends the chat like EOF does, without a traceback
        sys.stdout.write("\n")


class LineReader:
    """Input lines, counted, each at most `_LINE_LIMIT` characters read into memory."""

    def __init__(self, lines: TextIO) -> None:
        self.lines = lines
        self.number = 0

    def read(self) -> str | None:
        """The next line, stripped; None at EOF. BadLine for a line that cannot be a message."""
        line = self.lines.readline(_LINE_LIMIT)
        if not line:
            return None
        self.number += 1
        if len(line) >= _LINE_LIMIT and not line.endswith("\n"):
            while (rest := self.lines.readline(1 << 16)) and not rest.endswith("\n"):
                pass  # skip the rest of the line, a chunk at a time
            raise BadLine(f"line {self.number} is too long (over {MAX_MESSAGE_CHARS:,} characters); skipped")
        # no lone surrogates (undecodable bytes) or terminal escapes past this door: shown as U+FFFD, dropped
        return clean_text(line).strip()


def chat_lines(
    loop: DialogueLoop,
    lines: TextIO,
    out: TextIO,
    dialogue: Dialogue | None = None,
    interactive: bool = False,
    on_exchange: Callable[[Dialogue], None] | None = None,
) -> Dialogue:
    """Run one exchange per non-empty input line until EOF; returns the whole dialogue. `on_exchange` gets
    the dialogue after each exchange (the plain chat saves it to the history there). A line that cannot be a
    message, or an exchange that fails, is one `! ` line; the chat goes on."""
    reader = LineReader(lines)
    render = make_renderer(out)
    confirm = make_confirm(reader, out, interactive)
    dialogue = dialogue if dialogue is not None else Dialogue()
    while True:
        if interactive:
            out.write(PROMPT)
            out.flush()
        try:
            text = reader.read()
        except BadLine as e:
            _say(out, f"! {e}")
            continue
        if text is None:
            return dialogue
        if not text:
            continue
        try:
            dialogue = run_exchange(loop, dialogue, text, render, confirm)
        except UserError as e:
            _say(out, f"! {e}; the message was not added to the conversation")
            continue
        except Exception as e:  # a backend crash ends this exchange, not the chat
            _say(out, f"! the backend failed ({type(e).__name__}: {e}); the message was not added")
            continue
        if on_exchange is not None:
            on_exchange(dialogue)


def make_confirm(reader: LineReader, out: TextIO, interactive: bool = False) -> Confirm:
    """The loop's confirm callback for line mode: `? 确认预订：…？（是/否）`, then the next input line answers."""

    def confirm(proposal: Proposal) -> Proposal | None:
        _say(out, f"? {question(proposal)}")
        if interactive:
            out.write(PROMPT)
            out.flush()
        try:
            answer = reader.read()
        except BadLine as e:
            _say(out, f"! {e}")
            return None
        return proposal if is_yes(answer or "") else None

    return confirm


def is_yes(answer: str) -> bool:
    return answer.strip().rstrip(_TRAILING_PUNCTUATION).lower() in YES


def make_renderer(out: TextIO) -> Callable[[Event], None]:
    """Events as lines: `> search {...}`, `< N results (relaxed: ...)`, one line per hotel; `> book {...}`,
    `< booked #7: ...` / `< declined: ...` / `< not booked: ...`; `! reply corrected: ...`; the reply."""

    def render(event: Event) -> None:
        if isinstance(event, SearchStarted):
            out.write(f"> search {format_arguments(event.arguments)}\n")
        elif isinstance(event, SearchRejected):
            out.write(f"! rejected search: {event.error}\n")
        elif isinstance(event, SearchFinished):
            result = event.result
            note = f" (relaxed: {', '.join(result.relaxed)})" if result.relaxed else ""
            if result.near is not None and not result.near.known:
                note += f" (unknown place: {result.near.query})"
            elif result.near is not None and not result.near.nearby:
                note += f" (no hotel near {result.near.label})"
            out.write(f"< {len(result.records)} result{'s' if len(result.records) != 1 else ''}{note}\n")
            for index, record in enumerate(result.records):
                # a search near a place: how each hotel is near it, as one more field of the stable line format
                near = f" | near={result.near_reasons[index]}" if index < len(result.near_reasons) else ""
                out.write(f"  - {format_record(record)}{near}\n")
        elif isinstance(event, ConfirmationRequested):
            out.write(f"> {format_call(event.proposal)}\n")
        elif isinstance(event, ActionRejected):
            # the call as the backend wrote it: a check refused it before the user was asked
            out.write(f"> {event.turn.role} {format_arguments(event.turn.arguments)}\n")
            out.write(f"< {not_done_text(event.turn.role, event.error)}\n")
        elif isinstance(event, ActionDeclined):
            out.write(f"< {declined_text(event.proposal)}\n")
        elif isinstance(event, ActionFailed):
            out.write(f"< {not_done_text(event.proposal, event.error)}\n")
        elif isinstance(event, Booked):
            out.write(f"< {booked_text(event.booking)}\n")
        elif isinstance(event, Cancelled):
            out.write(f"< {cancelled_text(event.booking)}\n")
        elif isinstance(event, ReplyText):
            pass  # line mode prints the whole reply once, when it is complete (scripts read whole lines)
        elif isinstance(event, Reply):
            if event.corrected:
                out.write(f"! {corrected_text(event.corrected)}\n")
            if event.backend_error:
                out.write(
                    f"! the backend failed after the action ({event.backend_error}); the reply says what happened\n"
                )
            out.write(f"助手: {clean_line(event.content)}\n")  # one line, whatever the backend wrote
        out.flush()

    return render


def format_call(proposal: Proposal) -> str:
    """`book {...}` with the hotel's full name and an ISO date, or `cancel {"booking_id": 7}`: the call as checked
    and about to be put to the user."""
    if isinstance(proposal, BookingProposal):
        arguments = {
            "hotel": proposal.hotel.get("name"),
            "guest": proposal.guest,
            "check_in": proposal.check_in.isoformat(),
            "nights": proposal.nights,
        }
        return f"book {format_arguments(arguments)}"
    return f"cancel {format_arguments({'booking_id': proposal.booking.id})}"


def format_arguments(arguments: dict[str, Any]) -> str:
    return json.dumps(arguments, ensure_ascii=False)


def format_record(record: dict[str, Any]) -> str:
    parts = [str(record.get("name", "?"))]
    for key in _COMPACT_FIELDS:
        value = record.get(key)
        if value in (None, "", -1, -1.0):
            continue
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        parts.append(f"{key}={value}")
    return " | ".join(parts)


def _say(out: TextIO, line: str) -> None:
    out.write(clean_line(line) + "\n")
    out.flush()
