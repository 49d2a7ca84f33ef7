"""An agenda-based simulated user (ConvLab-2's user model, for one domain) that pursues a `Goal`.

Its agenda: state the constraints (perhaps one held back for a second message, perhaps a first value it later
takes back), pick a hotel from the table it was shown that satisfies its goal (by ordinal or by a shortened
name), ask the facts its goal lists about it, ask to book it (every detail at once, or some now and the rest when
the agent asks), answer the confirmation (yes when the proposal matches its goal, no otherwise, then correct it),
perhaps cancel, and say goodbye. It reacts to what a person would see: the search table, the reply text, the
confirmation; it never reads the agent's internals. When the agent does not move it towards its goal it tries
once more, then gives up and says why (`stuck`)."""

from __future__ import annotations

import datetime as dt
import random
import re
from dataclasses import dataclass, field, replace
from typing import Any

from agent.dialogue.actions import BookingProposal, CancellationProposal, Proposal
from evalharness.conversations import utterances as say
from evalharness.conversations.goals import Goal
from evalharness.conversations.placeholders import Unresolved, format_field
from evalharness.conversations.session import StepRecord

# What the agent's reply asks for, when it asks for booking details.
_ASKS = {
    "guest": re.compile(r"姓名|名字|入住人|谁入住|叫什么|称呼"),
    "check_in": re.compile(r"日期|哪天|哪一天|什么时候|几号|入住时间|时间"),
    "nights": re.compile(r"几晚|几天|晚数|多少晚|住多久|几个晚上|多少天"),
}
SLOTS = ("guest", "check_in", "nights")
# Keys in the order a person lists them.
_KEY_ORDER = ("near", "type", "price_upper", "price_lower", "rating_lower", "facilities")


@dataclass(frozen=True)
class InformCheck:
    """A fact the user asked about the chosen hotel, and whether the reply gave the database's value."""

    field: str
    hotel: str
    expected: str
    given: bool


