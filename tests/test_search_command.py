"""`hotel-agent search` and `hotel-agent bookings` as a user runs them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from click.testing import CliRunner

from agent.app.cli import main
from agent.app.search_command import display_width
from agent.core.bookings import Bookings
from agent.core.store import HotelStore


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def test_search_prints_a_table_with_the_asked_columns():
    result = run("search", '{"type": "经济型", "facilities": ["无线网络"]}', "--limit", "3")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["酒店", "类型", "价格", "评分", "地铁", "电话"]
    assert len(lines) == 5 and all("经济型" in line for line in lines[1:4])
    assert lines[4].startswith("3 of ")


def test_table_columns_line_up_for_chinese_names():
    rows = run("search", '{"type": "经济型"}', "--limit", "4").output.splitlines()[1:5]
    offsets = {display_width(row[: row.index("经济型")]) for row in rows}
    assert len(rows) == 4 and len(offsets) == 1  # names of different lengths, one type column


def test_search_says_which_constraints_were_relaxed():
    result = run("search", '{"type": "舒适型", "rating_range_lower": 5, "rating_range_upper": 5}')
    assert result.exit_code == 0
    assert "dropped: rating_range_lower" in result.output.splitlines()[0]


def test_search_names_unmapped_facility_phrases():
    result = run("search", '{"type": "经济型", "facilities": ["宠物乐园"]}', "--limit", "1")
    assert "facilities not understood, ignored: 宠物乐园" in result.output


def test_hotel_without_price_shows_a_dash():
    result = run("search", '{"name": "北京龙鼎华鼎云酒店"}')
    assert result.output.splitlines()[1].split()[2] == "—"


@pytest.mark.parametrize(
    "arguments, message",
    [
        ('{"type": ', "error: arguments are not valid JSON"),
        ('["经济型"]', "error: arguments must be a JSON object"),
        ('{"type": "五星级"}', "error: argument 'type' must be one of"),
        ('{"price_range_lower": 500, "price_range_upper": 100}', "is greater than"),
    ],
)
def test_bad_arguments_are_one_error_line_and_exit_1(arguments: str, message: str):
    result = run("search", arguments)
    assert result.exit_code == 1
    assert result.output.strip().count("\n") == 0 and message in result.output
    assert "Traceback" not in result.output


def test_unknown_name_says_nothing_was_found():
    result = run("search", '{"name": "火星大酒店"}')
    assert result.exit_code == 0 and result.output.strip() == "no hotel found"


def test_bookings_lists_and_cancels(own_cache: Path):
    bookings = Bookings(HotelStore.open(learn_facilities=False))
    bookings.book(24, guest="张三", check_in="2026-12-01", nights=2, today=dt.date(2026, 11, 29))
    listed = run("bookings").output.splitlines()
    assert "北京龙鼎华鼎云酒店" in listed[1] and "confirmed" in listed[1] and "张三" in listed[1]
    assert run("bookings", "--cancel", "1").output.strip() == "cancelled booking 1: 北京龙鼎华鼎云酒店"
    assert "cancelled" in run("bookings").output.splitlines()[1]


def test_bookings_with_none_says_so(own_cache: Path):
    assert run("bookings").output.startswith("no bookings yet")


def test_cancelling_an_unknown_booking_is_one_error_line(own_cache: Path):
    result = run("bookings", "--cancel", "7")
    assert result.exit_code == 1 and result.output.strip() == (
        "error: no booking with id 7; `hotel-agent bookings` lists them"
    )


def test_search_near_a_place_names_it_and_says_how_each_hotel_is_near():
    result = run("search", '{"near": "故宫"}')
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("near 故宫 (景点): ")
    assert lines[1].split()[-1] == "附近" and all(line.endswith("listed as nearby") for line in lines[2:-1])


def test_search_near_an_unknown_place_is_one_error_line():
    result = run("search", '{"near": "火星基地"}')
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "error: unknown place '火星基地': no attraction, restaurant, hotel or subway station of that name"
    ]
