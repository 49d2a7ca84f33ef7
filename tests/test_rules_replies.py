"""The rules backend's decisions (search or reply, with the data's carried state) and its replies, one
reply kind per test. Every reply must be grounded in the records in context."""

from __future__ import annotations

import re

import pytest

from agent.core.turns import AssistantTurn, Dialogue, ReturnTurn, SearchTurn, UserTurn
from backends.rules.backend import RulesBackend
from backends.rules.nlg import facility_answer
from backends.rules.state import update_state


def record(name, **fields):
    base = {
        "name": name,
        "type": "经济型",
        "address": "北京东城区某路1号",
        "subway": "东直门地铁站A口",
        "phone": "010-12345678",
        "facilities": ["吹风机", "无烟房", "叫醒服务"],
        "price": 300.0,
        "rating": 4.5,
        "hotel_id": 1,
    }
    base.update(fields)
    return base


A = record("北京甲乙酒店", price=300.0, rating=4.5, phone="010-11111111")
B = record("北京丙丁饭店", price=500.0, rating=4.8, phone="010-22222222", facilities=["健身房"])


@pytest.fixture(scope="module")
def backend():
    return RulesBackend()


def after_search(*records, arguments=None, user="找一家经济型酒店"):
    return Dialogue([UserTurn(user), SearchTurn(arguments or {"type": "经济型"}), ReturnTurn(list(records))])


def reply(backend, dialogue):
    turn = backend.next_turn(dialogue)
    assert isinstance(turn, AssistantTurn), f"expected a reply, got {turn}"
    return turn.content


def test_a_first_request_is_a_search(backend):
    turn = backend.next_turn(Dialogue([UserTurn("帮我找一家经济型酒店")]))
    assert turn == SearchTurn({"type": "经济型"})


def test_a_new_constraint_searches_with_the_earlier_ones_carried(backend):
    dialogue = after_search(A).with_turn(AssistantTurn("推荐您去北京甲乙酒店。"), UserTurn("评分要4.5分以上的"))
    assert backend.next_turn(dialogue) == SearchTurn({"type": "经济型", "rating_range_lower": 4.5})


def test_new_facilities_replace_the_old_list():
    assert update_state({"facilities": ["无烟房"], "type": "经济型"}, {"facilities": ["棋牌室"]}) == {
        "facilities": ["棋牌室"],
        "type": "经济型",
    }


def test_a_question_about_a_shown_hotel_is_answered_without_searching(backend):
    dialogue = after_search(A).with_turn(AssistantTurn("推荐您去北京甲乙酒店。"), UserTurn("这家酒店的电话是多少？"))
    assert "010-11111111" in reply(backend, dialogue)


def test_recommending_one_hotel_names_it(backend):
    assert "北京甲乙酒店" in reply(backend, after_search(A))


def test_recommending_several_hotels_names_each(backend):
    text = reply(backend, after_search(A, B))
    assert "北京甲乙酒店" in text and "北京丙丁饭店" in text


def test_an_empty_result_is_said_honestly(backend):
    text = reply(backend, after_search())
    assert re.search(r"没有|抱歉|不好意思", text)


def test_a_relaxed_result_is_said_honestly(backend):
    dialogue = after_search(B, arguments={"type": "经济型", "rating_range_lower": 4.9})
    text = reply(backend, dialogue)
    assert "北京丙丁饭店" in text and re.search(r"抱歉|不好意思|没有|但|不过|只是|稍", text)


def test_comparing_ratings_names_the_higher_one_as_higher(backend):
    dialogue = after_search(A, B).with_turn(
        AssistantTurn("推荐您去北京甲乙酒店和北京丙丁饭店。"), UserTurn("这两家哪个评分更高？")
    )
    text = reply(backend, dialogue)
    assert "4.8" in text and "北京丙丁饭店" in text


