"""The two variants of the rules backend: `rules` (the chat's, person first) and the harness-only `rules-course`
(the course data's habits), which differ only where a person and the course's dialogues disagree."""

from __future__ import annotations

import pytest
from rules_chat import Chat, open_chat

from agent.core.errors import UserError
from backends.registry import available, create
from backends.rules.backend import RulesBackend
from backends.rules.habits import COURSE, PERSON_FIRST

ASK = "帮我找一家价格在400到500元之间、评分4.5分以上的经济型酒店"


def chat_with(habits) -> Chat:
    chat = open_chat(RulesBackend(name="rules" if habits is PERSON_FIRST else "rules-course", habits=habits))
    chat.say(ASK)
    assert len(chat.table) == 3
    return chat


def test_the_course_variant_is_harness_only():
    assert "rules-course" not in [e.name for e in available(chat_only=True)]
    assert "rules-course" in [e.name for e in available()]
    with pytest.raises(UserError):
        create("rules-course", chat_only=True)


def test_the_course_variant_keeps_the_course_habits_and_says_so_in_its_signature():
    backend = create("rules-course")
    assert isinstance(backend, RulesBackend) and backend.habits == COURSE
    assert backend.signature()["habits"] != create("rules").signature()["habits"]


def test_the_course_variant_takes_no_model_options():
    with pytest.raises(UserError, match="rules-course.*--device"):
        create("rules-course", device="cpu")


def test_the_chat_backend_puts_the_person_first():
    assert create("rules").habits == PERSON_FIRST


@pytest.mark.parametrize("habits, books", [(PERSON_FIRST, True), (COURSE, False)])
def test_a_decision_by_name_starts_booking_only_person_first(own_cache, habits, books):
    chat = chat_with(habits)
    reply = chat.say(f"好，那就定{chat.table[1]['name']}了")
    assert ("请问入住人姓名" in reply) == books and bool(chat.corrected()) != books
    assert chat.proposals == [] and chat.booked() == []


def test_the_course_farewell_to_a_decision_is_corrected_by_the_loop(own_cache):
    chat = chat_with(COURSE)
    reply = chat.say(f"我决定入住{chat.table[0]['name']}")
    assert chat.corrected() and "入住愉快" not in reply and chat.booked() == []


@pytest.mark.parametrize("habits", [PERSON_FIRST, COURSE])
def test_a_decision_by_row_number_books_in_both(own_cache, habits):
    chat = chat_with(habits)
    chat.say("我决定入住第三家，12月2日入住一晚，名字王芳")
    assert [b.hotel_name for b in chat.booked()] == [chat.table[2]["name"]]


@pytest.mark.parametrize("habits, searches", [(PERSON_FIRST, False), (COURSE, True)])
def test_a_facility_question_about_the_hotel_in_focus_is_answered_only_person_first(own_cache, habits, searches):
    chat = chat_with(habits)
    chat.say("第三家的地址在哪？")
    chat.say("这家有会议室吗？")
    assert bool(chat.searches) == searches


@pytest.mark.parametrize("habits, searches", [(PERSON_FIRST, False), (COURSE, True)])
def test_a_type_question_about_a_counted_hotel_is_answered_only_person_first(own_cache, habits, searches):
    chat = chat_with(habits)
    chat.say("第二家是舒适型的吗？")
    assert bool(chat.searches) == searches


@pytest.mark.parametrize("habits", [PERSON_FIRST, COURSE])
def test_a_facility_question_counting_the_hotel_is_answered_in_both(own_cache, habits):
    chat = chat_with(habits)
    chat.say("第一家有会议室吗？")
    assert chat.searches == []
