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
from agent.core.errors import UserError
from agent.core.store import HotelStore

BOOKINGS_TABLE = "bookings"
BOOKINGS_SCHEMA = Schema(BOOKINGS_TABLE, 1)
CONFIRMED = "confirmed"
CANCELLED = "cancelled"
MAX_NIGHTS = 365


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


def _check_in(value: str | dt.date | None) -> str | None:
    if value is None or isinstance(value, dt.date):
        return value.isoformat() if value else None
    try:
        return dt.date.fromisoformat(value.strip()).isoformat()
    except ValueError:
        raise UserError(f"check-in date must look like 2026-12-01, got {value!r}") from None


def _nights(value: int | None) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_NIGHTS:
        raise UserError(f"nights must be a whole number from 1 to {MAX_NIGHTS}, got {value!r}")
    return value


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
    ) -> Booking:
        """Book a hotel, given by id or by one of its records (as a search returned it)."""
        if isinstance(hotel_id, Mapping):
            hotel_id = hotel_id.get("hotel_id")  # type: ignore[assignment]
        hotel = self.store.get(hotel_id)  # type: ignore[arg-type]  # UserError for an unknown id
        if guest is not None and not isinstance(guest, str):
            raise UserError(f"guest must be a name, got {guest!r}")
        guest = (guest or "").strip() or None
        doc = {
            "hotel_id": hotel_id,
            "hotel_name": hotel["name"],
            "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "status": CONFIRMED,
            "guest": guest,
            "check_in": _check_in(check_in),
            "nights": _nights(nights),
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
