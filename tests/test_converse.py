"""`evalharness converse`: suites run through the real DialogueLoop in fresh worlds, judged from the store.

The harness is tested with scripted backends whose behaviour is known: a conversation that should pass passes,
one that should fail fails at the step that broke, and a reply claiming an unmade booking counts as a false claim."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from agent.core.errors import UserError
from agent.core.store import HotelStore
from agent.core.turns import AssistantTurn, BookTurn, CancelTurn, Dialogue, ResultTurn, ReturnTurn, SearchTurn
from agent.dialogue.actions import fallback_reply
from evalharness.cli import main
from evalharness.conversations.converse import CONVERSATIONS, run_suites
from evalharness.conversations.suite import bundled_suites_dir, load_suite, load_suites

from scripted_backend import ScriptedBackend, register_scripted

TODAY = dt.date(2026, 11, 29)
ORDINALS = {"第一": 0, "第二": 1, "第三": 2}

PHONE_AND_BOOKING = """
theme: test
conversations:
  - name: phone then booking
    steps:
      - user: 找经济型酒店
        expect: {search: true, search_has: {type: 经济型}}
      - user: 第二家的电话
        expect: {no_search: true, reply_has: "{shown[1].phone}", reply_lacks: "{shown[0].phone}"}
      - user: 订第二家，12月1日入住，两晚，张三
        expect: {confirm: {hotel: "{shown[1].name}", guest: 张三, check_in: 2026-12-01, nights: 2}, booked: true}
    end: {booking: {hotel: "{shown[1].name}", guest: 张三, check_in: 2026-12-01, nights: 2}, false_claims: 0}
"""


def agent(first_row_only: bool = False, claim_without_booking: bool = False):
    """A scripted agent that does the job for the lines above (or makes one chosen mistake)."""

    def script(dialogue: Dialogue):
        last = dialogue.turns[-1]
        if isinstance(last, ReturnTurn):
            return AssistantTurn("为您找到：" + "、".join(r["name"] for r in last.records))
        if isinstance(last, ResultTurn):
            return AssistantTurn(fallback_reply(last.result))
        text, shown = last.content, dialogue.shown_records()
        index = 0 if first_row_only else next((i for w, i in ORDINALS.items() if w in text), 0)
        if "电话" in text:
            return AssistantTurn(f"这家的电话是{shown[index]['phone']}。")
        if "取消" in text:
            return CancelTurn({"booking_id": dialogue.bookings()[-1]["booking_id"]})
        if "订" in text:
            if claim_without_booking:
                return AssistantTurn("已为您预订好了，祝您入住愉快！")
            return BookTurn({"hotel": shown[index]["name"], "guest": "张三", "check_in": "12月1日", "nights": 2})
        if "谢谢" in text:
            return AssistantTurn("不客气。")
        return SearchTurn({"type": "经济型"})

    return ScriptedBackend(script=script)


def suite_file(tmp_path: Path, text: str, name: str = "suite.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> HotelStore:
    """One store for the module's runs to copy (building one costs a second per run)."""
    return HotelStore.open(tmp_path_factory.mktemp("template") / "hotels.json")


def run(tmp_path: Path, text: str, backend, template: HotelStore) -> tuple[dict, list[dict]]:
    suite = load_suite(suite_file(tmp_path, text))
    summary = run_suites([suite], backend, "scripted", tmp_path / "out", TODAY, template=template)
    lines = (tmp_path / "out" / CONVERSATIONS).read_text(encoding="utf-8").splitlines()
    return summary, [json.loads(line) for line in lines]


def test_a_conversation_the_agent_gets_right_passes(tmp_path, template):
    summary, [result] = run(tmp_path, PHONE_AND_BOOKING, agent(), template)
    assert result["passed"], result["failures"]
    assert summary["metrics"]["pass_rate"] == 100.0 and summary["metrics"]["false_claims"] == 0
    assert [b["guest"] for b in result["bookings"]] == ["张三"]  # read from the store


def test_a_wrong_reference_fails_at_the_step_that_broke(tmp_path, template):
    summary, [result] = run(tmp_path, PHONE_AND_BOOKING, agent(first_row_only=True), template)
    assert not result["passed"]
    assert {(f["step"], f["check"]) for f in result["failures"]} >= {(2, "reply_has"), (2, "reply_lacks")}
    assert all(f["step"] != 1 for f in result["failures"])
    assert summary["failed"][0]["id"] == "suite/phone then booking"


