"""The rules backend and hotels near a place: recognising the place in a message, keeping the other constraints,
and replies that name the place and say plainly when nothing is near."""

from __future__ import annotations

import pytest

from agent.core.codecs import read_dialogues
from agent.core.places import ATTRACTION, HOTEL, STATION, place_index
from agent.core.store import HotelStore
from agent.core.turns import Dialogue, ReturnTurn, SearchTurn, UserTurn
from agent.dialogue.loop import DialogueLoop, Reply
from backends.registry import create
from backends.rules.nlg import unmet
from backends.rules.nlu import understand
from backends.rules.places import find_near, near_reply, without_replaced_place


@pytest.fixture(scope="module")
def loop(data_dir) -> DialogueLoop:
    return DialogueLoop(create("rules"), HotelStore.open())


def chat(loop: DialogueLoop, *messages: str) -> Dialogue:
    dialogue = Dialogue()
    for message in messages:
        *_, reply = loop.respond(dialogue, message)
        assert isinstance(reply, Reply)
        dialogue = reply.dialogue
    return dialogue


def searches(dialogue: Dialogue) -> list[dict]:
    return [t.arguments for t in dialogue if isinstance(t, SearchTurn)]


def near_names(text: str) -> set[str]:
    index = place_index()
    return {HotelStore.open().get(i)["name"] for i in index.hotels_near(index.resolve(text).place)}


# --- recognising the place ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, query, name, kind",
    [
        ("故宫附近有什么酒店？", "故宫", "故宫", ATTRACTION),
        ("西直门地铁站附近的经济型酒店", "西直门地铁站", "西直门", STATION),
        ("那三里屯附近呢", "三里屯", "三里屯酒吧街", ATTRACTION),
        ("离故宫近一点的酒店", "故宫", "故宫", ATTRACTION),
        ("靠近国贸站的酒店，价格500以下", "国贸站", "国贸", STATION),
        ("北京饭店周边还有别的酒店吗", "北京饭店", "北京饭店", HOTEL),
        ("我下周去颐和园玩，帮我找个酒店", "颐和园", "颐和园", ATTRACTION),
        ("鸟巢一带有没有豪华型酒店", "鸟巢", "鸟巢（国家体育场）", ATTRACTION),
        (
            "水立方（国家游泳中心）附近能住的地方有哪些？",
            "水立方（国家游泳中心）",
            "水立方（国家游泳中心）",
            ATTRACTION,
        ),
        ("我坐地铁到什刹海站，出站附近有酒店吗？", "什刹海站", "什刹海", STATION),  # referred back to
        ("酒吧附近能住的地方有哪些？", "酒吧", "酒吧", "restaurant"),
    ],
)
def test_a_place_with_words_saying_near_is_recognised(text, query, name, kind):
    request = find_near(text)
    assert request is not None and (request.query, request.place.name, request.place.kind) == (query, name, kind)


def test_a_near_word_without_a_place_refers_to_the_place_named_before():
    request = find_near("故宫的门票多少？周边有哪些酒店？")
    assert request.query == "故宫" and request.other_questions == ("故宫的门票多少",)


@pytest.mark.parametrize(
    "text",
    [
        "好的，我决定入住7天优品酒店(北京国贸劲松地铁站店)了。",  # a hotel named in passing
        "这两个酒店哪个离地铁站更近一些呢？",
        "哪个酒店在地铁站附近呢？",
        "请问北京西单饭店附近有什么地铁站吗？",  # asks for a subway station, not hotels
        "故宫附近有什么好吃的",
        "我要住在万寿庄宾馆",  # a hotel one stays at is a name
        "有酒吧的酒店附近",
        "去故宫玩",  # no hotel asked for
    ],
)
def test_messages_that_ask_for_no_hotel_near_a_place_are_not_near_requests(text):
    assert find_near(text) is None


@pytest.mark.parametrize("split", ["dev", "test"])
def test_no_user_message_of_the_course_data_is_taken_for_a_near_request(data_dir, split):
    users = [
        t.content
        for d in read_dialogues(data_dir / "hotel" / f"{split}.glm4.jsonl")
        for t in d
        if isinstance(t, UserTurn)
    ]
    assert len(users) > 300 and [u for u in users if find_near(u)] == []


