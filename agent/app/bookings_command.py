"""`hotel-agent bookings [--cancel ID]`: list the bookings made in the chat, or cancel one."""

from __future__ import annotations

from collections.abc import Sequence

import click

from agent.app.search_command import display_width
from agent.core.bookings import CANCELLED, Booking
from agent.core.text import clean_line

HEADERS = ("id", "status", "hotel", "check-in", "nights", "guest", "booked at (UTC)")


def _row(booking: Booking) -> list[str]:
    """The table cells of one booking, each on one line with no control characters: the store file may have
    been edited by hand, and a terminal would run the escape sequences in it."""
    cells = [
        str(booking.id),
        booking.status,
        booking.hotel_name,
        booking.check_in or "—",
        str(booking.nights) if booking.nights else "—",
        booking.guest or "—",
        booking.created.replace("T", " ").replace("+00:00", ""),
    ]
    return [clean_line(cell) or "—" for cell in cells]


def render_bookings(bookings: Sequence[Booking]) -> list[str]:
    if not bookings:
        return ["no bookings yet; book a hotel in the chat (`hotel-agent`)"]
    rows = [list(HEADERS)] + [_row(b) for b in bookings]
    widths = [max(display_width(row[i]) for row in rows) for i in range(len(HEADERS))]
    lines = ["  ".join(cell + " " * (w - display_width(cell)) for cell, w in zip(row, widths)).rstrip() for row in rows]
    active = sum(1 for b in bookings if b.status != CANCELLED)
    lines.append(f"{len(bookings)} booking{'s' if len(bookings) != 1 else ''}, {active} active")
    return lines


@click.command()
@click.option("--cancel", "cancel_id", type=int, metavar="ID", help="Cancel the booking with this id.")
def bookings(cancel_id: int | None) -> None:
    """List your hotel bookings (oldest first), or cancel one with --cancel ID.

    Bookings live in the store file in the cache dir ($HOTEL_AGENT_CACHE); cancelled ones stay listed."""
    from agent.core.bookings import Bookings

    book = Bookings.open()
    if cancel_id is not None:
        cancelled = book.cancel(cancel_id)
        click.echo(f"cancelled booking {cancelled.id}: {clean_line(cancelled.hotel_name)}")
        return
    listing = book.listing()
    for line in render_bookings(listing.bookings):
        click.echo(line)
    for problem in listing.damaged:  # after the table, so that they are the last thing read
        click.echo(f"warning: {problem}", err=True)
