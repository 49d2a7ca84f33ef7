"""Hotel bookings, kept in the store's TinyDB file (table `bookings`, schema version in its meta table).

Every change is one atomic write of the file (agent.core.atomic_storage), done under the file's lock, so a process
killed at any moment leaves a valid file with every booking it had confirmed, and two processes booking at
once do not overwrite each other. Bookings are never deleted: cancelling sets the status."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from tinydb.table import Document, Table

from agent.core import strict_json
from agent.core.atomic_storage import DOC_ID, Schema, ensure_schema, locked
from agent.core.dates import check_in_date
from agent.core.errors import DataFormatError, UserError
from agent.core.schema import guest_name, nights_count
from agent.core.store import STORE_TABLES, HotelStore
from agent.core.text import clean_line

BOOKINGS_TABLE = "bookings"
assert BOOKINGS_TABLE in STORE_TABLES
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
        """The booking stored as `doc`; DataFormatError naming the first field that is missing or of the wrong
        kind (a file edited by hand, or by a program that is not this one)."""
        unknown = sorted(set(doc) - {name for name, _, _ in _FIELDS})
        if unknown:  # a field renamed by damage: reading on without it would drop what it held
            raise DataFormatError(f"booking {doc_id} is damaged (unknown field {_shown(unknown[0])})")
        for name, kinds, required in _FIELDS:
            value = doc.get(name)
            if (value is None and required) or (
                value is not None and (isinstance(value, bool) or not isinstance(value, kinds))
            ):
                raise DataFormatError(f"booking {doc_id} is damaged ({name} is {_shown(value)})")
        if doc["status"] not in (CONFIRMED, CANCELLED):
            raise DataFormatError(f"booking {doc_id} is damaged (status is {_shown(doc['status'])})")
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


# (field, the type it must have, whether it must be there) of a stored booking.
_FIELDS: tuple[tuple[str, type, bool], ...] = (
    ("hotel_id", int, True),
    ("hotel_name", str, True),
    ("created", str, True),
    ("status", str, True),
    ("guest", str, False),
    ("check_in", str, False),
    ("nights", int, False),
)


def _shown(value: Any) -> str:
    """A stored value in an error line: one line, short, no control characters."""
    text = clean_line(repr(value))
    return text if len(text) <= 40 else text[:39] + "…"


@dataclass(frozen=True)
class Listing:
    """Every booking that reads well, oldest first, and one line for each that does not."""

    bookings: list[Booking]
    damaged: list[str]


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
            booking = self._stored(table, booking_id)
            if booking.status == CANCELLED:
                raise UserError(f"booking {booking_id} ({clean_line(booking.hotel_name)}) is already cancelled")
            table.update({"status": CANCELLED}, doc_ids=[booking_id])
        return replace(booking, status=CANCELLED)

    def get(self, booking_id: int) -> Booking:
        return self._stored(self._table(), booking_id)

    def _stored(self, table: Table, booking_id: int) -> Booking:
        doc = table.get(doc_id=booking_id) if isinstance(booking_id, int) and not isinstance(booking_id, bool) else None
        if doc is None:
            raise UserError(f"no booking with id {booking_id!r}; `hotel-agent bookings` lists them")
        try:
            return Booking.from_document(booking_id, doc)
        except DataFormatError as e:
            raise DataFormatError(f"{e}; it was left as it is in {self.store.path}: fix it there by hand") from None

    def listing(self) -> Listing:
        """Every booking that reads well, oldest first, and a line for each damaged one (never dropped
        silently, never deleted: the file keeps it for a person to fix)."""
        listing = _read_documents((doc.doc_id, doc) for doc in self._table().all())
        where = f" in {self.store.path} is damaged"
        return Listing(listing.bookings, [line.replace(" is damaged", where, 1) for line in listing.damaged])

    def list(self) -> list[Booking]:
        """Every booking that reads well, oldest first (`listing` also names the damaged ones)."""
        return self.listing().bookings

    def restore(self, bookings: Iterable[Booking]) -> tuple[Booking, ...]:
        """Write `bookings` under their own numbers (the ones the user was told), for a store that starts again
        after `data repair`; one whose number is taken here already is left out. Returns those written."""
        written = []
        with locked(self.store.path):
            table = self._table()
            for booking in bookings:
                if table.contains(doc_id=booking.id):
                    continue
                doc = {k: v for k, v in booking_to_json(booking).items() if k != "id"}
                table.insert(Document(doc, doc_id=booking.id))
                written.append(booking)
        return tuple(written)


def readable_bookings(path: Path) -> tuple[list[Booking], int]:
    """The bookings that still read well in a store file that as a whole does not (kept aside by `data repair`),
    and how many others it holds that do not. Nothing when the file is not JSON at all: no booking can be told
    apart in it then (a person may still find them by hand)."""
    try:
        data = strict_json.loads(path.read_bytes().decode("utf-8"))
    except (OSError, UnicodeDecodeError, strict_json.JSONError):
        return [], 0
    table = data.get(BOOKINGS_TABLE) if isinstance(data, dict) else None
    if not isinstance(table, dict):
        return [], 0
    documents = [(int(i), doc) for i, doc in table.items() if DOC_ID.fullmatch(i) and isinstance(doc, dict)]
    listing = _read_documents(documents)
    return listing.bookings, len(table) - len(listing.bookings)


def _read_documents(documents: Iterable[tuple[int, Mapping[str, Any]]]) -> Listing:
    """The bookings among stored documents (id, document) that read well, oldest first, and a line for each other."""
    bookings, damaged = [], []
    for doc_id, doc in sorted(documents, key=lambda item: item[0]):
        try:
            bookings.append(Booking.from_document(doc_id, doc))
        except DataFormatError as e:
            damaged.append(str(e))
    return Listing(bookings, damaged)


def booking_to_json(booking: Booking) -> dict[str, Any]:
    return asdict(booking)
