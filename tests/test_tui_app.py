"""The chat app driven headless with a pilot, on a scripted backend and a small in-memory store.

A `wait_until` helper polls for a condition instead of sleeping; every test has its own cache dir
(`own_cache`), so history and bookings never leak between tests."""

from __future__ import annotations

import datetime as dt
import json
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input

from agent.app.history import ConversationHistory
from agent.app.tui.app import HotelAgentApp
from agent.app.tui.booking_dialog import BookingDialog, CancellationDialog
from agent.app.tui.search_card import SearchCard
from agent.app.tui.services import Services
from agent.app.tui.transcript import AgentMessage, Note
from agent.core.bookings import CANCELLED, Bookings
from agent.core.codecs import read_dialogues
from agent.core.errors import DataMissingError, UserError
from agent.core.search_result import SearchResult
from agent.core.store import HotelStore
from agent.core.turns import AssistantTurn, Dialogue, ReturnTurn, SearchTurn, UserTurn
from backends.base import Prediction

from scripted_backend import ScriptedBackend, booking_clerk

pytestmark = pytest.mark.asyncio
SIZE = (110, 40)
TODAY = dt.date.today()
HOTELS = [
    {
        "name": "汉庭酒店(北京站店)",
        "type": "经济型",
        "address": "东城区",
        "subway": "北京站",
        "phone": "010-1",
        "facilities": ["无线网络"],
        "price": 200.0,
        "rating": 4.5,
        "hotel_id": 0,
    },
    {
        "name": "北京贵都大酒店",
        "type": "高档型",
        "address": "西城区",
        "subway": "宣武门",
        "phone": "010-2",
        "facilities": ["无线网络", "早餐服务"],
        "price": -1.0,
        "rating": 4.7,
        "hotel_id": 1,
    },
]


class FakeStore:
    def __init__(self) -> None:
        self.searches: list[dict[str, Any]] = []

    def search(self, arguments, limit=None):
        self.searches.append(arguments)
        return SearchResult([h for h in HOTELS if h["type"] == arguments.get("type", h["type"])][:limit])

    def find_by_name(self, text):
        return [h for h in HOTELS if text in h["name"]]


class WaitsForCancel:
    """A generation that streams a little, then runs until its cancel event is set (at most 5 s)."""

    name = "slow"
    cancelled = False

    def predict(self, dialogues, *, on_text=None, cancel=None):
        if on_text:
            on_text(0, "好的，")
        self.cancelled = cancel is not None and cancel.wait(5)
        return [Prediction(AssistantTurn("好的，"))]

    def signature(self):
        return {"backend": self.name}


def searching_script(dialogue: Dialogue):
    """Searches for the first user message, then recommends the first hotel found; otherwise replies."""
    last = dialogue[-1]
    if isinstance(last, ReturnTurn):
        return AssistantTurn(f"推荐您**{last.records[0]['name']}**。" if last.records else "没有找到。")
    if "找" in last.content:
        return SearchTurn({"type": "经济型"})
    return AssistantTurn("好的，祝您入住愉快！")


def services(
    backends: dict[str, Any] | None = None, store: Any = None, bookings: Any = None, **overrides: Callable
) -> Services:
    backends = backends or {"scripted": ScriptedBackend(script=searching_script, stream=True)}

    def create(name, **options):
        backend = backends.get(name)
        if backend is None:
            raise UserError(f"unknown backend {name!r}")
        if isinstance(backend, Exception):
            raise backend
        return backend

    kwargs = dict(
        create_backend=create,
        open_store=lambda: store or FakeStore(),
        open_bookings=lambda _store: bookings,  # None: booking calls are refused (the loop says so)
    )
    kwargs.update(overrides)
    return Services(**kwargs)


