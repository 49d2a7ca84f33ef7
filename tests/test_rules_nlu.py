"""The rules backend's understanding of one message, one pattern family per test."""

from __future__ import annotations

import pytest

from backends.rules.lexicon import Lexicon, chain_brands, facility_heads, load_lexicon
from backends.rules.nlu import find_facilities, find_name, find_type, understand
from backends.rules.numbers import chinese_to_number, parse_price, parse_rating


@pytest.fixture(scope="module")
def lexicon():
    return load_lexicon()


@pytest.mark.parametrize("text, value", [("五百", 500), ("一千二", 1200), ("十五", 15), ("两百", 200), ("四", 4)])
def test_chinese_numerals_become_numbers(text, value):
    assert chinese_to_number(text) == value


@pytest.mark.parametrize(
    "text, lower, upper",
    [
        ("找一家最低价格是500-600元的酒店", 500, 600),
        ("价格在七百到八百之间的酒店", 700, 800),
        ("帮我找个五六百块钱左右的酒店", 500, 600),
        ("价格五百多的酒店", 500, 600),
    ],
)
def test_price_ranges_give_both_bounds(text, lower, upper):
    bounds = parse_price(text)
    assert (bounds.lower, bounds.upper) == (lower, upper)


@pytest.mark.parametrize(
    "text, upper",
    [("300元以下的酒店", 300), ("价格不超过400的酒店", 400), ("价格在400以内", 400), ("价格比900低的酒店", 900)],
)
def test_price_caps_give_an_upper_bound(text, upper):
    assert parse_price(text).upper == upper and parse_price(text).lower is None


@pytest.mark.parametrize(
    "text, lower", [("价格在400元以上的酒店", 400), ("价格不低于600的酒店", 600), ("有价格比700高的酒店吗", 700)]
)
def test_price_floors_give_a_lower_bound(text, lower):
    assert parse_price(text).lower == lower and parse_price(text).upper is None


def test_small_numbers_are_not_prices():
    assert parse_price("评分4.5分以上的酒店") is None


@pytest.mark.parametrize(
    "text, lower, upper",
    [
        ("评分4.5分以上的酒店", 4.5, None),
        ("评分是5分的酒店", 5.0, 5.0),
        ("评分四分半以上", 4.5, None),
        ("评分在4.5以上的", 4.5, None),
        ("有健身房服务的4分酒店", 4.0, None),
    ],
)
def test_ratings(text, lower, upper):
    bounds = parse_rating(text)
    assert (bounds.lower, bounds.upper) == (lower, upper)


@pytest.mark.parametrize(
    "text, hotel_type",
    [("经济型酒店", "经济型"), ("舒适的酒店", "舒适型"), ("高档酒店", "高档型"), ("豪华的", "豪华型")],
)
def test_type_phrasings(text, hotel_type):
    assert find_type(text) == hotel_type


def test_facilities_are_extracted_as_the_user_wrote_them(lexicon):
    assert find_facilities("有没有提供无烟房和叫醒服务的酒店", lexicon) == ["无烟房", "叫醒服务"]


@pytest.mark.parametrize("text, phrase", [("要有免费停车", "免费停车"), ("想要收费停车位", "收费停车位")])
def test_a_modifier_is_kept_whole_so_free_parking_is_not_read_as_paid(lexicon, text, phrase):
    assert find_facilities(text, lexicon) == [phrase]


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
    assert slots == {
        "type": "舒适型",
        "facilities": ["无烟房"],
        "price_range_lower": 300.0,
        "price_range_upper": 400.0,
        "rating_range_lower": 4.5,
    }


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


def _tiny_lexicon(phrases: list[str], heads: list[str] = (), db_facilities: list[str] = ()) -> Lexicon:
    return Lexicon(
        facility_phrases=phrases, facility_heads=list(heads), db_facilities=list(db_facilities), names=[], db_names=[]
    )


def test_a_database_name_gives_its_noun_as_a_head():
    assert {"早餐", "游泳池", "市内电话"} <= set(facility_heads([], ["早餐服务", "室内游泳池", "免费市内电话"], []))


