"""agent.core.hotel_names: the rules for the short names people use (match_names, on a small made-up list) and
how a name is taken apart (short_forms, without_city, main_name, branch_of)."""

from __future__ import annotations

from agent.core.hotel_names import branch_of, main_name, match_names, normalize_name, short_forms, without_city

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


# ---- taking a name apart: the one definition every backend and index uses ----------------------------


def test_without_city_drops_a_leading_city_only():
    assert without_city("北京泰山饭店") == "泰山饭店"
    assert without_city("老北京炸酱面") == "老北京炸酱面"


def test_without_city_anywhere_drops_the_city_inside_a_normalized_branch():
    assert without_city("和颐酒店北京前门店", anywhere=True) == "和颐酒店前门店"


def test_without_city_keeps_a_name_that_would_be_left_too_short():
    assert without_city("北京站", shortest_rest=2) == "北京站"
    assert without_city("北京西站", shortest_rest=2) == "西站"


def test_main_name_and_branch_split_a_name_at_its_bracket():
    assert main_name("速8酒店(北京前门大栅栏店)") == "速8酒店"
    assert branch_of("速8酒店(北京前门大栅栏店)") == "北京前门大栅栏店"
    assert branch_of("北京饭店") == ""


def test_main_name_of_a_name_in_brackets_only_is_the_name():
    assert main_name("（北京站店）") == "（北京站店）"


def test_short_forms_are_the_name_and_its_main_name_with_and_without_the_city():
    assert short_forms("北京泰山饭店(王府井店)") == [
        "北京泰山饭店(王府井店)",
        "泰山饭店(王府井店)",
        "北京泰山饭店",
        "泰山饭店",
    ]


def test_short_forms_leave_out_the_branch_and_brand_unless_asked():
    plain = short_forms("速8酒店(北京前门大栅栏店)")
    full = short_forms("速8酒店(北京前门大栅栏店)", branch=True, brands=True)
    assert "前门大栅栏店" not in plain and "速8" not in plain
    assert {"北京前门大栅栏店", "前门大栅栏店", "速8"} <= set(full)


def test_a_brand_left_after_dropping_the_city_must_name_one_hotel():
    assert "国际" not in short_forms("北京国际饭店", brands=True)
    assert "龙鼎华鼎云" in short_forms("北京龙鼎华鼎云酒店", brands=True)


def test_short_forms_drop_forms_shorter_than_asked():
    assert all(len(form) >= 3 for form in short_forms("汉庭酒店(西单店)", branch=True, brands=True, shortest=3))
    assert "汉庭" in short_forms("汉庭酒店(西单店)", branch=True, brands=True)


def test_short_forms_come_longest_first_in_a_fixed_order():
    forms = short_forms("7天连锁酒店(北京首都机场店)", branch=True, brands=True)
    assert forms == sorted(forms, key=lambda form: (-len(form), form))
