"""Bookings and cancellations asked for by a backend's tool call: checked, proposed to the user, then done.

A `book_hotel` call becomes a `BookingProposal` (the hotel resolved to a record, the date resolved against
today); a `cancel_booking` call a `CancellationProposal`. The loop shows the proposal to the user through the front
end's `confirm` callback and only then writes; every outcome — done, refused by a check, declined — is a `result`
dict the backend answers from (the reply may claim only what it says)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Protocol

from agent.core.bookings import CANCELLED, Booking
from agent.core.errors import ArgumentError, UserError
from agent.core.hotel_names import match_names
from agent.core.schema import validate_booking, validate_cancel


class HotelLookup(Protocol):
    def find_by_name(self, text: str) -> list[dict[str, Any]]: ...


class BookingLedger(Protocol):
    def book(
        self,
        hotel_id: Any,
        guest: str | None = ...,
        check_in: Any = ...,
        nights: int | None = ...,
        *,
        today: dt.date | None = ...,
    ) -> Booking: ...

    def cancel(self, booking_id: int) -> Booking: ...

    def get(self, booking_id: int) -> Booking: ...


@dataclass(frozen=True)
class BookingProposal:
    """What the user is asked to confirm before a booking is written."""

    hotel: dict[str, Any]  # the hotel's record
    guest: str
    check_in: dt.date
    nights: int

    def describe(self) -> str:
        return f"{self.hotel['name']}，{self.check_in.isoformat()} 入住，{self.nights} 晚，入住人 {self.guest}"


@dataclass(frozen=True)
class CancellationProposal:
    """What the user is asked to confirm before a booking is cancelled."""

    booking: Booking

    def describe(self) -> str:
        b = self.booking
        details = "，".join(x for x in (b.check_in and f"{b.check_in} 入住", b.guest and f"入住人 {b.guest}") if x)
        return f"预订 #{b.id} {b.hotel_name}" + (f"（{details}）" if details else "")


Proposal = BookingProposal | CancellationProposal

DECLINED_BOOKING = "用户没有确认，未预订"
DECLINED_CANCEL = "用户没有确认，预订未取消"


def propose_booking(
    arguments: Any, shown: list[dict[str, Any]], hotels: HotelLookup, today: dt.date
) -> BookingProposal:
    """A checked book_hotel call; ArgumentError (with the field to blame) when it cannot be booked as asked."""
    booking = validate_booking(arguments, today)
    hotel = resolve_hotel(booking.hotel, shown, hotels)
    return BookingProposal(hotel, booking.guest, booking.check_in, booking.nights)


def propose_cancellation(arguments: Any, bookings: BookingLedger) -> CancellationProposal:
    booking_id = validate_cancel(arguments)
    try:
        booking = bookings.get(booking_id)
    except UserError:
        raise ArgumentError(f"no booking #{booking_id}", field="booking_id") from None
    if booking.status == CANCELLED:
        raise ArgumentError(f"booking #{booking_id} ({booking.hotel_name}) is already cancelled", field="booking_id")
    return CancellationProposal(booking)


def resolve_hotel(name: str, shown: list[dict[str, Any]], hotels: HotelLookup) -> dict[str, Any]:
    """The hotel a book_hotel call names: a hotel the user was shown first (exactly, then by a short name such as
    汉庭 or 龙鼎华鼎云), else the one hotel of the database the name fits. Ambiguous or unknown: ArgumentError."""
    for record in shown:
        if record.get("name") == name:
            return record
    shown_names = [str(r.get("name", "")) for r in shown]
    among_shown = match_names(name, shown_names) if shown_names else []
    if len(among_shown) == 1:
        return shown[among_shown[0]]
    found = hotels.find_by_name(name)
    exact = [r for r in found if r.get("name") == name]
    if len(exact) == 1 or len(found) == 1:
        return (exact or found)[0]
    if not found:
        raise ArgumentError(f"no hotel called {name!r}", field="hotel")
    names = "、".join(r["name"] for r in found[:3])
    raise ArgumentError(f"{name!r} fits {len(found)} hotels ({names}…); which one?", field="hotel")


def booked_result(booking: Booking) -> dict[str, Any]:
    return {
        "booking_id": booking.id,
        "hotel": booking.hotel_name,
        "guest": booking.guest,
        "check_in": booking.check_in,
        "nights": booking.nights,
        "status": booking.status,
    }


def cancelled_result(booking: Booking) -> dict[str, Any]:
    return {"booking_id": booking.id, "hotel": booking.hotel_name, "status": booking.status}


def error_result(error: str, field: str | None = None, *, declined: bool = False) -> dict[str, Any]:
    result: dict[str, Any] = {"error": error}
    if field:
        result["field"] = field
    if declined:
        result["declined"] = True
    return result


def fallback_reply(result: dict[str, Any]) -> str:
    """A reply written from a result alone, for when the backend cannot answer after an action was done: the
    user still learns exactly what happened."""
    if "error" in result:
        return f"抱歉，没有完成：{result['error']}。"
    if result.get("status") == CANCELLED:
        return f"已取消预订 #{result['booking_id']}（{result['hotel']}）。"
    return (
        f"已为您预订{result['hotel']}，{result['check_in']} 入住，{result['nights']} 晚，"
        f"入住人 {result['guest']}，预订号 {result['booking_id']}。"
    )