async def wait_until(pilot, condition: Callable[[], Any], timeout: float = 15.0, what: str = "") -> None:
    """Let the app run until `condition()` is true; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        await pilot.pause(0.02)


async def started(pilot) -> HotelAgentApp:
    app = pilot.app
    await wait_until(pilot, lambda: app.ready.is_set() and app.loading is None, what="the backend to load")
    return app


async def say(pilot, text: str) -> None:
    """Type a message and send it, then wait for the exchange to end."""
    app = pilot.app
    before = len(app.dialogue)
    app.prompt.load_text(text)
    await pilot.press("enter")
    await wait_until(
        pilot,
        lambda: not app.busy and (len(app.dialogue) > before or app.query(".note-error")),
        what=f"the reply to {text!r}",
    )


def notes(app: HotelAgentApp, kind: str | None = None) -> list[str]:
    return [str(n.render()) for n in app.query(Note) if kind is None or n.kind == kind]


def dialog_open(app: HotelAgentApp) -> bool:
    return isinstance(app.screen, BookingDialog) and bool(app.screen.query("#booking-confirm"))


def new_app(svc: Services, backend: str = "scripted", **kwargs) -> HotelAgentApp:
    return HotelAgentApp(backend, services=svc, **kwargs)


# --- the conversation ------------------------------------------------------------------------------------


async def test_a_search_shows_its_arguments_and_a_row_per_hotel(own_cache):
    async with new_app(services()).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        await say(pilot, "帮我找一家经济型酒店")
        card = app.query_one(SearchCard)
        assert "类型 经济型" in str(card.query_one(".search-arguments").render())
        assert card.query_one("DataTable").row_count == 1
        assert app.query(AgentMessage).last().content == "推荐您**汉庭酒店(北京站店)**。"


async def test_streamed_reply_text_builds_the_agent_message(own_cache):
    backend = ScriptedBackend(turns=[AssistantTurn("您好，请问需要什么样的酒店？")], stream=True)
    async with new_app(services({"scripted": backend})).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        await say(pilot, "你好")
        message = app.query_one(AgentMessage)
        assert message.content == "您好，请问需要什么样的酒店？" and message.turn == 2 - 1


async def test_typing_is_not_blocked_while_the_backend_thinks(own_cache):
    release = threading.Event()
    backend = ScriptedBackend(script=lambda d: release.wait(5) and AssistantTurn("好的。"))
    async with new_app(services({"scripted": backend})).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        app.prompt.load_text("你好")
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.busy)
        await pilot.press("a", "b")
        assert app.prompt.text == "ab"  # the screen answered keys while the worker was blocked
        release.set()
        await wait_until(pilot, lambda: not app.busy)


async def test_escape_cancels_a_running_generation(own_cache):
    async with new_app(services({"scripted": WaitsForCancel()})).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        app.prompt.load_text("你好")
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.busy)
        await pilot.press("escape")
        await wait_until(pilot, lambda: not app.busy, what="the generation to stop")
        assert app.query_one(AgentMessage).border_subtitle == "stopped"


async def test_quitting_stops_a_running_generation(own_cache):
    backend = WaitsForCancel()
    app = new_app(services({"scripted": backend}))
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        app.prompt.load_text("你好")
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.busy)
        await pilot.press("ctrl+q")
    assert backend.cancelled


async def test_quitting_while_a_backend_loads_is_quiet(own_cache):
    release = threading.Event()

    def slow_create(name, **options):
        release.wait(5)
        return ScriptedBackend()

    app = new_app(services(create_backend=slow_create))
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.loading is not None)
        await pilot.press("ctrl+q")
        release.set()
    assert not (own_cache / "tui.log").exists()


async def test_up_recalls_the_previous_message(own_cache):
    async with new_app(services()).run_test(size=SIZE) as pilot:
        await started(pilot)
        await say(pilot, "你好")
        await pilot.press("up")
        assert pilot.app.prompt.text == "你好"


async def test_messages_typed_while_loading_are_sent_once_loaded(own_cache):
    loaded = threading.Event()
    backend = ScriptedBackend(turns=[AssistantTurn("您好！"), AssistantTurn("在的。")])

    def slow_create(name, **options):
        loaded.wait(5)
        return backend

    async with new_app(services(create_backend=slow_create)).run_test(size=SIZE) as pilot:
        app = pilot.app
        await wait_until(pilot, lambda: app.loading is not None)
        for text in ("你好", "在吗"):
            app.prompt.load_text(text)
            await pilot.press("enter")
        loaded.set()
        await wait_until(pilot, lambda: len(app.dialogue) == 4, what="both queued messages to be answered")
        assert [app.dialogue[0], app.dialogue[2]] == [UserTurn("你好"), UserTurn("在吗")]


async def test_loading_shows_the_loaders_own_progress_bar(own_cache):
    release = threading.Event()

    def loading_create(name, **options):
        print("Loading checkpoint shards:  50%|█████     | 1/2", file=sys.stderr, end="\r", flush=True)
        release.wait(5)
        return ScriptedBackend()

    async with new_app(services(create_backend=loading_create)).run_test(size=SIZE) as pilot:
        app = pilot.app
        await wait_until(pilot, lambda: "Loading checkpoint shards" in app.status.progress, what="the progress line")
        assert "loading scripted" in str(app.status.render())
        release.set()
        await wait_until(pilot, lambda: app.backend is not None)
        assert str(app.status.render()).startswith("ready")


# --- booking by chat: the agent proposes, the form (prefilled) confirms -------------------------------------

FIND = "帮我找一家有无线网络的经济型酒店"
BOOK = "帮我订第二家，两晚，后天入住，名字张三"


@pytest.fixture
def real(own_cache: Path) -> tuple[HotelStore, Bookings]:
    """The real store and bookings in this test's cache dir (what `hotel-agent bookings` reads)."""
    store = HotelStore.open(learn_facilities=False)
    return store, Bookings(store)