def test_a_noun_shared_by_two_mined_phrases_is_a_head():
    heads = facility_heads(["部分房间有无线网络", "公共区域和部分房间提供无线网络"], [], [])
    assert "无线网络" in heads


def test_a_noun_of_a_single_mined_phrase_is_not_a_head():
    assert "无线网络" not in facility_heads(["部分房间有无线网络"], [], [])


def test_a_head_train_users_mostly_mean_otherwise_is_dropped():
    searches = [("把地址、电话一起告诉我", []), ("找个免费电话的酒店", ["免费电话"])]
    assert "电话" not in facility_heads(["免费电话服务", "免费电话"], [], searches)


def test_bare_modifiers_are_not_heads():
    heads = facility_heads(["免费供应早餐", "免费提供早餐"], ["24小时热水", "早餐服务免费"], [])
    assert not {"免费", "24小时", "服务"} & set(heads)


def test_a_head_inside_longer_train_phrases_is_found(lexicon):
    assert understand("要有无线网络", lexicon, []).slots == {"facilities": ["无线网络"]}


def test_a_head_comes_with_the_other_slots(lexicon):
    assert understand("帮我找一家有无线网络的经济型酒店", lexicon, []).slots == {
        "type": "经济型",
        "facilities": ["无线网络"],
    }


def test_the_noun_of_a_database_facility_is_found(lexicon):
    assert find_facilities("想要一个能吃早餐、有健身房的高档酒店", lexicon) == ["早餐", "健身房"]


def test_the_users_longer_noun_wins_over_a_mined_piece_of_it(lexicon):
    assert find_facilities("有没有带游泳池的豪华酒店", lexicon) == ["游泳池"]


def test_a_match_grows_left_over_characters_of_a_known_phrase():
    lexicon = _tiny_lexicon(["泳池"], db_facilities=["室内游泳池"])
    assert find_facilities("有没有带游泳池的酒店", lexicon) == ["游泳池"]


def test_a_match_does_not_grow_over_request_words():
    lexicon = _tiny_lexicon(["wifi"], db_facilities=["公共区域提供wifi"])
    assert find_facilities("要提供wifi的酒店", lexicon) == ["wifi"]


def test_a_modifier_before_a_head_stays_in_the_phrase(lexicon):
    assert find_facilities("有免费早餐的酒店", lexicon) == ["免费早餐"]


def test_a_place_noun_after_a_head_stays_in_the_phrase(lexicon):
    assert find_facilities("有洗衣房的酒店", lexicon) == ["洗衣房"]


def test_service_after_a_facility_is_left_out_as_the_data_does(lexicon):
    assert find_facilities("要有热水和按摩服务的", lexicon) == ["热水", "按摩"]


def test_a_longer_train_phrase_wins_over_its_head(lexicon):
    assert find_facilities("部分房间有无线网络", lexicon) == ["部分房间有无线网络"]


@pytest.mark.parametrize(
    "text, facility", [("找一个可以停车的酒店", "停车"), ("有宽带吗", "宽带"), ("能打国际长途的酒店", "国际长途")]
)
def test_the_activity_a_facility_serves_is_a_head(lexicon, text, facility):
    assert find_facilities(text, lexicon) == [facility]


def test_facilities_match_whatever_the_ascii_case(lexicon):
    assert find_facilities("有WiFi吗", lexicon) == ["WiFi"]


def test_asking_for_a_shown_hotels_phone_is_not_a_facility(lexicon):
    result = understand("这家酒店的电话是多少？", lexicon, [{"name": "北京京仪大酒店"}])
    assert "facilities" not in result.slots and result.attributes == ("phone",)


def test_a_phrase_without_its_trailing_service_is_a_head():
    assert "机场接送" in facility_heads(["机场接送服务"], [], [])


def test_a_request_verb_before_a_facility_is_not_scope(lexicon):
    assert find_facilities("房间要有吹风机", lexicon) == ["吹风机"]


def test_a_chain_shared_by_several_hotels_gives_its_brand():
    assert "全季" in chain_brands(["全季酒店(北京朝阳门店)", "全季酒店(北京东单店)"])


def test_a_single_hotel_gives_no_brand():
    assert not chain_brands(["北京饭店", "北京泰山饭店(王府井店)"])


