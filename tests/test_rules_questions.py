"""Questions about a shown hotel's facilities, answered yes or no from its own record (naming the facility it
has), with no new search; a question asking for other hotels is still a search."""

from __future__ import annotations

import pytest
from rules_chat import Chat, open_chat

from backends.rules.facility_check import facility_answer, offered


@pytest.fixture
def chat(own_cache) -> Chat:
    chat = open_chat()
    chat.say("帮我找一家价格在400到500元之间、评分4.5分以上的经济型酒店")
    assert chat.table[0]["name"] == "雅悦酒店(北京西直门店)"
    return chat


def test_a_named_hotel_without_the_facility_is_answered_no(chat):
    assert "健身房" not in chat.table[0]["facilities"]
    reply = chat.say("雅悦酒店有没有健身房")
    assert reply.startswith("抱歉") and "没有健身房" in reply and chat.searches == []


def test_a_named_hotel_with_the_facility_is_answered_yes_naming_its_own(chat):
    reply = chat.say("雅悦酒店有wifi吗？")
    assert reply.startswith("是的") and "部分房间提供wifi" in reply and chat.searches == []


def test_a_counted_hotel_is_answered_from_its_row(chat):
    second = chat.table[1]
    reply = chat.say("第二家有没有早餐？")
    assert second["name"] in reply and chat.searches == []
    assert ("早餐服务" in reply) == ("早餐服务" in second["facilities"])


def test_the_first_hotel_counted_as_tou_yi_jia_is_answered_from_its_row(chat):
    first = chat.table[0]
    reply = chat.say("头一家带不带停车场？")
    assert first["name"] in reply and chat.searches == []


def test_two_facilities_are_both_answered(chat):
    reply = chat.say("第一家有会议室和健身房吗？")
    assert "会议室" in reply and "没有健身房" in reply


def test_asking_for_hotels_with_a_facility_is_a_search(chat):
    chat.say("有没有带健身房的酒店？")
    assert chat.searches and chat.searches[0]["facilities"] == ["健身房"]


WIFI_EVERYWHERE = {"name": "北京甲乙酒店", "facilities": ["酒店各处提供wifi", "早餐服务免费", "残疾人设施"]}
NOTHING = {"name": "北京丙丁饭店", "facilities": ["吹风机"]}


@pytest.mark.parametrize(
    "phrase, facility",
    [
        ("免费wifi", "酒店各处提供wifi"),
        ("无线网络", "酒店各处提供wifi"),
        ("早餐", "早餐服务免费"),
        ("无障碍设施", "残疾人设施"),
    ],
)
def test_what_people_ask_for_maps_to_the_records_facility(phrase, facility):
    assert offered(WIFI_EVERYWHERE, phrase) == facility


@pytest.mark.parametrize("phrase", ["健身房", "室外游泳池", "免费wifi", "停车"])
def test_a_record_without_it_offers_nothing(phrase):
    assert offered(NOTHING, phrase) is None


def test_which_hotels_have_it_names_each_and_those_without():
    reply = facility_answer(["早餐"], [WIFI_EVERYWHERE, NOTHING], "哪家有早餐？")
    assert reply == "北京甲乙酒店提供早餐服务免费，北京丙丁饭店没有早餐。"


def test_a_facility_asked_with_where_it_is_is_still_that_facility(chat):
    third = chat.table[2]
    reply = chat.say("第三家房间里有吹风机吗")
    assert ("吹风机" in third["facilities"]) == reply.startswith("是的") and "第三家" not in reply


def test_a_question_ending_in_bu_is_answered_not_searched(chat):
    second = chat.table[1]
    reply = chat.say("第二家能提供早餐不")
    assert chat.searches == [] and second["name"] in reply
    assert ("早餐" in reply and "没有" not in reply) == any("早餐" in f for f in second["facilities"])


def test_which_one_has_it_without_a_question_mark_names_each(chat):
    reply = chat.say("这三个当中哪个带会议室")
    assert chat.searches == [] and all(r["name"] in reply for r in chat.table)


def test_the_price_of_a_hotel_without_one_is_said_to_be_unknown(own_cache):
    chat = open_chat()
    chat.say("帮我找找锦江之星")
    row = next(i for i, r in enumerate(chat.table) if not (r.get("price") or 0) > 0)
    reply = chat.say(f"第{'一二三'[row]}家住一晚要花多少")
    assert "暂无价格信息" in reply and chat.table[row]["name"] in reply and chat.table[row]["type"] not in reply


def test_several_facts_say_which_one_a_record_lacks():
    from backends.rules.facts import each_row

    reply = each_row(("phone", "price"), [{"name": "甲酒店", "phone": "010-1", "price": -1.0}])
    assert reply == "甲酒店的电话是010-1，暂无价格信息。"


def test_a_facility_question_about_a_hotel_not_shown_finds_it_and_answers(own_cache):
    chat = open_chat()
    reply = chat.say("北京饭店可以停车吗？地址在哪")
    assert chat.searches == [{"name": "北京饭店"}]
    record = chat.table[0]
    assert record["address"] in reply
    assert ("停车位" in reply and "没有" not in reply) == ("收费停车位" in record["facilities"])


def test_a_count_of_days_brand_gets_its_own_rows_answer(own_cache):
    chat = open_chat()
    chat.say("经济型的酒店有哪些")
    row = next(i for i, r in enumerate(chat.table) if r["name"].startswith("7天"))
    others = [r["name"] for i, r in enumerate(chat.table) if i != row]
    reply = chat.say("7天那个有没有叫醒服务")
    assert chat.table[row]["name"] in reply and not any(name in reply for name in others)


def test_which_district_of_a_counted_hotel_is_its_address_not_a_comparison(chat):
    last = chat.table[-1]
    reply = chat.say("最后一家在哪个区呀？")
    assert reply.startswith(last["name"]) and last["address"] in reply
