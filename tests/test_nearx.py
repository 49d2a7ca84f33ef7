"""The near-X evaluation: a deterministic set built from the databases, a scorer that judges task success, and
the rules backend meeting the target on a slice of it."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from agent.core.places import place_index
from agent.core.store import HotelStore
from backends.registry import create
from evalharness.cli import main
from evalharness.nearx.cases import PHRASING_KINDS, NearCase, build_cases, set_sha256
from evalharness.nearx.run import NearRunOptions, run_nearx
from evalharness.nearx.scoring import Exchange, judge, summarize


@pytest.fixture(scope="module")
def cases(data_dir) -> list[NearCase]:
    return build_cases()


def case(answer=(1, 2, 3, 4), constraints=None, place="故宫", kind="attraction") -> NearCase:
    return NearCase("t-0", kind, "alone", place, place, ("故宫附近的酒店",), tuple(answer), constraints or {})


# --- the set --------------------------------------------------------------------------------------------------


def test_the_set_is_the_same_for_the_same_seed_and_another_for_another(cases):
    assert set_sha256(build_cases()) == set_sha256(cases)
    assert set_sha256(build_cases(seed=1)) != set_sha256(cases)


def test_the_set_covers_every_kind_of_place_and_phrasing_with_and_without_hotels_near(cases):
    assert len(cases) >= 300
    assert set(Counter(c.kind for c in cases)) == {"attraction", "restaurant", "hotel", "station"}
    assert Counter(c.phrasing for c in cases) == {p: len(cases) // 4 for p in PHRASING_KINDS}
    assert 0 < sum(1 for c in cases if not c.answer) < len(cases) // 4


def test_every_case_names_its_place_in_its_last_message(cases):
    assert all(c.mention in c.messages[-1] for c in cases)
    assert all(len(c.messages) == 2 for c in cases if c.phrasing == "followup")


def test_the_answers_read_from_the_databases_agree_with_the_place_index(cases):
    index = place_index()
    for c in cases:
        place = next(p for p in index.places if (p.name, p.kind) == (c.place, c.kind))
        assert tuple(index.hotels_near(place)) == c.answer, c.id


# --- the scorer -----------------------------------------------------------------------------------------------


def test_hotels_all_near_the_place_succeed():
    assert judge(case(), Exchange([{"near": "故宫"}], [1, 3], "故宫附近的酒店有…")).success


def test_one_far_hotel_in_the_top_three_fails():
    assert not judge(case(), Exchange([{"near": "故宫"}], [1, 9, 3], "…")).success


def test_only_the_top_three_count():
    assert judge(case(), Exchange([{"near": "故宫"}], [1, 2, 3, 99], "…")).success


def test_no_search_or_nothing_shown_fails_when_hotels_are_near():
    assert not judge(case(), Exchange([], [], "故宫附近有很多酒店")).success
    assert not judge(case(), Exchange([{"near": "故宫"}], [], "抱歉，没有找到")).success


def test_none_near_succeeds_only_when_nothing_is_shown_and_the_reply_says_so():
    none = case(answer=())
    assert judge(none, Exchange([{"near": "故宫"}], [], "抱歉，数据库里没有故宫附近的酒店。")).success
    assert not judge(none, Exchange([{"type": "经济型"}], [5, 6], "抱歉，推荐您去…")).success
    assert not judge(none, Exchange([{"near": "故宫"}], [], "好的。")).success


def test_the_place_and_the_other_constraints_are_checked_beside_success():
    score = judge(case(constraints={"type": "经济型"}), Exchange([{"near": "故宫", "type": "经济型"}], [1], "…"))
    assert score.place_right and score.constraints_kept
    score = judge(case(constraints={"price_range_upper": 500.0}), Exchange([{"near": "天坛"}], [1], "…"))
    assert not score.place_right and score.constraints_kept is False
    assert judge(case(), Exchange([{"near": "故宫"}], [1], "…")).constraints_kept is None


def test_a_failed_case_counts_against_task_success():
    summary = summarize([case(), case()], [judge(case(), Exchange([{"near": "故宫"}], [1], "…")), None])
    assert (summary["succeeded"], summary["cases"], summary["failed"]) == (1, 2, 1)
    assert summary["by_kind"]["attraction"]["task_success"] == 0.5


# --- the rules backend ----------------------------------------------------------------------------------------


def test_the_rules_backend_meets_the_target_on_a_slice(tmp_path: Path, data_dir):
    summary = run_nearx(create("rules"), "rules", HotelStore.open(), NearRunOptions(tmp_path, limit=60, quiet=True))
    assert summary["metrics"]["cases"] == 60 and summary["metrics"]["task_success"] >= 0.9
    lines = (tmp_path / "predictions.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 60 and {"case", "searches", "shown", "reply", "success"} <= set(json.loads(lines[0]))
    signature = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))["signature"]
    assert signature["set"]["cases_in_set"] == len(build_cases()) and signature["backend"]["name"] == "rules"
    assert len(signature["data"]) == 4


def test_the_command_prints_task_success_and_writes_the_run(tmp_path: Path, data_dir):
    out = tmp_path / "run"
    result = CliRunner().invoke(main, ["nearx", "--backend", "rules", "--limit", "8", "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("near-X task success: ") and (out / "summary.json").is_file()
    again = CliRunner().invoke(main, ["nearx", "--backend", "rules", "--limit", "8", "--out", str(out), "--quiet"])
    assert again.exit_code == 1 and "already holds" in again.output
