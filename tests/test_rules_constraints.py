"""Changing constraints in the middle of a conversation: the next search is the previous one with the change the
user meant (价格不限 drops the price, 换成高档型 changes the type, 不要求X drops X), nothing else lost."""

from __future__ import annotations

import pytest
from rules_chat import open_chat

from backends.rules.relaxations import lifted


@pytest.mark.parametrize("text", ["价格不限", "不限价格", "价格无所谓", "多贵都行"])
def test_lifting_the_price_drops_the_price_bounds(own_cache, text):
    chat = open_chat()
    chat.say("帮我找一家价格在300到500元之间的经济型酒店")
    chat.say(text)
    assert chat.searches == [{"type": "经济型"}]


def test_lifting_the_rating_drops_the_rating_bounds(own_cache):
    chat = open_chat()
    chat.say("帮我找一家评分4.5分以上的舒适型酒店")
    chat.say("评分无所谓")
    assert chat.searches == [{"type": "舒适型"}]


def test_lifting_what_was_never_asked_says_so_without_searching(own_cache):
    chat = open_chat()
    chat.say("帮我找一家舒适型酒店")
    assert "本来就没有评分" in chat.say("评分无所谓") and chat.searches == []


def test_changing_the_type_keeps_the_other_constraints(own_cache):
    chat = open_chat()
    chat.say("帮我找一家评分4.5分以上的经济型酒店")
    chat.say("换成高档型")
    assert chat.searches == [{"type": "高档型", "rating_range_lower": 4.5}]


def test_refusing_a_type_and_naming_another_changes_it(own_cache):
    chat = open_chat()
    chat.say("帮我找一家经济型酒店")
    chat.say("不要经济型了，换成舒适型")
    assert chat.searches == [{"type": "舒适型"}]


def test_no_longer_requiring_a_facility_drops_only_it(own_cache):
    chat = open_chat()
    chat.say("帮我找一家有无线网络和叫醒服务的酒店")
    chat.say("不要求无线网络了")
    assert chat.searches == [{"facilities": ["叫醒服务"]}]


def test_only_what_the_search_holds_is_lifted():
    assert lifted("价格不限", {"type": "经济型"}).keys == frozenset()
    assert lifted("价格不限", {"price_range_upper": 500}).keys == {"price_range_upper"}


def test_a_facility_named_before_it_is_dropped_is_dropped(own_cache):
    chat = open_chat()
    chat.say("要有健身房和游泳池的高档型酒店")
    chat.say("游泳池不要求了")
    assert chat.searches == [{"type": "高档型", "facilities": ["健身房"]}]
