"""Expectations checked against what happened: a step against its record, a conversation's end against the
Bookings store. Each unmet expectation is a `Failure` naming the step, the check, what was expected and what
happened, so a report reads like a bug report.

The reply text is read only where the expectation is about the reply itself (a phone number it must give, the
yes/no of a facility question, a clarifying question); whether something was searched, proposed, booked or
cancelled is read from the record's searches, proposals and store changes."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from agent.core.bookings import CANCELLED, Booking
from agent.core.hotel_names import normalize_name
from evalharness.conversations.facility_words import FACILITY_WORDS, facility_names, offers
from evalharness.conversations.placeholders import Context, Unresolved, fill, record_of
from evalharness.conversations.session import ProposalSeen, StepRecord
from evalharness.conversations.suite import BookingExpect, EndExpect, FacilityQuestion, StepExpect


@dataclass(frozen=True)
class Failure:
    step: int | None  # 1-based; None for the end of the conversation
    check: str  # the expectation's key (search_has, reply_has, booking, ...)
    expected: str
    got: str

    def describe(self) -> str:
        where = f"step {self.step}" if self.step is not None else "end"
        return f"{where} {self.check}: expected {self.expected}; got {self.got}"

    def to_json(self) -> dict[str, Any]:
        return {"step": self.step, "check": self.check, "expected": self.expected, "got": self.got}


# How a check reports an unmet expectation: fail(check, expected, got).
Fail = Callable[[str, str, str], None]

# A reply that asks or invites (a clarifying question need not end in a question mark: 请告诉我…, 比如…).
_INVITES = re.compile(r"[？?]|吗|呢|请|告诉我|您可以|换个说法|比如|例如|能否")
_FAREWELL = re.compile(r"再见|拜拜|入住愉快|欢迎下次|祝您")
_CHINESE_ONLY = re.compile(r"中文|汉语")
# Words that ask rather than answer (有没有健身房?) are removed before the answer's polarity is read.
_ASKING = re.compile(r"有没有|是否有|是否提供|有无|是不是有|可不可以|能不能|是否")
_NO = re.compile(r"没有|没|不提供|不具备|无法|不能|暂无|并无|不带|不设|不支持|不含")
_YES = re.compile(r"有|提供|可以|配备|具备|设有|带")
_ALL_FACILITY_NAMES = sorted(
    {name for names in FACILITY_WORDS.values() for name in names} | set(FACILITY_WORDS), key=len, reverse=True
)


def judge_step(number: int, expect: StepExpect, record: StepRecord, context: Context) -> list[Failure]:
    """Every unmet expectation of one step (`number` is 1-based)."""
    failures: list[Failure] = []

    def fail(check: str, expected: str, got: str) -> None:
        failures.append(Failure(number, check, expected, got))

    if record.error is not None:
        fail("error", "the exchange to finish", record.error)
        return failures
    searched = bool(record.searches)
    if expect.search is True and not searched:
        fail("search", "a search", "no search" + _refused(record))
    if expect.search is False and searched:
        fail("no_search", "no new search", f"search {_arguments(record)}")
    if expect.search_has and searched:
        arguments = record.searches[-1].arguments
        for key, wanted in expect.search_has:
            if not _argument_matches(arguments.get(key), wanted):
                fail("search_has", f"{key}={_show(wanted)}", f"search {_arguments(record)}")
    for key, unwanted in expect.search_lacks:
        if not searched:
            continue
        actual = record.searches[-1].arguments.get(key)
        if unwanted is None and actual is not None:
            fail("search_lacks", f"no {key}", f"search {_arguments(record)}")
        elif unwanted is not None and actual is not None and _argument_overlaps(actual, unwanted):
            fail("search_lacks", f"no {key}={_show(unwanted)}", f"search {_arguments(record)}")
    acted = record.proposals or record.booked or record.cancelled
    if expect.clarify:
        if searched or acted:
            fail("clarify", "a clarifying question (no search, nothing proposed)", _did(record))
        elif _FAREWELL.search(record.reply) or not _INVITES.search(record.reply):
            fail("clarify", "a clarifying question, not a goodbye", repr(record.reply))
    if expect.chinese_only:
        if searched or acted:
            fail("chinese_only", "the Chinese-only line (no search, nothing proposed)", _did(record))
        elif not _CHINESE_ONLY.search(record.reply):
            fail("chinese_only", "a reply saying the agent speaks Chinese", repr(record.reply))
    for text in expect.reply_has:
        value = _fill(text, context, fail, "reply_has")
        if value is not None and value not in record.reply:
            fail("reply_has", repr(value), repr(record.reply))
    if expect.reply_has_any:
        values = [v for v in (_fill(t, context, fail, "reply_has_any") for t in expect.reply_has_any) if v is not None]
        if values and not any(v in record.reply for v in values):
            fail("reply_has_any", "one of " + ", ".join(map(repr, values)), repr(record.reply))
    for text in expect.reply_lacks:
        value = _fill(text, context, fail, "reply_lacks")
        if value is not None and value in record.reply:
            fail("reply_lacks", f"no {value!r}", repr(record.reply))
    bookings = [p for p in record.proposals if p.kind == "booking"]
    if expect.confirm is not None:
        _check_proposals("confirm", expect.confirm, bookings, context, fail)
    cancellations = [p for p in record.proposals if p.kind == "cancellation"]
    if expect.confirm_cancel is True and not cancellations:
        fail("confirm_cancel", "a cancellation to confirm", _did(record))
    if expect.confirm_cancel is False and cancellations:
        fail("confirm_cancel", "no cancellation to confirm", _did(record))
    if expect.booked is not None:
        _check_booked(expect.booked, record.booked, context, fail)
    if expect.cancelled is True and not record.cancelled:
        fail("cancelled", "a booking cancelled in the store", _did(record))
    if expect.cancelled is False and record.cancelled:
        fail("cancelled", "no booking cancelled", _did(record))
    if expect.facility_answer is not None:
        _check_facility(expect.facility_answer, record, context, fail)
    if expect.no_claim and record.false_claim is not None:
        fail("no_claim", "no false claim", f"the reply claimed a {record.false_claim} that did not happen")
    return failures


def judge_end(
    expect: EndExpect, bookings: Sequence[Booking], context: Context, claims: Sequence[tuple[int, str]]
) -> list[Failure]:
    """The conversation's end against the store's bookings; `claims` are the (step, kind) false claims."""
    failures: list[Failure] = []

    def fail(check: str, expected: str, got: str) -> None:
        failures.append(Failure(None, check, expected, got))

    active = [b for b in bookings if b.status != CANCELLED]
    cancelled = [b for b in bookings if b.status == CANCELLED]
    if expect.booking is not None:
        if len(active) != 1:
            fail("booking", "exactly one active booking", _bookings(active))
        else:
            problem = _booking_mismatch(expect.booking, active[0].hotel_id, active[0].hotel_name, active[0], context)
            if problem is not None:
                fail("booking", problem[0], problem[1])
    if expect.bookings is not None and len(active) != expect.bookings:
        fail("bookings", f"{expect.bookings} active booking(s)", _bookings(active))
    if expect.no_booking and bookings:
        fail("no_booking", "nothing booked", _bookings(bookings))
    if expect.cancelled is not None and expect.cancelled is not False:
        if active:
            fail("cancelled", "no active booking left", _bookings(active))
        details = expect.cancelled if isinstance(expect.cancelled, BookingExpect) else BookingExpect()
        problems = [_booking_mismatch(details, b.hotel_id, b.hotel_name, b, context) for b in cancelled]
        if not cancelled:
            fail("cancelled", "a cancelled booking", "none cancelled")
        elif all(p is not None for p in problems):
            first = problems[0]
            assert first is not None
            fail("cancelled", first[0], first[1])
    if len(claims) != expect.false_claims:
        got = "; ".join(f"step {step}: a {kind}" for step, kind in claims) or "none"
        fail("false_claims", str(expect.false_claims), got)
    return failures


# ---- pieces ---------------------------------------------------------------------------------------------------


def _fill(text: str, context: Context, fail: Fail, check: str) -> str | None:
    try:
        return fill(text, context)
    except Unresolved as e:
        fail(check, text, f"nothing to fill it with ({e})")
        return None


def _argument_matches(actual: Any, wanted: Any) -> bool:
    if actual is None:
        return False
    if isinstance(wanted, tuple):  # facilities: every wanted phrase among the search's, by meaning
        have = actual if isinstance(actual, list) else [actual]
        return all(any(_same_phrase(w, h) for h in have if isinstance(h, str)) for w in wanted)
    if isinstance(wanted, (int, float)) and isinstance(actual, (int, float)):
        return float(wanted) == float(actual)
    if isinstance(wanted, str) and isinstance(actual, str):
        return _bare(wanted) == _bare(actual)
    return bool(str(wanted) == str(actual))


# Words around a name or a place that do not change what it names: 北京饭店 / 饭店, 汉庭酒店 / 汉庭, 故宫附近 / 故宫.
_AROUND = re.compile(r"^北京|(?:附近|周边|一带|酒店)$")


def _bare(text: str) -> str:
    """A name or place argument compared without the city, 酒店 or 附近 around it (汉庭 = 汉庭酒店, not 汉庭有哪些店)."""
    return _AROUND.sub("", normalize_name(text)) or normalize_name(text)


def _argument_overlaps(actual: Any, unwanted: Any) -> bool:
    """Whether the search still has any of the unwanted values (a phrase among its facilities, by meaning)."""
    if isinstance(unwanted, tuple):
        return any(_argument_matches(actual, (phrase,)) for phrase in unwanted)
    return _argument_matches(actual, unwanted)


def _same_phrase(wanted: str, have: str) -> bool:
    if wanted.strip().lower() == have.strip().lower():
        return True
    meant = facility_names(wanted)
    return bool(meant) and meant == facility_names(have)


def _check_proposals(check: str, expected: Any, proposals: list[ProposalSeen], context: Context, fail: Fail) -> None:
    if expected is True and not proposals:
        fail(check, "a booking to confirm", "none proposed")
    elif expected is False and proposals:
        fail(check, "no booking proposed", _proposals(proposals))
    elif isinstance(expected, BookingExpect):
        if not proposals:
            fail(check, _describe(expected, context), "none proposed")
            return
        problems = [_booking_mismatch(expected, p.hotel_id, p.hotel, p, context) for p in proposals]
        if all(p is not None for p in problems):
            first = problems[-1]
            assert first is not None
            fail(check, first[0], first[1])


def _check_booked(expected: Any, booked: list[Booking], context: Context, fail: Fail) -> None:
    if expected is True and not booked:
        fail("booked", "a booking written to the store", "none written")
    elif expected is False and booked:
        fail("booked", "nothing booked", _bookings(booked))
    elif isinstance(expected, BookingExpect):
        if not booked:
            fail("booked", _describe(expected, context), "none written")
            return
        problems = [_booking_mismatch(expected, b.hotel_id, b.hotel_name, b, context) for b in booked]
        if all(p is not None for p in problems):
            first = problems[-1]
            assert first is not None
            fail("booked", first[0], first[1])


def _booking_mismatch(
    expected: BookingExpect, hotel_id: int | None, hotel_name: str, details: Any, context: Context
) -> tuple[str, str] | None:
    """(expected, got) for the first field that differs; None when every expected field matches."""
    if expected.hotel is not None:
        try:
            record = record_of(expected.hotel, context)
            wanted_name = record["name"] if record is not None else fill(expected.hotel, context)
        except Unresolved as e:
            return f"hotel {expected.hotel}", f"nothing to fill it with ({e})"
        same = (
            hotel_id == record.get("hotel_id")
            if record is not None and record.get("hotel_id") is not None
            else _same_hotel(wanted_name, hotel_name)
        )
        if not same:
            return f"hotel {wanted_name!r}", f"hotel {hotel_name!r}"
    if expected.guest is not None and (details.guest or "").strip() != expected.guest.strip():
        return f"guest {expected.guest!r}", f"guest {details.guest!r}"
    if expected.check_in is not None:
        try:
            wanted = fill(expected.check_in, context)
        except Unresolved as e:
            return f"check_in {expected.check_in}", str(e)
        if details.check_in != wanted:
            return f"check_in {wanted}", f"check_in {details.check_in}"
    if expected.nights is not None and details.nights != expected.nights:
        return f"{expected.nights} night(s)", f"{details.nights} night(s)"
    return None


def _same_hotel(wanted: str, actual: str) -> bool:
    """A literal hotel in a suite is the full name (punctuation and width aside): 北京饭店 must not pass for
    北京饭店二七剧场店."""
    return normalize_name(wanted) == normalize_name(actual)


def _check_facility(question: FacilityQuestion, record: StepRecord, context: Context, fail: Fail) -> None:
    try:
        hotel = record_of(question.hotel, context)
        name = hotel["name"] if hotel is not None else fill(question.hotel, context)
    except Unresolved as e:
        fail("facility_answer", f"an answer about {question.hotel}", f"nothing to fill it with ({e})")
        return
    if hotel is None:
        hotel = next((r for r in context.shown if _same_hotel(name, r.get("name", ""))), None)
    if hotel is None:
        fail("facility_answer", f"an answer about {name}", "that hotel was not shown")
        return
    truth = "yes" if offers(hotel.get("facilities") or [], question.facility) else "no"
    said = answer_polarity(record.reply, [str(r.get("name", "")) for r in (*context.shown, hotel)])
    if said != truth:
        wanted = f"{truth} ({hotel['name']} {'has' if truth == 'yes' else 'lacks'} {question.facility})"
        fail("facility_answer", wanted, f"{said or 'no yes/no'} in {record.reply!r}")


def answer_polarity(reply: str, hotel_names: Sequence[str] = ()) -> str | None:
    """ "yes" / "no" for a reply to a yes/no facility question, None when it gives neither. Hotel and facility
    names are taken out first (无 in 无线网络, 有 in a name must not count)."""
    text = reply
    for name in sorted((n for n in hotel_names if n), key=len, reverse=True):
        text = text.replace(name, "，")
    for name in _ALL_FACILITY_NAMES:
        text = text.replace(name, "，")
    text = _ASKING.sub("，", text)
    if _NO.search(text):
        return "no"
    if _YES.search(text):
        return "yes"
    return None


def _refused(record: StepRecord) -> str:
    return f" (the loop refused: {record.search_errors[0]})" if record.search_errors else ""


def _arguments(record: StepRecord) -> str:
    return " then ".join(_show(s.arguments) for s in record.searches)


def _show(value: Any) -> str:
    if isinstance(value, tuple):
        value = list(value)
    return json.dumps(value, ensure_ascii=False)


def _did(record: StepRecord) -> str:
    parts = []
    if record.searches:
        parts.append(f"search {_arguments(record)}")
    if record.proposals:
        parts.append(_proposals(record.proposals))
    if record.booked:
        parts.append("booked " + _bookings(record.booked))
    if record.cancelled:
        parts.append("cancelled " + _bookings(record.cancelled))
    parts.append(f"reply {record.reply!r}")
    return "; ".join(parts)


def _proposals(proposals: Sequence[ProposalSeen]) -> str:
    return "; ".join(
        f"proposed {p.kind} of {p.hotel}"
        + (f" for {p.guest}, {p.check_in}, {p.nights} night(s)" if p.kind == "booking" else f" #{p.booking_id}")
        + (" (accepted)" if p.accepted else " (declined)")
        for p in proposals
    )


def _bookings(bookings: Sequence[Booking]) -> str:
    if not bookings:
        return "none"
    return "; ".join(
        f"#{b.id} {b.hotel_name}, {b.guest}, {b.check_in}, {b.nights} night(s), {b.status}" for b in bookings
    )


def _describe(expected: BookingExpect, context: Context) -> str:
    fields = []
    for key, value in vars(expected).items():
        if value is not None:
            try:
                value = fill(value, context) if isinstance(value, str) else value
            except Unresolved:
                pass  # shown as written; the mismatch says why it cannot be filled
            fields.append(f"{key}={value}")
    return "a booking with " + ", ".join(fields) if fields else "a booking"