def booking_app(real, **kwargs) -> HotelAgentApp:
    """The app on the real store and bookings, with a scripted agent that books by chat (booking_clerk)."""
    backend = ScriptedBackend(script=booking_clerk, stream=True)
    # today pinned: a run crossing midnight would otherwise resolve 后天 against another day than TODAY
    svc = services({"scripted": backend}, store=real[0], bookings=real[1], today=lambda: TODAY)
    return new_app(svc, **kwargs)


async def send(pilot, text: str) -> None:
    """Type a message and send it, without waiting for the reply (which may wait for a form)."""
    pilot.app.prompt.load_text(text)
    await pilot.press("enter")


def cancel_dialog_open(app: HotelAgentApp) -> bool:
    return isinstance(app.screen, CancellationDialog) and bool(app.screen.query("#cancel-confirm"))


def form_values(app: HotelAgentApp) -> tuple[str, str, str]:
    return tuple(app.screen.query_one(f"#booking-{key}", Input).value for key in ("guest", "check-in", "nights"))


async def book_by_chat(pilot) -> tuple[HotelAgentApp, str]:
    """Search, ask for the second hotel, and confirm the form as the agent filled it; the hotel's name."""
    app = await started(pilot)
    await say(pilot, FIND)
    second = app.dialogue.last_records()[1]["name"]
    await send(pilot, BOOK)
    await wait_until(pilot, lambda: dialog_open(app), what="the booking form")
    await pilot.click("#booking-confirm")
    await wait_until(pilot, lambda: not app.busy, what="the reply after the booking")
    return app, second


async def test_asking_to_book_in_the_chat_opens_the_form_prefilled(own_cache, real):
    async with booking_app(real).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        await say(pilot, FIND)
        await send(pilot, BOOK)
        await wait_until(pilot, lambda: dialog_open(app), what="the booking form")
        assert app.screen.record == app.dialogue.last_records()[1]
        assert form_values(app) == ("张三", (TODAY + dt.timedelta(days=2)).isoformat(), "2")
        assert app.busy and real[1].list() == []  # the exchange waits for the answer; nothing written yet
        await pilot.press("escape")
        await wait_until(pilot, lambda: not app.busy)


