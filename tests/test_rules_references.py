"""Dialogue state over the shown hotels: 第二家 / 最后一家 / 这家 / a short name mean rows of the results table, in
the table's order, and questions about them are answered from their records without a new search."""

from __future__ import annotations

import pytest
from rules_chat import Chat, chat_after_search, open_chat

from agent.core.turns import AssistantTurn, Dialogue, ReturnTurn, SearchTurn, UserTurn
from backends.rules.references import named_rows, ordinal_row, ordinal_rows, ranked_rows, resolve, short_forms

ASK = "我想找一家经济型酒店，要有无线网络"


@pytest.fixture
def chat(own_cache) -> Chat:
    return chat_after_search(ASK)


def test_the_second_hotel_phone_is_the_second_rows(chat):
    first, second, _ = chat.table
    reply = chat.say("第二家的电话是多少？")
    assert second["phone"] in reply and first["phone"] not in reply
    assert chat.searches == []


def test_the_third_hotel_address_is_the_third_rows(chat):
    reply = chat.say("第三家的地址呢")
    assert chat.table[2]["address"] in reply and chat.searches == []


def test_the_last_hotel_is_the_last_row(chat):
    reply = chat.say("最后一家的价格是多少？")
    assert str(int(chat.table[-1]["price"])) in reply and chat.table[-1]["name"] in reply


def test_a_counted_hotel_is_named_in_the_answer(chat):
    assert chat.table[1]["name"] in chat.say("第二家的评分是多少？")


def test_an_elliptical_question_stays_on_the_hotel_just_discussed(chat):
    chat.say("第二家的电话是多少？")
    assert chat.table[1]["address"] in chat.say("地址呢？")


def test_a_short_name_means_its_row(chat):
    brand = short_forms(chat.table[1]["name"])[-1]  # the shortest form people write (速8 for 速8酒店(…))
    assert chat.table[1]["phone"] in chat.say(f"{brand}的电话是多少？")
    assert chat.searches == []


def test_a_hotel_beyond_the_table_is_asked_about(chat):
    reply = chat.say("第五家的电话是多少？")
    assert "3家" in reply and chat.searches == []


def test_a_reply_listing_several_hotels_follows_the_table_order(chat):
    reply = chat.dialogue.turns[-1].content
    positions = [reply.find(r["name"]) for r in chat.table]
    assert all(p >= 0 for p in positions) and positions == sorted(positions)


@pytest.mark.parametrize(
    "text, row",
    [("第二家", 1), ("第2个酒店", 1), ("第三间", 2), ("最后一家", 2), ("倒数第二家", 1), ("头一家", 0), ("第一个", 0)],
)
def test_ordinals_count_rows_of_the_table(text, row):
    assert ordinal_row(text, 3) == (row, None)


def test_first_time_is_no_ordinal():
    assert ordinal_row("我第一次来北京", 3) == (None, None)


@pytest.mark.parametrize(
    "text, row",
    [("排名第三的那家", 2), ("第三的那个", 2), ("排在第一", 0), ("3号那个酒店", 2), ("第一名", 0), ("排倒数第一的", 2)],
)
def test_a_rank_or_a_numbered_hotel_counts_rows_too(text, row):
    assert ordinal_row(text, 3) == (row, None)


@pytest.mark.parametrize("text", ["第三天再说", "5号那天入住", "12月3号那个时候", "3号入住"])
def test_a_day_is_no_row(text):
    assert ordinal_row(text, 3) == (None, None)


def test_every_row_counted_in_any_form_is_found_in_order():
    assert ordinal_rows("第三的那个和1号那家", 3) == [2, 0]


def test_the_middle_one_is_the_middle_row_of_an_odd_table():
    assert ordinal_row("中间的那个怎么样", 3) == (1, None)
    assert ordinal_row("中间的那个怎么样", 5) == (2, None)
    assert ordinal_row("中间的那个怎么样", 2) == (None, None)


ROWS = [{"price": 300.0, "rating": 4.2}, {"price": 520.0, "rating": 4.8}, {"price": -1.0, "rating": 4.8}]


@pytest.mark.parametrize(
    "text, rows",
    [
        ("价格最高的那个", [1]),
        ("最实惠的那家", [0]),  # a hotel without a price (-1) is not the cheapest
        ("评分最低的酒店", [0]),
        ("评分最高的那家", [1, 2]),  # a tie: both
    ],
)
def test_a_superlative_points_at_the_row_that_ranks_first(text, rows):
    assert ranked_rows(text, ROWS) == rows


def test_a_question_comparing_the_rows_is_no_reference():
    assert ranked_rows("哪家评分最高的", ROWS) == []


