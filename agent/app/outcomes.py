"""What a booking or a cancellation by chat came to, in the words every front end prints.

The line chat (`--plain`) writes these after `< `, the TUI after `✔` / `✗` in a note, so a script reading the
line format and a person reading the screen see the same facts: the booking number, the hotel, the date, the
nights and the guest."""

from __future__ import annotations

from agent.core.bookings import Booking
from agent.dialogue.actions import BookingProposal, CancellationProposal, Proposal

# Reply.corrected -> what the backend's reply wrongly claimed
CORRECTED_CLAIMS = {
    "booking": "it claimed a booking that was not made",
    "cancellation": "it claimed a cancellation that was not made",
}


def booking_summary(booking: Booking) -> str:
    """`#7: 北京龙鼎华鼎云酒店, 2026-12-01, 2 nights, guest 张三` (fields a booking lacks are left out)."""
    parts = [booking.hotel_name]
    if booking.check_in:
        parts.append(booking.check_in)
    if booking.nights:
        parts.append(f"{booking.nights} night{'s' if booking.nights != 1 else ''}")
    if booking.guest:
        parts.append(f"guest {booking.guest}")
    return f"#{booking.id}: " + ", ".join(parts)


def booked_text(booking: Booking) -> str:
    return f"booked {booking_summary(booking)}"


def cancelled_text(booking: Booking) -> str:
    return f"cancelled #{booking.id}: {booking.hotel_name}"


def not_done_text(proposal_or_call: Proposal | str, error: str) -> str:
    """`not booked: <error>` / `not cancelled: <error>`; given a proposal, or the tool's role ("book"/"cancel")."""
    cancelling = isinstance(proposal_or_call, CancellationProposal) or proposal_or_call == "cancel"
    return f"{'not cancelled' if cancelling else 'not booked'}: {error}"


def declined_text(proposal: Proposal) -> str:
    return (
        "declined: nothing was booked" if isinstance(proposal, BookingProposal) else "declined: nothing was cancelled"
    )


def question(proposal: Proposal) -> str:
    """The yes/no question a proposal puts to the user: `确认预订：…？（是/否）`."""
    verb = "预订" if isinstance(proposal, BookingProposal) else "取消"
    return f"确认{verb}：{proposal.describe()}？（是/否）"


def corrected_text(claim: str) -> str:
    return f"reply corrected: {CORRECTED_CLAIMS.get(claim, f'it claimed a {claim} that did not happen')}"
