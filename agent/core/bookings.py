"""Hotel bookings, kept in the store's TinyDB file (table `bookings`, schema version in its meta table).

Every change is one atomic write of the file (agent.core.atomic_storage), done under the file's lock, so a process
killed at any moment leaves a valid file with every booking it had confirmed, and two processes booking at
once do not overwrite each other. Bookings are never deleted: cancelling sets the status."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from tinydb.table import Table

from agent.core.atomic_storage import Schema, ensure_schema, locked
from agent.core.dates import check_in_date
from agent.core.errors import UserError
from agent.core.schema import guest_name, nights_count
from agent.core.store import HotelStore

BOOKINGS_TABLE = "bookings"
BOOKINGS_SCHEMA = Schema(BOOKINGS_TABLE, 1)
CONFIRMED = "confirmed"
CANCELLED = "cancelled"


@dataclass(frozen=True)
class Booking:
    id: int
    hotel_id: int
    hotel_name: str
    created: str  # ISO 8601, UTC, to the second
    status: str  # CONFIRMED or CANCELLED
    guest: str | None = None
    check_in: str | None = None  # ISO date, YYYY-MM-DD
    nights: int | None = None

    @classmethod
    def from_document(cls, doc_id: int, doc: Mapping[str, Any]) -> Booking:
        return cls(
            id=doc_id,
            hotel_id=doc["hotel_id"],
            hotel_name=doc["hotel_name"],
            created=doc["created"],
            status=doc["status"],
            guest=doc.get("guest"),
            check_in=doc.get("check_in"),
            nights=doc.get("nights"),
        )


class Bookings:
    """Book, cancel and list bookings of the hotels in `store`."""

    def __init__(self, store: HotelStore):
        self.store = store
        with locked(store.path):
            ensure_schema(store.db, BOOKINGS_SCHEMA)

    @classmethod
    def open(cls) -> Bookings:
        return cls(HotelStore.open())

    def _table(self) -> Table:
        # A fresh table per operation: a cached one remembers the next free id, which another process may
        # have taken since.
        return Table(self.store.db.storage, BOOKINGS_TABLE)

    def book(
        self,
        hotel_id: int | Mapping[str, Any],
        guest: str | None = None,
        check_in: str | dt.date | None = None,
        nights: int | None = None,
        *,
        today: dt.date | None = None,
    ) -> Booking:
        """Book a hotel, given by id or by one of its records (as a search returned it). Every given field is
        checked the way the book_hotel tool checks it (agent.core.schema): a guest name of at most 100
        characters, a check-in date from today (`today`, default the local date) to a year ahead, 1 to 365
        nights. An ArgumentError names the field; nothing is written then."""
        if isinstance(hotel_id, Mapping):
            hotel_id = hotel_id.get("hotel_id")  # type: ignore[assignment]
        hotel = self.store.get(hotel_id)  # type: ignore[arg-type]  # UserError for an unknown id
        today = today or dt.date.today()
        doc = {
            "hotel_id": hotel_id,
            "hotel_name": hotel["name"],
            "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "status": CONFIRMED,
            "guest": guest_name(guest) if guest is not None and str(guest).strip() else None,
            "check_in": check_in_date(check_in, today).isoformat() if check_in is not None else None,
            "nights": nights_count(nights) if nights is not None else None,
        }
        with locked(self.store.path):
            doc_id = self._table().insert(doc)
        return Booking.from_document(doc_id, doc)

    def cancel(self, booking_id: int) -> Booking:
        with locked(self.store.path):
            table = self._table()
            doc = table.get(doc_id=booking_id) if isinstance(booking_id, int) else None
            if doc is None:
                raise UserError(f"no booking with id {booking_id!r}; `hotel-agent bookings` lists them")
            if doc["status"] == CANCELLED:
                raise UserError(f"booking {booking_id} ({doc['hotel_name']}) is already cancelled")
            table.update({"status": CANCELLED}, doc_ids=[booking_id])
        return Booking.from_document(booking_id, {**doc, "status": CANCELLED})

    def get(self, booking_id: int) -> Booking:
        doc = self._table().get(doc_id=booking_id) if isinstance(booking_id, int) else None
        if doc is None:
            raise UserError(f"no booking with id {booking_id!r}; `hotel-agent bookings` lists them")
        return Booking.from_document(booking_id, doc)

    def list(self) -> list[Booking]:
        """Every booking, oldest first."""
        return sorted((Booking.from_document(d.doc_id, d) for d in self._table().all()), key=lambda b: b.id)


def booking_to_json(booking: Booking) -> dict[str, Any]:
    return asdict(booking)
