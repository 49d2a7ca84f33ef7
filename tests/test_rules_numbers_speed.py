"""backends.rules.numbers runs on every chat message: its time grows linearly with the message, whatever the
message holds (long runs of digits, Chinese numerals or spaces made the regexes backtrack quadratically)."""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backends.rules.numbers import chinese_to_number, parse_price, parse_rating

# Well under a second for 100 KB: a linear parser takes milliseconds, a quadratic one minutes to hours.
LIMIT_S = 1.0
SIZE = 100_000


def seconds(parse, text: str) -> float:
    start = time.perf_counter()
    parse(text)
    return time.perf_counter() - start


HOSTILE = {
    "8000-fives": "5" * 8_000,
    "100-KB-of-digits": "5" * SIZE,
    "8000-Chinese-fives": "五" * 8_000,
    "100-KB-of-Chinese-numerals": "一二三四五六七八九十百千万" * (SIZE // 13),
    "a-number-then-100-KB-of-spaces": "5" + " " * SIZE + "x",
    "a-Chinese-number-then-100-KB-of-spaces": "五百" + " " * SIZE,
    "decimal-points": "5." * (SIZE // 2),
    "Chinese-decimal-points": "五点" * (SIZE // 2),
    "a-rating-of-100-KB-of-digits": "评分" + "5" * SIZE,
    "a-cap-of-100-KB-of-digits": "低于" + "5" * SIZE + "元",
    "a-range-with-100-KB-of-spaces-each-side": "500" + " " * SIZE + "-" + " " * SIZE + "600",
}


@pytest.mark.parametrize("parse", [parse_price, parse_rating])
@pytest.mark.parametrize("text", list(HOSTILE.values()), ids=list(HOSTILE))
def test_a_hostile_message_is_parsed_in_well_under_a_second(parse, text: str):
    assert seconds(parse, text) < LIMIT_S


# Short pieces of what the patterns look for, repeated to a long message.
PIECES = st.text(alphabet="5.五百点多 -到元分星评以上下低于比", min_size=1, max_size=4)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(piece=PIECES)
def test_any_repeated_piece_is_parsed_in_well_under_a_second(piece: str):
    text = piece * (20_000 // len(piece))
    assert seconds(parse_price, text) < LIMIT_S and seconds(parse_rating, text) < LIMIT_S


def test_a_digit_run_too_long_to_be_a_price_is_not_one():
    assert parse_price("低于" + "5" * 40 + "元") is None
    assert parse_price("低于500元") is not None


def test_runs_of_spaces_keep_their_meaning():
    spaced = parse_price("500" + " " * 30 + "-" + " " * 30 + "600元")
    assert spaced is not None and (spaced.lower, spaced.upper) == (500, 600)


def test_a_long_run_of_chinese_numerals_is_read_in_linear_time():
    start = time.perf_counter()
    chinese_to_number("五" * SIZE)
    assert time.perf_counter() - start < LIMIT_S