def test_the_place_is_no_other_constraint_and_the_others_are_kept():
    understanding = understand("西直门地铁站附近500元以下的经济型酒店", create("rules").lexicon, [])
    assert understanding.slots == {"type": "经济型", "price_range_upper": 500, "near": "西直门地铁站"}


def test_a_hotel_named_as_the_place_is_no_name_search():
    understanding = understand("北京饭店附近还有别的酒店吗", create("rules").lexicon, [])
    assert understanding.slots == {"near": "北京饭店"}


def test_a_new_hotel_name_replaces_the_place_and_a_new_place_the_name():
    assert without_replaced_place({"near": "故宫", "type": "经济型"}, {"name": "汉庭"}) == {"type": "经济型"}
    assert without_replaced_place({"name": "汉庭", "type": "经济型"}, {"near": "故宫"}) == {"type": "经济型"}


# --- whole exchanges ------------------------------------------------------------------------------------------


def test_hotels_near_an_attraction_are_found_and_the_reply_names_the_place(loop):
    dialogue = chat(loop, "故宫附近有什么酒店？")
    assert searches(dialogue) == [{"near": "故宫"}]
    records = dialogue.last_records()
    assert records and {r["name"] for r in records} <= near_names("故宫")
    assert dialogue[-1].content.startswith("故宫附近的酒店有") and records[0]["name"] in dialogue[-1].content


def test_a_follow_up_changes_the_place_and_keeps_the_other_constraints(loop):
    dialogue = chat(loop, "帮我找一家经济型酒店", "那三里屯附近呢")
    assert searches(dialogue)[-1] == {"type": "经济型", "near": "三里屯"}
    assert {r["name"] for r in dialogue.last_records()} <= near_names("三里屯")
    assert "三里屯" in dialogue[-1].content


def test_a_question_beside_the_hotel_request_is_said_to_be_beyond_the_agent(loop):
    dialogue = chat(loop, "故宫的门票多少？周边有哪些酒店？")
    assert searches(dialogue) == [{"near": "故宫"}]
    assert "故宫附近的酒店有" in dialogue[-1].content and "门票" in dialogue[-1].content
    assert "回答不了" in dialogue[-1].content


def test_a_place_with_no_hotel_near_gets_a_plain_no(loop):
    dialogue = chat(loop, "八达岭长城附近有酒店吗")
    assert searches(dialogue) == [{"near": "八达岭长城"}] and dialogue.last_records() == []
    assert "没有八达岭长城附近的酒店" in dialogue[-1].content


def test_relaxed_constraints_near_a_place_are_owned_up_to(loop):
    store = HotelStore.open()
    assert "经济型" not in {store.find_by_name(n)[0]["type"] for n in near_names("三里屯")}  # so type is relaxed
    dialogue = chat(loop, "帮我找一家经济型酒店", "那三里屯附近呢")
    assert dialogue[-1].content.startswith("抱歉，三里屯酒吧街附近没有经济型酒店")


def test_an_unknown_place_is_named_in_the_reply():
    dialogue = Dialogue((UserTurn("火星基地附近的酒店"), SearchTurn({"near": "火星基地"}), ReturnTurn([])))
    assert "火星基地" in near_reply(dialogue, unmet) and "不知道" in near_reply(dialogue, unmet)


def test_a_search_without_near_is_left_to_the_other_replies():
    dialogue = Dialogue((UserTurn("经济型酒店"), SearchTurn({"type": "经济型"}), ReturnTurn([])))
    assert near_reply(dialogue, unmet) is None


def test_facilities_the_records_cannot_show_are_not_claimed_met():
    record = {"name": "北京贵都大酒店", "type": "高档型", "price": 1354.0, "rating": 4.7, "facilities": ["吹风机"]}
    dialogue = Dialogue(
        (
            UserTurn("故宫附近能洗衣服的酒店"),
            SearchTurn({"near": "故宫", "facilities": ["能洗衣服"]}),
            ReturnTurn([record]),
        )
    )
    reply = near_reply(dialogue, unmet)
    assert reply.startswith("故宫附近的酒店有北京贵都大酒店") and "符合您要求" not in reply


def test_a_message_without_a_near_word_does_not_load_the_places(monkeypatch):
    import backends.rules.places as places

    monkeypatch.setattr(places, "place_index", lambda: pytest.fail("loaded the places"))
    assert find_near("你好，帮我找一家评分4.5分以上的经济型酒店") is None
