"""The dialogue loop: one user message in; the backend decides; its tool calls run; a reply out.

* `search_hotels` runs on the hotel store; its records go back to the backend as a `return` turn.
* `book_hotel` / `cancel_booking` are checked (agent.dialogue.actions), then shown to the user through the front
  end's `confirm` callback; only a confirmed proposal is written, once. Whatever happened — booked, cancelled,
  refused by a check, declined — goes back as a `result` turn the backend answers from.
* Every reply is checked against those results (agent.dialogue.claims): a reply that claims a booking or a
  cancellation that did not happen is replaced by one that says so.

It knows nothing of screens: it yields events that every front end (line chat, TUI) and the conversation evaluation
render or judge, so all of them drive the very same dialogue."""

from __future__ import annotations

import datetime as dt
import queue
import threading
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from agent.core.bookings import Booking
from agent.core.errors import ArgumentError, UserError
from agent.core.schema import validate_arguments
from agent.core.search_result import SearchResult
from agent.core.text import MAX_MESSAGE_CHARS, clean_text, limit_length
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
from agent.dialogue.actions import (
    DECLINED_BOOKING,
    DECLINED_CANCEL,
    BookingLedger,
    BookingProposal,
    CancellationProposal,
    Proposal,
    booked_result,
    cancelled_result,
    error_result,
    fallback_reply,
    propose_booking,
    propose_cancellation,
)
from agent.dialogue.claims import false_claim
from backends.base import Backend, Prediction


class Searcher(Protocol):
    def search(self, arguments: dict[str, Any], limit: int | None = ...) -> SearchResult: ...

    def find_by_name(self, text: str) -> list[dict[str, Any]]: ...


# The front end's answer to a proposal: the proposal (possibly edited, e.g. in the TUI's booking form) to carry
# out, or None when the user declines.
Confirm = Callable[[Proposal], Proposal | None]


@dataclass(frozen=True)
class SearchStarted:
    arguments: dict[str, Any]  # validated


@dataclass(frozen=True)
class SearchFinished:
    arguments: dict[str, Any]
    result: SearchResult


@dataclass(frozen=True)
class SearchRejected:
    arguments: dict[str, Any]
    error: str  # the backend produced arguments outside the schema; nothing was searched


@dataclass(frozen=True)
class ConfirmationRequested:
    proposal: Proposal  # the loop now waits for the front end's confirm callback


@dataclass(frozen=True)
class ActionRejected:
    turn: BookTurn | CancelTurn
    error: str  # a check refused the call (a past date, an unknown hotel...); the user was not asked
    field: str | None = None


@dataclass(frozen=True)
class ActionDeclined:
    proposal: Proposal  # the user said no; nothing was written


@dataclass(frozen=True)
class Booked:
    booking: Booking


@dataclass(frozen=True)
class Cancelled:
    booking: Booking


@dataclass(frozen=True)
class ActionFailed:
    proposal: Proposal
    error: str  # confirmed, but the store refused (an edited field out of range, a full disk...)


@dataclass(frozen=True)
class ReplyText:
    text: str  # a streamed piece of the reply (only from backends that stream)


@dataclass(frozen=True)
class Reply:
    content: str
    dialogue: Dialogue  # the whole dialogue after this exchange
    corrected: str | None = None  # "booking" / "cancellation": the backend's reply claimed what did not happen
    backend_error: str | None = None  # the backend failed after an action: the reply was written from its result


Event = (
    SearchStarted
    | SearchFinished
    | SearchRejected
    | ConfirmationRequested
    | ActionRejected
    | ActionDeclined
    | ActionFailed
    | Booked
    | Cancelled
    | ReplyText
    | Reply
)

# The course's searches returned at most a handful of records; more would crowd the prompt.
DEFAULT_RESULT_LIMIT = 3
# Tool calls one user message may cause (searches, bookings, cancellations together).
MAX_CALLS_PER_MESSAGE = 3
NOT_UNDERSTOOD = "抱歉，我没能理解您的需求，能换个说法再说一次吗？"
CORRECTED = {
    "booking": "抱歉，我还没有为您预订任何酒店。如需预订，请告诉我酒店、入住日期、住几晚和入住人姓名。",
    "cancellation": "抱歉，预订还没有取消。如需取消，请告诉我要取消的预订。",
}


