"""What a booking or a cancellation by chat came to, in the words every front end prints.

The line chat (`--plain`) writes these after `< `, the TUI after `✔` / `✗` in a note, so a script reading the
line format and a person reading the screen see the same facts: the booking number, the hotel, the date, the
nights and the guest."""

from __future__ import annotations

from typing import Any

from agent.core.bookings import CANCELLED, Booking
from agent.dialogue.actions import CancellationProposal, Proposal

# Reply.corrected -> what the backend's reply wrongly claimed
CORRECTED_CLAIMS = {
    "booking": "it claimed a booking that was not made",
    "cancellation": "it claimed a cancellation that was not made",
}


def booking_summary(
    number: Any, hotel: str, check_in: str | None = None, nights: int | None = None, guest: str | None = None
) -> str:
    """`#7: 北京龙鼎华鼎云酒店, 2026-12-01, 2 nights, guest 张三` (fields a booking lacks are left out)."""
    parts = [hotel]
    if check_in:
        parts.append(check_in)
    if nights:
        parts.append(f"{nights} night{'s' if nights != 1 else ''}")
    if guest:
        parts.append(f"guest {guest}")
    return f"#{number}: " + ", ".join(parts)


def booked_text(booking: Booking) -> str:
    return "booked " + booking_summary(booking.id, booking.hotel_name, booking.check_in, booking.nights, booking.guest)


def cancelled_text(booking: Booking) -> str:
    return f"cancelled #{booking.id}: {booking.hotel_name}"


def _cancelling(what: Proposal | str) -> bool:
    """Whether `what` — a proposal, or the role of the call ("book" / "cancel") — is about a cancellation."""
    return isinstance(what, CancellationProposal) or what == "cancel"


def not_done_text(what: Proposal | str, error: str) -> str:
    """`not booked: <error>` / `not cancelled: <error>`."""
    return f"{'not cancelled' if _cancelling(what) else 'not booked'}: {error}"


def declined_text(what: Proposal | str) -> str:
    return f"declined: nothing was {'cancelled' if _cancelling(what) else 'booked'}"


def question(proposal: Proposal) -> str:
    """The yes/no question a proposal puts to the user: `确认预订：…？（是/否）`."""
    return f"确认{'取消' if _cancelling(proposal) else '预订'}：{proposal.describe()}？（是/否）"


def corrected_text(claim: str) -> str:
    return f"reply corrected: {CORRECTED_CLAIMS.get(claim, f'it claimed a {claim} that did not happen')}"


def result_text(call_role: str, result: dict[str, Any]) -> str:
    """What a saved `result` turn says (a resumed conversation shows it again), as the texts above said it when
    it happened; `call_role` is the role of the call it answers ("book" / "cancel")."""
    if "error" in result:
        return declined_text(call_role) if result.get("declined") else not_done_text(call_role, str(result["error"]))
    if result.get("status") == CANCELLED:
        return f"cancelled #{result.get('booking_id')}: {result.get('hotel')}"
    fields = (result.get(key) for key in ("check_in", "nights", "guest"))
    return "booked " + booking_summary(result.get("booking_id"), str(result.get("hotel")), *fields)
