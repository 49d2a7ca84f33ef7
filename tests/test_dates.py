"""agent.core.dates: check-in dates as people write them, resolved against a fixed today (a Sunday)."""

from __future__ import annotations

import datetime as dt

import pytest

from agent.core.dates import check_in_date, find_date, parse_date, small_number
from agent.core.errors import ArgumentError

TODAY = dt.date(2026, 11, 29)  # a Sunday


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2026-12-01", dt.date(2026, 12, 1)),
        ("2026/12/1", dt.date(2026, 12, 1)),
        ("2026年12月1日", dt.date(2026, 12, 1)),
        ("12月1日", dt.date(2026, 12, 1)),
        ("十二月一号", dt.date(2026, 12, 1)),
        ("1月3日", dt.date(2027, 1, 3)),  # passed this year: next year's
        ("5号", dt.date(2026, 12, 5)),  # passed this month: next month's
        ("今天", TODAY),
        ("明天", dt.date(2026, 11, 30)),
        ("明儿", dt.date(2026, 11, 30)),
        ("后天", dt.date(2026, 12, 1)),
        ("大后天", dt.date(2026, 12, 2)),
        ("三天后", dt.date(2026, 12, 2)),
        ("周五", dt.date(2026, 12, 4)),
        ("下周五", dt.date(2026, 12, 4)),
        ("下下周一", dt.date(2026, 12, 7)),
        ("周末", dt.date(2026, 12, 5)),
    ],
)
def test_a_check_in_written_this_way_resolves_to_that_day(text, expected):
    assert parse_date(text, TODAY) == expected


@pytest.mark.parametrize("text", ["上周五", "上礼拜三", "这周六", "2020-01-01"])
def test_a_day_already_gone_is_refused_as_a_check_in_not_moved_to_a_coming_one(text):
    with pytest.raises(ArgumentError, match="in the past") as refused:
        check_in_date(text, TODAY)
    assert refused.value.field == "check_in"


def test_a_date_inside_a_longer_message_is_found_with_its_span():
    found = find_date("帮我订第二家，两晚，12月1日入住，名字张三", TODAY)
    assert found is not None and found[0] == dt.date(2026, 12, 1)
    assert "帮我订第二家，两晚，12月1日入住"[found[1][0] : found[1][1]] == "12月1日"


def test_a_message_without_a_date_has_none():
    assert find_date("帮我找一家评分4.5以上的经济型酒店", TODAY) is None


@pytest.mark.parametrize("text", ["20261201", "2026-W48-2", "十三月一日", "下个月"])
def test_what_is_not_a_date_is_refused_naming_the_field(text):
    with pytest.raises(ArgumentError, match="not a date"):
        parse_date(text, TODAY)


def test_more_than_a_year_ahead_is_refused():
    with pytest.raises(ArgumentError, match="more than a year ahead"):
        check_in_date("2028-01-01", TODAY)


@pytest.mark.parametrize(
    "text, number", [("12", 12), ("十二", 12), ("二十一", 21), ("两", 2), ("十", 10), ("一百", None)]
)
def test_small_numbers_in_digits_or_chinese(text, number):
    assert small_number(text) == number
