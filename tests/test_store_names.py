"""agent.core.hotel_names.match_names: the rules for the short names people use, on a small made-up list."""

from __future__ import annotations

from agent.core.hotel_names import match_names, normalize_name

NAMES = [
    "北京瑞洁宾舍民宿",
    "汉庭酒店(北京站店)",
    "汉庭酒店(北京鼓楼店)",
    "和颐酒店北京前门店",
    "北京山西(金辇)大厦",
    "北京万寿宾馆",
    "北京万寿庄宾馆",
    "北京饭店",
    "北京饭店二七剧场店",
    "格林豪泰（北京前门店）",
]


def names(text: str) -> list[str]:
    return [NAMES[i] for i in match_names(text, NAMES)]


def test_equal_name_wins_over_longer_names_containing_it():
    assert names("北京饭店") == ["北京饭店"]


def test_sentence_containing_a_full_name_finds_the_longest_one():
    assert names("我决定入住北京饭店二七剧场店") == ["北京饭店二七剧场店"]
    assert names("我决定入住瑞洁宾舍民宿吧") == ["北京瑞洁宾舍民宿"]


def test_part_of_a_name_finds_every_hotel_having_it_in_database_order():
    assert names("汉庭") == ["汉庭酒店(北京站店)", "汉庭酒店(北京鼓楼店)"]
    assert names("万寿") == ["北京万寿宾馆", "北京万寿庄宾馆"]


def test_city_inside_a_name_does_not_hide_it():
    assert names("和颐酒店前门店") == ["和颐酒店北京前门店"]


def test_characters_in_order_close_together_find_a_name():
    assert names("山西大厦") == ["北京山西(金辇)大厦"]


def test_characters_spread_too_far_find_nothing():
    assert names("瑞馆") == [] and names("京宾馆店") == []


def test_width_and_brackets_do_not_matter():
    assert normalize_name("格林豪泰（北京前门店）") == normalize_name("格林豪泰(北京前门店)") == "格林豪泰北京前门店"
    assert names("格林豪泰(北京前门店)") == ["格林豪泰（北京前门店）"]


def test_empty_or_city_only_text_finds_nothing():
    assert names("") == [] and names(" () ") == [] and names("北京") == []
