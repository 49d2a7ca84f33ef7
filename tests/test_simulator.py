"""The goal-driven user simulator: seeded goals from the database, an agenda-based user reacting to what it is
shown, and verdicts read from the bookings store."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import random

import pytest

from agent.core.bookings import Booking
from agent.core.store import HotelStore
from agent.core.turns import AssistantTurn, BookTurn, CancelTurn, Dialogue, ResultTurn, ReturnTurn, SearchTurn
from agent.dialogue.actions import BookingProposal, CancellationProposal, fallback_reply
from evalharness.conversations.goals import BookingWish, Change, Constraints, Goal, draw_goals
from evalharness.conversations.session import ProposalSeen, SearchSeen, StepRecord
from evalharness.conversations.simulate import GOALS_FILE, judge_goal, run_goal, simulate
from evalharness.conversations.simulator import SimulatedUser
from evalharness.conversations.suite import bundled_suites_dir, load_suites
from evalharness.conversations.world import Worlds

from scripted_backend import ScriptedBackend

TODAY = dt.date(2026, 11, 29)
WISH = BookingWish("王建国", dt.date(2026, 12, 5), 2)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> HotelStore:
    return HotelStore.open(tmp_path_factory.mktemp("template") / "hotels.json")


@pytest.fixture(scope="module")
def records(template: HotelStore) -> list[dict]:
    return template.records()


def hotel(template: HotelStore, **wanted) -> dict:
    return next(r for r in template.records() if all(r[k] == v for k, v in wanted.items()))


def goal(**changes) -> Goal:
    base = Goal(0, 0, 0, Constraints(type="经济型"), (), WISH, at_once=True)
    return dataclasses.replace(base, **changes)


def shown_step(user: str, found: list[dict], reply: str = "为您找到这些酒店。") -> StepRecord:
    return StepRecord(user=user, shown_before=[], searches=[SearchSeen({}, found)], reply=reply)


def reply_step(user: str, reply: str, **fields) -> StepRecord:
    return StepRecord(user=user, shown_before=[], reply=reply, **fields)


# ---- goals --------------------------------------------------------------------------------------------------


def test_goals_are_the_same_for_a_seed_and_goal_i_does_not_depend_on_how_many(records):
    assert draw_goals(records, 10, 0, TODAY) == draw_goals(records, 10, 0, TODAY)
    assert draw_goals(records, 10, 0, TODAY)[:5] == draw_goals(records, 5, 0, TODAY)
    assert draw_goals(records, 10, 1, TODAY) != draw_goals(records, 10, 0, TODAY)


def test_every_drawn_goal_is_met_by_the_hotel_it_was_drawn_from(records):
    for g in draw_goals(records, 300, 7, TODAY):
        assert g.constraints.satisfied_by(records[g.hotel_id]), g
        assert TODAY <= g.booking.check_in <= TODAY + dt.timedelta(days=60)


def test_goals_vary_in_every_way_the_simulator_knows(records):
    kinds = {k for g in draw_goals(records, 300, 0, TODAY) for k in g.kinds}
    assert {"at-once", "slot-filling", "cancel", "informs", "added-constraint", "change-type"} <= kinds


def test_a_hotel_without_a_price_fails_a_price_bound_and_facility_words_mean_database_facilities():
    record = {"type": "经济型", "price": -1.0, "rating": 4.5, "facilities": ["酒店各处提供wifi"], "hotel_id": 0}
    assert Constraints(price_upper=500).unmet(record) == ["price_upper"]
    assert Constraints(facilities=("无线网络",)).satisfied_by(record)
    assert Constraints(facilities=("健身房",)).unmet(record) == ["facility 健身房"]


# ---- the simulated user -----------------------------------------------------------------------------------------


def test_the_user_states_its_first_mind_then_changes_it_after_the_results(template):
    user = SimulatedUser(goal(change=Change("type", "豪华型")), TODAY, random.Random(1))
    assert "豪华型" in user.opening() and "经济型" not in user.opening()
    line = user.react(shown_step("…", [hotel(template, type="豪华型")]))
    assert line is not None and "经济型" in line


def test_the_user_picks_only_a_shown_hotel_that_meets_its_goal(template):
    good = hotel(template, name="速8酒店(北京前门大栅栏店)")
    lux = [r for r in template.records() if r["type"] == "豪华型"][:2]
    for seed in range(10):
        user = SimulatedUser(goal(), TODAY, random.Random(seed))
        user.opening()
        line = user.react(shown_step("…", [lux[0], good, lux[1]]))
        assert user.chosen == good
        assert line is not None and ("第二" in line or "速8" in line), line


def test_the_user_restates_once_then_gives_up_when_nothing_shown_fits(template):
    lux = [r for r in template.records() if r["type"] == "豪华型"][:3]
    user = SimulatedUser(goal(), TODAY, random.Random(0))
    user.opening()
    assert "经济型" in (user.react(shown_step("…", lux)) or "")
    user.react(shown_step("…", lux))
    assert user.stuck == "no hotel shown meets the goal" and user.react(reply_step("谢谢", "不客气")) is None


def test_the_user_answers_what_the_agent_asks_for(template):
    user = SimulatedUser(goal(at_once=False), TODAY, random.Random(3))
    user.opening()
    user.react(shown_step("…", [hotel(template, name="速8酒店(北京前门大栅栏店)")]))
    user._pending_slots = ["guest", "check_in", "nights"]  # nothing given yet
    line = user.react(reply_step("订这家", "好的，请问入住人姓名？"))
    assert line is not None and "王建国" in line and "12月5" not in line
    assert user._pending_slots == ["check_in", "nights"]


def test_the_user_confirms_a_matching_proposal_and_declines_others(template):
    chosen = hotel(template, name="速8酒店(北京前门大栅栏店)")
    user = SimulatedUser(goal(), TODAY, random.Random(0))
    user.opening()
    unasked = BookingProposal(chosen, "王建国", WISH.check_in, 2)
    assert user.answer(unasked) is None  # the user has not asked to book yet
    user.react(shown_step("…", [chosen]))
    assert user.answer(unasked) is unasked
    assert user.answer(BookingProposal(chosen, "王建国", WISH.check_in, 3)) is None
    other = hotel(template, name="7天连锁酒店(北京首都机场店)")
    assert user.answer(BookingProposal(other, "王建国", WISH.check_in, 2)) is None


def test_after_a_declined_proposal_the_user_says_every_detail_again(template):
    chosen = hotel(template, name="速8酒店(北京前门大栅栏店)")
    user = SimulatedUser(goal(), TODAY, random.Random(0))
    user.opening()
    user.react(shown_step("…", [chosen]))
    wrong = ProposalSeen("booking", chosen["name"], chosen["hotel_id"], "王建国", "2026-12-05", 3, None, False)
    line = user.react(reply_step("订", "好的，没有预订。", proposals=[wrong]))
    assert line is not None and "王建国" in line and ("两" in line or "2" in line)


def test_a_cancelling_user_cancels_the_booking_it_made_and_nothing_else(template):
    chosen = hotel(template, name="速8酒店(北京前门大栅栏店)")
    user = SimulatedUser(goal(cancel=True), TODAY, random.Random(0))
    user.opening()
    user.react(shown_step("…", [chosen]))
    made = Booking(4, chosen["hotel_id"], chosen["name"], "now", "confirmed", "王建国", "2026-12-05", 2)
    line = user.react(reply_step("订", "已预订", booked=[made]))
    assert line is not None and "取消" in line
    assert user.answer(CancellationProposal(made)) is not None
    assert user.answer(CancellationProposal(dataclasses.replace(made, id=3))) is None


# ---- verdicts from the store --------------------------------------------------------------------------------------


def booking_of(record: dict, status: str = "confirmed", **fields) -> Booking:
    details = {"guest": "王建国", "check_in": "2026-12-05", "nights": 2, **fields}
    return Booking(1, record["hotel_id"], record["name"], "now", status, **details)


def test_the_verdict_is_read_from_the_stored_booking(template):
    good = hotel(template, name="速8酒店(北京前门大栅栏店)")
    lux = next(r for r in template.records() if r["type"] == "豪华型")
    assert judge_goal(goal(), [booking_of(good)], template) is None
    assert judge_goal(goal(), [], template) == ("nothing booked", "")
    assert judge_goal(goal(), [booking_of(lux)], template)[0] == "booked a hotel that misses the goal"
    assert judge_goal(goal(), [booking_of(good, nights=3)], template)[0] == "booked with other details"
    assert judge_goal(goal(cancel=True), [booking_of(good)], template)[0] == "booked but not cancelled"
    assert judge_goal(goal(cancel=True), [booking_of(good, "cancelled")], template) is None


# ---- whole simulated conversations ------------------------------------------------------------------------------


def oracle(g: Goal, wrong_nights: bool = False, wrong_first: bool = False) -> ScriptedBackend:
    """A scripted agent that knows the goal: it searches the goal's constraints, resolves the user's ordinals and
    short names, answers questions from the record, and books with the goal's details (or wrong nights: always, or
    only in its first proposal)."""
    current: dict = {}
    proposals: list[int] = []

    def referenced(text: str, shown: list[dict]) -> dict | None:
        for index, record in enumerate(shown):
            ordinal = "一二三"[index]
            last = index == len(shown) - 1 and "最后" in text
            names = {
                record["name"],
                record["name"].removeprefix("北京"),
                record["name"].split("(")[0].removeprefix("北京"),
            }
            if f"第{ordinal}" in text or last or any(n in text for n in names if len(n) >= 3):
                return record
        return None

    def script(dialogue: Dialogue):
        last = dialogue.turns[-1]
        if isinstance(last, ReturnTurn):
            return AssistantTurn("为您找到：" + "、".join(r["name"] for r in last.records))
        if isinstance(last, ResultTurn):
            return AssistantTurn(fallback_reply(last.result))
        text = last.content
        found = referenced(text, dialogue.shown_records())
        if found is not None:
            current["hotel"] = found
        record = current.get("hotel")
        if "取消" in text:
            return CancelTurn({"booking_id": dialogue.bookings()[-1]["booking_id"]})
        if "订" in text and record is not None:
            proposals.append(1)
            nights = g.booking.nights + (1 if wrong_nights or (wrong_first and len(proposals) == 1) else 0)
            arguments = {"hotel": record["name"], "guest": g.booking.guest, "check_in": g.booking.check_in.isoformat()}
            return BookTurn({**arguments, "nights": nights})
        # subway before address: 坐地铁在哪站下 asks for the station
        questions = {"subway": ("地铁",), "phone": ("电话",), "address": ("地址", "在哪"), "price": ("钱", "房价")}
        questions["rating"] = ("评分",)
        if record is not None:
            for field, words in questions.items():
                if any(w in text for w in words):
                    value = record[field]
                    return AssistantTurn(f"它的{field}是{value:g}" if isinstance(value, float) else f"是{value}")
        if "谢谢" in text or "再见" in text:
            return AssistantTurn("不客气。")
        c = g.constraints
        arguments = {
            "type": c.type,
            "price_range_upper": c.price_upper,
            "price_range_lower": c.price_lower,
            "rating_range_lower": c.rating_lower,
            "facilities": list(c.facilities) or None,
        }
        return SearchTurn({k: v for k, v in arguments.items() if v is not None})

    return ScriptedBackend(script=script)


def test_an_agent_that_does_the_job_succeeds_on_every_goal(template, records):
    with Worlds(template) as worlds:
        results = [run_goal(g, oracle(g), worlds, TODAY) for g in draw_goals(records, 30, 5, TODAY)]
    assert [(r.goal.index, r.reason) for r in results if not r.success] == []
    assert all(i.given for r in results for i in r.informs)
    assert sum(len(r.informs) for r in results) > 0


def test_an_agent_that_books_the_wrong_nights_fails_and_the_user_says_why(template, records):
    g = draw_goals(records, 1, 5, TODAY)[0]
    with Worlds(template) as worlds:
        result = run_goal(g, oracle(g, wrong_nights=True), worlds, TODAY)
    assert not result.success and result.bookings == ()
    assert result.reason == "nothing booked (user: the booking was proposed wrong)"


def test_a_booking_the_user_had_to_correct_succeeds_but_not_at_the_first_try(template, records):
    g = draw_goals(records, 1, 5, TODAY)[0]
    with Worlds(template) as worlds:
        result = run_goal(g, oracle(g, wrong_first=True), worlds, TODAY)
    assert result.success and result.repairs == 1
    assert [p.accepted for s in result.steps for p in s.proposals] == [False, True]


def test_the_simulator_runs_100_goals_on_the_rules_backend(tmp_path, template, data_dir):
    from backends.registry import create

    summary = simulate(create("rules"), "rules", tmp_path / "out", 100, seed=0, today=TODAY, template=template)
    lines = [json.loads(line) for line in (tmp_path / "out" / GOALS_FILE).read_text(encoding="utf-8").splitlines()]
    assert len(lines) == 100 and all(line["turns"] >= 1 for line in lines)
    metrics = summary["metrics"]
    assert metrics["goals"] == 100 and metrics["errors"] == 0
    assert summary["signature"]["simulator"]["seed"] == 0 and len(summary["signature"]["simulator"]["sha256"]) == 64
    said = {step["user"] for line in lines for step in line["steps"]}
    suite_lines = {s.user for suite in load_suites(bundled_suites_dir()) for c in suite.conversations for s in c.steps}
    assert said.isdisjoint(suite_lines)  # the simulator's phrasings are its own


def test_the_simulate_command_reports_and_writes_its_run(tmp_path, own_cache):
    from click.testing import CliRunner

    from evalharness.cli import main

    out = tmp_path / "o"
    args = ["simulate", "--backend", "rules", "--goals", "3", "--seed", "4", "--out", str(out), "--quiet"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("goals 3  task success ")
    assert len((out / GOALS_FILE).read_text(encoding="utf-8").splitlines()) == 3


def test_the_simulate_command_refuses_zero_goals_in_one_line(tmp_path, own_cache):
    from click.testing import CliRunner

    from evalharness.cli import main

    result = CliRunner().invoke(main, ["simulate", "--backend", "rules", "--goals", "0", "--out", str(tmp_path / "o")])
    assert result.exit_code == 1 and result.output.strip() == "error: --goals must be at least 1, got 0"
