"""Booking and cancelling by chat on the rules backend, judged by what is in the bookings afterwards: the request
(帮我订第二家), its details asked for in one question and gathered over messages, one book_hotel call the user
confirms, the reply from its result; cancelling the latest booking; and never a claim of what did not happen."""

from __future__ import annotations

import pytest
from rules_chat import Chat, chat_after_search, open_chat

from agent.core.turns import BookTurn

ASK = "我想找一家经济型酒店，要有无线网络"


@pytest.fixture
def chat(own_cache) -> Chat:
    return chat_after_search(ASK)


def details(chat: Chat) -> list[tuple[str, str | None, str | None, int | None, str]]:
    return [(b.hotel_name, b.guest, b.check_in, b.nights, b.status) for b in chat.booked()]


def test_booking_a_counted_hotel_with_every_detail_books_it(chat):
    second = chat.table[1]["name"]
    reply = chat.say("帮我订第二家，两晚，12月1日入住，名字张三")
    assert details(chat) == [(second, "张三", "2026-12-01", 2, "confirmed")]
    assert second in reply and "张三" in reply and str(chat.booked()[0].id) in reply


def test_the_user_confirms_before_anything_is_written(chat):
    chat.say("帮我订第二家，两晚，12月1日入住，名字张三", confirm=False)
    assert chat.booked() == [] and len(chat.proposals) == 1


def test_a_declined_booking_is_answered_as_not_booked(chat):
    assert "没有预订" in chat.say("帮我订第二家，两晚，12月1日入住，名字张三", confirm=False)


def test_missing_details_are_asked_in_one_question(chat):
    reply = chat.say("帮我订第二家")
    assert all(word in reply for word in ("入住人姓名", "入住日期", "住几晚")) and reply.count("？") == 1
    assert chat.proposals == [] and chat.table[1]["name"] in reply


def test_only_the_missing_details_are_asked(chat):
    reply = chat.say("我要订这家酒店的第二家，住两晚")
    assert "入住人姓名" in reply and "入住日期" in reply and "住几晚" not in reply


def test_details_given_over_several_messages_book_once(chat):
    chat.say("帮我订第二家")
    chat.say("张三")
    chat.say("下周五入住")
    chat.say("住3天")
    assert details(chat) == [(chat.table[1]["name"], "张三", "2026-12-04", 3, "confirmed")]


@pytest.mark.parametrize("said, nights", [("两晚", 2), ("住3天", 3), ("2个晚上", 2), ("住一周", 7)])
def test_nights_as_people_say_them(chat, said, nights):
    chat.say(f"帮我订第一家，后天入住，{said}，入住人李四")
    assert [b.nights for b in chat.booked()] == [nights]


def test_a_relative_date_resolves_against_today(chat):
    chat.say("帮我订第一家，后天入住，一晚，我叫王小明")
    assert [b.check_in for b in chat.booked()] == ["2026-12-01"]


def test_a_past_date_is_asked_for_again_and_then_booked(chat):
    reply = chat.say("帮我订第一家，2026年11月1日入住，一晚，名字张三")
    assert "入住日期已经过去了" in reply and chat.booked() == []
    chat.say("12月1日")
    assert [b.check_in for b in chat.booked()] == ["2026-12-01"]


def test_the_hotel_in_focus_is_the_one_booked(chat):
    chat.say("第三家的电话是多少？")
    chat.say("就订这家吧，12月1日，两晚，名字张三")
    assert [b.hotel_name for b in chat.booked()] == [chat.table[2]["name"]]


def test_this_hotel_among_several_is_asked_about(chat):
    reply = chat.say("我要订这家")
    assert "哪一家" in reply and all(r["name"] in reply for r in chat.table)
    chat.say("第三家，12月1日，两晚，名字张三")
    assert [b.hotel_name for b in chat.booked()] == [chat.table[2]["name"]]


def test_a_hotel_named_but_not_shown_is_searched_then_booked(own_cache):
    chat = open_chat()
    chat.say("帮我订北京龙鼎华鼎云酒店，12月1日入住，两晚，名字张三")
    assert chat.searches == [{"name": "北京龙鼎华鼎云酒店"}]
    assert [b.hotel_name for b in chat.booked()] == ["北京龙鼎华鼎云酒店"]


