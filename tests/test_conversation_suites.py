"""The conversation suite format (evalharness/conversations/suite.py), its placeholders and yes/no reading, and
the bundled suites: enough conversations, every theme of issue 15 covered, phrasings of their own."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from agent.core.codecs import read_dialogues
from agent.core.errors import UserError
from agent.core.turns import UserTurn
from evalharness.conversations.judge import answer_polarity
from evalharness.conversations.placeholders import Context, Unresolved, fill
from evalharness.conversations.suite import BookingExpect, bundled_suites_dir, load_suite, load_suites

HOTELS = [
    {"name": "甲酒店", "phone": "010-1", "price": 199.0, "rating": 4.5, "address": "甲街1号"},
    {"name": "乙酒店", "phone": "010-2", "price": -1.0, "rating": 4.0, "address": "乙街2号"},
]
TODAY = dt.date(2026, 11, 29)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(text, encoding="utf-8")
    return path


# ---- the format ---------------------------------------------------------------------------------------------


def test_a_suite_reads_into_steps_with_expectations_and_answers(tmp_path):
    suite = load_suite(
        write(
            tmp_path,
            """
theme: t
conversations:
  - name: c
    tags: [x]
    steps:
      - 找酒店
      - user: 订第二家
        expect: {confirm: {hotel: "{shown[1].name}", check_in: 2026-12-01, nights: 2}, no_search: true}
        answer: no
    end: {booking: {guest: 张三}, false_claims: 0}
""",
        )
    )
    [conversation] = suite.conversations
    first, second = conversation.steps
    assert first.user == "找酒店" and first.answer is True
    assert second.answer is False  # YAML reads `no` as false
    assert second.expect.search is False
    assert second.expect.confirm == BookingExpect(hotel="{shown[1].name}", check_in="2026-12-01", nights=2)
    assert conversation.end.booking == BookingExpect(guest="张三")
    assert conversation.id == "s/c" and conversation.tags == ("x",)
    assert len(suite.sha256) == 64


@pytest.mark.parametrize(
    "step, message",
    [
        ("{user: 好, expect: {serch: true}}", r"s.yaml:5: conversation 'c', step 1: unknown expectation 'serch'"),
        (
            "{user: 好, expect: {reply_has: '{shown[1].fone}'}}",
            r"step 1: reply_has: \{shown\[1\]\.fone\}: unknown field",
        ),
        ("{user: 好, expect: {search: yes please}}", r"step 1: `search` must be true or false"),
        ("{user: 好, answer: maybe}", r"step 1: `answer` must be yes or no"),
        ("{user: 好, expect: {facility_answer: {hotel: x, facility: 飞机场}}}", r"not a facility phrase"),
        ("{user: 好, expect: {search: true, no_search: true}}", r"contradict"),
        ("{expect: {search: true}}", r"step 1: a step needs a `user` line"),
    ],
)
def test_a_mistake_in_a_step_is_one_line_naming_file_line_conversation_and_step(tmp_path, step, message):
    text = "theme: t\nconversations:\n  - name: c\n    steps:\n      - " + step + "\n"
    with pytest.raises(UserError, match=message):
        load_suite(write(tmp_path, text))


def test_broken_yaml_names_its_line(tmp_path):
    with pytest.raises(UserError, match=r"s.yaml:4: not valid YAML"):
        load_suite(write(tmp_path, "theme: t\nconversations:\n  - name: [unclosed\n"))


def test_two_conversations_may_not_share_a_name(tmp_path):
    text = "conversations:\n  - {name: a, steps: [x]}\n  - {name: a, steps: [y]}\n"
    with pytest.raises(UserError, match="two conversations are named 'a'"):
        load_suite(write(tmp_path, text))


def test_a_missing_suite_path_is_one_line(tmp_path):
    with pytest.raises(UserError, match="no such suite file or directory"):
        load_suites(tmp_path / "nothing.yaml")


# ---- placeholders and yes/no ---------------------------------------------------------------------------------


def test_placeholders_name_the_hotels_shown_in_order_and_dates_from_today():
    context = Context(HOTELS, HOTELS[:1], TODAY)
    assert fill("{shown[1].phone} {shown[-1].name} {found[0].price}", context) == "010-2 乙酒店 199"
    assert fill("{today}/{today+2}", context) == "2026-11-29/2026-12-01"


@pytest.mark.parametrize("text", ["{shown[2].name}", "{found[1].name}", "{shown[1].price}"])
def test_a_placeholder_that_names_nothing_is_unresolved(text):
    with pytest.raises(Unresolved):
        fill(text, Context(HOTELS, HOTELS[:1], TODAY))


@pytest.mark.parametrize(
    "reply, polarity",
    [
        ("有的，这家酒店有健身房。", "yes"),
        ("这家酒店提供健身房", "yes"),
        ("抱歉，这家酒店没有健身房。", "no"),
        ("这家酒店不提供无线网络", "no"),
        ("无线网络是有的", "yes"),  # 无 inside 无线网络 is no answer
        ("您是问有没有健身房吗", None),
    ],
)
def test_a_yes_no_answer_is_read_from_the_reply(reply, polarity):
    assert answer_polarity(reply) == polarity


# ---- the bundled suites --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bundled():
    return load_suites(bundled_suites_dir())


def test_the_bundled_suites_hold_at_least_60_conversations(bundled):
    assert sum(len(s.conversations) for s in bundled) >= 60


def test_the_bundled_suites_cover_every_behaviour_of_issue_15(bundled):
    tags = {t for s in bundled for c in s.conversations for t in c.tags}
    wanted = {
        "ordinal",
        "demonstrative",
        "short-name",
        "facility",
        "info",
        "change",
        "booking",
        "slot-filling",
        "relative-date",
        "declined",
        "invalid-date",
        "cancel",
        "gibberish",
        "english",
        "closing",
        "near",
    }
    assert wanted <= tags, wanted - tags


def test_every_suite_file_says_its_phrasings_stay_out_of_training_data():
    for path in sorted(bundled_suites_dir().glob("*.yaml")):
        header = path.read_text(encoding="utf-8").split("\ntheme:")[0]
        assert "training data" in header and "issue 18" in header, path.name


def test_no_suite_line_copies_a_user_turn_of_the_course_data(bundled, data_dir):
    course = {
        t.content.strip()
        for name in ("train.glm4.jsonl", "dev.glm4.jsonl", "test.glm4.jsonl")
        for dialogue in read_dialogues(data_dir / "hotel" / name)
        for t in dialogue
        if isinstance(t, UserTurn)
    }
    lines = [step.user.strip() for s in bundled for c in s.conversations for step in c.steps]
    assert [line for line in lines if line in course] == []
