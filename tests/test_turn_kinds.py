"""`finetune.turn_kinds`: what each model turn does and which user turn it answers, and data-report's counts of them."""

from __future__ import annotations

from click.testing import CliRunner

from agent.core.codecs import dialogue_to_json_line
from agent.core.turns import AssistantTurn, BookTurn, CancelTurn, Dialogue, ResultTurn, ReturnTurn, SearchTurn, UserTurn
from finetune.cli import main
from finetune.data_report import build_report
from finetune.turn_kinds import dialogue_has, turn_kinds

RECORD = {"name": "北京饭店", "type": "豪华型", "phone": "010-1"}


def search_then(*later: tuple[str, dict]) -> Dialogue:
    turns = [
        UserTurn("找一家经济型酒店"),
        SearchTurn({"type": "经济型", "price_range_upper": 300}),
        ReturnTurn([RECORD]),
    ]
    turns.append(AssistantTurn("为您推荐北京饭店。"))
    for text, arguments in later:
        turns += [UserTurn(text), SearchTurn(arguments), ReturnTurn([RECORD]), AssistantTurn("为您推荐北京饭店。")]
    return Dialogue(turns)


def kinds(dialogue: Dialogue) -> list[str]:
    return [k.kind for k in turn_kinds(dialogue)]


def test_the_first_users_search_is_a_first_search_and_its_reply_presents_results():
    assert kinds(search_then()) == ["first search", "reply: results"]


def test_a_later_search_is_named_by_how_its_arguments_differ_from_the_one_before():
    base = {"type": "经济型", "price_range_upper": 300}
    cases = {
        "later search: added": {**base, "rating_range_lower": 4.5},
        "later search: dropped": {"type": "经济型"},
        "later search: changed": {"type": "高档型", "price_range_upper": 300},
        "later search: new": {"facilities": ["健身房"]},
        "later search: repeated": dict(base),
    }
    for expected, arguments in cases.items():
        assert kinds(search_then(("再找找", arguments)))[2] == expected


def test_a_near_search_is_its_own_kind_at_any_position():
    assert kinds(search_then(("那故宫附近呢", {"type": "经济型", "near": "故宫"})))[2] == "near search"


def test_positions_count_the_user_turns_answered():
    dialogue = search_then(("再便宜点", {"type": "经济型", "price_range_upper": 200}))
    assert [(k.role, k.position) for k in turn_kinds(dialogue)] == [
        ("search", 1),
        ("assistant", 1),
        ("search", 2),
        ("assistant", 2),
    ]


def test_booking_turns_and_replies_are_read_from_the_results():
    booked = {
        "booking_id": 1,
        "hotel": "北京饭店",
        "guest": "张三",
        "check_in": "2026-12-01",
        "nights": 1,
        "status": "confirmed",
    }
    dialogue = search_then().with_turn(
        UserTurn("订第一家"),
        BookTurn({"hotel": "北京饭店", "guest": "张三", "check_in": "12月1日", "nights": 1}),
        ResultTurn(booked),
        AssistantTurn("已为您预订。"),
        UserTurn("取消吧"),
        CancelTurn({"booking_id": 1}),
        ResultTurn({"error": "用户没有确认，预订未取消", "declined": True}),
        AssistantTurn("好的，预订没有取消。"),
        UserTurn("thanks"),
        AssistantTurn("抱歉，我只能用中文交流。"),
        UserTurn("再见"),
        AssistantTurn("不客气，再见！"),
    )
    assert kinds(dialogue)[2:] == [
        "book call",
        "reply: booked",
        "cancel call",
        "reply: declined",
        "reply: not Chinese",
        "reply: closing",
    ]


def test_a_question_before_anything_was_shown_is_answered_by_a_clarifying_reply():
    dialogue = Dialogue((UserTurn("嗯嗯嗯"), AssistantTurn("请问您想找什么样的酒店？")))
    assert kinds(dialogue) == ["reply: clarifying"]


def test_the_later_search_family_covers_every_later_kind():
    assert dialogue_has(
        search_then(("要有健身房", {"type": "经济型", "price_range_upper": 300, "facilities": ["健身房"]})),
        "later search",
    )
    assert not dialogue_has(search_then(), "later search")


def test_data_report_counts_turns_per_skill_and_per_position(tmp_path):
    path = tmp_path / "d.jsonl"
    dialogues = [search_then(), search_then(("价格不限", {"type": "经济型"}))]
    path.write_text("".join(dialogue_to_json_line(d) + "\n" for d in dialogues), encoding="utf-8")
    report = build_report(path)
    assert report.skills["first search"] == 2 and report.skills["later search: dropped"] == 1
    assert report.positions["1", "search"] == 2 and report.positions["2", "search"] == 1
    output = CliRunner().invoke(main, ["data-report", str(path)]).output
    assert "model turns per skill:" in output and "later search: dropped" in output
    assert "model turns per turn position" in output
