"""The rules backend's understanding of one message, one pattern family per test."""
from __future__ import annotations

import pytest

from backends.rules.lexicon import load_lexicon
from backends.rules.nlu import find_facilities, find_name, find_type, understand
from backends.rules.numbers import chinese_to_number, parse_price, parse_rating


@pytest.fixture(scope="module")
def lexicon():
    return load_lexicon()


@pytest.mark.parametrize("text, value", [("五百", 500), ("一千二", 1200), ("十五", 15), ("两百", 200), ("四", 4)])
def test_chinese_numerals_become_numbers(text, value):
    assert chinese_to_number(text) == value


@pytest.mark.parametrize("text, lower, upper", [
    ("找一家最低价格是500-600元的酒店", 500, 600),
    ("价格在七百到八百之间的酒店", 700, 800),
    ("帮我找个五六百块钱左右的酒店", 500, 600),
    ("价格五百多的酒店", 500, 600),
])
def test_price_ranges_give_both_bounds(text, lower, upper):
    bounds = parse_price(text)
    assert (bounds.lower, bounds.upper) == (lower, upper)


@pytest.mark.parametrize("text, upper", [("300元以下的酒店", 300), ("价格不超过400的酒店", 400),
                                          ("价格在400以内", 400), ("价格比900低的酒店", 900)])
def test_price_caps_give_an_upper_bound(text, upper):
    assert parse_price(text).upper == upper and parse_price(text).lower is None


@pytest.mark.parametrize("text, lower", [("价格在400元以上的酒店", 400), ("价格不低于600的酒店", 600),
                                          ("有价格比700高的酒店吗", 700)])
def test_price_floors_give_a_lower_bound(text, lower):
    assert parse_price(text).lower == lower and parse_price(text).upper is None


def test_small_numbers_are_not_prices():
    assert parse_price("评分4.5分以上的酒店") is None


@pytest.mark.parametrize("text, lower, upper", [
    ("评分4.5分以上的酒店", 4.5, None),
    ("评分是5分的酒店", 5.0, 5.0),
    ("评分四分半以上", 4.5, None),
    ("评分在4.5以上的", 4.5, None),
    ("有健身房服务的4分酒店", 4.0, None),
])
def test_ratings(text, lower, upper):
    bounds = parse_rating(text)
    assert (bounds.lower, bounds.upper) == (lower, upper)


@pytest.mark.parametrize("text, hotel_type", [("经济型酒店", "经济型"), ("舒适的酒店", "舒适型"),
                                               ("高档酒店", "高档型"), ("豪华的", "豪华型")])
def test_type_phrasings(text, hotel_type):
    assert find_type(text) == hotel_type


def test_facilities_are_extracted_as_the_user_wrote_them(lexicon):
    assert find_facilities("有没有提供无烟房和叫醒服务的酒店", lexicon) == ["无烟房", "叫醒服务"]


def test_the_longest_facility_phrase_wins(lexicon):
    assert find_facilities("要有24小时热水的酒店", lexicon) == ["24小时热水"]


def test_a_name_after_jiao_is_taken_as_written(lexicon):
    assert find_name("帮我找个酒店，叫鑫星酒店", lexicon) == "鑫星酒店"


def test_a_known_short_name_is_found(lexicon):
    assert find_name("我想找一个泰山饭店", lexicon) == "泰山饭店"


def test_wake_up_service_is_not_a_name(lexicon):
    assert "name" not in understand("找个有叫醒服务的酒店", lexicon, []).slots


def test_a_message_collects_every_slot_it_mentions(lexicon):
    slots = understand("找一家评分4.5分以上、价格300-400元、有无烟房的舒适型酒店", lexicon, []).slots
    assert slots == {"type": "舒适型", "facilities": ["无烟房"], "price_range_lower": 300.0,
                     "price_range_upper": 400.0, "rating_range_lower": 4.5}


def test_a_shown_hotel_named_is_a_mention_not_a_name_search(lexicon):
    shown = [{"name": "北京京仪大酒店"}]
    result = understand("我决定入住北京京仪大酒店", lexicon, shown)
    assert result.shown_mentions == (0,) and "name" not in result.slots


def test_a_branch_after_a_known_name_is_kept(lexicon):
    assert find_name("帮我找个酒店，叫和颐酒店天坛店", lexicon) == "和颐酒店天坛店"


def test_a_facility_word_inside_a_name_does_not_hide_the_name(lexicon):
    assert understand("我要订个酒店，国际温泉酒店怎么样？", lexicon, []).slots == {"name": "国际温泉酒店"}


def test_a_request_is_not_taken_for_a_name(lexicon):
    assert "name" not in understand("请帮我找家酒店，最好是提供吹风机和商务中心。", lexicon, []).slots


def test_scope_words_before_a_facility_stay_in_the_phrase(lexicon):
    assert find_facilities("哦。所有公共区域和一些房间都提供wifi吗？", lexicon) == ["所有公共区域和一些房间都提供wifi"]


def test_an_unknown_service_is_taken_as_written(lexicon):
    assert understand("请问酒店有洗涤服务吗", lexicon, []).slots == {"facilities": ["洗涤服务"]}
