"""agent.core.bookings: book, cancel, list; crash safety with a real process killed while it writes."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from agent.core.atomic_storage import open_db, schema_version
from agent.core.bookings import BOOKINGS_SCHEMA, CANCELLED, CONFIRMED, Booking, Bookings
from agent.core.errors import UserError
from agent.core.store import STORE_FILE, HotelStore

# Bookings check dates against today: tests pass this one, so they read the same on any day.
TODAY = dt.date(2026, 11, 29)


@pytest.fixture
def bookings(own_cache: Path) -> Bookings:
    return Bookings(HotelStore.open(learn_facilities=False))


def test_booking_records_hotel_name_time_and_details(bookings: Bookings):
    booking = bookings.book(24, guest=" 张三 ", check_in="2026-12-01", nights=2, today=TODAY)
    assert isinstance(booking, Booking)
    assert (booking.id, booking.hotel_id, booking.hotel_name, booking.status) == (
        1,
        24,
        "北京龙鼎华鼎云酒店",
        CONFIRMED,
    )
    assert (booking.guest, booking.check_in, booking.nights) == ("张三", "2026-12-01", 2)
    created = dt.datetime.fromisoformat(booking.created)
    assert abs((dt.datetime.now(dt.timezone.utc) - created).total_seconds()) < 60


def test_a_search_record_or_a_date_object_can_be_booked(bookings: Bookings):
    record = bookings.store.get(7)
    booking = bookings.book(record, check_in=dt.date(2026, 12, 24), today=TODAY)
    assert booking.hotel_id == 7 and booking.check_in == "2026-12-24"


def test_bookings_are_listed_oldest_first_and_survive_reopening(bookings: Bookings):
    made = [bookings.book(i) for i in (5, 1, 9)]
    assert Bookings(HotelStore.open(learn_facilities=False)).list() == made


def test_cancel_keeps_the_booking_with_status_cancelled(bookings: Bookings):
    kept, dropped = bookings.book(1), bookings.book(2)
    assert bookings.cancel(dropped.id).status == CANCELLED
    assert [(b.id, b.status) for b in bookings.list()] == [(kept.id, CONFIRMED), (dropped.id, CANCELLED)]


def test_cancelling_twice_is_a_user_error(bookings: Bookings):
    booking = bookings.book(1)
    bookings.cancel(booking.id)
    with pytest.raises(UserError, match="already cancelled"):
        bookings.cancel(booking.id)


def test_unknown_hotel_id_is_a_user_error(bookings: Bookings):
    with pytest.raises(UserError, match="no hotel with id 99999"):
        bookings.book(99999)
    assert bookings.list() == []


def test_unknown_booking_id_is_a_user_error(bookings: Bookings):
    with pytest.raises(UserError, match="no booking with id 42"):
        bookings.cancel(42)


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("check_in", "12/01/2026", "not a date"),
        ("check_in", "20261201", "not a date"),
        ("check_in", "2026-W48-2", "not a date"),
        ("check_in", "1900-01-01", "in the past"),
        ("check_in", "0001-01-01", "in the past"),
        ("check_in", "2020-01-01", "in the past"),
        ("check_in", "9999-12-31", "more than a year ahead"),
        ("check_in", dt.datetime(2026, 12, 1, 10, 0), "not a date and time"),
        ("check_in", 5, "check_in must be a date"),
        ("nights", 0, "nights"),
        ("nights", 366, "nights"),
        ("nights", "two", "nights"),
        ("guest", "张" * 1_000_000, "too long"),
    ],
)
def test_bad_details_are_user_errors_and_nothing_is_written(bookings: Bookings, field: str, value, message: str):
    with pytest.raises(UserError, match=message):
        bookings.book(1, **{field: value}, today=TODAY)
    assert bookings.list() == []


def test_details_are_cleaned_before_they_are_stored(bookings: Bookings):
    booking = bookings.book(1, guest="\x1b[2J\x1b[31m张三\ud800", check_in="2026-12-01", nights=2, today=TODAY)
    assert booking.guest == "[2J[31m张三\ufffd" and booking.check_in == "2026-12-01" and booking.nights == 2


def test_schema_version_is_recorded(bookings: Bookings, own_cache: Path):
    assert schema_version(open_db(own_cache / STORE_FILE), "bookings") == BOOKINGS_SCHEMA.version


def test_two_handles_on_one_file_do_not_overwrite_each_other(bookings: Bookings):
    other = Bookings(HotelStore.open(learn_facilities=False))
    first, second, third = bookings.book(1), other.book(2), bookings.book(3)
    assert [b.id for b in other.list()] == [first.id, second.id, third.id] == [1, 2, 3]


BOOK_FOREVER = textwrap.dedent("""
    import os, time
    from agent.core.bookings import Bookings
    from agent.core.store import HotelStore

    class SlowDisk:
        # Writes go out in small flushed pieces, so a kill lands in the middle of one (a store write is
        # otherwise a single fast system call, and the test would rarely kill anything but the idle loop).
        def __init__(self, f):
            self._f = f
        def write(self, text):
            for i in range(0, len(text), 32768):
                self._f.write(text[i:i + 32768]); self._f.flush(); time.sleep(0.001)
                if i == 0:
                    print("writing", flush=True)  # tells the test a write has begun
            return len(text)
        def __getattr__(self, name):
            return getattr(self._f, name)
        def __enter__(self):
            return self
        def __exit__(self, *exc):
            return self._f.__exit__(*exc)

    fdopen = os.fdopen
    os.fdopen = lambda *args, **kwargs: SlowDisk(fdopen(*args, **kwargs))
    bookings = Bookings(HotelStore.open(learn_facilities=False))
    for i in range(100000):
        booking = bookings.book(i % 1000, guest="guest %d" % i)
        print(booking.id, flush=True)  # printed only once the booking is on disk
""")


def test_process_killed_while_booking_leaves_a_valid_file_with_every_confirmed_booking(own_cache: Path):
    HotelStore.open(learn_facilities=False)  # build first, so the child spends its time booking
    child = subprocess.Popen(
        [sys.executable, "-c", BOOK_FOREVER],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "HOTEL_AGENT_CACHE": str(own_cache)},
    )
    confirmed = []
    try:
        for line in child.stdout:
            if line.strip() != "writing":
                confirmed.append(int(line))
            elif len(confirmed) == 12:
                child.send_signal(signal.SIGKILL)  # in the middle of writing booking 13
                break
    finally:
        child.kill()
        child.wait()
    assert len(confirmed) == 12, "the child died before booking"
    assert list(own_cache.glob(".*.tmp")), "the kill should have interrupted a write"

    json.loads((own_cache / STORE_FILE).read_text(encoding="utf-8"))  # raises if half-written
    ids = [b.id for b in Bookings(HotelStore.open(learn_facilities=False)).list()]
    assert set(confirmed) <= set(ids) and ids == list(range(1, len(ids) + 1))
    assert not list(own_cache.glob(".*.tmp")), "reopening removes what the killed writer left"