@dataclass
class DialogueLoop:
    backend: Backend
    store: Searcher
    bookings: BookingLedger | None = None  # None: booking calls are answered with an error result
    result_limit: int = DEFAULT_RESULT_LIMIT
    today: Callable[[], dt.date] = field(default=dt.date.today)

    def respond(
        self,
        dialogue: Dialogue,
        user_text: str,
        cancel: threading.Event | None = None,
        confirm: Confirm | None = None,
    ) -> Iterator[Event]:
        """Run one exchange. The final event is always a `Reply` carrying the grown dialogue. A message that is
        too long raises UserError before anything happens. Without `confirm`, every proposal counts as
        declined: nothing is ever written unconfirmed."""
        text = limit_length(clean_text(user_text).strip(), MAX_MESSAGE_CHARS, "the message")
        dialogue = dialogue.with_turn(UserTurn(text))
        start = len(dialogue) - 1
        acted = False
        for calls in range(MAX_CALLS_PER_MESSAGE + 1):
            try:
                prediction = yield from self._predict_streaming(dialogue, cancel)
            except Exception as e:
                if not acted or isinstance(e, UserError):
                    raise
                # A booking or cancellation is already done: the dialogue must keep it, and the user must hear it.
                last = next(t for t in reversed(dialogue.turns) if isinstance(t, ResultTurn))
                content = fallback_reply(last.result)
                dialogue = dialogue.with_turn(AssistantTurn(content))
                yield Reply(content, dialogue, backend_error=f"{type(e).__name__}: {e}")
                return
            turn = prediction.turn
            if isinstance(turn, AssistantTurn):
                yield self._reply(dialogue, turn.content, start)
                return
            if calls == MAX_CALLS_PER_MESSAGE:
                break  # one call too many: stop the backend rather than run it
            if isinstance(turn, SearchTurn):
                try:
                    arguments = validate_arguments(turn.arguments)
                except ArgumentError as e:
                    # Never an unconstrained search in place of one we cannot run: ask instead.
                    yield SearchRejected(dict(turn.arguments), str(e))
                    break
                if dialogue_repeats_search(dialogue, arguments):
                    break
                yield SearchStarted(arguments)
                result = self.store.search(arguments, limit=self.result_limit)
                yield SearchFinished(arguments, result)
                dialogue = dialogue.with_turn(SearchTurn(arguments), ReturnTurn(result.records))
            else:
                outcome = yield from self._act(dialogue, turn, confirm)
                dialogue = dialogue.with_turn(turn, ResultTurn(outcome))
                acted = True
        dialogue = dialogue.with_turn(AssistantTurn(NOT_UNDERSTOOD))
        yield Reply(NOT_UNDERSTOOD, dialogue)

    def _reply(self, dialogue: Dialogue, content: str, start: int) -> Reply:
        claim = false_claim(content, dialogue, start)
        if claim is not None:
            content = CORRECTED[claim]
        return Reply(content, dialogue.with_turn(AssistantTurn(content)), corrected=claim)

    def _act(
        self, dialogue: Dialogue, turn: BookTurn | CancelTurn, confirm: Confirm | None
    ) -> Generator[Event, None, dict[str, Any]]:
        """Check the call, ask the user, write: the result dict the backend will answer from."""
        if self.bookings is None:
            error = "bookings are unavailable here"
            yield ActionRejected(turn, error)
            return error_result(error)
        proposal: Proposal
        try:
            if isinstance(turn, BookTurn):
                proposal = propose_booking(turn.arguments, dialogue.shown_records(), self.store, self.today())
            else:
                proposal = propose_cancellation(turn.arguments, self.bookings)
        except ArgumentError as e:
            yield ActionRejected(turn, str(e), e.field)
            return error_result(str(e), e.field)
        yield ConfirmationRequested(proposal)
        answer = confirm(proposal) if confirm is not None else None
        if answer is None:
            yield ActionDeclined(proposal)
            declined = DECLINED_BOOKING if isinstance(proposal, BookingProposal) else DECLINED_CANCEL
            return error_result(declined, declined=True)
        try:
            if isinstance(answer, BookingProposal):
                booking = self.bookings.book(
                    answer.hotel["hotel_id"], answer.guest, answer.check_in, answer.nights, today=self.today()
                )
                yield Booked(booking)
                return booked_result(booking)
            assert isinstance(answer, CancellationProposal)
            booking = self.bookings.cancel(answer.booking.id)
            yield Cancelled(booking)
            return cancelled_result(booking)
        except (UserError, OSError) as e:
            message = str(e) if isinstance(e, UserError) else f"could not save ({e.strerror})"
            yield ActionFailed(answer, message)
            return error_result(message, getattr(e, "field", None))

    def _predict_streaming(
        self, dialogue: Dialogue, cancel: threading.Event | None
    ) -> Generator[ReplyText, None, Prediction]:
        """Run the backend in a thread and yield its reply text as it arrives, so a front end shows an
        LLM reply token by token; returns the finished prediction."""
        pieces: queue.Queue = queue.Queue()
        finished = object()
        outcome: dict[str, Any] = {}

        def work() -> None:
            try:
                outcome["prediction"] = self.backend.predict(
                    [dialogue], on_text=lambda _i, text: pieces.put(text), cancel=cancel
                )[0]
            except BaseException as e:  # re-raised in the caller's thread below
                outcome["error"] = e
            finally:
                pieces.put(finished)

        thread = threading.Thread(target=work, name="backend-predict", daemon=True)
        thread.start()
        while (piece := pieces.get()) is not finished:
            yield ReplyText(piece)
        thread.join()
        if "error" in outcome:
            raise outcome["error"]
        return outcome["prediction"]


def dialogue_repeats_search(dialogue: Dialogue, arguments: dict[str, Any]) -> bool:
    """True when the latest turn is already the result of this very search (a backend stuck in a loop)."""
    turns = dialogue.turns
    return (
        len(turns) >= 2
        and isinstance(turns[-1], ReturnTurn)
        and isinstance(turns[-2], SearchTurn)
        and turns[-2].arguments == arguments
    )


def run_exchange(
    loop: DialogueLoop,
    dialogue: Dialogue,
    user_text: str,
    render: Callable[[Event], None],
    confirm: Confirm | None = None,
) -> Dialogue:
    """Drive one exchange, rendering each event; returns the grown dialogue."""
    for event in loop.respond(dialogue, user_text, confirm=confirm):
        render(event)
        if isinstance(event, Reply):
            return event.dialogue
    raise AssertionError("the loop ended without a Reply")
