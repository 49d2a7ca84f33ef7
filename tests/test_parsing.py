"""Model text → a tool call or a reply: tolerant of malformed JSON, always schema-valid, never raising."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent.core.schema import ARGUMENT_KEYS, validate_arguments
from agent.core.turns import AssistantTurn, BookTurn, CancelTurn, SearchTurn
from backends.llm.parsing import display_text, loads_lenient, parse_agent_turn, salvage_arguments
from prompts.families import FAMILIES


def test_qwen2_search_role_gives_a_search_turn():
    turn = parse_agent_turn('search\n{\n    "type": "经济型",\n    "price_range_upper": 300\n}<|im_end|>', "qwen2")
    assert turn == SearchTurn({"type": "经济型", "price_range_upper": 300.0})


def test_qwen2_assistant_role_gives_the_reply_without_role_or_stop_token():
    assert parse_agent_turn("assistant\n推荐如家酒店。<|im_end|>\n<|im_start|>", "qwen2") == AssistantTurn(
        "推荐如家酒店。"
    )


def test_llama3_header_role_is_read():
    turn = parse_agent_turn('search<|end_header_id|>\n\n{"name": "北京饭店"}<|eot_id|>', "llama3")
    assert turn == SearchTurn({"name": "北京饭店"})


def test_glm4_call_starts_with_the_tool_name():
    turn = parse_agent_turn('\nsearch_hotels\n{"facilities": ["无线网络"]}<|observation|>', "glm4")
    assert turn == SearchTurn({"facilities": ["无线网络"]})


def test_glm4_reply_is_the_text_before_the_next_role_token():
    assert parse_agent_turn("\n好的，电话是010-1234。<|user|>", "glm4") == AssistantTurn("好的，电话是010-1234。")


def test_code_fences_and_surrounding_prose_are_ignored():
    text = 'search\n好的，我来查询：\n```json\n{"type": "高档型"}\n```\n请稍等'
    assert parse_agent_turn(text, "qwen2") == SearchTurn({"type": "高档型"})


def test_single_quotes_and_trailing_commas_are_accepted():
    assert salvage_arguments("{'type': '舒适型', 'facilities': ['早餐服务',],}") == {
        "type": "舒适型",
        "facilities": ["早餐服务"],
    }


def test_truncated_json_keeps_the_complete_members():
    assert salvage_arguments('{"type": "经济型", "price_range_upper": 400, "facilities": ["无线') == {
        "type": "经济型",
        "price_range_upper": 400.0,
    }


def test_keys_outside_the_schema_are_dropped():
    assert salvage_arguments('{"city": "北京", "type": "经济型"}') == {"type": "经济型"}


@pytest.mark.parametrize(
    "raw, expected",
    [
        ('{"price_range_upper": "500元"}', {"price_range_upper": 500.0}),
        ('{"facilities": "无线网络，停车场"}', {"facilities": ["无线网络", "停车场"]}),
        ('{"type": "经济"}', {"type": "经济型"}),
        ('{"rating_range_lower": 9}', {}),
        ('{"name": 7}', {"name": "7"}),
        ('{"price_range_upper": true}', {}),
        (
            '{"price_range_lower": 500, "price_range_upper": 300}',
            {"price_range_lower": 300.0, "price_range_upper": 500.0},
        ),
    ],
)
def test_values_of_the_wrong_type_are_coerced_or_dropped(raw, expected):
    assert salvage_arguments(raw) == expected


def test_a_bare_arguments_object_without_role_is_a_search():
    assert parse_agent_turn('assistant\n{"type": "豪华型"}', "qwen2") == SearchTurn({"type": "豪华型"})


def test_a_reply_mentioning_braces_stays_a_reply():
    turn = parse_agent_turn("assistant\n价格在{300}以内的酒店有两家。", "qwen2")
    assert isinstance(turn, AssistantTurn)


def test_a_search_without_any_json_searches_with_no_constraints():
    assert parse_agent_turn("search\n我不知道", "qwen2") == SearchTurn({})


def test_lenient_loader_returns_none_without_an_object():
    assert loads_lenient("no json here") is None


@pytest.mark.parametrize(
    "raw, family, shown",
    [
        ("assistant\n推荐如家", "qwen2", "推荐如家"),
        ("assist", "qwen2", None),  # the role is not written yet
        ('search\n{"type"', "qwen2", None),
        ("assistant<|end_header_id|>\n\n好的", "llama3", "好的"),
        ("\nsearch_hot", "glm4", None),
        ("\n好的<|user|>", "glm4", "好的"),
    ],
)
def test_display_text_shows_reply_text_only(raw, family, shown):
    assert display_text(raw, family) == shown


JSONISH = st.recursive(
    st.none()
    | st.booleans()
    | st.floats(allow_nan=True)
    | st.integers()
    | st.text(max_size=8)
    | st.sampled_from(["经济型", "500元", "无线网络"]),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(ARGUMENT_KEYS + ("city", "")) | st.text(max_size=5), children, max_size=5)
    ),
    max_leaves=12,
)


@st.composite
def jsonish_text(draw):
    """JSON-like strings: real JSON of arbitrary values, then damaged (cut, quotes swapped, junk around)."""
    text = json.dumps(draw(JSONISH), ensure_ascii=draw(st.booleans()), indent=draw(st.sampled_from([None, 4])))
    cut = draw(st.integers(min_value=0, max_value=len(text)))
    if draw(st.booleans()):
        text = text[:cut]
    if draw(st.booleans()):
        text = text.replace('"', "'")
    prefix = draw(
        st.sampled_from(
            ["", "search\n", "search_hotels\n", "book_hotel\n", "cancel\n", "assistant\n", "```json\n", "好的："]
        )
    )
    suffix = draw(st.sampled_from(["", "```", "<|im_end|>", "<|eot_id|>", ",}", "\n请稍等"]))
    return prefix + text + suffix


def assert_valid(turn):
    assert isinstance(turn, (SearchTurn, BookTurn, CancelTurn, AssistantTurn))
    if isinstance(turn, SearchTurn):
        assert validate_arguments(turn.arguments) == turn.arguments
    if isinstance(turn, (BookTurn, CancelTurn)):  # only the tool's keys; the loop checks the values
        assert set(turn.arguments) <= {"hotel", "guest", "check_in", "nights", "booking_id"}


FAST = settings(max_examples=5000, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(text=st.text(max_size=200), family=st.sampled_from(sorted(FAMILIES)))
def test_arbitrary_strings_never_raise(text, family):
    assert_valid(parse_agent_turn(text, family))


@FAST
@given(text=jsonish_text(), family=st.sampled_from(sorted(FAMILIES)))
def test_jsonish_strings_never_raise_and_give_valid_arguments(text, family):
    assert_valid(parse_agent_turn(text, family))


@pytest.mark.parametrize(
    "raw, family",
    [
        ('book_hotel\n{"hotel": "如家", "guest": "张三", "check_in": "后天", "nights": 2}', "glm4"),
        ('book\n{"hotel": "如家", "guest": "张三", "check_in": "后天", "nights": 2}<|im_end|>', "qwen2"),
        ('book<|end_header_id|>\n\n{"hotel": "如家", "guest": "张三", "check_in": "后天", "nights": 2}', "llama3"),
    ],
)
def test_a_booking_call_gives_a_book_turn_in_every_family(raw, family):
    turn = parse_agent_turn(raw, family)
    assert turn == BookTurn({"hotel": "如家", "guest": "张三", "check_in": "后天", "nights": 2})


def test_a_cancel_call_gives_a_cancel_turn():
    assert parse_agent_turn('cancel_booking\n{"booking_id": 3}', "glm4") == CancelTurn({"booking_id": 3})
    assert parse_agent_turn('cancel\n{"booking_id": 3}', "qwen2") == CancelTurn({"booking_id": 3})


def test_booking_arguments_keep_only_the_tools_keys_and_leave_checking_to_the_loop():
    turn = parse_agent_turn("book_hotel\n{'hotel': '如家', 'nights': '两晚', 'stars': 5,}", "glm4")
    assert turn == BookTurn({"hotel": "如家", "nights": "两晚"})


def test_display_text_never_shows_a_booking_call_being_written():
    assert display_text("book_ho", "glm4") is None
    assert display_text("book\n{", "qwen2") is None


def test_a_search_near_a_place_is_parsed_like_the_other_arguments():
    turn = parse_agent_turn('\nsearch_hotels\n{"near": "故宫", "type": "经济型"}<|observation|>', "glm4")
    assert turn == SearchTurn({"near": "故宫", "type": "经济型"})
