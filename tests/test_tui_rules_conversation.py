"""A whole conversation in the chat app on the real rules backend, HotelStore and bookings: ask for a hotel,
see its rows, ask a follow-up, book from the table, and find the booking in the store."""

from __future__ import annotations

import time

import pytest

from agent.app.history import ConversationHistory
from agent.app.tui.app import HotelAgentApp, Services
from agent.app.tui.booking_dialog import BookingDialog
from agent.app.tui.search_card import SearchCard
from agent.app.tui.transcript import AgentMessage
from agent.core.bookings import Bookings
from agent.core.store import HotelStore
from agent.core.turns import SearchTurn
from backends.registry import create

pytestmark = pytest.mark.asyncio


@pytest.fixture(scope="module")
def rules_backend(data_dir):
    # Built once, in the session cache: its first build learns a lexicon from the training data (seconds).
    return create("rules")


async def wait_until(pilot, condition, timeout: float = 10.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        await pilot.pause(0.02)


async def say(pilot, text: str) -> None:
    app = pilot.app
    before = len(app.dialogue)
    app.prompt.load_text(text)
    await pilot.press("enter")
    await wait_until(pilot, lambda: not app.busy and len(app.dialogue) > before, what=f"the reply to {text!r}")


def rows(card: SearchCard) -> list[str]:
    table = card.query_one("DataTable")
    return [str(table.get_row_at(i)[0]) for i in range(table.row_count)]


async def test_ask_follow_up_and_book_on_the_rules_backend(own_cache, rules_backend):
    services = Services(create_backend=lambda name, **options: rules_backend)
    async with HotelAgentApp("rules", services=services).run_test(size=(120, 45)) as pilot:
        app = pilot.app
        await wait_until(pilot, lambda: app.ready.is_set() and app.backend is not None, what="the rules backend")

        await say(pilot, "帮我找一家有wifi的经济型酒店")
        first = app.query(SearchCard).last()
        assert rows(first) == [r["name"] for r in app.dialogue.last_records()] and rows(first)
        assert "类型 经济型" in str(first.query_one(".search-arguments").render())

        await say(pilot, "有没有评分4.5以上的？")
        searches = [t.arguments for t in app.dialogue if isinstance(t, SearchTurn)]
        assert searches[-1]["rating_range_lower"] == 4.5 and searches[-1]["type"] == "经济型"
        card = app.query(SearchCard).last()
        assert card is not first and len(rows(card)) >= 2
        assert app.query(AgentMessage).last().content == app.dialogue[-1].content

        names = rows(card)
        card.query_one("DataTable").focus()
        await pilot.press("down", "enter")  # the second hotel of the follow-up's results
        await wait_until(pilot, lambda: isinstance(app.screen, BookingDialog) and app.screen.query("#booking-nights"))
        app.screen.query_one("#booking-guest").value = "王小明"
        app.screen.query_one("#booking-nights").value = "2"
        await pilot.click("#booking-confirm")
        await wait_until(pilot, lambda: app.saved_bookings, what="the booking")

    [booking] = Bookings(HotelStore.open()).list()
    assert (booking.hotel_name, booking.guest, booking.nights) == (names[1], "王小明", 2)
    assert ConversationHistory.open().last().dialogue == app.dialogue


async def test_saying_i_decide_on_a_hotel_by_name_books_it(own_cache, rules_backend):
    services = Services(create_backend=lambda name, **options: rules_backend)
    async with HotelAgentApp("rules", services=services).run_test(size=(120, 45)) as pilot:
        app = pilot.app
        await wait_until(pilot, lambda: app.ready.is_set() and app.backend is not None, what="the rules backend")
        await say(pilot, "帮我找一家经济型酒店")
        name = app.dialogue.last_records()[0]["name"]
        await say(pilot, f"好的，我决定入住{name}。")
        await wait_until(pilot, lambda: isinstance(app.screen, BookingDialog) and app.screen.query("#booking-confirm"))
        assert app.screen.record["name"] == name
        await pilot.click("#booking-confirm")
        await wait_until(pilot, lambda: app.saved_bookings, what="the booking")
    assert [b.hotel_name for b in Bookings(HotelStore.open()).list()] == [name]


async def test_hotels_near_places_on_the_rules_backend(own_cache, rules_backend):
    services = Services(create_backend=lambda name, **options: rules_backend)
    async with HotelAgentApp("rules", services=services).run_test(size=(140, 45)) as pilot:
        app = pilot.app
        await wait_until(pilot, lambda: app.ready.is_set() and app.backend is not None, what="the rules backend")

        await say(pilot, "故宫附近有什么酒店？")
        card = app.query(SearchCard).last()
        assert "附近 故宫" in str(card.query_one(".search-arguments").render())
        table = card.query_one("DataTable")
        assert [str(c.label) for c in table.columns.values()][-1] == "附近"
        assert {str(table.get_row_at(i)[-1]) for i in range(table.row_count)} == {"列为周边"}
        assert app.query(AgentMessage).last().content.startswith("故宫附近的酒店有")

        await say(pilot, "西直门地铁站附近的经济型酒店")
        card = app.query(SearchCard).last()
        arguments = str(card.query_one(".search-arguments").render())
        assert "附近 西直门地铁站" in arguments and "类型 经济型" in arguments
        table = card.query_one("DataTable")
        assert {str(table.get_row_at(i)[-1]) for i in range(table.row_count)} == {"同一地铁站"}
        assert {str(table.get_row_at(i)[1]) for i in range(table.row_count)} == {"经济型"}

        await say(pilot, "那三里屯附近呢")
        assert [t.arguments for t in app.dialogue if isinstance(t, SearchTurn)][-1] == {
            "near": "三里屯",
            "type": "经济型",
        }
        assert "三里屯" in app.query(AgentMessage).last().content