def test_a_chain_name_fitting_several_hotels_asks_which(own_cache):
    chat = open_chat()
    reply = chat.say("我要订全季")
    assert "哪家" in reply and len(chat.table) > 1 and chat.proposals == []
    chat.say("第二家，12月1日，两晚，名字张三")
    assert [b.hotel_name for b in chat.booked()] == [chat.table[1]["name"]]


def test_ok_before_the_details_asks_again_and_books_nothing(chat):
    chat.say("帮我订第二家")
    reply = chat.say("好的")
    assert "入住人姓名" in reply and chat.booked() == [] and chat.proposals == []


def test_ok_after_a_booking_is_a_closing(chat):
    chat.say("帮我订第二家，两晚，12月1日入住，名字张三")
    reply = chat.say("好的")
    assert chat.proposals == [] and "？" not in reply and len(chat.booked()) == 1


def test_dropping_a_request_books_nothing(chat):
    chat.say("帮我订第二家")
    assert "没有预订" in chat.say("算了")
    chat.say("张三")
    assert chat.booked() == []


def test_cancelling_the_latest_booking_cancels_it(chat):
    chat.say("帮我订第二家，两晚，12月1日入住，名字张三")
    reply = chat.say("取消刚才的预订")
    assert [b.status for b in chat.booked()] == ["cancelled"] and "取消" in reply


def test_cancelling_a_booking_by_its_number(chat):
    chat.say("帮我订第一家，两晚，12月1日入住，名字张三")
    chat.say("帮我订第二家，一晚，12月3日入住，名字李四")
    chat.say("取消1号预订")
    assert [b.status for b in chat.booked()] == ["cancelled", "confirmed"]


def test_i_will_not_book_after_a_booking_cancels_it(chat):
    chat.say("帮我订第一家，两晚，12月1日入住，名字张三")
    chat.say("不订了")
    assert [b.status for b in chat.booked()] == ["cancelled"]


def test_cancelling_with_nothing_booked_says_there_is_none(chat):
    reply = chat.say("取消预订")
    assert "没有" in reply and chat.proposals == []


def test_a_search_with_a_booking_word_and_constraints_is_a_search(chat):
    chat.say("再帮我预定一个评分4.5分以上的舒适型酒店")
    assert chat.searches and chat.searches[0]["type"] == "舒适型" and chat.proposals == []


def test_the_call_names_the_full_hotel_and_leaves_the_date_to_the_loop(chat):
    # The date goes as the user wrote it: the loop resolves it against its own today, the only one there is.
    chat.say("帮我订第二家")
    chat.say("张三，12月1日，两晚", confirm=False)
    calls = [t for t in chat.dialogue.turns if isinstance(t, BookTurn)]
    assert calls[-1].arguments == {"hotel": chat.table[1]["name"], "guest": "张三", "check_in": "12月1日", "nights": 2}


def test_no_reply_claims_what_did_not_happen(chat):
    for text in [
        "第二家的电话是多少？",
        "帮我订第二家",
        "张三",
        "算了",
        "好的，谢谢",
        "帮我订第一家，两晚，12月1日入住，名字张三",
        "取消刚才的预订",
        "谢谢，再见",
    ]:
        chat.say(text, confirm=text != "取消刚才的预订")
    assert chat.corrected() == []


def test_deciding_on_a_counted_hotel_starts_booking_it(chat):
    second = chat.table[1]["name"]
    reply = chat.say("我决定入住第二家了")
    assert "入住人姓名" in reply and second in reply
    chat.say("张三，12月1日，两晚")
    assert [b.hotel_name for b in chat.booked()] == [second]


@pytest.mark.parametrize("answer", ["王小明", "我是王小明", "名字还是王小明"])
def test_the_name_given_as_an_answer(chat, answer):
    chat.say("帮我订第一家，12月1日入住，一晚")
    chat.say(answer)
    assert [b.guest for b in chat.booked()] == ["王小明"]


def test_asking_for_my_bookings_lists_those_made(chat):
    chat.say("帮我订第二家，两晚，12月1日入住，名字张三")
    reply = chat.say("我的预订有哪些？")
    assert chat.table[1]["name"] in reply and "张三" in reply and chat.proposals == []


def test_cancelling_an_unknown_number_asks_again_without_claiming(chat):
    reply = chat.say("取消5号预订")
    assert "没有找到" in reply and chat.corrected() == []


