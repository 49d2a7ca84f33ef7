"""agent.app.tui.booking_intent: 我决定入住X → which hotel to offer for booking."""

from __future__ import annotations

import pytest

from agent.app.tui.booking_intent import BookingIntent, booking_intent, resolve_hotel

SHOWN = [{"name": "速8酒店(北京前门大栅栏店)"}, {"name": "城市便捷酒店北京前门店"}]


@pytest.mark.parametrize(
    "text, name",
    [
        ("好的，我决定入住速8酒店(北京前门大栅栏店)。", "速8酒店(北京前门大栅栏店)"),
        ("好的，我决定入住山水时尚酒店(北京梨园店)了。", "山水时尚酒店(北京梨园店)"),
        ("好的，我愿意入住北京四季天成酒店。", "北京四季天成酒店"),
        ("好的，我愿意去城市便捷酒店北京前门店入住。", "城市便捷酒店北京前门店"),
        ("好的，那我就选择北京贵都大酒店入住了。", "北京贵都大酒店"),
        ("好的，我决定入住这个酒店了。", "这个酒店"),
    ],
)
def test_decisions_of_the_course_data_name_the_hotel(text, name):
    intent = booking_intent(text)
    assert intent is not None and intent.name == name


@pytest.mark.parametrize(
    "text",
    [
        "晚上我想找一个价格在200-300元之间的经济型酒店入住，帮我推荐一下吧。",
        "我想入住的酒店有wifi吗？",
        "帮我找一家评分4.5以上的酒店",
    ],
)
def test_searches_and_questions_are_not_decisions(text):
    assert booking_intent(text) is None


def test_only_decide_marks_a_clear_decision():
    assert booking_intent("我决定入住汉庭酒店").decided
    assert not booking_intent("我愿意入住汉庭酒店").decided


def test_this_hotel_is_the_only_hotel_shown():
    assert resolve_hotel(BookingIntent("这个酒店", True), SHOWN[:1], lambda _: []) == SHOWN[0]


def test_this_hotel_among_several_is_the_one_the_agent_named():
    reply = "推荐您城市便捷酒店北京前门店，价格实惠。"
    assert resolve_hotel(BookingIntent("这家酒店", True), SHOWN, lambda _: [], reply) == SHOWN[1]
    assert resolve_hotel(BookingIntent("这家酒店", True), SHOWN, lambda _: [], "两家都不错") is None


def test_a_shown_hotel_matches_by_part_of_its_name():
    assert resolve_hotel(BookingIntent("速8酒店", True), SHOWN, lambda _: []) == SHOWN[0]


def test_the_store_is_asked_for_hotels_not_shown():
    found = [{"name": "北京贵都大酒店"}]
    assert resolve_hotel(BookingIntent("北京贵都大酒店", True), SHOWN, lambda _: found) == found[0]


def test_a_short_name_fitting_many_hotels_is_no_choice():
    many = [{"name": "汉庭酒店(北京站店)"}, {"name": "汉庭酒店(西单店)"}]
    assert resolve_hotel(BookingIntent("汉庭", True), [], lambda _: many) is None
