"""One conversation through the real DialogueLoop, one user line at a time, with a record of each step.

A step's record holds what the user saw (the searches and their records, the proposals they were asked to
confirm and how they answered, the reply) and what the store says happened: the bookings written and cancelled
during the step are read from the Bookings store before and after it, never from the events or the reply. A reply
is a false claim when the loop had to correct it (the backend claimed a booking or a cancellation that did not
happen) or when its text still claims one the store does not hold."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from agent.core.bookings import CANCELLED, Booking, Bookings
from agent.core.turns import Dialogue
from agent.dialogue.actions import BookingProposal, CancellationProposal, Proposal
from agent.dialogue.claims import claims_booking, claims_cancellation
from agent.dialogue.loop import (
    ActionFailed,
    ActionRejected,
    DialogueLoop,
    Reply,
    SearchFinished,
    SearchRejected,
)
from backends.base import Backend
from evalharness.conversations.world import World

# How the simulated person answers a proposal: the proposal to carry out, or None to decline.
Answer = Callable[[Proposal], Proposal | None]


@dataclass(frozen=True)
class SearchSeen:
    arguments: dict[str, Any]
    records: list[dict[str, Any]]
    relaxed: tuple[str, ...] = ()


@dataclass(frozen=True)
class ProposalSeen:
    """A proposal the user was asked to confirm, and the answer given."""

    kind: str  # "booking" or "cancellation"
    hotel: str
    hotel_id: int | None
    guest: str | None
    check_in: str | None
    nights: int | None
    booking_id: int | None  # the booking a cancellation is about
    accepted: bool


@dataclass
class StepRecord:
    user: str
    shown_before: list[dict[str, Any]]  # the hotels the user had been shown when typing the line, in order
    searches: list[SearchSeen] = field(default_factory=list)
    search_errors: list[str] = field(default_factory=list)  # searches the loop refused (arguments off-schema)
    proposals: list[ProposalSeen] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)  # calls a check refused: {tool, error, field}
    failed: list[str] = field(default_factory=list)  # confirmed, but the store refused
    booked: list[Booking] = field(default_factory=list)  # from the store: written during this step, active
    cancelled: list[Booking] = field(default_factory=list)  # from the store: cancelled during this step
    reply: str = ""
    corrected: str | None = None  # the loop replaced a reply claiming what did not happen
    backend_error: str | None = None
    error: str | None = None  # the exchange raised: the conversation cannot go on
    false_claim: str | None = None  # "booking" / "cancellation" (see the module docstring)
    seconds: float = 0.0

    @property
    def found(self) -> list[dict[str, Any]]:
        """The records of this step's last search ([] when it did not search)."""
        return self.searches[-1].records if self.searches else []

    def to_json(self) -> dict[str, Any]:
        return {
            "user": self.user,
            "shown_before": [r.get("name") for r in self.shown_before],
            "searches": [
                {"arguments": s.arguments, "hotels": [r.get("name") for r in s.records], "relaxed": list(s.relaxed)}
                for s in self.searches
            ],
            "search_errors": self.search_errors,
            "proposals": [asdict(p) for p in self.proposals],
            "rejected": self.rejected,
            "failed": self.failed,
            "booked": [asdict(b) for b in self.booked],
            "cancelled": [asdict(b) for b in self.cancelled],
            "reply": self.reply,
            "corrected": self.corrected,
            "backend_error": self.backend_error,
            "error": self.error,
            "false_claim": self.false_claim,
            "seconds": round(self.seconds, 4),
        }


class Session:
    """A conversation in progress: `say(line, answer)` runs one exchange and returns its record."""

    def __init__(self, backend: Backend, world: World, today: dt.date):
        self.world = world
        self.loop = DialogueLoop(backend, world.store, world.bookings, today=lambda: today)
        self.dialogue = Dialogue()
        self.shown: list[dict[str, Any]] = []  # the latest search's records: what the user sees in the table

    def say(self, text: str, answer: Answer) -> StepRecord:
        record = StepRecord(user=text, shown_before=list(self.shown))
        before = _statuses(self.world.bookings)

        def confirm(proposal: Proposal) -> Proposal | None:
            chosen = answer(proposal)
            record.proposals.append(_seen(proposal, chosen is not None))
            return chosen

        started = time.perf_counter()
        try:
            for event in self.loop.respond(self.dialogue, text, confirm=confirm):
                _note(record, event)
                if isinstance(event, Reply):
                    self.dialogue = event.dialogue
        except Exception as e:  # a backend or loop failure ends the conversation, recorded, never the whole run
            record.error = f"{type(e).__name__}: {e}"
        record.seconds = time.perf_counter() - started
        if record.searches:
            self.shown = list(record.found)
        _store_changes(record, before, self.world.bookings)
        record.false_claim = false_claim(record, self.world.bookings)
        return record


def false_claim(record: StepRecord, bookings: Bookings) -> str | None:
    """What the step's reply falsely claimed ("booking" / "cancellation"), judged from the store."""
    if record.corrected is not None:
        return record.corrected
    if claims_cancellation(record.reply) and not record.cancelled:
        return "cancellation"
    if claims_booking(record.reply) and not any(b.status != CANCELLED for b in bookings.list()):
        return "booking"
    return None


def _note(record: StepRecord, event: object) -> None:
    if isinstance(event, SearchFinished):
        result = event.result
        record.searches.append(SearchSeen(dict(event.arguments), list(result.records), tuple(result.relaxed)))
    elif isinstance(event, SearchRejected):
        record.search_errors.append(event.error)
    elif isinstance(event, ActionRejected):
        record.rejected.append({"tool": event.turn.tool, "error": event.error, "field": event.field})
    elif isinstance(event, ActionFailed):
        record.failed.append(event.error)
    elif isinstance(event, Reply):
        record.reply = event.content
        record.corrected = event.corrected
        record.backend_error = event.backend_error
    # ConfirmationRequested / ActionDeclined / Booked / Cancelled: seen through `confirm` and the store instead


def _seen(proposal: Proposal, accepted: bool) -> ProposalSeen:
    if isinstance(proposal, BookingProposal):
        return ProposalSeen(
            "booking",
            proposal.hotel.get("name", ""),
            proposal.hotel.get("hotel_id"),
            proposal.guest,
            proposal.check_in.isoformat(),
            proposal.nights,
            None,
            accepted,
        )
    assert isinstance(proposal, CancellationProposal)
    b = proposal.booking
    return ProposalSeen("cancellation", b.hotel_name, b.hotel_id, b.guest, b.check_in, b.nights, b.id, accepted)


def _statuses(bookings: Bookings) -> dict[int, str]:
    return {b.id: b.status for b in bookings.list()}


def _store_changes(record: StepRecord, before: dict[int, str], bookings: Bookings) -> None:
    for booking in bookings.list():
        was = before.get(booking.id)
        if was is None and booking.status != CANCELLED:
            record.booked.append(booking)
        if booking.status == CANCELLED and was != CANCELLED:
            record.cancelled.append(booking)