def test_a_numeric_brand_is_not_a_name():
    assert "99" not in chain_brands(["99旅馆连锁(北京西站店)", "99旅馆连锁(北京南站店)"])


def test_a_chain_brand_alone_is_a_name_request(lexicon):
    assert understand("我想住全季", lexicon, []).slots == {"name": "全季"}


@pytest.mark.parametrize("text, upper", [("价格1k以内", 1000), ("价格1.5k以下", 1500), ("预算八百", 800)])
def test_arabic_thousands_and_budgets_give_an_upper_bound(text, upper):
    assert (parse_price(text).lower, parse_price(text).upper) == (None, upper)


def test_not_lower_than_is_a_floor():
    assert (parse_price("价格不要低于300").lower, parse_price("价格不要低于300").upper) == (300, None)


@pytest.mark.parametrize(
    "text, lower", [("要四星半以上的", 4.5), ("评分不要低于四点五", 4.5), ("评分四点五分以上", 4.5)]
)
def test_spoken_half_points_and_decimals_in_ratings(text, lower):
    assert (parse_rating(text).lower, parse_rating(text).upper) == (lower, None)


def test_a_numeral_inside_a_word_is_not_a_rating():
    assert parse_rating("评分一般就行") is None


def test_rating_below_a_bare_number_is_a_cap():
    assert (parse_rating("评分低于4").lower, parse_rating("评分低于4").upper) == (None, 4)


def test_a_declined_facility_is_not_a_constraint(lexicon):
    assert find_facilities("不需要早餐，要有健身房", lexicon) == ["健身房"]


@pytest.mark.parametrize(
    "text, hotel_type",
    [("想找家快捷酒店", "经济型"), ("四星级的就行", "高档型"), ("来个三星的", "舒适型"), ("要住五星酒店", "豪华型")],
)
def test_class_words_mean_the_databases_types(lexicon, text, hotel_type):
    from backends.rules.nlu import constraint_slots

    slots = constraint_slots(text, lexicon)
    assert slots.get("type") == hotel_type and "rating_range_lower" not in slots


def test_stars_with_a_rating_word_stay_a_rating(lexicon):
    from backends.rules.nlu import constraint_slots

    assert constraint_slots("评分要4星以上", lexicon) == {"rating_range_lower": 4.0}
    assert constraint_slots("四点五星以上的", lexicon) == {"rating_range_lower": 4.5}


def test_a_budget_chains_own_name_sets_no_type(lexicon):
    from backends.rules.nlu import constraint_slots

    assert "type" not in constraint_slots("如家快捷酒店(北京上地店)的电话", lexicon)


def test_asking_what_a_hotel_is_called_names_no_hotel(lexicon):
    assert find_name("评分最低的那个叫什么名字", lexicon) is None


def test_a_facility_question_about_a_named_hotel_searches_that_hotel(lexicon):
    understanding = understand("北京饭店能游泳吗？", lexicon, [])
    assert understanding.slots == {"name": "北京饭店"} and understanding.facility_question


def test_hotels_with_a_facility_near_a_named_hotel_are_still_a_search(lexicon):
    assert "facilities" in understand("北京饭店附近有没有带健身房的酒店", lexicon, []).slots


def test_a_shown_hotel_named_without_the_city_is_mentioned_even_with_a_bracket_inside(lexicon):
    shown = [{"name": "北京山西(金辇)大厦"}]
    assert understand("山西(金辇)大厦的电话是多少", lexicon, shown).shown_mentions == (0,)


def test_a_shown_hotel_named_by_its_branch_as_written_is_mentioned(lexicon):
    shown = [{"name": "7天连锁酒店(北京首都机场店)"}]
    assert understand("北京首都机场店的电话是多少", lexicon, shown).shown_mentions == (0,)


def test_a_branch_without_its_city_only_points_at_a_row_and_is_no_mention(lexicon):
    # backends.rules.references resolves it; the reply then names the hotel it took.
    shown = [{"name": "7天连锁酒店(北京首都机场店)"}]
    assert understand("首都机场店的电话是多少", lexicon, shown).shown_mentions == ()
