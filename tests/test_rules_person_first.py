"""The person-first policy (this branch): every decision starts booking, every yes/no question about the shown
hotels is answered from their records. Each costs course-metric points the main branch does not pay (see
docs/chat.md)."""

from __future__ import annotations

import pytest
from rules_chat import Chat, open_chat


@pytest.fixture
def chat(own_cache) -> Chat:
    chat = open_chat()
    chat.say("我想找一家经济型酒店，要有无线网络")
    assert len(chat.table) == 3
    return chat


@pytest.mark.parametrize("said", ["好的，我愿意入住{name}。", "那就选{name}吧", "我决定入住{name}了"])
def test_deciding_on_a_named_hotel_starts_booking_it(chat, said):
    second = chat.table[1]["name"]
    reply = chat.say(said.format(name=second))
    assert "入住人姓名" in reply and "入住愉快" not in reply
    chat.say("张三，12月1日，两晚")
    assert [b.hotel_name for b in chat.booked()] == [second]


@pytest.fixture
def asked(own_cache) -> Chat:
    chat = open_chat()
    chat.say("帮我找一家价格在400到500元之间、评分4.5分以上的经济型酒店")
    return chat


def test_this_hotel_is_answered_about_the_hotel_in_focus(asked):
    asked.say("第二家的电话是多少？")
    reply = asked.say("这家有没有健身房？")
    assert asked.searches == [] and ("没有" in reply) == ("健身房" not in asked.table[1]["facilities"])


def test_a_facility_question_pointing_at_no_hotel_is_answered_for_every_row(asked):
    reply = asked.say("酒店有叫醒服务吗？")
    assert asked.searches == [] and all(r["name"] in reply for r in asked.table)


def test_a_rating_question_about_a_named_hotel_is_answered(asked):
    asked.say("雅悦酒店的评分是4.5分以上吗？")
    assert asked.searches == []
