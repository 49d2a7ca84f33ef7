"""One generated dialogue as it is written: user lines, real tool calls with their real outcomes, replies.

Every `return` turn holds what `HotelStore.search` returns for the call's arguments (limit 3, as the dialogue loop
shows them), and every `result` turn what the dialogue loop's own checks say (`agent.dialogue.actions`): a date in
the past, an unknown hotel, a declined confirmation — so a model trained on these dialogues reads the tools as
they really answer. Each reply is checked with the loop's own claim rules (`agent.dialogue.claims`): a phrasing
that would tell a user a booking happened when it did not stops generation (`GenerationError`)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from agent.core.bookings import CANCELLED, CONFIRMED, Booking
from agent.core.errors import ArgumentError, UserError
from agent.core.search_result import SearchResult
from agent.core.store import HotelStore
from agent.core.turns import (
    AssistantTurn,
    BookTurn,
    CancelTurn,
    Dialogue,
    ResultTurn,
    ReturnTurn,
    SearchTurn,
    Turn,
    UserTurn,
)
from agent.dialogue.actions import (
    DECLINED_BOOKING,
    DECLINED_CANCEL,
    booked_result,
    cancelled_result,
    error_result,
    propose_booking,
    propose_cancellation,
)
from agent.dialogue.claims import false_claim
from finetune.augment.phrasings import Phrasings

# The dialogue loop shows this many hotels per search (agent.dialogue.loop.DEFAULT_RESULT_LIMIT).
RESULT_LIMIT = 3
CREATED = "2026-01-01T00:00:00+00:00"  # bookings' creation time: never shown, fixed so files are reproducible


class GenerationError(Exception):
    """A generated dialogue broke a rule it must keep (a false claim, a call the tools refuse unexpectedly): a bug
    in the generator or the phrasings, never in the data a user gives."""


class Ledger:
    """The bookings of one generated dialogue, in memory: the dialogue loop's BookingLedger, with ids from 1 as in a
    fresh world."""

    def __init__(self, store: HotelStore) -> None:
        self.store = store
        self.bookings: dict[int, Booking] = {}

    def book(
        self,
        hotel_id: Any,
        guest: str | None = None,
        check_in: Any = None,
        nights: int | None = None,
        *,
        today: dt.date | None = None,
    ) -> Booking:
        """Record a booking the dialogue loop has already checked (agent.dialogue.actions.propose_booking)."""
        del today  # the proposal's checks ran against the dialogue's own date
        check_in_text = check_in.isoformat() if isinstance(check_in, dt.date) else check_in
        name = self.store.get(hotel_id)["name"]
        booking = Booking(len(self.bookings) + 1, hotel_id, name, CREATED, CONFIRMED, guest, check_in_text, nights)
        self.bookings[booking.id] = booking
        return booking

    def get(self, booking_id: int) -> Booking:
        if booking_id not in self.bookings:
            raise UserError(f"no booking #{booking_id}")
        return self.bookings[booking_id]

    def cancel(self, booking_id: int) -> Booking:
        booking = self.get(booking_id)
        cancelled = dataclasses.replace(booking, status=CANCELLED)
        self.bookings[booking_id] = cancelled
        return cancelled

    def active(self) -> list[Booking]:
        return [b for b in self.bookings.values() if b.status == CONFIRMED]


@dataclass
class World:
    """What every dialogue draws from: the hotels, the phrasings, and the facility answer key."""

    store: HotelStore
    phrasings: Phrasings

    def offers(self, record: Mapping[str, Any], word: str) -> tuple[str, ...]:
        """The record's facilities that `word` means (empty: the hotel lacks it)."""
        meant = self.phrasings.facilities[word]
        return tuple(f for f in record["facilities"] if f in meant)


@dataclass
class Episode:
    """A dialogue being written, with its own seeded randomness, date and bookings."""

    world: World
    rng: random.Random
    today: dt.date
    turns: list[Turn] = field(default_factory=list)
    skills: list[str] = field(default_factory=list)  # what each scene taught, in order (for --report)
    ledger: Ledger = field(init=False)
    focus: int | None = None  # the shown row the user last talked about (这家 / 它 refer to it)
    args: dict[str, Any] = field(default_factory=dict)  # the latest search's arguments, as the model wrote them

    def __post_init__(self) -> None:
        self.ledger = Ledger(self.world.store)

    @property
    def p(self) -> Phrasings:
        return self.world.phrasings

    def dialogue(self) -> Dialogue:
        return Dialogue(self.turns)

    @property
    def shown(self) -> list[dict[str, Any]]:
        """The hotels the user sees now (the latest search's records)."""
        return self.dialogue().last_records()

    def pick(self, key: str, **values: Any) -> str:
        return self.p.pick(self.rng, key, **values)

    # --- turns ---------------------------------------------------------------------------------------------

    def user(self, text: str) -> None:
        self.turns.append(UserTurn(text))

    def search(self, arguments: dict[str, Any]) -> SearchResult:
        """A search_hotels call and the records the store returns for it."""
        result = self.world.store.search(arguments, limit=RESULT_LIMIT)
        self.turns += [SearchTurn(dict(arguments)), ReturnTurn(result.records)]
        self.args = dict(arguments)
        self.focus = 0 if len(result.records) == 1 else None
        return result

    def reply(self, text: str) -> None:
        start = self.dialogue().exchange_start()
        claim = false_claim(text, self.dialogue(), start)
        if claim is not None:
            raise GenerationError(f"reply claims a {claim} that did not happen: {text!r}")
        self.turns.append(AssistantTurn(text))

    def book(self, arguments: dict[str, Any], *, confirm: bool = True) -> dict[str, Any]:
        """A book_hotel call and what the dialogue loop answers: refused by a check, declined, or booked."""
        self.turns.append(BookTurn(dict(arguments)))
        try:
            proposal = propose_booking(arguments, self.dialogue().shown_records(), self.world.store, self.today)
        except ArgumentError as e:
            result = error_result(str(e), e.field)
        else:
            if confirm:
                booking = self.ledger.book(
                    proposal.hotel["hotel_id"], proposal.guest, proposal.check_in, proposal.nights, today=self.today
                )
                result = booked_result(booking)
            else:
                result = error_result(DECLINED_BOOKING, declined=True)
        self.turns.append(ResultTurn(result))
        return result

    def cancel(self, booking_id: int, *, confirm: bool = True) -> dict[str, Any]:
        self.turns.append(CancelTurn({"booking_id": booking_id}))
        try:
            proposal = propose_cancellation({"booking_id": booking_id}, self.ledger)
        except ArgumentError as e:
            result = error_result(str(e), e.field)
        else:
            if confirm:
                result = cancelled_result(self.ledger.cancel(proposal.booking.id))
            else:
                result = error_result(DECLINED_CANCEL, declined=True)
        self.turns.append(ResultTurn(result))
        return result


def number_text(value: float) -> str:
    """258.0 → 258, 4.5 → 4.5: how replies and user lines write a number."""
    return f"{value:g}" if value != int(value) else str(int(value))


def hotel_names(records: Sequence[Mapping[str, Any]]) -> list[str]:
    return [str(r["name"]) for r in records]
