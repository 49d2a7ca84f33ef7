"""The booking confirmation: a hotel, and optionally guest name, check-in date and nights."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from agent.app.tui.search_card import record_row
from agent.core.errors import UserError

MAX_NIGHTS = 365


@dataclass(frozen=True)
class BookingRequest:
    record: dict[str, Any]
    guest: str | None = None
    check_in: date | None = None
    nights: int | None = None


def parse_booking_form(record: dict[str, Any], guest: str, check_in: str, nights: str) -> BookingRequest:
    """The form's fields, all optional; UserError names the field that is wrong."""
    guest = guest.strip()
    day: date | None = None
    if check_in.strip():
        try:
            day = date.fromisoformat(check_in.strip())
        except ValueError:
            raise UserError(f"check-in date {check_in.strip()!r} is not a date like 2026-12-24") from None
    count: int | None = None
    if nights.strip():
        try:
            count = int(nights.strip())
        except ValueError:
            raise UserError(f"nights must be a whole number, got {nights.strip()!r}") from None
        if not 1 <= count <= MAX_NIGHTS:
            raise UserError(f"nights must be between 1 and {MAX_NIGHTS}, got {count}")
    return BookingRequest(record, guest or None, day, count)


class BookingDialog(ModalScreen[BookingRequest | None]):
    """Dismisses with a BookingRequest (confirm) or None (cancel / esc). Saving is the app's job."""

    BINDINGS = [Binding("escape", "cancel", "cancel")]
    AUTO_FOCUS = "#booking-guest"

    def __init__(self, record: dict[str, Any]) -> None:
        super().__init__()
        self.record = record

    def compose(self) -> ComposeResult:
        name, kind, price, rating, subway, phone = record_row(self.record)
        with Vertical(id="booking-dialog"):
            yield Static(Text(f"预订 {name}", style="bold"), id="booking-title")
            yield Static(Text(f"{kind} · {price} · 评分 {rating} · 地铁 {subway} · {phone}"), id="booking-hotel")
            with Grid(id="booking-form"):
                yield Label("guest name")
                yield Input(placeholder="optional", id="booking-guest")
                yield Label("check-in")
                yield Input(placeholder="YYYY-MM-DD, optional", id="booking-check-in")
                yield Label("nights")
                yield Input(placeholder="optional", id="booking-nights", type="integer")
            yield Static("", id="booking-error")
            with Horizontal(id="booking-buttons"):
                yield Button("Book", variant="primary", id="booking-confirm")
                yield Button("Cancel", id="booking-cancel")

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
            request = parse_booking_form(
                self.record,
                self.query_one("#booking-guest", Input).value,
                self.query_one("#booking-check-in", Input).value,
                self.query_one("#booking-nights", Input).value,
            )
        except UserError as e:
            self.query_one("#booking-error", Static).update(Text(str(e), style="bold red"))
            return
        self.dismiss(request)

    def action_cancel(self) -> None:
        self.dismiss(None)