async def test_confirming_the_form_books_and_the_status_shows_the_booking_number(own_cache, real):
    async with booking_app(real).run_test(size=SIZE) as pilot:
        app, second = await book_by_chat(pilot)
        [booking] = real[1].list()
        assert (booking.hotel_name, booking.guest, booking.nights) == (second, "张三", 2)
        assert str(app.status.render()).startswith(f"✔ booked #{booking.id}: {second}")
        assert any(n.startswith(f"✔ booked #{booking.id}: {second}") for n in notes(app, "success"))
        assert app.dialogue.bookings()[0]["booking_id"] == booking.id
        assert f"预订号 {booking.id}" in app.query(AgentMessage).last().content
    assert ConversationHistory.open().last().dialogue == app.dialogue


async def test_the_booking_is_written_as_edited_in_the_form(own_cache, real):
    async with booking_app(real).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        await say(pilot, FIND)
        await send(pilot, BOOK)
        await wait_until(pilot, lambda: dialog_open(app), what="the booking form")
        app.screen.query_one("#booking-guest", Input).value = "李四"
        app.screen.query_one("#booking-check-in", Input).value = "大后天"
        app.screen.query_one("#booking-nights", Input).value = "3"
        await pilot.click("#booking-confirm")
        await wait_until(pilot, lambda: not app.busy)
    [booking] = real[1].list()
    assert (booking.guest, booking.check_in, booking.nights) == ("李四", (TODAY + dt.timedelta(days=3)).isoformat(), 3)


async def test_escape_in_a_proposed_booking_declines_and_writes_nothing(own_cache, real):
    async with booking_app(real).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        await say(pilot, FIND)
        await send(pilot, BOOK)
        await wait_until(pilot, lambda: dialog_open(app), what="the booking form")
        await pilot.press("escape")
        await wait_until(pilot, lambda: not app.busy, what="the reply after declining")
        assert real[1].list() == [] and app.dialogue.bookings() == []
        assert "declined: nothing was booked" in notes(app, "dim")
        assert "booked" not in str(app.status.render())
        assert app.query(AgentMessage).last().content.startswith("抱歉，没有完成")


async def test_a_booking_call_a_check_refuses_is_a_note_and_no_form(own_cache, real):
    async with booking_app(real).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        await say(pilot, FIND)
        await say(pilot, "帮我订第二家，两晚，后天入住")  # no guest name
        assert not isinstance(app.screen, BookingDialog) and real[1].list() == []
        assert "not booked: book_hotel: missing guest" in notes(app, "dim")


async def test_cancelling_by_chat_asks_in_a_dialog_then_cancels(own_cache, real):
    async with booking_app(real).run_test(size=SIZE) as pilot:
        app, second = await book_by_chat(pilot)
        await send(pilot, "取消刚才的预订")
        await wait_until(pilot, lambda: cancel_dialog_open(app), what="the cancellation dialog")
        assert second in str(app.screen.query_one("#cancel-booking").render())
        await pilot.click("#cancel-confirm")
        await wait_until(pilot, lambda: not app.busy, what="the reply after cancelling")
        [booking] = real[1].list()
        assert booking.status == CANCELLED and app.dialogue.bookings() == []
        assert str(app.status.render()).startswith(f"✔ cancelled #{booking.id}: {second}")


async def test_escape_in_the_cancellation_dialog_keeps_the_booking(own_cache, real):
    async with booking_app(real).run_test(size=SIZE) as pilot:
        app, _ = await book_by_chat(pilot)
        await send(pilot, "取消刚才的预订")
        await wait_until(pilot, lambda: cancel_dialog_open(app), what="the cancellation dialog")
        await pilot.press("escape")
        await wait_until(pilot, lambda: not app.busy)
        assert [b.status for b in real[1].list()] == ["confirmed"]
        assert "declined: nothing was cancelled" in notes(app, "dim")


async def test_quitting_while_the_form_is_open_books_nothing(own_cache, real):
    app = booking_app(real)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        await say(pilot, FIND)
        await send(pilot, BOOK)
        await wait_until(pilot, lambda: dialog_open(app), what="the booking form")
        await pilot.press("ctrl+q")
    assert real[1].list() == []
    assert not (own_cache / "tui.log").exists()  # a quiet exit: nothing crashed on the way out