def test_a_facility_question_about_the_hotel_shown_is_answered_not_searched(backend):
    # In train, "这家酒店有X吗" after results is a search with X more often than a reply; a person wants the answer.
    dialogue = after_search(B).with_turn(AssistantTurn("推荐您去北京丙丁饭店。"), UserTurn("这家酒店有健身房吗？"))
    assert backend.next_turn(dialogue) == AssistantTurn("是的，这家酒店提供健身房。")


def test_a_facility_answer_comes_from_the_records_own_list():
    assert facility_answer(["健身房"], [B], "这家有健身房吗") == "是的，这家酒店提供健身房。"
    assert re.search("没有", facility_answer(["健身房"], [A], "这家有健身房吗"))


def test_a_choice_starts_booking_instead_of_a_farewell(backend):
    dialogue = after_search(A).with_turn(
        AssistantTurn("推荐您去北京甲乙酒店。"), UserTurn("好的，我决定入住北京甲乙酒店了。")
    )
    text = reply(backend, dialogue)
    assert "入住人姓名" in text and "入住愉快" not in text


def test_thanks_get_a_closing_without_a_search_that_presumes_no_booking(backend):
    dialogue = after_search(A).with_turn(AssistantTurn("推荐您去北京甲乙酒店。"), UserTurn("谢谢，再见"))
    text = reply(backend, dialogue)
    assert "再见" in text and "入住愉快" not in text


def test_replies_never_name_a_hotel_outside_the_records(backend):
    text = reply(backend, after_search(A, B))
    rest = text.replace(A["name"], "").replace(B["name"], "")
    assert rest != text and not re.search(r"[\u4e00-\u9fff]{2,}(?:酒店|饭店|宾馆)", rest)


def test_the_datas_added_follow_up_question_is_answered_not_searched(backend):
    # "这家酒店有没有X？" is how the data's added follow-ups read; it answers them from the record.
    dialogue = after_search(B).with_turn(AssistantTurn("推荐您去北京丙丁饭店。"), UserTurn("这家酒店有没有健身房？"))
    assert reply(backend, dialogue) == "是的，这家酒店提供健身房。"


def test_a_restated_constraint_searches_again(backend):
    dialogue = after_search(A).with_turn(
        AssistantTurn("推荐您去北京甲乙酒店。"), UserTurn("那就帮我推荐一家经济型的酒店吧")
    )
    assert backend.next_turn(dialogue) == SearchTurn({"type": "经济型"})


def test_a_follow_up_search_that_finds_nothing_answers_about_the_shown_hotel(backend):
    dialogue = after_search(A).with_turn(
        AssistantTurn("推荐您去北京甲乙酒店。"),
        UserTurn("这家酒店的评分是4.8分以上吗？"),
        SearchTurn({"type": "经济型", "rating_range_lower": 4.8}),
        ReturnTurn([]),
    )
    text = reply(backend, dialogue)
    assert "4.5" in text and not text.startswith(("是的", "有的"))


def test_the_template_choosers_bleu_equals_nltk():
    from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu

    from backends.rules.nlg import _bleu4, _ngrams

    pairs = [
        ("推荐您去北京甲乙酒店。", "为您推荐北京甲乙酒店。"),
        ("好的，祝您入住愉快！", "好的"),
        ("抱歉", "没有找到"),
    ]
    for ref, hyp in pairs:
        expected = sentence_bleu([list(ref)], list(hyp), smoothing_function=SmoothingFunction().method3)
        assert abs(_bleu4(_ngrams(hyp), len(hyp), _ngrams(ref), len(ref)) - expected) < 1e-9


def test_details_asked_for_with_the_search_are_given(backend):
    text = reply(backend, after_search(A, user="帮我找一家经济型酒店，把地址和电话一起告诉我"))
    assert A["address"] in text and A["phone"] in text


def test_a_relaxed_reply_talks_only_about_what_was_relaxed(backend):
    text = reply(backend, after_search(B, arguments={"price_range_upper": 200}))
    assert "北京丙丁饭店" in text and re.search(r"抱歉|不好意思|没有|但|不过|只是", text)
    assert "评分" not in text and "4.8" not in text
