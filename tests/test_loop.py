"""The dialogue loop: user text in, tool calls run (searches on the store; bookings and cancellations only after
the user confirms), a reply out that never claims what did not happen."""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from agent.core.bookings import CANCELLED, Bookings
from agent.core.errors import UserError
from agent.core.search_result import SearchResult
from agent.core.store import HotelStore
from agent.core.turns import (
    AssistantTurn,
    BookTurn,
    CancelTurn,
    Dialogue,
    ResultTurn,
    ReturnTurn,
    SearchTurn,
    UserTurn,
)
from agent.dialogue.actions import BookingProposal
from agent.dialogue.loop import (
    CORRECTED,
    MAX_CALLS_PER_MESSAGE,
    NOT_UNDERSTOOD,
    ActionDeclined,
    ActionRejected,
    Booked,
    Cancelled,
    ConfirmationRequested,
    DialogueLoop,
    Reply,
    ReplyText,
    SearchFinished,
    SearchRejected,
    SearchStarted,
)
from backends.base import Prediction

from scripted_backend import ScriptedBackend, ScriptedFailure

HOTEL = {"name": "北京甲乙酒店", "type": "经济型", "price": 300.0, "rating": 4.5, "facilities": [], "hotel_id": 1}
TODAY = dt.date(2026, 11, 29)
BOOK = {"hotel": "北京龙鼎华鼎云酒店", "guest": "张三", "check_in": "12月1日", "nights": 2}


@dataclass
class FakeStore:
    calls: list[dict[str, Any]] = field(default_factory=list)

    def search(self, arguments, limit=None):
        self.calls.append(arguments)
        return SearchResult([HOTEL])

    def find_by_name(self, text):
        return [HOTEL] if text in HOTEL["name"] else []


def search_then_reply(arguments: dict[str, Any]) -> ScriptedBackend:
    """Searches with `arguments` after a user turn, replies naming the first record after a return."""

    def script(dialogue: Dialogue):
        if isinstance(dialogue.turns[-1], UserTurn):
            return SearchTurn(arguments)
        return AssistantTurn("推荐您去" + dialogue.last_records()[0]["name"])

    return ScriptedBackend(script=script)


def call_then_reply(call, reply: str = "好的") -> ScriptedBackend:
    """Makes `call` after a user turn; after its result, replies with `reply` (or the result's error)."""

    def script(dialogue: Dialogue):
        last = dialogue.turns[-1]
        if isinstance(last, UserTurn):
            return call
        assert isinstance(last, ResultTurn)
        return AssistantTurn(reply if last.ok else "没有办成：" + last.result["error"])

    return ScriptedBackend(script=script)


@pytest.fixture
def real(own_cache: Path) -> tuple[HotelStore, Bookings]:
    store = HotelStore.open(learn_facilities=False)
    return store, Bookings(store)


def loop_with(backend, real) -> DialogueLoop:
    store, bookings = real
    return DialogueLoop(backend, store, bookings, today=lambda: TODAY)


def yes(proposal):
    return proposal


# ---- searches ---------------------------------------------------------------------------------------------


def test_a_search_runs_on_the_store_and_its_records_become_a_return_turn():
    store = FakeStore()
    events = list(DialogueLoop(search_then_reply({"type": "经济型"}), store).respond(Dialogue(), "找经济型酒店"))
    assert [type(e) for e in events] == [SearchStarted, SearchFinished, Reply]
    assert store.calls == [{"type": "经济型"}]
    assert events[-1].dialogue.turns[2] == ReturnTurn([HOTEL])


def test_search_arguments_are_validated_before_the_store_sees_them():
    store = FakeStore()
    list(DialogueLoop(search_then_reply({"price_range_upper": "500"}), store).respond(Dialogue(), "500以内"))
    assert store.calls == [{"price_range_upper": 500.0}]


def test_a_rejected_search_searches_nothing_and_asks_again():
    store = FakeStore()
    events = list(DialogueLoop(search_then_reply({"stars": 5}), store).respond(Dialogue(), "五星"))
    assert isinstance(events[0], SearchRejected) and "stars" in events[0].error
    assert store.calls == []  # never an unconstrained search in its place
    reply = events[-1]
    assert isinstance(reply, Reply) and reply.content == NOT_UNDERSTOOD
    assert not any(isinstance(t, SearchTurn) for t in reply.dialogue)


def test_a_backend_that_keeps_searching_gets_exactly_the_cap_and_sees_every_result():
    seen: list[int] = []

    def script(dialogue: Dialogue):
        seen.append(sum(isinstance(t, ReturnTurn) for t in dialogue))
        return SearchTurn({"price_range_upper": 100 + len(dialogue)})  # a new search each time

    store = FakeStore()
    events = list(DialogueLoop(ScriptedBackend(script=script), store).respond(Dialogue(), "找酒店"))
    assert len(store.calls) == MAX_CALLS_PER_MESSAGE
    assert seen == list(range(MAX_CALLS_PER_MESSAGE + 1))  # the last prediction saw the last result
    assert events[-1].content == NOT_UNDERSTOOD


