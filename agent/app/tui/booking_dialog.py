"""The booking form and the cancellation confirmation.

The booking form opens in two ways: prefilled with what the agent proposes (the user asked in the chat; the
form is the confirmation the dialogue loop waits for), or empty for a hotel the user picked in a results table.
Either way every field is checked by the rules the `book_hotel` tool uses (agent.core.schema, agent.core.dates),
so a date may be typed as 2026-12-01, 12月1日 or 后天."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from agent.app.tui.search_card import record_row
from agent.core.dates import check_in_date
from agent.core.errors import UserError
from agent.core.schema import guest_name, nights_count
from agent.dialogue.actions import BookingProposal, CancellationProposal

REQUIRED = {"guest": "the guest name", "check_in": "the check-in date", "nights": "the number of nights"}


def parse_booking_form(
    record: dict[str, Any], guest: str, check_in: str, nights: str, today: dt.date | None = None
) -> BookingProposal:
    """The form's fields as a booking of `record`; UserError names the field that is missing or wrong."""
    values = {"guest": guest.strip(), "check_in": check_in.strip(), "nights": nights.strip()}
    for key, value in values.items():
        if not value:
            raise UserError(f"{REQUIRED[key]} is missing")
    return BookingProposal(
        record,
        guest_name(values["guest"]),
        check_in_date(values["check_in"], today or dt.date.today()),
        nights_count(values["nights"]),
    )


class BookingDialog(ModalScreen[BookingProposal | None]):
    """Dismisses with the (possibly edited) BookingProposal on Book, None on Cancel / esc. Writing is the
    caller's job."""

    BINDINGS = [Binding("escape", "cancel", "don't book")]

    def __init__(
        self,
        record: dict[str, Any],
        *,
        proposal: BookingProposal | None = None,
        today: Callable[[], dt.date] = dt.date.today,
    ) -> None:
        super().__init__()
        self.record = record
        self.proposal = proposal  # what the agent proposes; None: the user picked the hotel
        self.today = today

    def compose(self) -> ComposeResult:
        name, kind, price, rating, subway, phone = record_row(self.record)
        proposed = self.proposal
        with Vertical(id="booking-dialog"):
            yield Static(Text(f"预订 {name}", style="bold"), id="booking-title")
            yield Static(Text(f"{kind} · {price} · 评分 {rating} · 地铁 {subway} · {phone}"), id="booking-hotel")
            if proposed is not None:
                yield Static(
                    Text("The agent asks to book this. Check or edit, then Book; esc: don't book."),
                    id="booking-asked",
                )
            with Grid(id="booking-form"):
                yield Label("guest name")
                yield Input(proposed.guest if proposed else "", placeholder="入住人姓名", id="booking-guest")
                yield Label("check-in")
                yield Input(
                    proposed.check_in.isoformat() if proposed else "",
                    placeholder="2026-12-01, 12月1日, 后天…",
                    id="booking-check-in",
                )
                yield Label("nights")
                yield Input(str(proposed.nights) if proposed else "", placeholder="1–365", id="booking-nights")
            yield Static("", id="booking-error")
            with Horizontal(id="booking-buttons"):
                yield Button("Book", variant="primary", id="booking-confirm")
                yield Button("Cancel", id="booking-cancel")

    def on_mount(self) -> None:
        # Prefilled, the answer is one key away (enter books); empty, typing starts with the guest name.
        self.query_one("#booking-confirm" if self.proposal else "#booking-guest").focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "booking-confirm":
            self.confirm()
        else:
            self.dismiss(None)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.confirm()

    def confirm(self) -> None:
        try:
            proposal = parse_booking_form(
                self.record,
                self.query_one("#booking-guest", Input).value,
                self.query_one("#booking-check-in", Input).value,
                self.query_one("#booking-nights", Input).value,
                self.today(),
            )
        except UserError as e:
            self.query_one("#booking-error", Static).update(Text(str(e), style="bold red"))
            return
        self.dismiss(proposal)

    def action_cancel(self) -> None:
        self.dismiss(None)


class CancellationDialog(ModalScreen[bool]):
    """Asks whether to cancel a booking the agent proposes to cancel: True (cancel it) or False (keep it, esc)."""

    BINDINGS = [Binding("escape", "keep", "keep the booking")]

    def __init__(self, proposal: CancellationProposal) -> None:
        super().__init__()
        self.proposal = proposal

    def compose(self) -> ComposeResult:
        with Vertical(id="cancel-dialog"):
            yield Static(Text("取消预订？", style="bold"), id="cancel-title")
            yield Static(Text(self.proposal.describe()), id="cancel-booking")
            with Horizontal(id="booking-buttons"):
                yield Button("Cancel the booking", variant="error", id="cancel-confirm")
                yield Button("Keep it", id="cancel-keep")

    def on_mount(self) -> None:
        self.query_one("#cancel-keep").focus()  # the safe answer is the default

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "cancel-confirm")

    def action_keep(self) -> None:
        self.dismiss(False)
