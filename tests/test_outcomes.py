"""agent.app.outcomes: one wording of what a booking by chat came to, for the line chat and the TUI alike."""

from __future__ import annotations

import datetime as dt

from agent.app.outcomes import booked_text, cancelled_text, declined_text, not_done_text, question, result_text
from agent.core.bookings import CANCELLED, Booking
from agent.dialogue.actions import BookingProposal, CancellationProposal, booked_result, cancelled_result, error_result

BOOKING = Booking(7, 24, "北京龙鼎华鼎云酒店", "2026-11-29T10:00:00+00:00", "confirmed", "张三", "2026-12-01", 2)
HOTEL = {"name": "北京龙鼎华鼎云酒店", "hotel_id": 24}


def test_a_booking_names_its_number_hotel_date_nights_and_guest():
    assert booked_text(BOOKING) == "booked #7: 北京龙鼎华鼎云酒店, 2026-12-01, 2 nights, guest 张三"


def test_one_night_is_singular_and_missing_fields_are_left_out():
    booking = Booking(8, 24, "北京龙鼎华鼎云酒店", "2026-11-29T10:00:00+00:00", "confirmed", nights=1)
    assert booked_text(booking) == "booked #8: 北京龙鼎华鼎云酒店, 1 night"


def test_a_saved_result_reads_as_it_did_when_it_happened():
    cancelled = Booking(7, 24, "北京龙鼎华鼎云酒店", "2026-11-29T10:00:00+00:00", CANCELLED)
    assert result_text("book", booked_result(BOOKING)) == booked_text(BOOKING)
    assert result_text("cancel", cancelled_result(cancelled)) == cancelled_text(cancelled)
    assert result_text("book", error_result("no hotel called 'x'", "hotel")) == "not booked: no hotel called 'x'"
    proposal = CancellationProposal(BOOKING)
    assert result_text("cancel", error_result("declined", declined=True)) == declined_text(proposal)


def test_the_question_says_what_will_be_done():
    booking = BookingProposal(HOTEL, "张三", dt.date(2026, 12, 1), 2)
    assert question(booking) == "确认预订：北京龙鼎华鼎云酒店，2026-12-01 入住，2 晚，入住人 张三？（是/否）"
    assert question(CancellationProposal(BOOKING)).startswith("确认取消：预订 #7 北京龙鼎华鼎云酒店")
    assert not_done_text(booking, "disk full") == "not booked: disk full"
    assert not_done_text("cancel", "no booking #9") == "not cancelled: no booking #9"