def test_the_rules_backend_runs_through_the_loop_on_the_real_store():
    from backends.registry import create

    loop = DialogueLoop(create("rules"), HotelStore.open())
    events = list(loop.respond(Dialogue(), "帮我找一家评分4.5分以上的经济型酒店"))
    finished = [e for e in events if isinstance(e, SearchFinished)]
    assert finished and finished[0].arguments == {"type": "经济型", "rating_range_lower": 4.5}
    names = [r["name"] for r in finished[0].result.records]
    assert any(name in events[-1].content for name in names)


# ---- the user's text ----------------------------------------------------------------------------------------


def test_a_message_over_the_limit_is_refused_before_the_backend_sees_it():
    backend = search_then_reply({})
    with pytest.raises(UserError, match="too long"):
        list(DialogueLoop(backend, FakeStore()).respond(Dialogue(), "5" * 100_000))
    assert backend.calls == []


def test_text_that_cannot_be_saved_is_cleaned_at_the_door():
    events = list(DialogueLoop(ScriptedBackend(), FakeStore()).respond(Dialogue(), "你好\ud800\x1b[2J"))
    assert events[-1].dialogue.turns[0] == UserTurn("你好\ufffd[2J")


# ---- booking and cancelling ---------------------------------------------------------------------------------


def test_a_confirmed_booking_is_written_once_and_its_result_goes_back_to_the_backend(real):
    asked: list[Any] = []
    events = list(
        loop_with(call_then_reply(BookTurn(BOOK), "已为您预订"), real).respond(
            Dialogue(), "订龙鼎华鼎云", confirm=lambda p: asked.append(p) or p
        )
    )
    booked = [e for e in events if isinstance(e, Booked)]
    assert len(asked) == 1 and len(booked) == 1
    assert [(b.hotel_name, b.guest, b.check_in, b.nights) for b in real[1].list()] == [
        ("北京龙鼎华鼎云酒店", "张三", "2026-12-01", 2)
    ]
    result = events[-1].dialogue.turns[2]
    assert isinstance(result, ResultTurn) and result.result["booking_id"] == booked[0].booking.id
    assert events[-1].content == "已为您预订" and events[-1].corrected is None


def test_the_user_is_asked_before_anything_is_written(real):
    def confirm(proposal):
        assert real[1].list() == []  # nothing written yet
        return proposal

    events = list(loop_with(call_then_reply(BookTurn(BOOK)), real).respond(Dialogue(), "订", confirm=confirm))
    kinds = [type(e) for e in events]
    assert kinds.index(ConfirmationRequested) < kinds.index(Booked)


def test_a_declined_booking_writes_nothing_and_the_backend_hears_so(real):
    events = list(loop_with(call_then_reply(BookTurn(BOOK)), real).respond(Dialogue(), "订", confirm=lambda p: None))
    assert any(isinstance(e, ActionDeclined) for e in events)
    assert real[1].list() == []
    assert events[-1].dialogue.turns[2].result["declined"] is True


def test_without_a_way_to_confirm_nothing_is_booked(real):
    list(loop_with(call_then_reply(BookTurn(BOOK)), real).respond(Dialogue(), "订"))
    assert real[1].list() == []


@pytest.mark.parametrize(
    "arguments, field",
    [
        ({**BOOK, "check_in": "2020-01-01"}, "check_in"),
        ({**BOOK, "nights": 0}, "nights"),
        ({**BOOK, "hotel": "不存在的酒店名字"}, "hotel"),
        ({k: v for k, v in BOOK.items() if k != "guest"}, "guest"),
    ],
)
def test_a_booking_call_that_fails_a_check_is_not_proposed(real, arguments, field):
    asked: list[Any] = []
    events = list(
        loop_with(call_then_reply(BookTurn(arguments)), real).respond(
            Dialogue(), "订", confirm=lambda p: asked.append(p) or p
        )
    )
    rejected = [e for e in events if isinstance(e, ActionRejected)]
    assert rejected and rejected[0].field == field and asked == [] and real[1].list() == []
    assert events[-1].dialogue.turns[2].result["field"] == field


def test_a_short_name_books_the_hotel_the_user_was_shown(real):
    shown = Dialogue([UserTurn("找酒店"), SearchTurn({}), ReturnTurn([real[0].get(24)]), AssistantTurn("有龙鼎华鼎云")])
    events = list(
        loop_with(call_then_reply(BookTurn({**BOOK, "hotel": "龙鼎华鼎云"})), real).respond(shown, "订", confirm=yes)
    )
    assert [e.booking.hotel_id for e in events if isinstance(e, Booked)] == [24]