def test_after_a_no_a_corrected_detail_is_proposed_again(chat):
    chat.say("订第二家，12月1日入住，住两晚，入住人李四", confirm=False)
    chat.say("日期改成12月2日，其他不变")
    assert details(chat) == [(chat.table[1]["name"], "李四", "2026-12-02", 2, "confirmed")]


def test_after_a_no_the_right_hotel_is_proposed_again(chat):
    chat.say("订第二家，12月1日入住，住两晚，入住人李四", confirm=False)
    chat.say(f"信息有误，应该是{chat.table[2]['name']}")
    assert [b.hotel_name for b in chat.booked()] == [chat.table[2]["name"]]


@pytest.mark.parametrize("guest", ["周明", "钱进", "高远"])
def test_surnames_that_are_also_words_are_names(chat, guest):
    chat.say(f"订第三家，明天入住，住一晚，入住人{guest}")
    assert [b.guest for b in chat.booked()] == [guest]


def test_that_one_i_will_take_books_it(chat):
    chat.say("第三家的电话是多少？")
    chat.say("那家我订了，王小明，12月10日入住，住三晚")
    assert details(chat) == [(chat.table[2]["name"], "王小明", "2026-12-10", 3, "confirmed")]


def test_a_shown_hotel_and_a_detail_of_the_stay_start_booking_it(chat):
    reply = chat.say("第三家吧，住三个晚上")
    assert chat.table[2]["name"] in reply and "入住人姓名" in reply and chat.proposals == []
    chat.say("12月9日入住，名字赵敏")
    assert details(chat) == [(chat.table[2]["name"], "赵敏", "2026-12-09", 3, "confirmed")]


def test_a_question_with_a_detail_is_no_booking(chat):
    chat.say("第三家住两晚一共多少钱？")
    assert chat.proposals == [] and "入住人姓名" not in chat.dialogue.turns[-1].content


def test_a_check_in_gone_by_is_said_so_and_asked_again(chat):
    reply = chat.say("订第二家，前天入住，一晚，入住人孙悦")
    assert "前天已经过去了" in reply and chat.proposals == []
    chat.say("那就大后天")
    assert details(chat) == [(chat.table[1]["name"], "孙悦", "2026-12-02", 1, "confirmed")]


def test_a_numbered_hotel_is_no_check_in_day(chat):
    chat.say("订3号那家，12月6号入住一晚，入住人张三")
    assert details(chat) == [(chat.table[2]["name"], "张三", "2026-12-06", 1, "confirmed")]


def test_a_check_out_day_gives_the_nights(chat):
    chat.say("订第一家，12月10号入住，13号退房，入住人张三")
    assert details(chat) == [(chat.table[0]["name"], "张三", "2026-12-10", 3, "confirmed")]


@pytest.mark.parametrize("question", ["我都订了哪几家", "订单还在吗", "我一共订了多少间房"])
def test_questions_about_what_was_booked_list_it(chat, question):
    chat.say("订第二家，12月1日入住，住两晚，入住人张三")
    reply = chat.say(question)
    assert chat.table[1]["name"] in reply and "张三" in reply and chat.proposals == []


def test_a_list_question_while_booking_leaves_the_request_open(chat):
    chat.say("帮我订第二家")
    assert "还没有预订" in chat.say("我之前订过什么吗？")
    chat.say("张三，12月1日入住，两晚")
    assert details(chat) == [(chat.table[1]["name"], "张三", "2026-12-01", 2, "confirmed")]


def test_the_list_after_a_cancellation_says_so_without_claiming_it_again(chat):
    chat.say("订第二家，12月1日入住，住两晚，入住人张三")
    chat.say("取消刚才的预订")
    reply = chat.say("我还有订单吗")
    assert "没有有效的预订" in reply and chat.table[1]["name"] in reply and chat.corrected() == []


def test_a_booking_no_longer_wanted_by_its_number_is_cancelled(chat):
    chat.say("订第一家，12月1日入住，住一晚，入住人张三")
    chat.say("订第二家，12月3日入住，住一晚，入住人张三")
    chat.say("1号预订不需要了")
    assert [b.status for b in chat.booked()] == ["cancelled", "confirmed"]


def test_a_fact_asked_in_the_booking_message_is_answered_with_the_result(chat):
    reply = chat.say("第三家地址在哪？合适的话帮我订，后天入住两晚，入住人赵敏")
    assert chat.table[2]["address"] in reply and "预订号" in reply and len(chat.booked()) == 1