def test_a_reply_claiming_an_unmade_booking_is_a_false_claim(tmp_path, template):
    summary, [result] = run(tmp_path, PHONE_AND_BOOKING, agent(claim_without_booking=True), template)
    assert result["false_claims"] == 1
    assert result["steps"][2]["false_claim"] == "booking" and result["steps"][2]["corrected"] == "booking"
    checks = {(f["step"], f["check"]) for f in result["failures"]}
    assert (None, "false_claims") in checks and (None, "booking") in checks and (3, "confirm") in checks
    assert summary["metrics"]["false_claims"] == 1


def test_a_declined_confirmation_writes_nothing(tmp_path, template):
    declined = """
theme: test
conversations:
  - name: declined
    steps:
      - user: 找经济型酒店
      - user: 订第一家
        expect: {confirm: {hotel: "{shown[0].name}"}, booked: false, no_claim: true}
        answer: no
    end: {no_booking: true}
"""
    _, [result] = run(tmp_path, declined, agent(), template)
    assert result["passed"], result["failures"]
    assert result["steps"][1]["proposals"][0]["accepted"] is False


def test_each_conversation_starts_with_empty_bookings(tmp_path, template):
    two = """
theme: test
conversations:
  - name: books
    steps: [找经济型酒店, 订第一家]
    end: {bookings: 1}
  - name: sees no booking of the first
    steps: [找经济型酒店]
    end: {no_booking: true}
"""
    summary, results = run(tmp_path, two, agent(), template)
    assert [r["passed"] for r in results] == [True, True], [r["failures"] for r in results]


def test_a_cancellation_is_read_from_the_store(tmp_path, template):
    cancelling = """
theme: test
conversations:
  - name: cancel
    steps:
      - 找经济型酒店
      - user: 订第二家
        expect: {booked: true}
      - user: 取消刚才的预订
        expect: {confirm_cancel: true, cancelled: true}
    end: {cancelled: {hotel: "{shown[1].name}", guest: 张三}}
"""
    _, [result] = run(tmp_path, cancelling, agent(), template)
    assert result["passed"], result["failures"]
    assert [b["status"] for b in result["bookings"]] == ["cancelled"]


def test_search_expectations_compare_arguments(tmp_path, template):
    wrong = """
theme: test
conversations:
  - name: type and lacks
    steps:
      - user: 找高档型酒店
        expect: {search_has: {type: 高档型}, search_lacks: [type]}
"""
    _, [result] = run(tmp_path, wrong, agent(), template)
    assert [(f["check"], f["expected"]) for f in result["failures"]] == [
        ("search_has", 'type="高档型"'),
        ("search_lacks", "no type"),
    ]


def test_a_question_and_the_chinese_only_line_are_told_apart(tmp_path, template):
    replies = iter(["您想找什么样的酒店？比如：有wifi的经济型酒店", "好的，再见！", "Sorry"])
    backend = ScriptedBackend(script=lambda d: AssistantTurn(next(replies)))
    fallbacks = """
theme: test
conversations:
  - name: clarify
    steps: [{user: 嗯嗯嗯, expect: {clarify: true}}]
  - name: a goodbye is no clarifying question
    steps: [{user: 哈哈哈, expect: {clarify: true}}]
  - name: chinese only
    steps: [{user: hello, expect: {chinese_only: true}}]
"""
    _, results = run(tmp_path, fallbacks, backend, template)
    assert [r["passed"] for r in results] == [True, False, False]
    assert [f["check"] for f in results[1]["failures"]] == ["clarify"]
    assert [f["check"] for f in results[2]["failures"]] == ["chinese_only"]


def test_a_backend_failure_fails_that_conversation_and_the_run_goes_on(tmp_path, template):
    backend = ScriptedBackend(fail_when=lambda d: "坏" in d.last_user_text(), script=lambda d: AssistantTurn("好的。"))
    text = """
theme: test
conversations:
  - name: breaks
    steps: [坏, 这句不会说]
  - name: fine
    steps: [你好]
"""
    summary, results = run(tmp_path, text, backend, template)
    assert results[0]["failures"][0]["check"] == "error" and "ScriptedFailure" in results[0]["failures"][0]["got"]
    assert len(results[0]["steps"]) == 1 and results[1]["passed"]
    assert summary["metrics"]["errors"] == 1


