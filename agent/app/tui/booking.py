"""Bookings in the chat app, both ways they start.

* The agent asks (a `book_hotel` / `cancel_booking` call): the dialogue loop, in the exchange's worker thread,
  calls `BookingDesk.confirm`, which opens the booking form prefilled with the proposal (or a small dialog for a
  cancellation) on the screen and blocks the worker until the user answers. The loop writes; the desk only
  carries the (possibly edited) proposal back, or None.
* The user picks a hotel in a results table: the form opens empty; on Book the desk writes the booking itself,
  then adds it to the dialogue as a `book` call and its `result` (`with_manual_booking`), so the backend knows
  of it as if it had made the call."""

from __future__ import annotations

import queue
import threading
from typing import TYPE_CHECKING, Any

from agent.app.outcomes import booked_text, cancelled_text
from agent.app.tui.booking_dialog import BookingDialog, CancellationDialog
from agent.core.bookings import Booking
from agent.core.errors import UserError
from agent.core.turns import BookTurn, Dialogue, ResultTurn
from agent.dialogue.actions import BookingProposal, CancellationProposal, Proposal, booked_result

if TYPE_CHECKING:
    from agent.app.tui.app import HotelAgentApp

# How often a worker waiting for an answer checks whether its exchange was stopped (esc, quitting).
_POLL_SECONDS = 0.1


def with_manual_booking(dialogue: Dialogue, booking: Booking) -> Dialogue:
    """`dialogue` with a booking the user made outside the chat (a picked row) as the agent's own: a
    `book_hotel` call with the booking's details and the result the loop would have added."""
    call = BookTurn(
        {"hotel": booking.hotel_name, "guest": booking.guest, "check_in": booking.check_in, "nights": booking.nights}
    )
    return dialogue.with_turn(call, ResultTurn(booked_result(booking)))


class BookingDesk:
    def __init__(self, app: HotelAgentApp) -> None:
        self.app = app
        self.last_outcome = ""  # "✔ booked #7 …": shown in the status bar until the next exchange

    # --- the agent asks (worker thread) ------------------------------------------------------------------

    def confirm(self, proposal: Proposal, cancel: threading.Event) -> Proposal | None:
        """The user's answer to `proposal`: the proposal to carry out (edited in the form, maybe) or None.
        Runs in the exchange's worker; blocks it until the user answers, or the exchange is stopped."""
        answers: queue.Queue[Proposal | None] = queue.Queue()
        try:
            self.app.call_from_thread(self._ask, proposal, answers.put)
        except RuntimeError:  # the app is gone
            return None
        while True:
            try:
                return answers.get(timeout=_POLL_SECONDS)
            except queue.Empty:
                if cancel.is_set() or not self.app.is_running:
                    return None  # quitting (or the app is gone): the app closes the form with its screens

    def _ask(self, proposal: Proposal, answer: Any) -> None:
        self.app.status.start("waiting for your answer (esc: no)")
        if isinstance(proposal, BookingProposal):
            form = BookingDialog(proposal.hotel, proposal=proposal, today=self.app.services.today)
            self.app.push_screen(form, answer)
        else:
            assert isinstance(proposal, CancellationProposal)
            self.app.push_screen(CancellationDialog(proposal), lambda yes: answer(proposal if yes else None))

    # --- the user picks a hotel (UI thread) ----------------------------------------------------------------

    def open_manual(self, record: dict[str, Any]) -> None:
        if self.app.busy:
            # The running exchange will replace the dialogue: a booking added now would be lost from it.
            self.app.notify("wait for the reply (or press esc to stop it), then pick the hotel", severity="warning")
            return
        self.app.push_screen(BookingDialog(record, today=self.app.services.today), self._book_manual)

    def _book_manual(self, proposal: BookingProposal | None) -> None:
        self.app.prompt.focus()  # back to typing, whatever happens
        if proposal is None:
            self.app.note("booking cancelled; nothing was booked", kind="dim")
            return
        bookings = self.app.bookings
        if bookings is None:
            self.app.error("bookings unavailable (see the error above); nothing was booked")
            return
        try:
            # Synchronous on purpose: the confirmation below appears only once the booking is on disk.
            booking = bookings.book(
                proposal.hotel.get("hotel_id"),
                proposal.guest,
                proposal.check_in,
                proposal.nights,
                today=self.app.services.today(),
            )
        except (UserError, OSError) as e:
            self.app.error(f"not booked: {e}")
            return
        self.booked(booking)
        self.app.update_dialogue(with_manual_booking(self.app.dialogue, booking))

    # --- what came of it ------------------------------------------------------------------------------------

    def booked(self, booking: Booking) -> None:
        """Tell the user a booking exists (either path): a note with its details, its number in the status bar."""
        self.app.saved_bookings.append(booking)
        note = f"✔ {booked_text(booking)} — `hotel-agent bookings` lists it"
        self._done(note, f"✔ booked #{booking.id}: {booking.hotel_name}")

    def cancelled(self, booking: Booking) -> None:
        self._done(f"✔ {cancelled_text(booking)}", f"✔ {cancelled_text(booking)}")

    def _done(self, note: str, status: str) -> None:
        self.last_outcome = status
        self.app.note(note, kind="success")
        if not self.app.busy:
            self.app.show_idle()