def test_the_front_end_may_edit_the_proposal_before_it_is_booked(real):
    def edit(proposal: BookingProposal):
        return BookingProposal(proposal.hotel, "李四", proposal.check_in, 3)

    list(loop_with(call_then_reply(BookTurn(BOOK)), real).respond(Dialogue(), "订", confirm=edit))
    assert [(b.guest, b.nights) for b in real[1].list()] == [("李四", 3)]


def test_a_confirmed_cancellation_cancels_the_booking(real):
    booking = real[1].book(24, "张三", "2026-12-01", 2, today=TODAY)
    events = list(
        loop_with(call_then_reply(CancelTurn({"booking_id": booking.id}), "已取消"), real).respond(
            Dialogue(), "取消刚才的预订", confirm=yes
        )
    )
    assert [type(e) for e in events if isinstance(e, Cancelled)] == [Cancelled]
    assert real[1].get(booking.id).status == CANCELLED
    assert events[-1].content == "已取消"


def test_cancelling_an_unknown_booking_is_refused(real):
    events = list(
        loop_with(call_then_reply(CancelTurn({"booking_id": 99})), real).respond(Dialogue(), "取消", confirm=yes)
    )
    assert any(isinstance(e, ActionRejected) and e.field == "booking_id" for e in events)


# ---- no false claims ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("reply", ["好的，祝您入住愉快！", "已为您预订好了", "预订成功，预订号 3"])
def test_a_reply_claiming_a_booking_that_was_not_made_is_corrected(reply):
    events = list(
        DialogueLoop(ScriptedBackend(turns=[AssistantTurn(reply)]), FakeStore()).respond(Dialogue(), "订第二家")
    )
    assert events[-1].corrected == "booking"
    assert events[-1].content == CORRECTED["booking"]
    assert events[-1].dialogue.turns[-1] == AssistantTurn(CORRECTED["booking"])  # what the user saw


def test_a_reply_that_denies_a_booking_is_left_alone():
    events = list(
        DialogueLoop(ScriptedBackend(turns=[AssistantTurn("还没有为您预订，请告诉我入住日期")]), FakeStore()).respond(
            Dialogue(), "订"
        )
    )
    assert events[-1].corrected is None


def test_a_reply_after_a_declined_booking_may_not_claim_it(real):
    backend = ScriptedBackend(turns=[BookTurn(BOOK), AssistantTurn("已为您预订")])  # claims it whatever happened
    events = list(loop_with(backend, real).respond(Dialogue(), "订", confirm=lambda p: None))
    assert events[-1].corrected == "booking"


def test_a_cancellation_claim_without_a_cancellation_is_corrected():
    events = list(
        DialogueLoop(ScriptedBackend(turns=[AssistantTurn("已为您取消")]), FakeStore()).respond(Dialogue(), "取消")
    )
    assert events[-1].corrected == "cancellation"


def test_a_backend_failing_after_a_booking_still_leaves_the_booking_in_the_dialogue_and_says_so(real):
    def script(dialogue: Dialogue):
        if isinstance(dialogue.turns[-1], UserTurn):
            return BookTurn(BOOK)
        raise ScriptedFailure("model crashed")

    events = list(loop_with(ScriptedBackend(script=script), real).respond(Dialogue(), "订", confirm=yes))
    reply = events[-1]
    assert reply.backend_error and "model crashed" in reply.backend_error
    assert "预订号 1" in reply.content and reply.dialogue.bookings()[0]["booking_id"] == 1


# ---- streaming and failures -----------------------------------------------------------------------------------


@dataclass
class StreamingBackend:
    """Streams a first piece, then waits until the consumer has seen it before finishing."""

    seen_first_piece: threading.Event = field(default_factory=lambda: threading.Event())
    name: str = "streaming"

    def predict(self, dialogues, *, on_text=None, cancel=None):
        on_text(0, "推荐")
        finished_in_time = self.seen_first_piece.wait(timeout=5)
        on_text(0, "北京甲乙酒店")
        content = "推荐北京甲乙酒店" if finished_in_time else "the consumer never saw the first piece"
        return [Prediction(AssistantTurn(content))]

    def signature(self):
        return {"backend": self.name}


def test_reply_text_reaches_the_front_end_while_the_backend_is_still_generating():
    backend = StreamingBackend()
    events = DialogueLoop(backend, FakeStore()).respond(Dialogue(), "你好")
    first = next(events)
    assert first == ReplyText("推荐")
    backend.seen_first_piece.set()
    rest = list(events)
    assert rest[0] == ReplyText("北京甲乙酒店")
    assert rest[-1].content == "推荐北京甲乙酒店"


def test_a_backend_error_before_any_action_reaches_the_caller():
    backend = ScriptedBackend(fail_when=lambda _d: True)
    with pytest.raises(ScriptedFailure):
        list(DialogueLoop(backend, FakeStore()).respond(Dialogue(), "你好"))