async def test_an_app_taken_down_without_exit_stops_the_worker_waiting_for_the_form(own_cache, real):
    """Textual's harness (and a crash) shut the app down without exit(): the exchange thread waiting for the
    form's answer must end with it, or it outlives the app and the process hangs on exit."""
    app = booking_app(real)
    answered = threading.Event()
    confirm = app.booking.confirm

    def waiting(proposal, cancel):
        try:
            return confirm(proposal, cancel)
        finally:
            answered.set()

    app.booking.confirm = waiting  # type: ignore[method-assign]
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        await say(pilot, FIND)
        await send(pilot, BOOK)
        await wait_until(pilot, lambda: dialog_open(app), what="the booking form")
    assert answered.wait(5), "the worker still waits for a form that is gone"
    assert real[1].list() == []


async def test_a_reply_claiming_a_booking_that_was_not_made_is_corrected_with_a_note(own_cache, real):
    async with booking_app(real).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        await say(pilot, "谢谢")  # the clerk's closing claims a booking
        assert "reply corrected: it claimed a booking that was not made" in notes(app, "dim")
        assert app.query(AgentMessage).last().content.startswith("抱歉，我还没有为您预订")


async def test_a_resumed_conversation_shows_its_bookings(own_cache, real):
    async with booking_app(real).run_test(size=SIZE) as pilot:
        _, second = await book_by_chat(pilot)
    async with booking_app(real, continue_last=True).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        await wait_until(pilot, lambda: app.query(AgentMessage), what="the resumed conversation")
        assert any(n.startswith(f"✔ booked #1: {second}") for n in notes(app, "success"))


# --- booking from a results table ----------------------------------------------------------------------


async def fill_form(pilot, guest: str = "Li", check_in: str = "后天", nights: str = "1") -> None:
    screen = pilot.app.screen
    for key, value in (("guest", guest), ("check-in", check_in), ("nights", nights)):
        screen.query_one(f"#booking-{key}", Input).value = value


async def test_enter_on_a_result_row_books_that_hotel(own_cache, real):
    async with booking_app(real).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        await say(pilot, FIND)
        first = app.dialogue.last_records()[0]["name"]
        app.query_one(SearchCard).query_one("DataTable").focus()
        await pilot.press("enter")
        await wait_until(pilot, lambda: dialog_open(app), what="the booking dialog")
        assert form_values(app) == ("", "", "")  # nothing proposed: the user fills it in
        for key in "Li":
            await pilot.press(key)
        await fill_form(pilot, guest="Li")
        await pilot.click("#booking-confirm")
        await wait_until(pilot, lambda: real[1].list())
        [booking] = real[1].list()
        assert (booking.hotel_name, booking.guest, booking.nights) == (first, "Li", 1)
        assert str(app.status.render()).startswith(f"✔ booked #{booking.id}: {first}")


async def test_a_booking_from_the_table_joins_the_dialogue_so_the_agent_can_cancel_it(own_cache, real):
    async with booking_app(real).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        await say(pilot, FIND)
        app.booking.open_manual(app.dialogue.last_records()[2])
        await wait_until(pilot, lambda: dialog_open(app), what="the booking dialog")
        await fill_form(pilot)
        await pilot.click("#booking-confirm")
        await wait_until(pilot, lambda: app.dialogue.bookings(), what="the booking in the dialogue")
        assert [t.role for t in app.dialogue][-2:] == ["book", "result"]
        assert ConversationHistory.open().last().dialogue == app.dialogue  # saved at once
        await send(pilot, "取消刚才的预订")  # the agent knows of the booking: it proposes to cancel it
        await wait_until(pilot, lambda: cancel_dialog_open(app), what="the cancellation dialog")
        await pilot.click("#cancel-confirm")
        await wait_until(pilot, lambda: not app.busy)
        assert [b.status for b in real[1].list()] == [CANCELLED]


