"""The TUI's pure pieces: argument and row formatting, the input history, the booking form, progress lines."""

from __future__ import annotations

from datetime import date

import pytest

from agent.app.tui.booking_dialog import parse_booking_form
from agent.app.tui.prompt_input import InputHistory
from agent.app.tui.search_card import (
    describe_arguments,
    describe_near,
    describe_relaxed,
    record_row,
    saved_reasons,
)
from agent.app.tui.status_bar import last_progress_line
from agent.core.errors import UserError
from agent.core.search_result import NearPlace, SearchResult


def test_arguments_are_described_as_the_agent_understood_them():
    text = describe_arguments(
        {
            "type": "经济型",
            "facilities": ["无线网络", "叫醒服务"],
            "price_range_upper": 300.0,
            "rating_range_lower": 4.5,
        }
    )
    assert text == "类型 经济型 · 设施 无线网络、叫醒服务 · 价格 ≤ 300 · 评分 ≥ 4.5"


def test_a_closed_price_range_reads_as_a_range():
    assert describe_arguments({"price_range_lower": 200.0, "price_range_upper": 300.0}) == "价格 200–300"


def test_relaxed_constraints_and_unknown_facilities_are_flagged():
    note = describe_relaxed(SearchResult([], relaxed=("price_range_upper", "type"), unmapped=("温泉",)))
    assert note == "no exact match; relaxed: 最高价、类型; unknown facilities: 温泉"
    assert describe_relaxed(SearchResult([{}])) == ""


def test_the_place_to_be_near_comes_first():
    assert describe_arguments({"type": "经济型", "near": "故宫"}) == "附近 故宫 · 类型 经济型"


def test_the_near_place_is_named_as_resolved_and_a_missing_one_is_said_so():
    assert (
        describe_near(NearPlace("三里屯", "三里屯酒吧街", "attraction", "三里屯酒吧街", 4))
        == "附近 三里屯酒吧街（景点）"
    )
    assert describe_near(NearPlace("火星基地", None)) == "unknown place: 火星基地"
    assert describe_near(NearPlace("八达岭长城", "八达岭长城", "attraction", "八达岭长城", 0)) == (
        "the data lists no hotel near 八达岭长城"
    )
    assert describe_near(None) == ""


def test_saved_results_near_a_place_get_their_reasons_back(data_dir):
    from agent.core.store import HotelStore

    records = HotelStore.open().search({"near": "西直门地铁站"}).records
    assert saved_reasons({"near": "西直门地铁站"}, records) == ["station"] * len(records)
    assert saved_reasons({"type": "经济型"}, records) == []


def test_unknown_prices_show_as_a_dash():
    record = {"name": "某酒店", "type": "经济型", "price": -1.0, "rating": 4.0, "subway": "", "phone": "010"}
    assert record_row(record) == ("某酒店", "经济型", "—", "4", "—", "010")


def test_up_walks_back_and_down_returns_to_the_draft():
    history = InputHistory()
    history.add("第一句")
    history.add("第二句")
    assert history.previous("草稿") == "第二句"
    assert history.previous("第二句") == "第一句"
    assert history.previous("第一句") is None
    assert history.next() == "第二句"
    assert history.next() == "草稿"
    assert history.next() is None


def test_repeated_messages_are_kept_once():
    history = InputHistory()
    history.add("你好")
    history.add("你好")
    assert history.entries == ["你好"]


def test_booking_form_fields_are_all_optional():
    request = parse_booking_form({"name": "汉庭"}, "  ", "", "")
    assert (request.guest, request.check_in, request.nights) == (None, None, None)


def test_booking_form_reads_date_and_nights():
    request = parse_booking_form({"name": "汉庭"}, "张三", "2026-12-24", "3")
    assert (request.guest, request.check_in, request.nights) == ("张三", date(2026, 12, 24), 3)


@pytest.mark.parametrize(
    "check_in, nights, message", [("24/12", "", "not a date"), ("", "zero", "whole number"), ("", "0", "between 1 and")]
)
def test_booking_form_names_the_bad_field(check_in, nights, message):
    with pytest.raises(UserError, match=message):
        parse_booking_form({"name": "汉庭"}, "", check_in, nights)


def test_progress_line_is_the_latest_redraw_of_a_bar():
    assert last_progress_line("Loading 1/4\rLoading 2/4\r") == "Loading 2/4"