def test_the_summary_is_signed_with_the_suites_backend_and_today(tmp_path, template):
    summary, _ = run(tmp_path, PHONE_AND_BOOKING, agent(), template)
    written = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert written == summary
    signature = summary["signature"]
    assert signature["today"] == "2026-11-29"
    assert signature["backend"] == {"name": "scripted", "backend": "scripted", "scripted": True}
    [suite] = signature["suites"]
    assert len(suite["sha256"]) == 64 and suite["conversations"] == 1
    assert summary["metrics"]["turns_per_conversation"] == 3


def test_a_run_directory_is_never_mixed_with_an_earlier_run(tmp_path, template):
    run(tmp_path, PHONE_AND_BOOKING, agent(), template)
    with pytest.raises(UserError, match="already holds a run"):
        run(tmp_path, PHONE_AND_BOOKING, agent(), template)


# ---- the command line ---------------------------------------------------------------------------------------


def test_the_converse_command_runs_a_suite_file_and_reports(tmp_path, own_cache):
    register_scripted("scripted-converse", agent())
    path = suite_file(tmp_path, PHONE_AND_BOOKING)
    result = CliRunner().invoke(
        main, ["converse", str(path), "--backend", "scripted-converse", "--out", str(tmp_path / "o"), "--quiet"]
    )
    assert result.exit_code == 0, result.output
    assert "passed 1 (100.0%)" in result.output and "false claims 0" in result.output
    assert (tmp_path / "o" / "summary.json").is_file()


def test_the_converse_command_names_a_bad_today_in_one_line(tmp_path, own_cache):
    path = suite_file(tmp_path, PHONE_AND_BOOKING)
    result = CliRunner().invoke(main, ["converse", str(path), "--backend", "rules", "--today", "29.11.2026"])
    assert (
        result.exit_code == 1
        and result.output.strip() == "error: --today '29.11.2026' is not a date such as 2026-11-29"
    )


def test_the_converse_command_moves_today(tmp_path, own_cache):
    register_scripted("scripted-today", agent())
    moved = PHONE_AND_BOOKING.replace("2026-12-01", '"{today+1}"')  # 12月1日 is tomorrow on 2026-11-30
    path = suite_file(tmp_path, moved)
    out = tmp_path / "o"
    args = ["converse", str(path), "--backend", "scripted-today", "--out", str(out), "--today", "2026-11-30", "--quiet"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert json.loads((out / "summary.json").read_text(encoding="utf-8"))["metrics"]["passed"] == 1


def test_the_bundled_suites_run_on_the_rules_backend(tmp_path, template):
    from backends.registry import create

    suites = load_suites(bundled_suites_dir())
    summary = run_suites(suites, create("rules"), "rules", tmp_path / "out", TODAY, template=template)
    metrics = summary["metrics"]
    assert metrics["conversations"] == sum(len(s.conversations) for s in suites)
    assert metrics["errors"] == 0
    assert set(summary["by_suite"]) == {f"evalharness/suites/{Path(s.path).name}" for s in suites}
    lines = (tmp_path / "out" / CONVERSATIONS).read_text(encoding="utf-8").splitlines()
    assert len(lines) == metrics["conversations"]


@pytest.mark.parametrize(
    "argument, passes",
    [("汉庭", True), ("汉庭酒店", True), ("北京汉庭", True), ("汉庭有哪些店", False), ("如家", False)],
)
def test_a_name_argument_matches_only_the_name_meant(tmp_path, template, argument, passes):
    backend = ScriptedBackend(
        script=lambda d: SearchTurn({"name": argument}) if d.turns[-1].role == "user" else AssistantTurn("找到了。")
    )
    text = "theme: t\nconversations:\n  - name: c\n    steps: [{user: 看看汉庭, expect: {search_has: {name: 汉庭}}}]\n"
    _, [result] = run(tmp_path, text, backend, template)
    assert result["passed"] is passes