async def test_one_click_on_a_row_books_that_hotel(own_cache):
    async with new_app(services()).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        card = SearchCard({"rating_range_lower": 4.5}, records=HOTELS)
        await app.transcript.mount(card)
        await wait_until(pilot, lambda: card.query("ResultsTable"))
        await wait_until(pilot, lambda: card.query_one("ResultsTable").region.height == 3, what="the table on screen")
        await pilot.click("ResultsTable", offset=(4, 2))  # line 0 is the header: line 2 is the second hotel
        await wait_until(pilot, lambda: dialog_open(app), what="the booking dialog")
        assert app.screen.record["name"] == "北京贵都大酒店"


async def test_a_past_check_in_date_keeps_the_form_open(own_cache, real):
    async with booking_app(real).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        app.booking.open_manual(real[0].get(24))
        await wait_until(pilot, lambda: dialog_open(app), what="the booking dialog")
        await fill_form(pilot, check_in="2020-01-01")
        await pilot.click("#booking-confirm")
        await pilot.pause()
        assert isinstance(app.screen, BookingDialog) and real[1].list() == []
        assert "in the past" in str(app.screen.query_one("#booking-error").render())


async def test_escape_in_the_form_books_nothing(own_cache, real):
    async with booking_app(real).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        app.booking.open_manual(real[0].get(24))
        await wait_until(pilot, lambda: dialog_open(app), what="the booking dialog")
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, BookingDialog))
        assert real[1].list() == [] and len(app.dialogue) == 0


async def test_a_row_picked_while_the_agent_replies_waits(own_cache, real):
    release = threading.Event()
    backend = ScriptedBackend(script=lambda d: release.wait(5) and AssistantTurn("好的。"))
    async with new_app(services({"scripted": backend}, store=real[0], bookings=real[1])).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        await send(pilot, "你好")
        await wait_until(pilot, lambda: app.busy)
        app.booking.open_manual(real[0].get(24))
        await pilot.pause()
        assert not isinstance(app.screen, BookingDialog)  # the reply would replace the dialogue, losing it
        release.set()
        await wait_until(pilot, lambda: not app.busy)


# --- commands ------------------------------------------------------------------------------------------


async def test_switching_backend_carries_the_conversation_over(own_cache):
    second = ScriptedBackend(turns=[AssistantTurn("我是第二个后端。")], name="second")
    backends = {"scripted": ScriptedBackend(turns=[AssistantTurn("您好！")]), "second": second}
    async with new_app(services(backends)).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        await say(pilot, "你好")
        app.prompt.load_text("/backend second")
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.backend is second)
        await say(pilot, "还在吗")
        assert [t.role for t in app.dialogue] == ["user", "assistant", "user", "assistant"]
        assert "backend: second" in app.sub_title
        assert app.conversation.backend == "second"


async def test_reset_starts_an_empty_conversation(own_cache):
    async with new_app(services()).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        await say(pilot, "你好")
        first = app.conversation.id
        app.prompt.load_text("/reset")
        await pilot.press("enter")
        await pilot.pause()
        assert len(app.dialogue) == 0 and app.conversation.id != first and not app.query(AgentMessage)


async def test_export_appends_the_dialogue_in_the_training_format(own_cache, tmp_path: Path):
    out = tmp_path / "mine.jsonl"
    async with new_app(services()).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        await say(pilot, "帮我找一家经济型酒店")
        app.prompt.load_text(f"/export {out}")
        await pilot.press("enter")
        await wait_until(pilot, out.exists)
        assert list(read_dialogues(out)) == [app.dialogue]
        assert json.loads(out.read_text(encoding="utf-8"))["messages"][0]["role"] == "system"


async def test_help_lists_the_commands(own_cache):
    async with new_app(services()).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        app.prompt.load_text("/help")
        await pilot.press("enter")
        await pilot.pause()
        assert "/backend NAME" in app.query_one(".note-help").source


