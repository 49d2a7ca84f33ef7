"""A whole conversation with the rules backend through the real dialogue loop, HotelStore and bookings: what a
person types, what the loop shows (searches, the confirmation asked, the reply) and what is booked afterwards."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from agent.core.bookings import Booking, Bookings
from agent.core.store import HotelStore
from agent.core.turns import Dialogue
from agent.dialogue.actions import Proposal
from agent.dialogue.loop import ConfirmationRequested, DialogueLoop, Event, Reply, SearchStarted
from backends.rules.backend import RulesBackend

# A fixed today (a Sunday), so 12月1日 / 后天 / 下周五 read the same on any day.
TODAY = dt.date(2026, 11, 29)

_BACKEND = RulesBackend()  # one lexicon for the whole test session (mined once, seconds)


@dataclass
class Chat:
    store: HotelStore
    bookings: Bookings
    dialogue: Dialogue = field(default_factory=Dialogue)
    backend: RulesBackend = field(default_factory=lambda: _BACKEND)
    events: list[Event] = field(default_factory=list)  # of the latest exchange
    replies: list[Reply] = field(default_factory=list)  # every reply so far

    @property
    def loop(self) -> DialogueLoop:
        return DialogueLoop(self.backend, self.store, self.bookings, today=lambda: TODAY)

    def say(self, text: str, *, confirm: bool = True) -> str:
        """Send one message; a proposal is confirmed (or declined with confirm=False). Returns the reply."""

        def answer(proposal: Proposal) -> Proposal | None:
            return proposal if confirm else None

        self.events = list(self.loop.respond(self.dialogue, text, confirm=answer))
        reply = self.events[-1]
        assert isinstance(reply, Reply)
        self.dialogue = reply.dialogue
        self.replies.append(reply)
        return reply.content

    @property
    def searches(self) -> list[dict[str, Any]]:
        """The searches the latest message caused."""
        return [e.arguments for e in self.events if isinstance(e, SearchStarted)]

    @property
    def proposals(self) -> list[Proposal]:
        """What the latest message asked the user to confirm."""
        return [e.proposal for e in self.events if isinstance(e, ConfirmationRequested)]

    @property
    def table(self) -> list[dict[str, Any]]:
        """The latest results table, in its order."""
        return self.dialogue.last_records()

    def booked(self) -> list[Booking]:
        return self.bookings.list()

    def corrected(self) -> list[str]:
        """Replies the loop had to replace because they claimed what did not happen (should be none)."""
        return [r.corrected for r in self.replies if r.corrected]


def open_chat(backend: RulesBackend | None = None) -> Chat:
    """A chat on a fresh store (call inside a test using the `own_cache` fixture: nothing leaks between tests),
    with the chat's rules backend unless another is given (RulesBackend(habits=COURSE))."""
    store = HotelStore.open()
    return Chat(store, Bookings(store), backend=backend or _BACKEND)


def chat_after_search(ask: str) -> Chat:
    """open_chat() after `ask`, a search that shows three hotels (the usual start of a test)."""
    chat = open_chat()
    chat.say(ask)
    assert len(chat.table) == 3
    return chat
