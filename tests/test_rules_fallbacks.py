"""Honest fallbacks: what the rules cannot read gets a short clarifying question (never a goodbye, never a search
made up from nothing), and a message in another language one line saying the agent speaks Chinese."""

from __future__ import annotations

import pytest
from rules_chat import Chat, open_chat

from agent.core.codecs import read_dialogues
from agent.core.datafiles import data_path
from agent.core.turns import Dialogue, UserTurn
from backends.rules.backend import RulesBackend
from backends.rules.fallbacks import (
    CHINESE_ONLY,
    CLARIFY,
    GREETING,
    OUT_OF_SCOPE,
    not_chinese,
    out_of_scope,
    understood,
)
from backends.rules.nlu import understand
from backends.rules.references import points_at_one, resolve


@pytest.fixture
def chat(own_cache) -> Chat:
    chat = open_chat()
    chat.say("帮我找一家有wifi的经济型酒店")
    return chat


@pytest.mark.parametrize("text", ["哈哈哈哈嗯嗯嗯", "？？？", "12345", "今天天气怎么样"])
def test_a_message_about_nothing_gets_a_clarifying_question(chat, text):
    assert chat.say(text) == CLARIFY and chat.searches == []


def test_the_clarifying_question_is_no_goodbye_and_keeps_the_search(chat):
    before = chat.dialogue.last_search()
    chat.say("哈哈哈哈嗯嗯嗯")
    assert "再见" not in chat.replies[-1].content and "愉快" not in chat.replies[-1].content
    chat.say("有没有评分4.5以上的？")
    assert chat.searches[0]["type"] == before["type"]


def test_a_first_message_about_nothing_searches_nothing(own_cache):
    chat = open_chat()
    assert chat.say("嗯嗯嗯") == CLARIFY and chat.searches == []


def test_a_greeting_is_greeted_with_an_example(own_cache):
    chat = open_chat()
    assert chat.say("你好") == GREETING and chat.searches == []


@pytest.mark.parametrize("text", ["hello, can you help me?", "I need a hotel in Beijing", "asdfgh"])
def test_a_message_in_another_language_gets_the_chinese_only_line(chat, text):
    assert chat.say(text) == CHINESE_ONLY and chat.searches == []


def test_wifi_inside_chinese_is_still_chinese(own_cache):
    chat = open_chat()
    chat.say("帮我找一家有WiFi和SPA的酒店")
    assert chat.searches and chat.searches[0]["facilities"]


@pytest.mark.parametrize("text", ["wifi", "SPA?", "ok"])
def test_facility_words_alone_are_not_a_foreign_language(text):
    assert not not_chinese(text)


@pytest.mark.parametrize("text", ["能帮我买两张高铁票吗", "帮我订个明晚的餐厅位子"])
def test_other_travel_is_declined_honestly_with_no_search(own_cache, text):
    chat = open_chat()
    assert chat.say(text) == OUT_OF_SCOPE and chat.searches == [] and chat.proposals == []


def test_other_travel_mentioned_in_a_hotel_request_is_still_a_hotel_request():
    assert not out_of_scope("我的航班很晚到，酒店能接机吗")


def test_no_user_message_of_the_course_train_split_is_out_of_scope():
    # (test has one, 请帮忙找一个门票在100-150元…的景点: an attraction, which the agent cannot find either)
    for dialogue in read_dialogues(data_path("hotel/train.glm4.jsonl")):
        assert not [t.content for t in dialogue.turns if isinstance(t, UserTurn) and out_of_scope(t.content)]


def test_every_user_message_of_the_course_test_split_is_understood():
    # The course's users always talk about hotels: none of them may get the clarifying question.
    lexicon = RulesBackend().lexicon
    missed = []
    for dialogue in read_dialogues(data_path("hotel/test.glm4.jsonl")):
        for i, turn in enumerate(dialogue.turns):
            if isinstance(turn, UserTurn):
                so_far = Dialogue(dialogue.turns[: i + 1])
                understanding = understand(turn.content, lexicon, so_far.shown_records())
                pointed = resolve(turn.content, so_far).explicit or points_at_one(turn.content)
                if not_chinese(turn.content) or not understood(turn.content, understanding, pointed):
                    missed.append(turn.content)
    assert missed == []