async def test_an_unknown_command_is_an_error_line_not_a_message(own_cache):
    async with new_app(services()).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        app.prompt.load_text("/frobnicate")
        await pilot.press("enter")
        await pilot.pause()
        assert any("unknown command /frobnicate" in n for n in notes(app, "error")) and len(app.dialogue) == 0


# --- history and feedback ------------------------------------------------------------------------------


async def test_every_exchange_is_saved_and_continue_resumes_it(own_cache):
    async with new_app(services()).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        await say(pilot, "帮我找一家经济型酒店")
        conversation_id = app.conversation.id
    assert ConversationHistory.open().last().dialogue == app.dialogue

    backend = ScriptedBackend(turns=[AssistantTurn("好的。")])
    async with new_app(services({"scripted": backend}), continue_last=True).run_test(size=SIZE) as pilot:
        resumed = await started(pilot)
        assert resumed.conversation.id == conversation_id and len(resumed.query(SearchCard)) == 1
        await say(pilot, "谢谢")
        assert len(resumed.dialogue) == 6
    assert len(ConversationHistory.open().all()) == 1


async def test_plus_on_a_focused_reply_saves_a_thumbs_up(own_cache):
    async with new_app(services()).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        await say(pilot, "你好")
        await pilot.press("shift+tab")
        assert isinstance(app.focused, AgentMessage)
        await pilot.press("plus")
        await wait_until(pilot, lambda: app.conversation.feedback)
        saved = ConversationHistory.open().last()
        assert [(f.turn, f.rating) for f in saved.feedback] == [(1, "up")]
        assert app.focused.border_subtitle == "👍"
        await pilot.press("o", "k")  # typing on goes to the input
        assert app.prompt.has_focus and app.prompt.text == "ok"


# --- errors stay in the UI -----------------------------------------------------------------------------


async def test_a_backend_that_fails_to_load_leaves_a_usable_app(own_cache):
    backends = {
        "broken": UserError("adapter directory adapters/x has no adapter_config.json"),
        "scripted": ScriptedBackend(turns=[AssistantTurn("您好！")]),
    }
    async with new_app(services(backends), backend="broken").run_test(size=SIZE) as pilot:
        app = await started(pilot)
        [error] = notes(app, "error")
        assert "cannot load backend broken: adapter directory" in error and "/backend rules" in error
        app.prompt.load_text("/backend scripted")
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.backend is not None)
        await say(pilot, "你好")
        assert app.dialogue[-1] == AssistantTurn("您好！")


async def test_a_crash_while_loading_is_one_readable_line(own_cache):
    backends = {"crashy": RuntimeError("CUDA out of memory")}
    async with new_app(services(backends), backend="crashy").run_test(size=SIZE) as pilot:
        app = await started(pilot)
        assert any("RuntimeError: CUDA out of memory" in n for n in notes(app, "error"))
        assert (own_cache / "tui.log").read_text().count("Traceback") == 1


async def test_a_backend_crash_mid_turn_keeps_the_conversation(own_cache):
    backend = ScriptedBackend(turns=[AssistantTurn("您好！")])
    async with new_app(services({"scripted": backend})).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        await say(pilot, "你好")
        await say(pilot, "再说一遍")  # the script has run out of turns: the backend raises
        assert any("ScriptedFailure" in n for n in notes(app, "error"))
        assert len(app.dialogue) == 2 and not app.busy


async def test_missing_data_is_reported_and_searches_say_why(own_cache):
    def missing():
        raise DataMissingError("data file crosswoz/hotel_db.json not found; run `hotel-agent data download`")

    async with new_app(services(open_store=missing)).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        assert any("hotel-agent data download" in n for n in notes(app, "error"))
        await say(pilot, "帮我找一家经济型酒店")
        assert len(notes(app, "error")) == 2 and len(app.dialogue) == 0


async def test_header_names_backend_and_model(own_cache):
    async with new_app(services(), backend_options={"model": "Qwen/Qwen2-0.5B-Instruct"}).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        assert app.sub_title == "backend: scripted · model: Qwen/Qwen2-0.5B-Instruct"