def test_a_count_of_days_names_a_hotel_only_when_used_as_one():
    shown = [{"name": "甲乙酒店"}, {"name": "7天连锁酒店(北京某某店)"}]
    assert named_rows("7天那个的地址", shown) == [1]
    assert named_rows("我打算住7天再走", shown) == []


def test_the_cheapest_shown_hotel_is_answered_by_name(chat):
    cheapest = min(chat.table, key=lambda r: r["price"])
    reply = chat.say("最实惠的那个电话多少")
    assert cheapest["phone"] in reply and cheapest["name"] in reply and chat.searches == []


def test_a_row_by_rank_is_answered_without_a_search(chat):
    reply = chat.say("排名第三的那个地址在哪里")
    assert chat.table[2]["address"] in reply and chat.searches == []


def shown(*names: str, reply: str = "") -> Dialogue:
    records = [{"name": n} for n in names]
    return Dialogue([UserTurn("找酒店"), ReturnTurn(records), AssistantTurn(reply)])


def test_this_hotel_among_several_is_the_one_the_agent_last_named():
    dialogue = shown("北京甲乙酒店", "北京丙丁饭店", reply="北京丙丁饭店的评分更高。").with_turn(UserTurn("就订这家"))
    assert resolve("就订这家", dialogue).one == 1


def test_this_hotel_among_several_with_none_named_is_ambiguous():
    dialogue = shown("北京甲乙酒店", "北京丙丁饭店", reply="推荐北京甲乙酒店和北京丙丁饭店。").with_turn(
        UserTurn("就订这家")
    )
    assert resolve("就订这家", dialogue).ambiguous


def test_a_branch_name_picks_one_of_two_hotels_of_a_chain():
    dialogue = shown("汉庭酒店(北京西单店)", "汉庭酒店(北京站店)").with_turn(UserTurn("西单店的地址"))
    assert resolve("西单店的地址", dialogue).indices == (0,)


def test_a_search_that_found_nothing_leaves_the_previous_table():
    dialogue = shown("北京甲乙酒店", "北京丙丁饭店").with_turn(UserTurn("有泳池吗"), ReturnTurn([]), UserTurn("第二家"))
    assert resolve("第二家", dialogue).one == 1


def test_comparing_two_counted_hotels_leaves_the_third_out(chat):
    first, second, third = chat.table
    reply = chat.say("第一家和第二家哪个便宜？")
    cheaper = min((first, second), key=lambda r: r["price"])
    assert cheaper["name"] in reply and third["name"] not in reply


def test_two_counted_hotels_are_both_answered(chat):
    first, _, third = chat.table
    reply = chat.say("第一家和第三家的地址是什么？")
    assert (
        first["address"] in reply
        and third["address"] in reply
        and reply.index(first["name"]) < reply.index(third["name"])
    )


def test_a_chain_name_fitting_two_rows_answers_for_both(own_cache):
    chat = open_chat()
    chat.say("帮我找一家经济型酒店，要有国际长途电话")
    chains = [r for r in chat.table if r["name"].startswith("锦江之星")]
    assert len(chains) == 2
    reply = chat.say("锦江之星的电话是多少？")
    assert all(r["phone"] in reply for r in chains)


def test_a_name_without_its_city_prefix_means_its_row(own_cache):
    chat = open_chat()
    chat.say("帮我找一家高档型酒店")
    row = next(r for r in chat.table[1:] if r["name"].startswith("北京"))
    assert row["phone"] in chat.say(f"{row['name'][2:]}的电话是多少？")


def test_the_subway_question_gets_the_station_not_the_address(chat):
    reply = chat.say("去第二家坐地铁在哪站下？")
    assert chat.table[1]["subway"] in reply and chat.table[1]["address"] not in reply


def test_two_facts_of_one_counted_hotel_are_both_given(chat):
    reply = chat.say("把第二家的电话和地址都告诉我")
    assert chat.table[1]["phone"] in reply and chat.table[1]["address"] in reply


def test_a_hotel_asked_for_by_name_with_a_question_gets_the_answer(own_cache):
    chat = open_chat()
    reply = chat.say("我想了解一下北京饭店，它的地址在哪")
    assert chat.searches == [{"name": "北京饭店"}] and chat.table[0]["address"] in reply


def test_a_subway_word_inside_a_hotel_name_asks_no_subway():
    from backends.rules.backend import RulesBackend

    record = {"name": "格林豪泰(北京首都机场新国展地铁站店)", "phone": "010-80489988", "subway": "国展地铁站B口"}
    dialogue = Dialogue(
        [
            UserTurn("找一家经济型酒店"),
            SearchTurn({"type": "经济型"}),
            ReturnTurn([record]),
            AssistantTurn(f"推荐您去{record['name']}。"),
            UserTurn(f"{record['name']}的电话是多少？"),
        ]
    )
    assert record["phone"] in RulesBackend().next_turn(dialogue).content