@dataclass
class SimulatedUser:
    goal: Goal
    today: dt.date
    rng: random.Random
    phase: str = "search"  # search → inform → book → after → cancelling → done
    shown: list[dict[str, Any]] = field(default_factory=list)
    chosen: dict[str, Any] | None = None
    informs: list[InformCheck] = field(default_factory=list)
    stuck: str | None = None  # why the user gave up, when it did
    repairs: int = 0  # times the user had to say something again: its constraints, its booking, its cancellation
    booked_id: int | None = None
    cancelled: bool = False
    _date: str = ""
    _nights: str = ""
    _held_back: list[str] = field(default_factory=list)
    _change_pending: bool = False
    _restated: bool = False
    _requests: list[str] = field(default_factory=list)
    _pending_inform: str | None = None
    _pending_slots: list[str] = field(default_factory=list)
    _asked_to_book: bool = False
    _booking_retries: int = 0
    _cancel_retries: int = 0

    def __post_init__(self) -> None:
        self._date = say.date_text(self.goal.booking.check_in, self.today, self.rng)
        self._nights = say.nights_text(self.goal.booking.nights, self.rng)
        self._held_back = list(self.goal.held_back)
        self._change_pending = self.goal.change is not None
        self._requests = list(self.goal.requests)

    # ---- what the user says ------------------------------------------------------------------------------------

    def opening(self) -> str:
        constraints = self.goal.constraints
        if self.goal.change is not None:
            constraints = replace(constraints, **{self.goal.change.key: self.goal.change.said})
        keys = [k for k in _KEY_ORDER if k in constraints.keys() and k not in self._held_back]
        return say.first_request(say.constraint_phrases(constraints, keys, self.rng), self.rng)

    def react(self, record: StepRecord) -> str | None:
        """The next line after the agent's turn, or None when the conversation is over."""
        if record.error is not None:
            self.stuck = "the agent failed"
            return None
        if record.searches:
            self.shown = list(record.found)
        if self._pending_inform is not None:
            self._check_inform(self._pending_inform, record.reply)
            self._pending_inform = None
        if record.booked and self.booked_id is None:
            self.booked_id = record.booked[-1].id
        if record.cancelled:
            self.cancelled = True
        if self.phase == "search":
            return self._searching()
        if self.phase == "inform":
            return self._next_question() if self._requests else self._start_booking()
        if self.phase == "book":
            return self._booking(record)
        if self.phase == "after":
            return self._after_booking()
        if self.phase == "cancelling":
            return self._cancelling()
        return None

    def answer(self, proposal: Proposal) -> Proposal | None:
        """Confirm what matches the goal; decline anything else."""
        if isinstance(proposal, BookingProposal):
            wish = self.goal.booking
            matches = (
                self._asked_to_book
                and self.chosen is not None
                and proposal.hotel.get("hotel_id") == self.chosen["hotel_id"]
                and proposal.guest == wish.guest
                and proposal.check_in == wish.check_in
                and proposal.nights == wish.nights
            )
            return proposal if matches else None
        assert isinstance(proposal, CancellationProposal)
        return proposal if self.phase == "cancelling" and proposal.booking.id == self.booked_id else None

    # ---- the agenda ----------------------------------------------------------------------------------------------

    def _searching(self) -> str:
        constraints = self.goal.constraints
        if self._held_back:
            keys, self._held_back = self._held_back, []
            return say.add_constraint(say.constraint_phrases(constraints, keys, self.rng), self.rng)
        if self._change_pending:
            self._change_pending = False
            assert self.goal.change is not None
            return say.change_of_mind(self.goal.change, constraints, self.rng)
        fitting = [i for i, record in enumerate(self.shown) if constraints.satisfied_by(record)]
        if not fitting:
            if not self._restated:
                self._restated = True
                self.repairs += 1
                keys = [k for k in _KEY_ORDER if k in constraints.keys()]
                return say.restate(say.constraint_phrases(constraints, keys, self.rng), self.rng)
            return self._give_up("no hotel shown meets the goal")
        index = self.rng.choice(fitting)
        self.chosen = self.shown[index]
        ref = self._first_reference(index)
        if self._requests:
            self.phase = "inform"
            return self._next_question(ref)
        return self._start_booking(ref)

    def _next_question(self, ref: str | None = None) -> str:
        assert self.chosen is not None
        field_name = self._requests.pop(0)
        if field_name == "price" and not (isinstance(self.chosen.get("price"), float) and self.chosen["price"] >= 0):
            field_name = "phone"  # no price in the database: ask something it has
        self._pending_inform = field_name
        return say.ask(field_name, ref or self._reference_again(), self.rng)

    def _start_booking(self, ref: str | None = None) -> str:
        self.phase = "book"
        self._asked_to_book = True
        ref = ref or self._reference_again()
        wish = self.goal.booking
        if self.goal.at_once:
            return say.book_all(ref, wish, self._date, self._nights, self.rng)
        slots = list(SLOTS)
        self.rng.shuffle(slots)
        given_now = self.rng.choice((0, 1, 1, 2))
        self._pending_slots = slots[given_now:]
        phrases = [say.slot_phrase(s, wish, self._date, self._nights, self.rng) for s in slots[:given_now]]
        return say.book_start(ref, phrases, self.rng)

    def _booking(self, record: StepRecord) -> str:
        if self.booked_id is not None:
            return self._after_booking()
        declined = [p for p in record.proposals if p.kind == "booking" and not p.accepted]
        accepted = [p for p in record.proposals if p.kind == "booking" and p.accepted]
        if accepted:  # confirmed, yet nothing in the store
            return self._give_up("a confirmed booking was not written")
        if declined or not self._pending_slots:
            # a wrong proposal, or every detail given and nothing proposed: say it all again, once or twice
            self._booking_retries += 1
            self.repairs += 1
            if self._booking_retries > 2:
                return self._give_up("the booking was proposed wrong" if declined else "no booking was proposed")
            self._pending_slots = []
            assert self.chosen is not None
            name = say.short_name(self.chosen["name"], [r.get("name", "") for r in self.shown], self.rng)
            again = say.correct_booking if declined else say.retry_booking
            return again(name, self.goal.booking, self._date, self._nights, self.rng)
        asked = [s for s in self._pending_slots if _ASKS[s].search(record.reply)] or list(self._pending_slots)
        self._pending_slots = [s for s in self._pending_slots if s not in asked]
        phrases = [say.slot_phrase(s, self.goal.booking, self._date, self._nights, self.rng) for s in asked]
        return say.slot_answer(phrases, self.rng)

    def _after_booking(self) -> str:
        if self.goal.cancel:
            self.phase = "cancelling"
            return say.cancel(self.rng)
        self.phase = "done"
        return say.goodbye(self.rng)

    def _cancelling(self) -> str:
        if not self.cancelled and self._cancel_retries < 1:
            self._cancel_retries += 1
            self.repairs += 1
            return say.cancel(self.rng)
        if not self.cancelled:
            self.stuck = "the cancellation was not done"
        self.phase = "done"
        return say.goodbye(self.rng)

    def _give_up(self, why: str) -> str:
        self.stuck = why
        self.phase = "done"
        return say.goodbye(self.rng)

    # ---- references and checks -----------------------------------------------------------------------------------

    def _first_reference(self, index: int) -> str:
        names = [str(r.get("name", "")) for r in self.shown]
        if self.rng.random() < 0.35:
            return say.short_name(names[index], names, self.rng)
        return say.ordinal(index, len(self.shown), self.rng)

    def _reference_again(self) -> str:
        """这家 / 它 while the chosen hotel is still in the table; its name once another search replaced it."""
        assert self.chosen is not None
        names = [str(r.get("name", "")) for r in self.shown]
        if any(r.get("hotel_id") == self.chosen["hotel_id"] for r in self.shown):
            return say.again(self.rng)
        return say.short_name(self.chosen["name"], names, self.rng)

    def _check_inform(self, field_name: str, reply: str) -> None:
        assert self.chosen is not None
        try:
            expected = format_field(self.chosen, field_name)
        except Unresolved:
            return
        self.informs.append(InformCheck(field_name, self.chosen["name"], expected, expected in reply))
