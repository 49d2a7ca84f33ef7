"""What the chat app talks to: a backend factory, the hotel store, the bookings, the conversation history and a
clock. The app opens them once, in its first loading worker; tests pass their own `Services`.

Each part that fails to open is reported and replaced by what still lets the rest work: a store that cannot be
opened becomes a `MissingStore` (every search says why), missing bookings refuse booking calls, a missing history
saves nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from agent.app.history import Conversation, ConversationHistory
from agent.core.errors import UserError
from agent.core.search_result import SearchResult
from agent.dialogue.actions import BookingLedger
from agent.dialogue.loop import Searcher
from backends.base import Backend


def create_backend(name: str, **options: Any) -> Backend:
    from backends.registry import create  # the registry imports backend modules lazily; none imports torch

    return create(name, chat_only=True, **options)


def open_store() -> Searcher:
    from agent.core.store import HotelStore

    return HotelStore.open()


def open_bookings(store: Searcher) -> BookingLedger:
    from agent.core.bookings import Bookings
    from agent.core.store import HotelStore

    if not isinstance(store, HotelStore):
        raise UserError("bookings live in the hotel store's file, which is not open")
    return Bookings(store)


@dataclass
class Services:
    """How the app opens what it talks to; every field can be replaced (tests, benchmarks)."""

    create_backend: Callable[..., Backend] = create_backend
    open_store: Callable[[], Searcher] = open_store
    open_bookings: Callable[[Searcher], BookingLedger] = open_bookings  # given the open store
    open_history: Callable[[], ConversationHistory] = ConversationHistory.open
    today: Callable[[], dt.date] = dt.date.today  # check-in dates are checked against it


class MissingStore:
    """Stands in for a store that could not be opened: every search reports why, as a UserError."""

    def __init__(self, error: UserError):
        self.error = error

    def search(self, arguments: dict[str, Any], limit: int | None = None) -> SearchResult:
        raise self.error

    def find_by_name(self, text: str) -> list[dict[str, Any]]:
        return []


@dataclass
class Opened:
    """What `open_services` got, and what to tell the user about what it did not get."""

    store: Searcher
    bookings: BookingLedger | None = None
    history: ConversationHistory | None = None
    resume: Conversation | None = None  # the conversation --continue reopens
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def open_services(services: Services, continue_last: bool = False) -> Opened:
    """Store, bookings, history (and with `continue_last` the last conversation); never raises a UserError."""
    try:
        opened = Opened(services.open_store())
    except UserError as e:
        opened = Opened(MissingStore(e), errors=[f"{e} — searches and bookings will fail until the data is there"])
    else:
        try:
            opened.bookings = services.open_bookings(opened.store)
        except UserError as e:
            opened.errors.append(f"bookings unavailable: {e}")
    try:
        opened.history = services.open_history()
    except UserError as e:
        opened.errors.append(f"conversation history unavailable (nothing will be saved): {e}")
        return opened
    if continue_last:
        try:
            listing = opened.history.listing()
        except UserError as e:
            opened.errors.append(f"cannot resume: {e}")
            return opened
        opened.resume = listing.newest  # damaged ones are named (as in --plain), not resumed
        opened.notes += [f"warning: {problem}" for problem in listing.damaged]
        if opened.resume is None:
            opened.notes.append("no saved conversation to continue; starting a new one")
    return opened


def backend_model(backend: Backend, options: dict[str, Any]) -> str | None:
    """The model a backend runs, for the header: --model, else what its signature says, else None."""
    if options.get("model"):
        return str(options["model"])
    try:
        signature = backend.signature()
    except Exception:  # a signature is informative only; never let it break the header
        return None
    model = signature.get("base_model") or signature.get("model")
    return str(model) if model else None
